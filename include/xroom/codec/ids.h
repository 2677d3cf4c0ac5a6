/* xroom/codec/ids.h: the names of the wire contract: room ids (the path of
 * /ws/<room-id>, the admin API's /api/rooms/<id>) and peer ids (made by the
 * hub, named by clients in `to` and by operators in a kick). */
#ifndef XROOM_IDS_H
#define XROOM_IDS_H

#include <stdbool.h>
#include <stddef.h>

#define XR_PEER_ID_LEN 16
#define XR_ROOM_ID_MAX 64
/* What every refusal of a room id says (HTTP 400 bad-room). */
#define XR_ROOM_ID_RULE "the room id must be 1 to 64 of A-Z a-z 0-9 _ -"

/* True when s (len bytes) is a valid room id: 1 to 64 of [A-Za-z0-9_-]. */
bool xr_room_id_valid(const char *s, size_t len);
/* True when s looks like a peer id: 16 characters of base64url. */
bool xr_peer_id_valid(const char *s, size_t len);

#endif

/* xroom/features/apibody.h: the two small JSON bodies of the HTTP API
 * ({"event": ...} and {"peer": ...}), as pure functions (no lws), so the
 * fuzzer and the tests drive exactly what http.c and admin.c run. Gathering a
 * body is http_body.h; the PUT body of /api/rooms/<id> is xr_roomconf_parse
 * (roomconf.h). */
#ifndef XROOM_APIBODY_H
#define XROOM_APIBODY_H

#include <stddef.h>
#include <stdint.h>

#include "xroom/codec/ids.h"

#define XR_API_BODY_MAX 4096 /* bytes of a request body the API takes in */

/* POST /api/events: body must be exactly {"event": "<goal>"} (no duplicate
 * keys). On success copies the goal, NUL-terminated, into goal (n bytes;
 * a goal cannot be longer than its body) and returns 0; -EINVAL for any
 * other body, -E2BIG when goal is too small. */
int xr_api_parse_event(const char *body, size_t len, char *goal, size_t n);

/* POST /api/rooms/<id>/kick: body must be exactly {"peer": "<string>"}.
 * Returns -EINVAL for any other body (400); -ENOENT when the string cannot
 * be a peer id (404, as an unknown peer); 0 with the id in pid. */
int xr_api_parse_kick(const char *body, size_t len,
		      char pid[XR_PEER_ID_LEN + 1]);

#endif

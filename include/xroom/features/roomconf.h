/* xroom/features/roomconf.h: operator settings of rooms (the admin API's "room
 * configuration"): max peers, locked, expiry, title. Kept in a map by room
 * id, validated strictly from JSON, saved to the state directory
 * (rooms.json, atomic and checked through store.c). */
#ifndef XROOM_ROOMCONF_H
#define XROOM_ROOMCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xroom/hub/room.h"
#include "xroom/util/map.h"

struct xr_roomconfs {
	struct xr_map map; /* id -> struct xr_roomconf_entry */
};

struct xr_roomconf_entry {
	struct xr_map_node node;
	struct xr_room_conf conf;
	char id[XR_ROOM_ID_MAX + 1];
};

void xr_roomconf_init(struct xr_roomconfs *rc);
void xr_roomconf_free(struct xr_roomconfs *rc);
/* The settings of room id, or NULL. */
const struct xr_room_conf *xr_roomconf_get(const struct xr_roomconfs *rc,
					   const char *id);
/* Stores (a copy of) c for id, replacing any. 0 or -ENOMEM. */
int xr_roomconf_set(struct xr_roomconfs *rc, const char *id,
		    const struct xr_room_conf *c);
/* Forgets id; false if it had no settings. */
bool xr_roomconf_del(struct xr_roomconfs *rc, const char *id);
/* Calls fn for each configured room (unordered). */
void xr_roomconf_each(const struct xr_roomconfs *rc,
		      void (*fn)(void *arg, const struct xr_roomconf_entry *e),
		      void *arg);

/* Parses a PUT body: an object with optional max_peers (1..cap), locked
 * (bool), expires_at (unix seconds, > 0), title (string of at most 80
 * characters, no control characters). Unknown members are errors. Returns
 * 0, or -EINVAL with a message naming the member in err. */
int xr_roomconf_parse(const char *body, size_t len, uint32_t cap,
		      struct xr_room_conf *out, char *err, size_t errlen);
/* The settings as a JSON object text (malloc'd): every member, null when
 * unset. */
char *xr_roomconf_json(const struct xr_room_conf *c);

/* Saves every entry to dir/rooms.json. 0 or a negative errno. */
int xr_roomconf_save(const struct xr_roomconfs *rc, const char *dir);
/* Loads dir/rooms.json (absent: nothing). A torn or invalid file is moved
 * aside and reported in err; nothing of it is loaded. */
int xr_roomconf_load(struct xr_roomconfs *rc, const char *dir, uint32_t cap,
		     char *err, size_t errlen);

#endif

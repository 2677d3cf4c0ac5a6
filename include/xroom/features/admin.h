/* xroom/features/admin.h: the room admin API (/api/rooms...): list, inspect,
 * configure, close and kick, and the admin token. Operators configure
 * rooms; they never see what is said in them: no answer carries an
 * address, a User-Agent, a verifier or relayed data. Pure (no lws): it
 * works on the hub and the room settings it is given and answers with a
 * struct xr_answer. */
#ifndef XROOM_ADMIN_H
#define XROOM_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xroom/features/answer.h"

struct xr_config;
struct xr_hub;
struct xr_roomconfs;

/* What the admin API works on; all borrowed, owned by server.c. */
struct xr_admin {
	struct xr_hub *hub;
	struct xr_roomconfs *rooms;   /* saved to state_dir on every change */
	const char *state_dir;
	const struct xr_config *cfg;  /* rooms.max_peers caps a room's own */
};

/* True when authorization (the Authorization header's value, len bytes,
 * borrowed; len <= 0: none) is "Bearer <token>" for the configured admin
 * token. Constant time; false when no token is configured. */
bool xr_admin_authorized(const struct xr_config *cfg,
			 const char *authorization, int len);
/* Answers an authorised request under /api/rooms (path borrowed). body is
 * NULL for requests without one. */
void xr_admin_rooms(struct xr_admin *a, enum xr_method method,
		    const char *path, const char *body, size_t len,
		    struct xr_answer *out);
/* Closes live rooms whose expires_at (unix seconds) is not after now_s
 * (room-expired, 1008). */
void xr_admin_expire(struct xr_admin *a, int64_t now_s);

#endif

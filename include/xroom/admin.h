/* xroom/admin.h: the room admin API (/api/rooms...): list, inspect,
 * configure, close and kick. Operators configure rooms; they never see what
 * is said in them: no answer carries an address, a User-Agent, a verifier
 * or relayed data. */
#ifndef XROOM_ADMIN_H
#define XROOM_ADMIN_H

#include <stddef.h>

#include <libwebsockets.h>

struct xr_server;

/* Handles an authorised request under /api/rooms. body is NULL for
 * requests without one. Returns what the lws callback should return. */
int xr_admin_rooms(struct xr_server *s, struct lws *wsi, int method,
		   const char *path, const char *body, size_t len);
/* Closes live rooms whose expires_at has passed (room-expired, 1008). */
void xr_admin_expire(struct xr_server *s);

#endif

/* xroom/transport/http.h: the HTTP side of the protocol callback: the room
 * page, static files, /healthz, /metrics and /api routed to the features that
 * answer them, and request bodies gathered under a cap and a deadline. */
#ifndef XROOM_HTTP_H
#define XROOM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

struct xr_admin;
struct xr_clock;
struct xr_config;
struct xr_exp;
struct xr_http_req;
struct xr_hub;
struct xr_plugins;

/* What the HTTP side works with; filled and owned by server.c, borrowed
 * here. cfg's contents change at a reload; the pointers do not. */
struct xr_http_env {
	const char *web_root;             /* resolved, no trailing slash */
	const struct xr_plugins *plugins;
	const struct xr_config *cfg;      /* experiments, ICE, the admin token */
	struct xr_hub *hub;               /* /healthz and /metrics */
	struct xr_exp *exp;               /* /api/session, /api/events, reports */
	struct xr_admin *admin;           /* /api/rooms */
	const struct xr_clock *clock;
	int64_t started_ms;               /* monotonic: the uptime's start */
};

/* Handles the HTTP-side callback reasons; returns what lws expects. req is
 * the connection's slot for a request whose body is being gathered (NULL
 * when lws gave no per-session memory): http.c allocates and frees what it
 * points to. */
int xr_http_callback(const struct xr_http_env *env, struct lws *wsi,
		     enum lws_callback_reasons reason, struct xr_http_req **req,
		     void *in, size_t len);

#endif

/* xroom/http.h: the HTTP side: static files from the web root, the room
 * page, /healthz, /metrics, /api, JSON errors and the security headers on
 * every response. Never a Set-Cookie. */
#ifndef XROOM_HTTP_H
#define XROOM_HTTP_H

#include <stdbool.h>

#include <libwebsockets.h>

struct xr_server;
struct xr_peer;

/* The canned headers lws adds to every response it builds (vhost list). */
extern const struct lws_protocol_vhost_options xr_http_headers[];
extern const struct lws_protocol_vhost_options xr_http_headers_tls[];

/* Handles the HTTP-side callback reasons; returns what lws expects. */
int xr_http_callback(struct xr_server *s, struct lws *wsi,
		     enum lws_callback_reasons reason, struct xr_peer *p,
		     void *in, size_t len);
/* Writes status with a JSON error body (no transaction end: for refusals
 * before an upgrade). Returns 0 or -1. */
int xr_http_json_error(struct lws *wsi, unsigned status, const char *code,
		       const char *message);
/* Answers status with a JSON body / a JSON error and ends the transaction
 * (keep-alive or close). Return what the lws callback should return. */
int xr_http_reply(struct lws *wsi, unsigned status, const char *body,
		  size_t len);
int xr_http_fail(struct lws *wsi, unsigned status, const char *code,
		 const char *message);
/* True when the request carries the admin bearer token. */
bool xr_http_admin_ok(struct xr_server *s, struct lws *wsi);

#endif

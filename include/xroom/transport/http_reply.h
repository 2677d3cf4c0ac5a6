/* xroom/transport/http_reply.h: writing HTTP answers with lws: the security
 * headers (canned on the vhost, plus the CSP and resource policy on each
 * answer), JSON bodies and JSON errors, small HTML status pages, and the end
 * of a transaction. Never a Set-Cookie. */
#ifndef XROOM_HTTP_REPLY_H
#define XROOM_HTTP_REPLY_H

#include <stddef.h>

#include <libwebsockets.h>

#include "xroom/features/answer.h"

/* The client's CSP. img-src data: blob: for user-card pictures, which
 * exist only as data: URLs made in the page or received from a peer; never
 * a network origin. */
#define XR_HTTP_CSP "default-src 'self'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data: blob:; media-src 'self'; connect-src 'self'; " \
	"worker-src 'self'; frame-src 'self'; object-src 'none'; " \
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/* The canned headers lws adds to every response it builds (vhost list). */
extern const struct lws_protocol_vhost_options xr_http_headers[];
extern const struct lws_protocol_vhost_options xr_http_headers_tls[];

/* Writes status, type and body (len bytes, borrowed; 0: none) with the
 * answer headers, plus one extra header when extra_name is not NULL. No
 * transaction end. Returns 0 or -1. */
int xr_http_write(struct lws *wsi, unsigned status, const char *type,
		  const char *body, size_t len, const char *extra_name,
		  const char *extra_value);
/* After a complete answer (rc 0) keeps the connection for the next request
 * or closes it; returns what the lws callback should return. */
int xr_http_done(struct lws *wsi, int rc);
/* Writes status with a JSON error body (no transaction end: for refusals
 * before an upgrade). Returns 0 or -1. */
int xr_http_json_error(struct lws *wsi, unsigned status, const char *code,
		       const char *message);
/* Answers status with a JSON body / a JSON error / an answer (whose body is
 * freed) and ends the transaction. Return what the lws callback should
 * return. */
int xr_http_reply(struct lws *wsi, unsigned status, const char *body,
		  size_t len);
int xr_http_fail(struct lws *wsi, unsigned status, const char *code,
		 const char *message);
int xr_http_answer(struct lws *wsi, struct xr_answer *a);
/* Answers a JSON error and closes the connection: for requests whose body
 * we will not read (a keep-alive would take the body for the next
 * request). Returns -1. */
int xr_http_fail_close(struct lws *wsi, unsigned status, const char *code,
		       const char *message);
/* A small HTML page for status (404 and the like) on a browser route, in
 * the app's style: a heading (title), a sentence saying what happened and
 * what to do (text), and a link to start a room. Both are constants. */
int xr_http_html_status(struct lws *wsi, unsigned status, const char *title,
			const char *text);

#endif

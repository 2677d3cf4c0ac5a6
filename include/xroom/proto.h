/* xroom/proto.h: the wire contract v1 as pure logic. Parses and validates
 * client messages, builds server messages (each serialised once into an
 * xr_buf), and dispatches a whole client message against the hub. No lws
 * call anywhere, so unit tests and fuzzers drive it directly. */
#ifndef XROOM_PROTO_H
#define XROOM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xroom/codes.h"
#include "xroom/outq.h"

#define XR_PEER_ID_LEN 16
#define XR_ROOM_ID_MAX 64
#define XR_AUTH_MAX 128
#define XR_JSON_MAX_DEPTH 64 /* nesting of the whole message, envelope included */

struct xr_hub;
struct xr_peer;

enum xr_msg_type { XR_MSG_JOIN, XR_MSG_SIGNAL, XR_MSG_LEAVE, XR_MSG_PING };

/* A parsed client message. Spans point into the caller's input buffer or
 * into owned (heap) memory released by xr_msg_clear. */
struct xr_msg {
	enum xr_msg_type type;
	const char *auth;        /* join: NULL or "" means none */
	size_t auth_len;
	const char *to;          /* signal: the target id as sent */
	size_t to_len;
	const char *data;        /* signal: the JSON text of data */
	size_t data_len;
	const char *ping_id;     /* ping: JSON text of id, NULL when absent */
	size_t ping_id_len;
	char *owned[3];          /* heap spans to free */
	char authbuf[XR_AUTH_MAX + 1];
	char tobuf[XR_PEER_ID_LEN + 1];
};

/* True when s (len bytes) is a valid room id: 1 to 64 of [A-Za-z0-9_-]. */
bool xr_room_id_valid(const char *s, size_t len);
/* True when s looks like a peer id: 16 characters of base64url. */
bool xr_peer_id_valid(const char *s, size_t len);

/* Maximum nesting depth of arrays and objects in buf, counting only outside
 * strings; stops early once limit is passed (returns limit + 1). */
unsigned xr_json_depth(const char *buf, size_t len, unsigned limit);

/* Parses one client message. Returns XR_OK and fills *m, or XR_E_BAD_JSON /
 * XR_E_BAD_MESSAGE. *m must be released with xr_msg_clear either way.
 * Validates with jscan (no allocation) and falls back to jansson where
 * jscan is unsure; xr_proto_parse_jansson is that fallback alone, kept
 * public so tests and fuzzers can check the two agree. */
enum xr_err xr_proto_parse(const char *buf, size_t len, struct xr_msg *m);
enum xr_err xr_proto_parse_jansson(const char *buf, size_t len,
				   struct xr_msg *m);
void xr_msg_clear(struct xr_msg *m);

/* Builders: each returns a new buffer (refs = 1) or NULL on ENOMEM. */
struct xr_buf *xr_proto_error(enum xr_err e, const char *message);
struct xr_buf *xr_proto_peer_event(const char *type, const char *id);
struct xr_buf *xr_proto_signal(const char *from, const char *data,
			       size_t data_len);
struct xr_buf *xr_proto_pong(const char *id_json, size_t id_len);
/* peers: n ids of XR_PEER_ID_LEN chars; ice_json: JSON array text or NULL;
 * title: NULL or a plain string (escaped here). */
struct xr_buf *xr_proto_welcome(const char *id, const char *const *peers,
				size_t n, const char *ice_json,
				unsigned max_peers, const char *title);

/* Handles one whole client message from p at now_ms: rate limit, parse,
 * dispatch (join, signal relay, leave, ping), queued answers. Closing, when
 * the contract calls for it, goes through the hub. */
void xr_proto_handle(struct xr_hub *hub, struct xr_peer *p, const char *buf,
		     size_t len, int64_t now_ms);

#endif

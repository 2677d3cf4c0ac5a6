/* xroom/codec/parse.h: client messages of the wire contract v1, parsed and
 * validated into a plain struct. Pure (no hub, no lws), so unit tests and
 * fuzzers drive it directly. */
#ifndef XROOM_PARSE_H
#define XROOM_PARSE_H

#include <stddef.h>

#include "xroom/codec/codes.h"
#include "xroom/codec/ids.h"

#define XR_AUTH_MAX 128
#define XR_JSON_MAX_DEPTH 64 /* nesting of the whole message, envelope included */

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

/* Parses one client message (buf borrowed: m's spans may point into it).
 * Returns XR_OK and fills *m, or XR_E_BAD_JSON / XR_E_BAD_MESSAGE. *m must
 * be released with xr_msg_clear either way. Validates with jscan (no
 * allocation) and falls back to jansson where jscan is unsure;
 * xr_parse_message_jansson is that fallback alone, kept public so tests and
 * fuzzers can check the two agree. */
enum xr_err xr_parse_message(const char *buf, size_t len, struct xr_msg *m);
enum xr_err xr_parse_message_jansson(const char *buf, size_t len,
				     struct xr_msg *m);
void xr_msg_clear(struct xr_msg *m);

#endif

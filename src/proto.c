/* proto.c: the wire contract v1 as pure logic (no lws). A client message is
 * depth-checked, parsed strictly by jansson (duplicate keys and out-of-range
 * numbers refused), validated, and dispatched to the hub. A relayed `data`
 * is copied byte for byte from the sender's text: the server never
 * re-encodes what it relays unless the sender escaped the member's name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xroom/jscan.h"
#include "xroom/log.h"
#include "xroom/proto.h"
#include "xroom/room.h"

/* --- error codes --------------------------------------------------------- */

static const struct {
	const char *name;
	uint16_t close;
	const char *text;
} errs[XR_E__COUNT] = {
	[XR_OK] = { "ok", 0, "ok" },
	[XR_E_BAD_JSON] = { "bad-json", 0,
		"the message is not a JSON object within the limits" },
	[XR_E_BAD_MESSAGE] = { "bad-message", 0,
		"unknown type, or a member missing or of the wrong kind" },
	[XR_E_TOO_LARGE] = { "too-large", XR_CLOSE_TOO_BIG,
		"the message exceeds the size limit" },
	[XR_E_RATE_LIMITED] = { "rate-limited", 0,
		"too many messages: some were dropped" },
	[XR_E_BAD_ROOM] = { "bad-room", XR_CLOSE_POLICY,
		"the room id is not valid" },
	[XR_E_ROOM_FULL] = { "room-full", XR_CLOSE_POLICY, "the room is full" },
	[XR_E_FORBIDDEN] = { "forbidden", XR_CLOSE_POLICY,
		"this room needs another key" },
	[XR_E_NOT_JOINED] = { "not-joined", 0, "join the room first" },
	[XR_E_ALREADY_JOINED] = { "already-joined", 0,
		"this connection has joined already" },
	[XR_E_UNKNOWN_PEER] = { "unknown-peer", 0,
		"no other peer of this room has that id" },
	[XR_E_SERVER_BUSY] = { "server-busy", XR_CLOSE_TRY_LATER,
		"the server is at capacity, try again later" },
	[XR_E_ROOM_LOCKED] = { "room-locked", XR_CLOSE_POLICY,
		"the room is locked" },
	[XR_E_ROOM_CLOSED] = { "room-closed", XR_CLOSE_NORMAL,
		"the room was closed by the operator" },
	[XR_E_KICKED] = { "kicked", XR_CLOSE_NORMAL,
		"the operator removed you from the room" },
	[XR_E_ROOM_EXPIRED] = { "room-expired", XR_CLOSE_POLICY,
		"the room has expired" },
};

const char *xr_err_name(enum xr_err e)
{
	return (unsigned)e < XR_E__COUNT ? errs[e].name : "internal";
}

uint16_t xr_err_close(enum xr_err e)
{
	return (unsigned)e < XR_E__COUNT ? errs[e].close : 0;
}

const char *xr_err_text(enum xr_err e)
{
	return (unsigned)e < XR_E__COUNT ? errs[e].text : "internal error";
}

/* --- names ---------------------------------------------------------------- */

static bool b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool xr_room_id_valid(const char *s, size_t len)
{
	if (len < 1 || len > XR_ROOM_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!b64url_char(s[i]))
			return false;
	return true;
}

bool xr_peer_id_valid(const char *s, size_t len)
{
	return len == XR_PEER_ID_LEN && xr_room_id_valid(s, len);
}

/* --- scanning --------------------------------------------------------------- */

unsigned xr_json_depth(const char *buf, size_t len, unsigned limit)
{
	unsigned depth = 0, max = 0;
	bool in_str = false, esc = false;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max) {
				max = depth;
				if (max > limit)
					return limit + 1;
			}
		} else if ((c == ']' || c == '}') && depth) {
			depth--;
		}
	}
	return max;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* In a valid JSON object text, finds the value of the top-level member whose
 * name is written exactly as `"key"` (no escapes). */
static bool find_member(const char *s, size_t n, const char *key,
			const char **vs, size_t *vl)
{
	size_t klen = strlen(key), kstart = 0, vstart = 0;
	unsigned depth = 0;
	bool in_str = false, esc = false, want_key = false, match = false;
	bool in_val = false, started = false;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (in_str) {
			if (esc) {
				esc = false;
			} else if (c == '\\') {
				esc = true;
			} else if (c == '"') {
				in_str = false;
				if (depth == 1 && want_key) {
					match = i - kstart - 1 == klen &&
						!memcmp(s + kstart + 1, key, klen);
					want_key = false;
				}
			}
			continue;
		}
		if (depth == 1 && in_val && !started && !is_ws(c)) {
			started = true;
			vstart = i;
		}
		switch (c) {
		case '"':
			in_str = true;
			if (depth == 1 && want_key)
				kstart = i;
			break;
		case '{':
		case '[':
			if (++depth == 1)
				want_key = true;
			break;
		case ':':
			if (depth == 1) {
				in_val = true;
				started = false;
			}
			break;
		case ',':
		case '}':
		case ']':
			if (c != ',')
				depth--;
			if ((c == ',' && depth == 1) || (c != ',' && depth == 0)) {
				if (match && in_val && started) {
					size_t end = i;
					while (end > vstart && is_ws(s[end - 1]))
						end--;
					*vs = s + vstart;
					*vl = end - vstart;
					return true;
				}
				in_val = false;
				match = false;
				want_key = c == ',';
			}
			break;
		default:
			break;
		}
	}
	return false;
}

/* --- parsing ------------------------------------------------------------------ */

void xr_msg_clear(struct xr_msg *m)
{
	for (size_t i = 0; i < sizeof(m->owned) / sizeof(m->owned[0]); i++) {
		free(m->owned[i]);
		m->owned[i] = NULL;
	}
}

/* The JSON text of member key of root: the sender's own bytes when the name
 * was written plainly, else jansson's compact re-encoding. */
static int member_text(const char *buf, size_t len, json_t *v, const char *key,
		       struct xr_msg *m, int slot, const char **out,
		       size_t *out_len)
{
	if (find_member(buf, len, key, out, out_len))
		return 0;
	m->owned[slot] = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
				       JSON_REAL_PRECISION(17));
	if (!m->owned[slot])
		return -ENOMEM;
	*out = m->owned[slot];
	*out_len = strlen(m->owned[slot]);
	return 0;
}

enum xr_err xr_proto_parse_jansson(const char *buf, size_t len,
				   struct xr_msg *m)
{
	enum xr_err rc = XR_E_BAD_MESSAGE;
	json_error_t jerr;
	json_t *root, *type, *v;
	const char *t;
	size_t tlen;

	memset(m, 0, sizeof(*m));
	/* A raw NUL byte is never JSON, but jansson 2.14 skips one after a
	 * number or literal ("[1\0]" loads): refuse it before jansson. */
	if (memchr(buf, '\0', len) ||
	    xr_json_depth(buf, len, XR_JSON_MAX_DEPTH) > XR_JSON_MAX_DEPTH)
		return XR_E_BAD_JSON;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL |
				    JSON_DECODE_ANY, &jerr);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		return XR_E_BAD_JSON;
	}
	type = json_object_get(root, "type");
	if (!json_is_string(type))
		goto out;
	t = json_string_value(type);
	tlen = json_string_length(type);

	if (tlen == 4 && !memcmp(t, "join", 4)) {
		m->type = XR_MSG_JOIN;
		v = json_object_get(root, "auth");
		if (v) {
			const char *a;
			size_t alen;

			if (!json_is_string(v))
				goto out;
			a = json_string_value(v);
			alen = json_string_length(v);
			if (alen > XR_AUTH_MAX)
				goto out;
			for (size_t i = 0; i < alen; i++)
				if ((unsigned char)a[i] >= 0x80)
					goto out;
			memcpy(m->authbuf, a, alen);
			m->auth = m->authbuf;
			m->auth_len = alen;
		}
	} else if (tlen == 6 && !memcmp(t, "signal", 6)) {
		m->type = XR_MSG_SIGNAL;
		v = json_object_get(root, "to");
		if (!json_is_string(v))
			goto out;
		m->to_len = json_string_length(v);
		if (m->to_len <= XR_PEER_ID_LEN)
			memcpy(m->tobuf, json_string_value(v), m->to_len);
		m->to = m->tobuf; /* a longer id fails xr_peer_id_valid */
		v = json_object_get(root, "data");
		if (!v)
			goto out;
		if (member_text(buf, len, v, "data", m, 0, &m->data,
				&m->data_len))
			goto out;
	} else if (tlen == 5 && !memcmp(t, "leave", 5)) {
		m->type = XR_MSG_LEAVE;
	} else if (tlen == 4 && !memcmp(t, "ping", 4)) {
		m->type = XR_MSG_PING;
		v = json_object_get(root, "id");
		if (v) {
			if (json_is_object(v) || json_is_array(v))
				goto out;
			if (member_text(buf, len, v, "id", m, 1, &m->ping_id,
					&m->ping_id_len))
				goto out;
		}
	} else {
		goto out;
	}
	rc = XR_OK;
out:
	json_decref(root);
	return rc;
}

/* The fast path: jscan validates and locates the members without
 * allocating; anything it is unsure about goes to jansson. */
enum xr_err xr_proto_parse(const char *buf, size_t len, struct xr_msg *m)
{
	struct xr_jtop t;

	switch (xr_jscan_message(buf, len, XR_JSON_MAX_DEPTH, &t)) {
	case XR_JSCAN_INVALID:
		memset(m, 0, sizeof(*m));
		return XR_E_BAD_JSON;
	case XR_JSCAN_UNSURE:
		return xr_proto_parse_jansson(buf, len, m);
	case XR_JSCAN_OK:
		break;
	}
	if ((t.type.kind == 's' && t.type.escaped) ||
	    (t.to.kind == 's' && t.to.escaped) ||
	    (t.auth.kind == 's' && t.auth.escaped))
		return xr_proto_parse_jansson(buf, len, m);
	memset(m, 0, sizeof(*m));
	if (t.type.kind != 's')
		return XR_E_BAD_MESSAGE;
#define TYPE(name) (t.type.n == sizeof(name) - 1 && !memcmp(t.type.p, name, t.type.n))
	if (TYPE("join")) {
		m->type = XR_MSG_JOIN;
		if (t.auth.kind) {
			if (t.auth.kind != 's' || t.auth.n > XR_AUTH_MAX)
				return XR_E_BAD_MESSAGE;
			for (size_t i = 0; i < t.auth.n; i++)
				if ((unsigned char)t.auth.p[i] >= 0x80)
					return XR_E_BAD_MESSAGE;
			memcpy(m->authbuf, t.auth.p, t.auth.n);
			m->auth = m->authbuf;
			m->auth_len = t.auth.n;
		}
	} else if (TYPE("signal")) {
		m->type = XR_MSG_SIGNAL;
		if (t.to.kind != 's' || !t.data.kind)
			return XR_E_BAD_MESSAGE;
		m->to_len = t.to.n;
		if (t.to.n <= XR_PEER_ID_LEN)
			memcpy(m->tobuf, t.to.p, t.to.n);
		m->to = m->tobuf;
		/* the JSON text: strings keep their quotes */
		m->data = t.data.kind == 's' ? t.data.p - 1 : t.data.p;
		m->data_len = t.data.kind == 's' ? t.data.n + 2 : t.data.n;
	} else if (TYPE("leave")) {
		m->type = XR_MSG_LEAVE;
	} else if (TYPE("ping")) {
		m->type = XR_MSG_PING;
		if (t.id.kind) {
			if (t.id.kind == 'o' || t.id.kind == 'a')
				return XR_E_BAD_MESSAGE;
			/* strings keep their quotes in the echo */
			m->ping_id = t.id.kind == 's' ? t.id.p - 1 : t.id.p;
			m->ping_id_len = t.id.kind == 's' ? t.id.n + 2 : t.id.n;
		}
	} else {
		return XR_E_BAD_MESSAGE;
	}
#undef TYPE
	return XR_OK;
}

/* --- building ------------------------------------------------------------------ */

struct sb {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_put(struct sb *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t nc = (b->len + n) * 2 + 64;
		char *np = realloc(b->p, nc);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void sb_str(struct sb *b, const char *s) { sb_put(b, s, strlen(s)); }

/* A JSON string literal of s (UTF-8 kept, controls, quote, backslash
 * escaped). */
static void sb_json_string(struct sb *b, const char *s)
{
	char esc[8];

	sb_put(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sb_put(b, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			sb_put(b, esc, 6);
		} else {
			sb_put(b, s, 1);
		}
	}
	sb_put(b, "\"", 1);
}

/* Turns the builder into a buffer with XR_PRE headroom. */
static struct xr_buf *sb_finish(struct sb *b)
{
	struct xr_buf *out = NULL;

	if (!b->oom) {
		out = xr_buf_new(b->len);
		if (out)
			memcpy(xr_buf_payload(out), b->p, b->len);
	}
	free(b->p);
	return out;
}

struct xr_buf *xr_proto_error(enum xr_err e, const char *message)
{
	struct sb b = { 0 };

	sb_str(&b, "{\"type\":\"error\",\"code\":\"");
	sb_str(&b, xr_err_name(e));
	sb_str(&b, "\",\"message\":");
	sb_json_string(&b, message ? message : xr_err_text(e));
	sb_str(&b, "}");
	return sb_finish(&b);
}

struct xr_buf *xr_proto_peer_event(const char *type, const char *id)
{
	struct sb b = { 0 };

	sb_str(&b, "{\"type\":\"");
	sb_str(&b, type);
	sb_str(&b, "\",\"id\":\"");
	sb_str(&b, id);
	sb_str(&b, "\"}");
	return sb_finish(&b);
}

/* The hot path: one allocation, two copies of fixed text, one of data. */
struct xr_buf *xr_proto_signal(const char *from, const char *data,
			       size_t data_len)
{
	static const char head[] = "{\"type\":\"signal\",\"from\":\"";
	static const char mid[] = "\",\"data\":";
	const size_t hl = sizeof(head) - 1, ml = sizeof(mid) - 1;
	struct xr_buf *b = xr_buf_new(hl + XR_PEER_ID_LEN + ml + data_len + 1);
	unsigned char *o;

	if (!b)
		return NULL;
	o = xr_buf_payload(b);
	memcpy(o, head, hl);
	o += hl;
	memcpy(o, from, XR_PEER_ID_LEN);
	o += XR_PEER_ID_LEN;
	memcpy(o, mid, ml);
	o += ml;
	memcpy(o, data, data_len);
	o[data_len] = '}';
	return b;
}

struct xr_buf *xr_proto_pong(const char *id_json, size_t id_len)
{
	struct sb b = { 0 };

	sb_str(&b, "{\"type\":\"pong\"");
	if (id_json) {
		sb_str(&b, ",\"id\":");
		sb_put(&b, id_json, id_len);
	}
	sb_str(&b, "}");
	return sb_finish(&b);
}

struct xr_buf *xr_proto_welcome(const char *id, const char *const *peers,
				size_t n, const char *ice_json,
				unsigned max_peers, const char *title)
{
	struct sb b = { 0 };
	char num[24];

	sb_str(&b, "{\"type\":\"welcome\",\"id\":\"");
	sb_str(&b, id);
	sb_str(&b, "\",\"peers\":[");
	for (size_t i = 0; i < n; i++) {
		sb_str(&b, i ? ",\"" : "\"");
		sb_str(&b, peers[i]);
		sb_str(&b, "\"");
	}
	sb_str(&b, "],\"iceServers\":");
	sb_str(&b, ice_json ? ice_json : "[]");
	snprintf(num, sizeof(num), "%u", max_peers);
	sb_str(&b, ",\"maxPeers\":");
	sb_str(&b, num);
	if (title) {
		sb_str(&b, ",\"title\":");
		sb_json_string(&b, title);
	}
	sb_str(&b, "}");
	return sb_finish(&b);
}

/* --- dispatch ---------------------------------------------------------------- */

static void fail(struct xr_hub *hub, struct xr_peer *p, enum xr_err e)
{
	uint16_t code = xr_err_close(e);

	xr_hub_send_error(hub, p, e);
	if (code)
		xr_hub_close(hub, p, code);
}

void xr_proto_handle(struct xr_hub *hub, struct xr_peer *p, const char *buf,
		     size_t len, int64_t now_ms)
{
	struct xr_msg m;
	enum xr_err e;

	if (p->state != XR_PEER_WAITING && p->state != XR_PEER_JOINED)
		return;
	switch (xr_rate_take(&p->rate, now_ms, hub->lim.messages_per_second,
			     hub->lim.message_burst)) {
	case XR_RATE_OK:
		break;
	case XR_RATE_DROP:
		return;
	case XR_RATE_NOTIFY:
		xr_hub_send_error(hub, p, XR_E_RATE_LIMITED);
		return;
	case XR_RATE_CLOSE:
		xr_hub_send_error(hub, p, XR_E_RATE_LIMITED);
		xr_hub_close(hub, p, XR_CLOSE_POLICY);
		return;
	}
	if (len > hub->lim.max_message_bytes) {
		fail(hub, p, XR_E_TOO_LARGE);
		return;
	}
	e = xr_proto_parse(buf, len, &m);
	if (e) {
		fail(hub, p, e);
		goto out;
	}
	switch (m.type) {
	case XR_MSG_JOIN:
		e = xr_hub_join(hub, p, m.auth, m.auth_len);
		break;
	case XR_MSG_SIGNAL:
		if (p->state != XR_PEER_JOINED)
			e = XR_E_NOT_JOINED;
		else
			e = xr_hub_relay(hub, p, m.to, m.to_len, m.data,
					 m.data_len, len);
		break;
	case XR_MSG_LEAVE:
		xr_hub_close(hub, p, XR_CLOSE_NORMAL);
		break;
	case XR_MSG_PING: {
		struct xr_buf *b = xr_proto_pong(m.ping_id, m.ping_id_len);
		xr_hub_send(hub, p, b);
		xr_buf_unref(b);
		break;
	}
	}
	if (e)
		fail(hub, p, e);
out:
	xr_msg_clear(&m);
}

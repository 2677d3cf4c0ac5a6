/* parse.c: client messages into struct xr_msg (the codec's read side; no
 * hub, no lws). jscan validates and locates the members without allocating;
 * where it is unsure (escaped names, very many keys) jansson decides, after
 * the depth check. A relayed `data` is the sender's bytes, never re-encoded
 * unless the sender escaped the member's name. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xroom/codec/jscan.h"
#include "xroom/codec/parse.h"

void xr_msg_clear(struct xr_msg *m)
{
	for (size_t i = 0; i < sizeof(m->owned) / sizeof(m->owned[0]); i++) {
		free(m->owned[i]);
		m->owned[i] = NULL;
	}
}

/* The JSON text of a value jscan located: strings keep their quotes. */
static void span_text(const struct xr_jspan *v, const char **out, size_t *n)
{
	*out = v->kind == 's' ? v->p - 1 : v->p;
	*n = v->kind == 's' ? v->n + 2 : v->n;
}

/* The JSON text of a member: the sender's own bytes where jscan located it
 * (its name written plainly), else jansson's compact re-encoding of v. */
static int member_text(const struct xr_jspan *at, json_t *v, struct xr_msg *m,
		       int slot, const char **out, size_t *out_len)
{
	if (at && at->kind) {
		span_text(at, out, out_len);
		return 0;
	}
	m->owned[slot] = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
				       JSON_REAL_PRECISION(17));
	if (!m->owned[slot])
		return -ENOMEM;
	*out = m->owned[slot];
	*out_len = strlen(m->owned[slot]);
	return 0;
}

/* The jansson parse. top: where jscan located the members (NULL when it
 * refused the text), so relayed values keep the sender's bytes. */
static enum xr_err parse_jansson(const char *buf, size_t len,
				 const struct xr_jtop *top, struct xr_msg *m)
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
	    xr_jscan_depth(buf, len, XR_JSON_MAX_DEPTH) > XR_JSON_MAX_DEPTH)
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
		if (member_text(top ? &top->data : NULL, v, m, 0, &m->data,
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
			if (member_text(top ? &top->id : NULL, v, m, 1,
					&m->ping_id, &m->ping_id_len))
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

enum xr_err xr_parse_message_jansson(const char *buf, size_t len,
				   struct xr_msg *m)
{
	struct xr_jtop t;
	bool located = xr_jscan_message(buf, len, XR_JSON_MAX_DEPTH, &t) !=
		       XR_JSCAN_INVALID;

	return parse_jansson(buf, len, located ? &t : NULL, m);
}

/* The fast path: jscan validates and locates the members without
 * allocating; anything it is unsure about goes to jansson. */
enum xr_err xr_parse_message(const char *buf, size_t len, struct xr_msg *m)
{
	struct xr_jtop t;

	switch (xr_jscan_message(buf, len, XR_JSON_MAX_DEPTH, &t)) {
	case XR_JSCAN_INVALID:
		memset(m, 0, sizeof(*m));
		return XR_E_BAD_JSON;
	case XR_JSCAN_UNSURE:
		return parse_jansson(buf, len, &t, m);
	case XR_JSCAN_OK:
		break;
	}
	if ((t.type.kind == 's' && t.type.escaped) ||
	    (t.to.kind == 's' && t.to.escaped) ||
	    (t.auth.kind == 's' && t.auth.escaped))
		return parse_jansson(buf, len, &t, m);
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
		span_text(&t.data, &m->data, &m->data_len);
	} else if (TYPE("leave")) {
		m->type = XR_MSG_LEAVE;
	} else if (TYPE("ping")) {
		m->type = XR_MSG_PING;
		if (t.id.kind) {
			if (t.id.kind == 'o' || t.id.kind == 'a')
				return XR_E_BAD_MESSAGE;
			span_text(&t.id, &m->ping_id, &m->ping_id_len);
		}
	} else {
		return XR_E_BAD_MESSAGE;
	}
#undef TYPE
	return XR_OK;
}

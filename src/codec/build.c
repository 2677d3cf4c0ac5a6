/* build.c: server messages, each serialised once into an xr_buf with
 * XR_PRE bytes of headroom (the codec's write side). The relayed signal is
 * built with one allocation and three copies; the rest through a small
 * string builder. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xroom/codec/build.h"
#include "xroom/codec/ids.h"

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

struct xr_buf *xr_build_error(enum xr_err e, const char *message)
{
	struct sb b = { 0 };

	sb_str(&b, "{\"type\":\"error\",\"code\":\"");
	sb_str(&b, xr_err_name(e));
	sb_str(&b, "\",\"message\":");
	sb_json_string(&b, message ? message : xr_err_text(e));
	sb_str(&b, "}");
	return sb_finish(&b);
}

struct xr_buf *xr_build_peer_event(const char *type, const char *id)
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
struct xr_buf *xr_build_signal(const char *from, const char *data,
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

struct xr_buf *xr_build_pong(const char *id_json, size_t id_len)
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

struct xr_buf *xr_build_welcome(const char *id, const char *const *peers,
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

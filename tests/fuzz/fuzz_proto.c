/* fuzz_proto.c: libFuzzer target for message handling. A hub with fake
 * transport ops holds a few connections: peer0AAAAAAAAAAA and
 * peer1AAAAAAAAAAA joined in room "a" (auth "k"), peer3AAAAAAAAAAA alone in
 * room "b", and waiting ones in "a" and "op" (an operator room of 2 with a
 * title). The input is cut at each 0xFF byte (never in UTF-8 text) into
 * messages; message k comes from connection k % 6, so a one-message input
 * comes from a joined peer. Each message takes 1 ms. A message of one
 * capital letter is a transport event instead: T (a second passes), D
 * (everyone reads their queue), C (the operator closes room "a"), K (the
 * sender is kicked), A (shutdown), N (a new connection to "a"), X (the
 * sender's socket drops).
 *
 * Checks, beyond the sanitizers: the fast parser (jscan) and the jansson
 * parser agree on every input; what xr_parse_message extracts equals what
 * jansson reads (data and ping id as JSON values, auth as a string); every
 * message queued for anyone is a JSON object of a known type; kill only
 * happens to dead peers; after everything is detached the hub holds no
 * connection, peer or room (so leaks show under ASan too). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xroom/codec/parse.h"
#include "xroom/hub/dispatch.h"
#include "xroom/hub/room.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NPEER 8
#define NSEND 6
#define SEP 0xFF

static const char *const fixed_ids[NPEER] = {
	"peer0AAAAAAAAAAA", "peer1AAAAAAAAAAA", "peer2AAAAAAAAAAA",
	"peer3AAAAAAAAAAA", "peer4AAAAAAAAAAA", "peer5AAAAAAAAAAA",
	"peer6AAAAAAAAAAA", "peer7AAAAAAAAAAA",
};

struct conn {
	bool close_next; /* was CLOSING at the end of the last step */
};

struct world {
	struct xr_hub *hub;
	struct xr_peer p[NPEER];
	struct conn c[NPEER];
	struct xr_room_conf op;
	int64_t now;
};

#define CHECK(x) do { if (!(x)) abort(); } while (0)

/* --- fake transport ------------------------------------------------------------ */

static void wake(void *ctx, struct xr_peer *p)
{
	(void)ctx;
	CHECK(p->attached);
}

static void kill_peer(void *ctx, struct xr_peer *p, uint16_t code)
{
	(void)ctx;
	CHECK(p->state == XR_PEER_DEAD && code == XR_CLOSE_POLICY);
}

static char *ice_json(void *ctx)
{
	(void)ctx;
	return strdup("[{\"urls\":[\"stun:stun.example.org:3478\"]}]");
}

static const struct xr_room_conf *room_conf(void *ctx, const char *id)
{
	struct world *w = ctx;

	return strcmp(id, "op") ? NULL : &w->op;
}

static int64_t now_s(void *ctx)
{
	(void)ctx;
	return 1700000000;
}

/* --- oracles ----------------------------------------------------------------------- */

static bool known_code(const char *code)
{
	for (int e = XR_E_BAD_JSON; e < XR_E__COUNT; e++)
		if (!strcmp(code, xr_err_name((enum xr_err)e)))
			return true;
	return false;
}

static bool is_peer_id(json_t *v)
{
	return json_is_string(v) &&
	       xr_peer_id_valid(json_string_value(v), json_string_length(v));
}

static void check_outgoing(struct xr_buf *b)
{
	json_error_t err;
	json_t *j = json_loadb((const char *)xr_buf_payload(b), b->len,
			       JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	const char *t;

	/* jansson would let a raw NUL after a number through; JSON never has one */
	CHECK(!memchr(xr_buf_payload(b), '\0', b->len));
	CHECK(j && json_is_object(j));
	t = json_string_value(json_object_get(j, "type"));
	CHECK(t);
	if (!strcmp(t, "signal")) {
		CHECK(is_peer_id(json_object_get(j, "from")));
		CHECK(json_object_get(j, "data"));
		CHECK(json_object_size(j) == 3);
	} else if (!strcmp(t, "welcome")) {
		json_t *peers = json_object_get(j, "peers"), *v;
		size_t i;

		CHECK(is_peer_id(json_object_get(j, "id")));
		CHECK(json_is_array(peers));
		json_array_foreach(peers, i, v)
			CHECK(is_peer_id(v));
		CHECK(json_is_array(json_object_get(j, "iceServers")));
		CHECK(json_is_integer(json_object_get(j, "maxPeers")));
	} else if (!strcmp(t, "peer-joined") || !strcmp(t, "peer-left")) {
		CHECK(is_peer_id(json_object_get(j, "id")));
	} else if (!strcmp(t, "error")) {
		CHECK(known_code(json_string_value(json_object_get(j, "code")) ?
				 json_string_value(json_object_get(j, "code")) : ""));
		CHECK(json_is_string(json_object_get(j, "message")));
	} else {
		CHECK(!strcmp(t, "pong"));
		CHECK(json_object_size(j) <= 2);
	}
	json_decref(j);
}

/* The span the parser extracted is the same JSON value jansson reads. */
static void check_span(json_t *root, const char *key, const char *s, size_t n)
{
	json_error_t err;
	json_t *v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL |
			       JSON_REJECT_DUPLICATES, &err);

	CHECK(v);
	CHECK(json_equal(v, json_object_get(root, key)));
	json_decref(v);
}

/* The fast path (jscan) and the jansson path agree on every input. */
static void check_paths_agree(const char *buf, size_t len)
{
	struct xr_msg a, b;
	enum xr_err ea = xr_parse_message(buf, len, &a);
	enum xr_err eb = xr_parse_message_jansson(buf, len, &b);

	CHECK(ea == eb);
	if (ea == XR_OK) {
		CHECK(a.type == b.type);
		CHECK(a.auth_len == b.auth_len && !!a.auth == !!b.auth);
		CHECK(!a.auth || !memcmp(a.auth, b.auth, a.auth_len));
		CHECK(a.to_len == b.to_len);
		CHECK(!a.to || !memcmp(a.to, b.to, a.to_len <= XR_PEER_ID_LEN ? a.to_len : 0));
		CHECK(a.data_len == b.data_len);
		CHECK(!a.data || !memcmp(a.data, b.data, a.data_len));
		CHECK(a.ping_id_len == b.ping_id_len && !!a.ping_id == !!b.ping_id);
		CHECK(!a.ping_id || !memcmp(a.ping_id, b.ping_id, a.ping_id_len));
	}
	xr_msg_clear(&a);
	xr_msg_clear(&b);
}

static void check_parse(const char *buf, size_t len)
{
	struct xr_msg m;
	enum xr_err e = xr_parse_message(buf, len, &m);
	json_error_t err;
	json_t *root;

	check_paths_agree(buf, len);
	if (e != XR_OK) {
		CHECK(e == XR_E_BAD_JSON || e == XR_E_BAD_MESSAGE);
		xr_msg_clear(&m);
		return;
	}
	root = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL |
			  JSON_REJECT_DUPLICATES, &err);
	CHECK(root && json_is_object(root));
	switch (m.type) {
	case XR_MSG_JOIN:
		if (m.auth) {
			json_t *a = json_object_get(root, "auth");
			CHECK(m.auth_len <= XR_AUTH_MAX);
			CHECK(json_string_length(a) == m.auth_len);
			CHECK(!memcmp(json_string_value(a), m.auth, m.auth_len));
			for (size_t i = 0; i < m.auth_len; i++)
				CHECK((unsigned char)m.auth[i] < 0x80);
		}
		break;
	case XR_MSG_SIGNAL:
		check_span(root, "data", m.data, m.data_len);
		CHECK(json_string_length(json_object_get(root, "to")) == m.to_len);
		break;
	case XR_MSG_PING:
		if (m.ping_id)
			check_span(root, "id", m.ping_id, m.ping_id_len);
		else
			CHECK(!json_object_get(root, "id"));
		break;
	case XR_MSG_LEAVE:
		break;
	}
	json_decref(root);
	xr_msg_clear(&m);
}

/* --- the world ------------------------------------------------------------------------ */

static void drain(struct world *w, int i)
{
	struct xr_buf *b;

	while ((b = xr_outq_peek(&w->p[i].q))) {
		check_outgoing(b);
		xr_outq_pop(&w->p[i].q);
	}
}

static int attach(struct world *w, int i, const char *room)
{
	memset(&w->p[i], 0, sizeof(w->p[i]));
	memset(&w->c[i], 0, sizeof(w->c[i]));
	if (xr_hub_attach(w->hub, &w->p[i], room, strlen(room), w->now)) {
		/* over max_connections: what ws.c does */
		xr_hub_fail(w->hub, &w->p[i], XR_E_SERVER_BUSY);
		return -1;
	}
	return 0;
}

/* Joins through the protocol, then gives the peer a fixed id so that inputs
 * can name it. */
static void join_as(struct world *w, int i, const char *msg)
{
	struct xr_peer *p = &w->p[i];

	xr_dispatch_message(w->hub, p, msg, strlen(msg), w->now);
	CHECK(p->state == XR_PEER_JOINED);
	xr_map_remove(&w->hub->peers, &p->idnode);
	memcpy(p->id, fixed_ids[i], XR_PEER_ID_LEN + 1);
	CHECK(!xr_map_insert(&w->hub->peers, &p->idnode, p->id, XR_PEER_ID_LEN));
	drain(w, i);
}

/* What the transport does between messages: a killed socket is closed, a
 * closing one is flushed and closed one step after it began closing. */
static void transport(struct world *w)
{
	for (int i = 0; i < NPEER; i++) {
		struct xr_peer *p = &w->p[i];

		if (!p->attached)
			continue;
		if (p->state == XR_PEER_DEAD) {
			CHECK(p->q.count == 0);
			xr_hub_detach(w->hub, p);
		} else if (p->state == XR_PEER_CLOSING && w->c[i].close_next) {
			drain(w, i);
			xr_hub_detach(w->hub, p);
		} else {
			w->c[i].close_next = p->state == XR_PEER_CLOSING;
		}
	}
}

static void event(struct world *w, int s, char ev)
{
	switch (ev) {
	case 'T':
		w->now += 1000;
		xr_hub_tick(w->hub, w->now);
		break;
	case 'D':
		for (int i = 0; i < NPEER; i++)
			if (w->p[i].attached)
				drain(w, i);
		break;
	case 'C':
		xr_hub_close_room(w->hub, "a", XR_E_ROOM_CLOSED, XR_CLOSE_NORMAL);
		CHECK(!xr_hub_room(w->hub, "a"));
		break;
	case 'K':
		if (w->p[s].attached) {
			xr_hub_send_error(w->hub, &w->p[s], XR_E_KICKED);
			xr_hub_close(w->hub, &w->p[s], XR_CLOSE_NORMAL);
		}
		break;
	case 'A':
		xr_hub_close_all(w->hub, XR_CLOSE_GOING_AWAY);
		for (int i = 0; i < NPEER; i++)
			CHECK(!w->p[i].attached ||
			      w->p[i].state == XR_PEER_CLOSING ||
			      w->p[i].state == XR_PEER_DEAD);
		CHECK(!w->hub->wait_head);
		break;
	case 'N':
		for (int i = 0; i < NPEER; i++)
			if (!w->p[i].attached) {
				attach(w, i, "a");
				break;
			}
		break;
	case 'X':
		xr_hub_detach(w->hub, &w->p[s]);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct xr_hub_limits lim = {
		.max_peers = 3, .max_rooms = 3, .max_connections = 7,
		.messages_per_second = 10, .message_burst = 6,
		.max_message_bytes = 4096, .max_queued_bytes = 2048,
		.join_timeout_ms = 3000,
	};
	struct world *w = calloc(1, sizeof(*w));
	struct xr_hub_ops ops = {
		.wake = wake, .kill = kill_peer, .ice_json = ice_json,
		.room_conf = room_conf, .now_s = now_s, .ctx = w,
	};
	size_t start = 0;
	int k = 0;

	CHECK(w);
	w->hub = xr_hub_new(&lim, &ops);
	CHECK(w->hub);
	w->op.max_peers = 2;
	strcpy(w->op.title, "Stand-up \"daily\" \\ \xc3\xa9");
	w->now = 1000;
	attach(w, 0, "a");
	attach(w, 1, "a");
	attach(w, 2, "a");
	attach(w, 3, "b");
	attach(w, 4, "a");
	attach(w, 5, "op");
	join_as(w, 0, "{\"type\":\"join\",\"auth\":\"k\"}");
	join_as(w, 1, "{\"type\":\"join\",\"auth\":\"k\"}");
	join_as(w, 3, "{\"type\":\"join\"}");
	drain(w, 0);

	for (size_t i = 0; i <= size; i++) {
		const char *msg = (const char *)data + start;
		size_t len = i - start;
		int s = k % NSEND;

		if (i < size && data[i] != SEP)
			continue;
		start = i + 1;
		k++;
		w->now += 1;
		check_parse(msg, len);
		if (len == 1 && msg[0] >= 'A' && msg[0] <= 'Z')
			event(w, s, msg[0]);
		else
			xr_dispatch_message(w->hub, &w->p[s], msg, len, w->now);
		xr_hub_tick(w->hub, w->now);
		transport(w);
		/* the counters agree with the lists */
		CHECK(w->hub->npeers == w->hub->peers.count);
	}

	for (int i = 0; i < NPEER; i++) {
		if (w->p[i].attached)
			drain(w, i);
		xr_hub_detach(w->hub, &w->p[i]);
	}
	CHECK(w->hub->nconns == 0 && w->hub->npeers == 0);
	CHECK(w->hub->rooms.count == 0 && w->hub->peers.count == 0);
	CHECK(!w->hub->wait_head && !w->hub->wait_tail && !w->hub->joined);
	xr_hub_free(w->hub);
	free(w);
	return 0;
}

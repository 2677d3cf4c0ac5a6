/* room.c: the hub of rooms and peers. Rooms exist while they have peers; the
 * first join sets the room's verifier (a keyed hash of auth, compared in
 * constant time). Relay finds the target through a hash of peer ids, so its
 * cost does not grow with the room or the server. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "xroom/codec/build.h"
#include "xroom/hub/room.h"
#include "xroom/util/log.h"

struct xr_hub *xr_hub_new(const struct xr_hub_limits *lim,
			  const struct xr_hub_ops *ops)
{
	struct xr_hub *hub = calloc(1, sizeof(*hub));

	if (!hub)
		return NULL;
	if (sodium_init() < 0) {
		free(hub);
		return NULL;
	}
	hub->lim = *lim;
	hub->ops = *ops;
	xr_map_init(&hub->rooms);
	xr_map_init(&hub->peers);
	randombytes_buf(hub->vkey, sizeof(hub->vkey));
	return hub;
}

static void room_free(struct xr_hub *hub, struct xr_room *r)
{
	xr_map_remove(&hub->rooms, &r->node);
	sodium_memzero(r->verifier, sizeof(r->verifier));
	free(r->peers);
	free(r);
}

static void free_room_node(struct xr_map_node *n)
{
	struct xr_room *r = xr_container_of(n, struct xr_room, node);

	free(r->peers);
	free(r);
}

void xr_hub_free(struct xr_hub *hub)
{
	if (!hub)
		return;
	xr_map_drain(&hub->rooms, free_room_node);
	xr_map_free(&hub->peers);
	sodium_memzero(hub->vkey, sizeof(hub->vkey));
	free(hub);
}

/* --- the two connection lists ------------------------------------------ */

static void unlink_peer(struct xr_hub *hub, struct xr_peer *p)
{
	p->waiting = 0;
	if (p->prev)
		p->prev->next = p->next;
	else if (hub->wait_head == p)
		hub->wait_head = p->next;
	else if (hub->joined == p)
		hub->joined = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else if (hub->wait_tail == p)
		hub->wait_tail = p->prev;
	p->prev = p->next = NULL;
}

static void push_joined(struct xr_hub *hub, struct xr_peer *p)
{
	p->prev = NULL;
	p->next = hub->joined;
	if (hub->joined)
		hub->joined->prev = p;
	hub->joined = p;
}

enum xr_err xr_hub_attach(struct xr_hub *hub, struct xr_peer *p,
			  const char *room_id, size_t room_id_len,
			  int64_t now_ms)
{
	memcpy(p->room_id, room_id, room_id_len);
	p->room_id[room_id_len] = '\0';
	p->room_id_len = (uint8_t)room_id_len;
	p->opened_ms = now_ms;
	p->state = XR_PEER_WAITING;
	p->attached = 1;
	xr_outq_init(&p->q);
	xr_rate_init(&p->rate, now_ms, hub->lim.message_burst);
	p->prev = hub->wait_tail;
	p->next = NULL;
	p->waiting = 1;
	if (hub->wait_tail)
		hub->wait_tail->next = p;
	else
		hub->wait_head = p;
	hub->wait_tail = p;
	hub->nconns++;
	return hub->nconns > hub->lim.max_connections ? XR_E_SERVER_BUSY : XR_OK;
}

/* --- sending --------------------------------------------------------- */

int xr_hub_send(struct xr_hub *hub, struct xr_peer *p, struct xr_buf *b)
{
	int rc;

	if (!b)
		return -ENOMEM;
	if (p->state == XR_PEER_DEAD)
		return -EPIPE;
	rc = xr_outq_push(&p->q, b, hub->lim.max_queued_bytes);
	if (rc == -ENOBUFS || rc == -ENOMEM) {
		xr_debug("peer %s cannot keep up: closing", p->id);
		p->state = XR_PEER_DEAD;
		xr_outq_clear(&p->q);
		hub->ops.kill(hub->ops.ctx, p, XR_CLOSE_POLICY);
		return rc;
	}
	hub->ops.wake(hub->ops.ctx, p);
	return 0;
}

void xr_hub_send_error(struct xr_hub *hub, struct xr_peer *p, enum xr_err e)
{
	struct xr_buf *b = xr_build_error(e, xr_err_text(e));

	hub->stats.errors[e]++;
	xr_hub_send(hub, p, b);
	xr_buf_unref(b);
}

void xr_hub_fail(struct xr_hub *hub, struct xr_peer *p, enum xr_err e)
{
	uint16_t code = xr_err_close(e);

	xr_hub_send_error(hub, p, e);
	if (code)
		xr_hub_close(hub, p, code);
}

static void broadcast(struct xr_hub *hub, struct xr_room *r,
		      struct xr_peer *except, struct xr_buf *b)
{
	if (!b)
		return;
	/* A send may kill a peer; killed peers stay in the array until the
	 * transport detaches them, so the walk is safe. */
	for (uint32_t i = 0; i < r->npeers; i++)
		if (r->peers[i] != except)
			xr_hub_send(hub, r->peers[i], b);
	xr_buf_unref(b);
}

/* --- join and leave --------------------------------------------------- */

static void verifier_of(const struct xr_hub *hub, const char *auth,
			size_t len, unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)auth, len,
			   hub->vkey, sizeof(hub->vkey));
}

static int64_t now_s(struct xr_hub *hub)
{
	return hub->ops.now_s ? hub->ops.now_s(hub->ops.ctx) : (int64_t)time(NULL);
}

static int new_peer_id(struct xr_hub *hub, char out[XR_PEER_ID_LEN + 1])
{
	unsigned char raw[12];

	/* 96 random bits: a repeat is astronomically unlikely, but a live
	 * duplicate is still refused by drawing again. */
	for (int tries = 0; tries < 8; tries++) {
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2base64(out, XR_PEER_ID_LEN + 1, raw, sizeof(raw),
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		if (!xr_map_find(&hub->peers, out, XR_PEER_ID_LEN))
			return 0;
	}
	return -EEXIST;
}

static uint32_t room_capacity(struct xr_hub *hub, const struct xr_room_conf *c)
{
	if (c && c->max_peers && c->max_peers < hub->lim.max_peers)
		return c->max_peers;
	return hub->lim.max_peers;
}

enum xr_err xr_hub_join(struct xr_hub *hub, struct xr_peer *p,
			const char *auth, size_t auth_len)
{
	struct xr_map_node *n = xr_map_find(&hub->rooms, p->room_id,
					    p->room_id_len);
	struct xr_room *r = n ? xr_container_of(n, struct xr_room, node) : NULL;
	const struct xr_room_conf *conf = hub->ops.room_conf ?
		hub->ops.room_conf(hub->ops.ctx, p->room_id) : NULL;
	uint32_t cap = room_capacity(hub, conf);
	unsigned char v[32];
	const char **ids = NULL;
	char *ice;
	struct xr_buf *b;

	if (p->state != XR_PEER_WAITING)
		return XR_E_ALREADY_JOINED;
	if (conf && conf->expires_at && now_s(hub) >= conf->expires_at)
		return XR_E_ROOM_EXPIRED;
	if (r) {
		bool ok;

		/* Verifier first: an outsider never learns how full it is. */
		if (r->has_verifier) {
			verifier_of(hub, auth, auth_len, v);
			ok = auth_len && sodium_memcmp(v, r->verifier, 32) == 0;
		} else {
			ok = auth_len == 0;
		}
		sodium_memzero(v, sizeof(v));
		if (!ok)
			return XR_E_FORBIDDEN;
	}
	if (conf && conf->locked)
		return XR_E_ROOM_LOCKED;
	if (r && r->npeers >= cap)
		return XR_E_ROOM_FULL;
	if (!r && hub->rooms.count >= hub->lim.max_rooms)
		return XR_E_SERVER_BUSY;
	if (new_peer_id(hub, p->id))
		return XR_E_SERVER_BUSY;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return XR_E_SERVER_BUSY;
		memcpy(r->id, p->room_id, p->room_id_len + 1u);
		r->id_len = p->room_id_len;
		r->created_at = now_s(hub);
		if (auth_len) {
			r->has_verifier = true;
			verifier_of(hub, auth, auth_len, r->verifier);
		}
		if (xr_map_insert(&hub->rooms, &r->node, r->id, r->id_len)) {
			free(r);
			return XR_E_SERVER_BUSY;
		}
	}
	if (r->npeers == r->cap) {
		uint32_t nc = r->cap ? r->cap * 2 : 4;
		struct xr_peer **np = realloc(r->peers, nc * sizeof(*np));
		if (!np)
			goto busy;
		r->peers = np;
		r->cap = nc;
	}
	if (r->npeers) {
		ids = malloc(r->npeers * sizeof(*ids));
		if (!ids)
			goto busy;
	}
	if (xr_map_insert(&hub->peers, &p->idnode, p->id, XR_PEER_ID_LEN))
		goto busy;

	for (uint32_t i = 0; i < r->npeers; i++)
		ids[i] = r->peers[i]->id;
	ice = hub->ops.ice_json ? hub->ops.ice_json(hub->ops.ctx) : NULL;
	b = xr_build_welcome(p->id, ids, r->npeers, ice, cap,
			     conf && conf->title[0] ? conf->title : NULL);
	free(ice);
	free(ids);

	unlink_peer(hub, p);
	push_joined(hub, p);
	p->state = XR_PEER_JOINED;
	p->room = r;
	broadcast(hub, r, NULL, xr_build_peer_event("peer-joined", p->id));
	r->peers[r->npeers++] = p;
	hub->npeers++;
	xr_hub_send(hub, p, b);
	xr_buf_unref(b);
	xr_debug("peer %s joined (%u in room)", p->id, r->npeers);
	return XR_OK;
busy:
	free(ids);
	if (!r->npeers)
		room_free(hub, r);
	return XR_E_SERVER_BUSY;
}

static void leave_room(struct xr_hub *hub, struct xr_peer *p)
{
	struct xr_room *r = p->room;
	uint32_t i;

	if (!r)
		return;
	for (i = 0; i < r->npeers && r->peers[i] != p; i++)
		;
	if (i < r->npeers) {
		memmove(&r->peers[i], &r->peers[i + 1],
			(r->npeers - i - 1) * sizeof(*r->peers));
		r->npeers--;
	}
	xr_map_remove(&hub->peers, &p->idnode);
	hub->npeers--;
	p->room = NULL;
	xr_debug("peer %s left (%u in room)", p->id, r->npeers);
	if (!r->npeers)
		room_free(hub, r);
	else if (!r->closing)
		broadcast(hub, r, NULL, xr_build_peer_event("peer-left", p->id));
}

void xr_hub_detach(struct xr_hub *hub, struct xr_peer *p)
{
	if (!p->attached)
		return; /* never attached, or already detached */
	leave_room(hub, p);
	unlink_peer(hub, p);
	xr_outq_clear(&p->q);
	p->state = XR_PEER_DEAD;
	p->attached = 0;
	hub->nconns--;
}

void xr_hub_close(struct xr_hub *hub, struct xr_peer *p, uint16_t code)
{
	if (p->state == XR_PEER_DEAD || p->state == XR_PEER_CLOSING)
		return;
	leave_room(hub, p);
	if (p->waiting) { /* off the deadline list */
		unlink_peer(hub, p);
		push_joined(hub, p);
	}
	p->state = XR_PEER_CLOSING;
	p->close_code = code;
	hub->ops.wake(hub->ops.ctx, p);
}

/* --- relay ------------------------------------------------------------- */

enum xr_err xr_hub_relay(struct xr_hub *hub, struct xr_peer *from,
			 const char *to, size_t to_len, const char *data,
			 size_t data_len, size_t wire_len)
{
	struct xr_map_node *n;
	struct xr_peer *t;
	struct xr_buf *b;

	if (!xr_peer_id_valid(to, to_len))
		return XR_E_UNKNOWN_PEER;
	n = xr_map_find(&hub->peers, to, to_len);
	if (!n)
		return XR_E_UNKNOWN_PEER;
	t = xr_container_of(n, struct xr_peer, idnode);
	if (t == from || t->room != from->room)
		return XR_E_UNKNOWN_PEER;
	if (t->state != XR_PEER_JOINED)
		return XR_OK; /* going away; its peer-left is on the way */
	b = xr_build_signal(from->id, data, data_len);
	if (!b)
		return XR_OK;
	if (xr_hub_send(hub, t, b) == 0) {
		hub->stats.relayed++;
		hub->stats.relayed_bytes += wire_len;
	}
	xr_buf_unref(b);
	return XR_OK;
}

/* --- timers, shutdown, admin ------------------------------------------ */

void xr_hub_tick(struct xr_hub *hub, int64_t now_ms)
{
	while (hub->wait_head &&
	       hub->wait_head->opened_ms + hub->lim.join_timeout_ms <= now_ms) {
		struct xr_peer *p = hub->wait_head;

		xr_debug("connection sent no join in time: closing");
		xr_hub_close(hub, p, XR_CLOSE_POLICY);
		if (hub->wait_head == p) /* dead peers wait for detach */
			unlink_peer(hub, p), push_joined(hub, p);
	}
}

void xr_hub_close_all(struct xr_hub *hub, uint16_t code)
{
	while (hub->wait_head) {
		struct xr_peer *p = hub->wait_head;
		unlink_peer(hub, p);
		push_joined(hub, p);
	}
	for (struct xr_peer *p = hub->joined; p; p = p->next)
		xr_hub_close(hub, p, code);
}

struct xr_room *xr_hub_room(struct xr_hub *hub, const char *id)
{
	struct xr_map_node *n = xr_map_find(&hub->rooms, id, strlen(id));

	return n ? xr_container_of(n, struct xr_room, node) : NULL;
}

unsigned xr_hub_close_room(struct xr_hub *hub, const char *id, enum xr_err e,
			   uint16_t code)
{
	struct xr_room *r = xr_hub_room(hub, id);
	unsigned n = 0;

	if (!r)
		return 0;
	/* Everyone hears why first; nobody hears the others leave. */
	r->closing = true;
	for (uint32_t i = 0; i < r->npeers; i++)
		xr_hub_send_error(hub, r->peers[i], e);
	/* Each close removes its peer from the array; the last frees r. */
	while (r->npeers) {
		struct xr_peer *p = r->peers[0];
		bool last = r->npeers == 1;

		xr_hub_close(hub, p, code);
		if (p->room == r) /* a dead peer is taken out here */
			leave_room(hub, p);
		n++;
		if (last)
			break;
	}
	return n;
}

int xr_hub_kick(struct xr_hub *hub, const char *room_id, const char *peer_id)
{
	struct xr_map_node *n;
	struct xr_peer *p;

	if (!xr_peer_id_valid(peer_id, strlen(peer_id)))
		return -ENOENT;
	n = xr_map_find(&hub->peers, peer_id, XR_PEER_ID_LEN);
	if (!n)
		return -ENOENT;
	p = xr_container_of(n, struct xr_peer, idnode);
	if (!p->room || strcmp(p->room->id, room_id) || p->state != XR_PEER_JOINED)
		return -ENOENT;
	xr_hub_send_error(hub, p, XR_E_KICKED);
	xr_hub_close(hub, p, XR_CLOSE_NORMAL);
	return 0;
}

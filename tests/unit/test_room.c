/* test_room.c: the hub of rooms and peers driven through struct xr_hub_ops
 * with fake wake/kill/ice callbacks that record what they are asked: join,
 * welcome and peer events, verifiers, capacities, relay, the join deadline
 * on a stepped clock, laggards killed, shutdown and operator closes; then
 * xr_dispatch_message end to end on the same hub, rate limiting included. Every
 * message a peer is sent is parsed back with jansson. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xroom/codec/parse.h"
#include "xroom/hub/dispatch.h"
#include "xroom/hub/room.h"

#define NP 12
#define ICE "[{\"urls\":[\"stun:stun.example.org:3478\"]}]"

struct conn {
	int wakes, kills;
	uint16_t kill_code;
	bool dead_when_killed;
};

struct fx {
	struct xr_hub *hub;
	struct xr_hub_limits lim;
	struct xr_hub_ops ops;
	struct xr_peer p[NP];
	struct conn c[NP];
	int ice_calls;
	const char *ice;          /* what ice_json answers (copied), or NULL */
	struct xr_room_conf conf; /* what room_conf answers for conf_room */
	char conf_room[XR_ROOM_ID_MAX + 1];
	int64_t now_s;
	json_t *j;                /* the last message popped */
};

/* --- fake transport ------------------------------------------------------------ */

/* The fake connection of a peer: the one at the same index. */
static struct conn *conn_of(void *ctx, struct xr_peer *p)
{
	struct fx *f = ctx;

	return &f->c[p - f->p];
}

static void fake_wake(void *ctx, struct xr_peer *p)
{
	conn_of(ctx, p)->wakes++;
}

static void fake_kill(void *ctx, struct xr_peer *p, uint16_t code)
{
	struct conn *c = conn_of(ctx, p);

	c->kills++;
	c->kill_code = code;
	c->dead_when_killed = p->state == XR_PEER_DEAD;
}

static char *fake_ice(void *ctx)
{
	struct fx *f = ctx;

	f->ice_calls++;
	return f->ice ? strdup(f->ice) : NULL;
}

static const struct xr_room_conf *fake_conf(void *ctx, const char *id)
{
	struct fx *f = ctx;

	return f->conf_room[0] && !strcmp(id, f->conf_room) ? &f->conf : NULL;
}

static int64_t fake_now(void *ctx)
{
	return ((struct fx *)ctx)->now_s;
}

static int make_hub(struct fx *f)
{
	xr_hub_free(f->hub);
	f->hub = xr_hub_new(&f->lim, &f->ops);
	return f->hub ? 0 : -1;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->lim = (struct xr_hub_limits){
		.max_peers = 3, .max_rooms = 4, .max_connections = NP,
		.messages_per_second = 50, .message_burst = 200,
		.max_message_bytes = 65536, .max_queued_bytes = 1 << 20,
		.join_timeout_ms = 10000,
	};
	f->ops = (struct xr_hub_ops){
		.wake = fake_wake, .kill = fake_kill, .ice_json = fake_ice,
		.room_conf = fake_conf, .now_s = fake_now, .ctx = f,
	};
	f->ice = ICE;
	f->now_s = 1700000000;
	*state = f;
	return make_hub(f);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int rc = 0;

	for (int i = 0; i < NP; i++) {
		xr_hub_detach(f->hub, &f->p[i]);
		if (f->p[i].q.count || f->p[i].q.ring)
			rc = -1; /* detach must free the queue */
	}
	/* with everyone gone the hub holds nothing */
	if (f->hub->nconns || f->hub->npeers || f->hub->rooms.count ||
	    f->hub->peers.count || f->hub->wait_head || f->hub->wait_tail ||
	    f->hub->joined)
		rc = -1;
	xr_hub_free(f->hub);
	json_decref(f->j);
	free(f);
	return rc;
}

/* --- helpers ------------------------------------------------------------------------ */

static enum xr_err attach_at(struct fx *f, int i, const char *room, int64_t t)
{
	memset(&f->p[i], 0, sizeof(f->p[i]));
	memset(&f->c[i], 0, sizeof(f->c[i]));
	return xr_hub_attach(f->hub, &f->p[i], room, strlen(room), t);
}

static enum xr_err attach(struct fx *f, int i, const char *room)
{
	return attach_at(f, i, room, 1000);
}

static enum xr_err join(struct fx *f, int i, const char *auth)
{
	return xr_hub_join(f->hub, &f->p[i], auth, auth ? strlen(auth) : 0);
}

/* Attaches and joins peer i; fails the test if it cannot. */
static void enter(struct fx *f, int i, const char *room, const char *auth)
{
	assert_int_equal(attach(f, i, room), XR_OK);
	assert_int_equal(join(f, i, auth), XR_OK);
}

static unsigned queued(struct fx *f, int i)
{
	return f->p[i].q.count;
}

/* Pops peer i's oldest message, checks it is a JSON object with a string
 * type, and returns it (valid until the next pop). */
static json_t *pop(struct fx *f, int i)
{
	struct xr_buf *b = xr_outq_peek(&f->p[i].q);
	json_error_t err;

	if (!b)
		fail_msg("peer %d has nothing queued", i);
	json_decref(f->j);
	f->j = json_loadb((const char *)xr_buf_payload(b), b->len,
			  JSON_REJECT_DUPLICATES, &err);
	if (!f->j)
		fail_msg("peer %d was sent bad JSON (%s): %.*s", i, err.text,
			 (int)b->len, (const char *)xr_buf_payload(b));
	xr_outq_pop(&f->p[i].q);
	assert_true(json_is_object(f->j));
	assert_true(json_is_string(json_object_get(f->j, "type")));
	return f->j;
}

static const char *str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_string(v))
		fail_msg("member %s is not a string", k);
	return json_string_value(v);
}

static json_t *pop_type(struct fx *f, int i, const char *type)
{
	json_t *j = pop(f, i);

	if (strcmp(str(j, "type"), type))
		fail_msg("peer %d: expected %s, got %s", i, type, str(j, "type"));
	return j;
}

static void pop_error(struct fx *f, int i, const char *code)
{
	json_t *j = pop_type(f, i, "error");

	assert_string_equal(str(j, "code"), code);
	assert_true(strlen(str(j, "message")) > 0);
}

static void drain(struct fx *f, int i)
{
	while (queued(f, i))
		pop(f, i);
}

static void assert_closing(struct fx *f, int i, uint16_t code)
{
	assert_int_equal(f->p[i].state, XR_PEER_CLOSING);
	assert_int_equal(f->p[i].close_code, code);
	assert_true(f->c[i].wakes > 0);
}

static bool on_wait_list(struct fx *f, int i)
{
	for (struct xr_peer *q = f->hub->wait_head; q; q = q->next)
		if (q == &f->p[i])
			return true;
	return false;
}

static void handle_at(struct fx *f, int i, const char *msg, int64_t t)
{
	xr_dispatch_message(f->hub, &f->p[i], msg, strlen(msg), t);
}

static void handle(struct fx *f, int i, const char *msg)
{
	handle_at(f, i, msg, 2000);
}

/* --- attach and join ---------------------------------------------------------------- */

static void attach_waits(void **state)
{
	struct fx *f = *state;

	assert_int_equal(attach_at(f, 0, "room-1", 4242), XR_OK);
	assert_int_equal(f->p[0].state, XR_PEER_WAITING);
	assert_true(f->p[0].attached);
	assert_string_equal(f->p[0].room_id, "room-1");
	assert_int_equal(f->p[0].room_id_len, 6);
	assert_int_equal(f->p[0].opened_ms, 4242);
	assert_null(f->p[0].room);
	assert_int_equal(f->hub->nconns, 1);
	assert_int_equal(f->hub->npeers, 0);
	assert_int_equal(f->hub->rooms.count, 0); /* no room before a join */
	assert_true(on_wait_list(f, 0));
	assert_true(f->p[0].waiting);
	assert_int_equal(queued(f, 0), 0);
	assert_int_equal(f->c[0].wakes, 0);
}

static void join_first_gets_welcome(void **state)
{
	struct fx *f = *state;
	struct xr_room *r;
	json_t *j, *ice;
	json_error_t err;

	enter(f, 0, "r1", NULL);
	assert_int_equal(f->p[0].state, XR_PEER_JOINED);
	assert_true(xr_peer_id_valid(f->p[0].id, strlen(f->p[0].id)));
	assert_false(on_wait_list(f, 0));
	assert_false(f->p[0].waiting);
	assert_true(f->c[0].wakes > 0);
	assert_int_equal(f->ice_calls, 1);
	assert_int_equal(queued(f, 0), 1);
	j = pop_type(f, 0, "welcome");
	assert_string_equal(str(j, "id"), f->p[0].id);
	assert_int_equal(json_array_size(json_object_get(j, "peers")), 0);
	assert_true(json_is_array(json_object_get(j, "peers")));
	ice = json_loads(ICE, 0, &err);
	assert_true(json_equal(json_object_get(j, "iceServers"), ice));
	json_decref(ice);
	assert_int_equal(json_integer_value(json_object_get(j, "maxPeers")), 3);
	assert_null(json_object_get(j, "title"));

	r = xr_hub_room(f->hub, "r1");
	assert_non_null(r);
	assert_ptr_equal(f->p[0].room, r);
	assert_int_equal(r->npeers, 1);
	assert_ptr_equal(r->peers[0], &f->p[0]);
	assert_false(r->has_verifier);
	assert_int_equal(r->created_at, f->now_s);
	assert_int_equal(f->hub->npeers, 1);
	assert_int_equal(f->hub->rooms.count, 1);
	assert_int_equal(f->hub->peers.count, 1);
	assert_null(xr_hub_room(f->hub, "r2"));
}

static void welcome_without_ice_op(void **state)
{
	struct fx *f = *state;
	json_t *j;

	f->ice = NULL; /* the op answers NULL: an empty array */
	enter(f, 0, "r", NULL);
	j = pop_type(f, 0, "welcome");
	assert_true(json_is_array(json_object_get(j, "iceServers")));
	assert_int_equal(json_array_size(json_object_get(j, "iceServers")), 0);
	/* and with no ice op at all */
	f->ops.ice_json = NULL;
	f->ops.room_conf = NULL;
	f->ops.now_s = NULL;
	xr_hub_detach(f->hub, &f->p[0]);
	assert_int_equal(make_hub(f), 0);
	enter(f, 0, "r", NULL);
	j = pop_type(f, 0, "welcome");
	assert_int_equal(json_array_size(json_object_get(j, "iceServers")), 0);
}

static void peers_in_join_order(void **state)
{
	struct fx *f = *state;
	json_t *j, *a;

	enter(f, 0, "r", NULL);
	enter(f, 1, "r", NULL);
	enter(f, 2, "r", NULL);
	/* ids are distinct */
	assert_string_not_equal(f->p[0].id, f->p[1].id);
	assert_string_not_equal(f->p[1].id, f->p[2].id);
	assert_string_not_equal(f->p[0].id, f->p[2].id);

	j = pop_type(f, 1, "welcome");
	a = json_object_get(j, "peers");
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(json_string_value(json_array_get(a, 0)), f->p[0].id);
	j = pop_type(f, 2, "welcome");
	a = json_object_get(j, "peers");
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(json_string_value(json_array_get(a, 0)), f->p[0].id);
	assert_string_equal(json_string_value(json_array_get(a, 1)), f->p[1].id);

	/* the earlier peers hear of each arrival, in order; nobody of itself */
	pop_type(f, 0, "welcome");
	assert_string_equal(str(pop_type(f, 0, "peer-joined"), "id"), f->p[1].id);
	assert_string_equal(str(pop_type(f, 0, "peer-joined"), "id"), f->p[2].id);
	assert_int_equal(queued(f, 0), 0);
	assert_string_equal(str(pop_type(f, 1, "peer-joined"), "id"), f->p[2].id);
	assert_int_equal(queued(f, 1), 0);
	assert_int_equal(queued(f, 2), 0);
}

static void join_order_kept_across_a_leave(void **state)
{
	struct fx *f = *state;
	struct xr_room *r;
	json_t *a;

	enter(f, 0, "r", NULL);
	enter(f, 1, "r", NULL);
	enter(f, 2, "r", NULL);
	for (int i = 0; i < 3; i++)
		drain(f, i);
	xr_hub_detach(f->hub, &f->p[1]);
	assert_string_equal(str(pop_type(f, 0, "peer-left"), "id"), f->p[1].id);
	assert_string_equal(str(pop_type(f, 2, "peer-left"), "id"), f->p[1].id);
	assert_int_equal(queued(f, 0), 0);
	enter(f, 3, "r", NULL);
	a = json_object_get(pop_type(f, 3, "welcome"), "peers");
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(json_string_value(json_array_get(a, 0)), f->p[0].id);
	assert_string_equal(json_string_value(json_array_get(a, 1)), f->p[2].id);
	r = xr_hub_room(f->hub, "r");
	assert_ptr_equal(r->peers[0], &f->p[0]);
	assert_ptr_equal(r->peers[1], &f->p[2]);
	assert_ptr_equal(r->peers[2], &f->p[3]);
}

static void join_order_kept_when_the_first_leaves(void **state)
{
	struct fx *f = *state;
	json_t *a;

	f->lim.max_peers = 5;
	assert_int_equal(make_hub(f), 0);
	for (int i = 0; i < 4; i++)
		enter(f, i, "r", NULL);
	xr_hub_detach(f->hub, &f->p[0]);
	xr_hub_detach(f->hub, &f->p[2]);
	enter(f, 4, "r", NULL);
	a = json_object_get(pop_type(f, 4, "welcome"), "peers");
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(json_string_value(json_array_get(a, 0)), f->p[1].id);
	assert_string_equal(json_string_value(json_array_get(a, 1)), f->p[3].id);
}

static void already_joined(void **state)
{
	struct fx *f = *state;

	enter(f, 0, "r", "k");
	assert_int_equal(join(f, 0, "k"), XR_E_ALREADY_JOINED);
	assert_int_equal(f->p[0].state, XR_PEER_JOINED);
	assert_int_equal(xr_hub_room(f->hub, "r")->npeers, 1);
}

static void fresh_ids(void **state)
{
	struct fx *f = *state;
	char ids[64][XR_PEER_ID_LEN + 1];

	for (int n = 0; n < 64; n++) {
		enter(f, 0, "r", NULL);
		memcpy(ids[n], f->p[0].id, sizeof(ids[n]));
		assert_true(xr_peer_id_valid(ids[n], strlen(ids[n])));
		for (int k = 0; k < n; k++)
			assert_string_not_equal(ids[k], ids[n]);
		xr_hub_detach(f->hub, &f->p[0]);
	}
}

/* --- verifiers and capacity ------------------------------------------------------------ */

static void verifier_first_join_sets_it(void **state)
{
	struct fx *f = *state;

	enter(f, 0, "r", "secret-1");
	assert_true(xr_hub_room(f->hub, "r")->has_verifier);
	assert_int_equal(attach(f, 1, "r"), XR_OK);
	assert_int_equal(join(f, 1, "secret-2"), XR_E_FORBIDDEN);
	assert_int_equal(join(f, 1, "secret-"), XR_E_FORBIDDEN);
	assert_int_equal(join(f, 1, "secret-10"), XR_E_FORBIDDEN);
	assert_int_equal(join(f, 1, NULL), XR_E_FORBIDDEN);
	assert_int_equal(join(f, 1, ""), XR_E_FORBIDDEN);
	assert_int_equal(f->p[1].state, XR_PEER_WAITING);
	assert_int_equal(queued(f, 1), 0); /* the hub sends nothing itself */
	assert_int_equal(join(f, 1, "secret-1"), XR_OK);
	/* the room keeps a hash, not the secret */
	assert_memory_not_equal(xr_hub_room(f->hub, "r")->verifier, "secret-1", 8);
	/* a room of another id has its own (none here) */
	enter(f, 2, "other", NULL);
}

static void verifier_none_vs_some(void **state)
{
	struct fx *f = *state;

	enter(f, 0, "r", NULL);
	assert_false(xr_hub_room(f->hub, "r")->has_verifier);
	assert_int_equal(attach(f, 1, "r"), XR_OK);
	assert_int_equal(join(f, 1, "k"), XR_E_FORBIDDEN); /* none refuses some */
	assert_int_equal(join(f, 1, ""), XR_OK);             /* "" is none */
	/* a room made with "" has no verifier either */
	enter(f, 2, "s", "");
	assert_false(xr_hub_room(f->hub, "s")->has_verifier);
}

static void verifier_binary_safe(void **state)
{
	struct fx *f = *state;

	assert_int_equal(attach(f, 0, "r"), XR_OK);
	assert_int_equal(xr_hub_join(f->hub, &f->p[0], "a\0b", 3), XR_OK);
	assert_int_equal(attach(f, 1, "r"), XR_OK);
	assert_int_equal(xr_hub_join(f->hub, &f->p[1], "a\0c", 3), XR_E_FORBIDDEN);
	assert_int_equal(xr_hub_join(f->hub, &f->p[1], "a", 1), XR_E_FORBIDDEN);
	assert_int_equal(xr_hub_join(f->hub, &f->p[1], "a\0b", 3), XR_OK);
}

static void verifier_gone_with_the_room(void **state)
{
	struct fx *f = *state;

	enter(f, 0, "r", "old");
	xr_hub_detach(f->hub, &f->p[0]);
	assert_null(xr_hub_room(f->hub, "r"));
	enter(f, 1, "r", "new");
	assert_int_equal(attach(f, 2, "r"), XR_OK);
	assert_int_equal(join(f, 2, "old"), XR_E_FORBIDDEN);
	assert_int_equal(join(f, 2, "new"), XR_OK);
	xr_hub_detach(f->hub, &f->p[1]);
	xr_hub_detach(f->hub, &f->p[2]);
	enter(f, 3, "r", NULL); /* and a room without one after that */
}

static void forbidden_before_room_full(void **state)
{
	struct fx *f = *state;

	enter(f, 0, "r", "k");
	enter(f, 1, "r", "k");
	enter(f, 2, "r", "k");
	assert_int_equal(attach(f, 3, "r"), XR_OK);
	assert_int_equal(join(f, 3, "wrong"), XR_E_FORBIDDEN);
	assert_int_equal(join(f, 3, NULL), XR_E_FORBIDDEN);
	assert_int_equal(join(f, 3, "k"), XR_E_ROOM_FULL);
}

static void room_full(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 3; i++)
		enter(f, i, "r", NULL);
	for (int i = 0; i < 3; i++)
		drain(f, i);
	assert_int_equal(attach(f, 3, "r"), XR_OK);
	assert_int_equal(join(f, 3, NULL), XR_E_ROOM_FULL);
	assert_int_equal(f->p[3].state, XR_PEER_WAITING);
	assert_int_equal(xr_hub_room(f->hub, "r")->npeers, 3);
	assert_int_equal(f->hub->npeers, 3);
	for (int i = 0; i < 3; i++) /* nobody heard of it */
		assert_int_equal(queued(f, i), 0);
	/* a place frees up */
	xr_hub_detach(f->hub, &f->p[0]);
	assert_int_equal(join(f, 3, NULL), XR_OK);
}

static void max_rooms_server_busy(void **state)
{
	struct fx *f = *state;

	f->lim.max_rooms = 2;
	assert_int_equal(make_hub(f), 0);
	enter(f, 0, "a", NULL);
	enter(f, 1, "b", NULL);
	assert_int_equal(attach(f, 2, "c"), XR_OK);
	assert_int_equal(join(f, 2, NULL), XR_E_SERVER_BUSY);
	assert_null(xr_hub_room(f->hub, "c"));
	assert_int_equal(f->hub->rooms.count, 2);
	assert_int_equal(f->p[2].state, XR_PEER_WAITING);
	/* an existing room still takes peers */
	enter(f, 3, "a", NULL);
	/* and a room that empties makes space */
	xr_hub_detach(f->hub, &f->p[1]);
	assert_int_equal(join(f, 2, NULL), XR_OK);
}

static void max_connections(void **state)
{
	struct fx *f = *state;

	f->lim.max_connections = 2;
	assert_int_equal(make_hub(f), 0);
	assert_int_equal(attach(f, 0, "r"), XR_OK);
	assert_int_equal(attach(f, 1, "r"), XR_OK);
	assert_int_equal(attach(f, 2, "r"), XR_E_SERVER_BUSY);
	/* attached either way, so the caller closes it through the hub */
	assert_true(f->p[2].attached);
	assert_int_equal(f->hub->nconns, 3);
	xr_hub_close(f->hub, &f->p[2], XR_CLOSE_TRY_LATER);
	assert_closing(f, 2, XR_CLOSE_TRY_LATER);
	xr_hub_detach(f->hub, &f->p[2]);
	assert_int_equal(f->hub->nconns, 2);
	xr_hub_detach(f->hub, &f->p[0]);
	assert_int_equal(attach(f, 3, "r"), XR_OK);
	assert_int_equal(attach(f, 4, "r"), XR_E_SERVER_BUSY);
}

static void room_conf_from_the_operator(void **state)
{
	struct fx *f = *state;
	json_t *j;

	strcpy(f->conf_room, "op");
	f->conf.max_peers = 2; /* below the server's 3 */
	strcpy(f->conf.title, "Stand-up \"daily\"");
	enter(f, 0, "op", NULL);
	j = pop_type(f, 0, "welcome");
	assert_int_equal(json_integer_value(json_object_get(j, "maxPeers")), 2);
	assert_string_equal(str(j, "title"), "Stand-up \"daily\"");
	enter(f, 1, "op", NULL);
	assert_int_equal(attach(f, 2, "op"), XR_OK);
	assert_int_equal(join(f, 2, NULL), XR_E_ROOM_FULL);
	/* above the server's limit it does not raise it */
	f->conf.max_peers = 50;
	assert_int_equal(join(f, 2, NULL), XR_OK);
	assert_int_equal(attach(f, 3, "op"), XR_OK);
	assert_int_equal(join(f, 3, NULL), XR_E_ROOM_FULL);
	/* other rooms are not touched */
	enter(f, 4, "plain", NULL);
	assert_null(json_object_get(pop_type(f, 4, "welcome"), "title"));
}

static void room_locked_and_expired(void **state)
{
	struct fx *f = *state;

	strcpy(f->conf_room, "op");
	enter(f, 0, "op", "k");
	f->conf.locked = true;
	assert_int_equal(attach(f, 1, "op"), XR_OK);
	assert_int_equal(join(f, 1, "x"), XR_E_FORBIDDEN); /* verifier first */
	assert_int_equal(join(f, 1, "k"), XR_E_ROOM_LOCKED);
	f->conf.locked = false;
	f->conf.expires_at = f->now_s + 1;
	assert_int_equal(join(f, 1, "k"), XR_OK);
	f->now_s++;
	assert_int_equal(attach(f, 2, "op"), XR_OK);
	assert_int_equal(join(f, 2, "k"), XR_E_ROOM_EXPIRED);
}

/* --- relay ------------------------------------------------------------------------------- */

static void relay_refusals(void **state)
{
	struct fx *f = *state;
	char longer[XR_PEER_ID_LEN + 2];

	enter(f, 0, "a", NULL);
	enter(f, 1, "a", NULL);
	enter(f, 2, "b", NULL);
	assert_int_equal(attach(f, 3, "a"), XR_OK); /* waiting, no id */
	for (int i = 0; i < 3; i++)
		drain(f, i);

#define RELAY(to, n) xr_hub_relay(f->hub, &f->p[0], (to), (n), "1", 1, 40)
	assert_int_equal(RELAY("AAAAAAAAAAAAAAAA", 16), XR_E_UNKNOWN_PEER);
	assert_int_equal(RELAY("short", 5), XR_E_UNKNOWN_PEER);
	assert_int_equal(RELAY("", 0), XR_E_UNKNOWN_PEER);
	assert_int_equal(RELAY("AAAAAAAAAAAAAAA=", 16), XR_E_UNKNOWN_PEER);
	/* own id, another room's peer, a known id with a byte more or less */
	assert_int_equal(RELAY(f->p[0].id, 16), XR_E_UNKNOWN_PEER);
	assert_int_equal(RELAY(f->p[2].id, 16), XR_E_UNKNOWN_PEER);
	snprintf(longer, sizeof(longer), "%sx", f->p[1].id);
	assert_int_equal(RELAY(longer, 17), XR_E_UNKNOWN_PEER);
	assert_int_equal(RELAY(f->p[1].id, 15), XR_E_UNKNOWN_PEER);
	/* the id of a peer that has left */
	memcpy(longer, f->p[1].id, 17);
	xr_hub_detach(f->hub, &f->p[1]);
	assert_int_equal(RELAY(longer, 16), XR_E_UNKNOWN_PEER);
#undef RELAY
	/* nothing was delivered anywhere, nothing counted */
	assert_int_equal(queued(f, 2), 0);
	assert_int_equal(queued(f, 3), 0);
	assert_int_equal(f->hub->stats.relayed, 0);
	assert_int_equal(f->hub->stats.relayed_bytes, 0);
}

static void relay_delivers_data_bytes(void **state)
{
	struct fx *f = *state;
	static const char data[] = "{\"sdp\" : \"v=0\\r\\n\",\"x\":[1.50, -0]}";
	char expect[256];
	struct xr_buf *b;
	json_t *j;

	enter(f, 0, "a", NULL);
	enter(f, 1, "a", NULL);
	drain(f, 0);
	drain(f, 1);
	assert_int_equal(xr_hub_relay(f->hub, &f->p[0], f->p[1].id, 16, data,
				      strlen(data), 123), XR_OK);
	assert_int_equal(queued(f, 0), 0);
	assert_int_equal(queued(f, 1), 1);
	b = xr_outq_peek(&f->p[1].q);
	snprintf(expect, sizeof(expect),
		 "{\"type\":\"signal\",\"from\":\"%s\",\"data\":%s}", f->p[0].id, data);
	assert_int_equal(b->len, strlen(expect));
	assert_memory_equal(xr_buf_payload(b), expect, b->len);
	j = pop_type(f, 1, "signal");
	assert_string_equal(str(j, "from"), f->p[0].id);
	assert_int_equal(f->hub->stats.relayed, 1);
	assert_int_equal(f->hub->stats.relayed_bytes, 123);
}

static void relay_order(void **state)
{
	struct fx *f = *state;
	char data[16];

	enter(f, 0, "a", NULL);
	enter(f, 1, "a", NULL);
	enter(f, 2, "a", NULL);
	for (int i = 0; i < 3; i++)
		drain(f, i);
	for (int n = 0; n < 20; n++) {
		int from = n % 3 == 2 ? 2 : 0;
		snprintf(data, sizeof(data), "%d", n);
		assert_int_equal(xr_hub_relay(f->hub, &f->p[from], f->p[1].id, 16,
					      data, strlen(data), 10), XR_OK);
	}
	for (int n = 0; n < 20; n++) {
		json_t *j = pop_type(f, 1, "signal");
		assert_int_equal(json_integer_value(json_object_get(j, "data")), n);
		assert_string_equal(str(j, "from"), f->p[n % 3 == 2 ? 2 : 0].id);
	}
	assert_int_equal(queued(f, 1), 0);
	assert_int_equal(f->hub->stats.relayed, 20);
	assert_int_equal(f->hub->stats.relayed_bytes, 200);
}

/* --- leaving ------------------------------------------------------------------------------ */

static void peer_left_on_detach(void **state)
{
	struct fx *f = *state;

	enter(f, 0, "a", NULL);
	enter(f, 1, "a", NULL);
	enter(f, 2, "b", NULL);
	for (int i = 0; i < 3; i++)
		drain(f, i);
	xr_hub_detach(f->hub, &f->p[1]);
	assert_int_equal(f->p[1].state, XR_PEER_DEAD);
	assert_false(f->p[1].attached);
	assert_null(f->p[1].room);
	assert_string_equal(str(pop_type(f, 0, "peer-left"), "id"), f->p[1].id);
	assert_int_equal(queued(f, 0), 0);
	assert_int_equal(queued(f, 2), 0); /* another room hears nothing */
	assert_int_equal(f->hub->npeers, 2);
	assert_int_equal(f->hub->nconns, 2);
	/* detach is idempotent */
	xr_hub_detach(f->hub, &f->p[1]);
	assert_int_equal(f->hub->npeers, 2);
	assert_int_equal(f->hub->nconns, 2);
	assert_int_equal(queued(f, 0), 0);
	/* a waiting peer leaves silently */
	assert_int_equal(attach(f, 3, "a"), XR_OK);
	xr_hub_detach(f->hub, &f->p[3]);
	assert_int_equal(queued(f, 0), 0);
	assert_null(f->hub->wait_head);
	assert_null(f->hub->wait_tail);
}

static void detach_from_the_middle_of_the_wait_list(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 4; i++)
		assert_int_equal(attach_at(f, i, "w", 100 * i), XR_OK);
	xr_hub_detach(f->hub, &f->p[1]);
	xr_hub_detach(f->hub, &f->p[3]); /* the tail */
	assert_ptr_equal(f->hub->wait_head, &f->p[0]);
	assert_ptr_equal(f->hub->wait_tail, &f->p[2]);
	assert_int_equal(attach_at(f, 4, "w", 400), XR_OK);
	assert_ptr_equal(f->hub->wait_tail, &f->p[4]);
	xr_hub_detach(f->hub, &f->p[0]); /* the head */
	assert_ptr_equal(f->hub->wait_head, &f->p[2]);
	assert_ptr_equal(f->hub->wait_head->next, &f->p[4]);
	assert_null(f->hub->wait_head->prev);
}

static void room_freed_when_empty(void **state)
{
	struct fx *f = *state;

	enter(f, 0, "a", "k");
	enter(f, 1, "a", "k");
	enter(f, 2, "b", NULL);
	assert_int_equal(f->hub->rooms.count, 2);
	xr_hub_detach(f->hub, &f->p[0]);
	assert_non_null(xr_hub_room(f->hub, "a"));
	xr_hub_detach(f->hub, &f->p[1]);
	assert_null(xr_hub_room(f->hub, "a"));
	assert_int_equal(f->hub->rooms.count, 1);
	xr_hub_close(f->hub, &f->p[2], XR_CLOSE_NORMAL); /* leaves at close */
	assert_null(xr_hub_room(f->hub, "b"));
	assert_int_equal(f->hub->rooms.count, 0);
	assert_int_equal(f->hub->npeers, 0);
	assert_int_equal(f->hub->peers.count, 0);
	assert_int_equal(f->hub->nconns, 1);
}

static void close_leaves_at_once(void **state)
{
	struct fx *f = *state;

	enter(f, 0, "a", NULL);
	enter(f, 1, "a", NULL);
	drain(f, 0);
	drain(f, 1);
	xr_hub_close(f->hub, &f->p[1], XR_CLOSE_NORMAL);
	assert_closing(f, 1, XR_CLOSE_NORMAL);
	assert_string_equal(str(pop_type(f, 0, "peer-left"), "id"), f->p[1].id);
	assert_int_equal(xr_hub_room(f->hub, "a")->npeers, 1);
	/* closing twice changes nothing */
	xr_hub_close(f->hub, &f->p[1], XR_CLOSE_POLICY);
	assert_int_equal(f->p[1].close_code, XR_CLOSE_NORMAL);
	assert_int_equal(queued(f, 0), 0);
	/* a closing peer is no longer a relay target */
	assert_int_equal(xr_hub_relay(f->hub, &f->p[0], f->p[1].id, 16, "1", 1, 1),
			 XR_E_UNKNOWN_PEER);
	/* but what is queued for it still goes out before the close */
	xr_hub_send_error(f->hub, &f->p[1], XR_E_KICKED);
	pop_error(f, 1, "kicked");
}

/* --- the join deadline ---------------------------------------------------------------------- */

static void join_deadline(void **state)
{
	struct fx *f = *state;

	assert_int_equal(attach_at(f, 0, "a", 1000), XR_OK);
	assert_int_equal(attach_at(f, 1, "a", 5000), XR_OK);
	assert_int_equal(attach_at(f, 2, "a", 6000), XR_OK);
	assert_int_equal(join(f, 2, NULL), XR_OK);
	/* pings do not extend the deadline */
	handle_at(f, 0, "{\"type\":\"ping\"}", 10000);
	pop_type(f, 0, "pong");

	xr_hub_tick(f->hub, 10999);
	assert_int_equal(f->p[0].state, XR_PEER_WAITING);
	xr_hub_tick(f->hub, 11000);
	assert_closing(f, 0, XR_CLOSE_POLICY);
	assert_int_equal(f->p[1].state, XR_PEER_WAITING);
	assert_false(on_wait_list(f, 0));
	assert_ptr_equal(f->hub->wait_head, &f->p[1]);
	xr_hub_tick(f->hub, 14999);
	assert_int_equal(f->p[1].state, XR_PEER_WAITING);
	xr_hub_tick(f->hub, 15000);
	assert_closing(f, 1, XR_CLOSE_POLICY);
	assert_null(f->hub->wait_head);
	assert_null(f->hub->wait_tail);
	/* the joined peer is never on the deadline */
	xr_hub_tick(f->hub, INT64_C(1) << 50);
	assert_int_equal(f->p[2].state, XR_PEER_JOINED);
	/* messages from a closed peer are ignored */
	handle_at(f, 0, "{\"type\":\"join\"}", 20000);
	assert_int_equal(f->p[0].state, XR_PEER_CLOSING);
	assert_int_equal(queued(f, 0), 0);
}

static void deadline_many_at_once(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 6; i++)
		assert_int_equal(attach_at(f, i, "a", 1000 + i), XR_OK);
	assert_int_equal(join(f, 3, NULL), XR_OK); /* joined in time */
	xr_hub_close(f->hub, &f->p[4], XR_CLOSE_NORMAL); /* left in time */
	xr_hub_tick(f->hub, 11004);
	for (int i = 0; i < 5; i++)
		if (i != 3 && i != 4)
			assert_closing(f, i, XR_CLOSE_POLICY);
	assert_int_equal(f->p[3].state, XR_PEER_JOINED);
	assert_int_equal(f->p[4].close_code, XR_CLOSE_NORMAL);
	assert_int_equal(f->p[5].state, XR_PEER_WAITING);
	assert_ptr_equal(f->hub->wait_head, &f->p[5]);
}

/* --- laggards ------------------------------------------------------------------------------ */

static void queue_overflow_kills(void **state)
{
	struct fx *f = *state;
	char data[202];
	const size_t sig_len = strlen("{\"type\":\"signal\",\"from\":\"\",\"data\":}") +
			       XR_PEER_ID_LEN + sizeof(data);
	int n;

	f->lim.max_queued_bytes = 600;
	assert_int_equal(make_hub(f), 0);
	enter(f, 0, "a", NULL);
	enter(f, 1, "a", NULL);
	drain(f, 1);
	memset(data, 'x', sizeof(data));
	data[0] = data[sizeof(data) - 1] = '"';
	/* p0 never reads: relays pile up until the cap */
	for (n = 0; n < 10 && f->c[0].kills == 0; n++) {
		size_t before = f->p[0].q.bytes;
		assert_int_equal(xr_hub_relay(f->hub, &f->p[1], f->p[0].id, 16, data,
					      sizeof(data), 250), XR_OK);
		if (f->c[0].kills)
			assert_true(before + sig_len > 600);
		else
			assert_true(f->p[0].q.bytes <= 600);
	}
	assert_int_equal(f->c[0].kills, 1);
	assert_int_equal(f->c[0].kill_code, XR_CLOSE_POLICY);
	assert_true(f->c[0].dead_when_killed);
	assert_int_equal(f->p[0].state, XR_PEER_DEAD);
	assert_int_equal(queued(f, 0), 0); /* its queue is dropped at once */
	assert_null(f->p[0].q.ring);
	assert_int_equal(f->hub->stats.relayed, (uint64_t)(n - 1));
	/* more for it is neither queued nor a second kill */
	assert_int_equal(xr_hub_relay(f->hub, &f->p[1], f->p[0].id, 16, "1", 1, 9),
			 XR_OK);
	assert_int_equal(queued(f, 0), 0);
	enter(f, 2, "a", NULL);
	assert_int_equal(queued(f, 0), 0);
	assert_int_equal(f->c[0].kills, 1);
	xr_hub_close(f->hub, &f->p[0], XR_CLOSE_NORMAL); /* no effect */
	assert_int_equal(f->p[0].state, XR_PEER_DEAD);
	/* the others learn it left when the transport detaches it */
	drain(f, 1);
	xr_hub_detach(f->hub, &f->p[0]);
	assert_string_equal(str(pop_type(f, 1, "peer-left"), "id"), f->p[0].id);
	assert_int_equal(f->c[1].kills, 0);
}

static void send_refuses_dead_and_null(void **state)
{
	struct fx *f = *state;
	struct xr_buf *b = xr_buf_new(5000);

	f->lim.max_queued_bytes = 4096;
	assert_int_equal(make_hub(f), 0);
	assert_int_equal(attach(f, 0, "a"), XR_OK);
	assert_int_equal(xr_hub_send(f->hub, &f->p[0], NULL), -ENOMEM);
	assert_int_equal(f->c[0].kills, 0);
	/* an empty queue takes one buffer over the cap ... */
	assert_int_equal(xr_hub_send(f->hub, &f->p[0], b), 0);
	assert_int_equal(f->c[0].kills, 0);
	assert_int_equal(b->refs, 2);
	/* ... but not a byte more behind it */
	assert_int_equal(xr_hub_send(f->hub, &f->p[0], b), -ENOBUFS);
	assert_int_equal(f->c[0].kills, 1);
	assert_int_equal(b->refs, 1);
	assert_int_equal(queued(f, 0), 0);
	assert_int_equal(xr_hub_send(f->hub, &f->p[0], b), -EPIPE);
	assert_int_equal(f->c[0].kills, 1);
	xr_buf_unref(b);
	/* a dead waiting peer is still taken off the deadline list */
	xr_hub_tick(f->hub, 1000000);
	assert_null(f->hub->wait_head);
	assert_int_equal(f->p[0].state, XR_PEER_DEAD);
}

static void send_error_counts(void **state)
{
	struct fx *f = *state;

	assert_int_equal(attach(f, 0, "a"), XR_OK);
	xr_hub_send_error(f->hub, &f->p[0], XR_E_BAD_JSON);
	xr_hub_send_error(f->hub, &f->p[0], XR_E_BAD_JSON);
	xr_hub_send_error(f->hub, &f->p[0], XR_E_UNKNOWN_PEER);
	assert_int_equal(f->hub->stats.errors[XR_E_BAD_JSON], 2);
	assert_int_equal(f->hub->stats.errors[XR_E_UNKNOWN_PEER], 1);
	pop_error(f, 0, "bad-json");
	pop_error(f, 0, "bad-json");
	pop_error(f, 0, "unknown-peer");
	assert_int_equal(f->p[0].state, XR_PEER_WAITING); /* sending closes nothing */
}

/* --- shutdown and operator closes ----------------------------------------------------- */

static void close_all(void **state)
{
	struct fx *f = *state;

	enter(f, 0, "a", NULL);
	enter(f, 1, "a", NULL);
	enter(f, 2, "b", NULL);
	assert_int_equal(attach(f, 3, "c"), XR_OK);
	assert_int_equal(attach(f, 4, "c"), XR_OK);
	xr_hub_close_all(f->hub, XR_CLOSE_GOING_AWAY);
	for (int i = 0; i < 5; i++)
		assert_closing(f, i, XR_CLOSE_GOING_AWAY);
	assert_null(f->hub->wait_head);
	assert_null(f->hub->wait_tail);
	assert_int_equal(f->hub->npeers, 0);
	assert_int_equal(f->hub->rooms.count, 0);
	assert_int_equal(f->hub->nconns, 5); /* until the transport detaches */
	/* nothing later reopens them */
	xr_hub_tick(f->hub, INT64_C(1) << 40);
	handle(f, 3, "{\"type\":\"join\"}");
	assert_int_equal(f->p[3].state, XR_PEER_CLOSING);
	for (int i = 0; i < 5; i++)
		xr_hub_detach(f->hub, &f->p[i]);
	assert_int_equal(f->hub->nconns, 0);
}

static void close_room(void **state)
{
	struct fx *f = *state;

	enter(f, 0, "a", NULL);
	enter(f, 1, "a", NULL);
	enter(f, 2, "a", NULL);
	enter(f, 3, "b", NULL);
	assert_int_equal(attach(f, 4, "a"), XR_OK); /* waiting: not in the room */
	for (int i = 0; i < 4; i++)
		drain(f, i);
	assert_int_equal(xr_hub_close_room(f->hub, "a", XR_E_ROOM_CLOSED,
					   XR_CLOSE_NORMAL), 3);
	for (int i = 0; i < 3; i++) {
		bool seen = false;
		assert_closing(f, i, XR_CLOSE_NORMAL);
		while (queued(f, i)) {
			json_t *j = pop(f, i);
			if (!strcmp(str(j, "type"), "error")) {
				assert_string_equal(str(j, "code"), "room-closed");
				seen = true;
			}
		}
		assert_true(seen);
	}
	assert_null(xr_hub_room(f->hub, "a"));
	assert_int_equal(f->hub->stats.errors[XR_E_ROOM_CLOSED], 3);
	assert_int_equal(f->p[3].state, XR_PEER_JOINED);
	assert_int_equal(queued(f, 3), 0);
	assert_int_equal(f->p[4].state, XR_PEER_WAITING);
	assert_int_equal(xr_hub_room(f->hub, "b")->npeers, 1);
	assert_int_equal(xr_hub_close_room(f->hub, "a", XR_E_ROOM_CLOSED,
					   XR_CLOSE_NORMAL), 0);
	assert_int_equal(xr_hub_close_room(f->hub, "zzz", XR_E_KICKED,
					   XR_CLOSE_NORMAL), 0);
	/* the waiting peer may make the room anew */
	assert_int_equal(join(f, 4, NULL), XR_OK);
}

static void close_room_with_a_dead_peer(void **state)
{
	struct fx *f = *state;
	struct xr_buf *big = xr_buf_new(8192);

	f->lim.max_queued_bytes = 4096;
	assert_int_equal(make_hub(f), 0);
	enter(f, 0, "a", NULL);
	enter(f, 1, "a", NULL);
	enter(f, 2, "a", NULL);
	assert_int_equal(xr_hub_send(f->hub, &f->p[1], big), -ENOBUFS);
	xr_buf_unref(big);
	assert_int_equal(f->p[1].state, XR_PEER_DEAD);
	assert_int_equal(xr_hub_close_room(f->hub, "a", XR_E_ROOM_CLOSED,
					   XR_CLOSE_NORMAL), 3);
	assert_null(xr_hub_room(f->hub, "a"));
	assert_int_equal(f->hub->npeers, 0);
	assert_int_equal(f->hub->peers.count, 0);
	assert_closing(f, 0, XR_CLOSE_NORMAL);
	assert_closing(f, 2, XR_CLOSE_NORMAL);
	assert_int_equal(f->p[1].state, XR_PEER_DEAD);
	assert_null(f->p[1].room);
}

/* --- xr_dispatch_message end to end -------------------------------------------------------- */

static void handle_join_and_relay(void **state)
{
	struct fx *f = *state;
	static const char sig[] = "{\"type\":\"signal\",\"to\":\"%s\","
				  "\"data\": {\"candidate\":\"c 1\",\"n\":1.0} }";
	char msg[256], expect[256];
	struct xr_buf *b;
	json_t *j;

	assert_int_equal(attach(f, 0, "a"), XR_OK);
	assert_int_equal(attach(f, 1, "a"), XR_OK);
	handle(f, 0, "{\"type\":\"join\",\"auth\":\"k\"}");
	j = pop_type(f, 0, "welcome");
	assert_string_equal(str(j, "id"), f->p[0].id);
	handle(f, 1, "{\"auth\":\"k\",\"type\":\"join\"}");
	pop_type(f, 1, "welcome");
	pop_type(f, 0, "peer-joined");

	snprintf(msg, sizeof(msg), sig, f->p[1].id);
	handle(f, 0, msg);
	b = xr_outq_peek(&f->p[1].q);
	assert_non_null(b);
	snprintf(expect, sizeof(expect), "{\"type\":\"signal\",\"from\":\"%s\","
		 "\"data\":{\"candidate\":\"c 1\",\"n\":1.0}}", f->p[0].id);
	assert_int_equal(b->len, strlen(expect));
	assert_memory_equal(xr_buf_payload(b), expect, b->len);
	pop_type(f, 1, "signal");
	assert_int_equal(queued(f, 0), 0); /* no answer to the sender */
	assert_int_equal(f->hub->stats.relayed, 1);
	assert_int_equal(f->hub->stats.relayed_bytes, strlen(msg));

	/* unknown, own and malformed targets: unknown-peer, still open */
	handle(f, 0, "{\"type\":\"signal\",\"to\":\"AAAAAAAAAAAAAAAA\",\"data\":1}");
	pop_error(f, 0, "unknown-peer");
	snprintf(msg, sizeof(msg), "{\"type\":\"signal\",\"to\":\"%s\",\"data\":1}",
		 f->p[0].id);
	handle(f, 0, msg);
	pop_error(f, 0, "unknown-peer");
	handle(f, 0, "{\"type\":\"signal\",\"to\":\"a/b\",\"data\":1}");
	pop_error(f, 0, "unknown-peer");
	handle(f, 0, "{\"type\":\"signal\",\"to\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
		  "\"data\":1}");
	pop_error(f, 0, "unknown-peer");
	assert_int_equal(f->p[0].state, XR_PEER_JOINED);
	assert_int_equal(queued(f, 1), 0);
	assert_int_equal(f->hub->stats.errors[XR_E_UNKNOWN_PEER], 4);
}

static void handle_errors_that_keep_the_socket(void **state)
{
	struct fx *f = *state;

	assert_int_equal(attach(f, 0, "a"), XR_OK);
	enter(f, 1, "a", NULL);
	handle(f, 0, "{\"type\":\"signal\",\"to\":\"AAAAAAAAAAAAAAAA\",\"data\":1}");
	pop_error(f, 0, "not-joined");
	handle(f, 0, "not json");
	pop_error(f, 0, "bad-json");
	handle(f, 0, "[1,2]");
	pop_error(f, 0, "bad-json");
	handle(f, 0, "{\"type\":\"ping\",\"id\":1e999}");
	pop_error(f, 0, "bad-json");
	handle(f, 0, "{\"type\":\"dance\"}");
	pop_error(f, 0, "bad-message");
	handle(f, 0, "{\"type\":\"signal\",\"to\":\"x\"}");
	pop_error(f, 0, "bad-message");
	handle(f, 0, "{\"type\":\"join\",\"auth\":\"\xc3\xa9\"}");
	pop_error(f, 0, "bad-message");
	assert_int_equal(f->p[0].state, XR_PEER_WAITING);
	assert_int_equal(f->c[0].kills, 0);
	handle(f, 0, "{\"type\":\"join\"}");
	pop_type(f, 0, "welcome");
	handle(f, 0, "{\"type\":\"join\"}");
	pop_error(f, 0, "already-joined");
	assert_int_equal(f->p[0].state, XR_PEER_JOINED);
	assert_int_equal(queued(f, 0), 0);
	assert_int_equal(f->hub->stats.errors[XR_E_BAD_JSON], 3);
	assert_int_equal(f->hub->stats.errors[XR_E_BAD_MESSAGE], 3);
}

static void handle_ping(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "{\"type\":\"ping\"}", "{\"type\":\"pong\"}" },
		{ "{\"type\":\"ping\",\"id\":\"x \\\"y\\\"\"}",
		  "{\"type\":\"pong\",\"id\":\"x \\\"y\\\"\"}" },
		{ "{\"type\":\"ping\",\"id\": 42 }", "{\"type\":\"pong\",\"id\":42}" },
		{ "{\"type\":\"ping\",\"id\":-1.25e-3}",
		  "{\"type\":\"pong\",\"id\":-1.25e-3}" },
		{ "{\"type\":\"ping\",\"id\":null}", "{\"type\":\"pong\",\"id\":null}" },
		{ "{\"type\":\"ping\",\"id\":false}", "{\"type\":\"pong\",\"id\":false}" },
	};

	assert_int_equal(attach(f, 0, "a"), XR_OK);
	enter(f, 1, "a", NULL);
	drain(f, 1);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (int who = 0; who < 2; who++) { /* waiting and joined */
			struct xr_buf *b;
			handle(f, who, t[i].in);
			b = xr_outq_peek(&f->p[who].q);
			assert_non_null(b);
			assert_int_equal(b->len, strlen(t[i].out));
			assert_memory_equal(xr_buf_payload(b), t[i].out, b->len);
			pop_type(f, who, "pong");
		}
	}
	handle(f, 0, "{\"type\":\"ping\",\"id\":[1]}");
	pop_error(f, 0, "bad-message");
}

static void handle_leave(void **state)
{
	struct fx *f = *state;

	enter(f, 0, "a", NULL);
	enter(f, 1, "a", NULL);
	drain(f, 0);
	drain(f, 1);
	handle(f, 1, "{\"type\":\"leave\"}");
	assert_closing(f, 1, XR_CLOSE_NORMAL);
	assert_int_equal(queued(f, 1), 0);
	assert_string_equal(str(pop_type(f, 0, "peer-left"), "id"), f->p[1].id);
	assert_int_equal(xr_hub_room(f->hub, "a")->npeers, 1);
	/* a waiting connection may leave too */
	assert_int_equal(attach(f, 2, "a"), XR_OK);
	handle(f, 2, "{\"type\":\"leave\"}");
	assert_closing(f, 2, XR_CLOSE_NORMAL);
	assert_false(on_wait_list(f, 2));
	assert_int_equal(queued(f, 0), 0);
}

static void handle_too_large(void **state)
{
	struct fx *f = *state;
	char msg[1100];
	size_t n;

	f->lim.max_message_bytes = 1024;
	assert_int_equal(make_hub(f), 0);
	assert_int_equal(attach(f, 0, "a"), XR_OK);
	assert_int_equal(attach(f, 1, "a"), XR_OK);
	/* exactly the limit is accepted */
	n = (size_t)snprintf(msg, sizeof(msg), "{\"type\":\"ping\",\"id\":\"");
	memset(msg + n, 'p', 1024 - n - 2);
	memcpy(msg + 1022, "\"}", 3);
	assert_int_equal(strlen(msg), 1024);
	handle(f, 0, msg);
	pop_type(f, 0, "pong");
	/* one byte more is too-large and closes 1009, valid JSON or not */
	memcpy(msg + 1022, "p\"}", 4);
	assert_int_equal(strlen(msg), 1025);
	handle(f, 0, msg);
	pop_error(f, 0, "too-large");
	assert_closing(f, 0, XR_CLOSE_TOO_BIG);
	memset(msg, 'z', 1025);
	xr_dispatch_message(f->hub, &f->p[1], msg, 1025, 2000);
	pop_error(f, 1, "too-large");
	assert_closing(f, 1, XR_CLOSE_TOO_BIG);
}

static void handle_join_refusals_close(void **state)
{
	struct fx *f = *state;

	f->lim.max_rooms = 1;
	f->lim.max_peers = 1;
	assert_int_equal(make_hub(f), 0);
	assert_int_equal(attach(f, 0, "a"), XR_OK);
	handle(f, 0, "{\"type\":\"join\",\"auth\":\"k\"}");
	pop_type(f, 0, "welcome");

	assert_int_equal(attach(f, 1, "a"), XR_OK);
	handle(f, 1, "{\"type\":\"join\",\"auth\":\"nope\"}");
	pop_error(f, 1, "forbidden");
	assert_closing(f, 1, XR_CLOSE_POLICY);
	assert_int_equal(queued(f, 1), 0);

	assert_int_equal(attach(f, 2, "a"), XR_OK);
	handle(f, 2, "{\"type\":\"join\",\"auth\":\"k\"}");
	pop_error(f, 2, "room-full");
	assert_closing(f, 2, XR_CLOSE_POLICY);

	assert_int_equal(attach(f, 3, "b"), XR_OK);
	handle(f, 3, "{\"type\":\"join\"}");
	pop_error(f, 3, "server-busy");
	assert_closing(f, 3, XR_CLOSE_TRY_LATER);
	assert_false(on_wait_list(f, 3));
	/* the member of the room heard nothing of any of it */
	assert_int_equal(queued(f, 0), 0);
	assert_int_equal(f->hub->stats.errors[XR_E_FORBIDDEN], 1);
	assert_int_equal(f->hub->stats.errors[XR_E_ROOM_FULL], 1);
	assert_int_equal(f->hub->stats.errors[XR_E_SERVER_BUSY], 1);
}

static void handle_rate_limit(void **state)
{
	struct fx *f = *state;
	static const char ping[] = "{\"type\":\"ping\"}";

	f->lim.messages_per_second = 1;
	f->lim.message_burst = 3;
	assert_int_equal(make_hub(f), 0);
	assert_int_equal(attach_at(f, 0, "a", 0), XR_OK);
	/* the burst */
	handle_at(f, 0, ping, 0);
	handle_at(f, 0, "garbage", 0); /* every message costs a token */
	handle_at(f, 0, ping, 0);
	pop_type(f, 0, "pong");
	pop_error(f, 0, "bad-json");
	pop_type(f, 0, "pong");
	/* second 0: one rate-limited error, then silence */
	handle_at(f, 0, ping, 0);
	pop_error(f, 0, "rate-limited");
	handle_at(f, 0, ping, 500);
	handle_at(f, 0, "{\"type\":\"join\"}", 600); /* dropped, not joined */
	assert_int_equal(queued(f, 0), 0);
	assert_int_equal(f->p[0].state, XR_PEER_WAITING);
	/* second 1: the refill lets one through, the next is dropped */
	handle_at(f, 0, ping, 1000);
	pop_type(f, 0, "pong");
	handle_at(f, 0, ping, 1001);
	pop_error(f, 0, "rate-limited");
	assert_int_equal(f->p[0].state, XR_PEER_WAITING);
	/* second 2: the third second in a row with drops closes 1008 */
	handle_at(f, 0, ping, 2000);
	pop_type(f, 0, "pong");
	handle_at(f, 0, ping, 2001);
	pop_error(f, 0, "rate-limited");
	assert_closing(f, 0, XR_CLOSE_POLICY);
	assert_int_equal(queued(f, 0), 0);
	handle_at(f, 0, ping, 9000);
	assert_int_equal(queued(f, 0), 0);
	assert_int_equal(f->hub->stats.errors[XR_E_RATE_LIMITED], 3);
}

static void handle_rate_limit_gap_forgives(void **state)
{
	struct fx *f = *state;
	static const char ping[] = "{\"type\":\"ping\"}";

	f->lim.messages_per_second = 1;
	f->lim.message_burst = 1;
	assert_int_equal(make_hub(f), 0);
	assert_int_equal(attach_at(f, 0, "a", 0), XR_OK);
	for (int64_t s = 0; s < 10; s++) {
		if (s % 3 == 2)
			continue; /* a quiet second every third */
		handle_at(f, 0, ping, s * 1000);
		pop_type(f, 0, "pong");
		handle_at(f, 0, ping, s * 1000 + 1);
		pop_error(f, 0, "rate-limited");
		assert_int_equal(f->p[0].state, XR_PEER_WAITING);
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(attach_waits),
		T(join_first_gets_welcome),
		T(welcome_without_ice_op),
		T(peers_in_join_order),
		T(join_order_kept_across_a_leave),
		T(join_order_kept_when_the_first_leaves),
		T(already_joined),
		T(fresh_ids),
		T(verifier_first_join_sets_it),
		T(verifier_none_vs_some),
		T(verifier_binary_safe),
		T(verifier_gone_with_the_room),
		T(forbidden_before_room_full),
		T(room_full),
		T(max_rooms_server_busy),
		T(max_connections),
		T(room_conf_from_the_operator),
		T(room_locked_and_expired),
		T(relay_refusals),
		T(relay_delivers_data_bytes),
		T(relay_order),
		T(peer_left_on_detach),
		T(detach_from_the_middle_of_the_wait_list),
		T(room_freed_when_empty),
		T(close_leaves_at_once),
		T(join_deadline),
		T(deadline_many_at_once),
		T(queue_overflow_kills),
		T(send_refuses_dead_and_null),
		T(send_error_counts),
		T(close_all),
		T(close_room),
		T(close_room_with_a_dead_peer),
		T(handle_join_and_relay),
		T(handle_errors_that_keep_the_socket),
		T(handle_ping),
		T(handle_leave),
		T(handle_too_large),
		T(handle_join_refusals_close),
		T(handle_rate_limit),
		T(handle_rate_limit_gap_forgives),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}

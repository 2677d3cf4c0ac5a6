/* admin.c: the room admin API. GET /api/rooms lists live and configured
 * rooms; GET/PUT/DELETE /api/rooms/<id> inspects, configures (kept in the
 * state directory) and forgets-and-closes; POST /api/rooms/<id>/kick
 * removes one peer. Answers carry ids, counts and settings only (a
 * single room's answer also its members' peer ids, to kick by). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "xroom/codec/ids.h"
#include "xroom/config/config.h"
#include "xroom/features/admin.h"
#include "xroom/features/apibody.h"
#include "xroom/features/roomconf.h"
#include "xroom/hub/room.h"
#include "xroom/util/log.h"

bool xr_admin_authorized(const struct xr_config *cfg,
			 const char *authorization, int len)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	bool ok;

	if (!cfg->has_admin || len < 8 || strncmp(authorization, "Bearer ", 7))
		return false;
	crypto_hash_sha256(h, (const unsigned char *)authorization + 7,
			   (size_t)len - 7);
	ok = sodium_memcmp(h, cfg->admin_sha256, sizeof(h)) == 0;
	sodium_memzero(h, sizeof(h));
	return ok;
}

static json_t *conf_json(const struct xr_room_conf *c)
{
	char *t = xr_roomconf_json(c);
	json_t *o = t ? json_loads(t, 0, NULL) : NULL;

	free(t);
	return o;
}

static json_t *room_json(struct xr_admin *a, const char *id, bool with_conf)
{
	struct xr_room *r = xr_hub_room(a->hub, id);
	const struct xr_room_conf *c = xr_roomconf_get(a->rooms, id);
	json_t *o = json_pack("{s:s,s:I}", "id", id, "peers",
			      (json_int_t)(r ? r->npeers : 0));

	json_object_set_new(o, "created_at", r ? json_integer(r->created_at) :
						   json_null());
	json_object_set_new(o, "configured", json_boolean(c != NULL));
	if (with_conf) {
		struct xr_room_conf none = { 0 };
		json_t *ids = json_array();

		/* Who to kick: the joined peers' ids, in join order; never
		 * more of them than the room relays to its own members. */
		for (uint32_t i = 0; r && i < r->npeers; i++)
			json_array_append_new(ids, json_string(r->peers[i]->id));
		json_object_set_new(o, "members", ids);
		json_object_set_new(o, "config", conf_json(c ? c : &none));
	}
	return o;
}

struct list {
	struct xr_admin *a;
	json_t *arr;
};

static void add_configured(void *arg, const struct xr_roomconf_entry *e)
{
	struct list *l = arg;

	if (!xr_hub_room(l->a->hub, e->id)) /* live ones are listed already */
		json_array_append_new(l->arr, room_json(l->a, e->id, false));
}

static void list_rooms(struct xr_admin *a, struct xr_answer *out)
{
	struct list l = { a, json_array() };
	struct xr_map *m = &a->hub->rooms;

	for (size_t i = 0; i < m->nslots; i++)
		for (struct xr_map_node *n = m->slots[i]; n; n = n->next) {
			struct xr_room *r = xr_container_of(n, struct xr_room, node);
			json_array_append_new(l.arr, room_json(a, r->id, false));
		}
	xr_roomconf_each(a->rooms, add_configured, &l);
	xr_answer_json(out, 200, l.arr);
}

static void persist(struct xr_admin *a)
{
	int rc = xr_roomconf_save(a->rooms, a->state_dir);

	if (rc)
		xr_error("admin: cannot save room settings: %s", strerror(-rc));
}

static void put_room(struct xr_admin *a, const char *id, const char *body,
		     size_t len, struct xr_answer *out)
{
	struct xr_room_conf c;
	char err[256];

	if (!body) {
		xr_answer_error(out, 400, "bad-request",
				"send the settings as a JSON object");
		return;
	}
	if (xr_roomconf_parse(body, len, a->cfg->max_peers, &c, err,
			      sizeof(err))) {
		xr_answer_error(out, 400, "bad-request", err);
		return;
	}
	if (xr_roomconf_set(a->rooms, id, &c)) {
		xr_answer_error(out, 503, "server-busy", "out of memory");
		return;
	}
	persist(a);
	xr_info("admin: room settings stored");
	xr_answer_json(out, 200, room_json(a, id, true));
}

static void kick(struct xr_admin *a, const char *id, const char *body,
		 size_t len, struct xr_answer *out)
{
	char pid[XR_PEER_ID_LEN + 1];
	int rc = xr_api_parse_kick(body, len, pid);

	if (rc == -EINVAL) {
		xr_answer_error(out, 400, "bad-request",
				"the body must be {\"peer\": \"<peer id>\"}");
		return;
	}
	if (!rc)
		rc = xr_hub_kick(a->hub, id, pid);
	if (rc) {
		xr_answer_error(out, 404, "unknown-peer",
				"no such peer in this room");
		return;
	}
	xr_answer_json(out, 200, json_pack("{s:s,s:s}", "id", id,
					   "kicked", pid));
}

static void delete_room(struct xr_admin *a, const char *id,
			struct xr_answer *out)
{
	bool had = xr_roomconf_del(a->rooms, id);
	unsigned n = xr_hub_close_room(a->hub, id, XR_E_ROOM_CLOSED,
				       XR_CLOSE_NORMAL);

	if (had)
		persist(a);
	if (!had && !n) {
		xr_answer_error(out, 404, "not-found",
				"no such room, live or configured");
		return;
	}
	xr_info("admin: a room was closed (%u peers)", n);
	xr_answer_json(out, 200, json_pack("{s:s,s:I}", "id", id,
					   "closed_peers", (json_int_t)n));
}

void xr_admin_rooms(struct xr_admin *a, enum xr_method method,
		    const char *path, const char *body, size_t len,
		    struct xr_answer *out)
{
	char id[XR_ROOM_ID_MAX + 1];
	const char *rest, *slash;
	size_t idlen;

	if (!strcmp(path, "/api/rooms")) {
		if (method != XR_METHOD_GET && method != XR_METHOD_HEAD)
			xr_answer_error(out, 405, "method-not-allowed", "use GET");
		else
			list_rooms(a, out);
		return;
	}
	rest = path + strlen("/api/rooms/");
	slash = strchr(rest, '/');
	idlen = slash ? (size_t)(slash - rest) : strlen(rest);
	if (!xr_room_id_valid(rest, idlen)) {
		xr_answer_error(out, 400, "bad-room", XR_ROOM_ID_RULE);
		return;
	}
	memcpy(id, rest, idlen);
	id[idlen] = '\0';

	if (slash) {
		if (strcmp(slash, "/kick"))
			xr_answer_error(out, 404, "not-found", "no such API route");
		else if (method != XR_METHOD_POST)
			xr_answer_error(out, 405, "method-not-allowed", "use POST");
		else
			kick(a, id, body, len, out);
		return;
	}
	switch (method) {
	case XR_METHOD_GET:
	case XR_METHOD_HEAD:
		if (!xr_hub_room(a->hub, id) && !xr_roomconf_get(a->rooms, id))
			xr_answer_error(out, 404, "not-found",
					"no such room, live or configured");
		else
			xr_answer_json(out, 200, room_json(a, id, true));
		return;
	case XR_METHOD_PUT:
		put_room(a, id, body, len, out);
		return;
	case XR_METHOD_DELETE:
		delete_room(a, id, out);
		return;
	default:
		xr_answer_error(out, 405, "method-not-allowed",
				"use GET, PUT or DELETE");
		return;
	}
}

struct expiry {
	struct xr_hub *hub;
	int64_t now;
};

static void expire_one(void *arg, const struct xr_roomconf_entry *e)
{
	struct expiry *x = arg;

	if (e->conf.expires_at && x->now >= e->conf.expires_at &&
	    xr_hub_room(x->hub, e->id))
		xr_hub_close_room(x->hub, e->id, XR_E_ROOM_EXPIRED,
				  XR_CLOSE_POLICY);
}

void xr_admin_expire(struct xr_admin *a, int64_t now_s)
{
	struct expiry x = { a->hub, now_s };

	xr_roomconf_each(a->rooms, expire_one, &x);
}

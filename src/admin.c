/* admin.c: the room admin API. GET /api/rooms lists live and configured
 * rooms; GET/PUT/DELETE /api/rooms/<id> inspects, configures (kept in the
 * state directory) and forgets-and-closes; POST /api/rooms/<id>/kick
 * removes one peer. Answers carry ids, counts and settings only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xroom/admin.h"
#include "xroom/apibody.h"
#include "xroom/http.h"
#include "xroom/log.h"
#include "xroom/proto.h"
#include "xroom/room.h"
#include "xroom/roomconf.h"
#include "xroom/server.h"

static int reply_json(struct lws *wsi, unsigned status, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int rc;

	json_decref(o);
	if (!text)
		return xr_http_fail(wsi, 503, "server-busy", "out of memory");
	rc = xr_http_reply(wsi, status, text, strlen(text));
	free(text);
	return rc;
}

static json_t *conf_json(const struct xr_room_conf *c)
{
	char *t = xr_roomconf_json(c);
	json_t *o = t ? json_loads(t, 0, NULL) : NULL;

	free(t);
	return o;
}

static json_t *room_json(struct xr_server *s, const char *id, bool with_conf)
{
	struct xr_room *r = xr_hub_room(s->hub, id);
	const struct xr_room_conf *c = xr_roomconf_get(&s->rooms, id);
	json_t *o = json_pack("{s:s,s:I}", "id", id, "peers",
			      (json_int_t)(r ? r->npeers : 0));

	json_object_set_new(o, "created_at", r ? json_integer(r->created_at) :
						   json_null());
	json_object_set_new(o, "configured", json_boolean(c != NULL));
	if (with_conf) {
		struct xr_room_conf none = { 0 };
		json_object_set_new(o, "config", conf_json(c ? c : &none));
	}
	return o;
}

struct list {
	struct xr_server *s;
	json_t *arr;
};

static void add_configured(void *arg, const struct xr_roomconf_entry *e)
{
	struct list *l = arg;

	if (!xr_hub_room(l->s->hub, e->id)) /* live ones are listed already */
		json_array_append_new(l->arr, room_json(l->s, e->id, false));
}

static int list_rooms(struct xr_server *s, struct lws *wsi)
{
	struct list l = { s, json_array() };
	struct xr_map *m = &s->hub->rooms;

	for (size_t i = 0; i < m->nslots; i++)
		for (struct xr_map_node *n = m->slots[i]; n; n = n->next) {
			struct xr_room *r = xr_container_of(n, struct xr_room, node);
			json_array_append_new(l.arr, room_json(s, r->id, false));
		}
	xr_roomconf_each(&s->rooms, add_configured, &l);
	return reply_json(wsi, 200, l.arr);
}

static void persist(struct xr_server *s)
{
	int rc = xr_roomconf_save(&s->rooms, s->state_dir);

	if (rc)
		xr_error("admin: cannot save room settings: %s", strerror(-rc));
}

static int put_room(struct xr_server *s, struct lws *wsi, const char *id,
		    const char *body, size_t len)
{
	struct xr_room_conf c;
	char err[256];

	if (!body)
		return xr_http_fail(wsi, 400, "bad-request",
				    "send the settings as a JSON object");
	if (xr_roomconf_parse(body, len, s->cfg.max_peers, &c, err, sizeof(err)))
		return xr_http_fail(wsi, 400, "bad-request", err);
	if (xr_roomconf_set(&s->rooms, id, &c))
		return xr_http_fail(wsi, 503, "server-busy", "out of memory");
	persist(s);
	xr_info("admin: room settings stored");
	return reply_json(wsi, 200, room_json(s, id, true));
}

static int kick(struct xr_server *s, struct lws *wsi, const char *id,
		const char *body, size_t len)
{
	char pid[XR_PEER_ID_LEN + 1];
	int rc = xr_api_parse_kick(body, len, pid);

	if (rc == -EINVAL)
		return xr_http_fail(wsi, 400, "bad-request",
				    "the body must be {\"peer\": \"<peer id>\"}");
	if (!rc)
		rc = xr_hub_kick(s->hub, id, pid);
	if (rc)
		return xr_http_fail(wsi, 404, "unknown-peer",
				    "no such peer in this room");
	return reply_json(wsi, 200, json_pack("{s:s,s:s}", "id", id,
					      "kicked", pid));
}

int xr_admin_rooms(struct xr_server *s, struct lws *wsi, int method,
		   const char *path, const char *body, size_t len)
{
	char id[XR_ROOM_ID_MAX + 1];
	const char *rest, *slash;
	size_t idlen;

	if (!strcmp(path, "/api/rooms")) {
		if (method != LWSHUMETH_GET && method != LWSHUMETH_HEAD)
			return xr_http_fail(wsi, 405, "method-not-allowed", "use GET");
		return list_rooms(s, wsi);
	}
	rest = path + strlen("/api/rooms/");
	slash = strchr(rest, '/');
	idlen = slash ? (size_t)(slash - rest) : strlen(rest);
	if (!xr_room_id_valid(rest, idlen))
		return xr_http_fail(wsi, 400, "bad-room",
				    "the room id must be 1 to 64 of A-Z a-z 0-9 _ -");
	memcpy(id, rest, idlen);
	id[idlen] = '\0';

	if (slash) {
		if (strcmp(slash, "/kick"))
			return xr_http_fail(wsi, 404, "not-found", "no such API route");
		if (method != LWSHUMETH_POST)
			return xr_http_fail(wsi, 405, "method-not-allowed", "use POST");
		return kick(s, wsi, id, body, len);
	}
	switch (method) {
	case LWSHUMETH_GET:
	case LWSHUMETH_HEAD:
		if (!xr_hub_room(s->hub, id) && !xr_roomconf_get(&s->rooms, id))
			return xr_http_fail(wsi, 404, "not-found",
					    "no such room, live or configured");
		return reply_json(wsi, 200, room_json(s, id, true));
	case LWSHUMETH_PUT:
		return put_room(s, wsi, id, body, len);
	case LWSHUMETH_DELETE: {
		bool had = xr_roomconf_del(&s->rooms, id);
		unsigned n = xr_hub_close_room(s->hub, id, XR_E_ROOM_CLOSED,
					       XR_CLOSE_NORMAL);
		if (had)
			persist(s);
		if (!had && !n)
			return xr_http_fail(wsi, 404, "not-found",
					    "no such room, live or configured");
		xr_info("admin: a room was closed (%u peers)", n);
		return reply_json(wsi, 200, json_pack("{s:s,s:I}", "id", id,
						      "closed_peers", (json_int_t)n));
	}
	default:
		return xr_http_fail(wsi, 405, "method-not-allowed",
				    "use GET, PUT or DELETE");
	}
}

struct expiry {
	struct xr_server *s;
	int64_t now;
};

static void expire_one(void *arg, const struct xr_roomconf_entry *e)
{
	struct expiry *x = arg;

	if (e->conf.expires_at && x->now >= e->conf.expires_at &&
	    xr_hub_room(x->s->hub, e->id))
		xr_hub_close_room(x->s->hub, e->id, XR_E_ROOM_EXPIRED,
				  XR_CLOSE_POLICY);
}

void xr_admin_expire(struct xr_server *s)
{
	struct expiry x = { s, xr_server_wall(s) };

	xr_roomconf_each(&s->rooms, expire_one, &x);
}

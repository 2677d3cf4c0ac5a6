/* roomconf.c: the operator's per-room settings. A map by room id; strict
 * parsing of the admin API's PUT body (each error names its member);
 * persistence in rooms.json through store.c, so settings survive restarts
 * and a corrupt file is never loaded silently. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xroom/codec/ids.h"
#include "xroom/codec/jscan.h"
#include "xroom/features/roomconf.h"
#include "xroom/util/store.h"

#define ROOMS_FILE "rooms.json"

void xr_roomconf_init(struct xr_roomconfs *rc) { xr_map_init(&rc->map); }

static void free_entry(struct xr_map_node *n)
{
	free(xr_container_of(n, struct xr_roomconf_entry, node));
}

void xr_roomconf_free(struct xr_roomconfs *rc)
{
	xr_map_drain(&rc->map, free_entry);
}

static struct xr_roomconf_entry *find(const struct xr_roomconfs *rc,
				      const char *id)
{
	struct xr_map_node *n = xr_map_find(&rc->map, id, strlen(id));

	return n ? xr_container_of(n, struct xr_roomconf_entry, node) : NULL;
}

const struct xr_room_conf *xr_roomconf_get(const struct xr_roomconfs *rc,
					   const char *id)
{
	struct xr_roomconf_entry *e = find(rc, id);

	return e ? &e->conf : NULL;
}

int xr_roomconf_set(struct xr_roomconfs *rc, const char *id,
		    const struct xr_room_conf *c)
{
	struct xr_roomconf_entry *e = find(rc, id);
	size_t len = strlen(id);

	if (!xr_room_id_valid(id, len))
		return -EINVAL;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		memcpy(e->id, id, len + 1);
		if (xr_map_insert(&rc->map, &e->node, e->id, len)) {
			free(e);
			return -ENOMEM;
		}
	}
	e->conf = *c;
	return 0;
}

bool xr_roomconf_del(struct xr_roomconfs *rc, const char *id)
{
	struct xr_roomconf_entry *e = find(rc, id);

	if (!e)
		return false;
	xr_map_remove(&rc->map, &e->node);
	free(e);
	return true;
}

void xr_roomconf_each(const struct xr_roomconfs *rc,
		      void (*fn)(void *arg, const struct xr_roomconf_entry *e),
		      void *arg)
{
	for (size_t i = 0; i < rc->map.nslots; i++)
		for (struct xr_map_node *n = rc->map.slots[i]; n; n = n->next)
			fn(arg, xr_container_of(n, struct xr_roomconf_entry, node));
}

/* Characters of a UTF-8 string, or -1 when it holds a control character. */
static long title_chars(const char *s)
{
	long n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return -1;
		if ((*p & 0xc0) != 0x80)
			n++;
	}
	return n;
}

static int from_json(json_t *o, uint32_t cap, struct xr_room_conf *out,
		     char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(o)) {
		snprintf(err, errlen, "the body must be a JSON object");
		return -EINVAL;
	}
	json_object_foreach(o, key, v) {
		if (!strcmp(key, "max_peers")) {
			if (json_is_null(v))
				continue;
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > cap) {
				snprintf(err, errlen, "max_peers: must be an "
					 "integer from 1 to %u", cap);
				return -EINVAL;
			}
			out->max_peers = (uint32_t)json_integer_value(v);
		} else if (!strcmp(key, "locked")) {
			if (!json_is_boolean(v)) {
				snprintf(err, errlen, "locked: must be true or false");
				return -EINVAL;
			}
			out->locked = json_is_true(v);
		} else if (!strcmp(key, "expires_at")) {
			if (json_is_null(v))
				continue;
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 253402300799LL) {
				snprintf(err, errlen, "expires_at: must be unix "
					 "seconds (an integer from 1 to 253402300799)");
				return -EINVAL;
			}
			out->expires_at = json_integer_value(v);
		} else if (!strcmp(key, "title")) {
			long n;
			if (json_is_null(v))
				continue;
			n = json_is_string(v) && strlen(json_string_value(v)) ==
				json_string_length(v) ? title_chars(json_string_value(v)) : -1;
			if (n < 0 || n > 80 || strlen(json_string_value(v)) >= sizeof(out->title)) {
				snprintf(err, errlen, "title: must be a string of at "
					 "most 80 characters, without control characters");
				return -EINVAL;
			}
			strcpy(out->title, json_string_value(v));
		} else {
			snprintf(err, errlen, "%.64s: unknown member (known: max_peers, "
				 "locked, expires_at, title)", key);
			return -EINVAL;
		}
	}
	return 0;
}

int xr_roomconf_parse(const char *body, size_t len, uint32_t cap,
		      struct xr_room_conf *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o;
	int rc;

	if (xr_jscan_depth(body, len, 4) > 4 || memchr(body, '\0', len)) {
		snprintf(err, errlen, "the body must be a flat JSON object");
		return -EINVAL;
	}
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		snprintf(err, errlen, "the body is not JSON: %s", jerr.text);
		return -EINVAL;
	}
	rc = from_json(o, cap, out, err, errlen);
	json_decref(o);
	return rc;
}

static json_t *to_json(const struct xr_room_conf *c)
{
	json_t *o = json_object();

	json_object_set_new(o, "max_peers", c->max_peers ?
			    json_integer(c->max_peers) : json_null());
	json_object_set_new(o, "locked", json_boolean(c->locked));
	json_object_set_new(o, "expires_at", c->expires_at ?
			    json_integer(c->expires_at) : json_null());
	json_object_set_new(o, "title", c->title[0] ?
			    json_string(c->title) : json_null());
	return o;
}

char *xr_roomconf_json(const struct xr_room_conf *c)
{
	json_t *o = to_json(c);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

static void add_entry(void *arg, const struct xr_roomconf_entry *e)
{
	json_object_set_new(arg, e->id, to_json(&e->conf));
}

int xr_roomconf_save(const struct xr_roomconfs *rc, const char *dir)
{
	json_t *root = json_pack("{s:i,s:{}}", "version", 1, "rooms");
	char *text;
	int r;

	if (!root)
		return -ENOMEM;
	xr_roomconf_each(rc, add_entry, json_object_get(root, "rooms"));
	text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	if (!text)
		return -ENOMEM;
	r = xr_store_write(dir, ROOMS_FILE, text, strlen(text));
	free(text);
	return r;
}

int xr_roomconf_load(struct xr_roomconfs *rc, const char *dir, uint32_t cap,
		     char *err, size_t errlen)
{
	char *body = NULL, why2[200] = "";
	const char *why = NULL, *id;
	json_error_t jerr;
	json_t *root = NULL, *rooms, *v;
	struct xr_roomconfs fresh;
	int r;

	err[0] = '\0';
	r = xr_store_read(dir, ROOMS_FILE, &body, &(size_t){ 0 }, 64u << 20, &why);
	if (r == -ENOENT)
		return 0;
	if (r && r != -EBADMSG) {
		snprintf(err, errlen, "%s/%s: %s", dir, ROOMS_FILE, strerror(-r));
		return r;
	}
	xr_roomconf_init(&fresh);
	if (!r) {
		root = json_loads(body, JSON_REJECT_DUPLICATES, &jerr);
		rooms = json_object_get(root, "rooms");
		why = "its content is not a rooms file";
		r = json_integer_value(json_object_get(root, "version")) == 1 &&
		    json_is_object(rooms) ? 0 : -EBADMSG;
		json_object_foreach(r ? NULL : rooms, id, v) {
			struct xr_room_conf c;
			/* A room cap lowered since is clamped, not refused. */
			if (json_is_integer(json_object_get(v, "max_peers")) &&
			    json_integer_value(json_object_get(v, "max_peers")) > cap)
				json_object_set_new(v, "max_peers", json_integer(cap));
			if (!xr_room_id_valid(id, strlen(id)) ||
			    from_json(v, cap, &c, why2, sizeof(why2)) ||
			    xr_roomconf_set(&fresh, id, &c)) {
				why = why2[0] ? why2 : "an invalid room entry";
				r = -EBADMSG;
				break;
			}
		}
	}
	free(body);
	json_decref(root);
	if (r) {
		xr_roomconf_free(&fresh);
		xr_store_set_aside(dir, ROOMS_FILE, why,
				   ", no room settings loaded", err, errlen);
		return 0;
	}
	xr_roomconf_free(rc);
	*rc = fresh;
	return 0;
}

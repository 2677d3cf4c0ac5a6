/* config_parse.c: a configuration document, strictly. Unknown members,
 * wrong types and values out of range are errors naming their JSON path
 * ("limits.max_message_bytes: must be an integer from 1024 to 1048576");
 * all of them are reported, not just the first. Size, NUL bytes, nesting
 * depth and duplicate keys are refused before anything is read. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xroom/codec/jscan.h"
#include "xroom/config/config.h"
#include "xroom/config/config_read.h"

#define CONFIG_MAX_BYTES (1 << 20)
#define CONFIG_MAX_DEPTH 32

/* --- value checks -------------------------------------------------------- */

static bool is_origin(const char *s)
{
	const char *h;

	if (!strncmp(s, "http://", 7))
		h = s + 7;
	else if (!strncmp(s, "https://", 8))
		h = s + 8;
	else
		return false;
	if (!*h)
		return false;
	for (; *h; h++)
		if (!(isalnum((unsigned char)*h) || strchr(".-:[]", *h)))
			return false;
	return true;
}

static bool is_stun(const char *s)
{
	return !strncmp(s, "stun:", 5) || !strncmp(s, "stuns:", 6);
}

static bool is_turn(const char *s)
{
	return !strncmp(s, "turn:", 5) || !strncmp(s, "turns:", 6);
}

static bool is_token(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("-_.", *s)))
			return false;
	return true;
}

/* --- sections -------------------------------------------------------------- */

static void parse_rooms(struct xr_cfg_reader *x, json_t *o)
{
	static const char *const k[] = { "max_peers", "max_rooms", NULL };

	xr_cfg_only(x, "rooms", o, k);
	xr_cfg_uint(x, o, "rooms", "max_peers", 1, 64, &x->c->max_peers);
	xr_cfg_uint(x, o, "rooms", "max_rooms", 1, 1000000, &x->c->max_rooms);
}

static void parse_limits(struct xr_cfg_reader *x, json_t *o)
{
	static const char *const k[] = { "max_connections", "max_message_bytes",
		"max_queued_bytes", "messages_per_second", "message_burst",
		"idle_timeout_s", NULL };
	struct xr_config *c = x->c;

	xr_cfg_only(x, "limits", o, k);
	xr_cfg_uint(x, o, "limits", "max_connections", 1, 1000000,
		    &c->max_connections);
	xr_cfg_uint(x, o, "limits", "max_message_bytes", 1024, 1048576,
		    &c->max_message_bytes);
	xr_cfg_uint(x, o, "limits", "max_queued_bytes", 4096, 268435456,
		    &c->max_queued_bytes);
	xr_cfg_uint(x, o, "limits", "messages_per_second", 1, 10000,
		    &c->messages_per_second);
	xr_cfg_uint(x, o, "limits", "message_burst", 1, 100000,
		    &c->message_burst);
	xr_cfg_uint(x, o, "limits", "idle_timeout_s", 2, 3600, &c->idle_timeout_s);
}

static void parse_ice(struct xr_cfg_reader *x, json_t *o)
{
	static const char *const k[] = { "stun", "turn", NULL };
	static const char *const tk[] = { "urls", "secret", "ttl_s", NULL };
	struct xr_config *c = x->c;
	json_t *t;

	xr_cfg_only(x, "ice", o, k);
	xr_cfg_strings(x, o, "ice", "stun", is_stun, "a stun: or stuns: URL",
		       false, &c->stun, &c->nstun);
	t = xr_cfg_object(x, o, "ice", "turn");
	if (!t)
		return;
	xr_cfg_only(x, "ice.turn", t, tk);
	if (!json_object_get(t, "urls"))
		xr_cfg_err(x, "ice.turn.urls", "is required");
	if (!json_object_get(t, "secret"))
		xr_cfg_err(x, "ice.turn.secret", "is required");
	xr_cfg_strings(x, t, "ice.turn", "urls", is_turn, "a turn: or turns: URL",
		       true, &c->turn_urls, &c->nturn);
	xr_cfg_string(x, t, "ice.turn", "secret", &c->turn_secret);
	xr_cfg_uint(x, t, "ice.turn", "ttl_s", 60, 604800, &c->turn_ttl_s);
}

static void parse_admin(struct xr_cfg_reader *x, json_t *o)
{
	static const char *const k[] = { "token_sha256", NULL };
	json_t *v = json_object_get(o, "token_sha256");
	const char *s;

	xr_cfg_only(x, "admin", o, k);
	if (!v) {
		xr_cfg_err(x, "admin.token_sha256", "is required");
		return;
	}
	s = json_is_string(v) ? json_string_value(v) : "";
	if (strlen(s) != 64 || strspn(s, "0123456789abcdefABCDEF") != 64) {
		xr_cfg_err(x, "admin.token_sha256", "must be 64 hexadecimal digits");
		return;
	}
	for (int i = 0; i < 32; i++) {
		unsigned b;
		sscanf(s + 2 * i, "%2x", &b);
		x->c->admin_sha256[i] = (unsigned char)b;
	}
	x->c->has_admin = true;
}

/* The "name" member of an experiment or a variant: a token, copied. */
static char *get_name(struct xr_cfg_reader *x, const char *path, json_t *o)
{
	json_t *n = json_object_get(o, "name");
	char pp[512];

	if (json_is_string(n) && is_token(json_string_value(n)))
		return xr_cfg_dup(x, json_string_value(n));
	snprintf(pp, sizeof(pp), "%s.name", path);
	xr_cfg_err(x, pp, "must be a name of 1 to 64 letters, digits, '-', '_' or '.'");
	return NULL;
}

static void parse_variant(struct xr_cfg_reader *x, const char *path, json_t *o,
			  struct xr_variant *v)
{
	static const char *const k[] = { "name", "weight", "params", NULL };
	json_t *p = json_object_get(o, "params");
	char pp[512];

	xr_cfg_only(x, path, o, k);
	v->name = get_name(x, path, o);
	v->weight = 1;
	snprintf(pp, sizeof(pp), "%s.weight", path);
	if (!json_object_get(o, "weight"))
		xr_cfg_err(x, pp, "is required");
	xr_cfg_uint(x, o, path, "weight", 0, 1000000, &v->weight);
	snprintf(pp, sizeof(pp), "%s.params", path);
	if (p && !json_is_object(p))
		xr_cfg_err(x, pp, "must be an object");
	v->params_json = p && json_is_object(p) ?
		json_dumps(p, JSON_COMPACT | JSON_REAL_PRECISION(17)) : strdup("{}");
	if (!v->params_json)
		x->oom = true;
}

static void parse_experiment(struct xr_cfg_reader *x, const char *path, json_t *o,
			     struct xr_experiment *ex)
{
	static const char *const k[] = { "name", "variants", "goals", NULL };
	json_t *vs = json_object_get(o, "variants"), *v;
	char pp[512];
	uint64_t total = 0;
	size_t i;

	xr_cfg_only(x, path, o, k);
	ex->name = get_name(x, path, o);
	snprintf(pp, sizeof(pp), "%s.variants", path);
	if (!json_is_array(vs) || !json_array_size(vs)) {
		xr_cfg_err(x, pp, "must be a non-empty array of variants");
	} else {
		ex->variants = calloc(json_array_size(vs), sizeof(*ex->variants));
		if (!ex->variants) {
			x->oom = true;
			return;
		}
		json_array_foreach(vs, i, v) {
			char vp[400];
			snprintf(vp, sizeof(vp), "%s.variants[%zu]", path, i);
			if (!json_is_object(v)) {
				xr_cfg_err(x, vp, "must be an object");
				continue;
			}
			parse_variant(x, vp, v, &ex->variants[ex->nvariants]);
			total += ex->variants[ex->nvariants].weight;
			for (size_t j = 0; j < ex->nvariants; j++)
				if (ex->variants[j].name &&
				    ex->variants[ex->nvariants].name &&
				    !strcmp(ex->variants[j].name,
					    ex->variants[ex->nvariants].name))
					xr_cfg_err(x, vp, "has a duplicate name");
			ex->nvariants++;
		}
		if (ex->nvariants == json_array_size(vs) && total == 0)
			xr_cfg_err(x, pp, "must have a total weight above 0");
	}
	xr_cfg_strings(x, o, path, "goals", is_token,
		       "a goal name of 1 to 64 letters, digits, '-', '_' or '.'",
		       false, &ex->goals, &ex->ngoals);
}

static void parse_experiments(struct xr_cfg_reader *x, json_t *a)
{
	struct xr_config *c = x->c;
	json_t *o;
	size_t i;

	if (!json_is_array(a)) {
		xr_cfg_err(x, "experiments", "must be an array of experiments");
		return;
	}
	c->experiments = calloc(json_array_size(a) + 1, sizeof(*c->experiments));
	if (!c->experiments) {
		x->oom = true;
		return;
	}
	json_array_foreach(a, i, o) {
		char p[64];
		struct xr_experiment *ex = &c->experiments[c->nexperiments];

		snprintf(p, sizeof(p), "experiments[%zu]", i);
		if (!json_is_object(o)) {
			xr_cfg_err(x, p, "must be an object");
			continue;
		}
		parse_experiment(x, p, o, ex);
		for (size_t j = 0; j < c->nexperiments; j++)
			if (ex->name && c->experiments[j].name &&
			    !strcmp(ex->name, c->experiments[j].name))
				xr_cfg_err(x, p, "has a duplicate name");
		c->nexperiments++;
	}
}

/* --- the document -------------------------------------------------------------- */

/* Every member of the document, in order; errors are gathered in x. */
static void read_document(struct xr_cfg_reader *x, json_t *root)
{
	static const char *const top[] = { "listen", "tls", "web_root",
		"state_dir", "allowed_origins", "rooms", "limits", "ice",
		"admin", "experiments", "plugins", NULL };
	struct xr_config *c = x->c;
	json_t *o;

	xr_cfg_only(x, "", root, top);

	o = json_object_get(root, "listen");
	if (o && (!json_is_string(o) || xr_config_set_listen(c, json_string_value(o))))
		xr_cfg_err(x, "listen", "must be a string \"host:port\" or \"[v6 address]:port\"");
	if ((o = xr_cfg_object(x, root, "", "tls"))) {
		static const char *const k[] = { "cert", "key", NULL };
		xr_cfg_only(x, "tls", o, k);
		if (!json_object_get(o, "cert"))
			xr_cfg_err(x, "tls.cert", "is required");
		if (!json_object_get(o, "key"))
			xr_cfg_err(x, "tls.key", "is required");
		xr_cfg_string(x, o, "tls", "cert", &c->tls_cert);
		xr_cfg_string(x, o, "tls", "key", &c->tls_key);
	}
	xr_cfg_string(x, root, "", "web_root", &c->web_root);
	xr_cfg_string(x, root, "", "state_dir", &c->state_dir);
	xr_cfg_strings(x, root, "", "allowed_origins", is_origin,
		       "an origin such as \"https://rooms.example.org\" (scheme, host, optional port; no path)",
		       true, &c->allowed_origins, &c->norigins);
	if ((o = xr_cfg_object(x, root, "", "rooms")))
		parse_rooms(x, o);
	if ((o = xr_cfg_object(x, root, "", "limits")))
		parse_limits(x, o);
	if ((o = xr_cfg_object(x, root, "", "ice")))
		parse_ice(x, o);
	if ((o = xr_cfg_object(x, root, "", "admin")))
		parse_admin(x, o);
	if ((o = json_object_get(root, "experiments")))
		parse_experiments(x, o);
	/* Folders only: their manifests are checked when the daemon starts. */
	xr_cfg_strings(x, root, "", "plugins", NULL, "a folder path", false,
		       &c->plugin_dirs, &c->nplugin_dirs);
}

int xr_config_parse(struct xr_config *c, const char *text, size_t len,
		    struct xr_config_errors *errs)
{
	struct xr_cfg_reader x = { .c = c, .e = errs };
	json_error_t jerr;
	json_t *root;
	int rc;

	errs->text[0] = '\0';
	errs->count = 0;
	rc = xr_config_defaults(c);
	if (rc)
		return rc;
	if (len > CONFIG_MAX_BYTES) {
		xr_cfg_err(&x, "", "the file is larger than %d bytes", CONFIG_MAX_BYTES);
		goto fail;
	}
	if (memchr(text, '\0', len)) { /* jansson would skip one */
		xr_cfg_err(&x, "", "contains a NUL byte");
		goto fail;
	}
	if (xr_jscan_depth(text, len, CONFIG_MAX_DEPTH) > CONFIG_MAX_DEPTH) {
		xr_cfg_err(&x, "", "nested deeper than %d levels", CONFIG_MAX_DEPTH);
		goto fail;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		char where[64];
		snprintf(where, sizeof(where), "line %d column %d", jerr.line,
			 jerr.column);
		xr_cfg_err(&x, where, "invalid JSON: %s", jerr.text);
		goto fail;
	}
	if (!json_is_object(root)) {
		xr_cfg_err(&x, "", "must be a JSON object");
		json_decref(root);
		goto fail;
	}
	read_document(&x, root);
	json_decref(root);
	if (x.oom) {
		xr_config_free(c);
		return -ENOMEM;
	}
	if (!errs->count)
		return 0;
fail:
	xr_config_free(c);
	return -EINVAL;
}

int xr_config_load(struct xr_config *c, const char *path,
		   struct xr_config_errors *errs)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;
	int rc;

	errs->text[0] = '\0';
	errs->count = 0;
	memset(c, 0, sizeof(*c));
	if (!f) {
		snprintf(errs->text, sizeof(errs->text), "%s: cannot open: %s\n",
			 path, strerror(errno));
		errs->count = 1;
		return -errno;
	}
	buf = malloc(CONFIG_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
	if (ferror(f)) {
		snprintf(errs->text, sizeof(errs->text), "%s: cannot read\n", path);
		errs->count = 1;
		fclose(f);
		free(buf);
		return -EIO;
	}
	fclose(f);
	rc = xr_config_parse(c, buf, n, errs);
	free(buf);
	return rc;
}

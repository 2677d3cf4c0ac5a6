/* config.c: strict JSON configuration. Unknown members, wrong types and
 * values out of range are errors naming their JSON path
 * ("limits.max_message_bytes: must be an integer from 1024 to 1048576");
 * all of them are reported, not just the first. Duplicate keys and deep
 * nesting are refused before anything is read. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xroom/config.h"

#define CONFIG_MAX_BYTES (1 << 20)
#define CONFIG_MAX_DEPTH 32

struct ctx {
	struct xr_config *c;
	struct xr_config_errors *e;
	bool oom;
};

static void err(struct ctx *x, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err(struct ctx *x, const char *path, const char *fmt, ...)
{
	size_t used = strlen(x->e->text);
	size_t room = sizeof(x->e->text) - used;
	va_list ap;
	int n;

	x->e->count++;
	if (room < 2)
		return;
	n = snprintf(x->e->text + used, room, "%s: ", path[0] ? path : "(top)");
	if (n < 0 || (size_t)n >= room)
		return;
	used += (size_t)n;
	room -= (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(x->e->text + used, room, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n + 1 < room)
		strcat(x->e->text + used, "\n");
}

static void join_path(char *out, size_t n, const char *base, const char *key)
{
	snprintf(out, n, "%s%s%s", base, base[0] ? "." : "", key);
}

static char *dup_or_oom(struct ctx *x, const char *s)
{
	char *d = strdup(s);
	if (!d)
		x->oom = true;
	return d;
}

/* Reports members of obj not named in allowed (NULL-terminated). */
static void only_members(struct ctx *x, const char *path, json_t *obj,
			 const char *const *allowed)
{
	const char *key;
	json_t *v;
	char p[256];

	json_object_foreach(obj, key, v) {
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			ok |= !strcmp(*a, key);
		if (!ok) {
			join_path(p, sizeof(p), path, key);
			err(x, p, "unknown member");
		}
	}
}

static bool get_uint(struct ctx *x, json_t *obj, const char *path,
		     const char *key, uint32_t lo, uint32_t hi, uint32_t *out)
{
	json_t *v = json_object_get(obj, key);
	char p[256];

	if (!v)
		return false;
	join_path(p, sizeof(p), path, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi) {
		err(x, p, "must be an integer from %u to %u", lo, hi);
		return false;
	}
	*out = (uint32_t)json_integer_value(v);
	return true;
}

static bool str_ok(const char *s, size_t len, size_t max)
{
	return len >= 1 && len <= max && strlen(s) == len;
}

static void get_string(struct ctx *x, json_t *obj, const char *path,
		       const char *key, char **out)
{
	json_t *v = json_object_get(obj, key);
	char p[256];

	if (!v)
		return;
	join_path(p, sizeof(p), path, key);
	if (!json_is_string(v) ||
	    !str_ok(json_string_value(v), json_string_length(v), 4096)) {
		err(x, p, "must be a non-empty string");
		return;
	}
	free(*out);
	*out = dup_or_oom(x, json_string_value(v));
}

static json_t *get_object(struct ctx *x, json_t *obj, const char *path,
			  const char *key)
{
	json_t *v = json_object_get(obj, key);
	char p[256];

	if (v && !json_is_object(v)) {
		join_path(p, sizeof(p), path, key);
		err(x, p, "must be an object");
		return NULL;
	}
	return v;
}

typedef bool (*str_check)(const char *s);

/* An array of strings that each pass check; NULL list on any error. */
static void get_strings(struct ctx *x, json_t *obj, const char *path,
			const char *key, str_check check, const char *what,
			bool nonempty, char ***out, size_t *nout)
{
	json_t *v = json_object_get(obj, key), *e;
	char p[256], pi[300];
	size_t i;

	if (!v)
		return;
	join_path(p, sizeof(p), path, key);
	if (!json_is_array(v) || (nonempty && !json_array_size(v))) {
		err(x, p, nonempty ? "must be a non-empty array of strings" :
				     "must be an array of strings");
		return;
	}
	*out = calloc(json_array_size(v) + 1, sizeof(char *));
	if (!*out) {
		x->oom = true;
		return;
	}
	json_array_foreach(v, i, e) {
		snprintf(pi, sizeof(pi), "%s[%zu]", p, i);
		if (!json_is_string(e) ||
		    !str_ok(json_string_value(e), json_string_length(e), 1024) ||
		    (check && !check(json_string_value(e)))) {
			err(x, pi, "must be %s", what);
			continue;
		}
		for (size_t j = 0; j < *nout; j++)
			if (!strcmp((*out)[j], json_string_value(e))) {
				err(x, pi, "is a duplicate");
				goto next;
			}
		(*out)[(*nout)++] = dup_or_oom(x, json_string_value(e));
next:;
	}
}

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

int xr_config_set_listen(struct xr_config *c, const char *value)
{
	const char *colon, *host = value;
	size_t hlen;
	char *end;
	long port;
	char *h;

	if (value[0] == '[') {
		const char *rb = strchr(value, ']');
		if (!rb || rb[1] != ':')
			return -EINVAL;
		host = value + 1;
		hlen = (size_t)(rb - host);
		colon = rb + 1;
	} else {
		colon = strrchr(value, ':');
		if (!colon || strchr(value, ':') != colon)
			return -EINVAL;
		hlen = (size_t)(colon - value);
	}
	if (!hlen || hlen > 255)
		return -EINVAL;
	for (size_t i = 0; i < hlen; i++)
		if (!(isalnum((unsigned char)host[i]) || strchr(".-_:%", host[i])))
			return -EINVAL;
	if (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
		return -EINVAL;
	h = strndup(host, hlen);
	if (!h)
		return -ENOMEM;
	free(c->listen_host);
	c->listen_host = h;
	c->listen_port = (uint16_t)port;
	return 0;
}

int xr_config_set_string(char **member, const char *value)
{
	char *d = strdup(value);

	if (!d)
		return -ENOMEM;
	free(*member);
	*member = d;
	return 0;
}

/* --- sections -------------------------------------------------------------- */

static void parse_rooms(struct ctx *x, json_t *o)
{
	static const char *const k[] = { "max_peers", "max_rooms", NULL };

	only_members(x, "rooms", o, k);
	get_uint(x, o, "rooms", "max_peers", 1, 64, &x->c->max_peers);
	get_uint(x, o, "rooms", "max_rooms", 1, 1000000, &x->c->max_rooms);
}

static void parse_limits(struct ctx *x, json_t *o)
{
	static const char *const k[] = { "max_connections", "max_message_bytes",
		"max_queued_bytes", "messages_per_second", "message_burst",
		"idle_timeout_s", NULL };
	struct xr_config *c = x->c;

	only_members(x, "limits", o, k);
	get_uint(x, o, "limits", "max_connections", 1, 1000000,
		 &c->max_connections);
	get_uint(x, o, "limits", "max_message_bytes", 1024, 1048576,
		 &c->max_message_bytes);
	get_uint(x, o, "limits", "max_queued_bytes", 4096, 268435456,
		 &c->max_queued_bytes);
	get_uint(x, o, "limits", "messages_per_second", 1, 10000,
		 &c->messages_per_second);
	get_uint(x, o, "limits", "message_burst", 1, 100000,
		 &c->message_burst);
	get_uint(x, o, "limits", "idle_timeout_s", 2, 3600, &c->idle_timeout_s);
}

static void parse_ice(struct ctx *x, json_t *o)
{
	static const char *const k[] = { "stun", "turn", NULL };
	static const char *const tk[] = { "urls", "secret", "ttl_s", NULL };
	struct xr_config *c = x->c;
	json_t *t;

	only_members(x, "ice", o, k);
	get_strings(x, o, "ice", "stun", is_stun, "a stun: or stuns: URL",
		    false, &c->stun, &c->nstun);
	t = get_object(x, o, "ice", "turn");
	if (!t)
		return;
	only_members(x, "ice.turn", t, tk);
	if (!json_object_get(t, "urls"))
		err(x, "ice.turn.urls", "is required");
	if (!json_object_get(t, "secret"))
		err(x, "ice.turn.secret", "is required");
	get_strings(x, t, "ice.turn", "urls", is_turn, "a turn: or turns: URL",
		    true, &c->turn_urls, &c->nturn);
	get_string(x, t, "ice.turn", "secret", &c->turn_secret);
	get_uint(x, t, "ice.turn", "ttl_s", 60, 604800, &c->turn_ttl_s);
}

static void parse_admin(struct ctx *x, json_t *o)
{
	static const char *const k[] = { "token_sha256", NULL };
	json_t *v = json_object_get(o, "token_sha256");
	const char *s;

	only_members(x, "admin", o, k);
	if (!v) {
		err(x, "admin.token_sha256", "is required");
		return;
	}
	s = json_is_string(v) ? json_string_value(v) : "";
	if (strlen(s) != 64 || strspn(s, "0123456789abcdefABCDEF") != 64) {
		err(x, "admin.token_sha256", "must be 64 hexadecimal digits");
		return;
	}
	for (int i = 0; i < 32; i++) {
		unsigned b;
		sscanf(s + 2 * i, "%2x", &b);
		x->c->admin_sha256[i] = (unsigned char)b;
	}
	x->c->has_admin = true;
}

static void parse_variant(struct ctx *x, const char *path, json_t *o,
			  struct xr_variant *v)
{
	static const char *const k[] = { "name", "weight", "params", NULL };
	json_t *n = json_object_get(o, "name"), *p = json_object_get(o, "params");
	char pp[512];

	only_members(x, path, o, k);
	snprintf(pp, sizeof(pp), "%s.name", path);
	if (!json_is_string(n) || !is_token(json_string_value(n)))
		err(x, pp, "must be a name of 1 to 64 letters, digits, '-', '_' or '.'");
	else
		v->name = dup_or_oom(x, json_string_value(n));
	v->weight = 1;
	snprintf(pp, sizeof(pp), "%s.weight", path);
	if (!json_object_get(o, "weight"))
		err(x, pp, "is required");
	get_uint(x, o, path, "weight", 0, 1000000, &v->weight);
	snprintf(pp, sizeof(pp), "%s.params", path);
	if (p && !json_is_object(p))
		err(x, pp, "must be an object");
	v->params_json = p && json_is_object(p) ?
		json_dumps(p, JSON_COMPACT | JSON_REAL_PRECISION(17)) : strdup("{}");
	if (!v->params_json)
		x->oom = true;
}

static void parse_experiment(struct ctx *x, const char *path, json_t *o,
			     struct xr_experiment *ex)
{
	static const char *const k[] = { "name", "variants", "goals", NULL };
	json_t *n = json_object_get(o, "name"), *vs = json_object_get(o, "variants");
	json_t *v;
	char pp[512];
	uint64_t total = 0;
	size_t i;

	only_members(x, path, o, k);
	snprintf(pp, sizeof(pp), "%s.name", path);
	if (!json_is_string(n) || !is_token(json_string_value(n)))
		err(x, pp, "must be a name of 1 to 64 letters, digits, '-', '_' or '.'");
	else
		ex->name = dup_or_oom(x, json_string_value(n));
	snprintf(pp, sizeof(pp), "%s.variants", path);
	if (!json_is_array(vs) || !json_array_size(vs)) {
		err(x, pp, "must be a non-empty array of variants");
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
				err(x, vp, "must be an object");
				continue;
			}
			parse_variant(x, vp, v, &ex->variants[ex->nvariants]);
			total += ex->variants[ex->nvariants].weight;
			for (size_t j = 0; j < ex->nvariants; j++)
				if (ex->variants[j].name &&
				    ex->variants[ex->nvariants].name &&
				    !strcmp(ex->variants[j].name,
					    ex->variants[ex->nvariants].name))
					err(x, vp, "has a duplicate name");
			ex->nvariants++;
		}
		if (ex->nvariants == json_array_size(vs) && total == 0)
			err(x, pp, "must have a total weight above 0");
	}
	get_strings(x, o, path, "goals", is_token,
		    "a goal name of 1 to 64 letters, digits, '-', '_' or '.'",
		    false, &ex->goals, &ex->ngoals);
}

static void parse_experiments(struct ctx *x, json_t *a)
{
	struct xr_config *c = x->c;
	json_t *o;
	size_t i;

	if (!json_is_array(a)) {
		err(x, "experiments", "must be an array of experiments");
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
			err(x, p, "must be an object");
			continue;
		}
		parse_experiment(x, p, o, ex);
		for (size_t j = 0; j < c->nexperiments; j++)
			if (ex->name && c->experiments[j].name &&
			    !strcmp(ex->name, c->experiments[j].name))
				err(x, p, "has a duplicate name");
		c->nexperiments++;
	}
}

/* --- entry points -------------------------------------------------------------- */

int xr_config_defaults(struct xr_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_peers = 8;
	c->max_rooms = 10000;
	c->max_connections = 0;
	c->max_message_bytes = 65536;
	c->max_queued_bytes = 1048576;
	c->messages_per_second = 50;
	c->message_burst = 200;
	c->idle_timeout_s = 60;
	c->turn_ttl_s = 86400;
	return xr_config_set_listen(c, "127.0.0.1:8080");
}

static unsigned depth_of(const char *s, size_t n)
{
	unsigned d = 0, max = 0;
	bool in_str = false, esc = false;

	for (size_t i = 0; i < n; i++) {
		if (in_str) {
			if (esc)
				esc = false;
			else if (s[i] == '\\')
				esc = true;
			else if (s[i] == '"')
				in_str = false;
		} else if (s[i] == '"') {
			in_str = true;
		} else if (s[i] == '{' || s[i] == '[') {
			if (++d > max)
				max = d;
		} else if ((s[i] == '}' || s[i] == ']') && d) {
			d--;
		}
	}
	return max;
}

int xr_config_parse(struct xr_config *c, const char *text, size_t len,
		    struct xr_config_errors *errs)
{
	static const char *const top[] = { "listen", "tls", "web_root",
		"state_dir", "allowed_origins", "rooms", "limits", "ice",
		"admin", "experiments", "plugins", NULL };
	struct ctx x = { .c = c, .e = errs };
	json_error_t jerr;
	json_t *root, *o;
	int rc;

	errs->text[0] = '\0';
	errs->count = 0;
	rc = xr_config_defaults(c);
	if (rc)
		return rc;
	if (len > CONFIG_MAX_BYTES) {
		err(&x, "", "the file is larger than %d bytes", CONFIG_MAX_BYTES);
		goto fail;
	}
	if (memchr(text, '\0', len)) { /* jansson would skip one */
		err(&x, "", "contains a NUL byte");
		goto fail;
	}
	if (depth_of(text, len) > CONFIG_MAX_DEPTH) {
		err(&x, "", "nested deeper than %d levels", CONFIG_MAX_DEPTH);
		goto fail;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		char where[64];
		snprintf(where, sizeof(where), "line %d column %d", jerr.line,
			 jerr.column);
		err(&x, where, "invalid JSON: %s", jerr.text);
		goto fail;
	}
	if (!json_is_object(root)) {
		err(&x, "", "must be a JSON object");
		json_decref(root);
		goto fail;
	}
	only_members(&x, "", root, top);

	o = json_object_get(root, "listen");
	if (o && (!json_is_string(o) || xr_config_set_listen(c, json_string_value(o))))
		err(&x, "listen", "must be a string \"host:port\" or \"[v6 address]:port\"");
	if ((o = get_object(&x, root, "", "tls"))) {
		static const char *const k[] = { "cert", "key", NULL };
		only_members(&x, "tls", o, k);
		if (!json_object_get(o, "cert"))
			err(&x, "tls.cert", "is required");
		if (!json_object_get(o, "key"))
			err(&x, "tls.key", "is required");
		get_string(&x, o, "tls", "cert", &c->tls_cert);
		get_string(&x, o, "tls", "key", &c->tls_key);
	}
	get_string(&x, root, "", "web_root", &c->web_root);
	get_string(&x, root, "", "state_dir", &c->state_dir);
	get_strings(&x, root, "", "allowed_origins", is_origin,
		    "an origin such as \"https://rooms.example.org\" (scheme, host, optional port; no path)",
		    true, &c->allowed_origins, &c->norigins);
	if ((o = get_object(&x, root, "", "rooms")))
		parse_rooms(&x, o);
	if ((o = get_object(&x, root, "", "limits")))
		parse_limits(&x, o);
	if ((o = get_object(&x, root, "", "ice")))
		parse_ice(&x, o);
	if ((o = get_object(&x, root, "", "admin")))
		parse_admin(&x, o);
	if ((o = json_object_get(root, "experiments")))
		parse_experiments(&x, o);
	/* Folders only: their manifests are checked when the daemon starts. */
	get_strings(&x, root, "", "plugins", NULL, "a folder path", false,
		    &c->plugin_dirs, &c->nplugin_dirs);
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

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void xr_config_free(struct xr_config *c)
{
	free(c->listen_host);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->web_root);
	free(c->state_dir);
	free_strings(c->allowed_origins, c->norigins);
	free_strings(c->stun, c->nstun);
	free_strings(c->turn_urls, c->nturn);
	if (c->turn_secret)
		memset(c->turn_secret, 0, strlen(c->turn_secret));
	free(c->turn_secret);
	for (size_t i = 0; i < c->nexperiments; i++) {
		struct xr_experiment *e = &c->experiments[i];
		for (size_t j = 0; j < e->nvariants; j++) {
			free(e->variants[j].name);
			free(e->variants[j].params_json);
		}
		free(e->variants);
		free_strings(e->goals, e->ngoals);
		free(e->name);
	}
	free(c->experiments);
	free_strings(c->plugin_dirs, c->nplugin_dirs);
	memset(c, 0, sizeof(*c));
}

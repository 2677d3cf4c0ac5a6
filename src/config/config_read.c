/* config_read.c: the typed getters of the configuration reader. Each one
 * checks one member's kind and range and, when it is wrong, adds a line
 * naming the member's JSON path; the reading goes on, so every problem of
 * a file is reported at once. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xroom/config/config_read.h"

void xr_cfg_err(struct xr_cfg_reader *x, const char *path, const char *fmt,
		...)
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

void xr_cfg_path(char *out, size_t n, const char *base, const char *key)
{
	snprintf(out, n, "%s%s%s", base, base[0] ? "." : "", key);
}

char *xr_cfg_dup(struct xr_cfg_reader *x, const char *s)
{
	char *d = strdup(s);
	if (!d)
		x->oom = true;
	return d;
}

void xr_cfg_only(struct xr_cfg_reader *x, const char *path, json_t *obj,
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
			xr_cfg_path(p, sizeof(p), path, key);
			xr_cfg_err(x, p, "unknown member");
		}
	}
}

bool xr_cfg_uint(struct xr_cfg_reader *x, json_t *obj, const char *path,
		     const char *key, uint32_t lo, uint32_t hi, uint32_t *out)
{
	json_t *v = json_object_get(obj, key);
	char p[256];

	if (!v)
		return false;
	xr_cfg_path(p, sizeof(p), path, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi) {
		xr_cfg_err(x, p, "must be an integer from %u to %u", lo, hi);
		return false;
	}
	*out = (uint32_t)json_integer_value(v);
	return true;
}

static bool str_ok(const char *s, size_t len, size_t max)
{
	return len >= 1 && len <= max && strlen(s) == len;
}

void xr_cfg_string(struct xr_cfg_reader *x, json_t *obj, const char *path,
		       const char *key, char **out)
{
	json_t *v = json_object_get(obj, key);
	char p[256];

	if (!v)
		return;
	xr_cfg_path(p, sizeof(p), path, key);
	if (!json_is_string(v) ||
	    !str_ok(json_string_value(v), json_string_length(v), 4096)) {
		xr_cfg_err(x, p, "must be a non-empty string");
		return;
	}
	free(*out);
	*out = xr_cfg_dup(x, json_string_value(v));
}

json_t *xr_cfg_object(struct xr_cfg_reader *x, json_t *obj, const char *path,
			  const char *key)
{
	json_t *v = json_object_get(obj, key);
	char p[256];

	if (v && !json_is_object(v)) {
		xr_cfg_path(p, sizeof(p), path, key);
		xr_cfg_err(x, p, "must be an object");
		return NULL;
	}
	return v;
}

void xr_cfg_strings(struct xr_cfg_reader *x, json_t *obj, const char *path,
		    const char *key, bool (*check)(const char *s),
		    const char *what,
			bool nonempty, char ***out, size_t *nout)
{
	json_t *v = json_object_get(obj, key), *e;
	char p[256], pi[300];
	size_t i;

	if (!v)
		return;
	xr_cfg_path(p, sizeof(p), path, key);
	if (!json_is_array(v) || (nonempty && !json_array_size(v))) {
		xr_cfg_err(x, p, nonempty ? "must be a non-empty array of strings" :
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
			xr_cfg_err(x, pi, "must be %s", what);
			continue;
		}
		for (size_t j = 0; j < *nout; j++)
			if (!strcmp((*out)[j], json_string_value(e))) {
				xr_cfg_err(x, pi, "is a duplicate");
				goto next;
			}
		(*out)[(*nout)++] = xr_cfg_dup(x, json_string_value(e));
next:;
	}
}

/* plugin.c: plugin folders and their manifests, checked once at start.
 * Every rule of the plugin contract that can be checked on disk is checked
 * here, so that a broken plugin stops the daemon with a message naming the
 * folder and the rule instead of failing in somebody's call. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "xroom/features/plugin.h"
#include "xroom/util/path.h"

static const char *const permissions[] = { "messages", "peers", "names",
					   "storage", NULL };
static const char *const members[] = { "id", "name", "version", "author",
	"description", "entry", "permissions", "privacy_policy", NULL };

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool id_ok(const char *s, size_t len)
{
	if (len < 1 || len > XR_PLUGIN_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-'))
			return false;
	return true;
}

/* Printable text without control characters, 1..max bytes (0.. if empty_ok). */
static bool text_ok(json_t *v, size_t max, bool empty_ok)
{
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	len = json_string_length(v);
	if ((!empty_ok && !len) || len > max || strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* A relative path that stays inside dir and names a regular file there. */
static bool inside(const char *dir, const char *rel)
{
	char real[PATH_MAX];

	if (!*rel || rel[0] == '/' || strchr(rel, '\\') || strstr(rel, "..") ||
	    strstr(rel, "//"))
		return false;
	return xr_path_file_inside(dir, rel, real);
}

static bool https_url_ok(const char *s)
{
	size_t len = strlen(s);

	if (len <= 8 || len > 2048 || strncmp(s, "https://", 8))
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
		    s[i] == '"' || s[i] == '<' || s[i] == '>' || s[i] == '\\')
			return false;
	return s[8] != '/' && s[8] != '?' && s[8] != '#';
}

int xr_plugin_check(const char *text, size_t len, const char *dir, bool bundled,
		    json_t **out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *m, *v, *e, *pub = NULL;
	const char *key;
	size_t i;
	int rc = -EINVAL;

	if (len > XR_PLUGIN_MANIFEST_MAX)
		return fail(err, errlen, "manifest.json is larger than %d bytes",
			    XR_PLUGIN_MANIFEST_MAX);
	if (memchr(text, '\0', len))
		return fail(err, errlen, "manifest.json contains a NUL byte");
	m = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!m)
		return fail(err, errlen, "manifest.json is not valid JSON (line %d: %s)",
			    jerr.line, jerr.text);
	if (!json_is_object(m)) {
		fail(err, errlen, "manifest.json must be a JSON object");
		goto out;
	}
	json_object_foreach(m, key, v) {
		bool known = false;
		for (const char *const *k = members; *k; k++)
			known |= !strcmp(*k, key);
		if (!known) {
			fail(err, errlen, "manifest member \"%s\" is unknown", key);
			goto out;
		}
	}
	v = json_object_get(m, "id");
	if (!json_is_string(v) || !id_ok(json_string_value(v), json_string_length(v))) {
		fail(err, errlen, "\"id\" must be 1 to %d of a-z 0-9 -", XR_PLUGIN_ID_MAX);
		goto out;
	}
	if (!text_ok(json_object_get(m, "name"), 64, false)) {
		fail(err, errlen, "\"name\" must be text of 1 to 64 bytes");
		goto out;
	}
	if (!text_ok(json_object_get(m, "version"), 32, false)) {
		fail(err, errlen, "\"version\" must be text of 1 to 32 bytes");
		goto out;
	}
	if (!text_ok(json_object_get(m, "author"), 64, false)) {
		fail(err, errlen, "\"author\" must be text of 1 to 64 bytes");
		goto out;
	}
	v = json_object_get(m, "description");
	if (v && !text_ok(v, 280, true)) {
		fail(err, errlen, "\"description\" must be text of at most 280 bytes");
		goto out;
	}
	v = json_object_get(m, "entry");
	if (!json_is_string(v) || !inside(dir, json_string_value(v))) {
		fail(err, errlen, "\"entry\" must name a file inside the folder "
			"(relative, no \"..\", no absolute path)");
		goto out;
	}
	v = json_object_get(m, "permissions");
	if (!json_is_array(v)) {
		fail(err, errlen, "\"permissions\" must be an array (may be empty)");
		goto out;
	}
	json_array_foreach(v, i, e) {
		bool known = false;
		if (json_is_string(e))
			for (const char *const *p = permissions; *p; p++)
				known |= !strcmp(*p, json_string_value(e));
		if (!json_is_string(e)) {
			fail(err, errlen, "permission #%zu is not a string", i);
			goto out;
		}
		if (!known) {
			fail(err, errlen, "permission \"%s\" is unknown (known: "
			     "messages, peers, names, storage)", json_string_value(e));
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (json_equal(json_array_get(v, j), e)) {
				fail(err, errlen, "permission \"%s\" is listed twice",
				     json_string_value(e));
				goto out;
			}
	}
	v = json_object_get(m, "privacy_policy");
	if (!v && !bundled) {
		fail(err, errlen, "\"privacy_policy\" is required for a plugin not "
			"bundled with xroom (a file in the folder or an https:// URL)");
		goto out;
	}
	if (v && (!json_is_string(v) || (!https_url_ok(json_string_value(v)) &&
					 !inside(dir, json_string_value(v))))) {
		fail(err, errlen, "\"privacy_policy\" must name a file inside the "
			"folder or be an https:// URL");
		goto out;
	}
	if (out) {
		pub = json_deep_copy(m);
		if (!pub || json_object_set_new(pub, "bundled", json_boolean(bundled))) {
			json_decref(pub);
			rc = -ENOMEM;
			goto out;
		}
		if (!json_object_get(pub, "description"))
			json_object_set_new(pub, "description", json_string(""));
		*out = pub;
	}
	rc = 0;
out:
	json_decref(m);
	return rc;
}

/* Reads dir/manifest.json (at most XR_PLUGIN_MANIFEST_MAX + 1 bytes). */
static char *read_manifest(const char *dir, size_t *len)
{
	char path[PATH_MAX];
	char *buf;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/manifest.json", dir) >= (int)sizeof(path))
		return NULL;
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	buf = malloc(XR_PLUGIN_MANIFEST_MAX + 2);
	if (buf) {
		*len = fread(buf, 1, XR_PLUGIN_MANIFEST_MAX + 1, f);
		if (ferror(f)) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static int add(struct xr_plugins *ps, json_t *list, const char *folder,
	       bool bundled, const char *want_id, char *err, size_t errlen)
{
	char real[PATH_MAX], why[512];
	struct stat st;
	struct xr_plugin *p;
	json_t *pub = NULL;
	const char *id;
	char *text;
	size_t len = 0;
	int rc;

	if (!realpath(folder, real) || stat(real, &st) || !S_ISDIR(st.st_mode))
		return fail(err, errlen, "plugin folder %s: not a readable folder (%s)",
			    folder, strerror(errno ? errno : ENOTDIR));
	if (ps->n >= XR_PLUGINS_MAX)
		return fail(err, errlen, "plugin folder %s: more than %d plugins",
			    folder, XR_PLUGINS_MAX);
	text = read_manifest(real, &len);
	if (!text)
		return fail(err, errlen, "plugin folder %s: no readable manifest.json",
			    folder);
	rc = xr_plugin_check(text, len, real, bundled, &pub, why, sizeof(why));
	free(text);
	if (rc == -ENOMEM)
		return rc;
	if (rc)
		return fail(err, errlen, "plugin folder %s: %s", folder, why);
	id = json_string_value(json_object_get(pub, "id"));
	if (want_id && strcmp(id, want_id)) {
		json_decref(pub);
		return fail(err, errlen, "plugin folder %s: a bundled plugin's \"id\" "
			"must be its folder's name", folder);
	}
	for (size_t i = 0; i < ps->n; i++)
		if (!strcmp(ps->v[i].id, id)) {
			fail(err, errlen, "plugin folder %s: \"id\" \"%s\" is "
			     "already used by %s", folder, id, ps->v[i].dir);
			json_decref(pub); /* id points into it */
			return -EINVAL;
		}
	p = &ps->v[ps->n];
	snprintf(p->id, sizeof(p->id), "%s", id);
	snprintf(p->dir, sizeof(p->dir), "%s", real);
	p->bundled = bundled;
	if (json_array_append_new(list, pub))
		return -ENOMEM;
	ps->n++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int xr_plugins_load(struct xr_plugins *out, const char *web_root,
		    char *const *dirs, size_t ndirs, char *err, size_t errlen)
{
	char base[PATH_MAX], folder[PATH_MAX];
	char *names[XR_PLUGINS_MAX + 1];
	size_t nnames = 0;
	json_t *list = json_array(), *root = NULL;
	struct dirent *d;
	DIR *dh;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	out->v = calloc(XR_PLUGINS_MAX, sizeof(*out->v));
	if (!out->v || !list) {
		rc = -ENOMEM;
		goto done;
	}
	snprintf(base, sizeof(base), "%s/plugins", web_root);
	dh = opendir(base);
	if (dh) { /* sorted, so the list does not depend on the file system */
		while ((d = readdir(dh)) && nnames <= XR_PLUGINS_MAX) {
			/* "_shared" and the like: files plugins share, no plugin */
			if (d->d_name[0] == '.' || d->d_name[0] == '_')
				continue;
			names[nnames] = strdup(d->d_name);
			if (!names[nnames]) {
				rc = -ENOMEM;
				break;
			}
			nnames++;
		}
		closedir(dh);
		qsort(names, nnames, sizeof(*names), cmp_names);
		for (size_t i = 0; i < nnames && !rc; i++) {
			int n = snprintf(folder, sizeof(folder), "%s/%s", base, names[i]);
			rc = n < 0 || (size_t)n >= sizeof(folder) ?
				fail(err, errlen, "plugin folder %s/%s: path too long",
				     base, names[i]) :
				add(out, list, folder, true, names[i], err, errlen);
		}
		for (size_t i = 0; i < nnames; i++)
			free(names[i]);
	}
	for (size_t i = 0; i < ndirs && !rc; i++)
		rc = add(out, list, dirs[i], false, NULL, err, errlen);
	if (rc)
		goto done;
	root = json_pack("{s:O}", "plugins", list);
	out->list_json = root ? json_dumps(root, JSON_COMPACT) : NULL;
	if (!out->list_json) {
		rc = -ENOMEM;
		goto done;
	}
	out->list_len = strlen(out->list_json);
done:
	json_decref(root);
	json_decref(list);
	if (rc)
		xr_plugins_free(out);
	return rc;
}

const struct xr_plugin *xr_plugins_find(const struct xr_plugins *p,
					const char *id, size_t len)
{
	for (size_t i = 0; i < p->n; i++)
		if (strlen(p->v[i].id) == len && !memcmp(p->v[i].id, id, len))
			return &p->v[i];
	return NULL;
}

void xr_plugins_free(struct xr_plugins *p)
{
	free(p->v);
	free(p->list_json);
	memset(p, 0, sizeof(*p));
}

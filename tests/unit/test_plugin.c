/* test_plugin.c: plugin manifests and folders (src/plugin.c). Every rule of
 * the contract: the id, the text members, entry inside the folder, known
 * permissions listed once, the privacy policy required for plugins not
 * bundled, unknown members; and loading: bundled folders named after their
 * id, ids unique across bundled and operator folders, the published list. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "xroom/features/plugin.h"

struct fx {
	char dir[64];
	char real[256];
};

static void put(const char *dir, const char *name, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || test_mkdtemp(f->dir, sizeof(f->dir), "plugin")) {
		free(f);
		return -1;
	}
	{
		char r[PATH_MAX];
		if (!realpath(f->dir, r) || strlen(r) >= sizeof(f->real)) {
			test_rm_tree(f->dir);
			free(f);
			return -1;
		}
		strcpy(f->real, r);
	}
	put(f->real, "index.html", "<!doctype html>");
	put(f->real, "PRIVACY.md", "nothing");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	test_rm_tree(f->dir);
	free(f);
	return 0;
}

#define GOOD "{\"id\":\"wb-2\",\"name\":\"W\",\"version\":\"1.0\",\"author\":\"a\"," \
	"\"description\":\"d\",\"entry\":\"index.html\",\"permissions\":[\"messages\"," \
	"\"peers\",\"names\",\"storage\"],\"privacy_policy\":\"PRIVACY.md\"}"

static int check(struct fx *f, const char *text, bool bundled, char *err)
{
	return xr_plugin_check(text, strlen(text), f->real, bundled, NULL, err, 512);
}

static void good_manifest_published(void **state)
{
	struct fx *f = *state;
	char err[512];
	json_t *pub = NULL;

	if (xr_plugin_check(GOOD, strlen(GOOD), f->real, false, &pub, err, sizeof(err)))
		fail_msg("%s", err);
	assert_non_null(pub);
	assert_string_equal(json_string_value(json_object_get(pub, "id")), "wb-2");
	assert_true(json_is_false(json_object_get(pub, "bundled")));
	json_decref(pub);
	/* An https policy instead of a file; no policy at all when bundled. */
	assert_int_equal(check(f, "{\"id\":\"a\",\"name\":\"A\",\"version\":\"1\",\"author\":\"x\","
		"\"entry\":\"index.html\",\"permissions\":[],"
		"\"privacy_policy\":\"https://example.org/privacy\"}", false, err), 0);
	assert_int_equal(check(f, "{\"id\":\"a\",\"name\":\"A\",\"version\":\"1\",\"author\":\"x\","
		"\"entry\":\"index.html\",\"permissions\":[]}", true, err), 0);
}

/* GOOD with one member's JSON text replaced. */
static void with(char *out, size_t n, const char *member, const char *value)
{
	json_t *m = json_loads(GOOD, 0, NULL);
	char *t;

	if (value)
		json_object_set_new(m, member, json_loads(value, JSON_DECODE_ANY, NULL));
	else
		json_object_del(m, member);
	t = json_dumps(m, JSON_COMPACT);
	snprintf(out, n, "%s", t);
	free(t);
	json_decref(m);
}

static void each_rule_refused_with_its_reason(void **state)
{
	struct fx *f = *state;
	static const struct { const char *member, *value, *why; } bad[] = {
		{ "id", "\"\"", "\"id\"" },
		{ "id", "\"Whiteboard\"", "\"id\"" },
		{ "id", "\"a_b\"", "\"id\"" },
		{ "id", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", "\"id\"" },
		{ "id", NULL, "\"id\"" },
		{ "name", "\"\"", "\"name\"" },
		{ "name", "7", "\"name\"" },
		{ "version", NULL, "\"version\"" },
		{ "author", "\"a\\u0001\"", "\"author\"" },
		{ "entry", "\"../index.html\"", "\"entry\"" },
		{ "entry", "\"/etc/passwd\"", "\"entry\"" },
		{ "entry", "\"missing.html\"", "\"entry\"" },
		{ "entry", "\".\"", "\"entry\"" },
		{ "permissions", "[\"camera\"]", "permission \"camera\" is unknown" },
		{ "permissions", "[\"messages\",\"messages\"]", "listed twice" },
		{ "permissions", "[1]", "not a string" },
		{ "permissions", "\"messages\"", "\"permissions\"" },
		{ "privacy_policy", NULL, "\"privacy_policy\" is required" },
		{ "privacy_policy", "\"http://example.org/p\"", "\"privacy_policy\"" },
		{ "privacy_policy", "\"../secret\"", "\"privacy_policy\"" },
		{ "privacy_policy", "\"https://\"", "\"privacy_policy\"" },
		{ "homepage", "\"https://x\"", "\"homepage\" is unknown" },
	};
	char text[2048], err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		with(text, sizeof(text), bad[i].member, bad[i].value);
		err[0] = '\0';
		assert_int_equal(check(f, text, false, err), -EINVAL);
		if (!strstr(err, bad[i].why))
			fail_msg("%s=%s: \"%s\" does not say %s", bad[i].member,
				 bad[i].value ? bad[i].value : "(absent)", err, bad[i].why);
	}
	assert_int_equal(check(f, "[]", false, err), -EINVAL);
	assert_non_null(strstr(err, "JSON object"));
	assert_int_equal(check(f, "{\"id\":1,", false, err), -EINVAL);
	assert_non_null(strstr(err, "not valid JSON"));
	assert_int_equal(check(f, "{\"id\":\"a\",\"id\":\"b\"}", false, err), -EINVAL);
}

static void mkfolder(const char *base, const char *name, const char *manifest)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", base, name);
	assert_int_equal(mkdir(p, 0700), 0);
	put(p, "index.html", "<!doctype html>");
	put(p, "PRIVACY.md", "nothing");
	if (manifest)
		put(p, "manifest.json", manifest);
}

static void loading_bundled_and_operator_folders(void **state)
{
	struct fx *f = *state;
	char web[512], ext[PATH_MAX], dup[PATH_MAX], err[1024];
	char *dirs[2];
	struct xr_plugins ps;

	snprintf(web, sizeof(web), "%s/web", f->real);
	assert_int_equal(mkdir(web, 0700), 0);
	/* No plugins folder: nothing, and an empty list. */
	assert_int_equal(xr_plugins_load(&ps, web, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(ps.n, 0);
	assert_string_equal(ps.list_json, "{\"plugins\":[]}");
	xr_plugins_free(&ps);

	strcat(web, "/plugins");
	assert_int_equal(mkdir(web, 0700), 0);
	mkfolder(web, "poll", "{\"id\":\"poll\",\"name\":\"P\",\"version\":\"1\","
		 "\"author\":\"x\",\"entry\":\"index.html\",\"permissions\":[]}");
	mkfolder(web, "_shared", NULL); /* files plugins share: not a plugin */
	mkfolder(f->real, "ext", GOOD);
	snprintf(ext, sizeof(ext), "%s/ext", f->real);
	dirs[0] = ext;
	*strrchr(web, '/') = '\0';
	assert_int_equal(xr_plugins_load(&ps, web, dirs, 1, err, sizeof(err)), 0);
	assert_int_equal(ps.n, 2);
	assert_true(ps.v[0].bundled);
	assert_false(ps.v[1].bundled);
	assert_non_null(xr_plugins_find(&ps, "wb-2", 4));
	assert_null(xr_plugins_find(&ps, "wb", 2));
	assert_non_null(strstr(ps.list_json, "\"bundled\":true"));
	xr_plugins_free(&ps);

	/* The same id twice: refused, naming both. */
	mkfolder(f->real, "dup", GOOD);
	snprintf(dup, sizeof(dup), "%s/dup", f->real);
	dirs[1] = dup;
	assert_int_equal(xr_plugins_load(&ps, web, dirs, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "already used"));
	assert_non_null(strstr(err, dup));
	/* An operator folder that does not exist, or has no manifest. */
	dirs[0] = (char *)"/nonexistent/xroom-plugin";
	assert_int_equal(xr_plugins_load(&ps, web, dirs, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "plugin folder /nonexistent/xroom-plugin"));
	mkfolder(f->real, "empty", NULL);
	snprintf(dup, sizeof(dup), "%s/empty", f->real);
	dirs[0] = dup;
	assert_int_equal(xr_plugins_load(&ps, web, dirs, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no readable manifest.json"));
	/* A bundled folder whose id is not its name. */
	snprintf(dup, sizeof(dup), "%s/plugins", web);
	mkfolder(dup, "other", GOOD);
	assert_int_equal(xr_plugins_load(&ps, web, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "folder's name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(good_manifest_published, setup, teardown),
		cmocka_unit_test_setup_teardown(each_rule_refused_with_its_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(loading_bundled_and_operator_folders, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

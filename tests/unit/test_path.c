/* test_path.c: the one containment rule on a real tree: a regular file
 * inside its folder is found (with or without a leading slash); the folder
 * itself, a sub-folder, "..", a missing file, a symbolic link out of the
 * folder and a sibling folder that only shares the name's prefix are not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xroom/util/path.h"

struct fx {
	char top[64];            /* scratch directory */
	char root[PATH_MAX];     /* top/root, resolved */
};

/* A small file at dir/name. */
static void put(const char *dir, const char *name)
{
	char path[PATH_MAX + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("x\n", f);
	fclose(f);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[PATH_MAX + 32];

	if (!f || test_mkdtemp(f->top, sizeof(f->top), "path"))
		return -1;
	snprintf(p, sizeof(p), "%s/root", f->top);
	if (mkdir(p, 0700) || !realpath(p, f->root))
		return -1;
	snprintf(p, sizeof(p), "%s/root/sub", f->top);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/root-other", f->top);
	mkdir(p, 0700);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	test_rm_tree(f->top);
	free(f);
	return 0;
}

static void files_inside_are_found(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 32], real[PATH_MAX];

	put(f->root, "index.html");
	put(f->root, "sub/a.js");
	assert_true(xr_path_file_inside(f->root, "/index.html", real));
	snprintf(p, sizeof(p), "%s/index.html", f->root);
	assert_string_equal(real, p);
	assert_true(xr_path_file_inside(f->root, "index.html", real));
	assert_true(xr_path_file_inside(f->root, "sub/a.js", real));
	assert_true(xr_path_file_inside(f->root, "/sub/../index.html", real));
}

static void nothing_else_is(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 32], real[PATH_MAX];

	put(f->top, "secret");
	put(f->top, "root-other/x");
	snprintf(p, sizeof(p), "%s/out", f->root);
	assert_int_equal(symlink("../secret", p), 0);
	assert_false(xr_path_file_inside(f->root, "/", real));
	assert_false(xr_path_file_inside(f->root, "", real));
	assert_false(xr_path_file_inside(f->root, "/sub", real));
	assert_false(xr_path_file_inside(f->root, "/missing", real));
	assert_false(xr_path_file_inside(f->root, "/../secret", real));
	assert_false(xr_path_file_inside(f->root, "/out", real));
	assert_false(xr_path_file_inside(f->root, "/../root-other/x", real));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(files_inside_are_found),
		T(nothing_else_is),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

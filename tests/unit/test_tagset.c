/* test_tagset.c: the experiments' dedup set: a tag is new once, then
 * known; the table grows and keeps every tag; a full set still answers for
 * the tags it has and refuses new ones; copy gives every tag once; wipe
 * empties it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xroom/util/tagset.h"

static int setup(void **state)
{
	struct xr_tagset *s = calloc(1, sizeof(*s));

	*state = s;
	return s ? 0 : -1;
}

static int teardown(void **state)
{
	xr_tagset_wipe(*state);
	free(*state);
	return 0;
}

/* A tag like the experiments make: first byte never 0, the rest spread. */
static void tag(unsigned i, unsigned char t[XR_TAG_BYTES])
{
	uint64_t h = (i + 1) * 0x9e3779b97f4a7c15ull;

	memset(t, 0, XR_TAG_BYTES);
	memcpy(t, &i, sizeof(i));
	memcpy(t + 8, &h, sizeof(h));
	t[0] |= 1;
	t[7] = 0x5a;
}

static void new_once_then_known(void **state)
{
	struct xr_tagset *s = *state;
	unsigned char a[XR_TAG_BYTES], b[XR_TAG_BYTES];

	tag(1, a);
	tag(2, b);
	assert_false(xr_tagset_has(s, a)); /* empty: no table yet */
	assert_int_equal(xr_tagset_add(s, a, 100), 1);
	assert_int_equal(xr_tagset_add(s, a, 100), 0);
	assert_true(xr_tagset_has(s, a));
	assert_false(xr_tagset_has(s, b));
	assert_int_equal(s->n, 1);
}

static void grows_and_keeps_every_tag(void **state)
{
	struct xr_tagset *s = *state;
	unsigned char t[XR_TAG_BYTES];

	for (unsigned i = 0; i < 5000; i++) {
		tag(i, t);
		assert_int_equal(xr_tagset_add(s, t, 100000), 1);
	}
	assert_int_equal(s->n, 5000);
	assert_true(s->cap >= 10000); /* at most half full */
	for (unsigned i = 0; i < 5000; i++) {
		tag(i, t);
		assert_true(xr_tagset_has(s, t));
		assert_int_equal(xr_tagset_add(s, t, 100000), 0);
	}
}

static void a_full_set_refuses_new_tags(void **state)
{
	struct xr_tagset *s = *state;
	unsigned char t[XR_TAG_BYTES];
	unsigned i;

	/* max is only looked at when the table would have to grow */
	for (i = 0; s->n < 512 || s->n * 2 < s->cap; i++) {
		tag(i, t);
		assert_int_equal(xr_tagset_add(s, t, 512), 1);
	}
	tag(i, t);
	assert_int_equal(xr_tagset_add(s, t, 512), -ENOSPC);
	tag(0, t);
	assert_int_equal(xr_tagset_add(s, t, 512), 0);
}

static int cmp_tags(const void *a, const void *b)
{
	return memcmp(a, b, XR_TAG_BYTES);
}

static void copy_gives_every_tag_once(void **state)
{
	struct xr_tagset *s = *state;
	unsigned char t[XR_TAG_BYTES], *out = malloc(300 * XR_TAG_BYTES);

	assert_non_null(out);
	for (unsigned i = 0; i < 300; i++) {
		tag(i, t);
		xr_tagset_add(s, t, 1000);
	}
	xr_tagset_copy(s, out);
	qsort(out, 300, XR_TAG_BYTES, cmp_tags);
	for (unsigned i = 1; i < 300; i++)
		assert_true(memcmp(out + (i - 1) * XR_TAG_BYTES,
				   out + i * XR_TAG_BYTES, XR_TAG_BYTES) < 0);
	for (unsigned i = 0; i < 300; i++) {
		tag(i, t);
		assert_non_null(bsearch(t, out, 300, XR_TAG_BYTES, cmp_tags));
	}
	free(out);
}

static void wipe_empties(void **state)
{
	struct xr_tagset *s = *state;
	unsigned char t[XR_TAG_BYTES];

	tag(7, t);
	xr_tagset_add(s, t, 10);
	xr_tagset_wipe(s);
	assert_null(s->slots);
	assert_int_equal(s->n, 0);
	assert_int_equal(s->cap, 0);
	assert_false(xr_tagset_has(s, t));
	assert_int_equal(xr_tagset_add(s, t, 10), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(new_once_then_known),
		T(grows_and_keeps_every_tag),
		T(a_full_set_refuses_new_tags),
		T(copy_gives_every_tag_once),
		T(wipe_empties),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_rxbuf.c: the transport's gathering buffer: nothing allocated while
 * empty or for empty pieces, growth from 4 KiB by doubling but never past
 * the bound, bytes kept in order across growths, and reset as the one way
 * back to empty. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "xroom/util/rxbuf.h"

static int setup(void **state)
{
	struct xr_rxbuf *b = calloc(1, sizeof(*b));

	*state = b;
	return b ? 0 : -1;
}

static int teardown(void **state)
{
	xr_rxbuf_reset(*state);
	free(*state);
	return 0;
}

static void empty_pieces_allocate_nothing(void **state)
{
	struct xr_rxbuf *b = *state;

	assert_int_equal(xr_rxbuf_append(b, "", 0, 65536), 0);
	assert_null(b->p);
	assert_int_equal(b->len, 0);
	assert_int_equal(b->cap, 0);
}

static void grows_by_doubling_up_to_the_bound(void **state)
{
	struct xr_rxbuf *b = *state;
	char piece[1000];

	memset(piece, 'x', sizeof(piece));
	assert_int_equal(xr_rxbuf_append(b, "ab", 2, 10000), 0);
	assert_int_equal(b->cap, 4096);
	for (int i = 0; i < 5; i++)
		assert_int_equal(xr_rxbuf_append(b, piece, sizeof(piece), 10000), 0);
	assert_int_equal(b->len, 5002);
	assert_int_equal(b->cap, 8192);
	for (int i = 0; i < 4; i++)
		assert_int_equal(xr_rxbuf_append(b, piece, sizeof(piece), 10000), 0);
	assert_int_equal(b->len, 9002);
	assert_int_equal(b->cap, 10000); /* 16384 would pass the bound */
	assert_memory_equal(b->p, "abxxx", 5);
	assert_int_equal(b->p[9001], 'x');
}

static void a_small_bound_is_the_first_size(void **state)
{
	struct xr_rxbuf *b = *state;

	assert_int_equal(xr_rxbuf_append(b, "{}", 2, 1024), 0);
	assert_int_equal(b->cap, 1024);
}

static void a_big_piece_jumps_ahead(void **state)
{
	struct xr_rxbuf *b = *state;
	char *big = calloc(1, 20000);

	assert_non_null(big);
	assert_int_equal(xr_rxbuf_append(b, big, 20000, 65536), 0);
	assert_int_equal(b->cap, 32768);
	free(big);
}

static void reset_empties(void **state)
{
	struct xr_rxbuf *b = *state;

	assert_int_equal(xr_rxbuf_append(b, "abc", 3, 4096), 0);
	xr_rxbuf_reset(b);
	assert_null(b->p);
	assert_int_equal(b->len, 0);
	assert_int_equal(b->cap, 0);
	xr_rxbuf_reset(b); /* twice is fine */
	assert_int_equal(xr_rxbuf_append(b, "d", 1, 4096), 0);
	assert_memory_equal(b->p, "d", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(empty_pieces_allocate_nothing),
		T(grows_by_doubling_up_to_the_bound),
		T(a_small_bound_is_the_first_size),
		T(a_big_piece_jumps_ahead),
		T(reset_empties),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_rate.c: the per-connection token bucket at a stepped clock: refill
 * arithmetic in thousandths of a token, the cap at burst, one notify a
 * second, the close after drops in 3 consecutive seconds, and a gap that
 * resets that streak. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "xroom/util/rate.h"

static int setup(void **state)
{
	struct xr_rate *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void init_fills_the_bucket(void **state)
{
	struct xr_rate *r = *state;

	xr_rate_init(r, 12345, 200);
	assert_int_equal(r->millitok, 200000);
	assert_int_equal(r->last_ms, 12345);
	assert_int_equal(r->drop_sec, -1);
	assert_int_equal(r->streak, 0);
	assert_int_equal(r->streak_ms, 0);
}

static void burst_then_drop(void **state)
{
	struct xr_rate *r = *state;

	xr_rate_init(r, 10000, 200);
	for (int i = 0; i < 200; i++)
		assert_int_equal(xr_rate_take(r, 10000, 50, 200), XR_RATE_OK);
	assert_int_equal(r->millitok, 0);
	assert_int_equal(xr_rate_take(r, 10000, 50, 200), XR_RATE_NOTIFY);
	/* a streak's seconds count from its first drop */
	assert_int_equal(r->streak_ms, 10000);
	assert_int_equal(r->drop_sec, 0);
	assert_int_equal(r->streak, 1);
}

static void refill_arithmetic(void **state)
{
	struct xr_rate *r = *state;

	/* 50 a second is 50 millitokens a millisecond: 19 ms give 950. */
	xr_rate_init(r, 10000, 200);
	for (int i = 0; i < 200; i++)
		xr_rate_take(r, 10000, 50, 200);
	assert_int_equal(xr_rate_take(r, 10019, 50, 200), XR_RATE_NOTIFY);
	assert_int_equal(r->millitok, 950);
	assert_int_equal(r->last_ms, 10019);
	/* one more ms makes a whole token: taken, nothing left over */
	assert_int_equal(xr_rate_take(r, 10020, 50, 200), XR_RATE_OK);
	assert_int_equal(r->millitok, 0);

	/* 3 a second: 333 ms give 999 (short), 334 give 1002 (2 left) */
	xr_rate_init(r, 0, 2);
	assert_int_equal(xr_rate_take(r, 0, 3, 2), XR_RATE_OK);
	assert_int_equal(xr_rate_take(r, 0, 3, 2), XR_RATE_OK);
	assert_int_equal(xr_rate_take(r, 333, 3, 2), XR_RATE_NOTIFY);
	assert_int_equal(r->millitok, 999);
	assert_int_equal(xr_rate_take(r, 334, 3, 2), XR_RATE_OK);
	assert_int_equal(r->millitok, 2);
	/* the cap applies before the token is spent: burst 1 never keeps 2 */
	xr_rate_init(r, 0, 1);
	assert_int_equal(xr_rate_take(r, 0, 3, 1), XR_RATE_OK);
	assert_int_equal(xr_rate_take(r, 333, 3, 1), XR_RATE_NOTIFY);
	assert_int_equal(xr_rate_take(r, 334, 3, 1), XR_RATE_OK);
	assert_int_equal(r->millitok, 0);
}

static void steady_rate_is_never_limited(void **state)
{
	struct xr_rate *r = *state;

	/* exactly per_second messages a second forever, from an empty bucket */
	xr_rate_init(r, 0, 1);
	for (int64_t t = 0; t < 60000; t += 20)
		assert_int_equal(xr_rate_take(r, t, 50, 1), XR_RATE_OK);
}

static void cap_at_burst(void **state)
{
	struct xr_rate *r = *state;
	int ok = 0;

	xr_rate_init(r, 0, 5);
	for (int i = 0; i < 5; i++)
		xr_rate_take(r, 0, 10, 5);
	/* an hour later the bucket holds burst tokens, not 36000 */
	for (int i = 0; i < 100; i++)
		ok += xr_rate_take(r, 3600000, 10, 5) == XR_RATE_OK;
	assert_int_equal(ok, 5);
	assert_true(r->millitok < 1000);
}

static void clock_going_back_gives_nothing(void **state)
{
	struct xr_rate *r = *state;

	xr_rate_init(r, 5000, 1);
	assert_int_equal(xr_rate_take(r, 5000, 1000, 1), XR_RATE_OK);
	assert_int_equal(xr_rate_take(r, 4000, 1000, 1), XR_RATE_NOTIFY);
	assert_int_equal(r->millitok, 0);
	assert_int_equal(r->last_ms, 5000); /* not moved backwards */
	/* and it refills from 5000, not from 4000 */
	assert_int_not_equal(xr_rate_take(r, 5000, 1000, 1), XR_RATE_OK);
	assert_int_equal(xr_rate_take(r, 5001, 1000, 1), XR_RATE_OK);
}

static void one_notify_a_second(void **state)
{
	struct xr_rate *r = *state;
	int notify = 0, drop = 0;

	xr_rate_init(r, 7000, 1);
	assert_int_equal(xr_rate_take(r, 7000, 1, 1), XR_RATE_OK);
	for (int64_t t = 7000; t < 7990; t += 10) {
		enum xr_rate_verdict v = xr_rate_take(r, t, 1, 1);
		notify += v == XR_RATE_NOTIFY;
		drop += v == XR_RATE_DROP;
	}
	assert_int_equal(notify, 1);
	assert_int_equal(drop, 98);
}

static void close_after_three_seconds_of_drops(void **state)
{
	struct xr_rate *r = *state;

	/* 1 token a second, burst 1: the first message of each second is
	 * taken, the second one dropped. */
	xr_rate_init(r, 0, 1);
	assert_int_equal(xr_rate_take(r, 0, 1, 1), XR_RATE_OK);
	assert_int_equal(xr_rate_take(r, 1, 1, 1), XR_RATE_NOTIFY);
	assert_int_equal(r->streak, 1);
	assert_int_equal(xr_rate_take(r, 2, 1, 1), XR_RATE_DROP);
	assert_int_equal(xr_rate_take(r, 1000, 1, 1), XR_RATE_OK);
	assert_int_equal(xr_rate_take(r, 1001, 1, 1), XR_RATE_NOTIFY);
	assert_int_equal(r->streak, 2);
	assert_int_equal(xr_rate_take(r, 1999, 1, 1), XR_RATE_DROP);
	assert_int_equal(xr_rate_take(r, 2000, 1, 1), XR_RATE_OK);
	assert_int_equal(xr_rate_take(r, 2001, 1, 1), XR_RATE_CLOSE);
}

static void close_takes_two_full_seconds(void **state)
{
	struct xr_rate *r = *state;

	/* No refill at all (0 a second), so every message after the first is
	 * dropped. Drops at 999 ms and 1000 ms are one second of the streak,
	 * not two: seconds count from the first drop, so a flood is closed
	 * only 2 s after it was first limited, never 1.001 s. */
	xr_rate_init(r, 0, 1);
	assert_int_equal(xr_rate_take(r, 0, 0, 1), XR_RATE_OK);
	assert_int_equal(xr_rate_take(r, 999, 0, 1), XR_RATE_NOTIFY);
	assert_int_equal(xr_rate_take(r, 1000, 0, 1), XR_RATE_DROP);
	assert_int_equal(xr_rate_take(r, 1998, 0, 1), XR_RATE_DROP);
	assert_int_equal(xr_rate_take(r, 1999, 0, 1), XR_RATE_NOTIFY);
	assert_int_equal(r->streak, 2);
	assert_int_equal(xr_rate_take(r, 2998, 0, 1), XR_RATE_DROP);
	assert_int_equal(xr_rate_take(r, 2999, 0, 1), XR_RATE_CLOSE);
}

static void gap_resets_the_streak(void **state)
{
	struct xr_rate *r = *state;

	xr_rate_init(r, 0, 1);
	xr_rate_take(r, 0, 1, 1);
	assert_int_equal(xr_rate_take(r, 1, 1, 1), XR_RATE_NOTIFY);    /* s0 */
	assert_int_equal(xr_rate_take(r, 1000, 1, 1), XR_RATE_OK);
	assert_int_equal(xr_rate_take(r, 1001, 1, 1), XR_RATE_NOTIFY); /* s1 */
	/* second 2: only what the bucket allows, no drop */
	assert_int_equal(xr_rate_take(r, 2000, 1, 1), XR_RATE_OK);
	/* second 3: drops again, but the streak starts over */
	assert_int_equal(xr_rate_take(r, 3000, 1, 1), XR_RATE_OK);
	assert_int_equal(xr_rate_take(r, 3001, 1, 1), XR_RATE_NOTIFY);
	assert_int_equal(r->streak, 1);
	assert_int_equal(xr_rate_take(r, 4000, 1, 1), XR_RATE_OK);
	assert_int_equal(xr_rate_take(r, 4001, 1, 1), XR_RATE_NOTIFY);
	assert_int_equal(xr_rate_take(r, 5000, 1, 1), XR_RATE_OK);
	assert_int_equal(xr_rate_take(r, 5001, 1, 1), XR_RATE_CLOSE);
}

static void drops_in_second_zero_count(void **state)
{
	struct xr_rate *r = *state;

	/* second 0 is a real second (drop_sec -1 means none) */
	xr_rate_init(r, 0, 1);
	xr_rate_take(r, 0, 1, 1);
	assert_int_equal(xr_rate_take(r, 10, 1, 1), XR_RATE_NOTIFY);
	assert_int_equal(r->drop_sec, 0);
	assert_int_equal(xr_rate_take(r, 20, 1, 1), XR_RATE_DROP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(init_fills_the_bucket, setup,
						teardown),
		cmocka_unit_test_setup_teardown(burst_then_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(refill_arithmetic, setup, teardown),
		cmocka_unit_test_setup_teardown(steady_rate_is_never_limited, setup,
						teardown),
		cmocka_unit_test_setup_teardown(cap_at_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(clock_going_back_gives_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(one_notify_a_second, setup,
						teardown),
		cmocka_unit_test_setup_teardown(close_after_three_seconds_of_drops,
						setup, teardown),
		cmocka_unit_test_setup_teardown(close_takes_two_full_seconds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(gap_resets_the_streak, setup,
						teardown),
		cmocka_unit_test_setup_teardown(drops_in_second_zero_count, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

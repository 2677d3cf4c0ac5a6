/* test_stats.c: the statistics of the experiments report against values
 * worked out by hand (shown in the comments) and textbook tables: the Wilson
 * interval and the pooled two-proportion z-test of 50/1000 against 70/1000,
 * chi-square survival values at the 5%, 1% and 0.1% critical points, the
 * closed form for 2 degrees of freedom in both branches of the incomplete
 * gamma, and the sample-ratio check. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "xroom/util/stats.h"

/* |got - want| <= tol, with both values printed when it fails. */
#define assert_near(got, want, tol) assert_near_(got, want, tol, #got, __FILE__, __LINE__)
static void assert_near_(double got, double want, double tol, const char *expr,
			 const char *file, int line)
{
	if (!(fabs(got - want) <= tol)) {
		print_error("%s = %.17g, want %.17g (tolerance %g)\n", expr, got,
			    want, tol);
		_fail(file, line);
	}
}

/* Relative closeness, for values far from 1. */
#define assert_rel(got, want, rel) \
	assert_near_(got, want, fabs(want) * (rel), #got, __FILE__, __LINE__)

/*
 * The worked example: control 50 of 1000, treatment 70 of 1000.
 *
 * Wilson, z = 1.959963985 (z^2 = 3.841458821):
 *   50/1000: p = 0.05, den = 1 + z^2/n = 1.003841459
 *            mid  = (p + z^2/2n) / den = (0.05 + 0.001920729) / den
 *                 = 0.051722041
 *            half = z * sqrt(p(1-p)/n + z^2/4n^2) / den
 *                 = 1.959963985 * sqrt(0.0000475 + 0.00000096036) / den
 *                 = 1.959963985 * 0.006961348 / 1.003841459 = 0.013591779
 *            [0.038130262, 0.065313820]
 *   70/1000: p = 0.07, mid = (0.07 + 0.001920729) / den = 0.071645506
 *            half = z * sqrt(0.0000651 + 0.00000096036) / den = 0.015869142
 *            [0.055776364, 0.087514648]
 *
 * Pooled z-test: pooled p = 120/2000 = 0.06
 *   se = sqrt(0.06 * 0.94 * (1/1000 + 1/1000)) = sqrt(0.0001128)
 *      = 0.010620734
 *   z  = (0.07 - 0.05) / se = 1.883108943
 *   two-sided p = erfc(z / sqrt 2) = 2 * (1 - Phi(1.8831)) = 0.059685606
 */
static void wilson_worked_example(void **state)
{
	double lo, hi;

	(void)state;
	xr_stats_wilson(50, 1000, &lo, &hi);
	assert_near(lo, 0.038130262, 1e-8);
	assert_near(hi, 0.065313820, 1e-8);
	xr_stats_wilson(70, 1000, &lo, &hi);
	assert_near(lo, 0.055776364, 1e-8);
	assert_near(hi, 0.087514648, 1e-8);
}

/* The edges: 0/10 is [0, z^2/n / (1 + z^2/n)] = [0, 0.277532], 10/10 its
 * mirror, and no data at all is the whole of [0, 1]. */
static void wilson_edges(void **state)
{
	double lo, hi;

	(void)state;
	xr_stats_wilson(0, 10, &lo, &hi);
	assert_near(lo, 0, 1e-12);
	assert_true(lo >= 0);
	assert_near(hi, 0.3841458821 / 1.3841458821, 1e-9);
	xr_stats_wilson(10, 10, &lo, &hi);
	assert_near(lo, 1 - 0.3841458821 / 1.3841458821, 1e-9);
	assert_near(hi, 1, 1e-12);
	assert_true(hi <= 1);
	xr_stats_wilson(0, 0, &lo, &hi);
	assert_true(lo == 0 && hi == 1);
	/* always around the observed rate */
	for (uint64_t k = 0; k <= 40; k++) {
		xr_stats_wilson(k, 40, &lo, &hi);
		assert_true(lo <= (double)k / 40 + 1e-12);
		assert_true(hi >= (double)k / 40 - 1e-12);
		assert_true(lo >= 0 && hi <= 1 && lo < hi);
	}
}

static void ztest_worked_example(void **state)
{
	double z, p;

	(void)state;
	p = xr_stats_ztest(50, 1000, 70, 1000, &z);
	assert_near(z, 1.883108943, 1e-8);
	assert_near(p, 0.059685606, 1e-8);
	/* the other way round: the sign flips, the p-value stays */
	p = xr_stats_ztest(70, 1000, 50, 1000, &z);
	assert_near(z, -1.883108943, 1e-8);
	assert_near(p, 0.059685606, 1e-8);
	/* equal rates: z = 0, p = 1 */
	p = xr_stats_ztest(30, 600, 15, 300, &z);
	assert_near(z, 0, 1e-12);
	assert_near(p, 1, 1e-12);
	/* a large, clear difference: 100/1000 vs 200/1000, pooled 0.15,
	 * se = sqrt(0.15*0.85*0.002) = 0.015968719, z = 6.262242910,
	 * p = erfc(z/sqrt 2) = 3.7948e-10 */
	p = xr_stats_ztest(100, 1000, 200, 1000, &z);
	assert_near(z, 6.262242910, 1e-8);
	assert_rel(p, 3.7947919e-10, 1e-5);
}

static void ztest_undefined(void **state)
{
	double z = 42;

	(void)state;
	assert_true(xr_stats_ztest(0, 0, 5, 100, &z) == 1.0);
	assert_true(z == 0);
	z = 42;
	assert_true(xr_stats_ztest(5, 100, 0, 0, &z) == 1.0);
	assert_true(z == 0);
	/* no variation at all: nobody converts, or everybody does */
	assert_true(xr_stats_ztest(0, 100, 0, 200, &z) == 1.0);
	assert_true(xr_stats_ztest(100, 100, 200, 200, &z) == 1.0);
}

/* Critical values from any chi-square table (alpha = 0.05, 0.01, 0.001). */
static void chi2_table_values(void **state)
{
	(void)state;
	assert_near(xr_stats_chi2_sf(3.841458820694124, 1), 0.05, 1e-9);
	assert_near(xr_stats_chi2_sf(5.991464547107979, 2), 0.05, 1e-9);
	assert_near(xr_stats_chi2_sf(7.814727903251178, 3), 0.05, 1e-9);
	assert_near(xr_stats_chi2_sf(18.307038053275146, 10), 0.05, 1e-9);
	assert_near(xr_stats_chi2_sf(124.34211340400407, 100), 0.05, 1e-9);
	assert_near(xr_stats_chi2_sf(6.634896601021214, 1), 0.01, 1e-9);
	assert_near(xr_stats_chi2_sf(13.276704135987622, 4), 0.01, 1e-9);
	assert_near(xr_stats_chi2_sf(10.827566170662733, 1), 0.001, 1e-10);
	assert_near(xr_stats_chi2_sf(13.815510557964274, 2), 0.001, 1e-10);
	/* the median of chi-square(1) is 0.454936423 */
	assert_near(xr_stats_chi2_sf(0.454936423119572, 1), 0.5, 1e-9);
}

static void chi2_closed_forms(void **state)
{
	(void)state;
	/* sf(0, k) = 1, for any k; no degrees of freedom: 1 */
	for (double k = 1; k <= 12; k++)
		assert_near(xr_stats_chi2_sf(0, k), 1, 1e-15);
	assert_true(xr_stats_chi2_sf(5, 0) == 1.0);
	/* df = 2: sf(x) = exp(-x/2), both below (series) and above (continued
	 * fraction) x/2 = a + 1 = 2 */
	for (double x = 0.25; x < 60; x *= 1.7)
		assert_rel(xr_stats_chi2_sf(x, 2), exp(-x / 2), 1e-9);
	/* df = 1: sf(x) = erfc(sqrt(x/2)) */
	for (double x = 0.01; x < 80; x *= 2.3)
		assert_rel(xr_stats_chi2_sf(x, 1), erfc(sqrt(x / 2)), 1e-9);
	/* decreasing in x, within [0, 1], never NaN */
	{
		double prev = 1.0;
		for (double x = 0; x < 400; x += 0.5) {
			double p = xr_stats_chi2_sf(x, 3);
			assert_false(isnan(p));
			assert_true(p >= 0 && p <= 1 && p <= prev + 1e-15);
			prev = p;
		}
		assert_true(prev < 1e-80);
	}
}

/* The sample-ratio check is a chi-square goodness of fit with k-1 degrees
 * of freedom. */
static void srm_known_values(void **state)
{
	double chi2, p;

	(void)state;
	{
		/* 520/480 against 50/50: expected 500 each,
		 * chi2 = 20^2/500 * 2 = 1.6, p = erfc(sqrt 0.8) = 0.205903211 */
		uint64_t o[] = { 520, 480 };
		double w[] = { 50, 50 };
		p = xr_stats_srm(o, w, 2, &chi2);
		assert_near(chi2, 1.6, 1e-12);
		assert_near(p, 0.205903211, 1e-8);
		/* weights need not be normalised */
		double w1[] = { 1, 1 };
		assert_near(xr_stats_srm(o, w1, 2, &chi2), 0.205903211, 1e-8);
	}
	{
		/* 5500/4500 against 50/50: chi2 = 500^2/5000 * 2 = 100,
		 * p = erfc(sqrt 50) = 1.5240e-23: a mismatch */
		uint64_t o[] = { 5500, 4500 };
		double w[] = { 1, 1 };
		p = xr_stats_srm(o, w, 2, &chi2);
		assert_near(chi2, 100, 1e-9);
		assert_rel(p, 1.5239706e-23, 1e-5);
		assert_true(p < 0.001);
	}
	{
		/* 2100/2900/5000 against 20/30/50: expected 2000/3000/5000,
		 * chi2 = 100^2/2000 + 100^2/3000 + 0 = 8.333333, df = 2,
		 * p = exp(-8.333333/2) = 0.015503854 */
		uint64_t o[] = { 2100, 2900, 5000 };
		double w[] = { 20, 30, 50 };
		p = xr_stats_srm(o, w, 3, &chi2);
		assert_near(chi2, 25.0 / 3, 1e-9);
		assert_near(p, exp(-25.0 / 6), 1e-9);
		assert_near(p, 0.015503854, 1e-8);
		/* an exact split: chi2 = 0, p = 1 */
		uint64_t e[] = { 2000, 3000, 5000 };
		p = xr_stats_srm(e, w, 3, &chi2);
		assert_near(chi2, 0, 1e-12);
		assert_near(p, 1, 1e-12);
	}
	{
		/* a weight-0 category that observes 0 is left out (df = 1) */
		uint64_t o[] = { 520, 0, 480 };
		double w[] = { 1, 0, 1 };
		p = xr_stats_srm(o, w, 3, &chi2);
		assert_near(chi2, 1.6, 1e-12);
		assert_near(p, 0.205903211, 1e-8);
		/* ... and one that observes anything is a mismatch */
		uint64_t bad[] = { 520, 1, 480 };
		p = xr_stats_srm(bad, w, 3, &chi2);
		assert_true(p == 0);
		assert_true(isinf(chi2));
	}
	{
		/* nothing observed, or a single category: nothing to test */
		uint64_t z[] = { 0, 0 };
		double w[] = { 1, 1 };
		assert_true(xr_stats_srm(z, w, 2, &chi2) == 1.0);
		uint64_t one[] = { 77 };
		assert_true(xr_stats_srm(one, w, 1, &chi2) == 1.0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wilson_worked_example),
		cmocka_unit_test(wilson_edges),
		cmocka_unit_test(ztest_worked_example),
		cmocka_unit_test(ztest_undefined),
		cmocka_unit_test(chi2_table_values),
		cmocka_unit_test(chi2_closed_forms),
		cmocka_unit_test(srm_known_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

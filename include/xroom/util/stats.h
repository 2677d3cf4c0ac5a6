/* xroom/util/stats.h: the statistics of the experiments report: Wilson score
 * interval, two-proportion z-test, and the chi-square sample-ratio check.
 * Pure functions of counts. */
#ifndef XROOM_STATS_H
#define XROOM_STATS_H

#include <stddef.h>
#include <stdint.h>

/* 95% Wilson score interval of k successes out of n (n > 0). */
void xr_stats_wilson(uint64_t k, uint64_t n, double *lo, double *hi);
/* Two-sided p-value of the pooled two-proportion z-test of k1/n1 against
 * k0/n0; z gets the statistic. 1.0 when undefined (no data, or no
 * variation at all). */
double xr_stats_ztest(uint64_t k0, uint64_t n0, uint64_t k1, uint64_t n1,
		      double *z);
/* Chi-square goodness of fit of observed counts against weights (k
 * categories); returns the p-value with k-1 degrees of freedom, chi2 gets
 * the statistic. Categories of weight 0 must observe 0 (else p = 0). */
double xr_stats_srm(const uint64_t *observed, const double *weights, size_t k,
		    double *chi2);
/* Upper tail of the chi-square distribution with df degrees of freedom. */
double xr_stats_chi2_sf(double x, double df);

#endif

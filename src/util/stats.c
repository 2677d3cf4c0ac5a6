/* stats.c: Wilson interval, two-proportion z-test and the chi-square
 * sample-ratio-mismatch test, with the regularised incomplete gamma function
 * (series below a+1, Lentz's continued fraction above) for the chi-square
 * tail. Pure maths on counts; libm only. */
#include <math.h>

#include "xroom/util/stats.h"

#define Z95 1.959963984540054

void xr_stats_wilson(uint64_t k, uint64_t n, double *lo, double *hi)
{
	double p, nn = (double)n, z2 = Z95 * Z95, den, mid, half;

	if (!n) {
		*lo = 0;
		*hi = 1;
		return;
	}
	p = (double)k / nn;
	den = 1 + z2 / nn;
	mid = (p + z2 / (2 * nn)) / den;
	half = Z95 * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / den;
	*lo = mid - half < 0 ? 0 : mid - half;
	*hi = mid + half > 1 ? 1 : mid + half;
}

double xr_stats_ztest(uint64_t k0, uint64_t n0, uint64_t k1, uint64_t n1,
		      double *z)
{
	double p0, p1, pp, se;

	*z = 0;
	if (!n0 || !n1)
		return 1.0;
	p0 = (double)k0 / (double)n0;
	p1 = (double)k1 / (double)n1;
	pp = (double)(k0 + k1) / (double)(n0 + n1);
	se = sqrt(pp * (1 - pp) * (1.0 / (double)n0 + 1.0 / (double)n1));
	if (se == 0)
		return 1.0;
	*z = (p1 - p0) / se;
	return erfc(fabs(*z) / sqrt(2.0));
}

/* Regularised upper incomplete gamma Q(a, x). */
static double gamma_q(double a, double x)
{
	const double eps = 1e-15, tiny = 1e-300;

	if (x <= 0)
		return 1.0;
	if (x < a + 1) { /* series for P, then Q = 1 - P */
		double sum = 1.0 / a, term = sum, ap = a;
		for (int i = 0; i < 10000; i++) {
			ap += 1;
			term *= x / ap;
			sum += term;
			if (fabs(term) < fabs(sum) * eps)
				break;
		}
		return 1.0 - sum * exp(-x + a * log(x) - lgamma(a));
	} else { /* continued fraction for Q */
		double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
		for (int i = 1; i < 10000; i++) {
			double an = -i * (i - a), del;
			b += 2;
			d = an * d + b;
			if (fabs(d) < tiny)
				d = tiny;
			c = b + an / c;
			if (fabs(c) < tiny)
				c = tiny;
			d = 1 / d;
			del = d * c;
			h *= del;
			if (fabs(del - 1) < eps)
				break;
		}
		return exp(-x + a * log(x) - lgamma(a)) * h;
	}
}

double xr_stats_chi2_sf(double x, double df)
{
	if (df <= 0)
		return 1.0;
	return gamma_q(df / 2, x / 2);
}

double xr_stats_srm(const uint64_t *observed, const double *weights, size_t k,
		    double *chi2)
{
	double total = 0, wsum = 0, x = 0;
	size_t used = 0;

	*chi2 = 0;
	for (size_t i = 0; i < k; i++) {
		total += (double)observed[i];
		wsum += weights[i];
	}
	if (total == 0 || wsum <= 0)
		return 1.0;
	for (size_t i = 0; i < k; i++) {
		double expct = total * weights[i] / wsum, d;
		if (weights[i] <= 0) {
			if (observed[i]) {
				*chi2 = INFINITY;
				return 0.0;
			}
			continue;
		}
		d = (double)observed[i] - expct;
		x += d * d / expct;
		used++;
	}
	*chi2 = x;
	return used > 1 ? xr_stats_chi2_sf(x, (double)(used - 1)) : 1.0;
}

/* rate.c: token bucket in thousandths of a token, refilled from elapsed
 * monotonic time, plus the "3 consecutive seconds of drops" rule. Pure logic:
 * the caller passes the clock, so tests can step it. */
#include "xroom/util/rate.h"

void xr_rate_init(struct xr_rate *r, int64_t now_ms, uint32_t burst)
{
	r->last_ms = now_ms;
	r->drop_sec = -1;
	r->streak_ms = 0;
	r->millitok = burst * 1000u;
	r->streak = 0;
}

enum xr_rate_verdict xr_rate_take(struct xr_rate *r, int64_t now_ms,
				  uint32_t per_second, uint32_t burst)
{
	uint64_t cap = (uint64_t)burst * 1000u, tok = r->millitok;
	int64_t sec;

	if (now_ms > r->last_ms) {
		/* per_second tokens a second == per_second millitokens a ms */
		tok += (uint64_t)(now_ms - r->last_ms) * per_second;
		r->last_ms = now_ms;
	}
	if (tok > cap)
		tok = cap;
	if (tok >= 1000) {
		r->millitok = (uint32_t)(tok - 1000);
		return XR_RATE_OK;
	}
	r->millitok = (uint32_t)tok;
	/* Seconds are counted from the first drop of a streak, so closing
	 * takes at least two full seconds of flooding, never a lucky 1.01 s
	 * across two clock ticks. */
	sec = r->drop_sec >= 0 ? (now_ms - r->streak_ms) / 1000 : -1;
	if (sec >= 0 && sec == r->drop_sec)
		return XR_RATE_DROP;
	if (sec >= 0 && sec == r->drop_sec + 1) {
		r->streak++;
	} else {
		r->streak = 1;
		r->streak_ms = now_ms;
		sec = 0;
	}
	r->drop_sec = sec;
	return r->streak >= 3 ? XR_RATE_CLOSE : XR_RATE_NOTIFY;
}

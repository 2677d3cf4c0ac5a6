/* xroom/util/rate.h: the per-connection token bucket of the wire contract. One
 * token per message; at most one rate-limited error a second; a connection
 * that had messages dropped in each of 3 consecutive seconds is closed. */
#ifndef XROOM_RATE_H
#define XROOM_RATE_H

#include <stdint.h>

enum xr_rate_verdict {
	XR_RATE_OK,     /* take the message */
	XR_RATE_DROP,   /* drop it silently (already told this second) */
	XR_RATE_NOTIFY, /* drop it and send one rate-limited error */
	XR_RATE_CLOSE,  /* drop it, send the error, close 1008 */
};

struct xr_rate {
	int64_t last_ms;   /* last refill; 0 = never */
	int64_t streak_ms; /* time of the first drop of the current streak */
	int64_t drop_sec;  /* second of the last drop since streak_ms; -1 none */
	uint32_t millitok; /* tokens * 1000 */
	uint8_t streak;    /* consecutive seconds with drops */
};

/* A full bucket of burst tokens at now_ms. */
void xr_rate_init(struct xr_rate *r, int64_t now_ms, uint32_t burst);
/* Spends one token for a message arriving at now_ms (monotonic). */
enum xr_rate_verdict xr_rate_take(struct xr_rate *r, int64_t now_ms,
				  uint32_t per_second, uint32_t burst);

#endif

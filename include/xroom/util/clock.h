/* xroom/util/clock.h: the daemon's two clocks. Monotonic milliseconds for
 * deadlines, rates and uptime; the wall clock in unix seconds for days and
 * expiries, which tests may move forward (server.c reads the offset from
 * the file named by XROOMD_TEST_CLOCK_FILE). Everything else takes the time
 * as an argument. */
#ifndef XROOM_CLOCK_H
#define XROOM_CLOCK_H

#include <stdint.h>

struct xr_clock {
	int64_t offset_s; /* added to the real wall clock (0 but in tests) */
};

/* Monotonic milliseconds. */
int64_t xr_clock_ms(void);
/* Unix seconds as the daemon sees them: time(NULL) + c->offset_s. */
int64_t xr_clock_wall(const struct xr_clock *c);

#endif

/* clock.c: monotonic milliseconds and the (test-adjustable) wall clock. */
#include <time.h>

#include "xroom/util/clock.h"

int64_t xr_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t xr_clock_wall(const struct xr_clock *c)
{
	return (int64_t)time(NULL) + c->offset_s;
}

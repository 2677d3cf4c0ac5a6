/* xroom/util/memtrim.h: RSS back near its start after many connections close.
 * Called on the daemon's tick with the number of open connections. */
#ifndef XROOM_MEMTRIM_H
#define XROOM_MEMTRIM_H

#include <stdint.h>

struct xr_memtrim {
	uint32_t peak;    /* most connections since the last trim */
	int64_t last_ms;  /* monotonic time of the last trim */
};

/* n: connections open now; now: monotonic milliseconds. */
void xr_memtrim_tick(struct xr_memtrim *t, uint32_t n, int64_t now);

#endif

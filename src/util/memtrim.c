/* memtrim.c: hands the pages of closed connections back to the system
 * once a crowd has left (glibc's malloc_trim), at most once a second. */
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "xroom/util/log.h"
#include "xroom/util/memtrim.h"

#define TRIM_MIN_DROP 256   /* connections gone since the peak before a trim */
#define TRIM_EVERY_MS 1000  /* at most one trim a second */

/* glibc keeps the memory of closed connections (lws's struct lws, rx
 * buffers, our queues) in its free lists, scattered through the heap, so
 * RSS stays at its peak after a crowd leaves. When the connection count has
 * halved (by TRIM_MIN_DROP at least) since its peak, or dropped to zero,
 * malloc_trim(0) hands the free pages back. Rate-limited: it walks the
 * free lists and stalls the loop once (6-9 ms after 8,000 connections
 * closed, on a loaded machine; see docs/performance.md). */
void xr_memtrim_tick(struct xr_memtrim *t, uint32_t n, int64_t now)
{
#ifdef __GLIBC__
	struct timespec t0, t1;

	if (n > t->peak)
		t->peak = n;
	if (now - t->last_ms < TRIM_EVERY_MS || t->peak == n)
		return;
	if (n && (t->peak - n < TRIM_MIN_DROP || n > t->peak / 2))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	malloc_trim(0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	xr_debug("memory trimmed: %u connections (peak %u), %lld us", n,
		 t->peak, (long long)((t1.tv_sec - t0.tv_sec) * 1000000 +
				       (t1.tv_nsec - t0.tv_nsec) / 1000));
	t->peak = n;
	t->last_ms = now;
#else
	(void)t;
	(void)n;
	(void)now;
#endif
}

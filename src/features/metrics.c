/* metrics.c: /healthz and /metrics bodies from the hub's counters. Prometheus
 * text exposition format 0.0.4, with HELP and TYPE for every family. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "xroom/features/metrics.h"
#include "xroom/hub/room.h"

int xr_metrics_healthz(const struct xr_hub *hub, int64_t uptime_s, char *out,
		       size_t n)
{
	int len = snprintf(out, n,
			   "{\"status\":\"ok\",\"rooms\":%zu,\"peers\":%u,"
			   "\"uptime_s\":%lld}", hub->rooms.count, hub->npeers,
			   (long long)uptime_s);

	return len < 0 || (size_t)len >= n ? -E2BIG : len;
}

struct w {
	char *p;
	size_t n, len;
	int err;
};

static void put(struct w *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct w *w, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (w->err)
		return;
	va_start(ap, fmt);
	k = vsnprintf(w->p + w->len, w->n - w->len, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= w->n - w->len)
		w->err = -E2BIG;
	else
		w->len += (size_t)k;
}

static void family(struct w *w, const char *name, const char *type,
		   const char *help)
{
	put(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int xr_metrics_text(const struct xr_hub *hub, int64_t uptime_s, char *out,
		    size_t n)
{
	struct w w = { out, n, 0, 0 };

	family(&w, "xroom_connections", "gauge", "Open WebSocket connections.");
	put(&w, "xroom_connections %u\n", hub->nconns);
	family(&w, "xroom_rooms", "gauge", "Rooms with at least one peer.");
	put(&w, "xroom_rooms %zu\n", hub->rooms.count);
	family(&w, "xroom_peers", "gauge", "Joined peers.");
	put(&w, "xroom_peers %u\n", hub->npeers);
	family(&w, "xroom_messages_relayed_total", "counter",
	       "Signal messages relayed to a peer.");
	put(&w, "xroom_messages_relayed_total %llu\n",
	    (unsigned long long)hub->stats.relayed);
	family(&w, "xroom_bytes_relayed_total", "counter",
	       "Bytes of relayed messages as received.");
	put(&w, "xroom_bytes_relayed_total %llu\n",
	    (unsigned long long)hub->stats.relayed_bytes);
	family(&w, "xroom_errors_total", "counter",
	       "Error messages sent to clients, by code.");
	for (int e = 1; e < XR_E__COUNT; e++)
		put(&w, "xroom_errors_total{code=\"%s\"} %llu\n",
		    xr_err_name((enum xr_err)e),
		    (unsigned long long)hub->stats.errors[e]);
	family(&w, "xroom_uptime_seconds", "gauge",
	       "Seconds since the daemon started.");
	put(&w, "xroom_uptime_seconds %lld\n", (long long)uptime_s);
	return w.err ? w.err : (int)w.len;
}

/* xroom/features/metrics.h: the /healthz JSON and the /metrics Prometheus
 * text, both computed from the hub's live counters. */
#ifndef XROOM_METRICS_H
#define XROOM_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct xr_hub;

/* Writes into out (size n); returns the length, or -E2BIG if too small. */
int xr_metrics_healthz(const struct xr_hub *hub, int64_t uptime_s, char *out,
		       size_t n);
int xr_metrics_text(const struct xr_hub *hub, int64_t uptime_s, char *out,
		    size_t n);

#endif

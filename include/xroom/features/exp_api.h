/* xroom/features/exp_api.h: the experiments' HTTP API as answers, without lws:
 * GET /api/session (the visitor's variants and parameters, and fresh
 * iceServers) and POST /api/events (a conversion). The visitor key comes
 * from the transport (http's visitor.c); the clock is passed in. The admin
 * reports are xr_exp_report and xr_exp_counters_json (experiment.h). */
#ifndef XROOM_EXP_API_H
#define XROOM_EXP_API_H

#include <stddef.h>
#include <stdint.h>

#include "xroom/features/answer.h"
#include "xroom/features/experiment.h"

struct xr_config;

/* Counts the visit (once per visitor-day) and answers {"variants": {...},
 * "params": {...}, "iceServers": [...]}; now_s dates the TURN credentials. */
void xr_exp_api_session(struct xr_exp *e, const struct xr_config *cfg,
			const unsigned char key[XR_VISITOR_KEY_BYTES],
			int64_t now_s, struct xr_answer *out);
/* body (borrowed) must be {"event": "<goal>"}: 204 when a running
 * experiment lists the goal (counted once per visitor-day), 404
 * unknown-goal when none does, 400 for any other body. */
void xr_exp_api_event(struct xr_exp *e, const struct xr_config *cfg,
		      const unsigned char key[XR_VISITOR_KEY_BYTES],
		      const char *body, size_t len, struct xr_answer *out);

#endif

/* xroom/hub/dispatch.h: a whole client message, from the transport to the hub:
 * rate limit, size limit, parse, then join, relay, leave or ping. Pure (no
 * lws): tests and fuzzers drive it against a hub. */
#ifndef XROOM_DISPATCH_H
#define XROOM_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

struct xr_hub;
struct xr_peer;

/* Handles one whole client message from p at now_ms (monotonic). buf is
 * borrowed for the call. Answers are queued through the hub; closing, when
 * the contract calls for it, goes through the hub too. */
void xr_dispatch_message(struct xr_hub *hub, struct xr_peer *p,
			 const char *buf, size_t len, int64_t now_ms);

#endif

/* xroom/features/ice.h: the iceServers array handed to clients (welcome and
 * /api/session): STUN URLs, and TURN with coturn REST credentials
 * (use-auth-secret) made fresh for every answer. */
#ifndef XROOM_ICE_H
#define XROOM_ICE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

struct xr_config;

/* coturn REST credential for username under secret: base64(HMAC-SHA1).
 * out must hold at least 29 bytes. Returns 0 or -EIO. */
int xr_ice_turn_credential(const char *secret, const char *username,
			   char *out, size_t outlen);
/* The RTCIceServer array as compact JSON text (malloc'd; caller frees), or
 * NULL on ENOMEM. now is unix seconds: TURN usernames are
 * "<now + ttl_s>:xroom". The TURN server and its credentials only when
 * turn is true: they go to joined peers (welcome), never to whoever asks
 * /api/session (a relay for anyone on the internet otherwise). */
char *xr_ice_json(const struct xr_config *c, int64_t now, bool turn);

#endif

/* xroom/codec/build.h: server messages of the wire contract v1, each serialised
 * once into an xr_buf that every queue it goes to shares. Pure (no hub, no
 * lws). */
#ifndef XROOM_BUILD_H
#define XROOM_BUILD_H

#include <stddef.h>

#include "xroom/codec/codes.h"
#include "xroom/util/outq.h"

/* Each returns a new buffer (refs = 1, owned by the caller) or NULL on
 * ENOMEM. Strings are borrowed. */
struct xr_buf *xr_build_error(enum xr_err e, const char *message);
struct xr_buf *xr_build_peer_event(const char *type, const char *id);
/* from: XR_PEER_ID_LEN characters; data: the JSON text to relay as is. */
struct xr_buf *xr_build_signal(const char *from, const char *data,
			       size_t data_len);
struct xr_buf *xr_build_pong(const char *id_json, size_t id_len);
/* peers: n ids of XR_PEER_ID_LEN chars; ice_json: JSON array text or NULL;
 * title: NULL or a plain string (escaped here). */
struct xr_buf *xr_build_welcome(const char *id, const char *const *peers,
				size_t n, const char *ice_json,
				unsigned max_peers, const char *title);

#endif

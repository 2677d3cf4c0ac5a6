/* xroom/ws.h: the lws protocol callback: WebSocket signaling and, for the
 * same protocol, the HTTP routes (http.c) and service wake-ups. */
#ifndef XROOM_WS_H
#define XROOM_WS_H

#include <libwebsockets.h>

#define XR_SUBPROTOCOL "xroom.v1"

int xr_ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
		   void *user, void *in, size_t len);
/* The hub ops that route wake/kill to lws. */
struct xr_hub_ops;
void xr_ws_hub_ops(struct xr_hub_ops *ops, void *ctx);

#endif

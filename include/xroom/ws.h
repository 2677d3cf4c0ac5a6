/* xroom/ws.h: the lws protocol callback: WebSocket signaling and, for the
 * same protocol, the HTTP routes (http.c) and service wake-ups. */
#ifndef XROOM_WS_H
#define XROOM_WS_H

#include <libwebsockets.h>

#define XR_SUBPROTOCOL "xroom.v1"
/* Bytes handed to the socket per write: the protocol's tx_packet_size (lws
 * otherwise caps each send at rx_buffer_size + LWS_PRE + 4, which is 276
 * bytes here) and the most the WRITEABLE callback packs into one write. */
#define XR_TX_BATCH 16384

int xr_ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
		   void *user, void *in, size_t len);
/* The hub ops that route wake/kill to lws. */
struct xr_hub_ops;
void xr_ws_hub_ops(struct xr_hub_ops *ops, void *ctx);

#endif

/* xroom/transport/ws.h: the lws protocol of the daemon: WebSocket signaling
 * and, for the same protocol, the HTTP routes (http.h) and service wake-ups.
 * The lws context's user pointer is a struct xr_ws_env. */
#ifndef XROOM_WS_H
#define XROOM_WS_H

#include <stdbool.h>

#include <libwebsockets.h>

#define XR_SUBPROTOCOL "xroom.v1"
/* Bytes handed to the socket per write: the protocol's tx_packet_size (lws
 * otherwise caps each send at rx_buffer_size + LWS_PRE + 4, which is 276
 * bytes here) and the most the WRITEABLE callback packs into one write. */
#define XR_TX_BATCH 16384

struct xr_config;
struct xr_http_env;
struct xr_hub;
struct xr_hub_ops;

/* What the WebSocket side works with; filled and owned by server.c (the
 * lws context's user pointer), borrowed here. */
struct xr_ws_env {
	struct xr_hub *hub;
	const struct xr_config *cfg;   /* allowed_origins */
	bool tls;                      /* the scheme of the own origin */
	bool stopping;                 /* refuse new upgrades (503) */
	struct xr_http_env *http;      /* HTTP reasons are handed on with it */
	void (*woken)(void *arg);      /* the service loop was woken */
	void *arg;
};

/* The protocols table of the vhost: the signaling protocol (callback,
 * per-session memory, rx buffer, tx packet size), then the terminator. */
extern const struct lws_protocols xr_ws_protocols[];

int xr_ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
		   void *user, void *in, size_t len);
/* Sets the hub ops that reach a connection through lws: wake and kill
 * (the others are left as they are). */
void xr_ws_hub_ops(struct xr_hub_ops *ops);

#endif

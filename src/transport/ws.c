/* ws.c: the lws protocol callback. WebSocket side: refuse bad room ids and
 * foreign Origins before the upgrade, attach connections to the hub, bounded
 * reassembly of fragmented messages (too-large before buffering past the
 * limit), queued messages written together (one send) per WRITEABLE, close
 * codes after the queue drains. It owns the per-connection memory (struct
 * session): HTTP reasons go to http.c with their part of it, service
 * wake-ups to whoever server.c named in struct xr_ws_env. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xroom/codec/ids.h"
#include "xroom/config/config.h"
#include "xroom/hub/dispatch.h"
#include "xroom/hub/room.h"
#include "xroom/transport/http.h"
#include "xroom/transport/http_body.h"
#include "xroom/transport/http_reply.h"
#include "xroom/transport/ws.h"
#include "xroom/util/clock.h"
#include "xroom/util/rxbuf.h"

_Static_assert(XR_PRE >= LWS_PRE, "XR_PRE must cover LWS_PRE");

#define RX_BUFFER 256 /* per-connection lws rx buffer: see docs/performance.md */

/* One WebSocket connection: the hub's peer and what only the WebSocket
 * needs. Lives in lws's per-session memory (struct session). */
struct xr_ws_conn {
	struct xr_peer peer;   /* attached to the hub from ESTABLISHED to CLOSED */
	struct lws *wsi;       /* NULL outside those two */
	struct xr_rxbuf rx;    /* a fragmented message being reassembled */
	uint8_t close_sent;    /* our close frame is handed to lws */
};

/* The per-session memory lws allocates (zeroed) for every connection of
 * the protocol: an HTTP connection, which may upgrade to a WebSocket. */
struct session {
	struct xr_ws_conn ws;
	struct xr_http_req *http; /* a body being gathered (http.c owns it) */
};

static struct xr_ws_conn *conn_of(struct xr_peer *p)
{
	return xr_container_of(p, struct xr_ws_conn, peer);
}

/* --- hub ops -------------------------------------------------------------- */

static void wake(void *ctx, struct xr_peer *p)
{
	struct lws *wsi = conn_of(p)->wsi;

	(void)ctx;
	if (wsi)
		lws_callback_on_writable(wsi);
}

static void kill_now(void *ctx, struct xr_peer *p, uint16_t code)
{
	static const char why[] = "cannot keep up";
	struct lws *wsi = conn_of(p)->wsi;

	(void)ctx;
	if (!wsi)
		return;
	lws_close_reason(wsi, (enum lws_close_status)code,
			 (unsigned char *)why, sizeof(why) - 1);
	/* Its socket is full, so no WRITEABLE may come: close on the next
	 * service pass instead. */
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void xr_ws_hub_ops(struct xr_hub_ops *ops)
{
	ops->wake = wake;
	ops->kill = kill_now;
}

/* --- before the upgrade ------------------------------------------------------ */

/* The room id from "/ws/<id>" (lws has already cut the query string). */
static int room_of(struct lws *wsi, char *out, size_t n)
{
	char uri[256];
	int len = lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);

	if (len < 4 || strncmp(uri, "/ws/", 4) ||
	    !xr_room_id_valid(uri + 4, (size_t)len - 4) ||
	    (size_t)len - 4 >= n)
		return -EINVAL;
	memcpy(out, uri + 4, (size_t)len - 4);
	out[len - 4] = '\0';
	return len - 4;
}

static bool origin_allowed(const struct xr_ws_env *env, struct lws *wsi)
{
	char origin[512], host[400], own[512];
	int n = lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN);

	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) == 0)
		return true; /* not a browser */
	if (n <= 0)
		return false;
	if (env->cfg->norigins) {
		for (size_t i = 0; i < env->cfg->norigins; i++)
			if (!strcasecmp(origin, env->cfg->allowed_origins[i]))
				return true;
		return false;
	}
	if (lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0)
		return false;
	snprintf(own, sizeof(own), "%s://%s", env->tls ? "https" : "http", host);
	return !strcasecmp(origin, own);
}

/* --- connection lifetime ------------------------------------------------------ */

static int on_receive(struct xr_hub *hub, struct lws *wsi,
		      struct xr_ws_conn *c, const char *in, size_t len)
{
	struct xr_peer *p = &c->peer;
	size_t max = hub->lim.max_message_bytes;
	bool first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);

	if (p->state != XR_PEER_WAITING && p->state != XR_PEER_JOINED)
		return 0;
	if (lws_frame_is_binary(wsi)) {
		xr_hub_close(hub, p, XR_CLOSE_UNSUPPORTED);
		return 0;
	}
	if (first && final && !c->rx.len) {
		xr_dispatch_message(hub, p, in, len, xr_clock_ms());
		return 0;
	}
	if (first)
		c->rx.len = 0;
	/* The frame header already says how much more is coming: refuse at
	 * once instead of taking in max_message_bytes first. */
	if ((size_t)c->rx.len + len + lws_remaining_packet_payload(wsi) > max) {
		xr_rxbuf_reset(&c->rx);
		xr_hub_fail(hub, p, XR_E_TOO_LARGE);
		return 0;
	}
	if (xr_rxbuf_append(&c->rx, in, len, max))
		return -1;
	if (final) {
		xr_dispatch_message(hub, p, (const char *)c->rx.p, c->rx.len,
				    xr_clock_ms());
		xr_rxbuf_reset(&c->rx);
	}
	return 0;
}

static const char *close_text(uint16_t code)
{
	switch (code) {
	case XR_CLOSE_GOING_AWAY: return "server shutting down";
	case XR_CLOSE_UNSUPPORTED: return "binary frames are not accepted";
	case XR_CLOSE_POLICY: return "policy violation";
	case XR_CLOSE_TOO_BIG: return "message too large";
	case XR_CLOSE_TRY_LATER: return "server busy, try again later";
	default: return "bye";
	}
}

/* The header of an unmasked, final text frame of len bytes (RFC 6455
 * 5.2: server frames are never masked). Returns its size: 2, 4 or 10. */
static size_t frame_header(unsigned char *h, size_t len)
{
	h[0] = 0x81;
	if (len < 126) {
		h[1] = (unsigned char)len;
		return 2;
	}
	if (len <= 0xffff) {
		h[1] = 126;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
		return 4;
	}
	h[1] = 127;
	for (int i = 0; i < 8; i++)
		h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	return 10;
}

/* Several queued messages: their frames, headers and all, are packed into
 * one buffer (up to XR_TX_BATCH bytes) and handed to lws as one raw write,
 * so they leave in one send() instead of one send() and one trip through
 * poll() each. lws keeps what the socket did not take and sends it before
 * anything else (its own pings and close frames included), so frames are
 * never interleaved. The first message always fits (the caller checks). */
static int write_batch(struct lws *wsi, struct xr_peer *p)
{
	static unsigned char out[LWS_PRE + XR_TX_BATCH];
	unsigned char *o = out + LWS_PRE;
	size_t n = 0;
	struct xr_buf *b;

	while ((b = xr_outq_peek(&p->q)) && n + 10 + b->len <= XR_TX_BATCH) {
		n += frame_header(o + n, b->len);
		memcpy(o + n, xr_buf_payload(b), b->len);
		n += b->len;
		xr_outq_pop(&p->q);
	}
	return lws_write(wsi, o, n, LWS_WRITE_RAW) < (int)n ? -1 : 0;
}

static int on_writeable(struct lws *wsi, struct xr_ws_conn *c)
{
	struct xr_peer *p = &c->peer;
	struct xr_buf *b;

	if (c->close_sent)
		return 0; /* lws is waiting for the close ack: let it */
	if (p->state == XR_PEER_DEAD)
		return -1;
	b = xr_outq_peek(&p->q);
	if (b) {
		if (p->q.count > 1 && 10 + b->len <= XR_TX_BATCH) {
			if (write_batch(wsi, p))
				return -1;
		} else {
			/* one message, or a large one: straight from its
			 * buffer, lws writing the header into the headroom */
			int n = lws_write(wsi, xr_buf_payload(b), b->len,
					  LWS_WRITE_TEXT);

			if (n < (int)b->len)
				return -1;
			xr_outq_pop(&p->q);
		}
		if (p->q.count || p->state == XR_PEER_CLOSING)
			lws_callback_on_writable(wsi);
		return 0;
	}
	if (p->state == XR_PEER_CLOSING) {
		const char *why = close_text(p->close_code);

		lws_close_reason(wsi, (enum lws_close_status)p->close_code,
				 (unsigned char *)why, strlen(why));
		c->close_sent = 1;
		return -1;
	}
	return 0; /* lws's own liveness ping also wakes us: nothing to do */
}

int xr_ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
		   void *user, void *in, size_t len)
{
	struct xr_ws_env *env = lws_context_user(lws_get_context(wsi));
	struct session *ss = user;
	struct xr_ws_conn *c = ss ? &ss->ws : NULL;
	char room[XR_ROOM_ID_MAX + 1];
	int n;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (env->stopping)
			return xr_http_json_error(wsi, 503, "server-busy",
				"the server is shutting down"), -1;
		if (room_of(wsi, room, sizeof(room)) < 0)
			return xr_http_json_error(wsi, 400, "bad-room",
				XR_ROOM_ID_RULE), -1;
		if (!origin_allowed(env, wsi))
			return xr_http_json_error(wsi, 403, "forbidden-origin",
				"this page's origin may not use this server"), -1;
		return 0;

	case LWS_CALLBACK_ESTABLISHED:
		n = room_of(wsi, room, sizeof(room));
		if (n < 0)
			return -1;
		c->wsi = wsi;
		if (xr_hub_attach(env->hub, &c->peer, room, (size_t)n,
				  xr_clock_ms()))
			xr_hub_fail(env->hub, &c->peer, XR_E_SERVER_BUSY);
		return 0;

	case LWS_CALLBACK_RECEIVE:
		return on_receive(env->hub, wsi, c, in, len);

	case LWS_CALLBACK_SERVER_WRITEABLE:
		return on_writeable(wsi, c);

	case LWS_CALLBACK_CLOSED:
		xr_hub_detach(env->hub, &c->peer);
		c->wsi = NULL;
		xr_rxbuf_reset(&c->rx);
		return 0;

	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (env && env->woken)
			env->woken(env->arg);
		return 0;

	default:
		return xr_http_callback(env->http, wsi, reason,
					ss ? &ss->http : NULL, in, len);
	}
}

const struct lws_protocols xr_ws_protocols[] = {
	/* First, so a client offering no subprotocol is bound to it too. */
	{ XR_SUBPROTOCOL, xr_ws_callback, sizeof(struct session), RX_BUFFER,
	  0, NULL, XR_TX_BATCH },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

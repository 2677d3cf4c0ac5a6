/* ws.c: the lws protocol callback. WebSocket side: refuse bad room ids and
 * foreign Origins before the upgrade, attach connections to the hub, bounded
 * reassembly of fragmented messages (too-large before buffering past the
 * limit), queued messages written together (one send) per WRITEABLE, close
 * codes after the queue drains.
 * HTTP reasons go to http.c; service wake-ups to server.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xroom/http.h"
#include "xroom/ice.h"
#include "xroom/log.h"
#include "xroom/proto.h"
#include "xroom/room.h"
#include "xroom/server.h"
#include "xroom/ws.h"

_Static_assert(XR_PRE >= LWS_PRE, "XR_PRE must cover LWS_PRE");

/* --- hub ops -------------------------------------------------------------- */

static void wake(struct xr_peer *p)
{
	if (p->conn)
		lws_callback_on_writable(p->conn);
}

static void kill_now(struct xr_peer *p, uint16_t code)
{
	static const char why[] = "cannot keep up";

	if (!p->conn)
		return;
	lws_close_reason(p->conn, (enum lws_close_status)code,
			 (unsigned char *)why, sizeof(why) - 1);
	/* Its socket is full, so no WRITEABLE may come: close on the next
	 * service pass instead. */
	lws_set_timeout(p->conn, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static char *ice_json(void *ctx);
static const struct xr_room_conf *room_conf(void *ctx, const char *id);
static int64_t wall_now(void *ctx);

void xr_ws_hub_ops(struct xr_hub_ops *ops, void *ctx)
{
	memset(ops, 0, sizeof(*ops));
	ops->wake = wake;
	ops->kill = kill_now;
	ops->ice_json = ice_json;
	ops->room_conf = room_conf;
	ops->now_s = wall_now;
	ops->ctx = ctx;
}

static char *ice_json(void *ctx)
{
	struct xr_server *s = ctx;

	return xr_ice_json(&s->cfg, (int64_t)time(NULL));
}

static const struct xr_room_conf *room_conf(void *ctx, const char *id)
{
	struct xr_server *s = ctx;

	return xr_roomconf_get(&s->rooms, id);
}

static int64_t wall_now(void *ctx)
{
	return xr_server_wall(ctx);
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

static bool origin_allowed(struct xr_server *s, struct lws *wsi)
{
	char origin[512], host[400], own[512];
	int n = lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN);

	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) == 0)
		return true; /* not a browser */
	if (n <= 0)
		return false;
	if (s->cfg.norigins) {
		for (size_t i = 0; i < s->cfg.norigins; i++)
			if (!strcasecmp(origin, s->cfg.allowed_origins[i]))
				return true;
		return false;
	}
	if (lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0)
		return false;
	snprintf(own, sizeof(own), "%s://%s", s->tls ? "https" : "http", host);
	return !strcasecmp(origin, own);
}

/* --- connection lifetime ------------------------------------------------------ */

static int on_receive(struct xr_server *s, struct lws *wsi, struct xr_peer *p,
		      const char *in, size_t len)
{
	size_t max = s->hub->lim.max_message_bytes;
	bool first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);

	if (p->state != XR_PEER_WAITING && p->state != XR_PEER_JOINED)
		return 0;
	if (lws_frame_is_binary(wsi)) {
		xr_hub_close(s->hub, p, XR_CLOSE_UNSUPPORTED);
		return 0;
	}
	if (first && final && !p->rx_len) {
		xr_proto_handle(s->hub, p, in, len, xr_now_ms());
		return 0;
	}
	if (first)
		p->rx_len = 0;
	/* The frame header already says how much more is coming: refuse at
	 * once instead of taking in max_message_bytes first. */
	if ((size_t)p->rx_len + len + lws_remaining_packet_payload(wsi) > max) {
		free(p->rx);
		p->rx = NULL;
		p->rx_len = p->rx_cap = 0;
		xr_hub_send_error(s->hub, p, XR_E_TOO_LARGE);
		xr_hub_close(s->hub, p, XR_CLOSE_TOO_BIG);
		return 0;
	}
	if (p->rx_len + len > p->rx_cap) {
		size_t cap = p->rx_cap ? (size_t)p->rx_cap * 2 : 4096;
		unsigned char *nrx;

		while (cap < p->rx_len + len)
			cap *= 2;
		if (cap > max)
			cap = max;
		nrx = realloc(p->rx, cap);
		if (!nrx)
			return -1;
		p->rx = nrx;
		p->rx_cap = (uint32_t)cap;
	}
	memcpy(p->rx + p->rx_len, in, len);
	p->rx_len += (uint32_t)len;
	if (final) {
		xr_proto_handle(s->hub, p, (const char *)p->rx, p->rx_len,
				xr_now_ms());
		free(p->rx);
		p->rx = NULL;
		p->rx_len = p->rx_cap = 0;
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

static int on_writeable(struct lws *wsi, struct xr_peer *p)
{
	struct xr_buf *b;

	if (p->close_sent)
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
		p->close_sent = 1;
		return -1;
	}
	return 0; /* lws's own liveness ping also wakes us: nothing to do */
}

int xr_ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
		   void *user, void *in, size_t len)
{
	struct xr_server *s = xr_server_of(wsi);
	struct xr_peer *p = user;
	char room[XR_ROOM_ID_MAX + 1];
	int n;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (s->stopping)
			return xr_http_json_error(wsi, 503, "server-busy",
				"the server is shutting down"), -1;
		if (room_of(wsi, room, sizeof(room)) < 0)
			return xr_http_json_error(wsi, 400, "bad-room",
				"the room id must be 1 to 64 of A-Z a-z 0-9 _ -"), -1;
		if (!origin_allowed(s, wsi))
			return xr_http_json_error(wsi, 403, "forbidden-origin",
				"this page's origin may not use this server"), -1;
		return 0;

	case LWS_CALLBACK_ESTABLISHED:
		n = room_of(wsi, room, sizeof(room));
		if (n < 0)
			return -1;
		p->conn = wsi;
		if (xr_hub_attach(s->hub, p, room, (size_t)n, xr_now_ms())) {
			xr_hub_send_error(s->hub, p, XR_E_SERVER_BUSY);
			xr_hub_close(s->hub, p, XR_CLOSE_TRY_LATER);
		}
		return 0;

	case LWS_CALLBACK_RECEIVE:
		return on_receive(s, wsi, p, in, len);

	case LWS_CALLBACK_SERVER_WRITEABLE:
		return on_writeable(wsi, p);

	case LWS_CALLBACK_CLOSED:
		xr_hub_detach(s->hub, p);
		p->conn = NULL;
		free(p->rx);
		p->rx = NULL;
		p->rx_len = p->rx_cap = 0;
		return 0;

	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		xr_server_on_wake(s);
		return 0;

	default:
		return xr_http_callback(s, wsi, reason, p, in, len);
	}
}

/* dispatch.c: one whole client message against the hub: the rate limit,
 * the size limit, the codec's parse, then join, relay, leave or ping. It
 * sits above the codec and the hub and calls down into both; nothing calls
 * back into it but the transport. */
#include "xroom/codec/build.h"
#include "xroom/codec/parse.h"
#include "xroom/hub/dispatch.h"
#include "xroom/hub/room.h"

void xr_dispatch_message(struct xr_hub *hub, struct xr_peer *p,
			 const char *buf, size_t len, int64_t now_ms)
{
	struct xr_msg m;
	enum xr_err e;

	if (p->state != XR_PEER_WAITING && p->state != XR_PEER_JOINED)
		return;
	switch (xr_rate_take(&p->rate, now_ms, hub->lim.messages_per_second,
			     hub->lim.message_burst)) {
	case XR_RATE_OK:
		break;
	case XR_RATE_DROP:
		return;
	case XR_RATE_NOTIFY:
		xr_hub_send_error(hub, p, XR_E_RATE_LIMITED);
		return;
	case XR_RATE_CLOSE:
		xr_hub_send_error(hub, p, XR_E_RATE_LIMITED);
		xr_hub_close(hub, p, XR_CLOSE_POLICY);
		return;
	}
	if (len > hub->lim.max_message_bytes) {
		xr_hub_fail(hub, p, XR_E_TOO_LARGE);
		return;
	}
	e = xr_parse_message(buf, len, &m);
	if (e) {
		xr_hub_fail(hub, p, e);
		goto out;
	}
	switch (m.type) {
	case XR_MSG_JOIN:
		e = xr_hub_join(hub, p, m.auth, m.auth_len);
		break;
	case XR_MSG_SIGNAL:
		if (p->state != XR_PEER_JOINED)
			e = XR_E_NOT_JOINED;
		else
			e = xr_hub_relay(hub, p, m.to, m.to_len, m.data,
					 m.data_len, len);
		break;
	case XR_MSG_LEAVE:
		xr_hub_close(hub, p, XR_CLOSE_NORMAL);
		break;
	case XR_MSG_PING: {
		struct xr_buf *b = xr_build_pong(m.ping_id, m.ping_id_len);
		xr_hub_send(hub, p, b);
		xr_buf_unref(b);
		break;
	}
	}
	if (e)
		xr_hub_fail(hub, p, e);
out:
	xr_msg_clear(&m);
}

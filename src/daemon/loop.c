/* loop.c: the daemon's event loop (loop.h). With XROOM_WITH_LIBEV, a libev
 * loop on epoll is handed to lws as a "foreign" loop, and each turn is one
 * ev_run(EVRUN_ONCE): lws's libev plugin watches each socket and its own
 * timers there, so a wake-up costs the sockets that are ready, not a
 * poll() over all of them. Without it, lws_service() and its poll(). */
#include <string.h>

#include "xroom/daemon/loop.h"
#include "xroom/util/log.h"

#ifdef XROOM_WITH_LIBEV
#include <ev.h>
#endif

void xr_loop_prepare(struct xr_loop *l, struct lws_context_creation_info *info)
{
	memset(l, 0, sizeof(*l));
#ifdef XROOM_WITH_LIBEV
	l->ev = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
	if (!l->ev) {
		xr_warn("libev: no epoll loop; using poll()");
		return;
	}
	l->foreign[0] = l->ev;
	info->options |= LWS_SERVER_OPTION_LIBEV;
	info->foreign_loops = l->foreign;
#else
	(void)info;
#endif
}

void xr_loop_fallback(struct xr_loop *l, struct lws_context_creation_info *info)
{
	if (!l->ev)
		return;
	xr_warn("libwebsockets has no libev support here (is the "
		"libwebsockets-evlib-ev package installed?); using poll()");
	info->options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
	info->foreign_loops = NULL;
	xr_loop_close(l);
}

int xr_loop_turn(struct xr_loop *l, struct lws_context *ctx)
{
#ifdef XROOM_WITH_LIBEV
	if (l->ev) {
		ev_run(l->ev, EVRUN_ONCE);
		return 0;
	}
#else
	(void)l;
#endif
	return lws_service(ctx, 0) < 0 ? -1 : 0;
}

void xr_loop_close(struct xr_loop *l)
{
#ifdef XROOM_WITH_LIBEV
	if (l->ev) {
		/* Whatever lws left stopped: run it out, then free. */
		ev_run(l->ev, EVRUN_NOWAIT);
		ev_loop_destroy(l->ev);
	}
#endif
	l->ev = NULL;
	l->foreign[0] = NULL;
}

const char *xr_loop_name(const struct xr_loop *l)
{
	return l->ev ? "libev/epoll" : "poll";
}

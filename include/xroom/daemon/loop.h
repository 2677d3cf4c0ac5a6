/* loop.h: the daemon's event loop: lws's own poll() loop, or libev on
 * epoll (built with -DXROOM_EVENT_LOOP=libev; docs/performance.md says
 * which is the default and why). The daemon prepares the context
 * creation info with it, turns it until stopping, and closes it after
 * lws_context_destroy(). Owns the libev loop when there is one. */
#ifndef XROOM_DAEMON_LOOP_H
#define XROOM_DAEMON_LOOP_H

#include <libwebsockets.h>

struct xr_loop {
	void *ev;          /* struct ev_loop *, or NULL: lws's poll() loop */
	void *foreign[1];  /* what info->foreign_loops points to */
};

/* Sets up the chosen loop and points info at it. If the event library
 * cannot be had, falls back to poll() and says so in the log. */
void xr_loop_prepare(struct xr_loop *l, struct lws_context_creation_info *info);

/* The context could not be created on the event library (its lws plugin
 * missing, say): forget the library, so that info asks for poll(). */
void xr_loop_fallback(struct xr_loop *l, struct lws_context_creation_info *info);

/* One turn: waits for something to do (a socket, a timer of lws's, a
 * lws_cancel_service()) and does it. Returns < 0 when lws says stop. */
int xr_loop_turn(struct xr_loop *l, struct lws_context *ctx);

/* After lws_context_destroy(): frees the libev loop, if any. */
void xr_loop_close(struct xr_loop *l);

/* "poll" or "libev/epoll": for the start-up log line. */
const char *xr_loop_name(const struct xr_loop *l);

#endif

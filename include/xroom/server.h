/* xroom/server.h: the running daemon: one lws context and vhost, the hub,
 * the configuration in force, signals, timers and the service loop. */
#ifndef XROOM_SERVER_H
#define XROOM_SERVER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "xroom/config.h"
#include "xroom/plugin.h"
#include "xroom/room.h"
#include "xroom/roomconf.h"

/* Command-line values that win over the file, again after each reload. */
struct xr_overrides {
	const char *listen, *web_root, *state_dir;
};

struct xr_server {
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct xr_hub *hub;
	struct xr_config cfg;
	const char *config_path;       /* NULL: embedded default */
	struct xr_overrides ov;
	char web_root[4096];           /* resolved, no trailing slash */
	char state_dir[4096];
	lws_retry_bo_t retry;          /* liveness pings; edited on reload */
	lws_sorted_usec_list_t tick;
	int64_t started_ms;            /* monotonic */
	struct xr_exp *exp;            /* experiments: salt, tags, counters */
	struct xr_roomconfs rooms;     /* operator room settings (admin API) */
	struct xr_plugins plugins;     /* checked at start; served by http.c */
	int64_t clock_offset_s;        /* test clock (XROOMD_TEST_CLOCK_FILE) */
	int64_t last_save_ms;
	uint32_t fd_limit;
	uint32_t trim_peak;            /* most connections since the last trim */
	int64_t trim_ms;               /* monotonic time of the last trim */
	uint16_t port;
	bool tls;
	bool stopping;
	int64_t stop_deadline_ms;
};

/* Monotonic milliseconds. */
int64_t xr_now_ms(void);
/* Wall clock in unix seconds as the daemon sees it: real time, plus the
 * offset a test may set through the file named by XROOMD_TEST_CLOCK_FILE. */
int64_t xr_server_wall(const struct xr_server *s);
/* Applies the overrides to cfg (copied strings). Returns 0 or -errno. */
int xr_server_apply_overrides(struct xr_config *cfg,
			      const struct xr_overrides *ov);
/* Runs the daemon until SIGTERM/SIGINT. Takes ownership of *cfg.
 * Returns the process exit code. */
int xr_server_run(struct xr_config *cfg, const char *config_path,
		  const struct xr_overrides *ov);
/* Called from the lws callback when the service loop is woken: handles
 * pending SIGHUP / SIGTERM. */
void xr_server_on_wake(struct xr_server *s);
/* The server behind any wsi of its context. */
struct xr_server *xr_server_of(struct lws *wsi);

#endif

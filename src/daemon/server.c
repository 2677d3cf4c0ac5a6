/* server.c: the running daemon. It owns the lws context and vhost, the hub,
 * the features and the configuration, and hands each part only what it
 * works with; signals (handlers only set a flag and wake the loop), the
 * 250 ms tick, SIGHUP reload and the graceful shutdown. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xroom/config/config.h"
#include "xroom/daemon/loop.h"
#include "xroom/daemon/server.h"
#include "xroom/daemon/setup.h"
#include "xroom/features/admin.h"
#include "xroom/features/exp_store.h"
#include "xroom/features/experiment.h"
#include "xroom/features/ice.h"
#include "xroom/features/plugin.h"
#include "xroom/features/roomconf.h"
#include "xroom/hub/room.h"
#include "xroom/transport/http.h"
#include "xroom/transport/http_reply.h"
#include "xroom/transport/tls.h"
#include "xroom/transport/ws.h"
#include "xroom/util/clock.h"
#include "xroom/util/log.h"
#include "xroom/util/memtrim.h"

#define TICK_US (250 * LWS_US_PER_MS)
#define JOIN_TIMEOUT_MS 10000
#define FD_MARGIN 64       /* listeners, log, state files, lws internals */
#define STOP_GRACE_MS 4000 /* close frames get this long before we exit */

/* The daemon: owns everything below it and hands each part only what it
 * needs (struct xr_ws_env, struct xr_http_env, struct xr_admin). */
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
	struct xr_clock clock;         /* wall clock offset (tests only) */
	struct xr_ws_env ws;           /* the lws context's user pointer */
	struct xr_http_env http;
	struct xr_admin admin;
	struct xr_exp *exp;            /* experiments: salt, tags, counters */
	struct xr_roomconfs rooms;     /* operator room settings (admin API) */
	struct xr_plugins plugins;     /* checked at start; served by http.c */
	int64_t last_save_ms;
	uint32_t fd_limit;
	struct xr_memtrim trim;        /* free pages back after a crowd */
	uint16_t port;
	bool tls;
	int64_t stop_deadline_ms;
};

static volatile sig_atomic_t got_hup, got_term;
static struct lws_context *signal_ctx;

/* Tests cross midnight by writing an offset (seconds) into this file. */
static void read_test_clock(struct xr_server *s)
{
	const char *path = getenv("XROOMD_TEST_CLOCK_FILE");
	char buf[32] = { 0 };
	FILE *f;

	if (!path || !(f = fopen(path, "r")))
		return;
	if (fgets(buf, sizeof(buf), f))
		s->clock.offset_s = strtoll(buf, NULL, 10);
	fclose(f);
}

static void experiments_tick(struct xr_server *s, bool force_save)
{
	xr_exp_tick(s->exp, s->state_dir, xr_clock_wall(&s->clock),
		    xr_clock_ms(), &s->last_save_ms, force_save);
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
	if (signal_ctx)
		lws_cancel_service(signal_ctx);
}

/* lws's own lines: only errors and warnings, scrubbed of addresses, unless
 * we run at debug. */
static void lws_emit(int level, const char *line)
{
	char clean[512];

	xr_log_scrub(clean, sizeof(clean), line);
	xr_log(level == LLL_ERR ? XR_LOG_ERROR :
	       level == LLL_WARN ? XR_LOG_WARN : XR_LOG_DEBUG, "lws: %s", clean);
}

static void set_lws_logging(void)
{
	int mask = LLL_ERR | LLL_WARN;

	if (xr_log_enabled(XR_LOG_DEBUG))
		mask |= LLL_NOTICE | LLL_INFO;
	lws_set_log_level(mask, lws_emit);
}

int xr_server_apply_overrides(struct xr_config *cfg,
			      const struct xr_overrides *ov)
{
	int rc = 0;

	if (ov->listen && xr_config_set_listen(cfg, ov->listen))
		return -EINVAL;
	if (ov->web_root)
		rc = xr_config_set_string(&cfg->web_root, ov->web_root);
	if (!rc && ov->state_dir)
		rc = xr_config_set_string(&cfg->state_dir, ov->state_dir);
	return rc;
}

/* --- limits ---------------------------------------------------------------------- */

static uint32_t effective_max_connections(const struct xr_server *s)
{
	uint32_t cap = s->fd_limit > FD_MARGIN * 2 ? s->fd_limit - FD_MARGIN :
						       s->fd_limit / 2;

	if (s->cfg.max_connections && s->cfg.max_connections < cap)
		return s->cfg.max_connections;
	if (s->cfg.max_connections > cap)
		xr_warn("limits.max_connections %u exceeds what the open-file "
			"limit allows; using %u", s->cfg.max_connections, cap);
	return cap;
}

static void hub_limits(const struct xr_server *s, struct xr_hub_limits *l)
{
	l->max_peers = s->cfg.max_peers;
	l->max_rooms = s->cfg.max_rooms;
	l->max_connections = effective_max_connections(s);
	l->messages_per_second = s->cfg.messages_per_second;
	l->message_burst = s->cfg.message_burst;
	l->max_message_bytes = s->cfg.max_message_bytes;
	l->max_queued_bytes = s->cfg.max_queued_bytes;
	l->join_timeout_ms = JOIN_TIMEOUT_MS;
}

static void set_retry(struct xr_server *s)
{
	uint32_t idle = s->cfg.idle_timeout_s;

	/* Ping at half the idle time; hang up at the idle time (lws needs
	 * hangup > ping). Browsers answer pings by themselves. */
	s->retry.secs_since_valid_ping = (uint16_t)(idle / 2 ? idle / 2 : 1);
	s->retry.secs_since_valid_hangup = (uint16_t)idle;
}

/* --- reload and stop ----------------------------------------------------------- */

static void reload(struct xr_server *s)
{
	struct xr_config fresh;
	struct xr_config_errors errs;
	bool restart_needed;

	if (!s->config_path) {
		xr_info("SIGHUP: no config file in use, nothing to reload");
		return;
	}
	if (xr_config_load(&fresh, s->config_path, &errs) ||
	    xr_server_apply_overrides(&fresh, &s->ov)) {
		xr_error("SIGHUP: %s was refused, keeping the running config:\n%s",
			 s->config_path, errs.text);
		xr_config_free(&fresh);
		return;
	}
	restart_needed = strcmp(fresh.listen_host, s->cfg.listen_host) ||
			 fresh.listen_port != s->cfg.listen_port ||
			 (fresh.web_root && (!s->cfg.web_root ||
				strcmp(fresh.web_root, s->cfg.web_root))) ||
			 (fresh.state_dir && (!s->cfg.state_dir ||
				strcmp(fresh.state_dir, s->cfg.state_dir))) ||
			 !fresh.tls_cert != !s->cfg.tls_cert;
	if (s->tls && fresh.tls_cert) {
		char err[1024];
		/* certbot renewed the files: check them, then swap them in;
		 * open connections keep their sessions. */
		if (xr_tls_check(fresh.tls_cert, fresh.tls_key, err, sizeof(err))) {
			xr_error("SIGHUP: %s; keeping the running certificate "
				 "and configuration", err);
			xr_config_free(&fresh);
			return;
		}
		if (!strcmp(fresh.tls_cert, s->cfg.tls_cert) &&
		    !strcmp(fresh.tls_key, s->cfg.tls_key))
			lws_tls_cert_updated(s->ctx, fresh.tls_cert, fresh.tls_key,
					     NULL, 0, NULL, 0);
		else
			restart_needed = true;
	}
	xr_config_free(&s->cfg);
	s->cfg = fresh;
	hub_limits(s, &s->hub->lim);
	set_retry(s);
	xr_info("SIGHUP: configuration reloaded (limits, rooms, ICE, "
		"experiments%s)", s->tls ? ", certificate" : "");
	if (restart_needed)
		xr_warn("SIGHUP: changes of listen, tls paths, web_root and "
			"state_dir take effect at the next restart");
}

static void begin_stop(struct xr_server *s)
{
	if (s->ws.stopping)
		return;
	s->ws.stopping = true;
	s->stop_deadline_ms = xr_clock_ms() + STOP_GRACE_MS;
	xr_info("stopping: closing %u connections", s->hub->nconns);
	xr_hub_close_all(s->hub, XR_CLOSE_GOING_AWAY);
}

/* The service loop was woken (a signal, or a tick): pending SIGHUP and
 * SIGTERM are handled here, never in the handler. */
static void on_wake(void *arg)
{
	struct xr_server *s = arg;

	if (got_hup) {
		got_hup = 0;
		reload(s);
	}
	if (got_term)
		begin_stop(s);
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct xr_server *s = lws_container_of(sul, struct xr_server, tick);

	on_wake(s);
	xr_hub_tick(s->hub, xr_clock_ms());
	read_test_clock(s);
	experiments_tick(s, false);
	xr_admin_expire(&s->admin, xr_clock_wall(&s->clock));
	xr_memtrim_tick(&s->trim, s->hub->nconns, xr_clock_ms());
	lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, TICK_US);
}

/* --- wiring --------------------------------------------------------------------- */

static char *ice_json(void *ctx)
{
	struct xr_server *s = ctx;

	return xr_ice_json(&s->cfg, (int64_t)time(NULL), true);
}

static const struct xr_room_conf *room_conf(void *ctx, const char *id)
{
	struct xr_server *s = ctx;

	return xr_roomconf_get(&s->rooms, id);
}

static int64_t wall_now(void *ctx)
{
	struct xr_server *s = ctx;

	return xr_clock_wall(&s->clock);
}

static void hub_ops(struct xr_server *s, struct xr_hub_ops *ops)
{
	memset(ops, 0, sizeof(*ops));
	xr_ws_hub_ops(ops);
	ops->ice_json = ice_json;
	ops->room_conf = room_conf;
	ops->now_s = wall_now;
	ops->ctx = s;
}

/* Each part gets what it works with, nothing more. */
static void wire(struct xr_server *s)
{
	s->admin = (struct xr_admin){
		.hub = s->hub, .rooms = &s->rooms, .state_dir = s->state_dir,
		.cfg = &s->cfg,
	};
	s->http.web_root = s->web_root;
	s->http.plugins = &s->plugins;
	s->http.cfg = &s->cfg;
	s->http.hub = s->hub;
	s->http.exp = s->exp;
	s->http.admin = &s->admin;
	s->http.clock = &s->clock;
	s->ws = (struct xr_ws_env){
		.hub = s->hub, .cfg = &s->cfg, .tls = s->tls,
		.http = &s->http, .woken = on_wake, .arg = s,
	};
}

/* --- run --------------------------------------------------------------------------- */

int xr_server_run(struct xr_config *cfg, const char *config_path,
		  const struct xr_overrides *ov)
{
	struct lws_context_creation_info info;
	struct xr_loop loop = { 0 };
	struct xr_server *s = calloc(1, sizeof(*s));
	struct xr_hub_limits lim;
	struct xr_hub_ops ops;
	struct sigaction sa;
	int code = 1;

	if (!s) {
		xr_config_free(cfg);
		return 1;
	}
	s->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	s->config_path = config_path;
	s->ov = *ov;
	s->http.started_ms = xr_clock_ms();
	s->fd_limit = xr_setup_fd_limit();
	xr_roomconf_init(&s->rooms);
	s->tls = s->cfg.tls_cert != NULL;
	if (s->tls) {
		char err[1024];
		if (xr_tls_check(s->cfg.tls_cert, s->cfg.tls_key, err, sizeof(err))) {
			xr_error("%s", err);
			code = 2;
			goto out;
		}
	}
	if (xr_setup_listen_host(s->cfg.listen_host) ||
	    xr_setup_web_root(s->cfg.web_root, s->web_root, sizeof(s->web_root)) ||
	    xr_setup_state_dir(s->cfg.state_dir, s->state_dir,
			       sizeof(s->state_dir)))
		goto out;
	{
		char err[2048];
		int rc = xr_plugins_load(&s->plugins, s->web_root,
					 s->cfg.plugin_dirs, s->cfg.nplugin_dirs,
					 err, sizeof(err));
		if (rc) {
			xr_error("%s", rc == -ENOMEM ? "out of memory" : err);
			code = 2;
			goto out;
		}
		if (s->plugins.n)
			xr_info("%zu plugin%s", s->plugins.n,
				s->plugins.n == 1 ? "" : "s");
	}

	read_test_clock(s);
	s->exp = xr_exp_new();
	if (!s->exp)
		goto out;
	{
		char err[8192];
		if (xr_exp_load(s->exp, s->state_dir,
				xr_exp_day(xr_clock_wall(&s->clock)), err, sizeof(err)))
			goto out;
		if (err[0])
			xr_error("experiments: %s", err);
	}
	s->last_save_ms = xr_clock_ms();
	{
		char err[8192];
		if (xr_roomconf_load(&s->rooms, s->state_dir, s->cfg.max_peers,
				     err, sizeof(err)))
			goto out;
		if (err[0])
			xr_error("admin: %s", err);
	}

	hub_limits(s, &lim);
	hub_ops(s, &ops);
	s->hub = xr_hub_new(&lim, &ops);
	if (!s->hub)
		goto out;
	wire(s);
	set_retry(s);
	set_lws_logging();

	memset(&info, 0, sizeof(info));
	info.port = s->cfg.listen_port; /* 0: the kernel picks (tests) */
	info.iface = s->cfg.listen_host;
	info.protocols = xr_ws_protocols;
	info.headers = s->tls ? xr_http_headers_tls : xr_http_headers;
	info.user = &s->ws;
	info.retry_and_idle_policy = &s->retry;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	if (!strchr(s->cfg.listen_host, ':'))
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.pt_serv_buf_size = 16384;
	/* Requests whose headers are still arriving each hold one of these
	 * (~5 KiB) until done or timed out: enough that a slowloris crowd
	 * does not lock everyone else out for long. */
	info.max_http_header_pool = 4096;
	info.timeout_secs = 20;
	info.vhost_name = "xroom";
	if (s->tls) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = s->cfg.tls_cert;
		info.ssl_private_key_filepath = s->cfg.tls_key;
		/* Mozilla's "intermediate" profile: TLS 1.2 with forward-secret
		 * AEAD suites, and TLS 1.3 (its suites are OpenSSL's default). */
		info.ssl_cipher_list = "ECDHE-ECDSA-AES128-GCM-SHA256:"
			"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
			"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
			"ECDHE-RSA-CHACHA20-POLY1305";
		info.ssl_options_set = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
				       SSL_OP_NO_TLSv1_1 | SSL_OP_NO_COMPRESSION |
				       SSL_OP_CIPHER_SERVER_PREFERENCE;
		info.alpn = "http/1.1"; /* no h2: WebSockets ride HTTP/1.1 */
	}
	xr_loop_prepare(&loop, &info);
	s->ctx = lws_create_context(&info);
	if (!s->ctx && loop.ev) {
		xr_loop_fallback(&loop, &info);
		s->ctx = lws_create_context(&info);
	}
	if (!s->ctx) {
		xr_error("cannot listen on %s:%u (in use, or not an address of "
			 "this machine?)", s->cfg.listen_host, s->cfg.listen_port);
		goto out;
	}
	s->vh = lws_get_vhost_by_name(s->ctx, "xroom");
	s->port = (uint16_t)(s->vh ? lws_get_vhost_listen_port(s->vh) : 0);

	signal_ctx = s->ctx;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, TICK_US);
	xr_info("xroomd %s listening on %s://%s%s%s:%u/ (web root %s, state %s, "
		"up to %u connections, %s)", XROOM_VERSION, s->tls ? "https" : "http",
		strchr(s->cfg.listen_host, ':') ? "[" : "", s->cfg.listen_host,
		strchr(s->cfg.listen_host, ':') ? "]" : "", s->port, s->web_root,
		s->state_dir, s->hub->lim.max_connections, xr_loop_name(&loop));

	while (!s->ws.stopping || (s->hub->nconns &&
				   xr_clock_ms() < s->stop_deadline_ms)) {
		if (xr_loop_turn(&loop, s->ctx) < 0)
			break;
		if (got_term || got_hup)
			on_wake(s);
	}
	if (s->hub->nconns)
		xr_warn("stopping: %u connections did not close in time",
			s->hub->nconns);
	lws_sul_cancel(&s->tick);
	signal_ctx = NULL;
	lws_context_destroy(s->ctx);
	xr_loop_close(&loop);
	experiments_tick(s, true);
	xr_info("stopped");
	code = 0;
out:
	xr_exp_free(s->exp);
	xr_roomconf_free(&s->rooms);
	xr_plugins_free(&s->plugins);
	xr_hub_free(s->hub);
	xr_config_free(&s->cfg);
	free(s);
	return code;
}

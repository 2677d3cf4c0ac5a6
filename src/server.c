/* server.c: the lws context and vhost, the protocols table, resource limits,
 * signals (handlers only set a flag and wake the loop), the 250 ms tick that
 * enforces the join deadline, SIGHUP reload and the graceful shutdown. */
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xroom/admin.h"
#include "xroom/experiment.h"
#include "xroom/http.h"
#include "xroom/log.h"
#include "xroom/tls.h"
#include "xroom/server.h"
#include "xroom/ws.h"

#define TICK_US (250 * LWS_US_PER_MS)
#define JOIN_TIMEOUT_MS 10000
#define FD_MARGIN 64       /* listeners, log, state files, lws internals */
#define RX_BUFFER 256      /* per-connection lws rx buffer: see docs/performance.md */
#define STOP_GRACE_MS 4000 /* close frames get this long before we exit */
#define SAVE_EVERY_MS 30000 /* experiment counters: at most this much lost */
#define TRIM_MIN_DROP 256   /* connections gone since the peak before a trim */
#define TRIM_EVERY_MS 1000  /* at most one trim a second */

static volatile sig_atomic_t got_hup, got_term;
static struct lws_context *signal_ctx;

int64_t xr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t xr_server_wall(const struct xr_server *s)
{
	return (int64_t)time(NULL) + s->clock_offset_s;
}

/* Tests cross midnight by writing an offset (seconds) into this file. */
static void read_test_clock(struct xr_server *s)
{
	const char *path = getenv("XROOMD_TEST_CLOCK_FILE");
	char buf[32] = { 0 };
	FILE *f;

	if (!path || !(f = fopen(path, "r")))
		return;
	if (fgets(buf, sizeof(buf), f))
		s->clock_offset_s = strtoll(buf, NULL, 10);
	fclose(f);
}

/* The UTC day changed: the old salt and tags are destroyed (memory and
 * disk) before a new salt exists; counters are saved first. */
static void experiments_tick(struct xr_server *s, bool force_save)
{
	int64_t day = xr_exp_day(xr_server_wall(s));
	int rc;

	if (day != xr_exp_current_day(s->exp)) {
		rc = xr_exp_save(s->exp, s->state_dir);
		if (rc)
			xr_error("experiments: cannot save counters: %s", strerror(-rc));
		xr_exp_forget_salt_file(s->state_dir);
		xr_exp_roll(s->exp, day);
		xr_info("experiments: a new UTC day: yesterday's salt is wiped");
		force_save = true;
	}
	if (force_save || (xr_exp_dirty(s->exp) &&
			   xr_now_ms() - s->last_save_ms >= SAVE_EVERY_MS)) {
		rc = xr_exp_save(s->exp, s->state_dir);
		if (rc)
			xr_error("experiments: cannot save counters: %s", strerror(-rc));
		s->last_save_ms = xr_now_ms();
	}
}

struct xr_server *xr_server_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
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

/* --- limits and directories ---------------------------------------------------- */

/* Raises the soft open-file limit to the hard one; returns what we have. */
static uint32_t raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576)
		return 1048576;
	return (uint32_t)rl.rlim_cur;
}

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

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, mode) && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/* The state directory: the configured one, else $STATE_DIRECTORY (systemd),
 * $XDG_STATE_HOME/xroom, or ~/.local/state/xroom. Created 0700. */
static int prepare_state_dir(struct xr_server *s)
{
	const char *env;
	int rc;

	if (s->cfg.state_dir)
		snprintf(s->state_dir, sizeof(s->state_dir), "%s", s->cfg.state_dir);
	else if ((env = getenv("STATE_DIRECTORY")) && *env)
		snprintf(s->state_dir, sizeof(s->state_dir), "%s", env);
	else if ((env = getenv("XDG_STATE_HOME")) && *env)
		snprintf(s->state_dir, sizeof(s->state_dir), "%s/xroom", env);
	else if ((env = getenv("HOME")) && *env)
		snprintf(s->state_dir, sizeof(s->state_dir),
			 "%s/.local/state/xroom", env);
	else
		snprintf(s->state_dir, sizeof(s->state_dir), "/var/lib/xroom");
	rc = mkdir_p(s->state_dir, 0700);
	if (rc) {
		xr_error("state directory %s: %s", s->state_dir, strerror(-rc));
		return rc;
	}
	return 0;
}

/* The web root: the configured one; else, for a binary inside its build
 * tree, the source tree's web/; for an installed binary, the copy installed
 * beside it (<bindir>/../share/xroom/web, wherever a package put it), then
 * the one under the configured install prefix. An installed binary tries
 * the source tree last, so a checkout never shadows the installed client. */
static int prepare_web_root(struct xr_server *s)
{
	char exe[PATH_MAX], build[PATH_MAX], beside[PATH_MAX + 32] = "";
	char real[PATH_MAX], idx[PATH_MAX + 16], *slash;
	const char *cands[5] = { s->cfg.web_root };
	size_t n = 1, bl;
	ssize_t k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	bool in_build = false;

	if (k > 0) {
		exe[k] = '\0';
		if (realpath(XROOM_BUILD_DIR, build)) {
			bl = strlen(build);
			in_build = !strncmp(exe, build, bl) && exe[bl] == '/';
		}
		if ((slash = strrchr(exe, '/'))) {
			*slash = '\0';
			snprintf(beside, sizeof(beside), "%s/../share/xroom/web", exe);
		}
	}
	if (in_build)
		cands[n++] = XROOM_DEFAULT_WEB_ROOT;
	if (beside[0])
		cands[n++] = beside;
	cands[n++] = XROOM_INSTALLED_WEB_ROOT;
	if (!in_build)
		cands[n++] = XROOM_DEFAULT_WEB_ROOT;

	for (size_t i = 0; i < n; i++) {
		if (!cands[i])
			continue;
		if (!realpath(cands[i], real)) {
			if (i == 0) {
				xr_error("web_root %s: %s", cands[i], strerror(errno));
				return -ENOENT;
			}
			continue;
		}
		snprintf(idx, sizeof(idx), "%s/index.html", real);
		if (access(idx, R_OK)) {
			if (i == 0) {
				xr_error("web_root %s has no index.html", real);
				return -ENOENT;
			}
			continue;
		}
		snprintf(s->web_root, sizeof(s->web_root), "%s", real);
		return 0;
	}
	xr_error("no web client found: set web_root or --web-root");
	return -ENOENT;
}

/* lws 4.1.6 resolves a numeric listen address through getifaddrs(); when
 * that fails (a sandbox without AF_NETLINK) it silently listens on every
 * address instead. Refuse to start rather than expose the daemon. */
static int check_listen_host(const char *host)
{
	struct ifaddrs *ifa;

	if (!strcmp(host, "0.0.0.0") || !strcmp(host, "::"))
		return 0;
	if (getifaddrs(&ifa)) {
		xr_error("cannot list the network interfaces (%s): libwebsockets "
			 "would listen on every address instead of %s; allow "
			 "AF_NETLINK sockets (systemd: RestrictAddressFamilies)",
			 strerror(errno), host);
		return -EPERM;
	}
	freeifaddrs(ifa);
	return 0;
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
	if (s->stopping)
		return;
	s->stopping = true;
	s->stop_deadline_ms = xr_now_ms() + STOP_GRACE_MS;
	xr_info("stopping: closing %u connections", s->hub->nconns);
	xr_hub_close_all(s->hub, XR_CLOSE_GOING_AWAY);
}

void xr_server_on_wake(struct xr_server *s)
{
	if (!s)
		return;
	if (got_hup) {
		got_hup = 0;
		reload(s);
	}
	if (got_term)
		begin_stop(s);
}

/* glibc keeps the memory of closed connections (lws's struct lws, rx
 * buffers, our queues) in its free lists, scattered through the heap, so
 * RSS stays at its peak after a crowd leaves. When the connection count has
 * halved (by TRIM_MIN_DROP at least) since its peak, or dropped to zero,
 * malloc_trim(0) hands the free pages back. Rate-limited: it walks the
 * free lists and stalls the loop once (6-9 ms after 8,000 connections
 * closed, on a loaded machine; see docs/performance.md). */
static void trim_memory(struct xr_server *s, int64_t now)
{
#ifdef __GLIBC__
	uint32_t n = s->hub->nconns;
	struct timespec t0, t1;

	if (n > s->trim_peak)
		s->trim_peak = n;
	if (now - s->trim_ms < TRIM_EVERY_MS || s->trim_peak == n)
		return;
	if (n && (s->trim_peak - n < TRIM_MIN_DROP || n > s->trim_peak / 2))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	malloc_trim(0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	xr_debug("memory trimmed: %u connections (peak %u), %lld us", n,
		 s->trim_peak, (long long)((t1.tv_sec - t0.tv_sec) * 1000000 +
					   (t1.tv_nsec - t0.tv_nsec) / 1000));
	s->trim_peak = n;
	s->trim_ms = now;
#else
	(void)s;
	(void)now;
#endif
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct xr_server *s = lws_container_of(sul, struct xr_server, tick);

	xr_server_on_wake(s);
	xr_hub_tick(s->hub, xr_now_ms());
	read_test_clock(s);
	experiments_tick(s, false);
	xr_admin_expire(s);
	trim_memory(s, xr_now_ms());
	lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, TICK_US);
}

/* --- run --------------------------------------------------------------------------- */

static const struct lws_protocols protocols[] = {
	/* First, so a client offering no subprotocol is bound to it too. */
	{ XR_SUBPROTOCOL, xr_ws_callback, sizeof(struct xr_peer), RX_BUFFER,
	  0, NULL, XR_TX_BATCH },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

int xr_server_run(struct xr_config *cfg, const char *config_path,
		  const struct xr_overrides *ov)
{
	struct lws_context_creation_info info;
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
	s->started_ms = xr_now_ms();
	s->fd_limit = raise_fd_limit();
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
	if (check_listen_host(s->cfg.listen_host) || prepare_web_root(s) ||
	    prepare_state_dir(s))
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
				xr_exp_day(xr_server_wall(s)), err, sizeof(err)))
			goto out;
		if (err[0])
			xr_error("experiments: %s", err);
	}
	s->last_save_ms = xr_now_ms();
	{
		char err[8192];
		if (xr_roomconf_load(&s->rooms, s->state_dir, s->cfg.max_peers,
				     err, sizeof(err)))
			goto out;
		if (err[0])
			xr_error("admin: %s", err);
	}

	hub_limits(s, &lim);
	xr_ws_hub_ops(&ops, s);
	s->hub = xr_hub_new(&lim, &ops);
	if (!s->hub)
		goto out;
	set_retry(s);
	set_lws_logging();

	memset(&info, 0, sizeof(info));
	info.port = s->cfg.listen_port; /* 0: the kernel picks (tests) */
	info.iface = s->cfg.listen_host;
	info.protocols = protocols;
	info.headers = s->tls ? xr_http_headers_tls : xr_http_headers;
	info.user = s;
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
	s->ctx = lws_create_context(&info);
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
		"up to %u connections)", XROOM_VERSION, s->tls ? "https" : "http",
		strchr(s->cfg.listen_host, ':') ? "[" : "", s->cfg.listen_host,
		strchr(s->cfg.listen_host, ':') ? "]" : "", s->port, s->web_root,
		s->state_dir, s->hub->lim.max_connections);

	while (!s->stopping || (s->hub->nconns &&
				xr_now_ms() < s->stop_deadline_ms)) {
		if (lws_service(s->ctx, 0) < 0)
			break;
		if (got_term || got_hup)
			xr_server_on_wake(s);
	}
	if (s->hub->nconns)
		xr_warn("stopping: %u connections did not close in time",
			s->hub->nconns);
	lws_sul_cancel(&s->tick);
	signal_ctx = NULL;
	lws_context_destroy(s->ctx);
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

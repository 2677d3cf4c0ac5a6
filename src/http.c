/* http.c: the HTTP routes. Static files come only from the resolved web
 * root (realpath prefix check), the room page from /r/<room-id>, plus
 * /healthz, /metrics and /api. JSON errors for every machine route. The
 * security headers ride on every response through the vhost header list;
 * nothing here ever sets a cookie. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <jansson.h>
#include <sodium.h>

#include "xroom/admin.h"
#include "xroom/apibody.h"
#include "xroom/experiment.h"
#include "xroom/http.h"
#include "xroom/ice.h"
#include "xroom/log.h"
#include "xroom/metrics.h"
#include "xroom/proto.h"
#include "xroom/room.h"
#include "xroom/server.h"

#define BODY_DEADLINE_MS 10000 /* a whole body, however it is dripped */

/* img-src data: blob: for user-card pictures, which exist only as data: URLs
 * made in the page or received from a peer; never a network origin. */
#define CSP "default-src 'self'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data: blob:; media-src 'self'; connect-src 'self'; " \
	"worker-src 'self'; frame-src 'self'; object-src 'none'; " \
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/* lws adds these to every response it builds (not to the 101). Names carry
 * their colon, as lws expects. The CSP and the resource policy differ for
 * plugin files, so those two go on each response instead (APP_HEADERS,
 * PLUGIN_HEADERS, write_answer). */
static const struct lws_protocol_vhost_options h_perm = {
	NULL, NULL, "permissions-policy:",
	"camera=(self), microphone=(self), display-capture=(self), "
	"geolocation=(), interest-cohort=()" };
static const struct lws_protocol_vhost_options h_coop = {
	&h_perm, NULL, "cross-origin-opener-policy:", "same-origin" };
static const struct lws_protocol_vhost_options h_nosniff = {
	&h_coop, NULL, "x-content-type-options:", "nosniff" };

#define CRLF "\x0d\x0a"
static const char APP_HEADERS[] = "cache-control: no-cache" CRLF
	"content-security-policy: " CSP CRLF
	"cross-origin-resource-policy: same-origin" CRLF;
/* A plugin runs in a sandboxed frame, an opaque origin: the browser fetches
 * its module scripts in CORS mode and its other files as cross-origin, so
 * they are public (they are static files anyone may read) and carry the CSP
 * that allows them no network destination. */
static const char PLUGIN_HEADERS[] = "cache-control: no-cache" CRLF
	"content-security-policy: " XR_PLUGIN_CSP CRLF
	"access-control-allow-origin: *" CRLF
	"cross-origin-resource-policy: cross-origin" CRLF;
const struct lws_protocol_vhost_options xr_http_headers[] = {
	{ &h_nosniff, NULL, "referrer-policy:", "no-referrer" },
};
/* With TLS: the same, and browsers told to use nothing else for 2 years. */
const struct lws_protocol_vhost_options xr_http_headers_tls[] = {
	{ xr_http_headers, NULL, "strict-transport-security:",
	  "max-age=63072000; includeSubDomains" },
};

/* --- writing answers --------------------------------------------------------- */

static int write_answer(struct lws *wsi, unsigned status, const char *type,
			const char *body, size_t len, const char *extra_name,
			const char *extra_value)
{
	unsigned char hdr[LWS_PRE + 2048], *start = hdr + LWS_PRE, *p = start,
		      *end = hdr + sizeof(hdr) - 1;
	unsigned char *buf;
	int rc = -1;

	if (lws_add_http_common_headers(wsi, status, type, len, &p, end))
		return -1;
	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
			(const unsigned char *)"no-store", 8, &p, end) ||
	    lws_add_http_header_by_name(wsi,
			(const unsigned char *)"content-security-policy:",
			(const unsigned char *)CSP, (int)strlen(CSP), &p, end) ||
	    lws_add_http_header_by_name(wsi,
			(const unsigned char *)"cross-origin-resource-policy:",
			(const unsigned char *)"same-origin", 11, &p, end))
		return -1;
	if (extra_name && lws_add_http_header_by_name(wsi,
			(const unsigned char *)extra_name,
			(const unsigned char *)extra_value,
			(int)strlen(extra_value), &p, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	if (!len)
		return 0;
	buf = malloc(LWS_PRE + len);
	if (!buf)
		return -1;
	memcpy(buf + LWS_PRE, body, len);
	if (lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL) == (int)len)
		rc = 0;
	free(buf);
	return rc;
}

int xr_http_json_error(struct lws *wsi, unsigned status, const char *code,
		       const char *message)
{
	json_t *o = json_pack("{s:s,s:s}", "error", code, "message", message);
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int rc = body ? write_answer(wsi, status, "application/json", body,
				     strlen(body), NULL, NULL) : -1;

	free(body);
	json_decref(o);
	return rc;
}

/* After a complete answer: keep the connection for the next request, or
 * close it. */
static int done(struct lws *wsi, int rc)
{
	if (rc)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int xr_http_fail(struct lws *wsi, unsigned status, const char *code,
		 const char *message)
{
	return done(wsi, xr_http_json_error(wsi, status, code, message));
}

int xr_http_reply(struct lws *wsi, unsigned status, const char *body,
		  size_t len)
{
	return done(wsi, write_answer(wsi, status, "application/json", body,
				      len, NULL, NULL));
}

/* Answers an error and closes the connection: for requests whose body we
 * will not read (a keep-alive would take the body for the next request). */
static int fail_and_close(struct lws *wsi, unsigned status, const char *code,
			  const char *message)
{
	xr_http_json_error(wsi, status, code, message);
	return -1;
}

static int html_status(struct lws *wsi, unsigned status, const char *title)
{
	char body[512];
	int n = snprintf(body, sizeof(body),
			 "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">"
			 "<title>%u %s</title><h1>%u %s</h1>"
			 "<p><a href=\"/\">Start a room</a></p></html>\n",
			 status, title, status, title);

	return done(wsi, write_answer(wsi, status, "text/html; charset=utf-8",
				      body, (size_t)n, NULL, NULL));
}

/* --- static files ---------------------------------------------------------------- */

static const char *mime_of(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".webmanifest", "application/manifest+json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".webp", "image/webp" },
		{ ".woff2", "font/woff2" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".md", "text/plain; charset=utf-8" },
		{ ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" },
		{ ".gif", "image/gif" },
		{ ".wasm", "application/wasm" },
	};
	size_t pl = strlen(path);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t el = strlen(types[i].ext);
		if (pl > el && !strcmp(path + pl - el, types[i].ext))
			return types[i].type;
	}
	return "application/octet-stream";
}

/* Serves rel (starting with '/') from root (resolved), or 404. */
static int serve_from(struct lws *wsi, const char *root, const char *rel,
		      const char *extra, size_t extra_len)
{
	char want[PATH_MAX], real[PATH_MAX];
	size_t rl = strlen(root);
	struct stat st;
	int n;

	if (strstr(rel, "/.") || strchr(rel, '\\'))
		return html_status(wsi, 404, "Not Found"); /* no dotfiles, no .. */
	n = snprintf(want, sizeof(want), "%s%s", root, rel);
	if (n < 0 || (size_t)n >= sizeof(want) || !realpath(want, real) ||
	    strncmp(real, root, rl) || (real[rl] && real[rl] != '/') ||
	    stat(real, &st) || !S_ISREG(st.st_mode))
		return html_status(wsi, 404, "Not Found");
	n = lws_serve_http_file(wsi, real, mime_of(real), extra, (int)extra_len);
	if (n < 0)
		return -1;
	if (n > 0)
		return done(wsi, 0);
	return 0;
}

static int serve_file(struct xr_server *s, struct lws *wsi, const char *rel)
{
	return serve_from(wsi, s->web_root, rel, APP_HEADERS,
			  sizeof(APP_HEADERS) - 1);
}

/* /plugins/<id>/<file>: from the plugin's own folder, bundled or not;
 * /plugins/_shared/<file>: what the bundled plugins share (any plugin may
 * load it), with the same headers. */
static int serve_plugin(struct xr_server *s, struct lws *wsi, const char *path)
{
	static const char shared[] = "/plugins/_shared/";
	const char *id = path + strlen("/plugins/"), *slash = strchr(id, '/');
	const struct xr_plugin *p;
	char want[PATH_MAX], root[PATH_MAX];

	if (!slash || !slash[1])
		return html_status(wsi, 404, "Not Found");
	if (!strncmp(path, shared, sizeof(shared) - 1)) {
		int n = snprintf(want, sizeof(want), "%s/plugins/_shared", s->web_root);
		if (n < 0 || (size_t)n >= sizeof(want) || !realpath(want, root))
			return html_status(wsi, 404, "Not Found");
		return serve_from(wsi, root, slash, PLUGIN_HEADERS,
				  sizeof(PLUGIN_HEADERS) - 1);
	}
	p = xr_plugins_find(&s->plugins, id, (size_t)(slash - id));
	if (!p)
		return html_status(wsi, 404, "Not Found");
	return serve_from(wsi, p->dir, slash, PLUGIN_HEADERS,
			  sizeof(PLUGIN_HEADERS) - 1);
}

/* --- API --------------------------------------------------------------------- */

bool xr_http_admin_ok(struct xr_server *s, struct lws *wsi)
{
	char auth[512];
	unsigned char h[crypto_hash_sha256_BYTES];
	int n = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
	bool ok;

	if (!s->cfg.has_admin || n < 8 || strncmp(auth, "Bearer ", 7))
		return false;
	crypto_hash_sha256(h, (unsigned char *)auth + 7, (size_t)n - 7);
	ok = sodium_memcmp(h, s->cfg.admin_sha256, sizeof(h)) == 0;
	sodium_memzero(auth, sizeof(auth));
	return ok;
}

/* True for 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8. */
static bool is_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) != 1)
		return false;
	return IN6_IS_ADDR_LOOPBACK(&a6) ||
	       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

/* Behind a reverse proxy on this machine (the TCP peer is loopback), the
 * client is the last entry of X-Forwarded-For: the one our proxy appended
 * (entries before it are whatever the client claimed). Replaces addr with
 * it when it is shaped like an address. A peer that is not loopback is
 * never trusted with this header. */
static void forwarded_client(struct lws *wsi, char *addr, size_t n)
{
	char xff[4096];
	int len = lws_hdr_copy(wsi, xff, sizeof(xff), WSI_TOKEN_X_FORWARDED_FOR);
	char *last, *end;

	if (len <= 0 || !is_loopback(addr))
		goto out;
	last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	while (*last == ' ' || *last == '\t')
		last++;
	end = last + strlen(last);
	while (end > last && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (end == last || (size_t)(end - last) >= n ||
	    strspn(last, "0123456789abcdefABCDEF:.") != (size_t)(end - last))
		goto out;
	memcpy(addr, last, (size_t)(end - last) + 1);
out:
	sodium_memzero(xff, sizeof(xff));
}

/* The visitor key of this request. The address and User-Agent are read
 * into stack buffers, hashed under the day's salt, and wiped: they go
 * nowhere else. */
static void visitor_of(struct xr_server *s, struct lws *wsi,
		       unsigned char key[XR_VISITOR_KEY_BYTES])
{
	char addr[64] = "", ua[512] = "", host[256] = "";

	lws_get_peer_simple(wsi, addr, sizeof(addr));
	forwarded_client(wsi, addr, sizeof(addr));
	lws_hdr_copy(wsi, ua, sizeof(ua), WSI_TOKEN_HTTP_USER_AGENT);
	lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST);
	xr_exp_visitor(s->exp, addr, ua, host, key);
	sodium_memzero(addr, sizeof(addr));
	sodium_memzero(ua, sizeof(ua));
}

static int api_session(struct xr_server *s, struct lws *wsi)
{
	unsigned char key[XR_VISITOR_KEY_BYTES];
	const struct xr_config *c = &s->cfg;
	int *vars = calloc(c->nexperiments + 1, sizeof(int));
	json_t *root = json_object(), *variants = json_object(),
	       *params = json_object(), *ice;
	char *ice_text = xr_ice_json(c, xr_server_wall(s)), *body = NULL;
	int rc;

	visitor_of(s, wsi, key);
	if (!vars || !root || !variants || !params || !ice_text ||
	    xr_exp_session(s->exp, c, key, vars))
		goto busy;
	for (size_t i = 0; i < c->nexperiments; i++) {
		const struct xr_variant *v;
		json_t *p;

		if (vars[i] < 0)
			continue;
		v = &c->experiments[i].variants[vars[i]];
		json_object_set_new(variants, c->experiments[i].name,
				    json_string(v->name));
		/* merged in config order: a later experiment wins a key */
		p = json_loads(v->params_json, 0, NULL);
		if (json_is_object(p))
			json_object_update(params, p);
		json_decref(p);
	}
	ice = json_loads(ice_text, 0, NULL);
	json_object_set_new(root, "variants", variants);
	json_object_set_new(root, "params", params);
	json_object_set_new(root, "iceServers", ice ? ice : json_array());
	variants = params = NULL;
	body = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17));
	if (!body)
		goto busy;
	rc = xr_http_reply(wsi, 200, body, strlen(body));
	goto out;
busy:
	rc = xr_http_fail(wsi, 503, "server-busy", "out of memory");
out:
	sodium_memzero(key, sizeof(key));
	json_decref(variants);
	json_decref(params);
	json_decref(root);
	free(body);
	free(ice_text);
	free(vars);
	return rc;
}

static int api_experiments(struct xr_server *s, struct lws *wsi)
{
	char *body = xr_exp_report(s->exp, &s->cfg);
	int rc;

	if (!body)
		return xr_http_fail(wsi, 503, "server-busy", "out of memory");
	rc = xr_http_reply(wsi, 200, body, strlen(body));
	free(body);
	return rc;
}

static int api_counters(struct xr_server *s, struct lws *wsi)
{
	char *body = xr_exp_counters_json(s->exp);
	int rc;

	if (!body)
		return xr_http_fail(wsi, 503, "server-busy", "out of memory");
	rc = xr_http_reply(wsi, 200, body, strlen(body));
	free(body);
	return rc;
}

static int api_events(struct xr_server *s, struct lws *wsi, const char *body,
		      size_t len)
{
	char goal[XR_API_BODY_MAX + 1];
	unsigned char key[XR_VISITOR_KEY_BYTES];
	int n;

	if (xr_api_parse_event(body, len, goal, sizeof(goal)))
		return xr_http_fail(wsi, 400, "bad-request",
				"the body must be {\"event\": \"<goal>\"}");
	visitor_of(s, wsi, key);
	n = xr_exp_event(s->exp, &s->cfg, key, goal);
	sodium_memzero(key, sizeof(key));
	if (n < 0)
		return xr_http_fail(wsi, 503, "server-busy", "out of memory");
	if (n == 0)
		return xr_http_fail(wsi, 404, "unknown-goal",
				"no running experiment has this goal");
	return done(wsi, write_answer(wsi, 204, "application/json", "", 0,
				      NULL, NULL));
}

/* --- dispatch ----------------------------------------------------------------- */

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static int route(struct xr_server *s, struct lws *wsi, int method,
		 const char *path, const char *rbody, size_t rlen)
{
	bool get = method == LWSHUMETH_GET || method == LWSHUMETH_HEAD;
	char body[8192];
	int64_t up = (xr_now_ms() - s->started_ms) / 1000;
	int n;

	if (!strcmp(path, "/healthz") || !strcmp(path, "/metrics")) {
		bool hz = path[1] == 'h';
		if (!get)
			return xr_http_fail(wsi, 405, "method-not-allowed",
					  "use GET");
		n = hz ? xr_metrics_healthz(s->hub, up, body, sizeof(body)) :
			 xr_metrics_text(s->hub, up, body, sizeof(body));
		if (n < 0)
			return xr_http_fail(wsi, 503, "server-busy", "try again");
		if (hz)
			return xr_http_reply(wsi, 200, body, (size_t)n);
		return done(wsi, write_answer(wsi, 200,
				"text/plain; version=0.0.4; charset=utf-8",
				body, (size_t)n, NULL, NULL));
	}
	if (starts(path, "/ws/")) {
		if (!xr_room_id_valid(path + 4, strlen(path + 4)))
			return xr_http_fail(wsi, 400, "bad-room",
				"the room id must be 1 to 64 of A-Z a-z 0-9 _ -");
		return xr_http_fail(wsi, 400, "upgrade-required",
				  "this path only speaks WebSocket");
	}
	if (!strcmp(path, "/api") || starts(path, "/api/")) {
		if (!strcmp(path, "/api/session"))
			return get ? api_session(s, wsi) :
				xr_http_fail(wsi, 405, "method-not-allowed", "use GET");
		if (!strcmp(path, "/api/plugins"))
			return get ? xr_http_reply(wsi, 200, s->plugins.list_json,
						   s->plugins.list_len) :
				xr_http_fail(wsi, 405, "method-not-allowed", "use GET");
		if (!strcmp(path, "/api/events"))
			return method == LWSHUMETH_POST ? api_events(s, wsi, rbody, rlen) :
				xr_http_fail(wsi, 405, "method-not-allowed", "use POST");
		if (!strcmp(path, "/api/experiments") ||
		    !strcmp(path, "/api/experiments/counters") ||
		    !strcmp(path, "/api/rooms") || starts(path, "/api/rooms/")) {
			if (!xr_http_admin_ok(s, wsi))
				return xr_http_fail(wsi, 401, "unauthorized",
						  "unauthorized");
		}
		if (!strcmp(path, "/api/experiments"))
			return get ? api_experiments(s, wsi) :
				xr_http_fail(wsi, 405, "method-not-allowed", "use GET");
		if (!strcmp(path, "/api/experiments/counters"))
			return get ? api_counters(s, wsi) :
				xr_http_fail(wsi, 405, "method-not-allowed", "use GET");
		if (!strcmp(path, "/api/rooms") || starts(path, "/api/rooms/"))
			return xr_admin_rooms(s, wsi, method, path, rbody, rlen);
		return xr_http_fail(wsi, 404, "not-found", "no such API route");
	}
	if (!get)
		return html_status(wsi, 405, "Method Not Allowed");
	if (!strcmp(path, "/"))
		return serve_file(s, wsi, "/index.html");
	if (!strcmp(path, "/admin"))
		return serve_file(s, wsi, "/admin.html");
	if (starts(path, "/plugins/"))
		return serve_plugin(s, wsi, path);
	if (starts(path, "/r/")) {
		if (!xr_room_id_valid(path + 3, strlen(path + 3)))
			return html_status(wsi, 404, "No Such Room Link");
		return serve_file(s, wsi, "/room.html");
	}
	return serve_file(s, wsi, path);
}

/* The request's method and path (the query string is already cut off). */
static int request(struct lws *wsi, char *path, size_t n)
{
	char *uri = NULL;
	int len = 0, m = lws_http_get_uri_and_method(wsi, &uri, &len);

	if (m < 0 || !uri || len <= 0 || (size_t)len >= n)
		return -1;
	memcpy(path, uri, (size_t)len);
	path[len] = '\0';
	return m;
}

int xr_http_callback(struct xr_server *s, struct lws *wsi,
		     enum lws_callback_reasons reason, struct xr_peer *p,
		     void *in, size_t len)
{
	char path[1024];
	int m;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		m = request(wsi, path, sizeof(path));
		if (m < 0)
			return fail_and_close(wsi, 400, "bad-request", "bad request line");
		if (m == LWSHUMETH_POST || m == LWSHUMETH_PUT || m == LWSHUMETH_PATCH) {
			char cl[24];

			if (!starts(path, "/api/"))
				return fail_and_close(wsi, 405, "method-not-allowed",
						      "this path takes no body");
			free(p->rx);
			p->rx = NULL;
			p->rx_len = p->rx_cap = 0;
			p->rx_skip = 0;
			if (lws_hdr_copy(wsi, cl, sizeof(cl),
					 WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
				return fail_and_close(wsi, 411, "length-required",
						      "send a Content-Length");
			if (strtoul(cl, NULL, 10) > XR_API_BODY_MAX)
				return fail_and_close(wsi, 413, "too-large",
						      "the body is too large");
			/* lws sends no BODY_COMPLETION for an empty body */
			if (strtoul(cl, NULL, 10) == 0)
				return route(s, wsi, m, path, "", 0);
			p->opened_ms = xr_now_ms(); /* body deadline starts */
			return 0; /* the body follows: see BODY_COMPLETION */
		}
		return route(s, wsi, m, path, NULL, 0);

	case LWS_CALLBACK_HTTP_BODY:
		if (!len)
			return 0;
		/* lws re-arms its own timeout on every chunk: a body dripped a
		 * byte at a time is cut off here instead. */
		if (xr_now_ms() - p->opened_ms > BODY_DEADLINE_MS)
			return -1;
		return xr_api_body_append(p, in, len) ? -1 : 0;

	case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
		/* Take the body out first: ending the transaction frees p. */
		unsigned char *body = p->rx;
		size_t blen = p->rx_len;
		int rc, skip = p->rx_skip;

		if (skip == 2)
			return 0; /* lws may call this twice */
		p->rx = NULL;
		p->rx_len = p->rx_cap = 0;
		p->rx_skip = 2;
		m = request(wsi, path, sizeof(path));
		if (skip == 1)
			rc = fail_and_close(wsi, 413, "too-large", "the body is too large");
		else if (m < 0)
			rc = fail_and_close(wsi, 400, "bad-request", "bad request line");
		else
			rc = route(s, wsi, m, path, body ? (const char *)body : "", blen);
		free(body);
		return rc;
	}

	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		return done(wsi, 0);

	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		free(p ? p->rx : NULL);
		if (p) {
			p->rx = NULL;
			p->rx_len = p->rx_cap = 0;
		}
		return 0;

	default:
		return lws_callback_http_dummy(wsi, reason, p, in, len);
	}
}

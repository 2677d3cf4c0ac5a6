/* http.c: the HTTP routes. The room page from /r/<room-id>, the admin page,
 * plugin and client files (http_static.c), /healthz and /metrics
 * (metrics.c), and /api: answered by the features (exp_api.c, admin.c),
 * written by http_reply.c. Bodies (POST, PUT, PATCH under /api/ only) are
 * gathered into a struct xr_http_req under a size cap and a deadline. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "xroom/codec/ids.h"
#include "xroom/features/admin.h"
#include "xroom/features/answer.h"
#include "xroom/features/exp_api.h"
#include "xroom/features/exp_report.h"
#include "xroom/features/exp_store.h"
#include "xroom/features/metrics.h"
#include "xroom/features/plugin.h"
#include "xroom/transport/http.h"
#include "xroom/transport/http_body.h"
#include "xroom/transport/http_reply.h"
#include "xroom/transport/http_static.h"
#include "xroom/transport/visitor.h"
#include "xroom/util/clock.h"

#define BODY_DEADLINE_MS 10000 /* a whole body, however it is dripped */

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static enum xr_method method_of(int m)
{
	switch (m) {
	case LWSHUMETH_GET: return XR_METHOD_GET;
	case LWSHUMETH_HEAD: return XR_METHOD_HEAD;
	case LWSHUMETH_POST: return XR_METHOD_POST;
	case LWSHUMETH_PUT: return XR_METHOD_PUT;
	case LWSHUMETH_PATCH: return XR_METHOD_PATCH;
	case LWSHUMETH_DELETE: return XR_METHOD_DELETE;
	default: return XR_METHOD_OTHER;
	}
}

/* True when the request carries the admin bearer token. */
static bool admin_ok(const struct xr_http_env *env, struct lws *wsi)
{
	char auth[512];
	int n = lws_hdr_copy(wsi, auth, sizeof(auth),
			     WSI_TOKEN_HTTP_AUTHORIZATION);
	bool ok = xr_admin_authorized(env->cfg, auth, n);

	sodium_memzero(auth, sizeof(auth));
	return ok;
}

static int health(const struct xr_http_env *env, struct lws *wsi,
		  bool get, bool hz)
{
	char body[8192];
	int64_t up = (xr_clock_ms() - env->started_ms) / 1000;
	int n;

	if (!get)
		return xr_http_fail(wsi, 405, "method-not-allowed", "use GET");
	n = hz ? xr_metrics_healthz(env->hub, up, body, sizeof(body)) :
		 xr_metrics_text(env->hub, up, body, sizeof(body));
	if (n < 0)
		return xr_http_fail(wsi, 503, "server-busy", "try again");
	if (hz)
		return xr_http_reply(wsi, 200, body, (size_t)n);
	return xr_http_done(wsi, xr_http_write(wsi, 200,
			"text/plain; version=0.0.4; charset=utf-8",
			body, (size_t)n, NULL, NULL));
}

/* /api/session and /api/events: answered for this request's visitor. */
static int visitor_api(const struct xr_http_env *env, struct lws *wsi,
		       bool session, const char *body, size_t len)
{
	unsigned char key[XR_VISITOR_KEY_BYTES];
	struct xr_answer a = { 0 };

	xr_visitor_key(wsi, env->exp, key);
	if (session)
		xr_exp_api_session(env->exp, env->cfg, key,
				   xr_clock_wall(env->clock), &a);
	else
		xr_exp_api_event(env->exp, env->cfg, key, body, len, &a);
	sodium_memzero(key, sizeof(key));
	return xr_http_answer(wsi, &a);
}

static int api(const struct xr_http_env *env, struct lws *wsi,
	       enum xr_method m, const char *path, const char *body,
	       size_t len)
{
	bool get = m == XR_METHOD_GET || m == XR_METHOD_HEAD;
	bool rooms = !strcmp(path, "/api/rooms") || starts(path, "/api/rooms/");
	bool report = !strcmp(path, "/api/experiments");
	bool counters = !strcmp(path, "/api/experiments/counters");
	struct xr_answer a = { 0 };

	if (!strcmp(path, "/api/session"))
		return get ? visitor_api(env, wsi, true, NULL, 0) :
			xr_http_fail(wsi, 405, "method-not-allowed", "use GET");
	if (!strcmp(path, "/api/plugins"))
		return get ? xr_http_reply(wsi, 200, env->plugins->list_json,
					   env->plugins->list_len) :
			xr_http_fail(wsi, 405, "method-not-allowed", "use GET");
	if (!strcmp(path, "/api/events"))
		return m == XR_METHOD_POST ? visitor_api(env, wsi, false, body, len) :
			xr_http_fail(wsi, 405, "method-not-allowed", "use POST");
	if ((report || counters || rooms) && !admin_ok(env, wsi))
		return xr_http_fail(wsi, 401, "unauthorized", "unauthorized");
	if (report || counters) {
		if (!get)
			return xr_http_fail(wsi, 405, "method-not-allowed",
					    "use GET");
		xr_answer_text(&a, 200, report ? xr_exp_report(env->exp, env->cfg) :
						 xr_exp_counters_json(env->exp));
		return xr_http_answer(wsi, &a);
	}
	if (rooms) {
		xr_admin_rooms(env->admin, m, path, body, len, &a);
		return xr_http_answer(wsi, &a);
	}
	return xr_http_fail(wsi, 404, "not-found", "no such API route");
}

static int route(const struct xr_http_env *env, struct lws *wsi, int method,
		 const char *path, const char *body, size_t len)
{
	enum xr_method m = method_of(method);
	bool get = m == XR_METHOD_GET || m == XR_METHOD_HEAD;

	if (!strcmp(path, "/healthz") || !strcmp(path, "/metrics"))
		return health(env, wsi, get, path[1] == 'h');
	if (starts(path, "/ws/")) {
		if (!xr_room_id_valid(path + 4, strlen(path + 4)))
			return xr_http_fail(wsi, 400, "bad-room", XR_ROOM_ID_RULE);
		return xr_http_fail(wsi, 400, "upgrade-required",
				    "this path only speaks WebSocket");
	}
	if (!strcmp(path, "/api") || starts(path, "/api/"))
		return api(env, wsi, m, path, body, len);
	if (!get)
		return xr_http_html_status(wsi, 405, "This address only serves pages",
					   "Your browser sent a request this address does not take.");
	if (!strcmp(path, "/"))
		return xr_http_serve_file(wsi, env->web_root, "/index.html");
	if (!strcmp(path, "/admin"))
		return xr_http_serve_file(wsi, env->web_root, "/admin.html");
	if (starts(path, "/plugins/"))
		return xr_http_serve_plugin(wsi, env->web_root, env->plugins,
					    path);
	if (starts(path, "/r/")) {
		if (!xr_room_id_valid(path + 3, strlen(path + 3)))
			return xr_http_html_status(wsi, 404, "This link leads to no room",
						   "A room link looks like /r/ followed by letters, digits, - and _, then # and the room's key. Check that it was copied whole, or start a new room.");
		return xr_http_serve_file(wsi, env->web_root, "/room.html");
	}
	return xr_http_serve_file(wsi, env->web_root, path);
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

/* Starts a request that has a body: checks its length, and makes the
 * request struct the body is gathered into. */
static int begin_body(const struct xr_http_env *env, struct lws *wsi,
		      struct xr_http_req **req, int m, const char *path)
{
	char cl[24];

	xr_http_req_free(*req);
	*req = NULL;
	if (!starts(path, "/api/"))
		return xr_http_fail_close(wsi, 405, "method-not-allowed",
					  "this path takes no body");
	if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
		return xr_http_fail_close(wsi, 411, "length-required",
					  "send a Content-Length");
	if (strtoul(cl, NULL, 10) > XR_API_BODY_MAX)
		return xr_http_fail_close(wsi, 413, "too-large",
					  "the body is too large");
	/* lws sends no BODY_COMPLETION for an empty body */
	if (strtoul(cl, NULL, 10) == 0)
		return route(env, wsi, m, path, "", 0);
	*req = calloc(1, sizeof(**req));
	if (!*req)
		return -1;
	(*req)->deadline_ms = xr_clock_ms() + BODY_DEADLINE_MS;
	return 0; /* the body follows: see BODY_COMPLETION */
}

/* The whole body is in: answers the request. */
static int end_body(const struct xr_http_env *env, struct lws *wsi,
		    struct xr_http_req **req)
{
	/* Take the request out first: ending the transaction may free the
	 * session memory *req lives in. */
	struct xr_http_req *r = *req;
	char path[1024];
	int m, rc;

	if (!r)
		return 0; /* lws may call this twice */
	*req = NULL;
	m = request(wsi, path, sizeof(path));
	if (r->too_large)
		rc = xr_http_fail_close(wsi, 413, "too-large",
					"the body is too large");
	else if (m < 0)
		rc = xr_http_fail_close(wsi, 400, "bad-request",
					"bad request line");
	else
		rc = route(env, wsi, m, path,
			   r->body.p ? (const char *)r->body.p : "", r->body.len);
	xr_http_req_free(r);
	return rc;
}

int xr_http_callback(const struct xr_http_env *env, struct lws *wsi,
		     enum lws_callback_reasons reason, struct xr_http_req **req,
		     void *in, size_t len)
{
	char path[1024];
	int m;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		m = request(wsi, path, sizeof(path));
		if (m < 0)
			return xr_http_fail_close(wsi, 400, "bad-request",
						  "bad request line");
		if (m == LWSHUMETH_POST || m == LWSHUMETH_PUT || m == LWSHUMETH_PATCH)
			return req ? begin_body(env, wsi, req, m, path) : -1;
		return route(env, wsi, m, path, NULL, 0);

	case LWS_CALLBACK_HTTP_BODY:
		if (!len)
			return 0;
		/* lws re-arms its own timeout on every chunk: a body dripped a
		 * byte at a time is cut off here instead. A body nobody asked
		 * for (no request is gathering one) is cut off too. */
		if (!req || !*req || xr_clock_ms() > (*req)->deadline_ms)
			return -1;
		return xr_http_body_append(*req, in, len) ? -1 : 0;

	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return req ? end_body(env, wsi, req) : 0;

	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		return xr_http_done(wsi, 0);

	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (req) {
			xr_http_req_free(*req);
			*req = NULL;
		}
		return 0;

	default:
		return lws_callback_http_dummy(wsi, reason, lws_wsi_user(wsi),
					       in, len);
	}
}

/* http_static.c: static files. The web client comes only from the
 * resolved web root (realpath prefix check), plugin files only from their
 * own folders; neither serves dotfiles. A plugin runs in a sandboxed
 * frame, an opaque origin: the browser fetches its module scripts in CORS
 * mode and its other files as cross-origin, so they are public (they are
 * static files anyone may read) and carry the CSP that allows them no
 * network destination. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xroom/features/plugin.h"
#include "xroom/transport/http_reply.h"
#include "xroom/transport/http_static.h"
#include "xroom/util/path.h"

#define CRLF "\x0d\x0a"
static const char APP_HEADERS[] = "cache-control: no-cache" CRLF
	"content-security-policy: " XR_HTTP_CSP CRLF
	"cross-origin-resource-policy: same-origin" CRLF;
static const char PLUGIN_HEADERS[] = "cache-control: no-cache" CRLF
	"content-security-policy: " XR_PLUGIN_CSP CRLF
	"connection-allowlist: " XR_PLUGIN_CONNECTIONS CRLF
	"access-control-allow-origin: *" CRLF
	"cross-origin-resource-policy: cross-origin" CRLF;

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

static int app_not_found(struct lws *wsi)
{
	return xr_http_html_status(wsi, 404, "Nothing here",
				   "There is no page at this address.");
}

/* A plain-text answer under /plugins/, sandboxed like a plugin page (both
 * CSPs apply; their intersection is stricter than either). */
static int sandboxed_text(struct lws *wsi, unsigned status, const char *body)
{
	return xr_http_done(wsi, xr_http_write(wsi, status,
			"text/plain; charset=utf-8", body, strlen(body),
			"content-security-policy:", "sandbox"));
}

static int plugin_not_found(struct lws *wsi)
{
	return sandboxed_text(wsi, 404, "404 Not Found\n");
}

/* Serves rel (starting with '/') from root (resolved), or not_found. */
static int serve_from(struct lws *wsi, const char *root, const char *rel,
		      const char *extra, size_t extra_len,
		      int (*not_found)(struct lws *))
{
	char real[PATH_MAX];
	int n;

	if (strstr(rel, "/.") || strchr(rel, '\\'))
		return not_found(wsi); /* no dotfiles, no .. */
	if (!xr_path_file_inside(root, rel, real))
		return not_found(wsi);
	n = lws_serve_http_file(wsi, real, mime_of(real), extra, (int)extra_len);
	if (n < 0)
		return -1;
	if (n > 0)
		return xr_http_done(wsi, 0);
	return 0;
}

int xr_http_serve_file(struct lws *wsi, const char *web_root, const char *rel)
{
	return serve_from(wsi, web_root, rel, APP_HEADERS,
			  sizeof(APP_HEADERS) - 1, app_not_found);
}

/* A plugin file asked for as a page of its own (a link in chat, typed):
 * the browser says so in Sec-Fetch-Dest. Plugins only ever run in the
 * app's sandboxed frame, so a top-level document, object or embed of any
 * plugin file (an SVG runs scripts too) is refused, and a plugin's HTML
 * page is served only to a frame. A request without the header (every
 * current browser sends it; curl does not) is served: the CSP's sandbox
 * still gives a page an opaque origin. */
static bool opened_as_page(struct lws *wsi, const char *path)
{
	static const char html[] = ".html";
	char dest[32];
	size_t pl = strlen(path);
	int n = lws_hdr_custom_copy(wsi, dest, sizeof(dest), "sec-fetch-dest:",
				    (int)strlen("sec-fetch-dest:"));

	if (n <= 0)
		return false;
	if (!strcmp(dest, "document") || !strcmp(dest, "object") ||
	    !strcmp(dest, "embed"))
		return true;
	if (pl < sizeof(html) - 1 || strcmp(path + pl - (sizeof(html) - 1), html))
		return false;
	return strcmp(dest, "iframe") && strcmp(dest, "frame");
}

/* /plugins/_shared/<file> is what the bundled plugins share (any plugin may
 * load it), with the same headers as a plugin's own files. */
int xr_http_serve_plugin(struct lws *wsi, const char *web_root,
			 const struct xr_plugins *plugins, const char *path)
{
	static const char shared[] = "/plugins/_shared/";
	const char *id = path + strlen("/plugins/"), *slash = strchr(id, '/');
	const struct xr_plugin *p;
	char want[PATH_MAX], root[PATH_MAX];

	if (!slash || !slash[1])
		return plugin_not_found(wsi);
	if (opened_as_page(wsi, path))
		return sandboxed_text(wsi, 403, "A plugin runs only inside an "
				      "xroom call, never on its own.\n");
	if (!strncmp(path, shared, sizeof(shared) - 1)) {
		int n = snprintf(want, sizeof(want), "%s/plugins/_shared", web_root);
		if (n < 0 || (size_t)n >= sizeof(want) || !realpath(want, root))
			return plugin_not_found(wsi);
		return serve_from(wsi, root, slash, PLUGIN_HEADERS,
				  sizeof(PLUGIN_HEADERS) - 1, plugin_not_found);
	}
	p = xr_plugins_find(plugins, id, (size_t)(slash - id));
	if (!p)
		return plugin_not_found(wsi);
	return serve_from(wsi, p->dir, slash, PLUGIN_HEADERS,
			  sizeof(PLUGIN_HEADERS) - 1, plugin_not_found);
}

/* xroom/transport/http_static.h: files served from disk: the web client from
 * the resolved web root, and plugin files from their folders with the CSP
 * that allows them no network destination. Only regular files strictly inside
 * their root; no dotfiles. */
#ifndef XROOM_HTTP_STATIC_H
#define XROOM_HTTP_STATIC_H

#include <libwebsockets.h>

struct xr_plugins;

/* Serves rel (starting with '/') from web_root (resolved), or 404. Returns
 * what the lws callback should return. */
int xr_http_serve_file(struct lws *wsi, const char *web_root, const char *rel);
/* Serves /plugins/<id>/<file> from plugin id's folder, bundled or not, and
 * /plugins/_shared/<file> from <web_root>/plugins/_shared, or 404. */
int xr_http_serve_plugin(struct lws *wsi, const char *web_root,
			 const struct xr_plugins *plugins, const char *path);

#endif

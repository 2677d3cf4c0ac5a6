/* xroom/features/plugin.h: client plugins on disk (docs/plugins.md). The
 * daemon only checks their manifests at start and serves their static files
 * under /plugins/<id>/ with a CSP that allows no network destination; plugins
 * run in the browser, in a sandboxed frame. */
#ifndef XROOM_PLUGIN_H
#define XROOM_PLUGIN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define XR_PLUGIN_ID_MAX 32
#define XR_PLUGIN_MANIFEST_MAX (64 * 1024)
#define XR_PLUGINS_MAX 64

struct xr_plugin {
	char id[XR_PLUGIN_ID_MAX + 1];
	char dir[PATH_MAX];   /* resolved, no trailing slash */
	bool bundled;         /* from <web_root>/plugins/ */
};

struct xr_plugins {
	struct xr_plugin *v;
	size_t n;
	char *list_json;      /* {"plugins":[manifest + "bundled", ...]} */
	size_t list_len;
};

/* Checks one manifest's text for the folder dir (resolved). On success
 * returns 0 and, if out is not NULL, a new reference to the manifest as it
 * is published (the known members, plus "bundled"). On failure returns
 * -EINVAL with the broken rule in err. */
struct json_t;
int xr_plugin_check(const char *text, size_t len, const char *dir, bool bundled,
		    struct json_t **out, char *err, size_t errlen);

/* Loads the bundled plugins (every folder in <web_root>/plugins/) and the
 * operator's folders. Returns 0, or -EINVAL with "plugin folder X: rule" in
 * err (the first problem found), or -ENOMEM. */
int xr_plugins_load(struct xr_plugins *out, const char *web_root,
		    char *const *dirs, size_t ndirs, char *err, size_t errlen);
const struct xr_plugin *xr_plugins_find(const struct xr_plugins *p,
					const char *id, size_t len);
void xr_plugins_free(struct xr_plugins *p);

/* The CSP every plugin file is served with. `sandbox allow-scripts`: a
 * plugin page opened on its own (a link in chat, typed) gets an opaque
 * origin too, so it never reads the app's storage. */
#define XR_PLUGIN_CSP \
	"default-src 'none'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data: blob:; font-src 'self'; media-src 'self'; " \
	"connect-src 'none'; form-action 'none'; frame-ancestors 'self'; " \
	"base-uri 'none'; sandbox allow-scripts"

/* CSP does not govern RTCPeerConnection; this header does, in Chromium
 * (from 156): a plugin page cannot reach anything by WebRTC. Browsers
 * without it do not run plugins (web/js/views/plugins-view.js checks). */
#define XR_PLUGIN_CONNECTIONS "(response-origin);webrtc=block"

#endif

/* setup.c: what the daemon needs from its machine before it listens: the
 * open-file limit raised to the hard one, the state directory (created
 * 0700), the web root (configured, else the build tree's or the installed
 * client), and a listen address lws can really bind to only that address. */
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xroom/daemon/setup.h"
#include "xroom/util/log.h"

/* Raises the soft open-file limit to the hard one; returns what we have. */
uint32_t xr_setup_fd_limit(void)
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
int xr_setup_state_dir(const char *configured, char *out, size_t n)
{
	const char *env;
	int rc;

	if (configured)
		snprintf(out, n, "%s", configured);
	else if ((env = getenv("STATE_DIRECTORY")) && *env)
		snprintf(out, n, "%s", env);
	else if ((env = getenv("XDG_STATE_HOME")) && *env)
		snprintf(out, n, "%s/xroom", env);
	else if ((env = getenv("HOME")) && *env)
		snprintf(out, n,
			 "%s/.local/state/xroom", env);
	else
		snprintf(out, n, "/var/lib/xroom");
	rc = mkdir_p(out, 0700);
	if (rc) {
		xr_error("state directory %s: %s", out, strerror(-rc));
		return rc;
	}
	return 0;
}

/* The web root: the configured one; else, for a binary inside its build
 * tree, the source tree's web/; for an installed binary, the copy installed
 * beside it (<bindir>/../share/xroom/web, wherever a package put it), then
 * the one under the configured install prefix. An installed binary tries
 * the source tree last, so a checkout never shadows the installed client. */
int xr_setup_web_root(const char *configured, char *out, size_t n)
{
	char exe[PATH_MAX], build[PATH_MAX], beside[PATH_MAX + 32] = "";
	char real[PATH_MAX], idx[PATH_MAX + 16], *slash;
	const char *cands[5] = { configured };
	size_t nc = 1, bl;
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
		cands[nc++] = XROOM_DEFAULT_WEB_ROOT;
	if (beside[0])
		cands[nc++] = beside;
	cands[nc++] = XROOM_INSTALLED_WEB_ROOT;
	if (!in_build)
		cands[nc++] = XROOM_DEFAULT_WEB_ROOT;

	for (size_t i = 0; i < nc; i++) {
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
		snprintf(out, n, "%s", real);
		return 0;
	}
	xr_error("no web client found: set web_root or --web-root");
	return -ENOENT;
}

/* lws 4.1.6 resolves a numeric listen address through getifaddrs(); when
 * that fails (a sandbox without AF_NETLINK) it silently listens on every
 * address instead. Refuse to start rather than expose the daemon. */
int xr_setup_listen_host(const char *host)
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

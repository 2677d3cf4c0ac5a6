/* xroom/daemon/setup.h: the daemon's footing on its machine, settled once at
 * start: file descriptors, the state directory, the web root and the listen
 * address. Each problem is logged in words an operator can act on. */
#ifndef XROOM_SETUP_H
#define XROOM_SETUP_H

#include <stddef.h>
#include <stdint.h>

/* Raises the soft open-file limit to the hard one; returns what we have
 * (1048576 at most). */
uint32_t xr_setup_fd_limit(void);
/* The state directory into out (n bytes): configured (borrowed, or NULL),
 * else $STATE_DIRECTORY (systemd), $XDG_STATE_HOME/xroom,
 * ~/.local/state/xroom, or /var/lib/xroom; created 0700 with its parents.
 * 0 or a negative errno (logged). */
int xr_setup_state_dir(const char *configured, char *out, size_t n);
/* The resolved web root into out (n bytes): configured (borrowed, or NULL;
 * then it must exist and hold index.html), else the build tree's web/ for a
 * binary inside its build tree, the copy installed beside the binary, the
 * one under the install prefix. 0 or -ENOENT (logged). */
int xr_setup_web_root(const char *configured, char *out, size_t n);
/* 0 when lws will listen on host only; -EPERM (logged) when it cannot list
 * the interfaces and would silently listen on every address instead. */
int xr_setup_listen_host(const char *host);

#endif

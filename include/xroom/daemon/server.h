/* xroom/daemon/server.h: the running daemon: one lws context and vhost, the
 * hub, the features and the configuration in force, signals, timers and the
 * service loop. It wires the layers together; nothing below calls it. */
#ifndef XROOM_SERVER_H
#define XROOM_SERVER_H

struct xr_config;

/* Command-line values that win over the file, again after each reload. */
struct xr_overrides {
	const char *listen, *web_root, *state_dir;
};

/* Applies the overrides to cfg (copied strings). Returns 0 or -errno. */
int xr_server_apply_overrides(struct xr_config *cfg,
			      const struct xr_overrides *ov);
/* Runs the daemon until SIGTERM/SIGINT. Takes ownership of *cfg.
 * Returns the process exit code. */
int xr_server_run(struct xr_config *cfg, const char *config_path,
		  const struct xr_overrides *ov);

#endif

/* xroom/config/config.h: the daemon's configuration as a plain struct, loaded
 * from strict JSON. Every error names the JSON path it is about. The defaults
 * are the embedded configuration a new user starts with. The struct's life is
 * config.c; reading JSON is config_parse.c (with config_read.c). */
#ifndef XROOM_CONFIG_H
#define XROOM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xr_variant {
	char *name;
	uint32_t weight;
	char *params_json; /* compact JSON object text, "{}" when absent */
};

struct xr_experiment {
	char *name;
	struct xr_variant *variants;
	size_t nvariants;
	char **goals;
	size_t ngoals;
};

struct xr_config {
	char *listen_host;        /* "127.0.0.1", "::", ... */
	uint16_t listen_port;
	char *tls_cert, *tls_key; /* both NULL: plain HTTP */
	char *web_root;           /* NULL: the bundled client */
	char *state_dir;          /* NULL: the daemon's own (see setup.c) */
	char **allowed_origins;   /* NULL: the request's own origin */
	size_t norigins;
	uint32_t max_peers, max_rooms;
	uint32_t max_connections; /* 0: from the open-file limit */
	uint32_t max_message_bytes, max_queued_bytes;
	uint32_t messages_per_second, message_burst, idle_timeout_s;
	char **stun;
	size_t nstun;
	char **turn_urls;
	size_t nturn;
	char *turn_secret;        /* NULL: no TURN */
	uint32_t turn_ttl_s;
	bool has_admin;
	unsigned char admin_sha256[32];
	struct xr_experiment *experiments;
	size_t nexperiments;
	char **plugin_dirs;       /* operator plugin folders (docs/plugins.md) */
	size_t nplugin_dirs;
};

/* Errors gathered while loading: one "path: what is wrong" a line. */
struct xr_config_errors {
	char text[4096];
	unsigned count;
};

/* Fills c with every default. Returns 0 or -ENOMEM. */
int xr_config_defaults(struct xr_config *c);
/* Loads JSON text over the defaults. Returns 0, or -EINVAL with errs filled
 * (c is then left freed and zeroed), or -ENOMEM. */
int xr_config_parse(struct xr_config *c, const char *text, size_t len,
		    struct xr_config_errors *errs);
/* Reads and parses a file (errors name the file when it cannot be read). */
int xr_config_load(struct xr_config *c, const char *path,
		   struct xr_config_errors *errs);
/* Parses "host:port" or "[v6]:port" into c (a --listen override). */
int xr_config_set_listen(struct xr_config *c, const char *value);
/* Replaces a string member (steals nothing: value is copied). */
int xr_config_set_string(char **member, const char *value);
/* Frees everything c owns and zeroes it. */
void xr_config_free(struct xr_config *c);

#endif

/* config.c: the configuration as a plain struct: its defaults (the
 * embedded configuration a new user starts with), the setters the command
 * line uses, and freeing it. Reading a file is config_parse.c. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xroom/config/config.h"

int xr_config_defaults(struct xr_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_peers = 8;
	c->max_rooms = 10000;
	c->max_connections = 0;
	c->max_message_bytes = 65536;
	c->max_queued_bytes = 1048576;
	c->messages_per_second = 50;
	c->message_burst = 200;
	c->idle_timeout_s = 60;
	c->turn_ttl_s = 3600; /* short: the client rejoins for fresh ones before they expire */
	return xr_config_set_listen(c, "127.0.0.1:8080");
}

int xr_config_set_listen(struct xr_config *c, const char *value)
{
	const char *colon, *host = value;
	size_t hlen;
	char *end;
	long port;
	char *h;

	if (value[0] == '[') {
		const char *rb = strchr(value, ']');
		if (!rb || rb[1] != ':')
			return -EINVAL;
		host = value + 1;
		hlen = (size_t)(rb - host);
		colon = rb + 1;
	} else {
		colon = strrchr(value, ':');
		if (!colon || strchr(value, ':') != colon)
			return -EINVAL;
		hlen = (size_t)(colon - value);
	}
	if (!hlen || hlen > 255)
		return -EINVAL;
	for (size_t i = 0; i < hlen; i++)
		if (!(isalnum((unsigned char)host[i]) || strchr(".-_:%", host[i])))
			return -EINVAL;
	if (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
		return -EINVAL;
	h = strndup(host, hlen);
	if (!h)
		return -ENOMEM;
	free(c->listen_host);
	c->listen_host = h;
	c->listen_port = (uint16_t)port;
	return 0;
}

int xr_config_set_string(char **member, const char *value)
{
	char *d = strdup(value);

	if (!d)
		return -ENOMEM;
	free(*member);
	*member = d;
	return 0;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void xr_config_free(struct xr_config *c)
{
	free(c->listen_host);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->web_root);
	free(c->state_dir);
	free_strings(c->allowed_origins, c->norigins);
	free_strings(c->stun, c->nstun);
	free_strings(c->turn_urls, c->nturn);
	if (c->turn_secret)
		memset(c->turn_secret, 0, strlen(c->turn_secret));
	free(c->turn_secret);
	for (size_t i = 0; i < c->nexperiments; i++) {
		struct xr_experiment *e = &c->experiments[i];
		for (size_t j = 0; j < e->nvariants; j++) {
			free(e->variants[j].name);
			free(e->variants[j].params_json);
		}
		free(e->variants);
		free_strings(e->goals, e->ngoals);
		free(e->name);
	}
	free(c->experiments);
	free_strings(c->plugin_dirs, c->nplugin_dirs);
	memset(c, 0, sizeof(*c));
}

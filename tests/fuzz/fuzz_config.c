/* fuzz_config.c: libFuzzer target for the configuration loader. The input
 * is a config file for xr_config_parse, and (when short) a --listen value
 * for xr_config_set_listen. Checks, beyond the sanitizers: a loaded config
 * keeps every value inside its documented range and its iceServers array
 * is JSON; a refused one reports at least one "path: message" line and
 * leaves the struct zeroed. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xroom/config/config.h"
#include "xroom/features/ice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void check_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		CHECK(v[i] && v[i][0]);
}

static void check_loaded(const struct xr_config *c)
{
	json_error_t err;
	json_t *j;
	char *ice;

	CHECK(c->listen_host && c->listen_host[0]);
	CHECK(!c->tls_cert == !c->tls_key);
	CHECK(c->max_peers >= 1 && c->max_peers <= 64);
	CHECK(c->max_rooms >= 1 && c->max_rooms <= 1000000);
	CHECK(c->max_connections <= 1000000);
	CHECK(c->max_message_bytes >= 1024 && c->max_message_bytes <= 1048576);
	CHECK(c->max_queued_bytes >= 4096 && c->max_queued_bytes <= 268435456);
	CHECK(c->messages_per_second >= 1 && c->messages_per_second <= 10000);
	CHECK(c->message_burst >= 1 && c->message_burst <= 100000);
	CHECK(c->idle_timeout_s >= 2 && c->idle_timeout_s <= 3600);
	CHECK(c->turn_ttl_s >= 60 && c->turn_ttl_s <= 604800);
	CHECK(!c->turn_secret == !c->nturn);
	check_strings(c->allowed_origins, c->norigins);
	check_strings(c->stun, c->nstun);
	check_strings(c->turn_urls, c->nturn);
	for (size_t i = 0; i < c->nexperiments; i++) {
		const struct xr_experiment *e = &c->experiments[i];
		uint64_t total = 0;

		CHECK(e->name && e->nvariants >= 1);
		for (size_t v = 0; v < e->nvariants; v++) {
			CHECK(e->variants[v].name);
			CHECK(e->variants[v].params_json);
			total += e->variants[v].weight;
			j = json_loads(e->variants[v].params_json, 0, &err);
			CHECK(j && json_is_object(j));
			json_decref(j);
		}
		CHECK(total > 0);
		check_strings(e->goals, e->ngoals);
	}
	ice = xr_ice_json(c, 1700000000, true);
	CHECK(ice);
	j = json_loads(ice, 0, &err);
	CHECK(j && json_is_array(j));
	json_decref(j);
	free(ice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct xr_config zero;
	struct xr_config c;
	struct xr_config_errors e;
	int rc = xr_config_parse(&c, (const char *)data, size, &e);

	CHECK(strlen(e.text) < sizeof(e.text));
	if (rc == 0) {
		CHECK(e.count == 0 && e.text[0] == '\0');
		check_loaded(&c);
		xr_config_free(&c);
	} else {
		CHECK(rc == -EINVAL);
		CHECK(e.count >= 1 && e.text[0] && strstr(e.text, ": "));
		CHECK(!memcmp(&c, &zero, sizeof(c)));
	}

	if (size < 300) {
		char value[300];

		memcpy(value, data, size);
		value[size] = '\0';
		CHECK(xr_config_defaults(&c) == 0);
		if (xr_config_set_listen(&c, value) == 0)
			CHECK(c.listen_host && c.listen_host[0] &&
			      strlen(c.listen_host) <= 255);
		else
			CHECK(!strcmp(c.listen_host, "127.0.0.1") &&
			      c.listen_port == 8080);
		xr_config_free(&c);
	}
	return 0;
}

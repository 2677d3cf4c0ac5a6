/* test_config.c: the strict JSON configuration: every default, every
 * section, one exact "path: message" line for each kind of error (range,
 * type, unknown member at every level, duplicates), several errors reported
 * together, the example of the spec, --listen values and file loading. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xroom/config/config.h"
#include "xroom/features/ice.h"

struct fx {
	struct xr_config c;
	struct xr_config_errors e;
	char tmp[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	xr_config_free(&f->c);
	if (f->tmp[0])
		unlink(f->tmp);
	free(f);
	return 0;
}

static int parse(struct fx *f, const char *json)
{
	xr_config_free(&f->c);
	return xr_config_parse(&f->c, json, strlen(json), &f->e);
}

/* True when the error text holds exactly this line. */
static bool has_line(const struct xr_config_errors *e, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = e->text; (p = strstr(p, line)); p++)
		if ((p == e->text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static void config_is_zeroed(const struct xr_config *c)
{
	static const struct xr_config zero;

	assert_memory_equal(c, &zero, sizeof(zero));
}

/* json must fail with exactly one error: this line. */
static void only_error(struct fx *f, const char *json, const char *line)
{
	int rc = parse(f, json);

	if (rc != -EINVAL || f->e.count != 1 || !has_line(&f->e, line))
		print_error("input:    %s\nexpected: %s\ngot rc %d, %u error(s):\n%s",
			    json, line, rc, f->e.count, f->e.text);
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(f->e.count, 1);
	assert_true(has_line(&f->e, line));
	assert_int_equal(strlen(f->e.text), strlen(line) + 1);
	config_is_zeroed(&f->c); /* a failed parse leaves nothing behind */
}

/* The example of the contract (config.md of the spec), copied verbatim. */
static const char spec_example[] =
"{\n"
"  \"listen\": \"0.0.0.0:8443\",\n"
"  \"tls\": { \"cert\": \"/etc/xroom/cert.pem\", \"key\": \"/etc/xroom/key.pem\" },\n"
"  \"web_root\": \"/usr/share/xroom/web\",\n"
"  \"state_dir\": \"/var/lib/xroom\",\n"
"  \"allowed_origins\": [\"https://rooms.example.org\"],\n"
"  \"rooms\": { \"max_peers\": 6, \"max_rooms\": 20000 },\n"
"  \"limits\": {\n"
"    \"max_connections\": 15000,\n"
"    \"max_message_bytes\": 65536,\n"
"    \"max_queued_bytes\": 1048576,\n"
"    \"messages_per_second\": 50,\n"
"    \"message_burst\": 200,\n"
"    \"idle_timeout_s\": 60\n"
"  },\n"
"  \"ice\": {\n"
"    \"stun\": [\"stun:turn.example.org:3478\"],\n"
"    \"turn\": { \"urls\": [\"turn:turn.example.org:3478?transport=udp\",\n"
"                       \"turns:turn.example.org:5349?transport=tcp\"],\n"
"              \"secret\": \"shared-with-coturn\", \"ttl_s\": 86400 }\n"
"  },\n"
"  \"admin\": { \"token_sha256\": \"hex of the SHA-256 of the admin token\" },\n"
"  \"experiments\": [\n"
"    {\n"
"      \"name\": \"start-button\",\n"
"      \"variants\": [\n"
"        { \"name\": \"control\", \"weight\": 50, \"params\": { \"cta\": \"Start a room\" } },\n"
"        { \"name\": \"bold\",    \"weight\": 50, \"params\": { \"cta\": \"Start a free, private room now\" } }\n"
"      ],\n"
"      \"goals\": [\"room-created\", \"call-connected\"]\n"
"    }\n"
"  ]\n"
"}\n";

static const char placeholder[] = "hex of the SHA-256 of the admin token";
/* SHA-256 of "admin" */
static const char token_hex[] =
	"8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918";

/* The example with its placeholder digest replaced by a real one. */
static char *with_real_digest(const char *text)
{
	const char *p = strstr(text, placeholder);
	size_t pre, n = strlen(text);
	char *out;

	assert_non_null(p);
	pre = (size_t)(p - text);
	out = malloc(n + sizeof(token_hex));
	assert_non_null(out);
	memcpy(out, text, pre);
	strcpy(out + pre, token_hex);
	strcat(out, p + strlen(placeholder));
	return out;
}

static void check_example(struct fx *f, const char *text)
{
	static const unsigned char digest[32] = {
		0x8c, 0x69, 0x76, 0xe5, 0xb5, 0x41, 0x04, 0x15, 0xbd, 0xe9, 0x08,
		0xbd, 0x4d, 0xee, 0x15, 0xdf, 0xb1, 0x67, 0xa9, 0xc8, 0x73, 0xfc,
		0x4b, 0xb8, 0xa8, 0x1f, 0x6f, 0x2a, 0xb4, 0x48, 0xa9, 0x18 };
	char *real = with_real_digest(text);
	struct xr_config *c = &f->c;
	int rc;

	/* verbatim, only the placeholder digest is refused */
	only_error(f, text, "admin.token_sha256: must be 64 hexadecimal digits");

	rc = parse(f, real);
	free(real);
	if (rc)
		print_error("%s", f->e.text);
	assert_int_equal(rc, 0);
	assert_int_equal(f->e.count, 0);
	assert_string_equal(c->listen_host, "0.0.0.0");
	assert_int_equal(c->listen_port, 8443);
	assert_string_equal(c->tls_cert, "/etc/xroom/cert.pem");
	assert_string_equal(c->tls_key, "/etc/xroom/key.pem");
	assert_string_equal(c->web_root, "/usr/share/xroom/web");
	assert_string_equal(c->state_dir, "/var/lib/xroom");
	assert_int_equal(c->norigins, 1);
	assert_string_equal(c->allowed_origins[0], "https://rooms.example.org");
	assert_int_equal(c->max_peers, 6);
	assert_int_equal(c->max_rooms, 20000);
	assert_int_equal(c->max_connections, 15000);
	assert_int_equal(c->max_message_bytes, 65536);
	assert_int_equal(c->max_queued_bytes, 1048576);
	assert_int_equal(c->messages_per_second, 50);
	assert_int_equal(c->message_burst, 200);
	assert_int_equal(c->idle_timeout_s, 60);
	assert_int_equal(c->nstun, 1);
	assert_string_equal(c->stun[0], "stun:turn.example.org:3478");
	assert_int_equal(c->nturn, 2);
	assert_string_equal(c->turn_urls[0],
			    "turn:turn.example.org:3478?transport=udp");
	assert_string_equal(c->turn_urls[1],
			    "turns:turn.example.org:5349?transport=tcp");
	assert_string_equal(c->turn_secret, "shared-with-coturn");
	assert_int_equal(c->turn_ttl_s, 86400);
	assert_true(c->has_admin);
	assert_memory_equal(c->admin_sha256, digest, 32);
	assert_int_equal(c->nexperiments, 1);
	assert_string_equal(c->experiments[0].name, "start-button");
	assert_int_equal(c->experiments[0].nvariants, 2);
	assert_string_equal(c->experiments[0].variants[0].name, "control");
	assert_int_equal(c->experiments[0].variants[0].weight, 50);
	assert_string_equal(c->experiments[0].variants[0].params_json,
			    "{\"cta\":\"Start a room\"}");
	assert_string_equal(c->experiments[0].variants[1].name, "bold");
	assert_string_equal(c->experiments[0].variants[1].params_json,
			    "{\"cta\":\"Start a free, private room now\"}");
	assert_int_equal(c->experiments[0].ngoals, 2);
	assert_string_equal(c->experiments[0].goals[0], "room-created");
	assert_string_equal(c->experiments[0].goals[1], "call-connected");
}

/* --- defaults and sections ------------------------------------------------ */

static void defaults(void **state)
{
	struct fx *f = *state;
	struct xr_config *c = &f->c;

	assert_int_equal(xr_config_defaults(c), 0);
	assert_string_equal(c->listen_host, "127.0.0.1");
	assert_int_equal(c->listen_port, 8080);
	assert_null(c->tls_cert);
	assert_null(c->tls_key);
	assert_null(c->web_root);
	assert_null(c->state_dir);
	assert_null(c->allowed_origins);
	assert_int_equal(c->norigins, 0);
	assert_int_equal(c->max_peers, 8);
	assert_int_equal(c->max_rooms, 10000);
	assert_int_equal(c->max_connections, 0); /* from the fd limit */
	assert_int_equal(c->max_message_bytes, 65536);
	assert_int_equal(c->max_queued_bytes, 1048576);
	assert_int_equal(c->messages_per_second, 50);
	assert_int_equal(c->message_burst, 200);
	assert_int_equal(c->idle_timeout_s, 60);
	assert_int_equal(c->nstun, 0);
	assert_int_equal(c->nturn, 0);
	assert_null(c->turn_secret);
	assert_false(c->has_admin);
	assert_int_equal(c->nexperiments, 0);
	assert_null(c->experiments);
}

static void empty_object_is_the_defaults(void **state)
{
	struct fx *f = *state;
	struct xr_config d;

	assert_int_equal(parse(f, " { }\n"), 0);
	assert_int_equal(f->e.count, 0);
	assert_string_equal(f->e.text, "");
	assert_int_equal(xr_config_defaults(&d), 0);
	assert_string_equal(f->c.listen_host, d.listen_host);
	assert_int_equal(f->c.listen_port, d.listen_port);
	assert_int_equal(f->c.max_peers, d.max_peers);
	assert_int_equal(f->c.max_message_bytes, d.max_message_bytes);
	assert_int_equal(f->c.max_queued_bytes, d.max_queued_bytes);
	assert_int_equal(f->c.message_burst, d.message_burst);
	assert_int_equal(f->c.turn_ttl_s, d.turn_ttl_s);
	xr_config_free(&d);
}

static void spec_example_parses(void **state)
{
	check_example(*state, spec_example);
}

/* The commented sample of docs/configuration.md: the spec's example with a
 * real token digest (SHA-256 of "test"). Put back to the spec's placeholder,
 * it must read exactly as the spec's example does. */
static void docs_example_parses(void **state)
{
	static const char docs_digest[] =
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	struct fx *f = *state;
	FILE *fp = fopen(XROOM_DOCS_CONFIG_MD, "rb");
	char *md, *start, *end, *digest, *text;
	long n;

	assert_non_null(fp); /* docs/ is part of the repository */
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	md = calloc(1, (size_t)n + 1);
	assert_non_null(md);
	assert_int_equal(fread(md, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	start = strstr(md, "```json\n");
	assert_non_null(start);
	start += strlen("```json\n");
	end = strstr(start, "```");
	assert_non_null(end);
	*end = '\0';
	digest = strstr(start, docs_digest);
	assert_non_null(digest);
	text = calloc(1, strlen(start) + sizeof(placeholder));
	assert_non_null(text);
	memcpy(text, start, (size_t)(digest - start));
	strcat(text, placeholder);
	strcat(text, digest + strlen(docs_digest));
	check_example(f, text);
	free(text);
	free(md);
}

static void listen_and_paths(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, "{\"listen\":\"[::]:8443\",\"web_root\":\"/w\","
			       "\"state_dir\":\"/s\"}"), 0);
	assert_string_equal(f->c.listen_host, "::");
	assert_int_equal(f->c.listen_port, 8443);
	assert_string_equal(f->c.web_root, "/w");
	assert_string_equal(f->c.state_dir, "/s");
	assert_null(f->c.tls_cert);
}

static void tls_section(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, "{\"tls\":{\"cert\":\"/c.pem\",\"key\":\"/k.pem\"}}"),
			 0);
	assert_string_equal(f->c.tls_cert, "/c.pem");
	assert_string_equal(f->c.tls_key, "/k.pem");
}

static void origins_section(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, "{\"allowed_origins\":[\"http://localhost:8080\","
			       "\"https://[::1]:8443\",\"https://a.example.org\"]}"),
			 0);
	assert_int_equal(f->c.norigins, 3);
	assert_string_equal(f->c.allowed_origins[0], "http://localhost:8080");
	assert_string_equal(f->c.allowed_origins[1], "https://[::1]:8443");
	assert_string_equal(f->c.allowed_origins[2], "https://a.example.org");
}

static void rooms_and_limits_sections(void **state)
{
	struct fx *f = *state;
	struct xr_config *c = &f->c;

	assert_int_equal(parse(f, "{\"rooms\":{\"max_peers\":64,\"max_rooms\":1},"
			       "\"limits\":{\"max_connections\":1000000,"
			       "\"max_message_bytes\":1048576,"
			       "\"max_queued_bytes\":1049600,"
			       "\"messages_per_second\":10000,"
			       "\"message_burst\":100000,\"idle_timeout_s\":2}}"),
			 0);
	assert_int_equal(c->max_peers, 64);
	assert_int_equal(c->max_rooms, 1);
	assert_int_equal(c->max_connections, 1000000);
	assert_int_equal(c->max_message_bytes, 1048576);
	assert_int_equal(c->max_queued_bytes, 1049600);
	assert_int_equal(c->messages_per_second, 10000);
	assert_int_equal(c->message_burst, 100000);
	assert_int_equal(c->idle_timeout_s, 2);
	/* the other bounds */
	assert_int_equal(parse(f, "{\"rooms\":{\"max_peers\":1,\"max_rooms\":1000000},"
			       "\"limits\":{\"max_connections\":1,"
			       "\"max_message_bytes\":1024,\"max_queued_bytes\":4096,"
			       "\"messages_per_second\":1,\"message_burst\":1,"
			       "\"idle_timeout_s\":3600}}"), 0);
	assert_int_equal(c->max_peers, 1);
	assert_int_equal(c->max_rooms, 1000000);
	assert_int_equal(c->max_message_bytes, 1024);
	assert_int_equal(c->max_queued_bytes, 4096);
	assert_int_equal(c->idle_timeout_s, 3600);
	/* the queue cap may be below the message size: an empty queue always
	 * takes one message */
	assert_int_equal(parse(f, "{\"limits\":{\"max_message_bytes\":1048576,"
			       "\"max_queued_bytes\":4096}}"), 0);
	assert_int_equal(c->max_message_bytes, 1048576);
	assert_int_equal(c->max_queued_bytes, 4096);
}

static void ice_section(void **state)
{
	struct fx *f = *state;
	struct xr_config *c = &f->c;
	char *ice;

	assert_int_equal(parse(f, "{\"ice\":{\"stun\":[\"stun:a:3478\",\"stuns:b\"],"
			       "\"turn\":{\"urls\":[\"turn:t:3478\"],"
			       "\"secret\":\"s3\"}}}"), 0);
	assert_int_equal(c->nstun, 2);
	assert_string_equal(c->stun[1], "stuns:b");
	assert_int_equal(c->nturn, 1);
	assert_string_equal(c->turn_secret, "s3");
	assert_int_equal(c->turn_ttl_s, 3600); /* default */
	ice = xr_ice_json(c, 1000, true);
	assert_non_null(ice);
	assert_non_null(strstr(ice, "\"username\":\"4600:xroom\""));
	free(ice);
	/* Without turn (what /api/session answers): STUN only, no credential. */
	ice = xr_ice_json(c, 1000, false);
	assert_non_null(ice);
	assert_non_null(strstr(ice, "stuns:b"));
	assert_null(strstr(ice, "turn:"));
	assert_null(strstr(ice, "credential"));
	assert_null(strstr(ice, "username"));
	free(ice);
	assert_int_equal(parse(f, "{\"ice\":{\"turn\":{\"urls\":[\"turns:t\"],"
			       "\"secret\":\"s\",\"ttl_s\":60}}}"), 0);
	assert_int_equal(c->turn_ttl_s, 60);
	assert_int_equal(c->nstun, 0);
	assert_int_equal(parse(f, "{\"ice\":{\"stun\":[]}}"), 0);
	assert_int_equal(c->nstun, 0);
}

static void admin_section(void **state)
{
	struct fx *f = *state;
	char json[200];

	snprintf(json, sizeof(json), "{\"admin\":{\"token_sha256\":\"%s\"}}",
		 "00FF10aB" "0123456789abcdef" "0123456789ABCDEF" "0123456789abcdef"
		 "01234567");
	assert_int_equal(parse(f, json), 0);
	assert_true(f->c.has_admin);
	assert_int_equal(f->c.admin_sha256[0], 0x00);
	assert_int_equal(f->c.admin_sha256[1], 0xff);
	assert_int_equal(f->c.admin_sha256[2], 0x10);
	assert_int_equal(f->c.admin_sha256[3], 0xab);
	assert_int_equal(f->c.admin_sha256[4], 0x01);
	assert_int_equal(f->c.admin_sha256[31], 0x67);
}

static void experiments_section(void **state)
{
	struct fx *f = *state;
	struct xr_config *c = &f->c;

	assert_int_equal(parse(f, "{\"experiments\":["
		"{\"name\":\"e1\",\"variants\":[{\"name\":\"a\",\"weight\":0},"
		"{\"name\":\"b.2\",\"weight\":3,\"params\":{ \"x\" : [1, 2.5], \"y\":{}}}]},"
		"{\"name\":\"e_2\",\"variants\":[{\"name\":\"a\",\"weight\":1}],"
		"\"goals\":[\"g-1\"]}]}"), 0);
	assert_int_equal(c->nexperiments, 2);
	assert_string_equal(c->experiments[0].name, "e1");
	assert_int_equal(c->experiments[0].nvariants, 2);
	assert_int_equal(c->experiments[0].variants[0].weight, 0);
	assert_string_equal(c->experiments[0].variants[0].params_json, "{}");
	assert_string_equal(c->experiments[0].variants[1].name, "b.2");
	assert_int_equal(c->experiments[0].variants[1].weight, 3);
	assert_string_equal(c->experiments[0].variants[1].params_json,
			    "{\"x\":[1,2.5],\"y\":{}}");
	assert_int_equal(c->experiments[0].ngoals, 0);
	assert_string_equal(c->experiments[1].name, "e_2");
	assert_int_equal(c->experiments[1].ngoals, 1);
	assert_string_equal(c->experiments[1].goals[0], "g-1");
	/* the same variant name in two experiments is fine */
	assert_string_equal(c->experiments[1].variants[0].name, "a");
}

/* --- errors ------------------------------------------------------------------ */

struct bad {
	const char *json, *line;
};

#define RANGE(path, lo, hi) path ": must be an integer from " #lo " to " #hi
#define ORIGIN_MSG "must be an origin such as \"https://rooms.example.org\" " \
	"(scheme, host, optional port; no path)"
#define NAME_MSG "must be a name of 1 to 64 letters, digits, '-', '_' or '.'"
#define GOAL_MSG "must be a goal name of 1 to 64 letters, digits, '-', '_' or '.'"
#define LISTEN_MSG "listen: must be a string \"host:port\" or \"[v6 address]:port\""
#define EXP(v) "{\"experiments\":[{\"name\":\"e\",\"variants\":[" v "]}]}"
#define TOKEN64 "8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918"

static const struct bad range_errors[] = {
	{ "{\"rooms\":{\"max_peers\":0}}", RANGE("rooms.max_peers", 1, 64) },
	{ "{\"rooms\":{\"max_peers\":65}}", RANGE("rooms.max_peers", 1, 64) },
	{ "{\"rooms\":{\"max_peers\":-1}}", RANGE("rooms.max_peers", 1, 64) },
	{ "{\"rooms\":{\"max_rooms\":0}}", RANGE("rooms.max_rooms", 1, 1000000) },
	{ "{\"rooms\":{\"max_rooms\":1000001}}",
	  RANGE("rooms.max_rooms", 1, 1000000) },
	{ "{\"limits\":{\"max_connections\":0}}",
	  RANGE("limits.max_connections", 1, 1000000) },
	{ "{\"limits\":{\"max_connections\":1000001}}",
	  RANGE("limits.max_connections", 1, 1000000) },
	{ "{\"limits\":{\"max_message_bytes\":1023}}",
	  RANGE("limits.max_message_bytes", 1024, 1048576) },
	{ "{\"limits\":{\"max_message_bytes\":1048577}}",
	  RANGE("limits.max_message_bytes", 1024, 1048576) },
	{ "{\"limits\":{\"max_message_bytes\":4294968320}}",
	  RANGE("limits.max_message_bytes", 1024, 1048576) },
	{ "{\"limits\":{\"max_queued_bytes\":4095}}",
	  RANGE("limits.max_queued_bytes", 4096, 268435456) },
	{ "{\"limits\":{\"max_queued_bytes\":268435457}}",
	  RANGE("limits.max_queued_bytes", 4096, 268435456) },
	{ "{\"limits\":{\"messages_per_second\":0}}",
	  RANGE("limits.messages_per_second", 1, 10000) },
	{ "{\"limits\":{\"messages_per_second\":10001}}",
	  RANGE("limits.messages_per_second", 1, 10000) },
	{ "{\"limits\":{\"message_burst\":0}}",
	  RANGE("limits.message_burst", 1, 100000) },
	{ "{\"limits\":{\"message_burst\":100001}}",
	  RANGE("limits.message_burst", 1, 100000) },
	{ "{\"limits\":{\"idle_timeout_s\":1}}",
	  RANGE("limits.idle_timeout_s", 2, 3600) },
	{ "{\"limits\":{\"idle_timeout_s\":3601}}",
	  RANGE("limits.idle_timeout_s", 2, 3600) },
	{ "{\"ice\":{\"turn\":{\"urls\":[\"turn:a\"],\"secret\":\"s\",\"ttl_s\":59}}}",
	  RANGE("ice.turn.ttl_s", 60, 604800) },
	{ "{\"ice\":{\"turn\":{\"urls\":[\"turn:a\"],\"secret\":\"s\",\"ttl_s\":604801}}}",
	  RANGE("ice.turn.ttl_s", 60, 604800) },
	{ EXP("{\"name\":\"a\",\"weight\":-1}"),
	  RANGE("experiments[0].variants[0].weight", 0, 1000000) },
	{ EXP("{\"name\":\"a\",\"weight\":1000001}"),
	  RANGE("experiments[0].variants[0].weight", 0, 1000000) },
};

static const struct bad type_errors[] = {
	{ "{\"listen\":8080}", LISTEN_MSG },
	{ "{\"listen\":null}", LISTEN_MSG },
	{ "{\"listen\":\"localhost\"}", LISTEN_MSG },
	{ "{\"listen\":\"[::1]:65536\"}", LISTEN_MSG },
	{ "{\"tls\":\"x\"}", "tls: must be an object" },
	{ "{\"tls\":{\"cert\":\"/c\"}}", "tls.key: is required" },
	{ "{\"tls\":{\"key\":\"/k\"}}", "tls.cert: is required" },
	{ "{\"tls\":{\"cert\":\"\",\"key\":\"/k\"}}",
	  "tls.cert: must be a non-empty string" },
	{ "{\"tls\":{\"cert\":\"/c\",\"key\":7}}",
	  "tls.key: must be a non-empty string" },
	{ "{\"web_root\":\"\"}", "web_root: must be a non-empty string" },
	{ "{\"web_root\":[\"/w\"]}", "web_root: must be a non-empty string" },
	{ "{\"state_dir\":null}", "state_dir: must be a non-empty string" },
	{ "{\"allowed_origins\":\"https://a.org\"}",
	  "allowed_origins: must be a non-empty array of strings" },
	{ "{\"allowed_origins\":[]}",
	  "allowed_origins: must be a non-empty array of strings" },
	{ "{\"allowed_origins\":[\"https://a.org/x\"]}",
	  "allowed_origins[0]: " ORIGIN_MSG },
	{ "{\"allowed_origins\":[\"ftp://a.org\"]}",
	  "allowed_origins[0]: " ORIGIN_MSG },
	{ "{\"allowed_origins\":[\"https://\"]}",
	  "allowed_origins[0]: " ORIGIN_MSG },
	{ "{\"allowed_origins\":[\"https://a.org\",5]}",
	  "allowed_origins[1]: " ORIGIN_MSG },
	{ "{\"allowed_origins\":[\"https://a.org\",\"https://a.org\"]}",
	  "allowed_origins[1]: is a duplicate" },
	{ "{\"rooms\":[]}", "rooms: must be an object" },
	{ "{\"rooms\":{\"max_peers\":\"8\"}}", RANGE("rooms.max_peers", 1, 64) },
	{ "{\"rooms\":{\"max_peers\":8.0}}", RANGE("rooms.max_peers", 1, 64) },
	{ "{\"rooms\":{\"max_peers\":true}}", RANGE("rooms.max_peers", 1, 64) },
	{ "{\"rooms\":{\"max_peers\":null}}", RANGE("rooms.max_peers", 1, 64) },
	{ "{\"limits\":5}", "limits: must be an object" },
	{ "{\"limits\":{\"max_message_bytes\":\"65536\"}}",
	  RANGE("limits.max_message_bytes", 1024, 1048576) },
	{ "{\"limits\":{\"max_message_bytes\":65536.5}}",
	  RANGE("limits.max_message_bytes", 1024, 1048576) },
	{ "{\"ice\":[]}", "ice: must be an object" },
	{ "{\"ice\":{\"stun\":\"stun:x\"}}", "ice.stun: must be an array of strings" },
	{ "{\"ice\":{\"stun\":[\"http://x\"]}}",
	  "ice.stun[0]: must be a stun: or stuns: URL" },
	{ "{\"ice\":{\"stun\":[\"stun:a\",\"stun:a\"]}}",
	  "ice.stun[1]: is a duplicate" },
	{ "{\"ice\":{\"turn\":\"x\"}}", "ice.turn: must be an object" },
	{ "{\"ice\":{\"turn\":{\"urls\":[\"turn:a\"]}}}",
	  "ice.turn.secret: is required" },
	{ "{\"ice\":{\"turn\":{\"secret\":\"s\"}}}", "ice.turn.urls: is required" },
	{ "{\"ice\":{\"turn\":{\"urls\":[],\"secret\":\"s\"}}}",
	  "ice.turn.urls: must be a non-empty array of strings" },
	{ "{\"ice\":{\"turn\":{\"urls\":[\"stun:a\"],\"secret\":\"s\"}}}",
	  "ice.turn.urls[0]: must be a turn: or turns: URL" },
	{ "{\"ice\":{\"turn\":{\"urls\":[\"turn:a\"],\"secret\":\"\"}}}",
	  "ice.turn.secret: must be a non-empty string" },
	{ "{\"admin\":\"x\"}", "admin: must be an object" },
	{ "{\"admin\":{}}", "admin.token_sha256: is required" },
	{ "{\"admin\":{\"token_sha256\":\"abc\"}}",
	  "admin.token_sha256: must be 64 hexadecimal digits" },
	{ "{\"admin\":{\"token_sha256\":\"" TOKEN64 "0\"}}",
	  "admin.token_sha256: must be 64 hexadecimal digits" },
	{ "{\"admin\":{\"token_sha256\":\"g" TOKEN64 "\"}}",
	  "admin.token_sha256: must be 64 hexadecimal digits" },
	{ "{\"admin\":{\"token_sha256\":64}}",
	  "admin.token_sha256: must be 64 hexadecimal digits" },
	{ "{\"experiments\":{}}", "experiments: must be an array of experiments" },
	{ "{\"experiments\":null}", "experiments: must be an array of experiments" },
	{ "{\"experiments\":[1]}", "experiments[0]: must be an object" },
	{ "{\"experiments\":[{\"variants\":[{\"name\":\"a\",\"weight\":1}]}]}",
	  "experiments[0].name: " NAME_MSG },
	{ "{\"experiments\":[{\"name\":\"a b\",\"variants\":[{\"name\":\"a\",\"weight\":1}]}]}",
	  "experiments[0].name: " NAME_MSG },
	{ "{\"experiments\":[{\"name\":\"0123456789012345678901234567890123456789"
	  "01234567890123456789012345\",\"variants\":[{\"name\":\"a\",\"weight\":1}]}]}",
	  "experiments[0].name: " NAME_MSG },
	{ "{\"experiments\":[{\"name\":\"e\"}]}",
	  "experiments[0].variants: must be a non-empty array of variants" },
	{ EXP(""), "experiments[0].variants: must be a non-empty array of variants" },
	{ EXP("5"), "experiments[0].variants[0]: must be an object" },
	{ EXP("{\"name\":\"a\"}"), "experiments[0].variants[0].weight: is required" },
	{ EXP("{\"weight\":1}"), "experiments[0].variants[0].name: " NAME_MSG },
	{ EXP("{\"name\":\"a\",\"weight\":0},{\"name\":\"b\",\"weight\":0}"),
	  "experiments[0].variants: must have a total weight above 0" },
	{ EXP("{\"name\":\"a\",\"weight\":1},{\"name\":\"a\",\"weight\":1}"),
	  "experiments[0].variants[1]: has a duplicate name" },
	{ EXP("{\"name\":\"a\",\"weight\":1,\"params\":5}"),
	  "experiments[0].variants[0].params: must be an object" },
	{ "{\"experiments\":[{\"name\":\"e\",\"variants\":[{\"name\":\"a\",\"weight\":1}],"
	  "\"goals\":\"g\"}]}", "experiments[0].goals: must be an array of strings" },
	{ "{\"experiments\":[{\"name\":\"e\",\"variants\":[{\"name\":\"a\",\"weight\":1}],"
	  "\"goals\":[\"a b\"]}]}", "experiments[0].goals[0]: " GOAL_MSG },
	{ "{\"experiments\":[{\"name\":\"e\",\"variants\":[{\"name\":\"a\",\"weight\":1}],"
	  "\"goals\":[\"g\",\"g\"]}]}", "experiments[0].goals[1]: is a duplicate" },
	{ "{\"experiments\":[{\"name\":\"e\",\"variants\":[{\"name\":\"a\",\"weight\":1}]},"
	  "{\"name\":\"e\",\"variants\":[{\"name\":\"a\",\"weight\":1}]}]}",
	  "experiments[1]: has a duplicate name" },
	{ "[]", "(top): must be a JSON object" },
	{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	  "(top): must be a JSON object" }, /* 32 levels: not too deep */
	{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	  "(top): nested deeper than 32 levels" },
};

static const struct bad unknown_members[] = {
	{ "{\"foo\":1}", "foo: unknown member" },
	{ "{\"Listen\":\"a:1\"}", "Listen: unknown member" },
	{ "{\"tls\":{\"cert\":\"c\",\"key\":\"k\",\"ca\":\"x\"}}",
	  "tls.ca: unknown member" },
	{ "{\"rooms\":{\"max_peer\":3}}", "rooms.max_peer: unknown member" },
	{ "{\"limits\":{\"foo\":{}}}", "limits.foo: unknown member" },
	{ "{\"ice\":{\"stun\":[],\"turn_urls\":[]}}", "ice.turn_urls: unknown member" },
	{ "{\"ice\":{\"turn\":{\"urls\":[\"turn:a\"],\"secret\":\"s\",\"user\":\"u\"}}}",
	  "ice.turn.user: unknown member" },
	{ "{\"admin\":{\"token_sha256\":\"" TOKEN64 "\",\"token\":\"t\"}}",
	  "admin.token: unknown member" },
	{ "{\"experiments\":[{\"name\":\"e\",\"variants\":[{\"name\":\"a\",\"weight\":1}],"
	  "\"x\":1}]}", "experiments[0].x: unknown member" },
	{ EXP("{\"name\":\"a\",\"weight\":1,\"w\":2}"),
	  "experiments[0].variants[0].w: unknown member" },
};

static void run_table(struct fx *f, const struct bad *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		only_error(f, t[i].json, t[i].line);
}

static void range_errors_name_their_path(void **state)
{
	run_table(*state, range_errors, sizeof(range_errors) / sizeof(range_errors[0]));
}

static void type_errors_name_their_path(void **state)
{
	run_table(*state, type_errors, sizeof(type_errors) / sizeof(type_errors[0]));
}

static void unknown_members_at_every_level(void **state)
{
	run_table(*state, unknown_members,
		  sizeof(unknown_members) / sizeof(unknown_members[0]));
}

static void duplicate_keys(void **state)
{
	struct fx *f = *state;
	static const char *const dups[] = {
		"{\"listen\":\"a:1\",\"listen\":\"b:2\"}",
		"{\"limits\":{\"message_burst\":5,\"message_burst\":6}}",
		"{\"experiments\":[{\"name\":\"e\",\"name\":\"f\","
		"\"variants\":[{\"name\":\"a\",\"weight\":1}]}]}",
		"{\"experiments\":[{\"name\":\"e\",\"variants\":[{\"name\":\"a\","
		"\"weight\":1,\"params\":{\"k\":1,\"k\":2}}]}]}",
		"{\"web_root\":\"/a\",\"web\\u005froot\":\"/b\"}",
	};

	for (size_t i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
		assert_int_equal(parse(f, dups[i]), -EINVAL);
		assert_int_equal(f->e.count, 1);
		assert_non_null(strstr(f->e.text, "invalid JSON"));
		assert_non_null(strstr(f->e.text, "duplicate"));
		assert_non_null(strstr(f->e.text, "line 1 column "));
		config_is_zeroed(&f->c);
	}
}

static void invalid_json(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"", "{", "{\"listen\":}", "{} {}", "\"x\"", "nul", "{\"a\":1,}",
		"{\"listen\":\"\xff\"}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(f, bad[i]), -EINVAL);
		assert_int_equal(f->e.count, 1);
		assert_non_null(strstr(f->e.text, ": invalid JSON: "));
		config_is_zeroed(&f->c);
	}
	/* the position is named */
	assert_int_equal(parse(f, "{\n  \"rooms\": {\n    \"max_peers\": 8,\n  }\n}"),
			 -EINVAL);
	assert_true(!strncmp(f->e.text, "line 4 column ", 14));
	/* a NUL byte inside the text is not a place to stop reading */
	assert_int_equal(xr_config_parse(&f->c, "{}\0{", 4, &f->e), -EINVAL);
}

static void too_large(void **state)
{
	struct fx *f = *state;
	size_t n = (1u << 20) + 1;
	char *big = malloc(n + 1);

	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	assert_int_equal(xr_config_parse(&f->c, big, n, &f->e), -EINVAL);
	assert_true(has_line(&f->e, "(top): the file is larger than 1048576 bytes"));
	/* exactly 1 MiB is read */
	assert_int_equal(xr_config_parse(&f->c, big + 1, n - 1, &f->e), -EINVAL);
	assert_non_null(strstr(f->e.text, "invalid JSON")); /* no '{' */
	big[1] = '{';
	assert_int_equal(xr_config_parse(&f->c, big + 1, n - 1, &f->e), 0);
	free(big);
}

static void several_errors_all_reported(void **state)
{
	struct fx *f = *state;
	int rc = parse(f, "{\"foo\":1,\"rooms\":{\"max_peers\":0,\"bar\":2},"
		       "\"limits\":{\"idle_timeout_s\":1,\"message_burst\":\"x\"},"
		       "\"admin\":{},\"tls\":{},"
		       "\"experiments\":[{\"name\":\"\",\"variants\":[]}]}");

	assert_int_equal(rc, -EINVAL);
	assert_true(has_line(&f->e, "foo: unknown member"));
	assert_true(has_line(&f->e, "rooms.bar: unknown member"));
	assert_true(has_line(&f->e, RANGE("rooms.max_peers", 1, 64)));
	assert_true(has_line(&f->e, RANGE("limits.idle_timeout_s", 2, 3600)));
	assert_true(has_line(&f->e, RANGE("limits.message_burst", 1, 100000)));
	assert_true(has_line(&f->e, "admin.token_sha256: is required"));
	assert_true(has_line(&f->e, "tls.cert: is required"));
	assert_true(has_line(&f->e, "tls.key: is required"));
	assert_true(has_line(&f->e, "experiments[0].name: " NAME_MSG));
	assert_true(has_line(&f->e,
		"experiments[0].variants: must be a non-empty array of variants"));
	assert_int_equal(f->e.count, 10);
	config_is_zeroed(&f->c);
}

static void many_errors_stay_in_the_buffer(void **state)
{
	struct fx *f = *state;
	size_t cap = 300 * 32 + 16, n = 0;
	char *json = malloc(cap);

	assert_non_null(json);
	n += (size_t)snprintf(json + n, cap - n, "{");
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(json + n, cap - n, "%s\"unknown_%03d\":%d",
				      i ? "," : "", i, i);
	snprintf(json + n, cap - n, "}");
	assert_int_equal(parse(f, json), -EINVAL);
	assert_int_equal(f->e.count, 300);  /* all counted */
	assert_true(strlen(f->e.text) < sizeof(f->e.text));
	assert_true(has_line(&f->e, "unknown_000: unknown member"));
	free(json);
}

/* --- --listen and files -------------------------------------------------------- */

static void set_listen(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *in, *host;
		uint16_t port;
	} ok[] = {
		{ "127.0.0.1:8080", "127.0.0.1", 8080 },
		{ "0.0.0.0:1", "0.0.0.0", 1 },
		{ "localhost:65535", "localhost", 65535 },
		{ "[::1]:9000", "::1", 9000 },
		{ "[::]:80", "::", 80 },
		{ "[2001:db8::17]:8443", "2001:db8::17", 8443 },
	};
	static const char *const bad[] = {
		"", "8080", ":8080", "host:", "host:65536", "host:-1", "host:80x",
		"host:99999999999999999999", "::1:80", "[::1]80", "[::1]", "[::1",
		"[]:80", "a:b:80",
	};

	assert_int_equal(xr_config_defaults(&f->c), 0);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(xr_config_set_listen(&f->c, ok[i].in), 0);
		assert_string_equal(f->c.listen_host, ok[i].host);
		assert_int_equal(f->c.listen_port, ok[i].port);
	}
	assert_int_equal(xr_config_set_listen(&f->c, "10.1.2.3:4444"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (xr_config_set_listen(&f->c, bad[i]) != -EINVAL)
			fail_msg("accepted --listen \"%s\"", bad[i]);
		/* the old value stays */
		assert_string_equal(f->c.listen_host, "10.1.2.3");
		assert_int_equal(f->c.listen_port, 4444);
	}
}

static void set_string(void **state)
{
	struct fx *f = *state;

	assert_int_equal(xr_config_defaults(&f->c), 0);
	assert_int_equal(xr_config_set_string(&f->c.web_root, "/a"), 0);
	assert_int_equal(xr_config_set_string(&f->c.web_root, "/b"), 0);
	assert_string_equal(f->c.web_root, "/b");
}

static void load_file(void **state)
{
	struct fx *f = *state;
	static const char text[] = "{\"rooms\":{\"max_peers\":3}}";
	int fd;

	strcpy(f->tmp, "/tmp/xroom-test-config-XXXXXX");
	fd = mkstemp(f->tmp);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	close(fd);
	assert_int_equal(xr_config_load(&f->c, f->tmp, &f->e), 0);
	assert_int_equal(f->c.max_peers, 3);
	xr_config_free(&f->c);

	assert_int_equal(xr_config_load(&f->c, "/nonexistent/xroom.json", &f->e),
			 -ENOENT);
	assert_int_equal(f->e.count, 1);
	assert_true(!strncmp(f->e.text, "/nonexistent/xroom.json: ", 25));
	config_is_zeroed(&f->c);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(defaults),
		T(empty_object_is_the_defaults),
		T(spec_example_parses),
		T(docs_example_parses),
		T(listen_and_paths),
		T(tls_section),
		T(origins_section),
		T(rooms_and_limits_sections),
		T(ice_section),
		T(admin_section),
		T(experiments_section),
		T(range_errors_name_their_path),
		T(type_errors_name_their_path),
		T(unknown_members_at_every_level),
		T(duplicate_keys),
		T(invalid_json),
		T(too_large),
		T(several_errors_all_reported),
		T(many_errors_stay_in_the_buffer),
		T(set_listen),
		T(set_string),
		T(load_file),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}

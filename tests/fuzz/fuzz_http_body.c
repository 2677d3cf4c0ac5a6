/* fuzz_http_body.c: libFuzzer target for the HTTP API's request bodies.
 * The input is cut at each 0xFF byte (never in UTF-8 text) into the chunks
 * lws would hand to LWS_CALLBACK_HTTP_BODY; they are gathered by
 * xr_http_body_append as http.c does, and the body (when within the cap)
 * goes through every body parser of the API: /api/events
 * (xr_api_parse_event, then the goal is counted by an experiment engine
 * with two experiments), /api/rooms/<id>/kick (xr_api_parse_kick) and the
 * PUT of /api/rooms/<id> (xr_roomconf_parse, under two caps).
 *
 * Checks, beyond the sanitizers: gathering keeps exactly the bytes given
 * until the cap and then flags the request; a parsed goal or peer id is a
 * NUL-free string of the expected length; a goal counts at most once per
 * experiment for one visitor; accepted room settings are in range and
 * survive xr_roomconf_json -> xr_roomconf_parse unchanged; a refusal always
 * says why. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xroom/config/config.h"
#include "xroom/features/apibody.h"
#include "xroom/features/experiment.h"
#include "xroom/features/roomconf.h"
#include "xroom/transport/http_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define SEP 0xFF

static const char exp_config[] =
	"{\"experiments\":["
	"{\"name\":\"e1\",\"variants\":[{\"name\":\"a\",\"weight\":1},"
	"{\"name\":\"b\",\"weight\":1}],\"goals\":[\"join\",\"call\"]},"
	"{\"name\":\"e2\",\"variants\":[{\"name\":\"x\",\"weight\":1}],"
	"\"goals\":[\"join\"]}]}";

static struct xr_config *config(void)
{
	static struct xr_config c;
	static int ready;
	struct xr_config_errors e;

	if (!ready) {
		CHECK(xr_config_parse(&c, exp_config, sizeof(exp_config) - 1, &e) == 0);
		ready = 1;
	}
	return &c;
}

/* Gathers the chunks; returns the body (owned by p) or NULL if over cap. */
static const char *gather(struct xr_http_req *p, const uint8_t *data,
			  size_t size)
{
	size_t total = 0, start = 0;

	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != SEP)
			continue;
		CHECK(xr_http_body_append(p, data + start, i - start) == 0);
		total += i - start;
		if (total <= XR_API_BODY_MAX) {
			CHECK(!p->too_large && p->body.len == total);
			CHECK(!total || !memcmp(p->body.p + total - (i - start),
						data + start, i - start));
		} else {
			CHECK(p->too_large && p->body.len <= XR_API_BODY_MAX);
		}
		start = i + 1;
	}
	if (p->too_large)
		return NULL;
	return p->body.p ? (const char *)p->body.p : "";
}

static void check_event(const char *body, size_t len)
{
	char goal[XR_API_BODY_MAX + 1], small[4];
	unsigned char key[XR_VISITOR_KEY_BYTES] = { 7 };
	struct xr_config *c = config();
	struct xr_exp *e;
	int rc = xr_api_parse_event(body, len, goal, sizeof(goal)), n, v;

	CHECK(rc == 0 || rc == -EINVAL);
	if (rc) {
		CHECK(xr_api_parse_event(body, len, small, sizeof(small)) == -EINVAL);
		return;
	}
	CHECK(strlen(goal) < len);
	rc = xr_api_parse_event(body, len, small, sizeof(small));
	CHECK(strlen(goal) < sizeof(small) ? rc == 0 && !strcmp(small, goal) :
					     rc == -E2BIG);

	e = xr_exp_new();
	CHECK(e);
	xr_exp_roll(e, 20000);
	n = xr_exp_event(e, c, key, goal); /* not shown yet: nothing counted */
	CHECK(n >= 0 && n <= (int)c->nexperiments);
	{
		int vars[2];
		CHECK(xr_exp_session(e, c, key, vars) == 0);
		for (int k = 0; k < 2; k++) {
			CHECK(xr_exp_event(e, c, key, goal) == n);
			for (size_t i = 0; i < c->nexperiments; i++) {
				v = vars[i];
				CHECK(xr_exp_count(e, c->experiments[i].name,
					c->experiments[i].variants[v].name, goal,
					20000) <= 1);
			}
		}
	}
	CHECK(n == (!strcmp(goal, "join") ? 2 : !strcmp(goal, "call") ? 1 : 0));
	xr_exp_free(e);
}

static void check_kick(const char *body, size_t len)
{
	char pid[XR_PEER_ID_LEN + 1];
	int rc = xr_api_parse_kick(body, len, pid);

	CHECK(rc == 0 || rc == -EINVAL || rc == -ENOENT);
	if (!rc)
		CHECK(strlen(pid) == XR_PEER_ID_LEN);
}

static void check_roomconf(const char *body, size_t len, uint32_t cap)
{
	struct xr_room_conf c, back;
	char err[256], err2[256];
	char *text;
	int rc = xr_roomconf_parse(body, len, cap, &c, err, sizeof(err));

	if (rc) {
		CHECK(rc == -EINVAL && err[0] && strlen(err) < sizeof(err));
		return;
	}
	CHECK(c.max_peers <= cap);
	CHECK(c.expires_at >= 0 && c.expires_at <= 253402300799LL);
	CHECK(strlen(c.title) < sizeof(c.title));
	for (const unsigned char *t = (const unsigned char *)c.title; *t; t++)
		CHECK(*t >= 0x20 && *t != 0x7f);
	text = xr_roomconf_json(&c);
	CHECK(text);
	CHECK(xr_roomconf_parse(text, strlen(text), cap, &back, err2,
				sizeof(err2)) == 0);
	CHECK(back.max_peers == c.max_peers && back.locked == c.locked &&
	      back.expires_at == c.expires_at && !strcmp(back.title, c.title));
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xr_http_req p;
	const char *body;

	memset(&p, 0, sizeof(p));
	body = gather(&p, data, size);
	if (body) {
		check_event(body, p.body.len);
		check_kick(body, p.body.len);
		check_roomconf(body, p.body.len, 8);
		check_roomconf(body, p.body.len, 64);
	}
	xr_rxbuf_reset(&p.body);
	return 0;
}

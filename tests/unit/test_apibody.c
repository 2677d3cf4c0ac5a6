/* test_apibody.c: the HTTP API's request bodies without lws: gathering
 * chunks under the 4 KiB cap (413 past it), and the strict one-member
 * bodies of /api/events and of a kick (400 for any other shape, 404 for a
 * string that cannot be a peer id). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xroom/features/apibody.h"
#include "xroom/transport/http_body.h"

static int setup(void **state)
{
	struct xr_http_req *p = calloc(1, sizeof(*p));

	*state = p;
	return p ? 0 : -1;
}

static int teardown(void **state)
{
	xr_http_req_free(*state);
	return 0;
}

static void chunks_are_gathered(void **state)
{
	struct xr_http_req *p = *state;

	assert_int_equal(xr_http_body_append(p, "", 0), 0);
	assert_null(p->body.p);
	assert_int_equal(xr_http_body_append(p, "{\"ev", 4), 0);
	assert_int_equal(xr_http_body_append(p, "ent\":1}", 7), 0);
	assert_int_equal(p->body.len, 11);
	assert_memory_equal(p->body.p, "{\"event\":1}", 11);
	assert_false(p->too_large);
}

static void over_the_cap_is_flagged(void **state)
{
	struct xr_http_req *p = *state;
	char *big = malloc(XR_API_BODY_MAX);

	assert_non_null(big);
	memset(big, 'a', XR_API_BODY_MAX);
	assert_int_equal(xr_http_body_append(p, big, XR_API_BODY_MAX), 0);
	assert_int_equal(p->body.len, XR_API_BODY_MAX);
	assert_false(p->too_large); /* exactly the cap is fine */
	assert_int_equal(xr_http_body_append(p, "b", 1), 0);
	assert_true(p->too_large);
	assert_int_equal(p->body.len, XR_API_BODY_MAX);
	free(big);
}

static void event_bodies(void **state)
{
	char goal[64], tiny[3];

	(void)state;
	assert_int_equal(xr_api_parse_event("{\"event\":\"join\"}", 16, goal,
					    sizeof(goal)), 0);
	assert_string_equal(goal, "join");
	assert_int_equal(xr_api_parse_event("{\"event\":\"join\"}", 16, tiny,
					    sizeof(tiny)), -E2BIG);
	assert_int_equal(xr_api_parse_event("{\"event\":\"\\u006a\"}", 18, goal,
					    sizeof(goal)), 0);
	assert_string_equal(goal, "j");
	assert_int_equal(xr_api_parse_event(NULL, 0, goal, sizeof(goal)), -EINVAL);
	assert_int_equal(xr_api_parse_event("", 0, goal, sizeof(goal)), -EINVAL);
	assert_int_equal(xr_api_parse_event("{\"event\":1}", 11, goal,
					    sizeof(goal)), -EINVAL);
	assert_int_equal(xr_api_parse_event("{\"event\":\"a\",\"x\":1}", 19,
					    goal, sizeof(goal)), -EINVAL);
	assert_int_equal(xr_api_parse_event("{\"event\":\"a\",\"event\":\"b\"}",
					    25, goal, sizeof(goal)), -EINVAL);
	assert_int_equal(xr_api_parse_event("{\"event\":\"a\\u0000\"}", 19,
					    goal, sizeof(goal)), -EINVAL);
	assert_int_equal(xr_api_parse_event("[\"event\"]", 9, goal,
					    sizeof(goal)), -EINVAL);
}

static void kick_bodies(void **state)
{
	char pid[XR_PEER_ID_LEN + 1];

	(void)state;
	assert_int_equal(xr_api_parse_kick("{\"peer\":\"abcdefghijklmnop\"}", 27,
					   pid), 0);
	assert_string_equal(pid, "abcdefghijklmnop");
	assert_int_equal(xr_api_parse_kick("{\"peer\":\"short\"}", 16, pid),
			 -ENOENT);
	assert_int_equal(xr_api_parse_kick("{\"peer\":\"abcdefghijklmnopq\"}",
					   28, pid), -ENOENT);
	assert_int_equal(xr_api_parse_kick("{\"peer\":7}", 10, pid), -EINVAL);
	assert_int_equal(xr_api_parse_kick("{}", 2, pid), -EINVAL);
	assert_int_equal(xr_api_parse_kick(NULL, 0, pid), -EINVAL);
	assert_int_equal(xr_api_parse_kick("{\"peer\":\"a\"} x", 14, pid),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(chunks_are_gathered, setup, teardown),
		cmocka_unit_test_setup_teardown(over_the_cap_is_flagged, setup,
						teardown),
		cmocka_unit_test(event_bodies),
		cmocka_unit_test(kick_bodies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_proto.c: the wire contract as pure logic: xr_parse_message for every
 * message type and every way a message can be wrong, the nesting scan, the
 * error table, and the builders (their output checked with jansson; a
 * relayed `data` kept byte for byte). xr_dispatch_message against a hub is in
 * test_room.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xroom/codec/build.h"
#include "xroom/codec/jscan.h"
#include "xroom/codec/parse.h"

#define ID0 "AAAAAAAAAAAAAAAA"
#define ID1 "b-_9zzzzzzzzzzzz"

struct fx {
	struct xr_msg m;
	struct xr_buf *b;
	json_t *j;
	char *text;
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

	xr_msg_clear(&f->m);
	xr_buf_unref(f->b);
	json_decref(f->j);
	free(f->text);
	free(f);
	return 0;
}

static enum xr_err parse(struct fx *f, const char *s)
{
	xr_msg_clear(&f->m);
	return xr_parse_message(s, strlen(s), &f->m);
}

static enum xr_err parse_n(struct fx *f, const char *s, size_t n)
{
	xr_msg_clear(&f->m);
	return xr_parse_message(s, n, &f->m);
}

#define assert_span(ptr, len, str) do { \
	assert_non_null(ptr); \
	assert_int_equal((len), strlen(str)); \
	assert_memory_equal((ptr), (str), strlen(str)); \
} while (0)

/* Takes the builder's buffer, checks it is one JSON object and keeps it. */
static json_t *load(struct fx *f, struct xr_buf *b)
{
	json_error_t err;

	assert_non_null(b);
	assert_int_equal(b->refs, 1);
	xr_buf_unref(f->b);
	json_decref(f->j);
	f->b = b;
	f->j = json_loadb((const char *)xr_buf_payload(b), b->len,
			  JSON_REJECT_DUPLICATES, &err);
	if (!f->j)
		fail_msg("not JSON (%s): %.*s", err.text, (int)b->len,
			 (const char *)xr_buf_payload(b));
	assert_true(json_is_object(f->j));
	return f->j;
}

static const char *str_member(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

static bool payload_is(struct xr_buf *b, const char *s)
{
	return b->len == strlen(s) && !memcmp(xr_buf_payload(b), s, b->len);
}

/* --- names and scanning ------------------------------------------------------ */

static void room_and_peer_ids(void **state)
{
	(void)state;
	assert_true(xr_room_id_valid("a", 1));
	assert_true(xr_room_id_valid("AZaz09-_", 8));
	assert_true(xr_room_id_valid(
		"0123456789012345678901234567890123456789012345678901234567890123",
		64));
	assert_false(xr_room_id_valid(
		"01234567890123456789012345678901234567890123456789012345678901234",
		65));
	assert_false(xr_room_id_valid("", 0));
	assert_false(xr_room_id_valid("a/b", 3));
	assert_false(xr_room_id_valid("a.b", 3));
	assert_false(xr_room_id_valid("a%20", 4));
	assert_false(xr_room_id_valid("a\0b", 3));
	assert_false(xr_room_id_valid("\xc3\xa9", 2));
	assert_true(xr_peer_id_valid(ID0, 16));
	assert_true(xr_peer_id_valid(ID1, 16));
	assert_false(xr_peer_id_valid(ID0, 15));
	assert_false(xr_peer_id_valid(ID0 "A", 17));
	assert_false(xr_peer_id_valid("AAAAAAAAAAAAAAA=", 16));
	assert_false(xr_peer_id_valid("AAAAAAAAAAAAAAA+", 16));
}

static void json_depth(void **state)
{
	char deep[200];

	(void)state;
	assert_int_equal(xr_jscan_depth("", 0, 64), 0);
	assert_int_equal(xr_jscan_depth("1", 1, 64), 0);
	assert_int_equal(xr_jscan_depth("{}", 2, 64), 1);
	assert_int_equal(xr_jscan_depth("[[[]]]", 6, 64), 3);
	assert_int_equal(xr_jscan_depth("[[],[[]],[]]", 12, 64), 3);
	assert_int_equal(xr_jscan_depth("{\"a\":{\"b\":[1]}}", 15, 64), 3);
	/* brackets inside strings do not count, escaped quotes included */
	assert_int_equal(xr_jscan_depth("{\"[[[\":\"{{{\"}", 13, 64), 1);
	assert_int_equal(xr_jscan_depth("{\"a\":\"\\\"[[\"}", 12, 64), 1);
	assert_int_equal(xr_jscan_depth("[\"\\\\\",[]]", 9, 64), 2);
	/* stray closers never go below zero */
	assert_int_equal(xr_jscan_depth("]]]}}[", 6, 64), 1);
	/* only len bytes are read */
	assert_int_equal(xr_jscan_depth("[[[[", 2, 64), 2);
	/* early stop once past the limit */
	memset(deep, '[', sizeof(deep));
	assert_int_equal(xr_jscan_depth(deep, 64, 64), 64);
	assert_int_equal(xr_jscan_depth(deep, 65, 64), 65);
	assert_int_equal(xr_jscan_depth(deep, sizeof(deep), 64), 65);
	assert_int_equal(xr_jscan_depth(deep, sizeof(deep), 3), 4);
}

static void error_table(void **state)
{
	static const struct {
		enum xr_err e;
		const char *name;
		uint16_t close;
	} t[] = {
		{ XR_OK, "ok", 0 },
		{ XR_E_BAD_JSON, "bad-json", 0 },
		{ XR_E_BAD_MESSAGE, "bad-message", 0 },
		{ XR_E_TOO_LARGE, "too-large", 1009 },
		{ XR_E_RATE_LIMITED, "rate-limited", 0 },
		{ XR_E_BAD_ROOM, "bad-room", 1008 },
		{ XR_E_ROOM_FULL, "room-full", 1008 },
		{ XR_E_FORBIDDEN, "forbidden", 1008 },
		{ XR_E_NOT_JOINED, "not-joined", 0 },
		{ XR_E_ALREADY_JOINED, "already-joined", 0 },
		{ XR_E_UNKNOWN_PEER, "unknown-peer", 0 },
		{ XR_E_SERVER_BUSY, "server-busy", 1013 },
		{ XR_E_ROOM_LOCKED, "room-locked", 1008 },
		{ XR_E_ROOM_CLOSED, "room-closed", 1000 },
		{ XR_E_KICKED, "kicked", 1000 },
		{ XR_E_ROOM_EXPIRED, "room-expired", 1008 },
	};

	(void)state;
	assert_int_equal(sizeof(t) / sizeof(t[0]), XR_E__COUNT);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_string_equal(xr_err_name(t[i].e), t[i].name);
		assert_int_equal(xr_err_close(t[i].e), t[i].close);
		assert_true(strlen(xr_err_text(t[i].e)) > 0);
	}
	assert_string_equal(xr_err_name(XR_E__COUNT), "internal");
	assert_int_equal(xr_err_close((enum xr_err)-1), 0);
	assert_non_null(xr_err_text((enum xr_err)1000));
}

/* --- parse: join ------------------------------------------------------------- */

static void parse_join(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, "{\"type\":\"join\"}"), XR_OK);
	assert_int_equal(f->m.type, XR_MSG_JOIN);
	assert_null(f->m.auth);
	assert_int_equal(f->m.auth_len, 0);

	assert_int_equal(parse(f, " {\"auth\":\"s3cr3t\" , \"type\" : \"join\"}\n"),
			 XR_OK);
	assert_int_equal(f->m.type, XR_MSG_JOIN);
	assert_span(f->m.auth, f->m.auth_len, "s3cr3t");

	/* "" is none */
	assert_int_equal(parse(f, "{\"type\":\"join\",\"auth\":\"\"}"), XR_OK);
	assert_int_equal(f->m.auth_len, 0);

	/* escapes are decoded before the limits apply */
	assert_int_equal(parse(f, "{\"type\":\"join\",\"auth\":\"\\u0041\\/\\\"\"}"),
			 XR_OK);
	assert_span(f->m.auth, f->m.auth_len, "A/\"");

	/* unknown members are ignored */
	assert_int_equal(parse(f, "{\"type\":\"join\",\"v\":2,\"x\":{\"y\":[]}}"), XR_OK);
}

static void join_auth_limits(void **state)
{
	struct fx *f = *state;
	char a[200], json[1200];

	/* 128 characters pass, 129 do not */
	memset(a, 'k', sizeof(a));
	snprintf(json, sizeof(json), "{\"type\":\"join\",\"auth\":\"%.128s\"}", a);
	assert_int_equal(parse(f, json), XR_OK);
	assert_int_equal(f->m.auth_len, 128);
	assert_memory_equal(f->m.auth, a, 128);
	snprintf(json, sizeof(json), "{\"type\":\"join\",\"auth\":\"%.129s\"}", a);
	assert_int_equal(parse(f, json), XR_E_BAD_MESSAGE);

	/* characters, not bytes of the message: 128 escaped ones are fine */
	{
		size_t n = (size_t)snprintf(json, sizeof(json),
					    "{\"type\":\"join\",\"auth\":\"");
		for (int i = 0; i < 128; i++)
			n += (size_t)snprintf(json + n, sizeof(json) - n, "\\u0061");
		snprintf(json + n, sizeof(json) - n, "\"}");
		assert_int_equal(parse(f, json), XR_OK);
		assert_int_equal(f->m.auth_len, 128);
		assert_int_equal(f->m.auth[127], 'a');
	}

	/* ASCII only: raw UTF-8, escaped non-ASCII, and a mix at the end */
	assert_int_equal(parse(f, "{\"type\":\"join\",\"auth\":\"caf\xc3\xa9\"}"),
			 XR_E_BAD_MESSAGE);
	assert_int_equal(parse(f, "{\"type\":\"join\",\"auth\":\"\\u00e9\"}"),
			 XR_E_BAD_MESSAGE);
	assert_int_equal(parse(f, "{\"type\":\"join\",\"auth\":\"\\ud83d\\ude00\"}"),
			 XR_E_BAD_MESSAGE);
	assert_int_equal(parse(f, "{\"type\":\"join\",\"auth\":\"\x7f\"}"), XR_OK);

	/* not a string */
	assert_int_equal(parse(f, "{\"type\":\"join\",\"auth\":null}"),
			 XR_E_BAD_MESSAGE);
	assert_int_equal(parse(f, "{\"type\":\"join\",\"auth\":12}"),
			 XR_E_BAD_MESSAGE);
	assert_int_equal(parse(f, "{\"type\":\"join\",\"auth\":[\"a\"]}"),
			 XR_E_BAD_MESSAGE);
	assert_int_equal(parse(f, "{\"type\":\"join\",\"auth\":{}}"),
			 XR_E_BAD_MESSAGE);
	assert_int_equal(parse(f, "{\"type\":\"join\",\"auth\":true}"),
			 XR_E_BAD_MESSAGE);
}

/* --- parse: signal ------------------------------------------------------------- */

static void parse_signal_keeps_data_bytes(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":\"" ID1 "\","
			       "\"data\": {\"sdp\" : \"v=0\\r\\n\", \"n\":[1, 2.50, -0, 1E2]} }"),
			 XR_OK);
	assert_int_equal(f->m.type, XR_MSG_SIGNAL);
	assert_span(f->m.to, f->m.to_len, ID1);
	/* the sender's bytes: spacing, 2.50, -0, 1E2 and escapes untouched;
	 * whitespace around the value is not part of it */
	assert_span(f->m.data, f->m.data_len,
		    "{\"sdp\" : \"v=0\\r\\n\", \"n\":[1, 2.50, -0, 1E2]}");

	/* data first, any kind of value */
	assert_int_equal(parse(f, "{\"data\":\"\\u00e9\\ud83d\\ude00\",\"to\":\""
			       ID1 "\",\"type\":\"signal\"}"), XR_OK);
	assert_span(f->m.data, f->m.data_len, "\"\\u00e9\\ud83d\\ude00\"");
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":\"x\",\"data\":null}"),
			 XR_OK);
	assert_span(f->m.data, f->m.data_len, "null");
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":\"x\",\"data\":\t-0.0e-0\r\n}"),
			 XR_OK);
	assert_span(f->m.data, f->m.data_len, "-0.0e-0");
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":\"x\",\"data\":[]}"),
			 XR_OK);
	assert_span(f->m.data, f->m.data_len, "[]");
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":\"x\",\"data\":\"\"}"),
			 XR_OK);
	assert_span(f->m.data, f->m.data_len, "\"\"");
}

static void signal_data_member_is_the_top_level_one(void **state)
{
	struct fx *f = *state;

	/* a nested "data" and a "data" string value are not the member */
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"x\":{\"data\":1},"
			       "\"to\":\"data\",\"note\":\"\\\"data\\\":9\","
			       "\"data\":[{\"data\":2}]}"), XR_OK);
	assert_span(f->m.data, f->m.data_len, "[{\"data\":2}]");
	assert_span(f->m.to, f->m.to_len, "data");
	/* a member whose name only starts or ends like it */
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":\"x\",\"database\":1,"
			       "\"xdata\":2,\"data\":3}"), XR_OK);
	assert_span(f->m.data, f->m.data_len, "3");
	/* a value with commas, brackets and quotes */
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"data\":{\"a\":[1,{\"b\":\"},]\"}]},"
			       "\"to\":\"x\"}"), XR_OK);
	assert_span(f->m.data, f->m.data_len, "{\"a\":[1,{\"b\":\"},]\"}]}");
	/* data the last member, nothing but whitespace after it */
	assert_int_equal(parse(f, "{\"to\":\"x\",\"type\":\"signal\",\"data\":\"}\"  }"),
			 XR_OK);
	assert_span(f->m.data, f->m.data_len, "\"}\"");
}

static void signal_escaped_data_name_is_reencoded(void **state)
{
	struct fx *f = *state;
	json_error_t err;
	json_t *v;

	/* the name written with an escape: the value is found through jansson
	 * and re-encoded compactly */
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":\"x\","
			       "\"d\\u0061ta\": { \"k\" : [ 1 , true ] } }"), XR_OK);
	assert_span(f->m.data, f->m.data_len, "{\"k\":[1,true]}");
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":\"x\","
			       "\"\\u0064ata\":1.5}"), XR_OK);
	assert_span(f->m.data, f->m.data_len, "1.5");
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":\"x\","
			       "\"dat\\u0061\":\"a\\u0000b\"}"), XR_OK);
	v = json_loadb(f->m.data, f->m.data_len,
		       JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	assert_non_null(v);
	assert_int_equal(json_string_length(v), 3);
	assert_memory_equal(json_string_value(v), "a\0b", 3);
	json_decref(v);
	/* re-encoding keeps the value (a double round-trips) */
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":\"x\","
			       "\"d\\u0061ta\":0.1}"), XR_OK);
	v = json_loadb(f->m.data, f->m.data_len, JSON_DECODE_ANY, &err);
	assert_non_null(v);
	assert_true(json_real_value(v) == 0.1);
	json_decref(v);
	/* the escaped name and the plain one are the same member */
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":\"x\","
			       "\"d\\u0061ta\":1,\"data\":2}"), XR_E_BAD_JSON);
}

static void signal_bad_members(void **state)
{
	struct fx *f = *state;
	char json[256];

	assert_int_equal(parse(f, "{\"type\":\"signal\",\"data\":1}"),
			 XR_E_BAD_MESSAGE);
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":\"" ID1 "\"}"),
			 XR_E_BAD_MESSAGE);
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":7,\"data\":1}"),
			 XR_E_BAD_MESSAGE);
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":null,\"data\":1}"),
			 XR_E_BAD_MESSAGE);
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":[\"" ID1 "\"],\"data\":1}"),
			 XR_E_BAD_MESSAGE);
	/* a long or malformed id parses; the hub answers unknown-peer */
	snprintf(json, sizeof(json),
		 "{\"type\":\"signal\",\"to\":\"%s\",\"data\":1}",
		 ID1 ID1 ID1 ID1 ID1);
	assert_int_equal(parse(f, json), XR_OK);
	assert_int_equal(f->m.to_len, 80);
	assert_false(xr_peer_id_valid(f->m.to, f->m.to_len));
	assert_int_equal(parse(f, "{\"type\":\"signal\",\"to\":\"\",\"data\":1}"), XR_OK);
	assert_int_equal(f->m.to_len, 0);
}

/* --- parse: leave and ping --------------------------------------------------- */

static void parse_leave(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, "{\"type\":\"leave\"}"), XR_OK);
	assert_int_equal(f->m.type, XR_MSG_LEAVE);
	assert_int_equal(parse(f, "{\"reason\":\"bye\",\"type\":\"leave\"}"), XR_OK);
	assert_int_equal(f->m.type, XR_MSG_LEAVE);
}

static void parse_ping_id_kinds(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *json, *id;
	} t[] = {
		{ "{\"type\":\"ping\",\"id\":\"abc\"}", "\"abc\"" },
		{ "{\"type\":\"ping\",\"id\":\"a \\\"q\\\" \\u00e9\"}",
		  "\"a \\\"q\\\" \\u00e9\"" },
		{ "{\"type\":\"ping\",\"id\":42}", "42" },
		{ "{\"type\":\"ping\",\"id\":-7}", "-7" },
		{ "{\"type\":\"ping\",\"id\":1.5e3}", "1.5e3" },
		{ "{\"type\":\"ping\",\"id\":9223372036854775807}",
		  "9223372036854775807" },
		{ "{\"type\":\"ping\",\"id\":true}", "true" },
		{ "{\"type\":\"ping\",\"id\":false}", "false" },
		{ "{\"type\":\"ping\",\"id\":null}", "null" },
		{ "{\"id\" :  \"x\" ,\"type\":\"ping\"}", "\"x\"" },
		{ "{\"type\":\"ping\",\"\\u0069d\":12.0}", "12.0" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(parse(f, t[i].json), XR_OK);
		assert_int_equal(f->m.type, XR_MSG_PING);
		assert_span(f->m.ping_id, f->m.ping_id_len, t[i].id);
	}
	assert_int_equal(parse(f, "{\"type\":\"ping\"}"), XR_OK);
	assert_null(f->m.ping_id);
	assert_int_equal(f->m.ping_id_len, 0);
	/* an id must be a scalar */
	assert_int_equal(parse(f, "{\"type\":\"ping\",\"id\":{}}"), XR_E_BAD_MESSAGE);
	assert_int_equal(parse(f, "{\"type\":\"ping\",\"id\":[1]}"), XR_E_BAD_MESSAGE);
}

/* --- parse: what is wrong ------------------------------------------------------ */

static void bad_json(void **state)
{
	struct fx *f = *state;
	static const char *const t[] = {
		"", " ", "nope", "[]", "[{\"type\":\"ping\"}]", "\"ping\"", "1", "null",
		"{", "{\"type\":\"ping\"", "{\"type\":\"ping\"}}", "{\"type\":\"ping\"} x",
		"{\"type\":\"ping\"}{}", "{'type':'ping'}", "{type:\"ping\"}",
		"{\"type\":\"ping\",}", "{\"type\":\"ping\" \"id\":1}",
		/* duplicate keys */
		"{\"type\":\"ping\",\"type\":\"ping\"}",
		"{\"type\":\"ping\",\"id\":1,\"id\":2}",
		"{\"type\":\"signal\",\"to\":\"x\",\"data\":{\"a\":1,\"a\":1}}",
		/* numbers a double or a 64-bit integer cannot hold */
		"{\"type\":\"ping\",\"id\":99999999999999999999}",
		"{\"type\":\"ping\",\"id\":-9223372036854775809}",
		"{\"type\":\"ping\",\"id\":1e400}",
		"{\"type\":\"signal\",\"to\":\"x\",\"data\":[-1e999]}",
		/* not JSON numbers or strings */
		"{\"type\":\"ping\",\"id\":NaN}", "{\"type\":\"ping\",\"id\":01}",
		"{\"type\":\"ping\",\"id\":.5}", "{\"type\":\"ping\",\"id\":\"\\x41\"}",
		"{\"type\":\"ping\",\"id\":\"\\ud800\"}",
		"{\"type\":\"ping\",\"id\":\"a\nb\"}",
		/* invalid UTF-8 */
		"{\"type\":\"ping\",\"id\":\"\xff\"}",
		"{\"type\":\"ping\",\"id\":\"\xc3\"}",
		"{\"type\":\"ping\",\"id\":\"\xed\xa0\x80\"}",
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (parse(f, t[i]) != XR_E_BAD_JSON)
			fail_msg("not bad-json: %s", t[i]);
	/* a NUL byte outside a string */
	assert_int_equal(parse_n(f, "{\"type\":\"ping\"}\0", 16), XR_E_BAD_JSON);
	/* a NUL inside a string, escaped, is fine */
	assert_int_equal(parse(f, "{\"type\":\"ping\",\"id\":\"\\u0000\"}"), XR_OK);
	assert_span(f->m.ping_id, f->m.ping_id_len, "\"\\u0000\"");
}

static void raw_nul_is_bad_json(void **state)
{
	struct fx *f = *state;
	/* jansson 2.14 skips one raw NUL after a number or literal; the
	 * message must still be refused, or the NUL would be relayed */
#define L(s) { s, sizeof(s) - 1 }
	static const struct {
		const char *s;
		size_t n;
	} t[] = {
		L("{\"type\":\"signal\",\"to\":\"x\",\"data\":123\0}"),
		L("{\"type\":\"signal\",\"to\":\"x\",\"data\":[1\0]}"),
		L("{\"type\":\"ping\",\"id\":1\0}"),
		L("{\"type\":\"ping\",\"id\":true\0}"),
		L("{\"type\":\"ping\",\"id\":null\0,\"x\":1}"),
		L("{\"type\":\"ping\",\"x\":[false\0]}"),
		L("{\"type\":\"ping\"\0}"),
		L("\0{\"type\":\"ping\"}"),
	};
#undef L

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (parse_n(f, t[i].s, t[i].n) != XR_E_BAD_JSON)
			fail_msg("accepted a raw NUL: case %zu", i);
}

/* The JSONTestSuite cases, wrapped as the data of a signal message, from
 * the fuzz corpus (tests/fuzz/make-seeds.sh): y_ must pass, n_ must be
 * bad-json, i_ are held to the contract where it says something. */
static void json_test_suite(void **state)
{
	struct fx *f = *state;
	/* valid JSON we refuse on purpose: duplicate keys (a relay must not
	 * carry a value the receiver may read differently) and a NUL in a key
	 * (jansson cannot hold one) */
	static const char *const refused_y[] = {
		"js_y_object_duplicated_key", "js_y_object_duplicated_key_and_value",
		"js_y_object_escaped_null_in_key",
	};
	/* numbers a 64-bit integer or a double cannot hold */
	static const char *const out_of_range_i[] = {
		"js_i_number_huge_exp", "js_i_number_neg_int_huge_exp",
		"js_i_number_pos_double_huge_exp", "js_i_number_real_neg_overflow",
		"js_i_number_real_pos_overflow", "js_i_number_too_big_neg_int",
		"js_i_number_too_big_pos_int", "js_i_number_very_big_negative_int",
	};
	DIR *d = opendir(XROOM_CORPUS_DIR "/proto");
	struct dirent *e;
	unsigned ny = 0, nn = 0, ni = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[1024];
		enum xr_err want, got;
		FILE *fp;
		char *buf;
		long len;

		if (strncmp(e->d_name, "js_", 3))
			continue;
		snprintf(path, sizeof(path), "%s/proto/%s", XROOM_CORPUS_DIR,
			 e->d_name);
		fp = fopen(path, "rb");
		assert_non_null(fp);
		fseek(fp, 0, SEEK_END);
		len = ftell(fp);
		rewind(fp);
		buf = malloc((size_t)len + 1);
		assert_non_null(buf);
		assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
		fclose(fp);
		got = parse_n(f, buf, (size_t)len);
		free(buf);
		switch (e->d_name[3]) {
		case 'y':
			ny++;
			want = XR_OK;
			for (size_t i = 0; i < sizeof(refused_y) / sizeof(refused_y[0]); i++)
				if (!strcmp(e->d_name, refused_y[i]))
					want = XR_E_BAD_JSON;
			break;
		case 'n':
			nn++;
			want = XR_E_BAD_JSON;
			break;
		default:
			ni++;
			want = got == XR_OK ? XR_OK : XR_E_BAD_JSON;
			for (size_t i = 0; i < sizeof(out_of_range_i) /
					       sizeof(out_of_range_i[0]); i++)
				if (!strcmp(e->d_name, out_of_range_i[i]))
					want = XR_E_BAD_JSON;
			break;
		}
		if (got != want)
			fail_msg("%s: %s, expected %s", e->d_name, xr_err_name(got),
				 xr_err_name(want));
		if (got == XR_OK) /* the data kept as sent */
			assert_int_equal(f->m.type, XR_MSG_SIGNAL);
	}
	closedir(d);
	assert_int_equal(ny, 95);
	assert_int_equal(nn, 188);
	assert_int_equal(ni, 35);
}

static void nesting_limit(void **state)
{
	struct fx *f = *state;
	char json[512];
	size_t n;

	/* the envelope is level 1: data may nest 63 more, not 64 */
	for (int depth = 62; depth <= 65; depth++) {
		n = (size_t)snprintf(json, sizeof(json),
				     "{\"type\":\"signal\",\"to\":\"x\",\"data\":");
		for (int i = 1; i < depth; i++)
			json[n++] = '[';
		json[n++] = '1';
		for (int i = 1; i < depth; i++)
			json[n++] = ']';
		json[n++] = '}';
		json[n] = '\0';
		assert_int_equal(parse(f, json),
				 depth <= XR_JSON_MAX_DEPTH ? XR_OK : XR_E_BAD_JSON);
	}
	/* brackets in strings do not count */
	n = (size_t)snprintf(json, sizeof(json),
			     "{\"type\":\"signal\",\"to\":\"x\",\"data\":\"");
	memset(json + n, '[', 100);
	n += 100;
	strcpy(json + n, "\"}");
	assert_int_equal(parse(f, json), XR_OK);
}

static void bad_message(void **state)
{
	struct fx *f = *state;
	static const char *const t[] = {
		"{}", "{\"id\":1}", "{\"type\":null}", "{\"type\":1}",
		"{\"type\":[\"join\"]}", "{\"type\":{\"join\":1}}", "{\"type\":\"\"}",
		"{\"type\":\"hello\"}", "{\"type\":\"JOIN\"}", "{\"type\":\"join \"}",
		"{\"type\":\" join\"}", "{\"type\":\"joi\"}", "{\"type\":\"pong\"}",
		"{\"type\":\"welcome\"}", "{\"type\":\"error\"}",
		"{\"type\":\"join\\u0000\"}", "{\"type\":\"ping\\u0000x\"}",
		"{\"Type\":\"join\"}", "{\"t\\u0079pe\":\"jump\"}",
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (parse(f, t[i]) != XR_E_BAD_MESSAGE)
			fail_msg("not bad-message: %s", t[i]);
	/* an escaped name of type still counts as type */
	assert_int_equal(parse(f, "{\"t\\u0079pe\":\"leave\"}"), XR_OK);
	assert_int_equal(f->m.type, XR_MSG_LEAVE);
	assert_int_equal(parse(f, "{\"type\":\"\\u006aoin\"}"), XR_OK);
	assert_int_equal(f->m.type, XR_MSG_JOIN);
}

static void parse_reads_only_len_bytes(void **state)
{
	struct fx *f = *state;
	static const char s[] = "{\"type\":\"ping\",\"id\":1}{\"junk\"";

	assert_int_equal(parse_n(f, s, 22), XR_OK);
	assert_span(f->m.ping_id, f->m.ping_id_len, "1");
	/* a heap copy without a terminator, so ASan sees any overread */
	{
		char *h = malloc(22);
		assert_non_null(h);
		memcpy(h, s, 22);
		assert_int_equal(parse_n(f, h, 22), XR_OK);
		assert_span(f->m.ping_id, f->m.ping_id_len, "1");
		xr_msg_clear(&f->m);
		free(h);
	}
}

/* --- builders --------------------------------------------------------------------- */

static void build_error(void **state)
{
	struct fx *f = *state;
	json_t *j;

	for (int e = XR_E_BAD_JSON; e < XR_E__COUNT; e++) {
		j = load(f, xr_build_error((enum xr_err)e, NULL));
		assert_string_equal(str_member(j, "type"), "error");
		assert_string_equal(str_member(j, "code"), xr_err_name((enum xr_err)e));
		assert_string_equal(str_member(j, "message"),
				    xr_err_text((enum xr_err)e));
		assert_int_equal(json_object_size(j), 3);
	}
	j = load(f, xr_build_error(XR_E_BAD_MESSAGE,
				   "a \"quote\", a \\ back\nslash\t\x01\x1f\x7f and \xc3\xa9"));
	assert_string_equal(str_member(j, "message"),
			    "a \"quote\", a \\ back\nslash\t\x01\x1f\x7f and \xc3\xa9");
	assert_true(payload_is(f->b, "{\"type\":\"error\",\"code\":\"bad-message\","
			       "\"message\":\"a \\\"quote\\\", a \\\\ back\\u000aslash"
			       "\\u0009\\u0001\\u001f\x7f and \xc3\xa9\"}"));
}

static void build_peer_event(void **state)
{
	struct fx *f = *state;
	json_t *j;

	j = load(f, xr_build_peer_event("peer-joined", ID0));
	assert_string_equal(str_member(j, "type"), "peer-joined");
	assert_string_equal(str_member(j, "id"), ID0);
	assert_int_equal(json_object_size(j), 2);
	j = load(f, xr_build_peer_event("peer-left", ID1));
	assert_string_equal(str_member(j, "type"), "peer-left");
	assert_true(payload_is(f->b, "{\"type\":\"peer-left\",\"id\":\"" ID1 "\"}"));
}

static void build_signal_byte_for_byte(void **state)
{
	struct fx *f = *state;
	static const char *const datas[] = {
		"{\"sdp\" : \"v=0\\r\\n\", \"n\":[1, 2.50, -0, 1E2]}",
		"\"\\u00e9\\ud83d\\ude00\"", "null", "-0.0e-0", "[]", "\"\"",
		"\"\xf0\x9f\x98\x80\"",
	};
	json_t *j, *d;
	json_error_t err;

	for (size_t i = 0; i < sizeof(datas) / sizeof(datas[0]); i++) {
		const char *data = datas[i];
		size_t n = strlen(data);
		char expect[256];

		snprintf(expect, sizeof(expect),
			 "{\"type\":\"signal\",\"from\":\"%s\",\"data\":%s}", ID0, data);
		j = load(f, xr_build_signal(ID0, data, n));
		assert_true(payload_is(f->b, expect));
		assert_string_equal(str_member(j, "type"), "signal");
		assert_string_equal(str_member(j, "from"), ID0);
		d = json_loadb(data, n, JSON_DECODE_ANY, &err);
		assert_non_null(d);
		assert_true(json_equal(json_object_get(j, "data"), d));
		json_decref(d);
	}
	/* data is read for data_len bytes only, not up to a NUL */
	load(f, xr_build_signal(ID1, "123456", 3));
	assert_true(payload_is(f->b,
		"{\"type\":\"signal\",\"from\":\"" ID1 "\",\"data\":123}"));
}

static void parse_then_build_signal(void **state)
{
	struct fx *f = *state;
	static const char msg[] = "{ \"data\" :{\"candidate\":\"a b\",\"i\":0.10} ,"
				  "\"type\":\"signal\",\"to\":\"" ID1 "\"}";
	json_t *j;

	assert_int_equal(parse(f, msg), XR_OK);
	j = load(f, xr_build_signal(ID0, f->m.data, f->m.data_len));
	assert_true(payload_is(f->b, "{\"type\":\"signal\",\"from\":\"" ID0 "\","
			       "\"data\":{\"candidate\":\"a b\",\"i\":0.10}}"));
	assert_string_equal(str_member(json_object_get(j, "data"), "candidate"),
			    "a b");
}

static void build_pong(void **state)
{
	struct fx *f = *state;
	json_t *j;

	j = load(f, xr_build_pong(NULL, 0));
	assert_true(payload_is(f->b, "{\"type\":\"pong\"}"));
	assert_int_equal(json_object_size(j), 1);
	j = load(f, xr_build_pong("\"a\\\"b\"", 6));
	assert_true(payload_is(f->b, "{\"type\":\"pong\",\"id\":\"a\\\"b\"}"));
	assert_string_equal(str_member(j, "id"), "a\"b");
	j = load(f, xr_build_pong("1.5e3", 5));
	assert_true(payload_is(f->b, "{\"type\":\"pong\",\"id\":1.5e3}"));
	j = load(f, xr_build_pong("null", 4));
	assert_true(json_is_null(json_object_get(j, "id")));
	assert_int_equal(json_object_size(j), 2);
}

static void build_welcome(void **state)
{
	struct fx *f = *state;
	const char *peers[] = { ID1, "CCCCCCCCCCCCCCCC", "DDDDDDDDDDDDDDDD" };
	json_t *j, *a;

	j = load(f, xr_build_welcome(ID0, NULL, 0, NULL, 8, NULL));
	assert_string_equal(str_member(j, "type"), "welcome");
	assert_string_equal(str_member(j, "id"), ID0);
	assert_true(json_is_array(json_object_get(j, "peers")));
	assert_int_equal(json_array_size(json_object_get(j, "peers")), 0);
	assert_true(json_is_array(json_object_get(j, "iceServers")));
	assert_int_equal(json_array_size(json_object_get(j, "iceServers")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "maxPeers")), 8);
	assert_null(json_object_get(j, "title"));
	assert_int_equal(json_object_size(j), 5);

	j = load(f, xr_build_welcome(ID0, peers, 3,
				     "[{\"urls\":[\"stun:s:3478\"]},{\"urls\":"
				     "[\"turn:t\"],\"username\":\"9:xroom\","
				     "\"credential\":\"c/+=\"}]",
				     64, "Team \"sync\"\n\\ \xc3\xa9"));
	a = json_object_get(j, "peers");
	assert_int_equal(json_array_size(a), 3);
	for (size_t i = 0; i < 3; i++) /* in the order given */
		assert_string_equal(json_string_value(json_array_get(a, i)), peers[i]);
	a = json_object_get(j, "iceServers");
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(str_member(json_array_get(a, 1), "credential"), "c/+=");
	assert_int_equal(json_integer_value(json_object_get(j, "maxPeers")), 64);
	assert_string_equal(str_member(j, "title"), "Team \"sync\"\n\\ \xc3\xa9");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(room_and_peer_ids),
		T(json_depth),
		T(error_table),
		T(parse_join),
		T(join_auth_limits),
		T(parse_signal_keeps_data_bytes),
		T(signal_data_member_is_the_top_level_one),
		T(signal_escaped_data_name_is_reencoded),
		T(signal_bad_members),
		T(parse_leave),
		T(parse_ping_id_kinds),
		T(bad_json),
		T(raw_nul_is_bad_json),
		T(json_test_suite),
		T(nesting_limit),
		T(bad_message),
		T(parse_reads_only_len_bytes),
		T(build_error),
		T(build_peer_event),
		T(build_signal_byte_for_byte),
		T(parse_then_build_signal),
		T(build_pong),
		T(build_welcome),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_experiment.c: the experiments engine. Assignment is a pure function
 * of the visitor key and respects the weights (a weight-0 variant is never
 * chosen; 20,000 synthetic visitors pass the chi-square check for 50/50 and
 * 20/30/50, and a skewed split trips the report's SRM flag); visitors and
 * conversions are counted once per visitor-day, conversions only for
 * experiments listing the goal and only for visitors counted in them today;
 * a new day wipes the salt; state survives a save and load on the same day
 * (nobody counted twice), a later day shreds visitors.bin but keeps the
 * counters, and a torn or corrupt counters file is quarantined and
 * reported, never loaded; stopped experiments stay in the report.
 *
 * Crashes are simulated without knowing the order of the writes: the test
 * binary is linked with -Wl,--wrap=rename, and a forked child that saves
 * _exits at its k-th rename (for every k), leaving the files exactly as a
 * SIGKILL at that moment would.
 *
 * Where a split must be reproducible the day's salt is fixed by writing a
 * visitors.bin (the format of experiment.c: "XRVIS1\0\0", day, salt[32],
 * tag count, tags) and loading it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "xroom/config/config.h"
#include "xroom/features/exp_report.h"
#include "xroom/features/exp_store.h"
#include "xroom/features/experiment.h"
#include "xroom/util/stats.h"
#include "xroom/util/store.h"

#define D0 19675 /* 2023-11-14 */
#define CRASHED 42
#define NSYN 20000

struct fx {
	char dir[64];
	struct xr_config c, c2;
	struct xr_exp *e, *e2;
	char *report;
	json_t *json;
};

/* rename() as store.c sees it: _exit (a crash) at the crash_at-th call. */
static int crash_at = -1, renames;
int __real_rename(const char *from, const char *to);
int __wrap_rename(const char *from, const char *to);
int __wrap_rename(const char *from, const char *to)
{
	if (crash_at >= 0 && renames++ == crash_at)
		_exit(CRASHED);
	return __real_rename(from, to);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || sodium_init() < 0)
		return -1;
	if (test_mkdtemp(f->dir, sizeof(f->dir), "exp")) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	xr_exp_free(f->e);
	xr_exp_free(f->e2);
	xr_config_free(&f->c);
	xr_config_free(&f->c2);
	free(f->report);
	json_decref(f->json);
	test_rm_tree(f->dir);
	free(f);
	return 0;
}

static void parse(struct xr_config *c, const char *json)
{
	struct xr_config_errors errs;

	xr_config_free(c);
	if (xr_config_parse(c, json, strlen(json), &errs)) {
		print_error("config refused:\n%s", errs.text);
		fail();
	}
}

static const struct xr_experiment *exp_of(const struct xr_config *c,
					  const char *name)
{
	for (size_t i = 0; i < c->nexperiments; i++)
		if (!strcmp(c->experiments[i].name, name))
			return &c->experiments[i];
	fail_msg("no experiment %s", name);
	return NULL;
}

/* Writes a visitors.bin for day with a salt of seed bytes and no tags. */
static void write_salt(const char *dir, int64_t day, unsigned char seed)
{
	unsigned char b[56] = "XRVIS1";
	uint64_t d = (uint64_t)day, n = 0;

	memcpy(b + 8, &d, 8);
	for (int i = 0; i < 32; i++)
		b[16 + i] = (unsigned char)(seed + i * 13);
	memcpy(b + 48, &n, 8);
	assert_int_equal(xr_store_write(dir, "visitors.bin", b, sizeof(b)), 0);
}

/* A new engine on day, loaded from dir (err must stay empty). */
static struct xr_exp *load_engine(const char *dir, int64_t day)
{
	struct xr_exp *e = xr_exp_new();
	char err[1024];

	assert_non_null(e);
	assert_int_equal(xr_exp_load(e, dir, day, err, sizeof(err)), 0);
	if (err[0])
		fail_msg("unexpected load error: %s", err);
	assert_int_equal(xr_exp_current_day(e), day);
	return e;
}

static void key_of(const struct xr_exp *e, const char *addr, const char *ua,
		   unsigned char key[XR_VISITOR_KEY_BYTES])
{
	xr_exp_visitor(e, addr, ua, "rooms.example.org", key);
}

static void session(struct xr_exp *e, const struct xr_config *c,
		    const unsigned char *key, int *vars)
{
	int tmp[16];

	assert_true(c->nexperiments <= 16);
	assert_int_equal(xr_exp_session(e, c, key, vars ? vars : tmp), 0);
}

static void sum_cb(void *arg, const char *exp, const char *variant,
		   const char *goal, int64_t day, uint64_t n)
{
	(void)exp; (void)variant; (void)goal; (void)day;
	*(uint64_t *)arg += n;
}

static uint64_t total(const struct xr_exp *e)
{
	uint64_t t = 0;

	xr_exp_each(e, sum_cb, &t);
	return t;
}

/* Visitors of exp on day over every variant of c. */
static uint64_t visitors(const struct xr_exp *e, const struct xr_config *c,
			 const char *exp, int64_t day)
{
	const struct xr_experiment *ex = exp_of(c, exp);
	uint64_t t = 0;

	for (size_t i = 0; i < ex->nvariants; i++)
		t += xr_exp_count(e, exp, ex->variants[i].name, NULL, day);
	return t;
}

static uint64_t conversions(const struct xr_exp *e, const struct xr_config *c,
			    const char *exp, const char *goal, int64_t day)
{
	const struct xr_experiment *ex = exp_of(c, exp);
	uint64_t t = 0;

	for (size_t i = 0; i < ex->nvariants; i++)
		t += xr_exp_count(e, exp, ex->variants[i].name, goal, day);
	return t;
}

/* Report of e under c, parsed; returns the entry of experiment name. */
static json_t *report_of(struct fx *f, const struct xr_exp *e,
			 const struct xr_config *c, const char *name)
{
	json_error_t jerr;
	json_t *list, *it;
	size_t i;

	free(f->report);
	json_decref(f->json);
	f->report = xr_exp_report(e, c);
	assert_non_null(f->report);
	f->json = json_loads(f->report, 0, &jerr);
	if (!f->json)
		fail_msg("report is not JSON (%s): %s", jerr.text, f->report);
	assert_string_equal(json_string_value(json_object_get(f->json, "unit")),
			    "visitor-day");
	list = json_object_get(f->json, "experiments");
	assert_true(json_is_array(list));
	json_array_foreach(list, i, it)
		if (!strcmp(json_string_value(json_object_get(it, "name")), name))
			return it;
	return NULL;
}

static json_t *variant_of(json_t *exp, const char *name)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(exp, "variants"), i, it)
		if (!strcmp(json_string_value(json_object_get(it, "name")), name))
			return it;
	fail_msg("no variant %s in the report", name);
	return NULL;
}

static bool has_file_prefix(const char *dir, const char *prefix, int *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	*count = 0;
	assert_non_null(d);
	while ((de = readdir(d)))
		*count += !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(d);
	return *count > 0;
}

static bool exists(const char *dir, const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

#define SPLIT_CFG \
	"{\"experiments\":[" \
	"{\"name\":\"half\",\"variants\":[{\"name\":\"a\",\"weight\":50}," \
	"{\"name\":\"b\",\"weight\":50}],\"goals\":[\"g\"]}," \
	"{\"name\":\"thirds\",\"variants\":[{\"name\":\"x\",\"weight\":20}," \
	"{\"name\":\"y\",\"weight\":30},{\"name\":\"z\",\"weight\":50}]}," \
	"{\"name\":\"zero\",\"variants\":[{\"name\":\"on\",\"weight\":1}," \
	"{\"name\":\"off\",\"weight\":0},{\"name\":\"also\",\"weight\":1}]}]}"

/* --- days ----------------------------------------------------------------- */

static void day_math(void **state)
{
	char name[11];

	(void)state;
	assert_int_equal(xr_exp_day(0), 0);
	assert_int_equal(xr_exp_day(86399), 0);
	assert_int_equal(xr_exp_day(86400), 1);
	assert_int_equal(xr_exp_day(-1), -1);
	assert_int_equal(xr_exp_day(-86400), -1);
	assert_int_equal(xr_exp_day(-86401), -2);
	assert_int_equal(xr_exp_day(1700000000), D0);
	xr_exp_day_name(D0, name);
	assert_string_equal(name, "2023-11-14");
	xr_exp_day_name(19783, name);
	assert_string_equal(name, "2024-03-01");
	xr_exp_day_name(0, name);
	assert_string_equal(name, "1970-01-01");
}

/* --- assignment ------------------------------------------------------------ */

static void same_key_same_variant(void **state)
{
	struct fx *f = *state;
	unsigned char k1[XR_VISITOR_KEY_BYTES], k2[XR_VISITOR_KEY_BYTES];
	int v1[3], v2[3];

	parse(&f->c, SPLIT_CFG);
	f->e = xr_exp_new();
	assert_non_null(f->e);
	assert_true(xr_exp_roll(f->e, D0));
	for (int i = 0; i < 200; i++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "192.0.2.%d", i);
		key_of(f->e, addr, "UA/1", k1);
		key_of(f->e, addr, "UA/1", k2);
		assert_memory_equal(k1, k2, sizeof(k1));
		session(f->e, &f->c, k1, v1);
		session(f->e, &f->c, k2, v2);
		assert_memory_equal(v1, v2, sizeof(v1));
		for (size_t x = 0; x < f->c.nexperiments; x++) {
			assert_int_equal(xr_exp_assign(&f->c.experiments[x], k1), v1[x]);
			assert_int_equal(xr_exp_assign(&f->c.experiments[x], k1), v1[x]);
		}
	}
	/* each of address, User-Agent and host is part of the key, and the
	 * parts cannot slide into each other */
	xr_exp_visitor(f->e, "192.0.2.1", "UA", "h", k1);
	xr_exp_visitor(f->e, "192.0.2.1", "UA", "h2", k2);
	assert_memory_not_equal(k1, k2, sizeof(k1));
	xr_exp_visitor(f->e, "192.0.2.1", "UA2", "h", k2);
	assert_memory_not_equal(k1, k2, sizeof(k1));
	xr_exp_visitor(f->e, "192.0.2.2", "UA", "h", k2);
	assert_memory_not_equal(k1, k2, sizeof(k1));
	xr_exp_visitor(f->e, "ab", "c", "", k1);
	xr_exp_visitor(f->e, "a", "bc", "", k2);
	assert_memory_not_equal(k1, k2, sizeof(k1));
	xr_exp_visitor(f->e, NULL, NULL, NULL, k1);
	xr_exp_visitor(f->e, "", "", "", k2);
	assert_memory_equal(k1, k2, sizeof(k1));
}

/* Counts of NSYN synthetic visitors under a fixed salt, checked against the
 * weights with the chi-square test and a plain tolerance on each share. */
static void split_within_tolerance(struct fx *f, unsigned char seed)
{
	static const char *const exps[] = { "half", "thirds", "zero" };
	unsigned char key[XR_VISITOR_KEY_BYTES];

	test_rm_tree(f->dir);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	write_salt(f->dir, D0, seed);
	xr_exp_free(f->e);
	f->e = load_engine(f->dir, D0);
	for (int i = 0; i < NSYN; i++) {
		char addr[32];
		int v[3];
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16,
			 (i >> 8) & 255, i & 255);
		key_of(f->e, addr, "Mozilla/5.0 (synthetic)", key);
		session(f->e, &f->c, key, v);
		assert_true(v[2] != 1); /* "off" has weight 0 */
	}
	for (size_t x = 0; x < 3; x++) {
		const struct xr_experiment *ex = exp_of(&f->c, exps[x]);
		uint64_t obs[3] = { 0 };
		double w[3], wsum = 0, chi2, p;

		for (size_t i = 0; i < ex->nvariants; i++) {
			obs[i] = xr_exp_count(f->e, exps[x], ex->variants[i].name,
					      NULL, D0);
			w[i] = ex->variants[i].weight;
			wsum += w[i];
		}
		assert_int_equal(obs[0] + obs[1] + (ex->nvariants > 2 ? obs[2] : 0),
				 NSYN);
		p = xr_stats_srm(obs, w, ex->nvariants, &chi2);
		if (!(p > 0.001))
			fail_msg("%s: split %llu/%llu/%llu has p = %g", exps[x],
				 (unsigned long long)obs[0], (unsigned long long)obs[1],
				 (unsigned long long)obs[2], p);
		for (size_t i = 0; i < ex->nvariants; i++) {
			double share = (double)obs[i] / NSYN;
			assert_true(share > w[i] / wsum - 0.02);
			assert_true(share < w[i] / wsum + 0.02);
		}
	}
	assert_int_equal(xr_exp_count(f->e, "zero", "off", NULL, D0), 0);

	/* the report agrees: no sample-ratio mismatch */
	for (size_t x = 0; x < 3; x++) {
		json_t *r = report_of(f, f->e, &f->c, exps[x]), *srm;
		assert_non_null(r);
		assert_true(json_is_true(json_object_get(r, "running")));
		srm = json_object_get(r, "srm");
		assert_true(json_is_false(json_object_get(srm, "mismatch")));
		assert_true(json_real_value(json_object_get(srm, "p_value")) > 0.001);
	}
}

static void weights_respected(void **state)
{
	struct fx *f = *state;

	parse(&f->c, SPLIT_CFG);
	split_within_tolerance(f, 1);
	split_within_tolerance(f, 77);
	split_within_tolerance(f, 200);
}

/* The observed split of "half" is about 50/50; judged against weights of
 * 90/10 it is a gross mismatch, and the report says so. */
static void skewed_split_trips_srm(void **state)
{
	struct fx *f = *state;
	unsigned char key[XR_VISITOR_KEY_BYTES];
	json_t *r, *srm;

	parse(&f->c, SPLIT_CFG);
	f->e = xr_exp_new();
	xr_exp_roll(f->e, D0);
	for (int i = 0; i < 2000; i++) {
		char ua[32];
		snprintf(ua, sizeof(ua), "UA-%d", i);
		key_of(f->e, "198.51.100.7", ua, key);
		session(f->e, &f->c, key, NULL);
	}
	parse(&f->c2, "{\"experiments\":[{\"name\":\"half\",\"variants\":["
		      "{\"name\":\"a\",\"weight\":90},{\"name\":\"b\",\"weight\":10}]}]}");
	r = report_of(f, f->e, &f->c2, "half");
	assert_non_null(r);
	srm = json_object_get(r, "srm");
	assert_true(json_is_true(json_object_get(srm, "mismatch")));
	assert_true(json_real_value(json_object_get(srm, "p_value")) < 0.001);
	assert_true(json_real_value(json_object_get(srm, "chi2")) > 100);
	/* the same counts against the weights they were drawn with: fine */
	r = report_of(f, f->e, &f->c, "half");
	srm = json_object_get(r, "srm");
	assert_true(json_is_false(json_object_get(srm, "mismatch")));
}

/* --- counting ------------------------------------------------------------ */

static void visitors_once_per_day(void **state)
{
	struct fx *f = *state;
	unsigned char k[XR_VISITOR_KEY_BYTES], k2[XR_VISITOR_KEY_BYTES];
	int v[3];

	parse(&f->c, SPLIT_CFG);
	f->e = xr_exp_new();
	xr_exp_roll(f->e, D0);
	assert_false(xr_exp_dirty(f->e) && total(f->e)); /* nothing counted yet */
	key_of(f->e, "203.0.113.5", "Firefox", k);
	for (int i = 0; i < 5; i++) /* reloads */
		session(f->e, &f->c, k, v);
	assert_true(xr_exp_dirty(f->e));
	assert_int_equal(visitors(f->e, &f->c, "half", D0), 1);
	assert_int_equal(visitors(f->e, &f->c, "thirds", D0), 1);
	assert_int_equal(visitors(f->e, &f->c, "zero", D0), 1);
	assert_int_equal(xr_exp_count(f->e, "half",
				      f->c.experiments[0].variants[v[0]].name,
				      NULL, D0), 1);
	assert_int_equal(total(f->e), 3);
	/* another browser at the same address is another visitor */
	key_of(f->e, "203.0.113.5", "Chrome", k2);
	session(f->e, &f->c, k2, NULL);
	assert_int_equal(visitors(f->e, &f->c, "half", D0), 2);
	/* the next day, the same person counts again, once */
	assert_true(xr_exp_roll(f->e, D0 + 1));
	key_of(f->e, "203.0.113.5", "Firefox", k);
	session(f->e, &f->c, k, NULL);
	session(f->e, &f->c, k, NULL);
	assert_int_equal(visitors(f->e, &f->c, "half", D0 + 1), 1);
	assert_int_equal(visitors(f->e, &f->c, "half", D0), 2); /* kept */
}

#define GOALS_CFG \
	"{\"experiments\":[" \
	"{\"name\":\"a\",\"variants\":[{\"name\":\"a0\",\"weight\":1},{\"name\":\"a1\",\"weight\":1}]," \
	"\"goals\":[\"g1\",\"g2\"]}," \
	"{\"name\":\"b\",\"variants\":[{\"name\":\"b0\",\"weight\":1},{\"name\":\"b1\",\"weight\":1}]," \
	"\"goals\":[\"g2\"]}," \
	"{\"name\":\"c\",\"variants\":[{\"name\":\"c0\",\"weight\":1}]}]}"

static void conversions_once_per_goal(void **state)
{
	struct fx *f = *state;
	unsigned char k[XR_VISITOR_KEY_BYTES], stranger[XR_VISITOR_KEY_BYTES];
	int v[3];

	parse(&f->c, GOALS_CFG);
	f->e = xr_exp_new();
	xr_exp_roll(f->e, D0);
	key_of(f->e, "203.0.113.9", "Safari", k);
	session(f->e, &f->c, k, v);

	/* g1 is listed by a only */
	for (int i = 0; i < 4; i++)
		assert_int_equal(xr_exp_event(f->e, &f->c, k, "g1"), 1);
	assert_int_equal(xr_exp_count(f->e, "a", f->c.experiments[0].variants[v[0]].name,
				      "g1", D0), 1);
	assert_int_equal(conversions(f->e, &f->c, "a", "g1", D0), 1);
	assert_int_equal(conversions(f->e, &f->c, "b", "g1", D0), 0);
	assert_int_equal(conversions(f->e, &f->c, "c", "g1", D0), 0);
	/* g2 by a and b, counted in both, once */
	assert_int_equal(xr_exp_event(f->e, &f->c, k, "g2"), 2);
	assert_int_equal(xr_exp_event(f->e, &f->c, k, "g2"), 2);
	assert_int_equal(conversions(f->e, &f->c, "a", "g2", D0), 1);
	assert_int_equal(conversions(f->e, &f->c, "b", "g2", D0), 1);
	assert_int_equal(xr_exp_count(f->e, "b", f->c.experiments[1].variants[v[1]].name,
				      "g2", D0), 1);
	/* a goal nobody lists */
	assert_int_equal(xr_exp_event(f->e, &f->c, k, "nope"), 0);
	assert_int_equal(conversions(f->e, &f->c, "c", "nope", D0), 0);
	/* visitors are untouched by events */
	assert_int_equal(visitors(f->e, &f->c, "a", D0), 1);

	/* a visitor never shown the experiment today converts nothing, though
	 * the goal is known */
	key_of(f->e, "203.0.113.10", "Safari", stranger);
	assert_int_equal(xr_exp_event(f->e, &f->c, stranger, "g1"), 1);
	assert_int_equal(xr_exp_event(f->e, &f->c, stranger, "g2"), 2);
	assert_int_equal(conversions(f->e, &f->c, "a", "g1", D0), 1);
	assert_int_equal(conversions(f->e, &f->c, "a", "g2", D0), 1);
	assert_int_equal(conversions(f->e, &f->c, "b", "g2", D0), 1);
	assert_int_equal(visitors(f->e, &f->c, "a", D0), 1);
	/* once shown, the conversion counts */
	session(f->e, &f->c, stranger, NULL);
	assert_int_equal(xr_exp_event(f->e, &f->c, stranger, "g1"), 1);
	assert_int_equal(conversions(f->e, &f->c, "a", "g1", D0), 2);

	/* an experiment added later (by a reload) that lists g1: the visitor
	 * was never counted in it, so the conversion goes to a only */
	parse(&f->c2, "{\"experiments\":["
		      "{\"name\":\"a\",\"variants\":[{\"name\":\"a0\",\"weight\":1},{\"name\":\"a1\",\"weight\":1}],"
		      "\"goals\":[\"g1\",\"g2\",\"g3\"]},"
		      "{\"name\":\"d\",\"variants\":[{\"name\":\"d0\",\"weight\":1}],\"goals\":[\"g3\"]}]}");
	assert_int_equal(xr_exp_event(f->e, &f->c2, k, "g3"), 2);
	assert_int_equal(conversions(f->e, &f->c2, "a", "g3", D0), 1);
	assert_int_equal(conversions(f->e, &f->c2, "d", "g3", D0), 0);

	/* the next day: yesterday's session does not carry over */
	xr_exp_roll(f->e, D0 + 1);
	key_of(f->e, "203.0.113.9", "Safari", k);
	assert_int_equal(xr_exp_event(f->e, &f->c, k, "g1"), 1);
	assert_int_equal(conversions(f->e, &f->c, "a", "g1", D0 + 1), 0);
	session(f->e, &f->c, k, NULL);
	assert_int_equal(xr_exp_event(f->e, &f->c, k, "g1"), 1);
	assert_int_equal(conversions(f->e, &f->c, "a", "g1", D0 + 1), 1);
	assert_int_equal(conversions(f->e, &f->c, "a", "g1", D0), 2);
}

static void roll_wipes_salt(void **state)
{
	struct fx *f = *state;
	unsigned char k1[XR_VISITOR_KEY_BYTES], k2[XR_VISITOR_KEY_BYTES];

	parse(&f->c, SPLIT_CFG);
	f->e = xr_exp_new();
	assert_int_equal(xr_exp_roll(f->e, D0), true);
	assert_int_equal(xr_exp_current_day(f->e), D0);
	key_of(f->e, "192.0.2.44", "Edge", k1);
	/* the same day again: nothing changes */
	assert_int_equal(xr_exp_roll(f->e, D0), false);
	key_of(f->e, "192.0.2.44", "Edge", k2);
	assert_memory_equal(k1, k2, sizeof(k1));
	session(f->e, &f->c, k1, NULL);
	/* a new day: a new salt, so a new key for the same person, and the
	 * tags are gone (the old key is no longer known either) */
	assert_int_equal(xr_exp_roll(f->e, D0 + 1), true);
	assert_int_equal(xr_exp_current_day(f->e), D0 + 1);
	key_of(f->e, "192.0.2.44", "Edge", k2);
	assert_memory_not_equal(k1, k2, sizeof(k1));
	session(f->e, &f->c, k1, NULL);
	assert_int_equal(visitors(f->e, &f->c, "half", D0 + 1), 1);
	/* rolling back to an earlier day is a roll too (fresh salt) */
	assert_int_equal(xr_exp_roll(f->e, D0), true);
	key_of(f->e, "192.0.2.44", "Edge", k2);
	assert_memory_not_equal(k1, k2, sizeof(k1));

	/* two engines never share a salt */
	f->e2 = xr_exp_new();
	xr_exp_roll(f->e2, D0);
	key_of(f->e2, "192.0.2.44", "Edge", k1);
	assert_memory_not_equal(k1, k2, sizeof(k1));
}

/* --- persistence ------------------------------------------------------------ */

static void check_mode(const char *dir, const char *name)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void save_load_same_day(void **state)
{
	struct fx *f = *state;
	unsigned char k[XR_VISITOR_KEY_BYTES], k2[XR_VISITOR_KEY_BYTES];
	int v1[3], v2[3];
	uint64_t before;

	parse(&f->c, GOALS_CFG);
	write_salt(f->dir, D0, 9);
	f->e = load_engine(f->dir, D0);
	for (int i = 0; i < 300; i++) {
		char ua[32];
		snprintf(ua, sizeof(ua), "UA-%d", i);
		key_of(f->e, "198.51.100.1", ua, k);
		session(f->e, &f->c, k, NULL);
		if (i % 3 == 0)
			xr_exp_event(f->e, &f->c, k, "g2");
	}
	key_of(f->e, "198.51.100.1", "UA-0", k);
	session(f->e, &f->c, k, v1);
	before = total(f->e);
	assert_int_equal(before, 300 * 3 + 100 * 2);
	assert_true(xr_exp_dirty(f->e));
	assert_int_equal(xr_exp_save(f->e, f->dir), 0);
	assert_false(xr_exp_dirty(f->e));
	check_mode(f->dir, "experiments.json");
	check_mode(f->dir, "visitors.bin");

	/* visitors.bin: magic, day, the salt at offset 16, the tag count */
	{
		char *body;
		size_t len;
		const char *why;
		uint64_t day, n;
		assert_int_equal(xr_store_read(f->dir, "visitors.bin", &body, &len,
					       1 << 24, &why), 0);
		assert_memory_equal(body, "XRVIS1\0\0", 8);
		memcpy(&day, body + 8, 8);
		memcpy(&n, body + 48, 8);
		assert_int_equal(day, D0);
		for (int i = 0; i < 32; i++)
			assert_int_equal((unsigned char)body[16 + i],
					 (unsigned char)(9 + i * 13));
		assert_int_equal(n, 300 * 3 + 100 * 2); /* one tag a count */
		assert_int_equal(len, 56 + n * 16);
		free(body);
	}

	/* a restart on the same day */
	f->e2 = load_engine(f->dir, D0);
	assert_false(xr_exp_dirty(f->e2));
	assert_int_equal(total(f->e2), before);
	for (size_t x = 0; x < 3; x++) {
		const struct xr_experiment *ex = &f->c.experiments[x];
		for (size_t i = 0; i < ex->nvariants; i++) {
			const char *vn = ex->variants[i].name;
			assert_int_equal(xr_exp_count(f->e2, ex->name, vn, NULL, D0),
					 xr_exp_count(f->e, ex->name, vn, NULL, D0));
			assert_int_equal(xr_exp_count(f->e2, ex->name, vn, "g2", D0),
					 xr_exp_count(f->e, ex->name, vn, "g2", D0));
		}
	}
	/* the same salt: the same key and variant; nobody counted twice */
	key_of(f->e2, "198.51.100.1", "UA-0", k2);
	assert_memory_equal(k, k2, sizeof(k));
	session(f->e2, &f->c, k2, v2);
	assert_memory_equal(v1, v2, sizeof(v1));
	for (int i = 0; i < 300; i++) {
		char ua[32];
		snprintf(ua, sizeof(ua), "UA-%d", i);
		key_of(f->e2, "198.51.100.1", ua, k2);
		session(f->e2, &f->c, k2, NULL);
		xr_exp_event(f->e2, &f->c, k2, "g2");
		xr_exp_event(f->e2, &f->c, k2, "g1");
	}
	/* only the g1 conversions (never sent before) and the g2 ones of the
	 * visitors who had not converted are new */
	assert_int_equal(visitors(f->e2, &f->c, "a", D0), 300);
	assert_int_equal(visitors(f->e2, &f->c, "b", D0), 300);
	assert_int_equal(conversions(f->e2, &f->c, "a", "g2", D0), 300);
	assert_int_equal(conversions(f->e2, &f->c, "a", "g1", D0), 300);
	assert_int_equal(conversions(f->e2, &f->c, "b", "g2", D0), 300);
	assert_int_equal(total(f->e2), 300 * 3 + 300 * 3);
}

static void load_later_day_shreds_salt(void **state)
{
	struct fx *f = *state;
	unsigned char k[XR_VISITOR_KEY_BYTES], k2[XR_VISITOR_KEY_BYTES];
	char err[1024];

	parse(&f->c, GOALS_CFG);
	write_salt(f->dir, D0, 5);
	f->e = load_engine(f->dir, D0);
	key_of(f->e, "198.51.100.2", "UA", k);
	session(f->e, &f->c, k, NULL);
	xr_exp_event(f->e, &f->c, k, "g1");
	assert_int_equal(xr_exp_save(f->e, f->dir), 0);
	assert_true(exists(f->dir, "visitors.bin"));

	f->e2 = xr_exp_new();
	assert_int_equal(xr_exp_load(f->e2, f->dir, D0 + 1, err, sizeof(err)), 0);
	assert_string_equal(err, ""); /* a past day's salt is no error */
	assert_int_equal(xr_exp_current_day(f->e2), D0 + 1);
	assert_false(exists(f->dir, "visitors.bin")); /* shredded */
	/* the counters are kept */
	assert_int_equal(total(f->e2), 4);
	assert_int_equal(visitors(f->e2, &f->c, "a", D0), 1);
	assert_int_equal(conversions(f->e2, &f->c, "a", "g1", D0), 1);
	/* a fresh salt: the same person has another key and counts anew */
	key_of(f->e2, "198.51.100.2", "UA", k2);
	assert_memory_not_equal(k, k2, sizeof(k));
	session(f->e2, &f->c, k2, NULL);
	assert_int_equal(visitors(f->e2, &f->c, "a", D0 + 1), 1);
	/* saving again writes the new day's salt, not the old one */
	assert_int_equal(xr_exp_save(f->e2, f->dir), 0);
	xr_exp_free(f->e);
	f->e = load_engine(f->dir, D0 + 1);
	key_of(f->e, "198.51.100.2", "UA", k);
	assert_memory_equal(k, k2, sizeof(k));
	assert_int_equal(total(f->e), 7);
}

static void empty_dir_loads(void **state)
{
	struct fx *f = *state;

	f->e = load_engine(f->dir, D0);
	assert_int_equal(total(f->e), 0);
	assert_false(xr_exp_dirty(f->e));
	assert_false(exists(f->dir, "experiments.json"));
	/* a save with nothing counted still writes valid files */
	assert_int_equal(xr_exp_save(f->e, f->dir), 0);
	f->e2 = load_engine(f->dir, D0);
	assert_int_equal(total(f->e2), 0);
}

typedef void (*damage_fn)(unsigned char *raw, size_t *len);

static void dmg_truncate(unsigned char *raw, size_t *len) { (void)raw; *len -= 5; }
static void dmg_flip(unsigned char *raw, size_t *len) { raw[*len - 9] ^= 0x10; }
static void dmg_extend(unsigned char *raw, size_t *len) { raw[(*len)++] = ']'; }
static void dmg_header(unsigned char *raw, size_t *len) { raw[0] = 'Y'; (void)len; }

/* Damages experiments.json with fn, loads, and checks it was refused,
 * quarantined with its bytes intact and reported. */
static void refuse_one(struct fx *f, damage_fn fn)
{
	unsigned char raw[8192], moved[8192];
	unsigned char k[XR_VISITOR_KEY_BYTES];
	char p[512], err[2048], name[256] = "";
	size_t len, mlen;
	struct xr_exp *e;
	DIR *d;
	struct dirent *de;
	FILE *fp;
	int n;

	test_rm_tree(f->dir);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	e = xr_exp_new();
	xr_exp_roll(e, D0);
	for (int i = 0; i < 20; i++) {
		char ua[16];
		snprintf(ua, sizeof(ua), "u%d", i);
		key_of(e, "192.0.2.9", ua, k);
		session(e, &f->c, k, NULL);
	}
	assert_int_equal(xr_exp_save(e, f->dir), 0);
	xr_exp_free(e);

	snprintf(p, sizeof(p), "%s/experiments.json", f->dir);
	fp = fopen(p, "rb");
	len = fread(raw, 1, sizeof(raw) - 8, fp);
	fclose(fp);
	fn(raw, &len);
	fp = fopen(p, "wb");
	fwrite(raw, 1, len, fp);
	fclose(fp);

	e = xr_exp_new();
	assert_int_equal(xr_exp_load(e, f->dir, D0, err, sizeof(err)), 0);
	assert_true(err[0] != '\0');
	assert_non_null(strstr(err, "experiments.json"));
	assert_non_null(strstr(err, "corrupt-"));
	assert_int_equal(total(e), 0); /* nothing of it was loaded */
	assert_int_equal(xr_exp_current_day(e), D0);
	xr_exp_free(e);
	assert_false(exists(f->dir, "experiments.json"));
	assert_true(has_file_prefix(f->dir, "experiments.json.corrupt-", &n));
	assert_int_equal(n, 1);
	d = opendir(f->dir);
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "experiments.json.corrupt-", 25))
			snprintf(name, sizeof(name), "%s", de->d_name);
	closedir(d);
	assert_non_null(strstr(err, name)); /* the report names the file */
	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	fp = fopen(p, "rb");
	assert_non_null(fp);
	mlen = fread(moved, 1, sizeof(moved), fp);
	fclose(fp);
	assert_int_equal(mlen, len);
	assert_memory_equal(moved, raw, len); /* kept as it was */
}

static void corrupt_counters_refused(void **state)
{
	struct fx *f = *state;

	parse(&f->c, GOALS_CFG);
	refuse_one(f, dmg_truncate);
	refuse_one(f, dmg_flip);
	refuse_one(f, dmg_extend);
	refuse_one(f, dmg_header);
}

/* A file with a good checksum but content that is not a counters file
 * (as a bug or a hand edit would leave) is refused too. */
static void bad_content_refused(void **state)
{
	struct fx *f = *state;
	static const char *const bodies[] = {
		"not json",
		"[]",
		"{\"version\":2,\"counters\":[]}",
		"{\"version\":1}",
		"{\"version\":1,\"counters\":[[\"e\",\"v\",\"\",\"2023-11-14\",-1]]}",
		"{\"version\":1,\"counters\":[[\"e\",\"v\",\"\",\"2023-13-14\",1]]}",
		"{\"version\":1,\"counters\":[[\"e\",\"v\",\"\",\"2023-11-14\",1,2]]}",
		"{\"version\":1,\"counters\":[[\"\",\"v\",\"\",\"2023-11-14\",1]]}",
		"{\"version\":1,\"counters\":[[\"e\",\"v\",\"\",\"2023-11-14\",\"1\"]]}",
		"{\"version\":1,\"counters\":[[\"e\",\"v\",\"\",\"2023-11-14\",3]],\"version\":1}",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		char err[2048];
		struct xr_exp *e;
		int n;

		test_rm_tree(f->dir);
		assert_int_equal(mkdir(f->dir, 0700), 0);
		assert_int_equal(xr_store_write(f->dir, "experiments.json", bodies[i],
						strlen(bodies[i])), 0);
		e = xr_exp_new();
		assert_int_equal(xr_exp_load(e, f->dir, D0, err, sizeof(err)), 0);
		if (!err[0])
			fail_msg("accepted: %s", bodies[i]);
		assert_int_equal(total(e), 0);
		xr_exp_free(e);
		assert_true(has_file_prefix(f->dir, "experiments.json.corrupt-", &n));
		assert_false(exists(f->dir, "experiments.json"));
	}
}

/* A damaged visitors.bin is destroyed (it held a salt), reported, and the
 * counters still load. */
static void corrupt_visitors_wiped(void **state)
{
	struct fx *f = *state;
	unsigned char k[XR_VISITOR_KEY_BYTES];
	char p[512], err[2048];
	FILE *fp;
	int n;

	parse(&f->c, GOALS_CFG);
	f->e = xr_exp_new();
	xr_exp_roll(f->e, D0);
	key_of(f->e, "192.0.2.1", "x", k);
	session(f->e, &f->c, k, NULL);
	assert_int_equal(xr_exp_save(f->e, f->dir), 0);
	snprintf(p, sizeof(p), "%s/visitors.bin", f->dir);
	/* Flip the byte (writing a fixed one left the file unchanged whenever
	 * the random salt already held it there: one run in 256). */
	fp = fopen(p, "r+b");
	assert_non_null(fp);
	fseek(fp, 120, SEEK_SET);
	int c = fgetc(fp);
	assert_int_not_equal(c, EOF);
	fseek(fp, 120, SEEK_SET);
	fputc(c ^ 0xff, fp);
	fclose(fp);
	f->e2 = xr_exp_new();
	assert_int_equal(xr_exp_load(f->e2, f->dir, D0, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "visitors.bin"));
	assert_false(exists(f->dir, "visitors.bin"));
	assert_false(has_file_prefix(f->dir, "visitors.bin.corrupt", &n));
	assert_int_equal(total(f->e2), 3);
	assert_int_equal(xr_exp_current_day(f->e2), D0);
}

/* --- the report ------------------------------------------------------------ */

/* Counters of the worked example of test_stats.c: control 50/1000,
 * treatment 70/1000: rates 0.05 and 0.07, Wilson [0.038130, 0.065314] and
 * [0.055776, 0.087515], z = 1.883109, p = 0.059686. */
static void report_worked_example(void **state)
{
	struct fx *f = *state;
	static const char body[] =
		"{\"version\":1,\"counters\":["
		"[\"cta\",\"control\",\"\",\"2024-03-01\",600],"
		"[\"cta\",\"control\",\"\",\"2024-03-02\",400],"
		"[\"cta\",\"control\",\"signup\",\"2024-03-01\",50],"
		"[\"cta\",\"treat\",\"\",\"2024-03-01\",1000],"
		"[\"cta\",\"treat\",\"signup\",\"2024-03-02\",70]]}";
	json_t *r, *c, *t, *g, *ci, *daily;

	assert_int_equal(xr_store_write(f->dir, "experiments.json", body,
					strlen(body)), 0);
	f->e = load_engine(f->dir, 19784);
	parse(&f->c, "{\"experiments\":[{\"name\":\"cta\",\"variants\":["
		     "{\"name\":\"control\",\"weight\":1},{\"name\":\"treat\",\"weight\":1}],"
		     "\"goals\":[\"signup\"]}]}");
	r = report_of(f, f->e, &f->c, "cta");
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(f->json, "today")),
			    "2024-03-02");
	assert_true(json_is_true(json_object_get(r, "running")));
	c = variant_of(r, "control");
	t = variant_of(r, "treat");
	assert_int_equal(json_integer_value(json_object_get(c, "visitors")), 1000);
	assert_int_equal(json_integer_value(json_object_get(t, "visitors")), 1000);
	g = json_object_get(json_object_get(c, "goals"), "signup");
	assert_int_equal(json_integer_value(json_object_get(g, "conversions")), 50);
	assert_true(fabs(json_real_value(json_object_get(g, "rate")) - 0.05) < 1e-9);
	ci = json_object_get(g, "ci95");
	assert_true(fabs(json_real_value(json_array_get(ci, 0)) - 0.038130262) < 1e-8);
	assert_true(fabs(json_real_value(json_array_get(ci, 1)) - 0.065313820) < 1e-8);
	assert_true(json_is_null(json_object_get(g, "p_value"))); /* the base */
	g = json_object_get(json_object_get(t, "goals"), "signup");
	assert_int_equal(json_integer_value(json_object_get(g, "conversions")), 70);
	assert_true(fabs(json_real_value(json_object_get(g, "rate")) - 0.07) < 1e-9);
	ci = json_object_get(g, "ci95");
	assert_true(fabs(json_real_value(json_array_get(ci, 0)) - 0.055776364) < 1e-8);
	assert_true(fabs(json_real_value(json_array_get(ci, 1)) - 0.087514648) < 1e-8);
	assert_true(fabs(json_real_value(json_object_get(g, "z")) - 1.883108943) < 1e-7);
	assert_true(fabs(json_real_value(json_object_get(g, "p_value")) - 0.059685606) < 1e-8);
	/* 1000/1000 against 1/1: no mismatch */
	assert_true(json_is_false(json_object_get(json_object_get(r, "srm"), "mismatch")));
	/* the daily series, oldest first */
	daily = json_object_get(r, "daily");
	assert_int_equal(json_array_size(daily), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(daily, 0), "day")),
			    "2024-03-01");
	assert_string_equal(json_string_value(json_object_get(json_array_get(daily, 1), "day")),
			    "2024-03-02");
}

static void stopped_experiment_reported(void **state)
{
	struct fx *f = *state;
	unsigned char k[XR_VISITOR_KEY_BYTES];
	json_t *r, *v;
	uint64_t n0, n1;

	parse(&f->c, GOALS_CFG);
	f->e = xr_exp_new();
	xr_exp_roll(f->e, D0);
	for (int i = 0; i < 40; i++) {
		char ua[16];
		snprintf(ua, sizeof(ua), "s%d", i);
		key_of(f->e, "192.0.2.3", ua, k);
		session(f->e, &f->c, k, NULL);
		xr_exp_event(f->e, &f->c, k, "g2");
	}
	n0 = xr_exp_count(f->e, "b", "b0", NULL, D0);
	n1 = xr_exp_count(f->e, "b", "b1", NULL, D0);
	assert_int_equal(n0 + n1, 40);
	/* b is stopped, a goes on, e is new */
	parse(&f->c2, "{\"experiments\":["
		      "{\"name\":\"a\",\"variants\":[{\"name\":\"a0\",\"weight\":1},{\"name\":\"a1\",\"weight\":1}],"
		      "\"goals\":[\"g1\",\"g2\"]},"
		      "{\"name\":\"e\",\"variants\":[{\"name\":\"e0\",\"weight\":1}]}]}");
	r = report_of(f, f->e, &f->c2, "b");
	assert_non_null(r);
	assert_true(json_is_false(json_object_get(r, "running")));
	assert_true(json_is_null(json_object_get(r, "srm")));
	v = variant_of(r, "b0");
	assert_int_equal(json_integer_value(json_object_get(v, "visitors")), n0);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(json_object_get(v, "goals"), "g2"), "conversions")),
		xr_exp_count(f->e, "b", "b0", "g2", D0));
	v = variant_of(r, "b1");
	assert_int_equal(json_integer_value(json_object_get(v, "visitors")), n1);
	r = report_of(f, f->e, &f->c2, "a");
	assert_true(json_is_true(json_object_get(r, "running")));
	r = report_of(f, f->e, &f->c2, "e");
	assert_non_null(r); /* running, nobody yet */
	assert_true(json_is_true(json_object_get(r, "running")));
	assert_int_equal(json_integer_value(json_object_get(variant_of(r, "e0"), "visitors")), 0);
	/* c (counted, no goals) is stopped too; a name never counted nor
	 * configured is absent */
	r = report_of(f, f->e, &f->c2, "c");
	assert_non_null(r);
	assert_true(json_is_false(json_object_get(r, "running")));
	assert_int_equal(json_integer_value(json_object_get(variant_of(r, "c0"), "visitors")), 40);
	assert_null(report_of(f, f->e, &f->c2, "zzz"));
	/* still there after a save and a load */
	assert_int_equal(xr_exp_save(f->e, f->dir), 0);
	f->e2 = load_engine(f->dir, D0);
	r = report_of(f, f->e2, &f->c2, "b");
	assert_non_null(r);
	assert_true(json_is_false(json_object_get(r, "running")));
	assert_int_equal(json_integer_value(json_object_get(variant_of(r, "b0"), "visitors")), n0);
}

/* --- crashes -------------------------------------------------------------- */

/* Saves e in a child that crashes at its k-th rename; true if it crashed
 * (false: the save completed before the k-th rename). */
static bool save_crashing_at(struct xr_exp *e, const char *dir, int k)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		crash_at = k;
		renames = 0;
		_exit(xr_exp_save(e, dir) ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_true(WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == CRASHED);
	return WEXITSTATUS(st) == CRASHED;
}

/* Whatever moment of a save a crash hits, the state loads, a restart on
 * the same day counts nobody twice, and nothing exceeds the truth: here two
 * visitors (A saved before, X new) and one conversion of A. */
static void crash_during_save_counts_nobody_twice(void **state)
{
	struct fx *f = *state;
	unsigned char ka[XR_VISITOR_KEY_BYTES], kx[XR_VISITOR_KEY_BYTES];
	bool crashed = true;

	parse(&f->c, GOALS_CFG);
	for (int k = 0; crashed; k++) {
		char err[2048];
		int n;

		test_rm_tree(f->dir);
		assert_int_equal(mkdir(f->dir, 0700), 0);
		write_salt(f->dir, D0, 3);
		xr_exp_free(f->e);
		f->e = load_engine(f->dir, D0);
		key_of(f->e, "192.0.2.10", "A", ka);
		key_of(f->e, "192.0.2.10", "X", kx);
		session(f->e, &f->c, ka, NULL);
		assert_int_equal(xr_exp_save(f->e, f->dir), 0);
		session(f->e, &f->c, kx, NULL);
		xr_exp_event(f->e, &f->c, ka, "g1");
		crashed = save_crashing_at(f->e, f->dir, k);

		/* the restart */
		xr_exp_free(f->e2);
		f->e2 = xr_exp_new();
		assert_int_equal(xr_exp_load(f->e2, f->dir, D0, err, sizeof(err)), 0);
		if (err[0])
			fail_msg("crash at rename %d: load error: %s", k, err);
		assert_false(has_file_prefix(f->dir, "experiments.json.corrupt", &n));
		/* A was saved for sure; X and the conversion may be lost */
		assert_true(visitors(f->e2, &f->c, "a", D0) >= 1);
		/* the same people again */
		session(f->e2, &f->c, ka, NULL);
		session(f->e2, &f->c, kx, NULL);
		xr_exp_event(f->e2, &f->c, ka, "g1");
		if (visitors(f->e2, &f->c, "a", D0) > 2 ||
		    visitors(f->e2, &f->c, "b", D0) > 2 ||
		    conversions(f->e2, &f->c, "a", "g1", D0) > 1)
			fail_msg("crash at rename %d of the save: after the restart "
				 "2 visitors count as %llu, 1 conversion as %llu",
				 k, (unsigned long long)visitors(f->e2, &f->c, "a", D0),
				 (unsigned long long)conversions(f->e2, &f->c, "a", "g1", D0));
		assert_true(k < 10);
	}
}

static bool dir_holds(const char *dir, const unsigned char *needle, size_t n,
		      char *which, size_t wn)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	assert_non_null(d);
	while (!found && (de = readdir(d))) {
		char p[512];
		unsigned char buf[65536];
		size_t k;
		FILE *fp;

		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (!(fp = fopen(p, "rb")))
			continue;
		k = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
		for (size_t i = 0; k >= n && i <= k - n && !found; i++)
			if (!memcmp(buf + i, needle, n)) {
				found = true;
				snprintf(which, wn, "%s", de->d_name);
			}
	}
	closedir(d);
	return found;
}

/* A crash while the day's salt is being written, then a start on a later
 * day: no file in the state directory may still hold the old salt. */
static void crash_then_new_day_leaves_no_salt(void **state)
{
	struct fx *f = *state;
	unsigned char k1[XR_VISITOR_KEY_BYTES], salt[32];
	bool crashed = true;

	for (int i = 0; i < 32; i++)
		salt[i] = (unsigned char)(11 + i * 13); /* write_salt(.., 11) */
	parse(&f->c, GOALS_CFG);
	for (int k = 0; crashed; k++) {
		char err[2048], which[256];

		test_rm_tree(f->dir);
		assert_int_equal(mkdir(f->dir, 0700), 0);
		write_salt(f->dir, D0, 11);
		xr_exp_free(f->e);
		f->e = load_engine(f->dir, D0);
		key_of(f->e, "192.0.2.11", "A", k1);
		session(f->e, &f->c, k1, NULL);
		crashed = save_crashing_at(f->e, f->dir, k);
		assert_true(dir_holds(f->dir, salt, sizeof(salt), which, sizeof(which)));

		xr_exp_free(f->e2);
		f->e2 = xr_exp_new();
		assert_int_equal(xr_exp_load(f->e2, f->dir, D0 + 1, err, sizeof(err)), 0);
		if (dir_holds(f->dir, salt, sizeof(salt), which, sizeof(which)))
			fail_msg("crash at rename %d, then a load on the next day: "
				 "%s/%s still holds yesterday's salt", k, f->dir, which);
		assert_true(k < 10);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(day_math),
		T(same_key_same_variant),
		T(weights_respected),
		T(skewed_split_trips_srm),
		T(visitors_once_per_day),
		T(conversions_once_per_goal),
		T(roll_wipes_salt),
		T(save_load_same_day),
		T(load_later_day_shreds_salt),
		T(empty_dir_loads),
		T(corrupt_counters_refused),
		T(bad_content_refused),
		T(corrupt_visitors_wiped),
		T(report_worked_example),
		T(stopped_experiment_reported),
		T(crash_during_save_counts_nobody_twice),
		T(crash_then_new_day_leaves_no_salt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

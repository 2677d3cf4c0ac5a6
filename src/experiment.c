/* experiment.c: cookie-less A/B assignment and visitor-day counting.
 * visitor key = BLAKE2b-256 keyed by the day's salt over (address, UA,
 * host); variant = BLAKE2b(key, experiment) mod total weight; dedup = a set
 * of 16-byte salted tags per (visitor, experiment[, goal]). When the UTC day
 * changes the salt and the tags are wiped. Counters live in a map keyed by
 * experiment, variant, goal and day, and are saved through store.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "xroom/config.h"
#include "xroom/experiment.h"
#include "xroom/map.h"
#include "xroom/stats.h"
#include "xroom/store.h"

#define COUNTERS_FILE "experiments.json"
#define VISITORS_FILE "visitors.bin"
#define VIS_MAGIC "XRVIS1\0\0"
#define TAG 16

struct counter {
	struct xr_map_node node;
	uint64_t n;
	int64_t day;
	const char *exp, *variant, *goal; /* point into key */
	char key[];                        /* exp\0variant\0goal\0 */
};

struct xr_exp {
	int64_t day;
	bool have_salt, dirty;
	unsigned char salt[32];
	unsigned char (*seen)[TAG];
	size_t seen_cap, seen_n;
	struct xr_map counters;
};

/* --- days --------------------------------------------------------------------- */

int64_t xr_exp_day(int64_t unix_s)
{
	return unix_s >= 0 ? unix_s / 86400 : -((-unix_s + 86399) / 86400);
}

void xr_exp_day_name(int64_t day, char out[11])
{
	time_t t = (time_t)(day * 86400);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static int day_parse(const char *s, int64_t *day)
{
	struct tm tm = { 0 };
	char back[11];
	int y, m, d;

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	*day = xr_exp_day((int64_t)timegm(&tm));
	xr_exp_day_name(*day, back);
	return strcmp(back, s) ? -EINVAL : 0;
}

/* --- the engine ----------------------------------------------------------------- */

struct xr_exp *xr_exp_new(void)
{
	struct xr_exp *e = calloc(1, sizeof(*e));

	if (!e || sodium_init() < 0) {
		free(e);
		return NULL;
	}
	xr_map_init(&e->counters);
	e->day = INT64_MIN;
	return e;
}

static void free_counter(struct xr_map_node *n)
{
	free(xr_container_of(n, struct counter, node));
}

static void wipe_day(struct xr_exp *e)
{
	sodium_memzero(e->salt, sizeof(e->salt));
	if (e->seen) {
		sodium_memzero(e->seen, e->seen_cap * TAG);
		free(e->seen);
	}
	e->seen = NULL;
	e->seen_cap = e->seen_n = 0;
	e->have_salt = false;
}

void xr_exp_free(struct xr_exp *e)
{
	if (!e)
		return;
	wipe_day(e);
	xr_map_drain(&e->counters, free_counter);
	free(e);
}

bool xr_exp_roll(struct xr_exp *e, int64_t day)
{
	if (e->have_salt && e->day == day)
		return false;
	wipe_day(e);
	randombytes_buf(e->salt, sizeof(e->salt));
	e->have_salt = true;
	e->day = day;
	e->dirty = true;
	return true;
}

int64_t xr_exp_current_day(const struct xr_exp *e) { return e->day; }

bool xr_exp_dirty(const struct xr_exp *e) { return e->dirty; }

void xr_exp_visitor(const struct xr_exp *e, const char *addr, const char *ua,
		    const char *host, unsigned char key[XR_VISITOR_KEY_BYTES])
{
	crypto_generichash_state st;
	const char *parts[3] = { addr ? addr : "", ua ? ua : "",
				 host ? host : "" };

	crypto_generichash_init(&st, e->salt, sizeof(e->salt),
				XR_VISITOR_KEY_BYTES);
	for (int i = 0; i < 3; i++) /* with their NULs, so parts cannot shift */
		crypto_generichash_update(&st, (const unsigned char *)parts[i],
					  strlen(parts[i]) + 1);
	crypto_generichash_final(&st, key, XR_VISITOR_KEY_BYTES);
	sodium_memzero(&st, sizeof(st));
}

int xr_exp_assign(const struct xr_experiment *ex,
		  const unsigned char key[XR_VISITOR_KEY_BYTES])
{
	crypto_generichash_state st;
	unsigned char h[8];
	uint64_t total = 0, r;

	for (size_t i = 0; i < ex->nvariants; i++)
		total += ex->variants[i].weight;
	if (!total)
		return -1;
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, key, XR_VISITOR_KEY_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)ex->name,
				  strlen(ex->name) + 1);
	crypto_generichash_final(&st, h, sizeof(h));
	memcpy(&r, h, sizeof(r));
	r %= total;
	for (size_t i = 0; i < ex->nvariants; i++) {
		if (r < ex->variants[i].weight)
			return (int)i;
		r -= ex->variants[i].weight;
	}
	return (int)ex->nvariants - 1;
}

/* --- dedup tags ------------------------------------------------------------------ */

static void tag_of(const struct xr_exp *e, const unsigned char *key,
		   char kind, const char *exp, const char *goal,
		   unsigned char out[TAG])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, e->salt, sizeof(e->salt), TAG);
	crypto_generichash_update(&st, key, XR_VISITOR_KEY_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)&kind, 1);
	crypto_generichash_update(&st, (const unsigned char *)exp, strlen(exp) + 1);
	if (goal)
		crypto_generichash_update(&st, (const unsigned char *)goal,
					  strlen(goal) + 1);
	crypto_generichash_final(&st, out, TAG);
	out[0] |= 1; /* all-zero marks an empty slot */
}

static size_t slot_of(const unsigned char t[TAG], size_t cap)
{
	uint64_t h;

	memcpy(&h, t + 8, sizeof(h));
	return (size_t)(h & (cap - 1));
}

static int seen_grow(struct xr_exp *e)
{
	size_t ncap = e->seen_cap ? e->seen_cap * 2 : 1024;
	unsigned char (*ns)[TAG] = calloc(ncap, TAG);

	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < e->seen_cap; i++) {
		size_t j;
		if (!e->seen[i][0])
			continue;
		for (j = slot_of(e->seen[i], ncap); ns[j][0]; j = (j + 1) & (ncap - 1))
			;
		memcpy(ns[j], e->seen[i], TAG);
	}
	if (e->seen) {
		sodium_memzero(e->seen, e->seen_cap * TAG);
		free(e->seen);
	}
	e->seen = ns;
	e->seen_cap = ncap;
	return 0;
}

/* 1: newly added; 0: already there; -ENOSPC: the day's set is full;
 * -ENOMEM. */
static int seen_add(struct xr_exp *e, const unsigned char t[TAG])
{
	size_t j;

	if (e->seen_n * 2 >= e->seen_cap) {
		if (e->seen_n >= XR_EXP_SEEN_MAX)
			goto lookup_only;
		if (seen_grow(e))
			return -ENOMEM;
	}
	for (j = slot_of(t, e->seen_cap); e->seen[j][0]; j = (j + 1) & (e->seen_cap - 1))
		if (!memcmp(e->seen[j], t, TAG))
			return 0;
	memcpy(e->seen[j], t, TAG);
	e->seen_n++;
	return 1;
lookup_only:
	for (j = slot_of(t, e->seen_cap); e->seen[j][0]; j = (j + 1) & (e->seen_cap - 1))
		if (!memcmp(e->seen[j], t, TAG))
			return 0;
	return -ENOSPC;
}

static bool seen_has(const struct xr_exp *e, const unsigned char t[TAG])
{
	if (!e->seen_cap)
		return false;
	for (size_t j = slot_of(t, e->seen_cap); e->seen[j][0];
	     j = (j + 1) & (e->seen_cap - 1))
		if (!memcmp(e->seen[j], t, TAG))
			return true;
	return false;
}

/* --- counters --------------------------------------------------------------------- */

static size_t counter_key(char *out, size_t n, const char *exp,
			  const char *variant, const char *goal, int64_t day)
{
	int k = snprintf(out, n, "%s%c%s%c%s%c%lld", exp, 0, variant, 0,
			 goal ? goal : "", 0, (long long)day);

	return k < 0 || (size_t)k >= n ? 0 : (size_t)k;
}

static struct counter *counter_find(const struct xr_exp *e, const char *exp,
				    const char *variant, const char *goal,
				    int64_t day)
{
	char key[512];
	size_t kl = counter_key(key, sizeof(key), exp, variant, goal, day);
	struct xr_map_node *n = kl ? xr_map_find(&e->counters, key, kl) : NULL;

	return n ? xr_container_of(n, struct counter, node) : NULL;
}

static int counter_add(struct xr_exp *e, const char *exp, const char *variant,
		       const char *goal, int64_t day, uint64_t by)
{
	struct counter *c = counter_find(e, exp, variant, goal, day);
	char key[512];
	size_t kl;

	if (!c) {
		kl = counter_key(key, sizeof(key), exp, variant, goal, day);
		if (!kl)
			return -EINVAL;
		c = calloc(1, sizeof(*c) + kl + 1);
		if (!c)
			return -ENOMEM;
		memcpy(c->key, key, kl + 1);
		c->exp = c->key;
		c->variant = c->exp + strlen(c->exp) + 1;
		c->goal = c->variant + strlen(c->variant) + 1;
		c->day = day;
		if (xr_map_insert(&e->counters, &c->node, c->key, kl)) {
			free(c);
			return -ENOMEM;
		}
	}
	c->n += by;
	e->dirty = true;
	return 0;
}

uint64_t xr_exp_count(const struct xr_exp *e, const char *exp,
		      const char *variant, const char *goal, int64_t day)
{
	struct counter *c = counter_find(e, exp, variant, goal, day);

	return c ? c->n : 0;
}

void xr_exp_each(const struct xr_exp *e,
		 void (*fn)(void *arg, const char *exp, const char *variant,
			    const char *goal, int64_t day, uint64_t n),
		 void *arg)
{
	for (size_t i = 0; i < e->counters.nslots; i++)
		for (struct xr_map_node *n = e->counters.slots[i]; n; n = n->next) {
			struct counter *c = xr_container_of(n, struct counter, node);
			fn(arg, c->exp, c->variant, c->goal, c->day, c->n);
		}
}

/* --- counting ----------------------------------------------------------------------- */

int xr_exp_session(struct xr_exp *e, const struct xr_config *cfg,
		   const unsigned char key[XR_VISITOR_KEY_BYTES], int *variants)
{
	for (size_t i = 0; i < cfg->nexperiments; i++) {
		const struct xr_experiment *ex = &cfg->experiments[i];
		unsigned char t[TAG];
		int v = xr_exp_assign(ex, key), rc;

		variants[i] = v;
		if (v < 0)
			continue;
		tag_of(e, key, 'v', ex->name, NULL, t);
		rc = seen_add(e, t);
		if (rc == 1)
			rc = counter_add(e, ex->name, ex->variants[v].name, NULL,
					 e->day, 1);
		if (rc == -ENOMEM)
			return rc;
	}
	return 0;
}

int xr_exp_event(struct xr_exp *e, const struct xr_config *cfg,
		 const unsigned char key[XR_VISITOR_KEY_BYTES],
		 const char *goal)
{
	int listed = 0;

	for (size_t i = 0; i < cfg->nexperiments; i++) {
		const struct xr_experiment *ex = &cfg->experiments[i];
		unsigned char vt[TAG], ct[TAG];
		bool has = false;
		int v, rc;

		for (size_t g = 0; g < ex->ngoals; g++)
			has |= !strcmp(ex->goals[g], goal);
		if (!has)
			continue;
		listed++;
		v = xr_exp_assign(ex, key);
		tag_of(e, key, 'v', ex->name, NULL, vt);
		if (v < 0 || !seen_has(e, vt))
			continue; /* never shown this experiment today */
		tag_of(e, key, 'c', ex->name, goal, ct);
		rc = seen_add(e, ct);
		if (rc == 1)
			rc = counter_add(e, ex->name, ex->variants[v].name, goal,
					 e->day, 1);
		if (rc == -ENOMEM)
			return rc;
	}
	return listed;
}

/* --- persistence ----------------------------------------------------------------------- */

static void add_json(void *arg, const char *exp, const char *variant,
		     const char *goal, int64_t day, uint64_t n)
{
	char dn[11];

	xr_exp_day_name(day, dn);
	json_array_append_new(arg, json_pack("[ssssI]", exp, variant, goal, dn,
					     (json_int_t)n));
}

/* The day's salt and tags (binary body of visitors.bin). */
static int save_visitors(struct xr_exp *e, const char *dir)
{
	size_t vlen = 8 + 8 + sizeof(e->salt) + 8 + e->seen_n * TAG;
	unsigned char *vis = malloc(vlen), *p = vis;
	uint64_t n = e->seen_n, day = (uint64_t)e->day;
	int rc;

	if (!vis)
		return -ENOMEM;
	memcpy(p, VIS_MAGIC, 8);
	p += 8;
	memcpy(p, &day, 8);
	p += 8;
	memcpy(p, e->salt, sizeof(e->salt));
	p += sizeof(e->salt);
	memcpy(p, &n, 8);
	p += 8;
	for (size_t i = 0; i < e->seen_cap; i++)
		if (e->seen[i][0]) {
			memcpy(p, e->seen[i], TAG);
			p += TAG;
		}
	rc = xr_store_write(dir, VISITORS_FILE, vis, vlen);
	sodium_memzero(vis, vlen);
	free(vis);
	return rc;
}

char *xr_exp_counters_json(const struct xr_exp *e)
{
	json_t *root = json_pack("{s:i,s:[]}", "version", 1, "counters");
	char *text;

	if (!root)
		return NULL;
	xr_exp_each(e, add_json, json_object_get(root, "counters"));
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return text;
}

int xr_exp_save(struct xr_exp *e, const char *dir)
{
	char *text;
	int rc;

	/* Tags before counters: a crash between the two then loses at most
	 * the newest counts, and never counts a visitor twice. */
	if (e->have_salt && (rc = save_visitors(e, dir)))
		return rc;
	text = xr_exp_counters_json(e);
	if (!text)
		return -ENOMEM;
	rc = xr_store_write(dir, COUNTERS_FILE, text, strlen(text));
	free(text);
	if (!rc)
		e->dirty = false;
	return rc;
}

int xr_exp_forget_salt_file(const char *dir)
{
	int rc = xr_store_shred(dir, VISITORS_FILE);

	/* a crash mid-save may have left the day's salt in the temp file */
	xr_store_shred(dir, "." VISITORS_FILE ".tmp");
	return rc;
}

int xr_exp_add_counters(struct xr_exp *e, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *arr = json_object_get(root, "counters"), *it;
	size_t i;
	int rc = -EBADMSG;

	if (!json_is_object(root) || json_integer_value(json_object_get(root, "version")) != 1 ||
	    !json_is_array(arr))
		goto out;
	json_array_foreach(arr, i, it) {
		const char *exp, *var, *goal, *dn;
		json_int_t n;
		int64_t day;

		if (json_unpack(it, "[ssssI!]", &exp, &var, &goal, &dn, &n) ||
		    n < 0 || day_parse(dn, &day) || !*exp || !*var)
			goto out;
		if (counter_add(e, exp, var, goal, day, (uint64_t)n)) {
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static int load_visitors(struct xr_exp *e, const unsigned char *b, size_t len,
			 int64_t today)
{
	uint64_t day, n;

	if (len < 56 || memcmp(b, VIS_MAGIC, 8))
		return -EBADMSG;
	memcpy(&day, b + 8, 8);
	memcpy(&n, b + 48, 8);
	if (n > XR_EXP_SEEN_MAX || len != 56 + n * TAG)
		return -EBADMSG;
	if ((int64_t)day != today)
		return -ESTALE;
	wipe_day(e);
	memcpy(e->salt, b + 16, 32);
	e->have_salt = true;
	e->day = today;
	for (uint64_t i = 0; i < n; i++)
		if (seen_add(e, b + 56 + i * TAG) < 0)
			return -ENOMEM;
	return 0;
}

int xr_exp_load(struct xr_exp *e, const char *dir, int64_t today, char *err,
		size_t errlen)
{
	char *body = NULL, moved[4200];
	const char *why = NULL;
	size_t len;
	int rc, out = 0;

	err[0] = '\0';
	rc = xr_store_read(dir, COUNTERS_FILE, &body, &len, 256u << 20, &why);
	if (!rc) {
		rc = xr_exp_add_counters(e, body, len);
		if (rc == -EBADMSG)
			why = "its content is not a valid counters file";
	}
	free(body);
	if (rc == -EBADMSG) {
		/* Keep it for the operator; start counting afresh. */
		if (xr_store_quarantine(dir, COUNTERS_FILE, moved, sizeof(moved)))
			moved[0] = '\0';
		snprintf(err, errlen, "%s/%s refused (%s); kept as %s and "
			 "counting starts from zero", dir, COUNTERS_FILE, why,
			 moved[0] ? moved : "(could not be moved)");
		xr_map_drain(&e->counters, free_counter);
	} else if (rc && rc != -ENOENT) {
		snprintf(err, errlen, "%s/%s: %s", dir, COUNTERS_FILE, strerror(-rc));
		out = rc;
	}

	body = NULL;
	xr_store_shred(dir, "." VISITORS_FILE ".tmp"); /* a torn save's salt */
	rc = xr_store_read(dir, VISITORS_FILE, &body, &len, (size_t)XR_EXP_SEEN_MAX * 2 * TAG, &why);
	if (!rc)
		rc = load_visitors(e, (unsigned char *)body, len, today);
	if (body) {
		sodium_memzero(body, len);
		free(body);
	}
	if (rc && rc != -ENOENT) {
		/* A past day's salt, or one we cannot trust: destroy it. */
		xr_store_shred(dir, VISITORS_FILE);
		if (rc != -ESTALE && !err[0])
			snprintf(err, errlen, "%s/%s refused (%s) and wiped: today's "
				 "visitors may be counted again", dir, VISITORS_FILE,
				 why ? why : "malformed");
	}
	xr_exp_roll(e, today); /* no-op if today's salt was restored */
	e->dirty = false;
	return out;
}

/* --- the report ------------------------------------------------------------------------- */

struct acc {
	json_t *exps; /* name -> {variants: {v: {visitors, goals{}}}, days: {d: {v: {...}}}} */
};

static json_t *child(json_t *o, const char *k)
{
	json_t *c = json_object_get(o, k);

	if (!c) {
		c = json_object();
		json_object_set_new(o, k, c);
	}
	return c;
}

static void bump(json_t *o, const char *k, uint64_t n)
{
	json_t *v = json_object_get(o, k);

	json_object_set_new(o, k, json_integer(json_integer_value(v) + (json_int_t)n));
}

static void accumulate(void *arg, const char *exp, const char *variant,
		       const char *goal, int64_t day, uint64_t n)
{
	struct acc *a = arg;
	json_t *ex = child(a->exps, exp);
	json_t *v = child(child(ex, "variants"), variant);
	char dn[11];
	json_t *dv;

	xr_exp_day_name(day, dn);
	dv = child(child(child(ex, "days"), dn), variant);
	if (goal[0]) {
		bump(child(v, "goals"), goal, n);
		bump(child(dv, "goals"), goal, n);
		json_object_set_new(child(ex, "goalset"), goal, json_true());
	} else {
		bump(v, "visitors", n);
		bump(dv, "visitors", n);
	}
}

static json_t *variant_report(json_t *vacc, const char *name, double weight,
			      json_t *goals, json_t *base)
{
	uint64_t n = (uint64_t)json_integer_value(json_object_get(vacc, "visitors"));
	json_t *out = json_pack("{s:s,s:I}", "name", name, "visitors", (json_int_t)n);
	json_t *g, *gout = json_object();
	size_t i;

	if (weight >= 0)
		json_object_set_new(out, "weight", json_real(weight));
	json_array_foreach(goals, i, g) {
		const char *goal = json_string_value(g);
		uint64_t k = (uint64_t)json_integer_value(
			json_object_get(json_object_get(vacc, "goals"), goal));
		double lo, hi, z, p;
		json_t *r = json_pack("{s:I}", "conversions", (json_int_t)k);

		if (k > n)
			k = n; /* impossible by construction; keep maths sane */
		xr_stats_wilson(k, n, &lo, &hi);
		json_object_set_new(r, "rate", n ? json_real((double)k / (double)n) : json_null());
		json_object_set_new(r, "ci95", n ? json_pack("[ff]", lo, hi) : json_null());
		if (base && base != vacc) {
			uint64_t n0 = (uint64_t)json_integer_value(json_object_get(base, "visitors"));
			uint64_t k0 = (uint64_t)json_integer_value(
				json_object_get(json_object_get(base, "goals"), goal));
			p = xr_stats_ztest(k0, n0, k, n, &z);
			json_object_set_new(r, "z", json_real(z));
			json_object_set_new(r, "p_value", json_real(p));
		} else {
			json_object_set_new(r, "z", json_null());
			json_object_set_new(r, "p_value", json_null());
		}
		json_object_set_new(gout, goal, r);
	}
	json_object_set_new(out, "goals", gout);
	return out;
}

static json_t *experiment_report(const char *name, json_t *ex,
				 const struct xr_experiment *conf)
{
	json_t *vars = child(ex, "variants"), *goals = json_array();
	json_t *out = json_pack("{s:s,s:b}", "name", name, "running", conf != NULL);
	json_t *vlist = json_array(), *base = NULL, *daily = json_array();
	const char *key, *dk;
	json_t *val, *dv;
	void *tmp;

	if (conf) {
		for (size_t i = 0; i < conf->ngoals; i++)
			json_array_append_new(goals, json_string(conf->goals[i]));
	}
	json_object_foreach(child(ex, "goalset"), key, val) {
		bool dup = false;
		size_t i;
		json_t *g;
		json_array_foreach(goals, i, g)
			dup |= !strcmp(json_string_value(g), key);
		if (!dup)
			json_array_append_new(goals, json_string(key));
	}
	json_object_set_new(out, "goals", json_incref(goals));

	if (conf) {
		uint64_t *obs = calloc(conf->nvariants, sizeof(*obs));
		double *w = calloc(conf->nvariants, sizeof(*w)), chi2 = 0, p = 1;

		for (size_t i = 0; i < conf->nvariants; i++) {
			json_t *va = child(vars, conf->variants[i].name);
			if (!base)
				base = va;
			if (obs && w) {
				obs[i] = (uint64_t)json_integer_value(json_object_get(va, "visitors"));
				w[i] = conf->variants[i].weight;
			}
			json_array_append_new(vlist, variant_report(va,
				conf->variants[i].name, conf->variants[i].weight,
				goals, base));
		}
		if (obs && w)
			p = xr_stats_srm(obs, w, conf->nvariants, &chi2);
		json_object_set_new(out, "srm", json_pack("{s:f,s:f,s:b}",
			"chi2", isfinite(chi2) ? chi2 : 1e308, "p_value", p,
			"mismatch", p < 0.001));
		free(obs);
		free(w);
	} else {
		json_object_foreach_safe(vars, tmp, key, val) {
			if (!base)
				base = val;
			json_array_append_new(vlist, variant_report(val, key, -1,
								    goals, base));
		}
		json_object_set_new(out, "srm", json_null());
	}
	json_object_set_new(out, "variants", vlist);

	/* Daily series, oldest first ("YYYY-MM-DD" sorts as text). */
	{
		json_t *dayobj = child(ex, "days");
		size_t nd = json_object_size(dayobj), k = 0;
		const char **days = calloc(nd + 1, sizeof(*days));

		json_object_foreach(dayobj, dk, dv)
			if (days && k < nd)
				days[k++] = dk;
		for (size_t i = 1; days && i < k; i++)
			for (size_t j = i; j > 0 && strcmp(days[j - 1], days[j]) > 0; j--) {
				const char *t = days[j];
				days[j] = days[j - 1];
				days[j - 1] = t;
			}
		for (size_t i = 0; days && i < k; i++) {
			json_t *d = json_object();
			json_object_set_new(d, "day", json_string(days[i]));
			json_object_set(d, "variants", json_object_get(dayobj, days[i]));
			json_array_append_new(daily, d);
		}
		free(days);
	}
	json_object_set_new(out, "daily", daily);
	json_decref(goals);
	return out;
}

char *xr_exp_report(const struct xr_exp *e, const struct xr_config *cfg)
{
	struct acc a = { json_object() };
	json_t *list = json_array(), *ex;
	const char *name;
	char dn[11], *text;

	xr_exp_each(e, accumulate, &a);
	for (size_t i = 0; i < cfg->nexperiments; i++)
		json_array_append_new(list, experiment_report(
			cfg->experiments[i].name,
			child(a.exps, cfg->experiments[i].name),
			&cfg->experiments[i]));
	json_object_foreach(a.exps, name, ex) {
		bool running = false;
		for (size_t i = 0; i < cfg->nexperiments; i++)
			running |= !strcmp(cfg->experiments[i].name, name);
		if (!running) /* stopped: its counts are kept and shown */
			json_array_append_new(list, experiment_report(name, ex, NULL));
	}
	xr_exp_day_name(e->day == INT64_MIN ? 0 : e->day, dn);
	ex = json_pack("{s:s,s:s,s:o}", "unit", "visitor-day", "today", dn,
		       "experiments", list);
	text = ex ? json_dumps(ex, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
	json_decref(ex);
	json_decref(a.exps);
	return text;
}

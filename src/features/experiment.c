/* experiment.c: the experiments engine: cookie-less A/B assignment and
 * visitor-day counting. visitor key = BLAKE2b-256 keyed by the day's salt
 * over (address, UA, host); variant = BLAKE2b(key, experiment) mod total
 * weight; dedup = a set of 16-byte salted tags (tagset.c) per (visitor,
 * experiment[, goal]). When the UTC day changes the salt and the tags are
 * wiped. Counters live in a map keyed by experiment, variant, goal and day.
 * Saving and loading are exp_store.c, the report exp_report.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "xroom/config/config.h"
#include "xroom/features/experiment.h"
#include "xroom/util/map.h"
#include "xroom/util/tagset.h"

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
	struct xr_tagset seen;
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
	xr_tagset_wipe(&e->seen);
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

void xr_exp_mark_saved(struct xr_exp *e) { e->dirty = false; }

bool xr_exp_has_salt(const struct xr_exp *e) { return e->have_salt; }

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

/* --- dedup tags ---------------------------------------------------------------- */

static void tag_of(const struct xr_exp *e, const unsigned char *key,
		   char kind, const char *exp, const char *goal,
		   unsigned char out[XR_TAG_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, e->salt, sizeof(e->salt), XR_TAG_BYTES);
	crypto_generichash_update(&st, key, XR_VISITOR_KEY_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)&kind, 1);
	crypto_generichash_update(&st, (const unsigned char *)exp, strlen(exp) + 1);
	if (goal)
		crypto_generichash_update(&st, (const unsigned char *)goal,
					  strlen(goal) + 1);
	crypto_generichash_final(&st, out, XR_TAG_BYTES);
	out[0] |= 1; /* all-zero marks an empty slot */
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

int xr_exp_add(struct xr_exp *e, const char *exp, const char *variant,
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

void xr_exp_clear_counters(struct xr_exp *e)
{
	xr_map_drain(&e->counters, free_counter);
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

/* Counts one today for the first tag t of the day: a tag seen before (or
 * one the full day's set cannot take) counts nothing. 0 or -ENOMEM. */
static int count_once(struct xr_exp *e, const unsigned char t[XR_TAG_BYTES],
		      const char *exp, const char *variant, const char *goal)
{
	int rc = xr_tagset_add(&e->seen, t, XR_EXP_SEEN_MAX);

	if (rc == 1)
		rc = xr_exp_add(e, exp, variant, goal, e->day, 1);
	return rc == -ENOMEM ? rc : 0;
}

int xr_exp_session(struct xr_exp *e, const struct xr_config *cfg,
		   const unsigned char key[XR_VISITOR_KEY_BYTES], int *variants)
{
	for (size_t i = 0; i < cfg->nexperiments; i++) {
		const struct xr_experiment *ex = &cfg->experiments[i];
		unsigned char t[XR_TAG_BYTES];
		int v = xr_exp_assign(ex, key), rc;

		variants[i] = v;
		if (v < 0)
			continue;
		tag_of(e, key, 'v', ex->name, NULL, t);
		rc = count_once(e, t, ex->name, ex->variants[v].name, NULL);
		if (rc)
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
		unsigned char vt[XR_TAG_BYTES], ct[XR_TAG_BYTES];
		bool has = false;
		int v, rc;

		for (size_t g = 0; g < ex->ngoals; g++)
			has |= !strcmp(ex->goals[g], goal);
		if (!has)
			continue;
		listed++;
		v = xr_exp_assign(ex, key);
		tag_of(e, key, 'v', ex->name, NULL, vt);
		if (v < 0 || !xr_tagset_has(&e->seen, vt))
			continue; /* never shown this experiment today */
		tag_of(e, key, 'c', ex->name, goal, ct);
		rc = count_once(e, ct, ex->name, ex->variants[v].name, goal);
		if (rc)
			return rc;
	}
	return listed;
}

/* --- the day's salt and tags as bytes -------------------------------------- */

/* visitors.bin: magic, day, salt, tag count, tags. */
#define VIS_MAGIC "XRVIS1\0\0"
#define VIS_HEAD (8 + 8 + 32 + 8)

unsigned char *xr_exp_visitors_blob(const struct xr_exp *e, size_t *len)
{
	size_t vlen = VIS_HEAD + e->seen.n * XR_TAG_BYTES;
	unsigned char *vis = e->have_salt ? malloc(vlen) : NULL, *p = vis;
	uint64_t n = e->seen.n, day = (uint64_t)e->day;

	if (!vis)
		return NULL;
	memcpy(p, VIS_MAGIC, 8);
	p += 8;
	memcpy(p, &day, 8);
	p += 8;
	memcpy(p, e->salt, sizeof(e->salt));
	p += sizeof(e->salt);
	memcpy(p, &n, 8);
	p += 8;
	xr_tagset_copy(&e->seen, p);
	*len = vlen;
	return vis;
}

int xr_exp_visitors_restore(struct xr_exp *e, const unsigned char *b,
			    size_t len, int64_t today)
{
	uint64_t day, n;

	if (len < VIS_HEAD || memcmp(b, VIS_MAGIC, 8))
		return -EBADMSG;
	memcpy(&day, b + 8, 8);
	memcpy(&n, b + 48, 8);
	if (n > XR_EXP_SEEN_MAX || len != VIS_HEAD + n * XR_TAG_BYTES)
		return -EBADMSG;
	if ((int64_t)day != today)
		return -ESTALE;
	wipe_day(e);
	memcpy(e->salt, b + 16, 32);
	e->have_salt = true;
	e->day = today;
	for (uint64_t i = 0; i < n; i++)
		if (xr_tagset_add(&e->seen, b + VIS_HEAD + i * XR_TAG_BYTES,
				  XR_EXP_SEEN_MAX) < 0)
			return -ENOMEM;
	return 0;
}

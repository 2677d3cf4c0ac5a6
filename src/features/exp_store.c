/* exp_store.c: the experiments in the state directory. experiments.json
 * holds every counter (kept across days and config changes, written
 * through store.c, checked on load); visitors.bin holds today's salt and
 * tags (mode 0600), shredded when the day rolls. A torn or corrupt file is
 * moved aside and reported, never loaded. Also the counters body of GET
 * /api/experiments/counters, which --merge-report sums. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "xroom/features/exp_store.h"
#include "xroom/features/experiment.h"
#include "xroom/util/log.h"
#include "xroom/util/store.h"
#include "xroom/util/tagset.h"

#define COUNTERS_FILE "experiments.json"
#define VISITORS_FILE "visitors.bin"
#define SAVE_EVERY_MS 30000 /* counters: at most this much lost */

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

/* The day's salt and tags (binary body of visitors.bin), the salt first,
 * at the same offset at every save; none before the first salt. */
static int save_visitors(struct xr_exp *e, const char *dir)
{
	size_t vlen = 0;
	unsigned char *vis = xr_exp_visitors_blob(e, &vlen);
	int rc;

	if (!vis)
		return xr_exp_has_salt(e) ? -ENOMEM : 0;
	/* In place: an atomic save (new file, rename) would leave a copy of
	 * the day's salt in freed blocks at every save. A crash mid-save
	 * costs a torn file, refused and shredded at start: today's visitors
	 * may then be counted again. */
	rc = xr_store_overwrite(dir, VISITORS_FILE, vis, vlen);
	sodium_memzero(vis, vlen);
	free(vis);
	return rc;
}

static void add_json(void *arg, const char *exp, const char *variant,
		     const char *goal, int64_t day, uint64_t n)
{
	char dn[11];

	xr_exp_day_name(day, dn);
	json_array_append_new(arg, json_pack("[ssssI]", exp, variant, goal, dn,
					     (json_int_t)n));
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
	if ((rc = save_visitors(e, dir)))
		return rc;
	text = xr_exp_counters_json(e);
	if (!text)
		return -ENOMEM;
	rc = xr_store_write(dir, COUNTERS_FILE, text, strlen(text));
	free(text);
	if (!rc)
		xr_exp_mark_saved(e);
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
		if (xr_exp_add(e, exp, var, goal, day, (uint64_t)n)) {
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int xr_exp_load(struct xr_exp *e, const char *dir, int64_t today, char *err,
		size_t errlen)
{
	char *body = NULL;
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
		xr_store_set_aside(dir, COUNTERS_FILE, why,
				   " and counting starts from zero", err, errlen);
		xr_exp_clear_counters(e);
	} else if (rc && rc != -ENOENT) {
		snprintf(err, errlen, "%s/%s: %s", dir, COUNTERS_FILE, strerror(-rc));
		out = rc;
	}

	body = NULL;
	xr_store_shred(dir, "." VISITORS_FILE ".tmp"); /* a torn save's salt */
	rc = xr_store_read(dir, VISITORS_FILE, &body, &len, (size_t)XR_EXP_SEEN_MAX * 2 * XR_TAG_BYTES, &why);
	if (!rc)
		rc = xr_exp_visitors_restore(e, (unsigned char *)body, len, today);
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
	xr_exp_mark_saved(e);
	return out;
}

void xr_exp_tick(struct xr_exp *e, const char *dir, int64_t wall_s,
		 int64_t now_ms, int64_t *last_save_ms, bool force_save)
{
	int64_t day = xr_exp_day(wall_s);
	int rc;

	if (day != xr_exp_current_day(e)) {
		rc = xr_exp_save(e, dir);
		if (rc)
			xr_error("experiments: cannot save counters: %s", strerror(-rc));
		xr_exp_forget_salt_file(dir);
		xr_exp_roll(e, day);
		xr_info("experiments: a new UTC day: yesterday's salt is wiped");
		force_save = true;
	}
	if (force_save || (xr_exp_dirty(e) &&
			   now_ms - *last_save_ms >= SAVE_EVERY_MS)) {
		rc = xr_exp_save(e, dir);
		if (rc)
			xr_error("experiments: cannot save counters: %s", strerror(-rc));
		*last_save_ms = now_ms;
	}
}

/* xroom/features/experiment.h: cookie-less A/B experiments. A visitor is a
 * keyed BLAKE2b of (address, User-Agent, host) under a salt that lives one
 * UTC day; the variant follows from that key and the experiment's name by
 * weight. Visitors and conversions are counted once per visitor-day, per
 * experiment, variant, goal and day. Nothing here logs or stores an address
 * or a User-Agent; the only per-visitor state is a set of salted tags,
 * useless once the day's salt is wiped. The clock is always passed in. Files:
 * exp_store.h; the report: exp_report.h; the HTTP API: exp_api.h. */
#ifndef XROOM_EXPERIMENT_H
#define XROOM_EXPERIMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xr_config;
struct xr_experiment;

#define XR_VISITOR_KEY_BYTES 32
#define XR_EXP_SEEN_MAX 4000000 /* dedup tags held per day (64 MB) */

struct xr_exp;

/* Days since 1970-01-01 (UTC) of a unix time. */
int64_t xr_exp_day(int64_t unix_s);
/* "YYYY-MM-DD" of a day number into out (11 bytes). */
void xr_exp_day_name(int64_t day, char out[11]);

/* A new engine with no salt yet (xr_exp_load or xr_exp_roll gives one). */
struct xr_exp *xr_exp_new(void);
/* Wipes the salt and frees. */
void xr_exp_free(struct xr_exp *e);

/* Makes day the current day: if it differs from the engine's, the old salt
 * and tags are wiped (sodium_memzero) and a fresh random salt is drawn.
 * Returns true when it rolled. */
bool xr_exp_roll(struct xr_exp *e, int64_t day);
int64_t xr_exp_current_day(const struct xr_exp *e);

/* The visitor key under today's salt. Strings are borrowed; NULL is "". */
void xr_exp_visitor(const struct xr_exp *e, const char *addr, const char *ua,
		    const char *host, unsigned char key[XR_VISITOR_KEY_BYTES]);
/* The variant index for this visitor (weights respected; -1 if the
 * experiment has no weight at all). Stable for a key. */
int xr_exp_assign(const struct xr_experiment *ex,
		  const unsigned char key[XR_VISITOR_KEY_BYTES]);

/* Counts the visit for every experiment of cfg (once per visitor-day) and
 * writes each experiment's variant index into variants[] (nexperiments
 * entries). Returns 0 or -ENOMEM. */
int xr_exp_session(struct xr_exp *e, const struct xr_config *cfg,
		   const unsigned char key[XR_VISITOR_KEY_BYTES], int *variants);
/* Counts a conversion of goal for every experiment listing it (once per
 * visitor-day and goal, and only for a visitor counted in that experiment
 * today). Returns the number of experiments that list the goal (0: unknown
 * goal), or -ENOMEM. */
int xr_exp_event(struct xr_exp *e, const struct xr_config *cfg,
		 const unsigned char key[XR_VISITOR_KEY_BYTES],
		 const char *goal);

/* A counter: visitors when goal is NULL or "", else conversions. */
uint64_t xr_exp_count(const struct xr_exp *e, const char *exp,
		      const char *variant, const char *goal, int64_t day);
/* Calls fn for every counter (unordered). */
void xr_exp_each(const struct xr_exp *e,
		 void (*fn)(void *arg, const char *exp, const char *variant,
			    const char *goal, int64_t day, uint64_t n),
		 void *arg);
/* True when anything changed since the last save. */
bool xr_exp_dirty(const struct xr_exp *e);

/* Adds n to a counter (visitors when goal is NULL or "", else
 * conversions of goal); strings borrowed and copied. 0, -EINVAL for names
 * too long to key, or -ENOMEM. */
int xr_exp_add(struct xr_exp *e, const char *exp, const char *variant,
	       const char *goal, int64_t day, uint64_t n);
/* Forgets every counter. */
void xr_exp_clear_counters(struct xr_exp *e);
/* Marks the engine as saved (xr_exp_dirty false until the next change). */
void xr_exp_mark_saved(struct xr_exp *e);
/* True once a salt exists (from xr_exp_roll or a restore). */
bool xr_exp_has_salt(const struct xr_exp *e);

/* Today's salt and dedup tags as the body of visitors.bin (malloc'd; the
 * caller wipes and frees it), or NULL before the first salt or when out of
 * memory. */
unsigned char *xr_exp_visitors_blob(const struct xr_exp *e, size_t *len);
/* Restores salt and tags from such a body (borrowed) if it is of day
 * today. 0; -ESTALE for another day's; -EBADMSG for a malformed body;
 * -ENOMEM. */
int xr_exp_visitors_restore(struct xr_exp *e, const unsigned char *b,
			    size_t len, int64_t today);

#endif

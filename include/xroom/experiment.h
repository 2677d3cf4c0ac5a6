/* xroom/experiment.h: cookie-less A/B experiments. A visitor is a keyed
 * BLAKE2b of (address, User-Agent, host) under a salt that lives one UTC day;
 * the variant follows from that key and the experiment's name by weight.
 * Visitors and conversions are counted once per visitor-day, per
 * experiment, variant, goal and day. Nothing here logs or stores an address
 * or a User-Agent; the only per-visitor state is a set of salted tags,
 * useless once the day's salt is wiped. The clock is always passed in. */
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

/* Persistence in the state directory:
 *  - experiments.json: every counter (kept across days and config changes);
 *  - visitors.bin: today's salt and dedup tags, mode 0600, shredded when
 *    the day rolls.
 * save: both files atomically. load: counters, and the salt and tags if
 * they are of day `today` (else that file is shredded). A torn or corrupt
 * file is moved aside (quarantined) and reported through err, never
 * loaded. Returns 0, or a negative errno for I/O trouble. */
int xr_exp_save(struct xr_exp *e, const char *dir);
int xr_exp_load(struct xr_exp *e, const char *dir, int64_t today, char *err,
		size_t errlen);
/* Shreds the salt file of a past day (called when the day rolls). */
int xr_exp_forget_salt_file(const char *dir);

/* Every counter as the body of experiments.json (GET
 * /api/experiments/counters): {"version":1,"counters":[[exp, variant, goal,
 * "YYYY-MM-DD", n], ...]} ("" goal: visitors). JSON text (malloc'd), or
 * NULL when out of memory. */
char *xr_exp_counters_json(const struct xr_exp *e);
/* Adds the counters of such a body (text, len borrowed) to e's: loading
 * several nodes' bodies sums them. 0, -EBADMSG when it is not a valid
 * counters body (e may then hold part of it), or -ENOMEM. */
int xr_exp_add_counters(struct xr_exp *e, const char *text, size_t len);

/* The admin report (GET /api/experiments) as JSON text (malloc'd). */
char *xr_exp_report(const struct xr_exp *e, const struct xr_config *cfg);

#endif

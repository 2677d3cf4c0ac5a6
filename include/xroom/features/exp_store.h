/* xroom/features/exp_store.h: the experiments' files in the state directory,
 * and their counters as JSON (GET /api/experiments/counters, --merge-report). */
#ifndef XROOM_EXP_STORE_H
#define XROOM_EXP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xr_exp;

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

/* The daemon's tick (wall_s: unix seconds; now_ms: monotonic). When the UTC
 * day changed, the counters are saved and the old salt and tags destroyed
 * (memory and disk) before a new salt exists. Saves when something changed
 * and SAVE_EVERY_MS passed since *last_save_ms, or when force_save; then
 * *last_save_ms = now_ms. Failures are logged. */
void xr_exp_tick(struct xr_exp *e, const char *dir, int64_t wall_s,
		 int64_t now_ms, int64_t *last_save_ms, bool force_save);

#endif

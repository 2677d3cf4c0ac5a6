/* xroom/features/merge.h: `xroomd --merge-report`. Daemons behind one proxy
 * share nothing, so each counts the visitors it served; this sums their
 * counter files and prints the report one node with all the traffic would
 * give. */
#ifndef XROOM_MERGE_H
#define XROOM_MERGE_H

#include <stddef.h>
#include <stdio.h>

struct xr_config;

/* Reads each of files[0..n) (borrowed paths): a body of GET
 * /api/experiments/counters, or a state directory's experiments.json with
 * its checked header line. Sums the counters and writes the
 * /api/experiments report to out, experiments of cfg (borrowed) first as
 * running, the others as stopped. Problems go to err, one line per file.
 * Returns the exit status: 0, or 2 when any file could not be used (then
 * nothing is written to out). */
int xr_merge_report(const char *const *files, size_t n,
		    const struct xr_config *cfg, FILE *out, FILE *err);

#endif

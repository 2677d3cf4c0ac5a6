/* xroom/features/exp_report.h: the experiments report of the admin API (GET
 * /api/experiments) and of --merge-report. */
#ifndef XROOM_EXP_REPORT_H
#define XROOM_EXP_REPORT_H

struct xr_config;
struct xr_exp;

/* The admin report (GET /api/experiments) as JSON text (malloc'd). */
char *xr_exp_report(const struct xr_exp *e, const struct xr_config *cfg);

#endif

/* exp_report.c: the admin report of the experiments (GET /api/experiments,
 * and --merge-report): per experiment and variant the visitors, each goal's
 * conversions with a Wilson interval and a z-test against the first
 * variant, the sample-ratio check, and the daily series. Built from the
 * engine's counters alone (xr_exp_each), as JSON. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xroom/config/config.h"
#include "xroom/features/exp_report.h"
#include "xroom/features/experiment.h"
#include "xroom/util/stats.h"

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
	xr_exp_day_name(xr_exp_current_day(e) == INT64_MIN ? 0 :
			xr_exp_current_day(e), dn);
	ex = json_pack("{s:s,s:s,s:o}", "unit", "visitor-day", "today", dn,
		       "experiments", list);
	text = ex ? json_dumps(ex, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
	json_decref(ex);
	json_decref(a.exps);
	return text;
}

/* exp_api.c: /api/session and /api/events. A session answer merges the
 * parameters of the visitor's variants (config order: a later experiment
 * wins a key) and carries the iceServers the client will need; an event
 * counts a goal for the experiments that list it. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xroom/config/config.h"
#include "xroom/features/apibody.h"
#include "xroom/features/exp_api.h"
#include "xroom/features/ice.h"

void xr_exp_api_session(struct xr_exp *e, const struct xr_config *c,
			const unsigned char key[XR_VISITOR_KEY_BYTES],
			int64_t now_s, struct xr_answer *out)
{
	int *vars = calloc(c->nexperiments + 1, sizeof(int));
	json_t *root = json_object(), *variants = json_object(),
	       *params = json_object(), *ice;
	char *ice_text = xr_ice_json(c, now_s, false), *body = NULL;

	if (!vars || !root || !variants || !params || !ice_text ||
	    xr_exp_session(e, c, key, vars))
		goto busy;
	for (size_t i = 0; i < c->nexperiments; i++) {
		const struct xr_variant *v;
		json_t *p;

		if (vars[i] < 0)
			continue;
		v = &c->experiments[i].variants[vars[i]];
		json_object_set_new(variants, c->experiments[i].name,
				    json_string(v->name));
		p = json_loads(v->params_json, 0, NULL);
		if (json_is_object(p))
			json_object_update(params, p);
		json_decref(p);
	}
	ice = json_loads(ice_text, 0, NULL);
	json_object_set_new(root, "variants", variants);
	json_object_set_new(root, "params", params);
	json_object_set_new(root, "iceServers", ice ? ice : json_array());
	variants = params = NULL;
	body = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17));
	if (!body)
		goto busy;
	xr_answer_text(out, 200, body);
	goto out;
busy:
	xr_answer_error(out, 503, "server-busy", "out of memory");
out:
	json_decref(variants);
	json_decref(params);
	json_decref(root);
	free(ice_text);
	free(vars);
}

void xr_exp_api_event(struct xr_exp *e, const struct xr_config *cfg,
		      const unsigned char key[XR_VISITOR_KEY_BYTES],
		      const char *body, size_t len, struct xr_answer *out)
{
	char goal[XR_API_BODY_MAX + 1];
	int n;

	if (xr_api_parse_event(body, len, goal, sizeof(goal))) {
		xr_answer_error(out, 400, "bad-request",
				"the body must be {\"event\": \"<goal>\"}");
		return;
	}
	n = xr_exp_event(e, cfg, key, goal);
	if (n < 0)
		xr_answer_error(out, 503, "server-busy", "out of memory");
	else if (n == 0)
		xr_answer_error(out, 404, "unknown-goal",
				"no running experiment has this goal");
	else
		out->status = 204; /* no body */
}

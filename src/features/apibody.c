/* apibody.c: the strict parsing of the HTTP API's event and kick bodies
 * (an object with exactly one string member, duplicates refused), without
 * lws. http.c and admin.c call these; so does tests/fuzz. */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "xroom/features/apibody.h"

/* The value of the one member `name` of a one-member object, when it is a
 * string; NULL otherwise. *root must be json_decref'd by the caller. */
static const char *only_string(const char *body, size_t len, const char *name,
			       json_t **root)
{
	json_error_t jerr;
	json_t *v;

	*root = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	v = json_object_get(*root, name);
	if (!json_is_object(*root) || !json_is_string(v) ||
	    json_object_size(*root) != 1)
		return NULL;
	return json_string_value(v);
}

int xr_api_parse_event(const char *body, size_t len, char *goal, size_t n)
{
	json_t *o;
	const char *v = only_string(body, len, "event", &o);
	size_t vl = v ? strlen(v) : 0;
	int rc = -EINVAL;

	if (v && vl >= n)
		rc = -E2BIG;
	else if (v) {
		memcpy(goal, v, vl + 1);
		rc = 0;
	}
	json_decref(o);
	return rc;
}

int xr_api_parse_kick(const char *body, size_t len,
		      char pid[XR_PEER_ID_LEN + 1])
{
	json_t *o;
	const char *v = only_string(body, len, "peer", &o);
	int rc = -EINVAL;

	if (v && strlen(v) != XR_PEER_ID_LEN)
		rc = -ENOENT;
	else if (v) {
		memcpy(pid, v, XR_PEER_ID_LEN + 1);
		rc = 0;
	}
	json_decref(o);
	return rc;
}

/* apibody.c: the request bodies of the HTTP API, without lws: bounded
 * gathering of a body's chunks, and the strict parsing of the event and
 * kick bodies (an object with exactly one string member, duplicates
 * refused). http.c and admin.c call these; so does tests/fuzz. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xroom/apibody.h"

int xr_api_body_append(struct xr_peer *p, const void *in, size_t len)
{
	if (!len)
		return 0; /* Content-Length: 0: p->rx may be NULL, no memcpy */
	if (p->rx_len + len > XR_API_BODY_MAX) {
		p->rx_skip = 1;
		return 0;
	}
	if (p->rx_len + len > p->rx_cap) {
		unsigned char *nb = realloc(p->rx, XR_API_BODY_MAX);

		if (!nb)
			return -ENOMEM;
		p->rx = nb;
		p->rx_cap = XR_API_BODY_MAX;
	}
	memcpy(p->rx + p->rx_len, in, len);
	p->rx_len += (uint32_t)len;
	return 0;
}

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

/* xroom/transport/http_body.h: one HTTP request whose body is being gathered
 * (POST, PUT or PATCH under /api/). http.c allocates it when such a request
 * starts and frees it when the request is answered or its connection goes;
 * the gathering itself is pure (no lws), so the fuzzer drives exactly what
 * http.c runs. */
#ifndef XROOM_HTTP_BODY_H
#define XROOM_HTTP_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xroom/features/apibody.h"
#include "xroom/util/rxbuf.h"

struct xr_http_req {
	struct xr_rxbuf body;   /* what has arrived, at most XR_API_BODY_MAX */
	int64_t deadline_ms;    /* monotonic: the whole body by then */
	bool too_large;         /* more came than the cap: answer 413 */
};

/* Appends one chunk of the body. Past XR_API_BODY_MAX nothing more is kept
 * and r->too_large is set. Returns 0, or -ENOMEM. */
int xr_http_body_append(struct xr_http_req *r, const void *in, size_t len);
/* Frees the body and r itself (NULL is ignored). */
void xr_http_req_free(struct xr_http_req *r);

#endif

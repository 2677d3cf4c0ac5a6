/* http_body.c: a request body gathered from its chunks under the API's
 * size cap. Over the cap the request is only marked, so that http.c can
 * still answer 413 once lws has read the rest. */
#include <stdlib.h>

#include "xroom/transport/http_body.h"

int xr_http_body_append(struct xr_http_req *r, const void *in, size_t len)
{
	if (r->body.len + len > XR_API_BODY_MAX) {
		r->too_large = true;
		return 0;
	}
	return xr_rxbuf_append(&r->body, in, len, XR_API_BODY_MAX);
}

void xr_http_req_free(struct xr_http_req *r)
{
	if (!r)
		return;
	xr_rxbuf_reset(&r->body);
	free(r);
}

/* xroom/transport/visitor.h: the A/B visitor key of an HTTP request. The
 * client's address (the last X-Forwarded-For entry when the TCP peer is a
 * proxy on this machine), its User-Agent and the Host are read into stack
 * buffers, hashed under the day's salt (experiment.h) and wiped: they go
 * nowhere else. */
#ifndef XROOM_VISITOR_H
#define XROOM_VISITOR_H

#include <libwebsockets.h>

#include "xroom/features/experiment.h"

void xr_visitor_key(struct lws *wsi, const struct xr_exp *e,
		    unsigned char key[XR_VISITOR_KEY_BYTES]);

#endif

/* xroom/util/rxbuf.h: a bounded byte buffer that gathers one thing from the
 * pieces the transport receives: a fragmented WebSocket message (ws.c) or
 * an HTTP request body (http_body.c). Empty, it holds no memory. */
#ifndef XROOM_RXBUF_H
#define XROOM_RXBUF_H

#include <stddef.h>
#include <stdint.h>

struct xr_rxbuf {
	unsigned char *p; /* NULL while empty; owned by the buffer */
	uint32_t len, cap;
};

/* Appends n bytes of in, growing the buffer (4 KiB first, then doubling,
 * never past max). The caller keeps len + n <= max. Returns 0, or -ENOMEM
 * (nothing is appended). */
int xr_rxbuf_append(struct xr_rxbuf *b, const void *in, size_t n, size_t max);
/* Frees the bytes and leaves b empty. */
void xr_rxbuf_reset(struct xr_rxbuf *b);

#endif

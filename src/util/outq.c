/* outq.c: per-peer queue of shared, ready-to-write message buffers. A ring of
 * pointers that grows by doubling; its byte total is checked against the
 * caller's cap on every push so a peer that cannot keep up is detected
 * before it can grow memory. */
#include <errno.h>
#include <stdlib.h>

#include "xroom/util/outq.h"

struct xr_buf *xr_buf_new(size_t len)
{
	struct xr_buf *b;

	if (len > UINT32_MAX - XR_PRE)
		return NULL;
	b = malloc(sizeof(*b) + XR_PRE + len);
	if (!b)
		return NULL;
	b->refs = 1;
	b->len = (uint32_t)len;
	return b;
}

void xr_buf_unref(struct xr_buf *b)
{
	if (b && --b->refs == 0)
		free(b);
}

void xr_outq_init(struct xr_outq *q)
{
	q->ring = NULL;
	q->cap = q->head = q->count = 0;
	q->bytes = 0;
}

static int grow(struct xr_outq *q)
{
	uint32_t ncap = q->cap ? q->cap * 2 : 4;
	struct xr_buf **r = malloc(ncap * sizeof(*r));

	if (!r || ncap < q->cap) {
		free(r);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < q->count; i++)
		r[i] = q->ring[(q->head + i) % q->cap];
	free(q->ring);
	q->ring = r;
	q->cap = ncap;
	q->head = 0;
	return 0;
}

int xr_outq_push(struct xr_outq *q, struct xr_buf *b, size_t limit)
{
	/* An empty queue takes any one message: a peer is "not keeping up"
	 * only when unsent bytes pile up behind one another. */
	if (q->count && q->bytes + b->len > limit)
		return -ENOBUFS;
	if (q->count == q->cap) {
		int rc = grow(q);
		if (rc)
			return rc;
	}
	q->ring[(q->head + q->count) % q->cap] = b;
	q->count++;
	q->bytes += b->len;
	b->refs++;
	return 0;
}

struct xr_buf *xr_outq_peek(const struct xr_outq *q)
{
	return q->count ? q->ring[q->head] : NULL;
}

void xr_outq_pop(struct xr_outq *q)
{
	struct xr_buf *b;

	if (!q->count)
		return;
	b = q->ring[q->head];
	q->head = (q->head + 1) % q->cap;
	q->count--;
	q->bytes -= b->len;
	xr_buf_unref(b);
	if (!q->count && q->cap > 16) { /* give back a ring a burst grew */
		free(q->ring);
		q->ring = NULL;
		q->cap = q->head = 0;
	}
}

void xr_outq_clear(struct xr_outq *q)
{
	while (q->count)
		xr_outq_pop(q);
	free(q->ring);
	xr_outq_init(q);
}

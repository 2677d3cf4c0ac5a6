/* xroom/util/outq.h: reference-counted outgoing messages and the per-peer queue
 * of them. A message is serialised once into an xr_buf with XR_PRE bytes of
 * headroom (for lws's frame header) and shared by every queue it is in. */
#ifndef XROOM_OUTQ_H
#define XROOM_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#define XR_PRE 16 /* == LWS_PRE on Debian 12; ws.c asserts it */

struct xr_buf {
	uint32_t refs;
	uint32_t len;          /* payload bytes at data + XR_PRE */
	unsigned char data[];  /* XR_PRE headroom, then the payload */
};

/* Returns a buffer with room for len payload bytes, refs = 1, or NULL. */
struct xr_buf *xr_buf_new(size_t len);
static inline unsigned char *xr_buf_payload(struct xr_buf *b)
{
	return b->data + XR_PRE;
}
/* Drops one reference; frees at zero. NULL is ignored. */
void xr_buf_unref(struct xr_buf *b);

struct xr_outq {
	struct xr_buf **ring; /* allocated on first push */
	uint32_t cap, head, count;
	size_t bytes;         /* payload bytes queued */
};

void xr_outq_init(struct xr_outq *q);
/* Queues b, taking a new reference. Returns 0, -ENOBUFS when the queue is
 * not empty and its bytes would exceed limit (nothing is queued), or
 * -ENOMEM. An empty queue always takes one message. */
int xr_outq_push(struct xr_outq *q, struct xr_buf *b, size_t limit);
/* The oldest buffer (still owned by the queue), or NULL when empty. */
struct xr_buf *xr_outq_peek(const struct xr_outq *q);
/* Removes the oldest buffer and drops the queue's reference to it. */
void xr_outq_pop(struct xr_outq *q);
/* Drops everything and frees the ring. */
void xr_outq_clear(struct xr_outq *q);

#endif

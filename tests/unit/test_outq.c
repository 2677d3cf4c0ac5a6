/* test_outq.c: the shared message buffers and the per-peer queue: FIFO
 * order, reference counts, the byte cap (-ENOBUFS with nothing queued), ring
 * growth, wrap-around and the ring given back after a burst. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xroom/util/outq.h"

#define NBUF 64

struct fx {
	struct xr_outq q, q2;
	struct xr_buf *b[NBUF]; /* our own reference to each */
};

/* A buffer whose payload is "m<i>" padded to len bytes (len >= 4). */
static struct xr_buf *mk(unsigned i, size_t len)
{
	struct xr_buf *b = xr_buf_new(len);
	char tag[16];

	assert_non_null(b);
	memset(xr_buf_payload(b), '.', len);
	snprintf(tag, sizeof(tag), "m%u", i);
	memcpy(xr_buf_payload(b), tag, strlen(tag) < len ? strlen(tag) : len);
	return b;
}

static unsigned tag_of(struct xr_buf *b)
{
	const unsigned char *p = xr_buf_payload(b);
	unsigned v = 0;

	assert_int_equal(p[0], 'm');
	for (uint32_t i = 1; i < b->len && p[i] >= '0' && p[i] <= '9'; i++)
		v = v * 10 + (unsigned)(p[i] - '0');
	return v;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	xr_outq_init(&f->q);
	xr_outq_init(&f->q2);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	xr_outq_clear(&f->q);
	xr_outq_clear(&f->q2);
	for (int i = 0; i < NBUF; i++) {
		if (f->b[i]) {
			/* everything but our own reference must be gone */
			if (f->b[i]->refs != 1)
				return -1;
			xr_buf_unref(f->b[i]);
		}
	}
	free(f);
	return 0;
}

static void buf_new_basics(void **state)
{
	struct xr_buf *b = xr_buf_new(10), *z = xr_buf_new(0);

	(void)state;
	assert_non_null(b);
	assert_int_equal(b->refs, 1);
	assert_int_equal(b->len, 10);
	assert_ptr_equal(xr_buf_payload(b), b->data + XR_PRE);
	memset(xr_buf_payload(b), 'x', 10); /* writable to its end (ASan) */
	memset(b->data, 0, XR_PRE);         /* and the headroom too */
	assert_non_null(z);
	assert_int_equal(z->len, 0);
	assert_null(xr_buf_new((size_t)UINT32_MAX));
	assert_null(xr_buf_new((size_t)UINT32_MAX - XR_PRE + 1));
	xr_buf_unref(b);
	xr_buf_unref(z);
	xr_buf_unref(NULL); /* ignored */
}

static void empty_queue(void **state)
{
	struct fx *f = *state;

	assert_null(xr_outq_peek(&f->q));
	xr_outq_pop(&f->q); /* no-op */
	assert_int_equal(f->q.count, 0);
	assert_int_equal(f->q.bytes, 0);
	assert_null(f->q.ring); /* nothing allocated before the first push */
	xr_outq_clear(&f->q);
	assert_null(f->q.ring);
}

static void push_peek_pop_fifo(void **state)
{
	struct fx *f = *state;

	for (unsigned i = 0; i < 3; i++) {
		f->b[i] = mk(i, 10 + i);
		assert_int_equal(xr_outq_push(&f->q, f->b[i], 1000), 0);
		assert_int_equal(f->b[i]->refs, 2);
	}
	assert_int_equal(f->q.count, 3);
	assert_int_equal(f->q.bytes, 10 + 11 + 12);
	for (unsigned i = 0; i < 3; i++) {
		struct xr_buf *b = xr_outq_peek(&f->q);
		assert_ptr_equal(b, f->b[i]);
		assert_int_equal(tag_of(b), i);
		/* peek does not take or drop a reference */
		assert_ptr_equal(xr_outq_peek(&f->q), b);
		assert_int_equal(b->refs, 2);
		xr_outq_pop(&f->q);
		assert_int_equal(f->b[i]->refs, 1);
	}
	assert_null(xr_outq_peek(&f->q));
	assert_int_equal(f->q.bytes, 0);
}

static void shared_buffer_refcounts(void **state)
{
	struct fx *f = *state;

	f->b[0] = mk(0, 8);
	assert_int_equal(xr_outq_push(&f->q, f->b[0], 100), 0);
	assert_int_equal(xr_outq_push(&f->q2, f->b[0], 100), 0);
	assert_int_equal(xr_outq_push(&f->q2, f->b[0], 100), 0);
	assert_int_equal(f->b[0]->refs, 4);
	xr_outq_clear(&f->q2);
	assert_int_equal(f->b[0]->refs, 2);
	assert_int_equal(f->q2.count, 0);
	assert_int_equal(f->q2.bytes, 0);
	assert_null(f->q2.ring);
	xr_outq_pop(&f->q);
	assert_int_equal(f->b[0]->refs, 1);
}

static void byte_cap(void **state)
{
	struct fx *f = *state;

	f->b[0] = mk(0, 60);
	f->b[1] = mk(1, 40);
	f->b[2] = mk(2, 1);
	/* exactly at the cap is accepted */
	assert_int_equal(xr_outq_push(&f->q, f->b[0], 100), 0);
	assert_int_equal(xr_outq_push(&f->q, f->b[1], 100), 0);
	assert_int_equal(f->q.bytes, 100);
	/* one byte over: refused, and nothing changed */
	assert_int_equal(xr_outq_push(&f->q, f->b[2], 100), -ENOBUFS);
	assert_int_equal(f->q.count, 2);
	assert_int_equal(f->q.bytes, 100);
	assert_int_equal(f->b[2]->refs, 1);
	/* after a pop there is room again */
	xr_outq_pop(&f->q);
	assert_int_equal(f->q.bytes, 40);
	assert_int_equal(xr_outq_push(&f->q, f->b[2], 100), 0);
	assert_int_equal(f->q.bytes, 41);
}

static void empty_queue_takes_any_one(void **state)
{
	struct fx *f = *state;

	/* a peer is behind only when bytes pile up: an empty queue takes one
	 * message of any size, and nothing after it until it is sent */
	f->b[0] = mk(0, 60);
	f->b[1] = mk(1, 1);
	assert_int_equal(xr_outq_push(&f->q, f->b[0], 10), 0);
	assert_int_equal(f->q.bytes, 60);
	assert_int_equal(xr_outq_push(&f->q, f->b[1], 10), -ENOBUFS);
	assert_int_equal(f->q.count, 1);
	assert_int_equal(f->b[1]->refs, 1);
	xr_outq_pop(&f->q);
	assert_int_equal(xr_outq_push(&f->q, f->b[1], 10), 0);
	/* with a cap of 0 it is one message at a time */
	assert_int_equal(xr_outq_push(&f->q, f->b[0], 0), -ENOBUFS);
	xr_outq_pop(&f->q);
	assert_int_equal(xr_outq_push(&f->q, f->b[0], 0), 0);
	assert_ptr_equal(xr_outq_peek(&f->q), f->b[0]);
}

static void ring_growth_keeps_order(void **state)
{
	struct fx *f = *state;

	for (unsigned i = 0; i < NBUF; i++) {
		f->b[i] = mk(i, 5);
		assert_int_equal(xr_outq_push(&f->q, f->b[i], (size_t)-1), 0);
		assert_true(f->q.cap >= f->q.count);
	}
	assert_int_equal(f->q.count, NBUF);
	assert_true(f->q.cap >= NBUF);
	assert_int_equal(f->q.cap & (f->q.cap - 1), 0); /* doubling */
	assert_int_equal(f->q.bytes, 5 * NBUF);
	for (unsigned i = 0; i < NBUF; i++) {
		assert_int_equal(tag_of(xr_outq_peek(&f->q)), i);
		xr_outq_pop(&f->q);
	}
	/* a ring that grew past 16 is given back once empty */
	assert_int_equal(f->q.count, 0);
	assert_null(f->q.ring);
	assert_int_equal(f->q.cap, 0);
	/* and the queue works again from scratch */
	assert_int_equal(xr_outq_push(&f->q, f->b[0], 100), 0);
	assert_ptr_equal(xr_outq_peek(&f->q), f->b[0]);
}

static void small_ring_is_kept(void **state)
{
	struct fx *f = *state;
	struct xr_buf **ring;

	f->b[0] = mk(0, 5);
	assert_int_equal(xr_outq_push(&f->q, f->b[0], 100), 0);
	ring = f->q.ring;
	assert_non_null(ring);
	xr_outq_pop(&f->q);
	assert_ptr_equal(f->q.ring, ring); /* no churn for a small ring */
	assert_int_equal(xr_outq_push(&f->q, f->b[0], 100), 0);
	assert_ptr_equal(xr_outq_peek(&f->q), f->b[0]);
}

static void wrap_around(void **state)
{
	struct fx *f = *state;
	unsigned next = 0, expect = 0;

	/* Fill the first ring (4), pop two, push two: the tail wraps to the
	 * start of the ring. Then push one more: growth must unwrap in order. */
	for (; next < 4; next++) {
		f->b[next] = mk(next, 3);
		assert_int_equal(xr_outq_push(&f->q, f->b[next], 1000), 0);
	}
	assert_int_equal(f->q.cap, 4);
	for (int i = 0; i < 2; i++, expect++) {
		assert_int_equal(tag_of(xr_outq_peek(&f->q)), expect);
		xr_outq_pop(&f->q);
	}
	for (; next < 6; next++) {
		f->b[next] = mk(next, 3);
		assert_int_equal(xr_outq_push(&f->q, f->b[next], 1000), 0);
	}
	assert_int_equal(f->q.cap, 4);   /* still the first ring ... */
	assert_int_equal(f->q.head, 2);  /* ... and wrapped */
	assert_ptr_equal(f->q.ring[0], f->b[4]);
	assert_ptr_equal(f->q.ring[1], f->b[5]);
	f->b[next] = mk(next, 3);
	assert_int_equal(xr_outq_push(&f->q, f->b[next], 1000), 0);
	next++;
	assert_int_equal(f->q.cap, 8);
	assert_int_equal(f->q.count, 5);
	/* steady churn across many wraps keeps the order too */
	for (int round = 0; round < 40; round++) {
		assert_int_equal(tag_of(xr_outq_peek(&f->q)), expect);
		xr_outq_pop(&f->q);
		expect++;
		if (next < NBUF) {
			f->b[next] = mk(next, 3);
			assert_int_equal(xr_outq_push(&f->q, f->b[next], 1000), 0);
			next++;
		}
		assert_int_equal(f->q.bytes, 3 * f->q.count);
	}
	assert_int_equal(f->q.cap, 8); /* a steady queue of 5 needs no growth */
	while (f->q.count) {
		assert_int_equal(tag_of(xr_outq_peek(&f->q)), expect);
		xr_outq_pop(&f->q);
		expect++;
	}
	assert_int_equal(expect, next);
}

static void clear_drops_every_reference(void **state)
{
	struct fx *f = *state;

	for (unsigned i = 0; i < 20; i++) {
		f->b[i] = mk(i, 7);
		assert_int_equal(xr_outq_push(&f->q, f->b[i], 1000), 0);
	}
	xr_outq_pop(&f->q);
	xr_outq_clear(&f->q);
	assert_int_equal(f->q.count, 0);
	assert_int_equal(f->q.bytes, 0);
	assert_int_equal(f->q.cap, 0);
	assert_null(f->q.ring);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(f->b[i]->refs, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(buf_new_basics, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(push_peek_pop_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(shared_buffer_refcounts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(byte_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_queue_takes_any_one, setup,
						teardown),
		cmocka_unit_test_setup_teardown(ring_growth_keeps_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(small_ring_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(wrap_around, setup, teardown),
		cmocka_unit_test_setup_teardown(clear_drops_every_reference, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

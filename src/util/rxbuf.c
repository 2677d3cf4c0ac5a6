/* rxbuf.c: the gathering buffer of the transport. It grows only when a
 * message really comes in pieces (whole messages never touch it), to a
 * bound its caller checks first; reset is the one way to empty it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xroom/util/rxbuf.h"

#define FIRST_CAP 4096

int xr_rxbuf_append(struct xr_rxbuf *b, const void *in, size_t n, size_t max)
{
	if (!n)
		return 0; /* nothing to copy: b->p may still be NULL */
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? (size_t)b->cap * 2 : FIRST_CAP;
		unsigned char *np;

		while (cap < b->len + n)
			cap *= 2;
		if (cap > max)
			cap = max;
		np = realloc(b->p, cap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = (uint32_t)cap;
	}
	memcpy(b->p + b->len, in, n);
	b->len += (uint32_t)n;
	return 0;
}

void xr_rxbuf_reset(struct xr_rxbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

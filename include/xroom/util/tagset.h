/* xroom/util/tagset.h: a set of 16-byte tags (open addressing, linear probing)
 * for the experiments' once-per-visitor-day counting. Tags are salted
 * hashes; the all-zero tag marks an empty slot, so a tag's first byte is
 * never 0. The memory is wiped whenever it is given back. */
#ifndef XROOM_TAGSET_H
#define XROOM_TAGSET_H

#include <stdbool.h>
#include <stddef.h>

#define XR_TAG_BYTES 16

struct xr_tagset {
	unsigned char (*slots)[XR_TAG_BYTES]; /* NULL while empty */
	size_t cap, n;                        /* cap: a power of two */
};

/* Adds t (t[0] != 0). Returns 1 when newly added, 0 when already there,
 * -ENOSPC when the set holds max tags already (nothing added), -ENOMEM. */
int xr_tagset_add(struct xr_tagset *s, const unsigned char t[XR_TAG_BYTES],
		  size_t max);
bool xr_tagset_has(const struct xr_tagset *s,
		   const unsigned char t[XR_TAG_BYTES]);
/* Copies every tag (s->n of them, in slot order) to out. */
void xr_tagset_copy(const struct xr_tagset *s, unsigned char *out);
/* Zeroes and frees everything; s is empty after. */
void xr_tagset_wipe(struct xr_tagset *s);

#endif

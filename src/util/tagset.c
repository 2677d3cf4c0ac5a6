/* tagset.c: the dedup set of the experiments: a hash set of salted 16-byte
 * tags kept at most half full. The slot is taken from the tag's second
 * half (the tags are hashes already); every table that is given back is
 * zeroed first, since the tags of a day must not outlive its salt. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "xroom/util/tagset.h"

static size_t slot_of(const unsigned char t[XR_TAG_BYTES], size_t cap)
{
	uint64_t h;

	memcpy(&h, t + 8, sizeof(h));
	return (size_t)(h & (cap - 1));
}

static void free_slots(unsigned char (*slots)[XR_TAG_BYTES], size_t cap)
{
	if (!slots)
		return;
	sodium_memzero(slots, cap * XR_TAG_BYTES);
	free(slots);
}

static int grow(struct xr_tagset *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 1024;
	unsigned char (*ns)[XR_TAG_BYTES] = calloc(ncap, XR_TAG_BYTES);

	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++) {
		size_t j;
		if (!s->slots[i][0])
			continue;
		for (j = slot_of(s->slots[i], ncap); ns[j][0]; j = (j + 1) & (ncap - 1))
			;
		memcpy(ns[j], s->slots[i], XR_TAG_BYTES);
	}
	free_slots(s->slots, s->cap);
	s->slots = ns;
	s->cap = ncap;
	return 0;
}

bool xr_tagset_has(const struct xr_tagset *s,
		   const unsigned char t[XR_TAG_BYTES])
{
	if (!s->cap)
		return false;
	for (size_t j = slot_of(t, s->cap); s->slots[j][0];
	     j = (j + 1) & (s->cap - 1))
		if (!memcmp(s->slots[j], t, XR_TAG_BYTES))
			return true;
	return false;
}

int xr_tagset_add(struct xr_tagset *s, const unsigned char t[XR_TAG_BYTES],
		  size_t max)
{
	size_t j;

	if (s->n * 2 >= s->cap) {
		if (s->n >= max)
			return xr_tagset_has(s, t) ? 0 : -ENOSPC;
		if (grow(s))
			return -ENOMEM;
	}
	for (j = slot_of(t, s->cap); s->slots[j][0]; j = (j + 1) & (s->cap - 1))
		if (!memcmp(s->slots[j], t, XR_TAG_BYTES))
			return 0;
	memcpy(s->slots[j], t, XR_TAG_BYTES);
	s->n++;
	return 1;
}

void xr_tagset_copy(const struct xr_tagset *s, unsigned char *out)
{
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i][0]) {
			memcpy(out, s->slots[i], XR_TAG_BYTES);
			out += XR_TAG_BYTES;
		}
}

void xr_tagset_wipe(struct xr_tagset *s)
{
	free_slots(s->slots, s->cap);
	s->slots = NULL;
	s->cap = s->n = 0;
}

/* map.c: intrusive chained hash map keyed by short strings. SipHash-2-4
 * (libsodium's crypto_shorthash) under a key drawn once per process. The
 * table doubles when the load passes 1 and never shrinks below 16 slots. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "xroom/util/map.h"

static unsigned char hkey[crypto_shorthash_KEYBYTES];
static int hkey_ready;

static uint64_t hash_of(const char *key, size_t klen)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t h;

	if (!hkey_ready) {
		randombytes_buf(hkey, sizeof(hkey));
		hkey_ready = 1;
	}
	crypto_shorthash(out, (const unsigned char *)key, klen, hkey);
	memcpy(&h, out, sizeof(h));
	return h;
}

void xr_map_init(struct xr_map *m)
{
	m->slots = NULL;
	m->nslots = 0;
	m->count = 0;
}

void xr_map_free(struct xr_map *m)
{
	free(m->slots);
	xr_map_init(m);
}

void xr_map_drain(struct xr_map *m, void (*fn)(struct xr_map_node *n))
{
	for (size_t i = 0; i < m->nslots; i++) {
		struct xr_map_node *e = m->slots[i], *next;

		for (; e; e = next) {
			next = e->next;
			fn(e);
		}
	}
	xr_map_free(m);
}

static int grow(struct xr_map *m)
{
	size_t n = m->nslots ? m->nslots * 2 : 16;
	struct xr_map_node **s = calloc(n, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < m->nslots; i++) {
		struct xr_map_node *e = m->slots[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = s[e->hash & (n - 1)];
			s[e->hash & (n - 1)] = e;
		}
	}
	free(m->slots);
	m->slots = s;
	m->nslots = n;
	return 0;
}

int xr_map_insert(struct xr_map *m, struct xr_map_node *n, const char *key,
		  size_t klen)
{
	if (m->count >= m->nslots) {
		int rc = grow(m);
		if (rc && !m->nslots)
			return rc; /* a full table still works, only slower */
	}
	n->key = key;
	n->klen = klen;
	n->hash = hash_of(key, klen);
	n->next = m->slots[n->hash & (m->nslots - 1)];
	m->slots[n->hash & (m->nslots - 1)] = n;
	m->count++;
	return 0;
}

struct xr_map_node *xr_map_find(const struct xr_map *m, const char *key,
				size_t klen)
{
	uint64_t h;

	if (!m->nslots)
		return NULL;
	h = hash_of(key, klen);
	for (struct xr_map_node *e = m->slots[h & (m->nslots - 1)]; e;
	     e = e->next)
		if (e->hash == h && e->klen == klen &&
		    !memcmp(e->key, key, klen))
			return e;
	return NULL;
}

void xr_map_remove(struct xr_map *m, struct xr_map_node *n)
{
	struct xr_map_node **pp = &m->slots[n->hash & (m->nslots - 1)];

	while (*pp && *pp != n)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = n->next;
		m->count--;
	}
	n->next = NULL;
}

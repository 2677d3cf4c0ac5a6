/* xroom/util/map.h: an intrusive hash map from short string keys to nodes that
 * live inside their owners (rooms, peers). Hashes are SipHash under a random
 * per-process key, so a client cannot choose ids that collide. */
#ifndef XROOM_MAP_H
#define XROOM_MAP_H

#include <stddef.h>
#include <stdint.h>

struct xr_map_node {
	struct xr_map_node *next;
	uint64_t hash;
	const char *key; /* borrowed: points into the owner */
	size_t klen;
};

struct xr_map {
	struct xr_map_node **slots;
	size_t nslots; /* power of two, or 0 before the first insert */
	size_t count;
};

/* Initialises an empty map (no allocation until the first insert). */
void xr_map_init(struct xr_map *m);
/* Frees the slot table; nodes belong to their owners and are not touched. */
void xr_map_free(struct xr_map *m);
/* Calls fn on every node (fn may free it), then frees the slot table. */
void xr_map_drain(struct xr_map *m, void (*fn)(struct xr_map_node *n));
/* Inserts n, whose key must stay valid while it is in the map and must not
 * already be present. Returns 0 or -ENOMEM. */
int xr_map_insert(struct xr_map *m, struct xr_map_node *n, const char *key,
		  size_t klen);
/* Returns the node with this key, or NULL. */
struct xr_map_node *xr_map_find(const struct xr_map *m, const char *key,
				size_t klen);
/* Removes n, which must be in the map. */
void xr_map_remove(struct xr_map *m, struct xr_map_node *n);

#define xr_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif

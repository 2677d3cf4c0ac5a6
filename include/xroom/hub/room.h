/* xroom/hub/room.h: rooms and peers (the hub). Join with verifier and capacity
 * checks, leave, relay to one peer, broadcast, the join deadline and the
 * counters behind /healthz and /metrics. Pure logic: the transport plugs in
 * through struct xr_hub_ops, so tests drive the hub without sockets. */
#ifndef XROOM_ROOM_H
#define XROOM_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xroom/codec/codes.h"
#include "xroom/codec/ids.h"
#include "xroom/util/map.h"
#include "xroom/util/outq.h"
#include "xroom/util/rate.h"

enum xr_peer_state {
	XR_PEER_WAITING = 0, /* connected, no join yet */
	XR_PEER_JOINED,
	XR_PEER_CLOSING,     /* flushing its queue, then close_code */
	XR_PEER_DEAD,        /* being torn down; nothing more is queued */
};

/* The hub's side of one connection. The transport embeds it in its own
 * connection struct (zeroed), owns that memory, and finds its connection
 * again from the peer (xr_container_of); the hub links the peer into its
 * lists between attach and detach. */
struct xr_peer {
	struct xr_map_node idnode;     /* hub->peers, while joined */
	struct xr_peer *prev, *next;   /* hub's waiting or joined list */
	struct xr_room *room;
	struct xr_outq q;
	struct xr_rate rate;
	int64_t opened_ms;             /* attach time: the join deadline */
	uint16_t close_code;
	uint8_t state;                 /* enum xr_peer_state */
	uint8_t room_id_len;
	uint8_t attached;              /* between attach and detach */
	uint8_t waiting;               /* on the hub's join-deadline list */
	char id[XR_PEER_ID_LEN + 1];
	char room_id[XR_ROOM_ID_MAX + 1];
};

/* Operator settings of one room (admin API); zero values mean unset. */
struct xr_room_conf {
	uint32_t max_peers;
	bool locked;
	int64_t expires_at;
	char title[4 * 80 + 1];        /* 80 characters of UTF-8 */
};

struct xr_room {
	struct xr_map_node node;       /* hub->rooms */
	struct xr_peer **peers;        /* in join order */
	uint32_t npeers, cap;
	int64_t created_at;            /* unix seconds */
	bool has_verifier;
	bool closing;                  /* being closed by the operator */
	unsigned char verifier[32];    /* keyed hash of auth, never auth */
	char id[XR_ROOM_ID_MAX + 1];
	uint8_t id_len;
};

struct xr_hub_limits {
	uint32_t max_peers, max_rooms, max_connections;
	uint32_t messages_per_second, message_burst;
	size_t max_message_bytes, max_queued_bytes;
	uint32_t join_timeout_ms;
};

/* How the hub reaches the transport and the daemon. Every callback gets
 * ctx as its first argument. */
struct xr_hub_ops {
	/* p has bytes to write or is closing: ask for a writable callback. */
	void (*wake)(void *ctx, struct xr_peer *p);
	/* Close p now with code, without flushing (p is XR_PEER_DEAD). */
	void (*kill)(void *ctx, struct xr_peer *p, uint16_t code);
	/* The iceServers JSON array for a welcome (malloc'd; NULL = "[]"). */
	char *(*ice_json)(void *ctx);
	/* Operator config of a room, or NULL (optional). */
	const struct xr_room_conf *(*room_conf)(void *ctx, const char *id);
	/* Wall clock in unix seconds (optional; time() when NULL). */
	int64_t (*now_s)(void *ctx);
	void *ctx;
};

struct xr_hub_stats {
	uint64_t relayed, relayed_bytes;
	uint64_t errors[XR_E__COUNT];
};

struct xr_hub {
	struct xr_hub_limits lim;
	struct xr_hub_ops ops;
	struct xr_map rooms, peers;
	struct xr_peer *wait_head, *wait_tail; /* FIFO by opened_ms */
	struct xr_peer *joined;                /* everyone else attached */
	uint32_t nconns, npeers;
	struct xr_hub_stats stats;
	unsigned char vkey[32];                /* verifier hashing key */
};

/* Returns a hub with these limits and ops (both copied), or NULL. */
struct xr_hub *xr_hub_new(const struct xr_hub_limits *lim,
			  const struct xr_hub_ops *ops);
/* Frees the hub; peers must all be detached (or are simply forgotten). */
void xr_hub_free(struct xr_hub *hub);

/* A new connection for room_id (already validated). Returns XR_OK, or
 * XR_E_SERVER_BUSY when max_connections is reached: the peer is attached
 * either way and the caller closes it through xr_hub_close. */
enum xr_err xr_hub_attach(struct xr_hub *hub, struct xr_peer *p,
			  const char *room_id, size_t room_id_len,
			  int64_t now_ms);
/* The transport closed p: leaves its room (peer-left to the others),
 * unlinks it and frees its queue. Idempotent. */
void xr_hub_detach(struct xr_hub *hub, struct xr_peer *p);

/* Joins p's room with auth (NULL/0 = none). On XR_OK the welcome and the
 * peer-joined messages are queued. */
enum xr_err xr_hub_join(struct xr_hub *hub, struct xr_peer *p,
			const char *auth, size_t auth_len);
/* Relays data (JSON text) from p to the peer of its room named to. */
enum xr_err xr_hub_relay(struct xr_hub *hub, struct xr_peer *from,
			 const char *to, size_t to_len, const char *data,
			 size_t data_len, size_t wire_len);
/* Queues b for p (takes its own reference). A peer over max_queued_bytes
 * is killed with 1008. Returns 0 or a negative errno. */
int xr_hub_send(struct xr_hub *hub, struct xr_peer *p, struct xr_buf *b);
/* Queues an error message for p and counts it. */
void xr_hub_send_error(struct xr_hub *hub, struct xr_peer *p, enum xr_err e);
/* The contract's answer to error e: the error message, then the close code
 * that goes with it (xr_err_close), if any. */
void xr_hub_fail(struct xr_hub *hub, struct xr_peer *p, enum xr_err e);
/* Leaves the room now, then closes with code once the queue is flushed. */
void xr_hub_close(struct xr_hub *hub, struct xr_peer *p, uint16_t code);
/* Closes waiting connections whose join deadline passed (1008). */
void xr_hub_tick(struct xr_hub *hub, int64_t now_ms);
/* Closes every connection with code (shutdown). */
void xr_hub_close_all(struct xr_hub *hub, uint16_t code);
/* Closes every peer of room id with error e and code; returns how many. */
unsigned xr_hub_close_room(struct xr_hub *hub, const char *id, enum xr_err e,
			   uint16_t code);
/* Sends `kicked` to peer_id of room_id and closes it (1000). Returns 0, or
 * -ENOENT when no such peer is in that room. */
int xr_hub_kick(struct xr_hub *hub, const char *room_id, const char *peer_id);
/* Finds a live room, or NULL. */
struct xr_room *xr_hub_room(struct xr_hub *hub, const char *id);

#endif

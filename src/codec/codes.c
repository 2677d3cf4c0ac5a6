/* codes.c: the error codes of the wire contract as one table: each code's
 * stable name, the WebSocket close code that follows it (0: the socket stays
 * open) and the human message sent with it. */
#include "xroom/codec/codes.h"

static const struct {
	const char *name;
	uint16_t close;
	const char *text;
} errs[XR_E__COUNT] = {
	[XR_OK] = { "ok", 0, "ok" },
	[XR_E_BAD_JSON] = { "bad-json", 0,
		"the message is not a JSON object within the limits" },
	[XR_E_BAD_MESSAGE] = { "bad-message", 0,
		"unknown type, or a member missing or of the wrong kind" },
	[XR_E_TOO_LARGE] = { "too-large", XR_CLOSE_TOO_BIG,
		"the message exceeds the size limit" },
	[XR_E_RATE_LIMITED] = { "rate-limited", 0,
		"too many messages: some were dropped" },
	[XR_E_BAD_ROOM] = { "bad-room", XR_CLOSE_POLICY,
		"the room id is not valid" },
	[XR_E_ROOM_FULL] = { "room-full", XR_CLOSE_POLICY, "the room is full" },
	[XR_E_FORBIDDEN] = { "forbidden", XR_CLOSE_POLICY,
		"this room needs another key" },
	[XR_E_NOT_JOINED] = { "not-joined", 0, "join the room first" },
	[XR_E_ALREADY_JOINED] = { "already-joined", 0,
		"this connection has joined already" },
	[XR_E_UNKNOWN_PEER] = { "unknown-peer", 0,
		"no other peer of this room has that id" },
	[XR_E_SERVER_BUSY] = { "server-busy", XR_CLOSE_TRY_LATER,
		"the server is at capacity, try again later" },
	[XR_E_ROOM_LOCKED] = { "room-locked", XR_CLOSE_POLICY,
		"the room is locked" },
	[XR_E_ROOM_CLOSED] = { "room-closed", XR_CLOSE_NORMAL,
		"the room was closed by the operator" },
	[XR_E_KICKED] = { "kicked", XR_CLOSE_NORMAL,
		"the operator removed you from the room" },
	[XR_E_ROOM_EXPIRED] = { "room-expired", XR_CLOSE_POLICY,
		"the room has expired" },
};

const char *xr_err_name(enum xr_err e)
{
	return (unsigned)e < XR_E__COUNT ? errs[e].name : "internal";
}

uint16_t xr_err_close(enum xr_err e)
{
	return (unsigned)e < XR_E__COUNT ? errs[e].close : 0;
}

const char *xr_err_text(enum xr_err e)
{
	return (unsigned)e < XR_E__COUNT ? errs[e].text : "internal error";
}

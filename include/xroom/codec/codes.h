/* xroom/codec/codes.h: the error codes of the wire contract, their stable names
 * and the WebSocket close code each one carries (0: the socket stays open). */
#ifndef XROOM_CODES_H
#define XROOM_CODES_H

#include <stdint.h>

enum xr_err {
	XR_OK = 0,
	XR_E_BAD_JSON,
	XR_E_BAD_MESSAGE,
	XR_E_TOO_LARGE,
	XR_E_RATE_LIMITED,
	XR_E_BAD_ROOM,
	XR_E_ROOM_FULL,
	XR_E_FORBIDDEN,
	XR_E_NOT_JOINED,
	XR_E_ALREADY_JOINED,
	XR_E_UNKNOWN_PEER,
	XR_E_SERVER_BUSY,
	XR_E_ROOM_LOCKED,
	XR_E_ROOM_CLOSED,
	XR_E_KICKED,
	XR_E_ROOM_EXPIRED,
	XR_E__COUNT
};

/* WebSocket close codes used by the contract. */
enum {
	XR_CLOSE_NORMAL = 1000,
	XR_CLOSE_GOING_AWAY = 1001,
	XR_CLOSE_UNSUPPORTED = 1003,
	XR_CLOSE_BAD_PAYLOAD = 1007,
	XR_CLOSE_POLICY = 1008,
	XR_CLOSE_TOO_BIG = 1009,
	XR_CLOSE_TRY_LATER = 1013,
};

/* "bad-json", "room-full", ...; "ok" for XR_OK. Never NULL. */
const char *xr_err_name(enum xr_err e);
/* The close code that follows this error, or 0 when the socket stays open. */
uint16_t xr_err_close(enum xr_err e);
/* A short human message for the error (English). Never NULL. */
const char *xr_err_text(enum xr_err e);

#endif

/* ids.c: the one rule for the names of the wire contract: a room id (taken
 * from the path) and a peer id (made by the hub, checked when a client names
 * one) are base64url characters, 1 to 64 of them and exactly 16. */
#include "xroom/codec/ids.h"

static bool b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool xr_room_id_valid(const char *s, size_t len)
{
	if (len < 1 || len > XR_ROOM_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!b64url_char(s[i]))
			return false;
	return true;
}

bool xr_peer_id_valid(const char *s, size_t len)
{
	return len == XR_PEER_ID_LEN && xr_room_id_valid(s, len);
}

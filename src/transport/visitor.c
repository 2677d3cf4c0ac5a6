/* visitor.c: who a request is, for A/B counting only: a keyed hash of
 * address, User-Agent and Host under the day's salt. X-Forwarded-For is
 * trusted only from a loopback peer (our own proxy), and only its last
 * entry. Every buffer that held an address or a User-Agent is wiped. */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <sodium.h>

#include "xroom/transport/visitor.h"

/* True for 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8. */
static bool is_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) != 1)
		return false;
	return IN6_IS_ADDR_LOOPBACK(&a6) ||
	       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

/* Behind a reverse proxy on this machine (the TCP peer is loopback), the
 * client is the last entry of X-Forwarded-For: the one our proxy appended
 * (entries before it are whatever the client claimed). Replaces addr with
 * it when it is shaped like an address. A peer that is not loopback is
 * never trusted with this header. */
static void forwarded_client(struct lws *wsi, char *addr, size_t n)
{
	char xff[4096];
	int len = lws_hdr_copy(wsi, xff, sizeof(xff), WSI_TOKEN_X_FORWARDED_FOR);
	char *last, *end;

	if (len <= 0 || !is_loopback(addr))
		goto out;
	last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	while (*last == ' ' || *last == '\t')
		last++;
	end = last + strlen(last);
	while (end > last && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (end == last || (size_t)(end - last) >= n ||
	    strspn(last, "0123456789abcdefABCDEF:.") != (size_t)(end - last))
		goto out;
	memcpy(addr, last, (size_t)(end - last) + 1);
out:
	sodium_memzero(xff, sizeof(xff));
}

void xr_visitor_key(struct lws *wsi, const struct xr_exp *e,
		    unsigned char key[XR_VISITOR_KEY_BYTES])
{
	char addr[64] = "", ua[512] = "", host[256] = "";

	lws_get_peer_simple(wsi, addr, sizeof(addr));
	forwarded_client(wsi, addr, sizeof(addr));
	lws_hdr_copy(wsi, ua, sizeof(ua), WSI_TOKEN_HTTP_USER_AGENT);
	lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST);
	xr_exp_visitor(e, addr, ua, host, key);
	sodium_memzero(addr, sizeof(addr));
	sodium_memzero(ua, sizeof(ua));
}

/* ice.c: builds the iceServers array from the config. TURN credentials
 * follow coturn's REST scheme: username "<expiry>:xroom", credential
 * base64(HMAC-SHA1(secret, username)), via OpenSSL. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "xroom/config/config.h"
#include "xroom/features/ice.h"

int xr_ice_turn_credential(const char *secret, const char *username,
			   char *out, size_t outlen)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (!HMAC(EVP_sha1(), secret, (int)strlen(secret),
		  (const unsigned char *)username, strlen(username), mac,
		  &maclen) || outlen < sodium_base64_ENCODED_LEN(maclen,
					sodium_base64_VARIANT_ORIGINAL))
		return -EIO;
	sodium_bin2base64(out, outlen, mac, maclen,
			  sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

static json_t *urls_of(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

char *xr_ice_json(const struct xr_config *c, int64_t now, bool turn)
{
	json_t *arr = json_array(), *s;
	char *out = NULL;

	if (!arr)
		return NULL;
	if (c->nstun) {
		s = json_object();
		json_object_set_new(s, "urls", urls_of(c->stun, c->nstun));
		json_array_append_new(arr, s);
	}
	if (turn && c->turn_secret && c->nturn) {
		char user[64], cred[64];

		snprintf(user, sizeof(user), "%lld:xroom",
			 (long long)(now + c->turn_ttl_s));
		if (!xr_ice_turn_credential(c->turn_secret, user, cred,
					    sizeof(cred))) {
			s = json_object();
			json_object_set_new(s, "urls",
					    urls_of(c->turn_urls, c->nturn));
			json_object_set_new(s, "username", json_string(user));
			json_object_set_new(s, "credential", json_string(cred));
			json_array_append_new(arr, s);
		}
		sodium_memzero(cred, sizeof(cred));
	}
	out = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return out;
}

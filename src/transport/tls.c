/* tls.c: OpenSSL checks of tls.cert and tls.key. Loads both the way the
 * server will (a PEM chain and a PEM key into an SSL_CTX) and asks OpenSSL
 * whether the key matches; reports the first problem in plain words. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "xroom/transport/tls.h"

static void why(char *err, size_t errlen, const char *what, const char *path)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s %s: %s", what, path,
		 buf[0] ? buf : "cannot be used");
	ERR_clear_error();
}

int xr_tls_check(const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	FILE *f;
	int rc = -1;

	for (int i = 0; i < 2; i++) {
		const char *p = i ? key : cert;
		f = fopen(p, "r");
		if (!f) {
			snprintf(err, errlen, "%s %s: %s", i ? "tls.key" : "tls.cert",
				 p, strerror(errno));
			return -1;
		}
		fclose(f);
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(err, errlen, "TLS: OpenSSL could not start");
		return -1;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		why(err, errlen, "tls.cert", cert);
	else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
			snprintf(err, errlen, "tls.key %s does not match the "
				 "certificate in tls.cert %s", key, cert);
		else
			why(err, errlen, "tls.key", key);
	}
	else if (SSL_CTX_check_private_key(ctx) != 1)
		snprintf(err, errlen, "tls.key %s does not match the certificate "
			 "in tls.cert %s", key, cert);
	else
		rc = 0;
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return rc;
}

/* xroom/transport/tls.h: checks of the TLS certificate and key before
 * libwebsockets is handed them, so a wrong path or a key that does not match
 * its certificate is a clear error (at start, and at SIGHUP before a reload). */
#ifndef XROOM_TLS_H
#define XROOM_TLS_H

#include <stddef.h>

/* Reads the PEM certificate chain and private key and checks they belong
 * together. Returns 0, or -1 with a sentence in err. */
int xr_tls_check(const char *cert, const char *key, char *err, size_t errlen);

#endif

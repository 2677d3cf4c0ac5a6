/* xroom/codec/jscan.h: a strict, allocation-free JSON validator for client
 * messages, the relay's fast path. It accepts exactly what the jansson path
 * accepts (RFC 8259; numbers an int64 or a double can hold; no duplicate
 * keys; no NUL in keys; no lone surrogates; valid UTF-8; bounded depth) and
 * locates the envelope's members. Where it cannot be sure cheaply (escaped
 * member names, objects with very many keys) it says so, and the caller
 * falls back to jansson. */
#ifndef XROOM_JSCAN_H
#define XROOM_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

enum xr_jscan_rc {
	XR_JSCAN_OK = 0,
	XR_JSCAN_INVALID, /* not a JSON object the contract accepts */
	XR_JSCAN_UNSURE,  /* valid as far as seen; decide with jansson */
};

struct xr_jspan {
	const char *p;  /* value text; for strings, between the quotes */
	size_t n;
	char kind;      /* 's' string, 'n' number, 'o' object, 'a' array,
			 * 't' true, 'f' false, 'z' null; 0 = absent */
	bool escaped;   /* a string that holds a backslash escape */
};

/* The top-level members the contract reads. */
struct xr_jtop {
	struct xr_jspan type, to, data, auth, id;
};

/* Validates buf as one JSON object nested at most max_depth deep and fills
 * top. Borrowed buffer; top's spans point into it. */
enum xr_jscan_rc xr_jscan_message(const char *buf, size_t len,
				  unsigned max_depth, struct xr_jtop *top);

/* Maximum nesting depth of arrays and objects in buf (any text, valid JSON
 * or not), counting only outside strings; stops early once limit is passed
 * (returns limit + 1). The guard to run before handing text to jansson,
 * which allows 2048 levels. */
unsigned xr_jscan_depth(const char *buf, size_t len, unsigned limit);

#endif

/* xroom/features/answer.h: what an HTTP API handler answers, without lws: a
 * status and a JSON body (or an error body {"error": code, "message": ...}).
 * The features (admin.c, exp_api.c) fill one; http.c writes it. */
#ifndef XROOM_ANSWER_H
#define XROOM_ANSWER_H

#include <stddef.h>

/* The request methods the API tells apart. */
enum xr_method {
	XR_METHOD_OTHER = 0,
	XR_METHOD_GET,
	XR_METHOD_HEAD,
	XR_METHOD_POST,
	XR_METHOD_PUT,
	XR_METHOD_PATCH,
	XR_METHOD_DELETE,
};

struct xr_answer {
	unsigned status; /* 0: nothing could be made (out of memory) */
	char *body;      /* JSON text, malloc'd and owned; NULL: empty body */
	size_t len;
};

struct json_t;

/* status with o as compact JSON (steals o; NULL o is out of memory); a 503
 * server-busy error when the text cannot be made. */
void xr_answer_json(struct xr_answer *a, unsigned status, struct json_t *o);
/* status with text (steals a malloc'd JSON text); NULL text: a 503
 * server-busy error ("out of memory"). */
void xr_answer_text(struct xr_answer *a, unsigned status, char *text);
/* status with the error body of code and message (both borrowed). */
void xr_answer_error(struct xr_answer *a, unsigned status, const char *code,
		     const char *message);
/* The error body {"error": code, "message": message} as compact JSON text
 * (malloc'd), or NULL when out of memory: the one shape of every JSON
 * error the daemon sends over HTTP. */
char *xr_answer_error_body(const char *code, const char *message);
/* Frees the body and empties a. */
void xr_answer_free(struct xr_answer *a);

#endif

/* answer.c: building API answers: a JSON body, or the one error shape,
 * with out of memory turned into 503 server-busy wherever a body was
 * wanted. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xroom/features/answer.h"

char *xr_answer_error_body(const char *code, const char *message)
{
	json_t *o = json_pack("{s:s,s:s}", "error", code, "message", message);
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return body;
}

void xr_answer_error(struct xr_answer *a, unsigned status, const char *code,
		     const char *message)
{
	a->body = xr_answer_error_body(code, message);
	a->len = a->body ? strlen(a->body) : 0;
	a->status = a->body ? status : 0;
}

void xr_answer_text(struct xr_answer *a, unsigned status, char *text)
{
	if (!text) {
		xr_answer_error(a, 503, "server-busy", "out of memory");
		return;
	}
	a->status = status;
	a->body = text;
	a->len = strlen(text);
}

void xr_answer_json(struct xr_answer *a, unsigned status, struct json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	xr_answer_text(a, status, text);
}

void xr_answer_free(struct xr_answer *a)
{
	free(a->body);
	a->body = NULL;
	a->len = 0;
}

/* http_reply.c: how every HTTP answer leaves the daemon. The security
 * headers ride on every response through the vhost header list; the CSP
 * and the resource policy differ for plugin files, so those go on each
 * answer instead (here, and in http_static.c for files). Errors on machine
 * routes are JSON; nothing here ever sets a cookie. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xroom/transport/http_reply.h"

/* lws adds these to every response it builds (not to the 101). Names carry
 * their colon, as lws expects. */
static const struct lws_protocol_vhost_options h_perm = {
	NULL, NULL, "permissions-policy:",
	"camera=(self), microphone=(self), display-capture=(self), "
	"geolocation=(), interest-cohort=()" };
static const struct lws_protocol_vhost_options h_coop = {
	&h_perm, NULL, "cross-origin-opener-policy:", "same-origin" };
static const struct lws_protocol_vhost_options h_nosniff = {
	&h_coop, NULL, "x-content-type-options:", "nosniff" };

const struct lws_protocol_vhost_options xr_http_headers[] = {
	{ &h_nosniff, NULL, "referrer-policy:", "no-referrer" },
};
/* With TLS: the same, and browsers told to use nothing else for 2 years. */
const struct lws_protocol_vhost_options xr_http_headers_tls[] = {
	{ xr_http_headers, NULL, "strict-transport-security:",
	  "max-age=63072000; includeSubDomains" },
};

int xr_http_write(struct lws *wsi, unsigned status, const char *type,
		  const char *body, size_t len, const char *extra_name,
		  const char *extra_value)
{
	unsigned char hdr[LWS_PRE + 2048], *start = hdr + LWS_PRE, *p = start,
		      *end = hdr + sizeof(hdr) - 1;
	unsigned char *buf;
	int rc = -1;

	if (lws_add_http_common_headers(wsi, status, type, len, &p, end))
		return -1;
	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
			(const unsigned char *)"no-store", 8, &p, end) ||
	    lws_add_http_header_by_name(wsi,
			(const unsigned char *)"content-security-policy:",
			(const unsigned char *)XR_HTTP_CSP,
			(int)strlen(XR_HTTP_CSP), &p, end) ||
	    lws_add_http_header_by_name(wsi,
			(const unsigned char *)"cross-origin-resource-policy:",
			(const unsigned char *)"same-origin", 11, &p, end))
		return -1;
	if (extra_name && lws_add_http_header_by_name(wsi,
			(const unsigned char *)extra_name,
			(const unsigned char *)extra_value,
			(int)strlen(extra_value), &p, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	if (!len)
		return 0;
	buf = malloc(LWS_PRE + len);
	if (!buf)
		return -1;
	memcpy(buf + LWS_PRE, body, len);
	if (lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL) == (int)len)
		rc = 0;
	free(buf);
	return rc;
}

int xr_http_done(struct lws *wsi, int rc)
{
	if (rc)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int xr_http_json_error(struct lws *wsi, unsigned status, const char *code,
		       const char *message)
{
	char *body = xr_answer_error_body(code, message);
	int rc = body ? xr_http_write(wsi, status, "application/json", body,
				      strlen(body), NULL, NULL) : -1;

	free(body);
	return rc;
}

int xr_http_fail(struct lws *wsi, unsigned status, const char *code,
		 const char *message)
{
	return xr_http_done(wsi, xr_http_json_error(wsi, status, code, message));
}

int xr_http_reply(struct lws *wsi, unsigned status, const char *body,
		  size_t len)
{
	return xr_http_done(wsi, xr_http_write(wsi, status, "application/json",
					       body, len, NULL, NULL));
}

int xr_http_answer(struct lws *wsi, struct xr_answer *a)
{
	int rc = a->status ? xr_http_reply(wsi, a->status,
					   a->body ? a->body : "", a->len) : -1;

	xr_answer_free(a);
	return rc;
}

int xr_http_fail_close(struct lws *wsi, unsigned status, const char *code,
		       const char *message)
{
	xr_http_json_error(wsi, status, code, message);
	return -1;
}

int xr_http_html_status(struct lws *wsi, unsigned status, const char *title,
			const char *text)
{
	char body[1024];
	int n = snprintf(body, sizeof(body),
			 "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
			 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
			 "<meta name=\"referrer\" content=\"no-referrer\">"
			 "<title>%s · xroom</title>"
			 "<link rel=\"icon\" href=\"/img/icon.svg\" type=\"image/svg+xml\">"
			 "<link rel=\"stylesheet\" href=\"/css/app.css\"></head>"
			 "<body class=\"start-page\"><main class=\"start prose\">"
			 "<h1>%s</h1><p>%s</p>"
			 "<p><a class=\"button primary\" href=\"/\">Start a new room</a></p>"
			 "<p class=\"muted\">Error %u</p></main></body></html>\n",
			 title, title, text, status);

	if (n < 0 || (size_t)n >= sizeof(body))
		return xr_http_done(wsi, -1);
	return xr_http_done(wsi, xr_http_write(wsi, status,
					       "text/html; charset=utf-8",
					       body, (size_t)n, NULL, NULL));
}

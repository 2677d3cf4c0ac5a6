/* jscan.c: strict single-pass JSON validation without allocation, for the
 * relay's hot path (see include/xroom/jscan.h for the exact acceptance
 * rules, which mirror jansson 2.14 with JSON_REJECT_DUPLICATES and
 * JSON_ALLOW_NUL). Recursion is bounded by the depth limit. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xroom/codec/jscan.h"

#define MAX_KEYS 32 /* per object, for the duplicate check; more: unsure */

struct sc {
	const char *p, *end;
	unsigned depth, max;
	bool unsure;
};

static void ws(struct sc *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
				 *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* One UTF-8 sequence starting at p (first byte >= 0x80): its length, or
 * 0 if invalid (overlong, surrogate, above U+10FFFF, truncated). */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], cp;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

static int string(struct sc *s, struct xr_jspan *out, bool key)
{
	const char *start = ++s->p; /* past the quote */
	bool esc = false;

	while (s->p < s->end) {
		unsigned char c = (unsigned char)*s->p;

		if (c == '"') {
			out->p = start;
			out->n = (size_t)(s->p - start);
			out->kind = 's';
			out->escaped = esc;
			s->p++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			unsigned cp, lo;

			esc = true;
			if (s->end - s->p < 2)
				return -1;
			c = (unsigned char)s->p[1];
			if (c != 'u') {
				if (!strchr("\"\\/bfnrt", c) || !c)
					return -1;
				s->p += 2;
				continue;
			}
			if (s->end - s->p < 6 || hex4(s->p + 2, &cp))
				return -1;
			s->p += 6;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1; /* a lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (s->end - s->p < 6 || s->p[0] != '\\' ||
				    s->p[1] != 'u' || hex4(s->p + 2, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					return -1;
				s->p += 6;
			}
			if (cp == 0 && key)
				return -1; /* jansson cannot hold NUL in a key */
			continue;
		}
		if (c >= 0x80) {
			size_t n = utf8_seq((const unsigned char *)s->p,
					    (const unsigned char *)s->end);
			if (!n)
				return -1;
			s->p += n;
			continue;
		}
		s->p++;
	}
	return -1;
}

static bool digit(char c) { return c >= '0' && c <= '9'; }

/* Does the integer text (optional '-', then digits without leading
 * zeros) fit in an int64? */
static bool fits_int64(const char *p, size_t n)
{
	bool neg = *p == '-';
	const char *lim = neg ? "9223372036854775808" : "9223372036854775807";

	if (neg) {
		p++;
		n--;
	}
	if (n != 19)
		return n < 19;
	return memcmp(p, lim, 19) <= 0;
}

static int number(struct sc *s, struct xr_jspan *out)
{
	const char *start = s->p;
	bool real = false, exp = false;

	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p >= s->end)
		return -1;
	if (*s->p == '0') {
		s->p++;
	} else if (*s->p >= '1' && *s->p <= '9') {
		while (s->p < s->end && digit(*s->p))
			s->p++;
	} else {
		return -1;
	}
	if (s->p < s->end && *s->p == '.') {
		real = true;
		s->p++;
		if (s->p >= s->end || !digit(*s->p))
			return -1;
		while (s->p < s->end && digit(*s->p))
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		real = exp = true;
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (s->p >= s->end || !digit(*s->p))
			return -1;
		while (s->p < s->end && digit(*s->p))
			s->p++;
	}
	out->p = start;
	out->n = (size_t)(s->p - start);
	out->kind = 'n';
	if (!real)
		return fits_int64(start, out->n) ? 0 : -1;
	{
		/* Without an exponent, a double overflows only past ~308
		 * digits; with one, ask strtod, as jansson does. */
		char buf[64], *copy = buf, *end;
		double v;
		int rc = 0;

		if (!exp && out->n < 300)
			return 0;
		if (out->n >= sizeof(buf)) {
			copy = malloc(out->n + 1);
			if (!copy) {
				s->unsure = true;
				return 0;
			}
		}
		memcpy(copy, start, out->n);
		copy[out->n] = '\0';
		errno = 0;
		v = strtod(copy, &end);
		if ((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE)
			rc = -1;
		if (copy != buf)
			free(copy);
		return rc;
	}
}

static int value(struct sc *s, struct xr_jspan *out, struct xr_jtop *top);

static int object(struct sc *s, struct xr_jspan *out, struct xr_jtop *top)
{
	struct xr_jspan keys[MAX_KEYS];
	const char *start = s->p;
	size_t nkeys = 0;

	if (++s->depth > s->max)
		return -1;
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		goto done;
	}
	for (;;) {
		struct xr_jspan k = { 0 }, v = { 0 }, *slot = NULL;

		ws(s);
		if (s->p >= s->end || *s->p != '"' || string(s, &k, true))
			return -1;
		if (k.escaped) {
			s->unsure = true; /* equality needs decoding */
		} else {
			for (size_t i = 0; i < nkeys && i < MAX_KEYS; i++)
				if (!keys[i].escaped && keys[i].n == k.n &&
				    !memcmp(keys[i].p, k.p, k.n))
					return -1; /* duplicate key */
		}
		if (nkeys < MAX_KEYS)
			keys[nkeys] = k;
		else
			s->unsure = true;
		nkeys++;
		if (top && !k.escaped) {
#define IS(name) (k.n == sizeof(name) - 1 && !memcmp(k.p, name, k.n))
			if (IS("type"))
				slot = &top->type;
			else if (IS("to"))
				slot = &top->to;
			else if (IS("data"))
				slot = &top->data;
			else if (IS("auth"))
				slot = &top->auth;
			else if (IS("id"))
				slot = &top->id;
#undef IS
		}
		ws(s);
		if (s->p >= s->end || *s->p != ':')
			return -1;
		s->p++;
		ws(s);
		if (value(s, &v, NULL))
			return -1;
		if (slot)
			*slot = v;
		ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			break;
		}
		return -1;
	}
done:
	s->depth--;
	if (out) {
		out->p = start;
		out->n = (size_t)(s->p - start);
		out->kind = 'o';
	}
	return 0;
}

static int array(struct sc *s, struct xr_jspan *out)
{
	const char *start = s->p;

	if (++s->depth > s->max)
		return -1;
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
	} else {
		for (;;) {
			struct xr_jspan v;

			ws(s);
			if (value(s, &v, NULL))
				return -1;
			ws(s);
			if (s->p < s->end && *s->p == ',') {
				s->p++;
				continue;
			}
			if (s->p < s->end && *s->p == ']') {
				s->p++;
				break;
			}
			return -1;
		}
	}
	s->depth--;
	out->p = start;
	out->n = (size_t)(s->p - start);
	out->kind = 'a';
	return 0;
}

static int literal(struct sc *s, const char *word, char kind,
		   struct xr_jspan *out)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
		return -1;
	out->p = s->p;
	out->n = n;
	out->kind = kind;
	s->p += n;
	return 0;
}

static int value(struct sc *s, struct xr_jspan *out, struct xr_jtop *top)
{
	memset(out, 0, sizeof(*out));
	if (s->p >= s->end)
		return -1;
	switch (*s->p) {
	case '{': return object(s, out, top);
	case '[': return array(s, out);
	case '"': return string(s, out, false);
	case 't': return literal(s, "true", 't', out);
	case 'f': return literal(s, "false", 'f', out);
	case 'n': return literal(s, "null", 'z', out);
	default: return number(s, out);
	}
}

enum xr_jscan_rc xr_jscan_message(const char *buf, size_t len,
				  unsigned max_depth, struct xr_jtop *top)
{
	struct sc s = { buf, buf + len, 0, max_depth, false };
	struct xr_jspan whole;

	memset(top, 0, sizeof(*top));
	ws(&s);
	if (s.p >= s.end || *s.p != '{')
		return XR_JSCAN_INVALID;
	if (object(&s, &whole, top))
		return XR_JSCAN_INVALID;
	ws(&s);
	if (s.p != s.end)
		return XR_JSCAN_INVALID;
	return s.unsure ? XR_JSCAN_UNSURE : XR_JSCAN_OK;
}

/* The one nesting-depth check of the daemon: every JSON text that reaches
 * jansson outside this validator (the fallback parser, the config file,
 * admin bodies) is measured here first. */
unsigned xr_jscan_depth(const char *buf, size_t len, unsigned limit)
{
	unsigned depth = 0, max = 0;
	bool in_str = false, esc = false;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max) {
				max = depth;
				if (max > limit)
					return limit + 1;
			}
		} else if ((c == ']' || c == '}') && depth) {
			depth--;
		}
	}
	return max;
}

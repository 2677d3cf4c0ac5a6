/* log.c: the daemon's logger. Lines go to stderr as
 * "2026-11-30T04:30:00Z info message". Library (lws) lines are routed here by
 * server.c and scrubbed of anything address-shaped first. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "xroom/util/log.h"

static enum xr_log_level cur = XR_LOG_INFO;
static const char *const names[] = { "error", "warn", "info", "debug" };

void xr_log_set_level(enum xr_log_level level) { cur = level; }
enum xr_log_level xr_log_get_level(void) { return cur; }
bool xr_log_enabled(enum xr_log_level level) { return level <= cur; }

int xr_log_parse_level(const char *name, enum xr_log_level *out)
{
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i])) {
			*out = (enum xr_log_level)i;
			return 0;
		}
	return -EINVAL;
}

void xr_log(enum xr_log_level level, const char *fmt, ...)
{
	char line[1024], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level > cur)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s %s %s\n", ts, names[level], line);
	fflush(stderr);
}

/* An address-looking run: digits and dots with at least three dots (IPv4),
 * or hex digits and colons with at least two colons (IPv6). */
static size_t addr_run(const char *s)
{
	size_t i = 0, dots = 0, colons = 0, digits = 0;

	while (s[i] && (isxdigit((unsigned char)s[i]) || s[i] == '.' ||
			s[i] == ':')) {
		dots += s[i] == '.';
		colons += s[i] == ':';
		digits += isxdigit((unsigned char)s[i]) != 0;
		i++;
	}
	if (digits && (dots >= 3 || colons >= 2))
		return i;
	return 0;
}

void xr_log_scrub(char *dst, size_t n, const char *src)
{
	size_t o = 0;

	if (!n)
		return;
	while (*src && o + 1 < n) {
		size_t run = addr_run(src);

		if (run) {
			const char *m = "<addr>";
			while (*m && o + 1 < n)
				dst[o++] = *m++;
			src += run;
			continue;
		}
		dst[o++] = (*src == '\n') ? ' ' : *src;
		src++;
	}
	while (o && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

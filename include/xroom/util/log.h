/* xroom/util/log.h: the daemon's own logger. One line per event on stderr, a
 * UTC timestamp and a level. Nothing below debug may carry an address, a
 * User-Agent, a room verifier or relayed data: callers pass none. */
#ifndef XROOM_LOG_H
#define XROOM_LOG_H

#include <stdbool.h>

enum xr_log_level { XR_LOG_ERROR = 0, XR_LOG_WARN, XR_LOG_INFO, XR_LOG_DEBUG };

void xr_log_set_level(enum xr_log_level level);
enum xr_log_level xr_log_get_level(void);
/* Parses "error", "warn", "info" or "debug"; returns 0 or -EINVAL. */
int xr_log_parse_level(const char *name, enum xr_log_level *out);
bool xr_log_enabled(enum xr_log_level level);
void xr_log(enum xr_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Copies src into dst (size n), masking anything that looks like an IPv4 or
 * IPv6 address with "<addr>". Used on library log lines we do not author. */
void xr_log_scrub(char *dst, size_t n, const char *src);

#define xr_error(...) xr_log(XR_LOG_ERROR, __VA_ARGS__)
#define xr_warn(...)  xr_log(XR_LOG_WARN, __VA_ARGS__)
#define xr_info(...)  xr_log(XR_LOG_INFO, __VA_ARGS__)
#define xr_debug(...) do { if (xr_log_enabled(XR_LOG_DEBUG)) \
	xr_log(XR_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif

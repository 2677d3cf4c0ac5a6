/* xroom/config/config_read.h: reading a JSON configuration document member by
 * member, for the config's own files (config_parse.c): typed getters that
 * check a value's kind and range, name its JSON path in every error, and
 * gather all errors instead of stopping at the first. */
#ifndef XROOM_CONFIG_READ_H
#define XROOM_CONFIG_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "xroom/config/config.h"

/* One reading: values go to c, errors to e; oom is set on any allocation
 * failure (the caller then gives up with -ENOMEM). */
struct xr_cfg_reader {
	struct xr_config *c;
	struct xr_config_errors *e;
	bool oom;
};

/* Adds "path: <printf text>" as an error line ("(top)" for ""). */
void xr_cfg_err(struct xr_cfg_reader *x, const char *path, const char *fmt,
		...) __attribute__((format(printf, 3, 4)));
/* "base.key" (or "key" at the top) into out. */
void xr_cfg_path(char *out, size_t n, const char *base, const char *key);
/* strdup that records an allocation failure. */
char *xr_cfg_dup(struct xr_cfg_reader *x, const char *s);
/* Reports members of obj not named in allowed (NULL-terminated). */
void xr_cfg_only(struct xr_cfg_reader *x, const char *path, json_t *obj,
		 const char *const *allowed);
/* Member key of obj (all borrowed), when present: an integer in lo..hi
 * into *out (true), else an error (false). Absent: false, no error. */
bool xr_cfg_uint(struct xr_cfg_reader *x, json_t *obj, const char *path,
		 const char *key, uint32_t lo, uint32_t hi, uint32_t *out);
/* A non-empty string (at most 4096 bytes, no NUL) copied into *out,
 * replacing (and freeing) what was there. */
void xr_cfg_string(struct xr_cfg_reader *x, json_t *obj, const char *path,
		   const char *key, char **out);
/* The member when it is an object (borrowed), NULL when absent or not an
 * object (then an error). */
json_t *xr_cfg_object(struct xr_cfg_reader *x, json_t *obj, const char *path,
		      const char *key);
/* An array of distinct strings (1..1024 bytes) that each pass check (NULL:
 * any), described as `what` in errors; nonempty refuses []. *out
 * (NULL-terminated, malloc'd) and *nout receive the good ones. */
void xr_cfg_strings(struct xr_cfg_reader *x, json_t *obj, const char *path,
		    const char *key, bool (*check)(const char *s),
		    const char *what, bool nonempty, char ***out, size_t *nout);

#endif

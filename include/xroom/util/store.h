/* xroom/util/store.h: checked, atomic files in the state directory. Every file
 * starts with a header line "XROOM1 <blake2b-256 hex of the body> <length>",
 * so a torn or corrupt file is detected, never loaded silently. Writes go to
 * a temporary file, are fsynced, renamed over the old one, and the directory
 * is fsynced. Files are mode 0600. */
#ifndef XROOM_STORE_H
#define XROOM_STORE_H

#include <stddef.h>

/* Writes body atomically as dir/name. Returns 0 or a negative errno. */
int xr_store_write(const char *dir, const char *name, const void *body,
		   size_t len);
/* Writes body as dir/name in place: the same file, from its first byte,
 * cut to the new length, fsynced; no temporary copy, no rename. For a
 * secret that must not be left behind in freed blocks (the day's salt):
 * on a file system that overwrites in place (ext4, xfs; not btrfs, ZFS or
 * ext4 with data=journal) its old bytes are overwritten. Not atomic: a
 * crash mid-write leaves a torn file, which the header check refuses. */
int xr_store_overwrite(const char *dir, const char *name, const void *body,
		       size_t len);
/* Reads and checks dir/name. On 0, *body (malloc'd, NUL-terminated, caller
 * frees) and *len are set. -ENOENT: no file; -EBADMSG: present but torn or
 * corrupt (why says how); other negative errno: unreadable. */
int xr_store_read(const char *dir, const char *name, char **body,
		  size_t *len, size_t max, const char **why);
/* Renames a bad file to name.corrupt-<unix time> so nothing overwrites it;
 * the new name goes to out. Returns 0 or a negative errno. */
int xr_store_quarantine(const char *dir, const char *name, char *out,
			size_t n);
/* Quarantines dir/name and writes the one sentence that reports it into
 * err: "<dir>/<name> refused (<why>); kept as <new name><then>" (then:
 * what happens instead, e.g. " and counting starts from zero"). */
void xr_store_set_aside(const char *dir, const char *name, const char *why,
			const char *then, char *err, size_t errlen);
/* Overwrites dir/name with zeros, fsyncs and unlinks it. 0 if absent. */
int xr_store_shred(const char *dir, const char *name);

#endif

/* store.c: atomic, checked persistence. Header line with a BLAKE2b-256 of
 * the body and its length; temp file + fsync + rename + fsync of the
 * directory; in-place overwrite for a secret that must not linger in freed
 * blocks; quarantine of bad files; shredding of files that must not
 * outlive their purpose (the day's salt). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "xroom/util/store.h"

#define MAGIC "XROOM1"

static int path_of(char *out, size_t n, const char *dir, const char *name)
{
	int k = snprintf(out, n, "%s/%s", dir, name);

	return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

static int write_all(int fd, const void *p, size_t len)
{
	const unsigned char *b = p;

	while (len) {
		ssize_t k = write(fd, b, len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += k;
		len -= (size_t)k;
	}
	return 0;
}

static void digest_hex(const void *body, size_t len, char hex[65])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), body, len, NULL, 0);
	sodium_bin2hex(hex, 65, h, sizeof(h));
}

/* Writes the header line and body to path (opened with flags, mode 0600),
 * cut to their length if cut, fsynced and closed. */
static int write_checked(const char *path, int flags, const void *body,
			 size_t len, bool cut)
{
	char head[128], hex[65];
	int fd, rc, n;

	digest_hex(body, len, hex);
	n = snprintf(head, sizeof(head), MAGIC " %s %zu\n", hex, len);
	fd = open(path, flags, 0600);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, head, (size_t)n);
	if (!rc)
		rc = write_all(fd, body, len);
	if (!rc && cut && ftruncate(fd, (off_t)n + (off_t)len))
		rc = -errno;
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

int xr_store_write(const char *dir, const char *name, const void *body,
		   size_t len)
{
	char path[4096], tmp[4096];
	int dfd, rc, n;

	if ((rc = path_of(path, sizeof(path), dir, name)))
		return rc;
	n = snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	rc = write_checked(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, body,
			   len, false);
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd))
			rc = -errno;
		close(dfd);
	}
	return rc;
}

int xr_store_overwrite(const char *dir, const char *name, const void *body,
		       size_t len)
{
	char path[4096];
	int rc;

	if ((rc = path_of(path, sizeof(path), dir, name)))
		return rc;
	/* No O_TRUNC: truncating first would free the old blocks (and the
	 * bytes in them) before they are overwritten; cut after writing. */
	return write_checked(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			     body, len, true);
}

int xr_store_read(const char *dir, const char *name, char **body,
		  size_t *len, size_t max, const char **why)
{
	char path[4096], hex[65], want[65];
	struct stat st;
	size_t blen, hlen;
	char *buf, *nl;
	FILE *f;
	int rc;

	*body = NULL;
	*len = 0;
	*why = NULL;
	if ((rc = path_of(path, sizeof(path), dir, name)))
		return rc;
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	if (fstat(fileno(f), &st) || (size_t)st.st_size > max + 128) {
		fclose(f);
		*why = "larger than any file this daemon writes";
		return -EBADMSG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	blen = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	buf[blen] = '\0';
	nl = memchr(buf, '\n', blen);
	*why = "no header line";
	if (!nl || nl - buf > 100 || strncmp(buf, MAGIC " ", 7))
		goto bad;
	*nl = '\0';
	*why = "malformed header";
	if (sscanf(buf + 7, "%64s %zu", want, &hlen) != 2 || strlen(want) != 64)
		goto bad;
	*why = "truncated or extended: the length does not match";
	if ((size_t)(buf + blen - (nl + 1)) != hlen)
		goto bad;
	digest_hex(nl + 1, hlen, hex);
	*why = "checksum mismatch: the content is corrupt";
	if (sodium_memcmp(hex, want, 64))
		goto bad;
	memmove(buf, nl + 1, hlen);
	buf[hlen] = '\0';
	*body = buf;
	*len = hlen;
	*why = NULL;
	return 0;
bad:
	free(buf);
	return -EBADMSG;
}

int xr_store_quarantine(const char *dir, const char *name, char *out,
			size_t n)
{
	char from[4096], to[4200];
	long long now = (long long)time(NULL);
	int k, rc;

	if ((rc = path_of(from, sizeof(from), dir, name)))
		return rc;
	/* Never over an earlier bad copy: add -1, -2... within one second. */
	for (int i = 0; i < 1000; i++) {
		k = i ? snprintf(to, sizeof(to), "%s/%s.corrupt-%lld-%d", dir,
				 name, now, i) :
			snprintf(to, sizeof(to), "%s/%s.corrupt-%lld", dir, name, now);
		if (k < 0 || (size_t)k >= sizeof(to))
			return -ENAMETOOLONG;
		if (access(to, F_OK) && errno == ENOENT) {
			if (rename(from, to))
				return -errno;
			snprintf(out, n, "%s", to);
			return 0;
		}
	}
	return -EEXIST;
}

void xr_store_set_aside(const char *dir, const char *name, const char *why,
			const char *then, char *err, size_t errlen)
{
	char moved[4200];

	if (xr_store_quarantine(dir, name, moved, sizeof(moved)))
		moved[0] = '\0';
	snprintf(err, errlen, "%s/%s refused (%s); kept as %s%s", dir, name, why,
		 moved[0] ? moved : "(could not be moved)", then);
}

/* Zeros a file, fsyncs and unlinks it. */
static int zero_unlink(const char *path)
{
	char zero[4096] = { 0 };
	struct stat st;
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!fstat(fd, &st)) {
		off_t left = st.st_size;
		while (left > 0) {
			size_t k = left > (off_t)sizeof(zero) ? sizeof(zero) :
								  (size_t)left;
			if (write_all(fd, zero, k))
				break;
			left -= (off_t)k;
		}
		fsync(fd);
	}
	close(fd);
	return unlink(path) ? -errno : 0;
}

int xr_store_shred(const char *dir, const char *name)
{
	char path[4096], doomed[4200];
	int rc, k;

	if ((rc = path_of(path, sizeof(path), dir, name)))
		return rc;
	k = snprintf(doomed, sizeof(doomed), "%s/.%s.shred", dir, name);
	if (k < 0 || (size_t)k >= sizeof(doomed))
		return -ENAMETOOLONG;
	/* Out of the way first (atomic), so a crash mid-shred never leaves a
	 * half-zeroed file under the real name; a leftover from such a crash
	 * is finished here too. */
	zero_unlink(doomed);
	if (rename(path, doomed))
		return errno == ENOENT ? 0 : -errno;
	return zero_unlink(doomed);
}

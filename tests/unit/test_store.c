/* test_store.c: the checked, atomic state files. A write leaves exactly the
 * named file (no temporary, even when the rename fails), mode 0600 whatever
 * the umask, with the header "XROOM1 <blake2b-256 hex> <length>"; a read
 * gives the body back and refuses a file that is truncated, extended,
 * corrupt in its body or its digest, headerless or oversized; quarantine
 * moves a file aside under a name nothing overwrites; shred zeroes the file
 * before unlinking it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "xroom/util/store.h"

struct fx {
	char dir[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || sodium_init() < 0)
		return -1;
	if (test_mkdtemp(f->dir, sizeof(f->dir), "store")) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	test_rm_tree(f->dir);
	free(f);
	return 0;
}

/* The names in dir (but . and ..), sorted, joined by '|'. */
static void listing(const char *dir, char *out, size_t n)
{
	struct dirent **names;
	int k = scandir(dir, &names, NULL, alphasort);
	size_t o = 0;

	out[0] = '\0';
	assert_true(k >= 0);
	for (int i = 0; i < k; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, ".."))
			o += (size_t)snprintf(out + o, n - o, "%s%s", o ? "|" : "",
					      names[i]->d_name);
		free(names[i]);
	}
	free(names);
	assert_true(o < n);
}

static size_t slurp(const char *dir, const char *name, unsigned char *buf,
		    size_t n)
{
	char p[512];
	FILE *fp;
	size_t k;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fp = fopen(p, "rb");
	assert_non_null(fp);
	k = fread(buf, 1, n, fp);
	fclose(fp);
	return k;
}

static void spit(const char *dir, const char *name, const void *buf, size_t n)
{
	char p[512];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fp = fopen(p, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, n, fp), n);
	fclose(fp);
}

static int read_back(struct fx *f, const char *name, char **body, size_t *len,
		     const char **why)
{
	return xr_store_read(f->dir, name, body, len, 1 << 20, why);
}

static void write_then_read(void **state)
{
	struct fx *f = *state;
	static const char body[] = "{\"counters\":[1,2,3]}";
	unsigned char raw[512], h[32];
	char head[128], hex[65], names[256];
	const char *why = "unset";
	struct stat st;
	mode_t old;
	char *got;
	size_t len, k;
	char p[512];

	old = umask(0); /* the mode must not depend on the umask */
	assert_int_equal(xr_store_write(f->dir, "c.json", body, strlen(body)), 0);
	umask(old);

	/* only the file itself: no temporary left behind */
	listing(f->dir, names, sizeof(names));
	assert_string_equal(names, "c.json");
	snprintf(p, sizeof(p), "%s/c.json", f->dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* the header: magic, digest of the body, length */
	crypto_generichash(h, sizeof(h), (const unsigned char *)body,
			   strlen(body), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(head, sizeof(head), "XROOM1 %s %zu\n", hex, strlen(body));
	k = slurp(f->dir, "c.json", raw, sizeof(raw));
	assert_int_equal(k, strlen(head) + strlen(body));
	assert_memory_equal(raw, head, strlen(head));
	assert_memory_equal(raw + strlen(head), body, strlen(body));

	assert_int_equal(read_back(f, "c.json", &got, &len, &why), 0);
	assert_null(why);
	assert_int_equal(len, strlen(body));
	assert_string_equal(got, body);
	free(got);

	/* an overwrite replaces it, still alone and 0600 */
	assert_int_equal(xr_store_write(f->dir, "c.json", "xy", 2), 0);
	listing(f->dir, names, sizeof(names));
	assert_string_equal(names, "c.json");
	assert_int_equal(read_back(f, "c.json", &got, &len, &why), 0);
	assert_int_equal(len, 2);
	assert_string_equal(got, "xy");
	free(got);
}

static void binary_and_empty_bodies(void **state)
{
	struct fx *f = *state;
	unsigned char bin[300];
	const char *why;
	char *got;
	size_t len;

	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7); /* NULs and newlines included */
	assert_int_equal(xr_store_write(f->dir, "v.bin", bin, sizeof(bin)), 0);
	assert_int_equal(read_back(f, "v.bin", &got, &len, &why), 0);
	assert_int_equal(len, sizeof(bin));
	assert_memory_equal(got, bin, sizeof(bin));
	assert_int_equal(got[len], '\0'); /* NUL-terminated for text users */
	free(got);

	assert_int_equal(xr_store_write(f->dir, "e", "", 0), 0);
	assert_int_equal(read_back(f, "e", &got, &len, &why), 0);
	assert_int_equal(len, 0);
	assert_string_equal(got, "");
	free(got);
}

static void missing_file(void **state)
{
	struct fx *f = *state;
	const char *why;
	char *got = (char *)1;
	size_t len = 9;

	assert_int_equal(read_back(f, "absent", &got, &len, &why), -ENOENT);
	assert_null(got);
	assert_int_equal(len, 0);
}

/* Writes a good file, damages its raw bytes with fn, and expects
 * -EBADMSG with a reason and no body. */
static void expect_bad(struct fx *f, size_t (*fn)(unsigned char *, size_t))
{
	static const char body[] = "{\"version\":1,\"counters\":[]}";
	unsigned char raw[512];
	const char *why = NULL;
	char *got = (char *)1;
	size_t k, len = 7;

	assert_int_equal(xr_store_write(f->dir, "x", body, strlen(body)), 0);
	k = slurp(f->dir, "x", raw, sizeof(raw) - 16);
	k = fn(raw, k);
	spit(f->dir, "x", raw, k);
	assert_int_equal(read_back(f, "x", &got, &len, &why), -EBADMSG);
	assert_null(got);
	assert_int_equal(len, 0);
	assert_non_null(why);
	assert_true(strlen(why) > 0);
}

static size_t cut_last(unsigned char *b, size_t n) { (void)b; return n - 1; }
static size_t cut_half(unsigned char *b, size_t n) { (void)b; return n / 2; }
static size_t cut_in_header(unsigned char *b, size_t n) { (void)b; (void)n; return 20; }
static size_t cut_all(unsigned char *b, size_t n) { (void)b; (void)n; return 0; }
static size_t extend(unsigned char *b, size_t n) { b[n] = ' '; return n + 1; }
static size_t extend_nul(unsigned char *b, size_t n) { b[n] = 0; return n + 1; }
static size_t flip_body(unsigned char *b, size_t n) { b[n - 3] ^= 0x04; return n; }
static size_t flip_digest(unsigned char *b, size_t n) { b[7 + 10] ^= 0x01; return n; }
static size_t flip_length(unsigned char *b, size_t n)
{
	unsigned char *nl = memchr(b, '\n', n);
	nl[-1] = nl[-1] == '9' ? '8' : (unsigned char)(nl[-1] + 1);
	return n;
}
static size_t no_header(unsigned char *b, size_t n)
{
	unsigned char *nl = memchr(b, '\n', n);
	size_t h = (size_t)(nl + 1 - b);
	memmove(b, nl + 1, n - h);
	return n - h;
}
static size_t bad_magic(unsigned char *b, size_t n) { b[5] = '2'; return n; }

static void read_refuses_damage(void **state)
{
	struct fx *f = *state;

	expect_bad(f, cut_last);      /* truncated by one byte */
	expect_bad(f, cut_half);
	expect_bad(f, cut_in_header);
	expect_bad(f, cut_all);       /* an empty file */
	expect_bad(f, extend);        /* extended by one byte */
	expect_bad(f, extend_nul);
	expect_bad(f, flip_body);     /* one bit of the body */
	expect_bad(f, flip_digest);   /* one bit of the digest */
	expect_bad(f, flip_length);
	expect_bad(f, no_header);     /* the bare body */
	expect_bad(f, bad_magic);
}

static void read_refuses_oversize(void **state)
{
	struct fx *f = *state;
	static char big[4096];
	const char *why;
	char *got;
	size_t len;

	memset(big, 'a', sizeof(big));
	assert_int_equal(xr_store_write(f->dir, "big", big, sizeof(big)), 0);
	assert_int_equal(xr_store_read(f->dir, "big", &got, &len, 1024, &why),
			 -EBADMSG);
	assert_null(got);
	assert_non_null(why);
	assert_int_equal(xr_store_read(f->dir, "big", &got, &len, 4096, &why), 0);
	assert_int_equal(len, sizeof(big));
	free(got);
}

/* A failed write reports the error and leaves no temporary file: here the
 * rename fails because the target is a directory, and a missing directory
 * fails at once. */
static void failed_write_leaves_nothing(void **state)
{
	struct fx *f = *state;
	char p[512], names[256];

	snprintf(p, sizeof(p), "%s/taken", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_true(xr_store_write(f->dir, "taken", "abc", 3) < 0);
	listing(f->dir, names, sizeof(names));
	assert_string_equal(names, "taken");
	rmdir(p);

	snprintf(p, sizeof(p), "%s/nope", f->dir);
	assert_int_equal(xr_store_write(p, "x", "abc", 3), -ENOENT);
	listing(f->dir, names, sizeof(names));
	assert_string_equal(names, "");
}

static void quarantine_moves_aside(void **state)
{
	struct fx *f = *state;
	unsigned char raw[64];
	char out[512], names[512], want[512];
	size_t k;

	spit(f->dir, "experiments.json", "garbage-1", 9);
	assert_int_equal(xr_store_quarantine(f->dir, "experiments.json", out,
					     sizeof(out)), 0);
	/* the new name is dir/name.corrupt-<digits>, with the same bytes */
	snprintf(want, sizeof(want), "%s/experiments.json.corrupt-", f->dir);
	assert_true(!strncmp(out, want, strlen(want)));
	assert_true(strlen(out) > strlen(want));
	for (const char *c = out + strlen(want); *c; c++)
		assert_true(*c >= '0' && *c <= '9');
	assert_int_equal(access(out, F_OK), 0);
	k = slurp(f->dir, strrchr(out, '/') + 1, raw, sizeof(raw));
	assert_int_equal(k, 9);
	assert_memory_equal(raw, "garbage-1", 9);
	listing(f->dir, names, sizeof(names));
	assert_string_equal(names, strrchr(out, '/') + 1);

	/* nothing to move */
	assert_int_equal(xr_store_quarantine(f->dir, "absent", out, sizeof(out)),
			 -ENOENT);
}

/* A second bad file quarantined at once (the same second) must not replace
 * the first one: both are kept for the operator. */
static void quarantine_never_overwrites(void **state)
{
	struct fx *f = *state;
	char a[512], b[512], names[512];
	unsigned char raw[64];

	spit(f->dir, "experiments.json", "garbage-1", 9);
	assert_int_equal(xr_store_quarantine(f->dir, "experiments.json", a,
					     sizeof(a)), 0);
	spit(f->dir, "experiments.json", "garbage-2", 9);
	assert_int_equal(xr_store_quarantine(f->dir, "experiments.json", b,
					     sizeof(b)), 0);
	assert_string_not_equal(a, b);
	listing(f->dir, names, sizeof(names));
	assert_non_null(strstr(names, strrchr(a, '/') + 1));
	assert_non_null(strstr(names, strrchr(b, '/') + 1));
	assert_int_equal(slurp(f->dir, strrchr(a, '/') + 1, raw, sizeof(raw)), 9);
	assert_memory_equal(raw, "garbage-1", 9);
	assert_int_equal(slurp(f->dir, strrchr(b, '/') + 1, raw, sizeof(raw)), 9);
	assert_memory_equal(raw, "garbage-2", 9);
}

static void shred_zeroes_and_removes(void **state)
{
	struct fx *f = *state;
	unsigned char secret[10000], back[10000];
	char p[512], names[256];
	int fd;

	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (unsigned char)(i % 251 + 1);
	assert_int_equal(xr_store_write(f->dir, "visitors.bin", secret,
					sizeof(secret)), 0);
	snprintf(p, sizeof(p), "%s/visitors.bin", f->dir);
	fd = open(p, O_RDONLY); /* still sees the inode after the unlink */
	assert_true(fd >= 0);
	assert_int_equal(xr_store_shred(f->dir, "visitors.bin"), 0);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	listing(f->dir, names, sizeof(names));
	assert_string_equal(names, "");
	/* the bytes it held were overwritten with zeros before the unlink */
	{
		ssize_t k = pread(fd, back, sizeof(back), 0);
		assert_true(k > (ssize_t)sizeof(secret) / 2);
		for (ssize_t i = 0; i < k; i++)
			assert_int_equal(back[i], 0);
	}
	close(fd);
	/* shredding what is not there is fine */
	assert_int_equal(xr_store_shred(f->dir, "visitors.bin"), 0);
}

/* In place: the same inode from the first write on (no temporary file, no
 * rename that would leave the old bytes in freed blocks), any length
 * after any other, read back checked; 0600; a symlink is not followed. */
static void overwrite_in_place(void **state)
{
	struct fx *f = *state;
	unsigned char big[3000], small[40];
	char list[256], path[512], *body;
	const char *why;
	struct stat st0, st;
	size_t len;

	memset(big, 0xA5, sizeof(big));
	memset(small, 0x5A, sizeof(small));
	assert_int_equal(xr_store_overwrite(f->dir, "s.bin", big, sizeof(big)), 0);
	snprintf(path, sizeof(path), "%s/s.bin", f->dir);
	assert_int_equal(stat(path, &st0), 0);
	assert_int_equal(st0.st_mode & 0777, 0600);
	assert_int_equal(xr_store_overwrite(f->dir, "s.bin", small, sizeof(small)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_ino == st0.st_ino);
	assert_true(st.st_size < 200); /* cut to the new length */
	assert_int_equal(xr_store_read(f->dir, "s.bin", &body, &len, 4096, &why), 0);
	assert_int_equal(len, sizeof(small));
	assert_memory_equal(body, small, sizeof(small));
	free(body);
	assert_int_equal(xr_store_overwrite(f->dir, "s.bin", big, sizeof(big)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_ino == st0.st_ino);
	assert_int_equal(xr_store_read(f->dir, "s.bin", &body, &len, 4096, &why), 0);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(body, big, sizeof(big));
	free(body);
	listing(f->dir, list, sizeof(list));
	assert_string_equal(list, "s.bin");
	/* A symlink planted at the name is refused, its target untouched. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/nonexistent-target", path), 0);
	assert_int_equal(xr_store_overwrite(f->dir, "s.bin", small, sizeof(small)), -ELOOP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(overwrite_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(write_then_read, setup, teardown),
		cmocka_unit_test_setup_teardown(binary_and_empty_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(read_refuses_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(read_refuses_oversize, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_write_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(quarantine_moves_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(quarantine_never_overwrites, setup, teardown),
		cmocka_unit_test_setup_teardown(shred_zeroes_and_removes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

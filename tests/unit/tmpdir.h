/* tmpdir.h: a scratch directory per test, and its removal, for the unit
 * tests that touch the file system (store, experiment). */
#ifndef XROOM_TEST_TMPDIR_H
#define XROOM_TEST_TMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Makes /tmp/xroom-<tag>-XXXXXX into dir (size n). 0 or -1. */
static inline int test_mkdtemp(char *dir, size_t n, const char *tag)
{
	snprintf(dir, n, "/tmp/xroom-%s-XXXXXX", tag);
	return mkdtemp(dir) ? 0 : -1;
}

/* Removes dir and everything under it. */
static inline void test_rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[4096];

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >=
		    sizeof(p))
			continue;
		if (!lstat(p, &st) && S_ISDIR(st.st_mode))
			test_rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

#endif

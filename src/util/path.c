/* path.c: containment of files in their folder, by their resolved path:
 * whatever the request or the manifest wrote, the file realpath finds must
 * lie below the folder and be a regular file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xroom/util/path.h"

bool xr_path_file_inside(const char *root, const char *rel,
			 char real[PATH_MAX])
{
	char want[PATH_MAX];
	size_t rl = strlen(root);
	struct stat st;
	int n = snprintf(want, sizeof(want), "%s%s%s", root,
			 rel[0] == '/' ? "" : "/", rel);

	if (n < 0 || (size_t)n >= sizeof(want) || !realpath(want, real))
		return false;
	return !strncmp(real, root, rl) && real[rl] == '/' &&
	       !stat(real, &st) && S_ISREG(st.st_mode);
}

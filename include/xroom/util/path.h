/* xroom/util/path.h: the one rule for a file that must stay inside its folder
 * (the web root, a plugin's folder): resolved with realpath, so no "..",
 * symbolic link or doubled slash leads out of it. */
#ifndef XROOM_PATH_H
#define XROOM_PATH_H

#include <limits.h>
#include <stdbool.h>

/* Resolves root + "/" + rel (rel may start with '/') into real and checks
 * that it names a regular file strictly inside root (a resolved path, no
 * trailing slash). Both strings borrowed. */
bool xr_path_file_inside(const char *root, const char *rel,
			 char real[PATH_MAX]);

#endif

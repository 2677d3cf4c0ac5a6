/* replay.c: a plain main for the fuzz targets (Janus' standalone engine
 * idea), so any compiler can run a corpus under ctest: every file named on
 * the command line, and every regular file of every directory named, in
 * name order, is passed once to LLVMFuzzerTestOneInput in a heap buffer of
 * its exact size (so sanitizers see any overread). A crash or an abort()
 * from the target's own checks fails the run. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

static int only_files(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int main(int argc, char **argv)
{
	unsigned runs = 0, errors = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct dirent **list;
		int n;

		if (stat(argv[i], &st)) {
			fprintf(stderr, "replay: no such file: %s\n", argv[i]);
			errors++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			errors += run_file(argv[i]) != 0;
			runs++;
			continue;
		}
		n = scandir(argv[i], &list, only_files, alphasort);
		if (n < 0) {
			fprintf(stderr, "replay: cannot list %s\n", argv[i]);
			errors++;
			continue;
		}
		for (int k = 0; k < n; k++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", argv[i], list[k]->d_name);
			if (!stat(path, &st) && S_ISREG(st.st_mode)) {
				errors += run_file(path) != 0;
				runs++;
			}
			free(list[k]);
		}
		free(list);
	}
	printf("replay: %u inputs run, %u unreadable\n", runs, errors);
	/* an empty corpus is a broken setup, not a pass */
	return errors || !runs ? 1 : 0;
}

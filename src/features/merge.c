/* merge.c: `xroomd --merge-report FILE...`. Each node of a cluster counts
 * its own visitors (the proxy keeps a client on one node), so the sum of
 * the nodes' counters is what one node would have counted. Accepts bodies
 * of GET /api/experiments/counters and state-dir experiments.json files
 * (checked through store.c); refuses anything else, naming the file. */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xroom/config/config.h"
#include "xroom/features/exp_report.h"
#include "xroom/features/exp_store.h"
#include "xroom/features/experiment.h"
#include "xroom/features/merge.h"
#include "xroom/util/store.h"

#define FILE_MAX (256u << 20) /* as the daemon's own load */
#define STORE_MAGIC "XROOM1 "

/* The whole file, NUL-terminated (malloc'd), or NULL with errno set. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto fail;
	if ((unsigned long)size > FILE_MAX + 128) {
		errno = EFBIG;
		goto fail;
	}
	buf = malloc((size_t)size + 1);
	if (!buf)
		goto fail;
	*len = fread(buf, 1, (size_t)size, f);
	if (ferror(f))
		goto fail;
	buf[*len] = '\0';
	fclose(f);
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

/* A state-dir file: read again through store.c, which checks the header
 * (checksum and length). */
static int read_stored(const char *path, char **body, size_t *len,
		       const char **why)
{
	char *d = strdup(path), *b = strdup(path);
	int rc = -ENOMEM;

	if (d && b)
		rc = xr_store_read(dirname(d), basename(b), body, len, FILE_MAX, why);
	free(d);
	free(b);
	return rc;
}

static int add_file(struct xr_exp *e, const char *path, FILE *err)
{
	const char *why = NULL;
	size_t len = 0;
	char *text = slurp(path, &len);
	int rc;

	if (!text) {
		fprintf(err, "%s: %s\n", path, strerror(errno));
		return -EIO;
	}
	if (!strncmp(text, STORE_MAGIC, strlen(STORE_MAGIC))) {
		free(text);
		text = NULL;
		rc = read_stored(path, &text, &len, &why);
		if (rc) {
			fprintf(err, "%s: %s\n", path, why ? why : strerror(-rc));
			free(text);
			return rc;
		}
	}
	rc = xr_exp_add_counters(e, text, len);
	free(text);
	if (rc == -EBADMSG)
		fprintf(err, "%s: not a counters file (want {\"version\":1,"
			"\"counters\":[[experiment, variant, goal, day, n], ...]})\n",
			path);
	else if (rc)
		fprintf(err, "%s: %s\n", path, strerror(-rc));
	return rc;
}

int xr_merge_report(const char *const *files, size_t n,
		    const struct xr_config *cfg, FILE *out, FILE *err)
{
	struct xr_exp *e = xr_exp_new();
	char *report = NULL;
	int bad = 0;

	if (!e) {
		fprintf(err, "xroomd: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		bad += add_file(e, files[i], err) != 0;
	if (!bad) {
		/* "today" in the report is the day of the merge */
		xr_exp_roll(e, xr_exp_day((int64_t)time(NULL)));
		report = xr_exp_report(e, cfg);
		if (report)
			fprintf(out, "%s\n", report);
		else
			fprintf(err, "xroomd: out of memory\n");
	}
	free(report);
	xr_exp_free(e);
	return bad ? 2 : report ? 0 : 1;
}

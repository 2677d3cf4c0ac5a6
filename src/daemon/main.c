/* main.c: xroomd's command line. No arguments: the embedded default (the
 * bundled client on http://127.0.0.1:8080/). --check-config validates a file
 * and prints each problem with its JSON path; --merge-report sums the
 * experiment counters of several nodes (merge.c). Everything else is
 * server.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xroom/config/config.h"
#include "xroom/daemon/server.h"
#include "xroom/features/merge.h"
#include "xroom/util/log.h"

static void usage(FILE *f)
{
	fputs("usage: xroomd [--config FILE] [--listen ADDR:PORT] [--web-root DIR]\n"
	      "              [--state-dir DIR] [--log-level error|warn|info|debug]\n"
	      "       xroomd --check-config FILE\n"
	      "       xroomd --merge-report [--config FILE] COUNTERS...\n"
	      "       xroomd --version | --help\n"
	      "\n"
	      "With no arguments, serves the bundled web client on\n"
	      "http://127.0.0.1:8080/ with every default. SIGHUP reloads the\n"
	      "config file; SIGTERM or SIGINT closes every socket and exits.\n"
	      "--merge-report sums experiment counter files of several nodes\n"
	      "(GET /api/experiments/counters, or a state directory's\n"
	      "experiments.json) and prints the /api/experiments report; with\n"
	      "--config, its experiments are reported as running.\n", f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "web-root", required_argument, NULL, 'w' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "merge-report", no_argument, NULL, 'M' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct xr_overrides ov = { 0 };
	struct xr_config cfg;
	struct xr_config_errors errs;
	const char *config = NULL, *check = NULL;
	enum xr_log_level level;
	int c, rc, merge = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'l': ov.listen = optarg; break;
		case 'w': ov.web_root = optarg; break;
		case 's': ov.state_dir = optarg; break;
		case 'C': check = optarg; break;
		case 'M': merge = 1; break;
		case 'L':
			if (xr_log_parse_level(optarg, &level)) {
				fprintf(stderr, "xroomd: --log-level: must be "
					"error, warn, info or debug\n");
				return 2;
			}
			xr_log_set_level(level);
			break;
		case 'V':
			printf("xroomd %s\n", XROOM_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (merge) {
		if (optind == argc) {
			fprintf(stderr, "xroomd: --merge-report needs counter files\n");
			return 2;
		}
		rc = config ? xr_config_load(&cfg, config, &errs) :
			      xr_config_defaults(&cfg);
		if (rc) {
			fprintf(stderr, "%s", config ? errs.text : "out of memory\n");
			return 2;
		}
		rc = xr_merge_report((const char *const *)argv + optind,
				     (size_t)(argc - optind), &cfg, stdout, stderr);
		xr_config_free(&cfg);
		return rc;
	}
	if (optind < argc) {
		fprintf(stderr, "xroomd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (check) {
		rc = xr_config_load(&cfg, check, &errs);
		if (rc) {
			fprintf(stderr, "%s", errs.text);
			if (errs.count > 1)
				fprintf(stderr, "%s: %u problems\n", check, errs.count);
			return 2;
		}
		xr_config_free(&cfg);
		printf("%s: ok\n", check);
		return 0;
	}
	rc = config ? xr_config_load(&cfg, config, &errs) : xr_config_defaults(&cfg);
	if (rc) {
		fprintf(stderr, "%s", config ? errs.text : "out of memory\n");
		return 2;
	}
	if (xr_server_apply_overrides(&cfg, &ov)) {
		fprintf(stderr, "xroomd: --listen: must be host:port or [v6]:port\n");
		xr_config_free(&cfg);
		return 2;
	}
	return xr_server_run(&cfg, config, &ov);
}

/* loadgen.c: a load generator for xroomd on the libwebsockets client API, so
 * that the generator is not the bottleneck. Two modes:
 *
 *   relay     R rooms of K peers; every peer keeps W signal messages of
 *             about --size bytes in flight to random peers of its room
 *             (closed loop), optionally paced to --rate messages/s overall.
 *             After --warmup s, measures for --duration s and prints one
 *             JSON line: relayed/s, latency p50/p99/p99.9, daemon RSS and
 *             CPU, the generator's own CPU.
 *   capacity  N joined, idle connections spread over --sources loopback
 *             addresses (127.0.0.1 .. 127.0.0.S, so ephemeral ports last);
 *             prints RSS per connection and /healthz latency while held.
 *
 * Every relayed message carries its send time and sender; the receiver
 * checks the sender's per-pair sequence, so loss, duplication and
 * misrouting are counted too (the soak uses that).
 *
 * --proto peerjs drives a PeerJS server (npm `peer`) with the same
 * workload, for the comparison in docs/performance.md: each connection
 * opens /peerjs?key=peerjs&id=..&token=.. with its own id, counts as
 * joined on {"type":"OPEN"}, and sends {"type":"OFFER","dst":..,
 * "payload":{..}}; a "room" is then only the set of ids a peer sends to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#define MAX_SIZE 16384
#define HIST_US 100000 /* 1 µs buckets up to 100 ms, then overflow */
#define CONNECT_BATCH 256

struct conn {
	struct lws *wsi;
	int idx, room;
	char id[17];
	int joined, closed;
	int inflight;
	uint32_t *next_seq_to;   /* per receiver in room: next seq to send */
	uint32_t *next_seq_from; /* per sender in room: next seq expected */
	int want;                /* messages owed by the pacer */
};

static struct {
	const char *host;
	int port, rooms, peers, window, size, rate, sources, idle;
	double warmup, duration;
	int pid;
	int capacity;
	int verbose;
	double hold;
	int peerjs;
} opt = { "127.0.0.1", 8080, 100, 8, 4, 250, 0, 8, 0, 2, 10, 0, 0, 0, 0, 0 };

static struct lws_context *ctx;
static struct conn *conns;
static int nconns, started, njoined, nclosed, connecting;
static int measuring, done_flag;
static uint64_t sent, received, lost, dup_or_reorder, misrouted, errors_seen;
static uint64_t hist[HIST_US + 1];
static uint64_t hist_n;
static int64_t t_measure_start, t_measure_end;
static char pad[MAX_SIZE];
static volatile sig_atomic_t interrupted;

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int rel(const struct conn *c) { return c->idx - c->room * opt.peers; }

static void start_connect(int i)
{
	struct lws_client_connect_info ci;
	char path[96], iface[32];
	struct conn *c = &conns[i];

	memset(&ci, 0, sizeof(ci));
	if (opt.peerjs) {
		snprintf(c->id, sizeof(c->id), "b%d", i);
		snprintf(path, sizeof(path), "/peerjs?key=peerjs&id=%s&token=t%d",
			 c->id, i);
	} else {
		snprintf(path, sizeof(path), "/ws/bench-%d", c->room);
	}
	snprintf(iface, sizeof(iface), "127.0.0.%d", 1 + i % opt.sources);
	ci.context = ctx;
	ci.address = opt.host;
	ci.port = opt.port;
	ci.path = path;
	ci.host = opt.host;
	ci.protocol = "xroom.v1";
	ci.userdata = c;
	ci.pwsi = &c->wsi;
	if (!strcmp(opt.host, "127.0.0.1") && opt.sources > 1)
		ci.iface = iface;
	connecting++;
	if (!lws_client_connect_via_info(&ci)) {
		connecting--;
		c->closed = 1;
		nclosed++;
	}
}

static void connect_more(void)
{
	while (started < nconns && connecting < CONNECT_BATCH)
		start_connect(started++);
}

static int send_one(struct conn *c)
{
	unsigned char buf[LWS_PRE + MAX_SIZE + 256], *p = buf + LWS_PRE;
	struct conn *room = &conns[c->room * opt.peers];
	int t, n, len;

	do
		t = rand() % opt.peers;
	while (t == rel(c));
	if (!room[t].joined)
		return 0;
	len = snprintf((char *)p, MAX_SIZE + 256,
		       opt.peerjs ?
		       "{\"type\":\"OFFER\",\"dst\":\"%s\",\"payload\":{\"t\":%lld,"
		       "\"s\":%d,\"q\":%u,\"p\":\"" :
		       "{\"type\":\"signal\",\"to\":\"%s\",\"data\":{\"t\":%lld,"
		       "\"s\":%d,\"q\":%u,\"p\":\"",
		       room[t].id, (long long)now_us(), c->idx,
		       c->next_seq_to[t]++);
	n = opt.size - len - 3;
	if (n < 0)
		n = 0;
	memcpy(p + len, pad, (size_t)n);
	len += n;
	memcpy(p + len, "\"}}", 3);
	len += 3;
	if (lws_write(c->wsi, p, (size_t)len, LWS_WRITE_TEXT) < len)
		return -1;
	c->inflight++;
	if (measuring)
		sent++;
	return 0;
}

static void on_signal(struct conn *c, const char *in, size_t len)
{
	const char *t = memmem(in, len, "\"t\":", 4);
	const char *s = memmem(in, len, "\"s\":", 4);
	const char *q = memmem(in, len, "\"q\":", 4);
	int64_t lat;
	int from;
	uint32_t seq;
	struct conn *src;

	if (!t || !s || !q)
		return;
	lat = now_us() - strtoll(t + 4, NULL, 10);
	from = atoi(s + 4);
	seq = (uint32_t)strtoul(q + 4, NULL, 10);
	if (from < 0 || from >= nconns)
		return;
	src = &conns[from];
	if (src->room != c->room) {
		misrouted++;
	} else {
		uint32_t *exp = &c->next_seq_from[rel(src)];
		if (seq > *exp)
			lost += seq - *exp;
		else if (seq < *exp)
			dup_or_reorder++;
		*exp = seq + 1;
	}
	if (src->inflight > 0)
		src->inflight--;
	if (!src->closed && src->wsi)
		lws_callback_on_writable(src->wsi);
	if (measuring) {
		received++;
		hist[lat < 0 ? 0 : lat > HIST_US ? HIST_US : lat]++;
		hist_n++;
	}
}

static int all_settled(void);
static void connect_more(void);

static void on_joined(struct conn *c)
{
	c->joined = 1;
	njoined++;
	connecting--;
	connect_more();
}

static void on_peerjs(struct conn *c, const char *in, size_t len)
{
	if (len > 20 && !memcmp(in, "{\"type\":\"OFFER\"", 15))
		on_signal(c, in, len);
	else if (len >= 15 && !memcmp(in, "{\"type\":\"OPEN\"", 14))
		on_joined(c);
	else if (len > 16 && (!memcmp(in, "{\"type\":\"ERROR\"", 15) ||
			      !memcmp(in, "{\"type\":\"ID-TAKEN\"", 18))) {
		errors_seen++;
		if (opt.verbose)
			fprintf(stderr, "error: %.*s\n", (int)len, in);
	}
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct conn *c = user; /* the connect info's userdata */

	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c) {
			c->closed = 1;
			nclosed++;
		}
		connecting--;
		if (opt.verbose)
			fprintf(stderr, "connect error: %s\n", in ? (char *)in : "?");
		connect_more();
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED: {
		unsigned char buf[LWS_PRE + 32];
		if (opt.peerjs)
			break; /* the server speaks first: OPEN */
		memcpy(buf + LWS_PRE, "{\"type\":\"join\"}", 15);
		lws_write(wsi, buf + LWS_PRE, 15, LWS_WRITE_TEXT);
		break;
	}
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (opt.peerjs) {
			on_peerjs(c, in, len);
		} else if (len > 20 && !memcmp(in, "{\"type\":\"signal\"", 16)) {
			on_signal(c, in, len);
		} else if (len > 20 && !memcmp(in, "{\"type\":\"welcome\"", 17)) {
			const char *id = memmem(in, len, "\"id\":\"", 6);
			if (id) {
				memcpy(c->id, id + 6, 16);
				c->id[16] = '\0';
			}
			on_joined(c);
		} else if (len > 16 && !memcmp(in, "{\"type\":\"error\"", 15)) {
			errors_seen++;
			if (opt.verbose)
				fprintf(stderr, "error: %.*s\n", (int)len, (char *)in);
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (opt.capacity || done_flag || !all_settled())
			break;
		if (c->inflight < opt.window && (!opt.rate || c->want > 0)) {
			if (send_one(c))
				return -1;
			if (opt.rate)
				c->want--;
			if (c->inflight < opt.window && (!opt.rate || c->want > 0))
				lws_callback_on_writable(wsi);
		}
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c && !c->closed) {
			c->closed = 1;
			nclosed++;
			c->wsi = NULL;
		}
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "xroom.v1", callback, 0, 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* --- /proc readings ------------------------------------------------------ */

static long rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

static double cpu_s(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double own_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double pct(double q)
{
	uint64_t want = (uint64_t)(q * (double)hist_n), acc = 0;

	for (int i = 0; i <= HIST_US; i++) {
		acc += hist[i];
		if (acc > want)
			return (double)i;
	}
	return HIST_US;
}

/* One HTTP GET /healthz (a PeerJS server: GET /, its banner) on a fresh
 * socket: milliseconds, or -1. */
static double healthz_ms(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port) };
	char req[128], resp[512];
	int64_t t0 = now_us();
	int fd = socket(AF_INET, SOCK_STREAM, 0), n;

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, opt.host, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
		     "Connection: close\r\n\r\n", opt.peerjs ? "/" : "/healthz",
		     opt.host);
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	n = (int)read(fd, resp, sizeof(resp) - 1);
	close(fd);
	if (n <= 0 || strncmp(resp, "HTTP/1.1 200", 12))
		return -1;
	return (double)(now_us() - t0) / 1000.0;
}

static void on_int(int sig) { (void)sig; interrupted = 1; }

static void service_until(int64_t until_us, int (*stop)(void))
{
	while (!interrupted && now_us() < until_us && !(stop && stop()))
		lws_service(ctx, 0);
}

static int all_settled(void) { return njoined + nclosed >= nconns; }

/* The pacer: owes the connections, in turn, --rate messages per second of
 * time actually elapsed (the timer is asked for every millisecond but the
 * loop may wake later; counting ticks instead under-delivered). */
static lws_sorted_usec_list_t pace_sul;
static double pace_acc;
static int pace_next;
static int64_t pace_last_us;

static void pace(lws_sorted_usec_list_t *sul)
{
	int64_t now = now_us();

	(void)sul;
	if (!pace_last_us)
		pace_last_us = now;
	pace_acc += opt.rate * (double)(now - pace_last_us) / 1e6;
	pace_last_us = now;
	if (pace_acc > opt.rate / 10.0) /* a stall owes at most 100 ms */
		pace_acc = opt.rate / 10.0;
	while (pace_acc >= 1.0) {
		struct conn *c = &conns[pace_next];
		pace_next = (pace_next + 1) % nconns;
		pace_acc -= 1.0;
		if (c->closed || !c->wsi)
			continue;
		c->want++;
		lws_callback_on_writable(c->wsi);
	}
	lws_sul_schedule(ctx, 0, &pace_sul, pace, 1000);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: loadgen --port P [--host 127.0.0.1] [--pid DAEMON_PID]\n"
		"               [--proto xroom|peerjs]\n"
		"  relay:    [--rooms 100] [--peers 8] [--window 4] [--size 250]\n"
		"            [--rate 0 (closed loop)] [--warmup 2] [--duration 10]\n"
		"  capacity: --idle N [--peers 8] [--sources 8]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", 1, NULL, 'h' }, { "port", 1, NULL, 'p' },
		{ "rooms", 1, NULL, 'r' }, { "peers", 1, NULL, 'k' },
		{ "window", 1, NULL, 'w' }, { "size", 1, NULL, 's' },
		{ "rate", 1, NULL, 'R' }, { "warmup", 1, NULL, 'W' },
		{ "duration", 1, NULL, 'd' }, { "pid", 1, NULL, 'P' },
		{ "idle", 1, NULL, 'i' }, { "sources", 1, NULL, 'S' },
		{ "verbose", 0, NULL, 'v' }, { "hold", 1, NULL, 'H' },
		{ "proto", 1, NULL, 'X' },
		{ NULL, 0, NULL, 0 }
	};
	struct lws_context_creation_info info;
	struct rlimit rl;
	long rss0 = 0, rss1;
	double dcpu0, dcpu1, gcpu0, gcpu1, secs;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'h': opt.host = optarg; break;
		case 'p': opt.port = atoi(optarg); break;
		case 'r': opt.rooms = atoi(optarg); break;
		case 'k': opt.peers = atoi(optarg); break;
		case 'w': opt.window = atoi(optarg); break;
		case 's': opt.size = atoi(optarg); break;
		case 'R': opt.rate = atoi(optarg); break;
		case 'W': opt.warmup = atof(optarg); break;
		case 'd': opt.duration = atof(optarg); break;
		case 'P': opt.pid = atoi(optarg); break;
		case 'i': opt.idle = atoi(optarg); opt.capacity = 1; break;
		case 'S': opt.sources = atoi(optarg); break;
		case 'v': opt.verbose = 1; break;
		case 'H': opt.hold = atof(optarg); break;
		case 'X':
			if (strcmp(optarg, "xroom") && strcmp(optarg, "peerjs")) {
				usage();
				return 2;
			}
			opt.peerjs = !strcmp(optarg, "peerjs");
			break;
		default: usage(); return 2;
		}
	}
	if (opt.peers < 2 || opt.size > MAX_SIZE || opt.size < 100 ||
	    opt.sources < 1 || opt.sources > 254) {
		usage();
		return 2;
	}
	if (opt.capacity)
		opt.rooms = (opt.idle + opt.peers - 1) / opt.peers;
	nconns = opt.rooms * opt.peers;
	memset(pad, 'x', sizeof(pad));
	signal(SIGINT, on_int);
	signal(SIGPIPE, SIG_IGN);
	srand(42);
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	conns = calloc((size_t)nconns, sizeof(*conns));
	if (!conns)
		return 1;
	for (int i = 0; i < nconns; i++) {
		conns[i].idx = i;
		conns[i].room = i / opt.peers;
		conns[i].next_seq_to = calloc((size_t)opt.peers, sizeof(uint32_t));
		conns[i].next_seq_from = calloc((size_t)opt.peers, sizeof(uint32_t));
	}
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.pt_serv_buf_size = 65536;
	ctx = lws_create_context(&info);
	if (!ctx)
		return 1;
	if (opt.pid)
		rss0 = rss_kb(opt.pid);

	/* Connect and join everyone (in batches). */
	connect_more();
	service_until(now_us() + 120 * 1000000LL, all_settled);
	if (nclosed)
		fprintf(stderr, "%d of %d connections failed\n", nclosed, nconns);

	if (opt.capacity) {
		double hz[20], worst = 0, sum = 0;
		int nhz = 0;
		int64_t t_end;
		service_until(now_us() + 2000000, NULL); /* let RSS settle */
		rss1 = opt.pid ? rss_kb(opt.pid) : -1;
		/* /healthz while every connection is held (and pinged by the
		 * daemon): 20 samples spread over --hold seconds (min 4 s). */
		t_end = now_us() + (int64_t)((opt.hold > 4 ? opt.hold : 4) * 1e6);
		while (nhz < 20 && !interrupted) {
			hz[nhz] = healthz_ms();
			if (hz[nhz] < 0 || hz[nhz] > worst)
				worst = hz[nhz] < 0 ? 1e9 : hz[nhz];
			sum += hz[nhz] < 0 ? 0 : hz[nhz];
			nhz++;
			service_until(now_us() + (t_end - now_us()) / (21 - nhz), NULL);
		}
		printf("{\"mode\":\"capacity\",\"proto\":\"%s\",\"requested\":%d,\"joined\":%d,"
		       "\"failed\":%d,\"errors\":%llu,\"daemon_rss_kb_before\":%ld,"
		       "\"daemon_rss_kb_after\":%ld,\"rss_bytes_per_conn\":%.0f,"
		       "\"healthz_ms_mean\":%.2f,\"healthz_ms_worst\":%.2f,"
		       "\"healthz_samples\":%d}\n",
		       opt.peerjs ? "peerjs" : "xroom", nconns, njoined, nclosed, (unsigned long long)errors_seen,
		       rss0, rss1, njoined ? (rss1 - rss0) * 1024.0 / njoined : 0,
		       nhz ? sum / nhz : -1, worst, nhz);
		goto out;
	}

	/* Relay: start the loop, warm up, measure. */
	if (opt.rate)
		lws_sul_schedule(ctx, 0, &pace_sul, pace, 1000);
	for (int i = 0; i < nconns; i++)
		if (conns[i].wsi && conns[i].joined)
			lws_callback_on_writable(conns[i].wsi);
	service_until(now_us() + (int64_t)(opt.warmup * 1e6), NULL);
	measuring = 1;
	sent = received = 0;
	memset(hist, 0, sizeof(hist));
	hist_n = 0;
	lost = dup_or_reorder = misrouted = 0;
	dcpu0 = opt.pid ? cpu_s(opt.pid) : 0;
	gcpu0 = own_cpu_s();
	t_measure_start = now_us();
	service_until(now_us() + (int64_t)(opt.duration * 1e6), NULL);
	t_measure_end = now_us();
	measuring = 0;
	dcpu1 = opt.pid ? cpu_s(opt.pid) : 0;
	gcpu1 = own_cpu_s();
	rss1 = opt.pid ? rss_kb(opt.pid) : -1;
	secs = (double)(t_measure_end - t_measure_start) / 1e6;
	printf("{\"mode\":\"relay\",\"proto\":\"%s\",\"rooms\":%d,\"peers\":%d,\"window\":%d,"
	       "\"size\":%d,\"rate_target\":%d,\"seconds\":%.2f,"
	       "\"relayed_per_s\":%.0f,\"sent_per_s\":%.0f,\"p50_us\":%.0f,"
	       "\"p99_us\":%.0f,\"p999_us\":%.0f,\"lost\":%llu,"
	       "\"dup_or_reordered\":%llu,\"misrouted\":%llu,\"errors\":%llu,"
	       "\"daemon_rss_kb\":%ld,\"daemon_cpu_pct\":%.1f,"
	       "\"gen_cpu_pct\":%.1f,\"failed_conns\":%d}\n",
	       opt.peerjs ? "peerjs" : "xroom", opt.rooms, opt.peers, opt.window, opt.size, opt.rate, secs,
	       received / secs, sent / secs, pct(0.5), pct(0.99), pct(0.999),
	       (unsigned long long)lost, (unsigned long long)dup_or_reorder,
	       (unsigned long long)misrouted, (unsigned long long)errors_seen,
	       rss1, 100.0 * (dcpu1 - dcpu0) / secs,
	       100.0 * (gcpu1 - gcpu0) / secs, nclosed);
out:
	done_flag = 1;
	lws_context_destroy(ctx);
	for (int i = 0; i < nconns; i++) {
		free(conns[i].next_seq_to);
		free(conns[i].next_seq_from);
	}
	free(conns);
	return 0;
}

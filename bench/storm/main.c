/* bench/storm: options, the clients' files, the event loop.  See storm.h.
 *
 *   storm --server IP --relay IP[,IP...] --clients N --root DIR
 *         [--ramp-ms MS] [--dhcp-timeouts MS,MS,...] [--ipxe-timeouts MS,...]
 *         [--tftp-timeout-ms MS] [--tftp-retries N] [--blksize N]
 *         [--windowsize N] [--no-size-query] [--http-stall-s S]
 *         [--deadline-s S] [--mac-prefix XX:XX:XX]
 *   storm --http-loop S --urls URL[,URL...] --addresses CIDR[,CIDR...]
 *         --clients N --root DIR [--ramp-ms MS] [--http-stall-s S] [--deadline-s S]
 *
 * Prints the figures (storm_report) and exits 0 when every client booted
 * with every byte right, 1 when one failed, 2 on bad usage or setup. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "storm.h"

#define TICK_US 5000                    /* timer scan */

static const char *const step_names[STEP_COUNT] = {
	[STEP_DHCP] = "dhcp", [STEP_TFTP] = "tftp",
	[STEP_IPXE_DHCP] = "ipxe-dhcp", [STEP_HTTP] = "http",
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: storm --server IP --relay IP[,IP...] --clients N --root DIR\n"
	    "  [--ramp-ms MS] [--dhcp-timeouts MS,...] [--ipxe-timeouts MS,...]\n"
	    "  [--tftp-timeout-ms MS] [--tftp-retries N] [--blksize N] [--windowsize N]\n"
	    "  [--no-size-query] [--http-stall-s S] [--deadline-s S] [--mac-prefix XX:XX:XX]\n"
	    "   or: storm --http-loop S --urls URL[,URL...] --addresses CIDR[,CIDR...]\n"
	    "  --clients N --root DIR [--ramp-ms MS] [--http-stall-s S] [--deadline-s S]\n");
}

static int
parse_uint(const char *name, const char *v, uint64_t min, uint64_t max, unsigned *out)
{
	uint64_t n;

	if (parse_u64(v, strlen(v), min, max, &n) != 0) {
		fprintf(stderr, "storm: %s: want a number in %llu..%llu, got '%s'\n", name,
		    (unsigned long long)min, (unsigned long long)max, v);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

/* Call take(o, item) for each item of the comma-separated list v (at most
 * 1 KiB); 0 when every item was taken, -1 at the first refused. */
static int
each_item(struct storm_options *o, const char *v, int (*take)(struct storm_options *, char *))
{
	char buf[1024];
	char *save = NULL;
	int n = 0;

	if (str_copy(buf, v, sizeof buf) >= sizeof buf)
		return -1;
	for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save), n++)
		if (take(o, tok) != 0)
			return -1;
	return n > 0 ? 0 : -1;
}

static int
take_dhcp_timeout(struct storm_options *o, char *item)
{
	return o->dhcp_timeouts < STORM_TIMEOUTS_MAX ? parse_uint("--dhcp-timeouts", item, 1,
	    600000, &o->dhcp_timeouts_ms[o->dhcp_timeouts++]) : -1;
}

static int
take_ipxe_timeout(struct storm_options *o, char *item)
{
	return o->ipxe_timeouts < STORM_TIMEOUTS_MAX ? parse_uint("--ipxe-timeouts", item, 1,
	    600000, &o->ipxe_timeouts_ms[o->ipxe_timeouts++]) : -1;
}

static int
take_relay(struct storm_options *o, char *item)
{
	if (o->relays >= STORM_RELAYS_MAX || inet_pton(AF_INET, item, &o->relay[o->relays]) != 1)
		return -1;
	o->relays++;
	return 0;
}

/* "a.b.c.d/p": every host address (not the network's, not the broadcast) */
static int
take_addresses(struct storm_options *o, char *item)
{
	char *slash = strchr(item, '/');
	struct in_addr net;
	unsigned prefix;

	if (slash == NULL)
		return -1;
	*slash = '\0';
	if (inet_pton(AF_INET, item, &net) != 1 ||
	    parse_uint("--addresses", slash + 1, 16, 30, &prefix) != 0)
		return -1;
	uint32_t base = ntohl(net.s_addr) & ~((1u << (32 - prefix)) - 1);
	for (uint32_t h = 1; h < (1u << (32 - prefix)) - 1 && o->addresses < STORM_ADDRESSES_MAX; h++)
		o->address[o->addresses++].s_addr = htonl(base + h);
	return 0;
}

static int
take_url(struct storm_options *o, char *item)
{
	if (o->loop_url_count > STORM_URLS_MAX || strncmp(item, "http://", 7) != 0 ||
	    str_copy(o->loop_urls[o->loop_url_count], item, STORM_URL_MAX) >= STORM_URL_MAX)
		return -1;
	o->loop_url_count++;
	return 0;
}

static int
parse_mac_prefix(struct storm_options *o, const char *v)
{
	unsigned a, b, c;

	if (sscanf(v, "%2x:%2x:%2x", &a, &b, &c) != 3 || strlen(v) != 8)
		return -1;
	o->mac_prefix[0] = (uint8_t)a;
	o->mac_prefix[1] = (uint8_t)b;
	o->mac_prefix[2] = (uint8_t)c;
	return 0;
}

static int
set_number(struct storm_options *o, const char *name, const char *v)
{
	static const struct {
		const char *name;
		uint64_t min, max;
		size_t off;
	} table[] = {
		{ "--clients", 1, STORM_CLIENTS_MAX, offsetof(struct storm_options, clients) },
		{ "--ramp-ms", 0, 600000, offsetof(struct storm_options, ramp_ms) },
		{ "--tftp-timeout-ms", 1, 60000, offsetof(struct storm_options, tftp_timeout_ms) },
		{ "--tftp-retries", 0, 100, offsetof(struct storm_options, tftp_retries) },
		{ "--blksize", 8, 65464, offsetof(struct storm_options, blksize) },
		{ "--windowsize", 1, 65535, offsetof(struct storm_options, windowsize) },
		{ "--http-stall-s", 1, 3600, offsetof(struct storm_options, http_stall_s) },
		{ "--http-loop", 1, 3600, offsetof(struct storm_options, http_loop_s) },
		{ "--deadline-s", 1, 86400, offsetof(struct storm_options, deadline_s) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (strcmp(name, table[i].name) == 0)
			return parse_uint(name, v, table[i].min, table[i].max,
			    (unsigned *)(void *)((char *)o + table[i].off));
	return 1;
}

static int
set_list(struct storm_options *o, const char *name, const char *v)
{
	static const struct {
		const char *name;
		int (*take)(struct storm_options *, char *);
		size_t count;           /* the list's counter in the options */
	} lists[] = {
		{ "--relay", take_relay, offsetof(struct storm_options, relays) },
		{ "--dhcp-timeouts", take_dhcp_timeout, offsetof(struct storm_options, dhcp_timeouts) },
		{ "--ipxe-timeouts", take_ipxe_timeout, offsetof(struct storm_options, ipxe_timeouts) },
		{ "--addresses", take_addresses, offsetof(struct storm_options, addresses) },
		{ "--urls", take_url, offsetof(struct storm_options, loop_url_count) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		if (strcmp(name, lists[i].name) != 0)
			continue;
		*(unsigned *)(void *)((char *)o + lists[i].count) = 0;
		return each_item(o, v, lists[i].take);
	}
	return set_number(o, name, v);
}

static int
set_option(struct storm_options *o, const char *name, const char *v)
{
	if (strcmp(name, "--server") == 0)
		return inet_pton(AF_INET, v, &o->server) == 1 ? 0 : -1;
	if (strcmp(name, "--root") == 0) {
		o->root = v;
		return 0;
	}
	if (strcmp(name, "--mac-prefix") == 0)
		return parse_mac_prefix(o, v);
	return set_list(o, name, v);
}

static void
options_default(struct storm_options *o)
{
	static const unsigned edk2[] = { 4000, 8000, 16000, 32000 };
	static const unsigned ipxe[] = { 1000, 2000, 4000, 8000 };

	memset(o, 0, sizeof *o);
	o->clients = 1;
	o->ramp_ms = 1000;
	memcpy(o->dhcp_timeouts_ms, edk2, sizeof edk2);
	o->dhcp_timeouts = ARRAY_SIZE(edk2);
	memcpy(o->ipxe_timeouts_ms, ipxe, sizeof ipxe);
	o->ipxe_timeouts = ARRAY_SIZE(ipxe);
	o->tftp_timeout_ms = 4000;
	o->tftp_retries = 6;
	o->blksize = 1468;
	o->windowsize = 4;
	o->size_query = true;
	o->http_stall_s = 60;
	o->deadline_s = 900;
	o->mac_prefix[0] = 0x02;                /* locally administered */
	o->mac_prefix[1] = 0x5e;
}

static int
parse_args(int argc, char **argv, struct storm_options *o)
{
	options_default(o);
	for (int i = 1; i < argc; i++) {
		int rc;

		if (strcmp(argv[i], "--no-size-query") == 0) {
			o->size_query = false;
			continue;
		}
		if (i + 1 >= argc || strcmp(argv[i], "--help") == 0) {
			usage();
			return -1;
		}
		rc = set_option(o, argv[i], argv[i + 1]);
		if (rc != 0) {
			fprintf(stderr, "storm: %s %s: %s\n", argv[i], argv[i + 1],
			    rc > 0 ? "unknown option" : "bad value");
			return -1;
		}
		i++;
	}
	if (o->root == NULL || (o->http_loop_s == 0 && (o->server.s_addr == 0 || o->relays == 0)) ||
	    (o->http_loop_s != 0 && (o->loop_url_count == 0 || o->addresses == 0))) {
		usage();
		return -1;
	}
	return 0;
}

/* ---- files under --root, mapped once ---- */

static bool
path_ok(const char *path)
{
	if (path[0] == '\0' || path[0] == '/' || strlen(path) >= STORM_PATH_MAX)
		return false;
	for (const char *p = path; *p != '\0'; p++)
		if ((p == path || p[-1] == '/') && strncmp(p, "..", 2) == 0 &&
		    (p[2] == '/' || p[2] == '\0'))
			return false;
	return true;
}

const struct storm_file *
storm_file(struct storm *s, const char *path)
{
	char full[2 * STORM_PATH_MAX];
	struct storm_file *f;
	struct stat st;
	int fd;

	while (*path == '/')
		path++;
	if (!path_ok(path))
		return NULL;
	for (unsigned i = 0; i < s->nfiles; i++)
		if (strcmp(s->files[i].path, path) == 0)
			return &s->files[i];
	if (s->nfiles >= STORM_FILES_MAX)
		return NULL;
	snprintf(full, sizeof full, "%s/%s", s->o.root, path);
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	f = &s->files[s->nfiles];
	f->len = (size_t)st.st_size;
	f->data = f->len > 0 ? mmap(NULL, f->len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0) : NULL;
	close(fd);
	if (f->data == MAP_FAILED)
		return NULL;
	str_copy(f->path, path, sizeof f->path);
	s->nfiles++;
	return f;
}

/* ---- clients ---- */

void
storm_fail(struct storm *s, struct client *c, enum storm_step step, const char *why)
{
	if (c->state == C_DONE || c->state == C_FAILED)
		return;
	storm_tftp_close(s, c);
	c->state = C_FAILED;
	c->failed_step = step;
	c->why = why;
	c->due_us = UINT64_MAX;
	c->end_us = clock_now_us();
	s->finished++;
	if (s->errors_shown++ < STORM_ERRORS_SHOWN)
		fprintf(stderr, "storm: client %u (%02x:%02x:%02x:%02x:%02x:%02x) failed at %s: %s\n",
		    c->index, c->mac[0], c->mac[1], c->mac[2], c->mac[3], c->mac[4], c->mac[5],
		    step_names[step], why);
}

void
storm_watch(struct storm *s, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		fprintf(stderr, "storm: epoll_ctl: %s\n", strerror(errno));
}

static void
clients_init(struct storm *s)
{
	const struct storm_options *o = &s->o;

	for (unsigned i = 0; i < o->clients; i++) {
		struct client *c = &s->c[i];

		c->index = i;
		c->state = C_WAITING;
		c->fd = -1;
		memcpy(c->mac, o->mac_prefix, 3);
		c->mac[3] = (uint8_t)(i >> 16);
		c->mac[4] = (uint8_t)(i >> 8);
		c->mac[5] = (uint8_t)i;
		if (o->relays > 0)
			c->giaddr = o->relay[i % o->relays];
		c->start_at_us = s->t0_us + (o->clients > 1 ?
		    (uint64_t)o->ramp_ms * 1000 * i / (o->clients - 1) : 0);
		c->due_us = UINT64_MAX;
	}
}

/* Start the clients whose time has come, fire retransmission timers. */
static void
clients_tick(struct storm *s, uint64_t now)
{
	for (unsigned i = 0; i < s->o.clients; i++) {
		struct client *c = &s->c[i];

		if (c->state == C_WAITING && now >= c->start_at_us) {
			c->start_us = now;
			if (s->o.http_loop_s != 0)
				storm_http_loop_start(s, c, now);
			else
				storm_dhcp_start(s, c, false, now);
		} else if (now >= c->due_us) {
			if (c->state == C_DISCOVER || c->state == C_REQUEST)
				storm_dhcp_timeout(s, c, now);
			else if (c->state == C_TFTP_SIZE || c->state == C_TFTP_DATA)
				storm_tftp_timeout(s, c, now);
		}
	}
}

static void
dispatch(struct storm *s, const struct epoll_event *ev, uint64_t now)
{
	uint32_t kind = (uint32_t)(ev->data.u64 >> 32);
	uint32_t value = (uint32_t)ev->data.u64;

	if (kind == TAG_DHCP)
		storm_dhcp_readable(s, now);
	else if (kind == TAG_TFTP && value < s->o.clients)
		storm_tftp_readable(s, &s->c[value], now);
	else if (kind == TAG_CURL)
		storm_http_event(s, (int)value, ev->events);
}

static void
fail_unfinished(struct storm *s)
{
	for (unsigned i = 0; i < s->o.clients; i++) {
		struct client *c = &s->c[i];
		enum storm_step step = c->state == C_HTTP ? STEP_HTTP :
		    c->state == C_TFTP_SIZE || c->state == C_TFTP_DATA ? STEP_TFTP :
		    c->ipxe ? STEP_IPXE_DHCP : STEP_DHCP;

		storm_fail(s, c, step, "the run's deadline passed");
	}
}

/* Bounded by --deadline-s: every pass sees the clock. */
static void
event_loop(struct storm *s)
{
	struct epoll_event evs[256];
	uint64_t deadline = s->t0_us + (uint64_t)s->o.deadline_s * 1000000;
	uint64_t next_tick = s->t0_us;

	while (s->finished < s->o.clients) {
		uint64_t now = clock_now_us(), wake;
		int n;

		if (now >= deadline) {
			fail_unfinished(s);
			return;
		}
		if (now >= next_tick) {
			clients_tick(s, now);
			next_tick = now + TICK_US;
		}
		if (now >= s->curl_due_us)
			storm_http_timer(s);
		wake = MIN(next_tick, s->curl_due_us);
		n = epoll_wait(s->ep, evs, (int)ARRAY_SIZE(evs),
		    wake > now ? (int)((wake - now + 999) / 1000) : 0);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "storm: epoll_wait: %s\n", strerror(errno));
			fail_unfinished(s);
			return;
		}
		now = clock_now_us();
		for (int i = 0; i < n; i++)
			dispatch(s, &evs[i], now);
	}
}

/* Each client may hold a TFTP socket and a TCP connection at once. */
static void
raise_fd_limit(unsigned clients)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)clients * 3 + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (rl.rlim_max < want)
			rl.rlim_max = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			fprintf(stderr, "storm: cannot raise the open file limit to %llu\n",
			    (unsigned long long)want);
	}
}

static int
setup(struct storm *s)
{
	raise_fd_limit(s->o.clients);
	if (getrandom(&s->xid_base, sizeof s->xid_base, 0) != sizeof s->xid_base)
		s->xid_base = (uint32_t)clock_now_us();
	s->xid_base &= 0xfff00000u;
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->c = calloc(s->o.clients, sizeof *s->c);
	if (s->ep < 0 || s->c == NULL) {
		fprintf(stderr, "storm: out of resources\n");
		return -1;
	}
	s->curl_due_us = UINT64_MAX;
	if (s->o.http_loop_s != 0) {
		s->lat_small = calloc(STORM_LATENCIES_MAX, sizeof *s->lat_small);
		s->lat_large = calloc(STORM_LATENCIES_MAX, sizeof *s->lat_large);
		if (s->lat_small == NULL || s->lat_large == NULL)
			return -1;
	} else if (storm_dhcp_open(s) != 0) {
		return -1;
	}
	if (storm_http_setup(s) != 0)
		return -1;
	s->t0_us = clock_now_us();
	s->loop_end_us = s->t0_us + (uint64_t)s->o.http_loop_s * 1000000;
	clients_init(s);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct storm s;
	unsigned failed = 0;

	if (parse_args(argc, argv, &s.o) != 0 || setup(&s) != 0)
		return 2;
	event_loop(&s);
	if (s.o.http_loop_s != 0)
		storm_report_loop(&s, clock_now_us());
	else
		storm_report(&s, clock_now_us());
	for (unsigned i = 0; i < s.o.clients; i++)
		failed += s.c[i].state != C_DONE;
	storm_http_cleanup(&s);
	free(s.c);
	free(s.lat_small);
	free(s.lat_large);
	if (s.o.http_loop_s == 0)
		close(s.dhcp_fd);
	close(s.ep);
	return failed > 0 ? 1 : 0;
}

/* tftp-load: a fast TFTP download client for benchmarks.
 *
 * Runs --concurrency transfers of one file at once from a single thread
 * (epoll over one UDP socket per transfer), --count times.  Each transfer
 * sends an RRQ with the options asked for, answers an OACK with ACK 0,
 * follows RFC 7440 windows (ACK the last block of a window or the final
 * short block; on a gap, ACK the last in-order block at once), rolls the
 * block number over to 0, retransmits its last ACK (or the RRQ) after
 * --timeout-ms, and checks every byte against --verify.
 *
 * One line per run on stdout:
 *   tftp-load: run=1 ok=N failed=M bytes=B wall_s=S mib_s=X
 * Exit status 0 only when every transfer of every run was complete and
 * byte-identical. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "tftp/codec.h"

#define BATCH 32                 /* datagrams per recvmmsg */
#define PKT_MAX (TFTP_BLKSIZE_MAX + TFTP_HEADER_SIZE + 64)
#define RCVBUF_BYTES (4 << 20)
#define ERRORS_SHOWN 10          /* per run, on stderr */

struct options {
	const char *server;
	uint16_t port;
	const char *file;
	const char *verify;
	const char *bind;
	uint32_t blksize;        /* 0: do not ask */
	uint32_t windowsize;     /* 0: do not ask */
	bool tsize;
	unsigned concurrency;
	unsigned count;
	unsigned timeout_ms;
	unsigned retries;
	unsigned deadline_s;
};

struct image {
	const uint8_t *data;
	size_t len;
};

enum xfer_state {
	X_FIRST,                 /* RRQ sent, nothing back yet */
	X_DATA,
	X_DONE,
	X_FAILED,
};

struct xfer {
	int fd;
	enum xfer_state state;
	struct sockaddr_in tid;  /* the server's transfer address */
	uint32_t blksize;
	uint32_t windowsize;
	uint64_t next;           /* next block expected, 1-based, unwrapped */
	uint64_t bytes;
	uint32_t in_window;      /* blocks taken since the last ACK */
	bool gap_acked;          /* a gap ACK is out; wait for progress */
	uint64_t due_us;         /* retransmit time */
	unsigned retries;
	const char *why;
};

struct run {
	const struct options *o;
	const struct image *img;
	struct sockaddr_in server;
	uint8_t rrq[TFTP_REQUEST_MAX];
	size_t rrq_len;
	struct xfer *x;
	unsigned active;
	unsigned errors_shown;
	uint8_t (*bufs)[PKT_MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in from[BATCH];
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tftp-load --server IP [--port 69] --file NAME --verify PATH\n"
	    "  [--blksize N] [--windowsize N] [--tsize] [--concurrency C]\n"
	    "  [--count N] [--timeout-ms T] [--retries R] [--deadline-s S]\n"
	    "  [--bind ADDR]\n");
}

static int
parse_num(const char *name, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v < min || v > max) {
		fprintf(stderr, "tftp-load: %s: want a number in %llu..%llu, got '%s'\n",
		    name, (unsigned long long)min, (unsigned long long)max, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int
set_number(struct options *o, const char *name, const char *val)
{
	static const struct {
		const char *name;
		uint64_t min, max;
		size_t off;
		bool u16;
	} table[] = {
		{ "--port", 1, 65535, offsetof(struct options, port), true },
		{ "--blksize", 8, TFTP_BLKSIZE_MAX, offsetof(struct options, blksize), false },
		{ "--windowsize", 1, TFTP_WINDOWSIZE_MAX, offsetof(struct options, windowsize), false },
		{ "--concurrency", 1, 10000, offsetof(struct options, concurrency), false },
		{ "--count", 1, 100000, offsetof(struct options, count), false },
		{ "--timeout-ms", 1, 60000, offsetof(struct options, timeout_ms), false },
		{ "--retries", 0, 1000, offsetof(struct options, retries), false },
		{ "--deadline-s", 1, 86400, offsetof(struct options, deadline_s), false },
	};
	uint64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		if (strcmp(name, table[i].name) != 0)
			continue;
		if (parse_num(name, val, table[i].min, table[i].max, &v) != 0)
			return -1;
		if (table[i].u16)
			*(uint16_t *)((char *)o + table[i].off) = (uint16_t)v;
		else
			*(uint32_t *)((char *)o + table[i].off) = (uint32_t)v;
		return 0;
	}
	return 1;
}

static int
set_string(struct options *o, const char *name, const char *val)
{
	if (strcmp(name, "--server") == 0)
		o->server = val;
	else if (strcmp(name, "--file") == 0)
		o->file = val;
	else if (strcmp(name, "--verify") == 0)
		o->verify = val;
	else if (strcmp(name, "--bind") == 0)
		o->bind = val;
	else
		return 1;
	return 0;
}

static int
parse_args(int argc, char **argv, struct options *o)
{
	*o = (struct options){ .port = 69, .concurrency = 1, .count = 1,
	    .timeout_ms = 500, .retries = 10, .deadline_s = 300 };
	for (int i = 1; i < argc; i++) {
		int r;

		if (strcmp(argv[i], "--tsize") == 0) {
			o->tsize = true;
			continue;
		}
		if (strcmp(argv[i], "--help") == 0 || i + 1 >= argc) {
			usage();
			return -1;
		}
		r = set_string(o, argv[i], argv[i + 1]);
		if (r > 0)
			r = set_number(o, argv[i], argv[i + 1]);
		if (r != 0) {
			if (r > 0)
				fprintf(stderr, "tftp-load: unknown option %s\n", argv[i]);
			return -1;
		}
		i++;
	}
	if (o->server == NULL || o->file == NULL || o->verify == NULL) {
		usage();
		return -1;
	}
	return 0;
}

static int
map_image(const char *path, struct image *img)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "tftp-load: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	img->len = (size_t)st.st_size;
	img->data = NULL;
	if (img->len > 0) {
		void *p = mmap(NULL, img->len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);

		if (p == MAP_FAILED) {
			fprintf(stderr, "tftp-load: mmap %s: %s\n", path, strerror(errno));
			close(fd);
			return -1;
		}
		img->data = p;
	}
	close(fd);
	return 0;
}

static int
make_addr(const char *ip, uint16_t port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1) {
		fprintf(stderr, "tftp-load: not an IPv4 address: %s\n", ip);
		return -1;
	}
	return 0;
}

static int
build_rrq(struct run *r)
{
	const struct options *o = r->o;
	struct tftp_oack req = { 0 };

	if (o->blksize != 0) {
		req.present |= TFTP_OPT_BLKSIZE;
		req.blksize = o->blksize;
	}
	if (o->tsize)
		req.present |= TFTP_OPT_TSIZE;
	if (o->windowsize != 0) {
		req.present |= TFTP_OPT_WINDOWSIZE;
		req.windowsize = o->windowsize;
	}
	r->rrq_len = tftp_build_request(r->rrq, sizeof r->rrq, TFTP_RRQ,
	    o->file, "octet", req.present != 0 ? &req : NULL);
	if (r->rrq_len == 0) {
		fprintf(stderr, "tftp-load: file name too long\n");
		return -1;
	}
	return 0;
}

static int
fail(struct run *r, struct xfer *x, const char *why)
{
	if (x->state == X_DONE || x->state == X_FAILED)
		return -1;
	x->state = X_FAILED;
	x->why = why;
	r->active--;
	if (r->errors_shown++ < ERRORS_SHOWN)
		fprintf(stderr, "tftp-load: transfer %td failed at block %llu "
		    "(%llu bytes): %s\n", x - r->x, (unsigned long long)x->next,
		    (unsigned long long)x->bytes, why);
	close(x->fd);
	x->fd = -1;
	return -1;
}

static int
finish(struct run *r, struct xfer *x)
{
	x->state = X_DONE;
	r->active--;
	close(x->fd);
	x->fd = -1;
	return 0;
}

static void
send_to(struct xfer *x, const struct sockaddr_in *to, const uint8_t *p, size_t n)
{
	/* A lost send is a lost packet: the retransmit timer covers it. */
	(void)sendto(x->fd, p, n, 0, (const struct sockaddr *)to, sizeof *to);
}

static void
send_ack(struct run *r, struct xfer *x, uint64_t block)
{
	uint8_t pkt[TFTP_HEADER_SIZE];
	size_t n = tftp_build_ack(pkt, sizeof pkt, (uint16_t)block);

	send_to(x, &x->tid, pkt, n);
	x->in_window = 0;
	x->due_us = clock_now_us() + (uint64_t)r->o->timeout_ms * 1000;
}

static void
send_unknown_tid(struct xfer *x, const struct sockaddr_in *to)
{
	uint8_t pkt[64];
	size_t n = tftp_build_error(pkt, sizeof pkt, TFTP_ERR_UNKNOWN_TID,
	    "unknown transfer ID");

	send_to(x, to, pkt, n);
}

static int
open_socket(const struct options *o)
{
	struct sockaddr_in local;
	int bufsize = RCVBUF_BYTES;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof bufsize) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
	if (o->bind != NULL) {
		if (make_addr(o->bind, 0, &local) != 0 ||
		    bind(fd, (struct sockaddr *)&local, sizeof local) != 0) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static int
start_xfer(struct run *r, struct xfer *x, int ep)
{
	struct epoll_event ev = { .events = EPOLLIN };

	*x = (struct xfer){ .fd = -1, .state = X_FIRST, .next = 1 };
	x->fd = open_socket(r->o);
	if (x->fd < 0) {
		fprintf(stderr, "tftp-load: socket: %s\n", strerror(errno));
		return -1;
	}
	ev.data.ptr = x;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, x->fd, &ev) != 0) {
		fprintf(stderr, "tftp-load: epoll_ctl: %s\n", strerror(errno));
		close(x->fd);
		x->fd = -1;
		return -1;
	}
	r->active++;
	x->tid = r->server;
	send_to(x, &r->server, r->rrq, r->rrq_len);
	x->due_us = clock_now_us() + (uint64_t)r->o->timeout_ms * 1000;
	return 0;
}

/* The block numbered next is in hand: check it and move on. */
static int
take_block(struct run *r, struct xfer *x, const uint8_t *p, size_t n)
{
	uint64_t off = (x->next - 1) * (uint64_t)x->blksize;

	if (n > x->blksize)
		return fail(r, x, "DATA longer than blksize");
	if (off + n > r->img->len)
		return fail(r, x, "more data than the file holds");
	if (n > 0 && memcmp(r->img->data + off, p, n) != 0)
		return fail(r, x, "data differs from the file");
	x->bytes += n;
	x->gap_acked = false;
	x->retries = 0;
	x->in_window++;
	if (n < x->blksize) {
		if (off + n != r->img->len)
			return fail(r, x, "transfer ended short of the file");
		send_ack(r, x, x->next);
		return finish(r, x);
	}
	x->next++;
	if (x->in_window >= x->windowsize)
		send_ack(r, x, x->next - 1);
	else
		x->due_us = clock_now_us() + (uint64_t)r->o->timeout_ms * 1000;
	return 0;
}

static int
on_data(struct run *r, struct xfer *x, uint16_t block, const uint8_t *p, size_t n)
{
	uint16_t diff = (uint16_t)(block - (uint16_t)x->next);

	if (diff == 0)
		return take_block(r, x, p, n);
	if (diff < 0x8000) {
		/* A gap: ask for the window again from the first missing block. */
		if (!x->gap_acked) {
			send_ack(r, x, x->next - 1);
			x->gap_acked = true;
		}
		return 0;
	}
	/* An old block again: the server missed our ACK of it. */
	if (block == (uint16_t)(x->next - 1))
		send_ack(r, x, x->next - 1);
	return 0;
}

static int
on_oack(struct run *r, struct xfer *x, const uint8_t *p, size_t n)
{
	const struct options *o = r->o;
	struct tftp_oack oack;

	if (x->state == X_DATA) {
		if (x->next == 1)       /* our ACK 0 was lost */
			send_ack(r, x, 0);
		return 0;
	}
	if (tftp_oack_parse(p, n, &oack) != 0)
		return fail(r, x, "malformed OACK");
	x->blksize = (oack.present & TFTP_OPT_BLKSIZE) ? oack.blksize : TFTP_BLKSIZE_DEFAULT;
	x->windowsize = (oack.present & TFTP_OPT_WINDOWSIZE) ? oack.windowsize : 1;
	if (x->blksize < TFTP_BLKSIZE_MIN || (o->blksize != 0 && x->blksize > o->blksize))
		return fail(r, x, "OACK blksize out of range");
	if (x->windowsize == 0 || (o->windowsize != 0 && x->windowsize > o->windowsize))
		return fail(r, x, "OACK windowsize out of range");
	if ((oack.present & TFTP_OPT_TSIZE) && oack.tsize != r->img->len)
		return fail(r, x, "OACK tsize differs from the file size");
	x->state = X_DATA;
	send_ack(r, x, 0);
	return 0;
}

static int
on_error(struct run *r, struct xfer *x, uint16_t code, const uint8_t *p, size_t n)
{
	int len = (int)strnlen((const char *)p + TFTP_HEADER_SIZE, n - TFTP_HEADER_SIZE);

	if (r->errors_shown < ERRORS_SHOWN)
		fprintf(stderr, "tftp-load: transfer %td: server ERROR %u: %.*s\n",
		    x - r->x, code, len, (const char *)p + TFTP_HEADER_SIZE);
	return fail(r, x, "server sent ERROR");
}

static bool
same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

/* First answer to the RRQ: it fixes the server's transfer ID. */
static bool
accept_tid(struct run *r, struct xfer *x, const struct sockaddr_in *from)
{
	if (x->state == X_FIRST) {
		if (from->sin_addr.s_addr != r->server.sin_addr.s_addr)
			return false;
		x->tid = *from;
		return true;
	}
	if (same_addr(from, &x->tid))
		return true;
	if (from->sin_addr.s_addr == r->server.sin_addr.s_addr)
		send_unknown_tid(x, from);  /* a second session from a resent RRQ */
	return false;
}

static int
on_packet(struct run *r, struct xfer *x, const struct sockaddr_in *from,
    const uint8_t *p, size_t n)
{
	uint16_t op, num;

	if (!accept_tid(r, x, from) || tftp_packet_header(p, n, &op, &num) != 0)
		return 0;
	if (op == TFTP_ERROR)
		return on_error(r, x, num, p, n);
	if (op == TFTP_OACK)
		return on_oack(r, x, p, n);
	if (op != TFTP_DATA)
		return 0;
	if (x->state == X_FIRST) {
		/* No OACK: the server took none of the options. */
		x->state = X_DATA;
		x->blksize = TFTP_BLKSIZE_DEFAULT;
		x->windowsize = 1;
	}
	return on_data(r, x, num, p + TFTP_HEADER_SIZE, n - TFTP_HEADER_SIZE);
}

static void
drain(struct run *r, struct xfer *x)
{
	for (int round = 0; round < 64 && x->fd >= 0; round++) {
		int got;

		for (int i = 0; i < BATCH; i++) {
			r->msgs[i].msg_hdr.msg_namelen = sizeof r->from[i];
			r->msgs[i].msg_hdr.msg_flags = 0;
		}
		got = recvmmsg(x->fd, r->msgs, BATCH, MSG_DONTWAIT, NULL);
		if (got <= 0)
			return;
		for (int i = 0; i < got && x->fd >= 0; i++) {
			if (r->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				fail(r, x, "datagram larger than the receive buffer");
				return;
			}
			on_packet(r, x, &r->from[i], r->bufs[i], r->msgs[i].msg_len);
		}
		if (got < BATCH)
			return;
	}
}

static int
on_timeout(struct run *r, struct xfer *x, uint64_t now)
{
	if (x->retries++ >= r->o->retries)
		return fail(r, x, x->state == X_FIRST ? "no answer to the RRQ" :
		    "timed out waiting for DATA");
	x->gap_acked = false;
	if (x->state == X_FIRST) {
		send_to(x, &r->server, r->rrq, r->rrq_len);
		x->due_us = now + (uint64_t)r->o->timeout_ms * 1000;
		return 0;
	}
	send_ack(r, x, x->next - 1);
	return 0;
}

static void
check_timers(struct run *r, uint64_t now)
{
	for (unsigned i = 0; i < r->o->concurrency; i++) {
		struct xfer *x = &r->x[i];

		if ((x->state == X_FIRST || x->state == X_DATA) && now >= x->due_us)
			on_timeout(r, x, now);
	}
}

static void
fail_all(struct run *r, const char *why)
{
	for (unsigned i = 0; i < r->o->concurrency; i++)
		fail(r, &r->x[i], why);
}

static void
event_loop(struct run *r, int ep, uint64_t deadline_us)
{
	struct epoll_event evs[256];
	uint64_t tick_us = MIN((uint64_t)r->o->timeout_ms * 1000 / 5, 50000);
	uint64_t next_check = clock_now_us() + tick_us;

	/* Bounded by the deadline: every pass sees the clock. */
	while (r->active > 0) {
		uint64_t now = clock_now_us();
		int wait_ms, n;

		if (now >= deadline_us) {
			fail_all(r, "overall deadline reached");
			return;
		}
		if (now >= next_check) {
			check_timers(r, now);
			next_check = now + tick_us;
			continue;
		}
		wait_ms = (int)((next_check - now + 999) / 1000);
		n = epoll_wait(ep, evs, (int)ARRAY_SIZE(evs), wait_ms);
		if (n < 0 && errno != EINTR) {
			fail_all(r, "epoll_wait failed");
			return;
		}
		for (int i = 0; i < n; i++)
			drain(r, evs[i].data.ptr);
	}
}

static void
report(const struct run *r, unsigned run_no, double wall_s)
{
	unsigned ok = 0, failed = 0;
	uint64_t bytes = 0;

	for (unsigned i = 0; i < r->o->concurrency; i++) {
		bytes += r->x[i].bytes;
		if (r->x[i].state == X_DONE)
			ok++;
		else
			failed++;
	}
	printf("tftp-load: run=%u ok=%u failed=%u bytes=%llu wall_s=%.3f mib_s=%.2f\n",
	    run_no, ok, failed, (unsigned long long)bytes, wall_s,
	    wall_s > 0 ? (double)bytes / wall_s / (1024.0 * 1024.0) : 0.0);
	fflush(stdout);
}

static int
one_run(struct run *r, unsigned run_no, uint64_t deadline_us)
{
	uint64_t t0;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	unsigned c = r->o->concurrency;

	if (ep < 0)
		return -1;
	r->active = 0;
	r->errors_shown = 0;
	t0 = clock_now_us();
	for (unsigned i = 0; i < c; i++) {
		if (start_xfer(r, &r->x[i], ep) != 0) {
			r->x[i].state = X_FAILED;
			r->x[i].why = "could not start";
		}
	}
	event_loop(r, ep, deadline_us);
	report(r, run_no, (double)(clock_now_us() - t0) / 1e6);
	close(ep);
	for (unsigned i = 0; i < c; i++)
		if (r->x[i].state != X_DONE)
			return 1;
	return 0;
}

static int
setup_run(struct run *r, const struct options *o, const struct image *img)
{
	memset(r, 0, sizeof *r);
	r->o = o;
	r->img = img;
	if (make_addr(o->server, o->port, &r->server) != 0 || build_rrq(r) != 0)
		return -1;
	r->x = calloc(o->concurrency, sizeof *r->x);
	r->bufs = calloc(BATCH, sizeof *r->bufs);
	if (r->x == NULL || r->bufs == NULL) {
		fprintf(stderr, "tftp-load: out of memory\n");
		return -1;
	}
	for (int i = 0; i < BATCH; i++) {
		r->iov[i] = (struct iovec){ .iov_base = r->bufs[i], .iov_len = PKT_MAX };
		r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
		r->msgs[i].msg_hdr.msg_iovlen = 1;
		r->msgs[i].msg_hdr.msg_name = &r->from[i];
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct image img;
	struct run r;
	uint64_t deadline_us;
	int status = 0;

	if (parse_args(argc, argv, &o) != 0)
		return 2;
	if (map_image(o.verify, &img) != 0 || setup_run(&r, &o, &img) != 0)
		return 2;
	deadline_us = clock_now_us() + (uint64_t)o.deadline_s * 1000000;
	for (unsigned i = 1; i <= o.count; i++) {
		int rc = one_run(&r, i, deadline_us);

		if (rc < 0)
			return 2;
		if (rc != 0)
			status = 1;
	}
	free(r.x);
	free(r.bufs);
	return status;
}

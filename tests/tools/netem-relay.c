/*
 * netem-relay: userspace link impairment for tests on kernels without the
 * netem qdisc.  Creates two TAP devices and relays Ethernet frames between
 * them, applying per-direction delay, jitter, loss, reordering and
 * duplication.  The test moves each TAP into its own network namespace
 * after the relay reports that the devices exist; the file descriptors stay
 * valid across the move.
 *
 * Each direction has two FIFO lanes of fixed-size slots: the main lane and
 * a "held" lane for frames picked for reordering, which are released a gap
 * (--reorder-gap-ms, default 1 ms) after they would have been, so frames
 * behind them overtake.  Jitter never reorders on its own: release times in
 * the main lane are kept monotonic, as on a real link with variable queueing.
 * Waits use ppoll() with a nanosecond timeout and a 1 us timer slack.
 * Each direction runs in its own thread (the kernel's receive work for the
 * frames written happens in the writer's thread: two directions, two
 * cores); the main thread waits for SIGTERM/SIGINT or --duration-s.
 *
 * The TAPs carry a virtio_net_hdr and offer checksum and TSO offloads
 * (--no-offload: plain frames), so the kernel hands over TCP super-frames
 * of up to 64 KiB: one read and one write for up to 44 segments, which is
 * what lets a userspace relay carry a boot storm's 15 GB of HTTP.  Delay,
 * the queue bound, reordering and duplication apply per frame read, loss
 * per segment: a super-frame that loses some is sent as its runs of kept
 * segments (headers copied, IP length/ID/checksum, TCP sequence and flags
 * fixed, the checksum left to the kernel with the pseudo-header sum it
 * expects).  Frames other than TCP leave with their checksum completed.
 * A lane's memory is --queue x 2 KiB of bytes, whatever the frame sizes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "core/cursor.h"

#define VNET_LEN sizeof(struct virtio_net_hdr)
#define FRAME_BUF (128 * 1024)          /* a 64 KiB super-frame and headers */
#define BYTES_PER_SLOT 2048             /* lane memory: --queue x this */
#define BATCH 64
#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL

/* A lane is a FIFO of records (release time, offset, length) over a ring of
 * bytes: a queued frame costs its own length, a 64 KiB super-frame as much
 * as 44 plain ones.  Each record holds the virtio_net_hdr and the frame. */
struct rec {
	int64_t due;
	uint32_t off;
	uint32_t len;
};

struct lane {
	struct rec *recs;
	size_t cap;
	size_t head;
	size_t count;
	unsigned char *bytes;
	size_t size;
	size_t wr;
};

struct counters {
	unsigned long long rx;          /* frames read (super-frames count 1) */
	unsigned long long tx;          /* frames written */
	unsigned long long segments;    /* TCP segments and other frames read */
	unsigned long long lost;        /* of those, dropped by --loss */
	unsigned long long super;       /* TCP super-frames read */
	unsigned long long split;       /* ... sent in parts around a loss */
	unsigned long long unsplit;     /* GSO frames not parsed: one draw */
	unsigned long long duplicated;
	unsigned long long reordered;
	unsigned long long queue_full;
	unsigned long long tx_errors;
	unsigned long long oversize;
};

/* One direction runs in a thread of its own, with its own random stream
 * and buffers: the kernel's receive work for the frames a direction writes
 * is done in its thread, so the two directions use two cores. */
struct direction {
	const char *name;
	const char *in_name;
	const struct options *opt;
	int in_fd;
	int out_fd;
	double loss;
	uint64_t rng;
	int64_t deadline;
	struct lane main;
	struct lane held;
	int64_t last_due;
	struct counters c;
	bool keep[65536];               /* per segment of a super-frame */
	unsigned char buf[FRAME_BUF];   /* the frame read */
	unsigned char run[FRAME_BUF];   /* a run of kept segments */
};

struct options {
	const char *tap_a;
	const char *tap_b;
	const char *ready_file;
	double delay_ms;
	double jitter_ms;
	double loss;
	double loss_ab;
	double loss_ba;
	double reorder;
	double duplicate;
	double reorder_gap_ms;
	double rate_mbit;               /* 0: unlimited */
	uint64_t seed;
	long duration_s;
	long queue;
	bool no_offload;
};

static atomic_int stop_requested;
static atomic_int fatal_error;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* splitmix64: small, seedable, good enough for test impairment. */
static uint64_t
rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
rng_unit(struct direction *d)
{
	return (double)(rng_next(&d->rng) >> 11) / (double)(1ULL << 53);
}

static bool
chance(struct direction *d, double pct)
{
	return pct > 0 && rng_unit(d) * 100.0 < pct;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: netem-relay --tap-a NAME --tap-b NAME [--delay-ms D]\n"
		"       [--jitter-ms J] [--loss PCT] [--loss-a-to-b PCT]\n"
		"       [--loss-b-to-a PCT] [--reorder PCT] [--duplicate PCT]\n"
		"       [--reorder-gap-ms G] [--queue FRAMES] [--seed N]\n"
		"       [--ready-file PATH] [--duration-s N] [--rate-mbit R]\n"
		"       [--no-offload]\n");
}

static bool
parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
		return false;
	*out = v;
	return true;
}

static bool
parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0')
		return false;
	*out = v;
	return true;
}

enum opt_id {
	OPT_TAP_A = 256, OPT_TAP_B, OPT_DELAY, OPT_JITTER, OPT_LOSS,
	OPT_LOSS_AB, OPT_LOSS_BA, OPT_REORDER, OPT_DUP, OPT_GAP, OPT_SEED,
	OPT_READY, OPT_DURATION, OPT_QUEUE, OPT_RATE, OPT_NO_OFFLOAD, OPT_HELP,
};

static const struct option long_opts[] = {
	{ "tap-a", required_argument, NULL, OPT_TAP_A },
	{ "tap-b", required_argument, NULL, OPT_TAP_B },
	{ "delay-ms", required_argument, NULL, OPT_DELAY },
	{ "jitter-ms", required_argument, NULL, OPT_JITTER },
	{ "loss", required_argument, NULL, OPT_LOSS },
	{ "loss-a-to-b", required_argument, NULL, OPT_LOSS_AB },
	{ "loss-b-to-a", required_argument, NULL, OPT_LOSS_BA },
	{ "reorder", required_argument, NULL, OPT_REORDER },
	{ "duplicate", required_argument, NULL, OPT_DUP },
	{ "reorder-gap-ms", required_argument, NULL, OPT_GAP },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "ready-file", required_argument, NULL, OPT_READY },
	{ "duration-s", required_argument, NULL, OPT_DURATION },
	{ "queue", required_argument, NULL, OPT_QUEUE },
	{ "rate-mbit", required_argument, NULL, OPT_RATE },
	{ "no-offload", no_argument, NULL, OPT_NO_OFFLOAD },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static bool
apply_pct_opt(struct options *o, int id, const char *arg)
{
	double *dst = id == OPT_LOSS ? &o->loss :
		id == OPT_LOSS_AB ? &o->loss_ab :
		id == OPT_LOSS_BA ? &o->loss_ba :
		id == OPT_REORDER ? &o->reorder : &o->duplicate;

	return parse_double(arg, 0.0, 100.0, dst);
}

static bool
apply_opt(struct options *o, int id, const char *arg)
{
	switch (id) {
	case OPT_TAP_A:
		o->tap_a = arg;
		return strlen(arg) > 0 && strlen(arg) < IFNAMSIZ;
	case OPT_TAP_B:
		o->tap_b = arg;
		return strlen(arg) > 0 && strlen(arg) < IFNAMSIZ;
	case OPT_DELAY:
		return parse_double(arg, 0.0, 60000.0, &o->delay_ms);
	case OPT_JITTER:
		return parse_double(arg, 0.0, 60000.0, &o->jitter_ms);
	case OPT_GAP:
		return parse_double(arg, 0.0, 60000.0, &o->reorder_gap_ms);
	case OPT_LOSS:
	case OPT_LOSS_AB:
	case OPT_LOSS_BA:
	case OPT_REORDER:
	case OPT_DUP:
		return apply_pct_opt(o, id, arg);
	case OPT_SEED:
		return parse_u64(arg, &o->seed);
	case OPT_READY:
		o->ready_file = arg;
		return strlen(arg) > 0;
	case OPT_DURATION:
		return parse_long(arg, 1, 100L * 24 * 3600, &o->duration_s);
	case OPT_QUEUE:
		return parse_long(arg, 16, 1L << 20, &o->queue);
	case OPT_RATE:
		return parse_double(arg, 0.0, 100000.0, &o->rate_mbit);
	case OPT_NO_OFFLOAD:
		o->no_offload = true;
		return true;
	default:
		return false;
	}
}

static void
default_options(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->loss_ab = -1;
	o->loss_ba = -1;
	o->reorder_gap_ms = 1.0;
	o->duration_s = 3600;
	o->queue = 16384;
	o->seed = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32);
}

static int
parse_args(int argc, char **argv, struct options *o)
{
	int id;

	default_options(o);
	while ((id = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (id == 'h' || id == OPT_HELP) {
			usage(stdout);
			exit(0);
		}
		if (id == '?' || !apply_opt(o, id, optarg)) {
			if (id != '?')
				fprintf(stderr, "netem-relay: bad value '%s'\n", optarg);
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || o->tap_a == NULL || o->tap_b == NULL) {
		usage(stderr);
		return -1;
	}
	if (o->loss_ab < 0)
		o->loss_ab = o->loss;
	if (o->loss_ba < 0)
		o->loss_ba = o->loss;
	return 0;
}

/* Opens a TAP with a virtio_net_hdr before every frame.  With offload the
 * kernel leaves checksums to us (NEEDS_CSUM) and hands over TCP super-frames
 * (GSO, up to 64 KiB) which are written to the other TAP as they are: the
 * kernel there segments them or receives them whole, as from a NIC's GRO. */
static int
tap_open(const char *name, bool offload)
{
	struct ifreq ifr;
	int fd, hdr = (int)VNET_LEN;
	unsigned int off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "netem-relay: open /dev/net/tun: %s\n",
			strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
		ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
		ioctl(fd, TUNSETOFFLOAD, offload ? off : 0U) < 0) {
		fprintf(stderr, "netem-relay: cannot set up TAP '%s': %s\n",
			name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
lane_init(struct lane *l, size_t cap)
{
	memset(l, 0, sizeof(*l));
	l->cap = cap;
	l->size = cap * BYTES_PER_SLOT;
	if (l->size < 2 * FRAME_BUF)
		l->size = 2 * FRAME_BUF;
	l->recs = calloc(cap, sizeof(*l->recs));
	l->bytes = malloc(l->size);
	return l->recs == NULL || l->bytes == NULL ? -1 : 0;
}

/* Where LEN bytes fit after the newest record, or -1: the ring is full. */
static long
lane_space(const struct lane *l, size_t len)
{
	size_t start;

	if (l->count == 0)
		return len <= l->size ? 0 : -1;
	start = l->recs[l->head].off;
	if (l->wr > start) {
		if (len <= l->size - l->wr)
			return (long)l->wr;
		return len < start ? 0 : -1;
	}
	return l->wr + len < start ? (long)l->wr : -1;
}

static unsigned char *
lane_push(struct lane *l, size_t len, int64_t due)
{
	struct rec *r;
	long off;

	if (l->count == l->cap || (off = lane_space(l, len)) < 0)
		return NULL;
	r = &l->recs[(l->head + l->count) % l->cap];
	r->due = due;
	r->off = (uint32_t)off;
	r->len = (uint32_t)len;
	l->wr = (size_t)off + len;
	l->count++;
	return l->bytes + off;
}

static struct rec *
lane_peek(struct lane *l)
{
	return l->count == 0 ? NULL : &l->recs[l->head];
}

static void
lane_pop(struct lane *l)
{
	l->head = (l->head + 1) % l->cap;
	if (--l->count == 0)
		l->wr = 0;
}

static int64_t
ms_to_ns(double ms)
{
	return (int64_t)(ms * (double)NS_PER_MS);
}

/* Release time for a main-lane frame: delay +- jitter, never earlier than
 * a frame queued before it; with a rate, never before the previous frame
 * has been "on the wire" for len * 8 / rate. */
static int64_t
main_due(struct direction *d, const struct options *o, int64_t now, size_t len)
{
	int64_t due = now + ms_to_ns(o->delay_ms);

	if (o->rate_mbit > 0) {
		int64_t wire = (int64_t)((double)len * 8.0 * 1000.0 / o->rate_mbit);
		if (due < d->last_due + wire)
			due = d->last_due + wire;
	}

	if (o->jitter_ms > 0)
		due += ms_to_ns(o->jitter_ms * (2.0 * rng_unit(d) - 1.0));
	if (due < now)
		due = now;
	if (due < d->last_due)
		due = d->last_due;
	d->last_due = due;
	return due;
}

static void
enqueue(struct direction *d, struct lane *l, const unsigned char *buf,
	size_t len, int64_t due)
{
	unsigned char *p = lane_push(l, len, due);

	if (p == NULL) {
		d->c.queue_full++;
		return;
	}
	memcpy(p, buf, len);
}

/* One frame (virtio_net_hdr + Ethernet frame) that made it through the
 * loss: delayed, maybe held back for reordering, maybe duplicated. */
static void
queue_frame(struct direction *d, const struct options *o,
	const unsigned char *buf, size_t len, int64_t now)
{
	int64_t due = main_due(d, o, now, len - VNET_LEN);

	if (chance(d, o->reorder)) {
		d->c.reordered++;
		enqueue(d, &d->held, buf, len, due + ms_to_ns(o->reorder_gap_ms));
	} else {
		enqueue(d, &d->main, buf, len, due);
	}
	if (chance(d, o->duplicate)) {
		d->c.duplicated++;
		enqueue(d, &d->main, buf, len, due);
	}
}

/* --- checksums and TCP super-frames -------------------------------------- */

static uint32_t
csum_add(uint32_t sum, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A frame the kernel left to "hardware" to checksum that is not TCP (UDP,
 * the DHCP and TFTP of the tests) leaves the relay complete, as before the
 * relay asked for offloads: a raw reader on the other side sees what a
 * wire would carry.  The field already holds the pseudo-header's sum. */
static void
csum_complete(unsigned char *frame, size_t len, struct virtio_net_hdr *vh)
{
	size_t start = vh->csum_start, at = start + vh->csum_offset;
	uint16_t sum;

	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || at + 2 > len)
		return;
	sum = (uint16_t)~csum_fold(csum_add(0, frame + start, len - start));
	put16(frame + at, sum == 0 ? 0xffff : sum);
	vh->flags = 0;
}

/* Where a TCP frame's parts start, in bytes from the Ethernet header. */
struct tcp_frame {
	size_t l3;
	size_t l4;
	size_t payload;
	size_t len;
	bool v6;
};

static bool
tcp_frame_ip(struct cursor *c, struct tcp_frame *t, uint16_t type)
{
	uint8_t vihl, proto;

	if (type == 0x0800) {
		if (!cursor_u8(c, &vihl) || vihl >> 4 != 4 || (vihl & 15) < 5 ||
			!cursor_skip(c, 8) || !cursor_u8(c, &proto) || proto != 6)
			return false;
		t->l4 = t->l3 + (size_t)(vihl & 15) * 4;
		return true;
	}
	if (type != 0x86dd || !cursor_u8(c, &vihl) || vihl >> 4 != 6 ||
		!cursor_skip(c, 5) || !cursor_u8(c, &proto) || proto != 6)
		return false;   /* extension headers: not split, see below */
	t->v6 = true;
	t->l4 = t->l3 + 40;
	return true;
}

static bool
tcp_frame_parse(const unsigned char *f, size_t len, struct tcp_frame *t)
{
	struct cursor c = cursor_make(f, len);
	uint16_t type;
	uint8_t doff;

	memset(t, 0, sizeof(*t));
	t->len = len;
	t->l3 = 14;
	if (!cursor_skip(&c, 12) || !cursor_u16(&c, &type))
		return false;
	if (type == 0x8100) {
		t->l3 += 4;
		if (!cursor_skip(&c, 2) || !cursor_u16(&c, &type))
			return false;
	}
	if (!tcp_frame_ip(&c, t, type) || t->l4 + 20 > len)
		return false;
	c = cursor_make(f + t->l4 + 12, len - t->l4 - 12);
	if (!cursor_u8(&c, &doff) || doff >> 4 < 5)
		return false;
	t->payload = t->l4 + (size_t)(doff >> 4) * 4;
	return t->payload <= len;
}

/* IP total length (or IPv6 payload length), IP ID and header checksum of
 * a run that starts FIRST segments into the super-frame. */
static void
run_fix_ip(unsigned char *f, const struct tcp_frame *t, size_t first,
	size_t plen)
{
	unsigned char *ip = f + t->l3;
	size_t ihl = t->l4 - t->l3;

	if (t->v6) {
		put16(ip + 4, (uint16_t)(t->payload - t->l4 + plen));
		return;
	}
	put16(ip + 2, (uint16_t)(t->payload - t->l3 + plen));
	put16(ip + 4, (uint16_t)(get16(ip + 4) + first));
	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, ihl)));
}

/* TCP sequence number, flags (CWR on the first segment only, PSH and FIN
 * on the last only) and the pseudo-header sum the kernel expects in the
 * checksum field of a NEEDS_CSUM frame, for the run's own length. */
static void
run_fix_tcp(unsigned char *f, const struct tcp_frame *t, size_t from,
	bool first, bool last, size_t plen)
{
	unsigned char *th = f + t->l4;
	const unsigned char *ip = f + t->l3;
	size_t tlen = t->payload - t->l4 + plen;
	uint32_t seq, sum;
	uint8_t flags = th[13];

	memcpy(&seq, th + 4, 4);
	seq = htonl(ntohl(seq) + (uint32_t)from);
	memcpy(th + 4, &seq, 4);
	if (!first)
		flags &= (uint8_t)~0x80;
	if (!last)
		flags &= (uint8_t)~0x09;
	th[13] = flags;
	if (t->v6)
		sum = csum_add(0, ip + 8, 32) + 6 + (uint32_t)tlen;
	else
		sum = csum_add(0, ip + 12, 8) + 6 + (uint32_t)tlen;
	put16(th + 16, csum_fold(sum));
}

/* Builds in OUT (virtio_net_hdr + frame) the COUNT segments of super-frame
 * IN from segment FIRST on; one segment goes as a plain frame.  Returns
 * the length. */
static size_t
run_build(unsigned char *out, const unsigned char *in, const struct tcp_frame *t,
	const struct virtio_net_hdr *vh, size_t first, size_t count, size_t nseg)
{
	size_t mss = vh->gso_size, from = first * mss;
	size_t to = (first + count) * mss, plen;
	struct virtio_net_hdr nh = *vh;

	if (to > t->len - t->payload)
		to = t->len - t->payload;
	plen = to - from;
	memcpy(out + VNET_LEN, in + VNET_LEN, t->payload);
	memcpy(out + VNET_LEN + t->payload, in + VNET_LEN + t->payload + from, plen);
	run_fix_ip(out + VNET_LEN, t, first, plen);
	run_fix_tcp(out + VNET_LEN, t, from, first == 0, first + count == nseg, plen);
	nh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	nh.hdr_len = (uint16_t)t->payload;
	nh.csum_start = (uint16_t)t->l4;
	nh.csum_offset = 16;
	if (count == 1) {
		nh.gso_type = VIRTIO_NET_HDR_GSO_NONE;
		nh.gso_size = 0;
	} else if (first != 0) {
		nh.gso_type &= (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	}
	memcpy(out, &nh, VNET_LEN);
	return VNET_LEN + t->payload + plen;
}

/* A TCP super-frame: loss is drawn for each of its segments.  None lost:
 * it goes whole; some: each run of kept segments goes as a frame of its
 * own (a smaller super-frame, or a plain frame for one segment). */
static void
admit_super(struct direction *d, const struct options *o,
	const unsigned char *buf, size_t len, const struct virtio_net_hdr *vh,
	int64_t now)
{
	bool *keep = d->keep;
	unsigned char *run = d->run;
	struct tcp_frame t;
	size_t nseg, lost = 0, i, j;

	if (vh->gso_size == 0 ||
		!tcp_frame_parse(buf + VNET_LEN, len - VNET_LEN, &t) ||
		t.payload == t.len) {
		d->c.segments++;        /* not ours to split: one draw */
		d->c.unsplit++;
		if (chance(d, d->loss))
			d->c.lost++;
		else
			queue_frame(d, o, buf, len, now);
		return;
	}
	nseg = (t.len - t.payload + vh->gso_size - 1) / vh->gso_size;
	for (i = 0; i < nseg; i++) {
		keep[i] = !chance(d, d->loss);
		lost += !keep[i];
	}
	d->c.super++;
	d->c.segments += nseg;
	d->c.lost += lost;
	if (lost == 0) {
		queue_frame(d, o, buf, len, now);
		return;
	}
	d->c.split += lost < nseg;
	for (i = 0; i < nseg; i = j) {
		for (j = i; j < nseg && keep[j] == keep[i]; j++)
			;
		if (keep[i])
			queue_frame(d, o, run, run_build(run, buf, &t, vh, i, j - i,
				nseg), now);
	}
}

static void
admit_frame(struct direction *d, const struct options *o,
	unsigned char *buf, size_t len, int64_t now)
{
	struct virtio_net_hdr vh;
	struct tcp_frame t;

	d->c.rx++;
	if (len <= VNET_LEN) {
		d->c.oversize++;
		return;
	}
	memcpy(&vh, buf, VNET_LEN);
	if ((vh.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE) {
		admit_super(d, o, buf, len, &vh, now);
		return;
	}
	d->c.segments++;
	if (chance(d, d->loss)) {
		d->c.lost++;
		return;
	}
	if ((vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
		!tcp_frame_parse(buf + VNET_LEN, len - VNET_LEN, &t)) {
		csum_complete(buf + VNET_LEN, len - VNET_LEN, &vh);
		memcpy(buf, &vh, VNET_LEN);
	}
	queue_frame(d, o, buf, len, now);
}

/* Returns 1 if the batch limit was hit, 0 on EAGAIN, -1 on a fatal error. */
static int
read_side(struct direction *d, const struct options *o)
{
	unsigned char *buf = d->buf;
	int64_t now = now_ns();

	for (int i = 0; i < BATCH; i++) {
		ssize_t n = read(d->in_fd, buf, FRAME_BUF);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			fprintf(stderr, "netem-relay: %s read: %s\n", d->name,
				strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		admit_frame(d, o, buf, (size_t)n, now);
	}
	return 1;
}

static void
transmit(struct direction *d, struct lane *l, const struct rec *r)
{
	ssize_t n = write(d->out_fd, l->bytes + r->off, r->len);

	if (n == (ssize_t)r->len)
		d->c.tx++;
	else
		d->c.tx_errors++;
}

/* Sends due frames of one lane; returns true if the batch limit was hit. */
static bool
flush_lane(struct direction *d, struct lane *l, int64_t now)
{
	struct rec *r;
	int sent = 0;

	while ((r = lane_peek(l)) != NULL && r->due <= now) {
		if (sent++ == 4 * BATCH)
			return true;
		transmit(d, l, r);
		lane_pop(l);
	}
	return false;
}

static int64_t
lane_next_due(struct lane *l, int64_t best)
{
	struct rec *r = lane_peek(l);

	return r != NULL && r->due < best ? r->due : best;
}

static void
print_counters(const struct direction *d)
{
	const struct counters *c = &d->c;

	fprintf(stderr,
		"netem-relay: %s rx=%llu tx=%llu segments=%llu lost=%llu "
		"super=%llu split=%llu unsplit=%llu duplicated=%llu "
		"reordered=%llu queue_full=%llu tx_errors=%llu oversize=%llu "
		"queued=%zu\n",
		d->name, c->rx, c->tx, c->segments, c->lost, c->super, c->split,
		c->unsplit, c->duplicated, c->reordered, c->queue_full,
		c->tx_errors, c->oversize, d->main.count + d->held.count);
}

static int
write_ready(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (path == NULL) {
		printf("ready\n");
		fflush(stdout);
		return 0;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "ready %ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* SIGTERM and SIGINT stay blocked in every thread; the main thread waits
 * for them with sigtimedwait(). */
static void
block_signals(sigset_t *set)
{
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

static int
setup_dir(struct direction *d, const struct options *o, int idx, int fd_in,
	int fd_out)
{
	d->name = idx == 0 ? "a->b" : "b->a";
	d->in_name = idx == 0 ? o->tap_a : o->tap_b;
	d->opt = o;
	d->in_fd = fd_in;
	d->out_fd = fd_out;
	d->loss = idx == 0 ? o->loss_ab : o->loss_ba;
	d->rng = o->seed ^ (idx == 0 ? 0 : 0x5bd1e9955bd1e995ULL);
	if (lane_init(&d->main, (size_t)o->queue) < 0 ||
		lane_init(&d->held, (size_t)o->queue / 4) < 0) {
		fprintf(stderr, "netem-relay: out of memory\n");
		return -1;
	}
	return 0;
}

/* One turn: read, then send what is due.  Returns 1 if work remains, 0 if
 * not, -1 on a fatal error. */
static int
dir_turn(struct direction *d, short revents)
{
	int64_t now;
	int busy = 0;

	if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
		fprintf(stderr, "netem-relay: %s: TAP went away\n", d->in_name);
		return -1;
	}
	if (revents & POLLIN) {
		busy = read_side(d, d->opt);
		if (busy < 0)
			return -1;
	}
	now = now_ns();
	busy |= flush_lane(d, &d->main, now);
	busy |= flush_lane(d, &d->held, now);
	return busy;
}

/* Until the next frame is due; at most 50 ms, to see a stop request. */
static struct timespec
dir_wait_time(struct direction *d, bool busy)
{
	int64_t next = now_ns() + 50 * NS_PER_MS;
	int64_t wait;

	next = lane_next_due(&d->main, next);
	next = lane_next_due(&d->held, next);
	wait = busy ? 0 : next - now_ns();
	if (wait < 0)
		wait = 0;
	return (struct timespec){ .tv_sec = wait / NS_PER_S,
		.tv_nsec = wait % NS_PER_S };
}

static void *
dir_run(void *arg)
{
	struct direction *d = arg;
	struct pollfd pfd = { .fd = d->in_fd, .events = POLLIN };
	bool busy = false;

	while (!atomic_load(&stop_requested) && now_ns() < d->deadline) {
		struct timespec ts = dir_wait_time(d, busy);
		int n = ppoll(&pfd, 1, &ts, NULL), rc;

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "netem-relay: ppoll: %s\n", strerror(errno));
			atomic_store(&fatal_error, 1);
			break;
		}
		rc = dir_turn(d, n > 0 ? pfd.revents : 0);
		if (rc < 0) {
			atomic_store(&fatal_error, 1);
			break;
		}
		busy = rc > 0;
	}
	atomic_store(&stop_requested, 1);
	return NULL;
}

/* Runs both directions until a signal, the deadline or a fatal error. */
static int
run(struct direction dir[2], const sigset_t *sigs, int64_t deadline)
{
	pthread_t th[2];
	int started = 0;

	for (int i = 0; i < 2; i++) {
		dir[i].deadline = deadline;
		if (pthread_create(&th[i], NULL, dir_run, &dir[i]) != 0)
			break;
		started++;
	}
	while (started == 2 && !atomic_load(&stop_requested) && now_ns() < deadline) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 100 * NS_PER_MS };

		if (sigtimedwait(sigs, NULL, &ts) > 0)
			break;
	}
	atomic_store(&stop_requested, 1);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	return started == 2 && !atomic_load(&fatal_error) ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static struct options opt;
	static struct direction dir[2];
	sigset_t sigs;
	int fd_a, fd_b, rc;

	if (parse_args(argc, argv, &opt) < 0)
		return 2;
	block_signals(&sigs);
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	fd_a = tap_open(opt.tap_a, !opt.no_offload);
	if (fd_a < 0)
		return 1;
	fd_b = tap_open(opt.tap_b, !opt.no_offload);
	if (fd_b < 0)
		return 1;
	if (setup_dir(&dir[0], &opt, 0, fd_a, fd_b) < 0 ||
		setup_dir(&dir[1], &opt, 1, fd_b, fd_a) < 0)
		return 1;
	if (write_ready(opt.ready_file) < 0) {
		fprintf(stderr, "netem-relay: cannot write ready file '%s': %s\n",
			opt.ready_file, strerror(errno));
		return 1;
	}
	rc = run(dir, &sigs, now_ns() + opt.duration_s * NS_PER_S);
	print_counters(&dir[0]);
	print_counters(&dir[1]);
	return rc;
}

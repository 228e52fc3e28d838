/* Multicast deploy, the receiver: join the group, reassemble each chunk's
 * zstd frame from its slices (mcast/assemble.h), verify and write it (two
 * writer threads), and tell the sender every 200 ms what is still missing
 * and how much was lost; progress goes to the server from a thread of its
 * own, so that a report stalled on a bad link never stops the receiving
 * (a receiver silent for 15 s is dropped by the sender, and its socket
 * overflows in a few).  Only DATA of this session, for a chunk of this
 * image, with an offset and length that fit the slice grid, is taken;
 * with forward error correction, PARITY likewise, for the session's k and
 * m and slice, and lost slices are rebuilt from it before anything is
 * asked again.  A chunk is written only after its SHA-256 matched the
 * manifest: a forged parity piece can cost a repair, never a wrong byte. */
#include "agent/mcast.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sock_diag.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/journal.h"
#include "core/util.h"
#include "image/chunk.h"
#include "mcast/assemble.h"
#include "mcast/codec.h"
#include "mcast/fec.h"

#define SLOTS 128                       /* chunks being reassembled at once */
#define NACKS_PER_STATUS 64
#define QUEUE 8                         /* complete frames waiting to be written */
#define WRITERS 2
#define STATUS_EVERY_US 200000
#define SILENCE_US (10 * 1000000ull)    /* the sender is gone */
#define SLOW_WINDOW_US (5 * 1000000ull)
#define SLOW_PERMILLE 500               /* lost half of it: too slow, leave */
#define RECV_MSGS 16                    /* messages per recvmmsg */
#define RECV_BUF 65536                  /* one message: a datagram, or GRO's train */
#define REPORT_EVERY_MS 1000
#define REPORT_TIMEOUT_S 5L             /* one report, all in; no retries: the next one comes */
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

struct slot {
	bool used;
	bool counted;                   /* its holes were counted as lost */
	struct mcast_assembly a;        /* the frame, its slices and parity */
	uint64_t touched_us;
};

struct rx {
	struct agent *ag;
	const struct manifest *m;
	const struct agent_mcast *mc;
	struct resume *r;
	pthread_mutex_t *lock;          /* the caller's: guards r */
	int fd;
	struct sockaddr_in control;
	struct mcast_fec fec;           /* k == 0: no FEC */
	struct slot slot[SLOTS];
	uint8_t *queued;                /* per chunk: whole, waiting for its check and
	                                 * write (guarded by lock) */
	/* the write queue */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct slot queue[QUEUE];
	size_t qhead, qlen;
	bool qclose;
	/* accounting */
	uint16_t pass;
	uint32_t seen;                  /* highest chunk heard this pass */
	bool pass_ended;
	uint32_t received, lost;        /* since the last STATUS */
	uint64_t win_received, win_lost, win_start_us;
	uint64_t last_data_us, last_status_us;
	uint32_t from_mcast;
	uint64_t bytes_mcast;
	uint64_t datagrams, messages;   /* received; more per message with GRO */
	uint32_t recovered;             /* slices rebuilt from parity */
	uint32_t repaired;              /* slices that came after their holes were counted */
	/* the progress reporter */
	struct progress *prog;
	struct api report_api;          /* the agent's, bounded */
	struct api_conn report_conn;
	pthread_t reporter;
	bool reporting;
	bool report_stop;               /* guarded by qlock */
	pthread_cond_t report_cond;     /* CLOCK_MONOTONIC */
};

static uint64_t
now_us(void)
{
	return clock_now_us();
}

/* ---- the socket ---- */

/* The local address toward the server: the interface to join on. */
static int
local_toward(const struct sockaddr_in *server, struct in_addr *out)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

	if (fd >= 0 && connect(fd, (const struct sockaddr *)server, sizeof *server) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
		*out = a.sin_addr;
		rc = 0;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

static int
rx_open(struct rx *x)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(x->mc->port) };
	struct ip_mreq mreq = { 0 };
	int one = 1, buf = 32 << 20;

	x->control = (struct sockaddr_in){ .sin_family = AF_INET,
		.sin_port = htons(x->mc->control_port) };
	if (inet_pton(AF_INET, x->mc->control, &x->control.sin_addr) != 1 ||
	    inet_pton(AF_INET, x->mc->group, &mreq.imr_multiaddr) != 1 ||
	    local_toward(&x->control, &mreq.imr_interface) < 0)
		return agent_fail(x->ag, "multicast: bad addresses or no route to %s", x->mc->control);
	x->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	a.sin_addr = mreq.imr_multiaddr;
	if (x->fd < 0 || setsockopt(x->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(x->fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    setsockopt(x->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0)
		return agent_fail(x->ag, "multicast: join %s:%u: %s", x->mc->group, x->mc->port,
		    strerror(errno));
	if (setsockopt(x->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) < 0)
		(void)setsockopt(x->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	/* A train of datagrams may arrive as one (UDP GRO; the sender uses GSO):
	 * far fewer wake-ups and copies per slice.  Old kernels say no. */
	(void)setsockopt(x->fd, SOL_UDP, UDP_GRO, &one, sizeof one);
	return 0;
}

/* ---- writers ---- */

static void
write_frame(struct rx *x, struct slot *s, uint8_t *plain)
{
	const struct image_chunk *c = &x->m->chunk[s->a.chunk];
	char hex[SHA256_HEX_LEN + 1];
	long n = chunk_decompress_verify(s->a.frame, s->a.frame_len, plain, c->length,
	    c->sha256);
	int rc;

	if (n != (long)c->length) {
		sha256_hex(c->sha256, hex);
		journal_info("multicast: chunk %s failed its check: asked again", hex);
		pthread_mutex_lock(x->lock);
		x->queued[s->a.chunk] = 0;
		pthread_mutex_unlock(x->lock);
		return;
	}
	rc = pwrite_start(x->ag->fd, plain, c->length, c->offset);
	if (rc < 0) {
		agent_fail(x->ag, "%s: write at %" PRIu64 ": %s", x->ag->disk, c->offset,
		    strerror(-rc));
		pthread_mutex_lock(x->lock);
		x->queued[s->a.chunk] = 0;
		pthread_mutex_unlock(x->lock);
		return;
	}
	pthread_mutex_lock(x->lock);
	x->queued[s->a.chunk] = 0;
	if (!resume_is_done(x->r, s->a.chunk)) {
		resume_mark(x->r, s->a.chunk);
		x->from_mcast++;
		x->bytes_mcast += c->length;
	}
	pthread_mutex_unlock(x->lock);
}

static void *
writer_main(void *arg)
{
	struct rx *x = arg;
	uint8_t *plain = malloc(IMAGE_CHUNK_MAX);
	struct slot s;

	for (;;) {
		pthread_mutex_lock(&x->qlock);
		while (x->qlen == 0 && !x->qclose)
			pthread_cond_wait(&x->qcond, &x->qlock);
		if (x->qlen == 0) {
			pthread_mutex_unlock(&x->qlock);
			break;
		}
		s = x->queue[x->qhead];
		x->qhead = (x->qhead + 1) % QUEUE;
		x->qlen--;
		pthread_cond_broadcast(&x->qcond);
		pthread_mutex_unlock(&x->qlock);
		if (plain != NULL && !atomic_load(&x->ag->stop))
			write_frame(x, &s, plain);
		mcast_assembly_free(&s.a);
	}
	free(plain);
	return NULL;
}

/* Hand a complete frame to the writers (waits when the queue is full). */
static void
queue_frame(struct rx *x, struct slot *s)
{
	pthread_mutex_lock(x->lock);
	x->queued[s->a.chunk] = 1;      /* not needed any more, unless its check fails */
	pthread_mutex_unlock(x->lock);
	pthread_mutex_lock(&x->qlock);
	while (x->qlen == QUEUE)
		pthread_cond_wait(&x->qcond, &x->qlock);
	x->queue[(x->qhead + x->qlen) % QUEUE] = *s;
	x->qlen++;
	pthread_cond_broadcast(&x->qcond);
	pthread_mutex_unlock(&x->qlock);
	memset(s, 0, sizeof *s);
}

/* ---- reassembly ---- */

static void
slot_free(struct slot *s)
{
	mcast_assembly_free(&s->a);
	memset(s, 0, sizeof *s);
}

/* The slot reassembling chunk, or a new one.  When all are taken, the
 * new chunk is the least complete (nothing of it yet): it is not taken and
 * will be asked for whole.  Giving up a partly received chunk for it
 * instead would throw its slices away -- and with more partly received
 * chunks than slots (a lossy link, an image of more than SLOTS chunks) every
 * chunk from then on would be asked for whole, pass after pass. */
static struct slot *
slot_for(struct rx *x, uint32_t chunk, uint32_t frame_len)
{
	struct slot *free_slot = NULL;

	for (size_t i = 0; i < SLOTS; i++) {
		struct slot *s = &x->slot[i];
		if (s->used && s->a.chunk == chunk)
			return s->a.frame_len == frame_len ? s : NULL;
		if (!s->used && free_slot == NULL)
			free_slot = s;
	}
	if (free_slot == NULL || mcast_assembly_init(&free_slot->a, chunk, frame_len,
	    x->mc->slice, x->mc->fec_k, x->mc->fec_m) < 0)
		return NULL;
	free_slot->used = true;
	return free_slot;
}

static bool
chunk_done(struct rx *x, uint32_t c)
{
	bool done;

	pthread_mutex_lock(x->lock);
	done = resume_is_done(x->r, c) || x->queued[c];
	pthread_mutex_unlock(x->lock);
	return done;
}

/* A DATA or PARITY of this image's stream arrived: the pass and the
 * highest chunk heard (a repair, sent out of the pass's order, does not
 * say how far the pass has come). */
static void
note_stream(struct rx *x, uint16_t pass, uint32_t c, bool repair, uint64_t now)
{
	x->last_data_us = now;
	x->received++;
	x->win_received++;
	if (pass != x->pass) {
		x->pass = pass;
		x->seen = 0;
		x->pass_ended = false;
	}
	if (c > x->seen && !repair)
		x->seen = c;
}

/* n slices came into slot s, rebuilt of them: the counts; a whole frame
 * goes to the writers. */
static void
slot_took(struct rx *x, struct slot *s, int n, unsigned rebuilt, uint64_t now)
{
	if (n <= 0)
		return;
	s->touched_us = now;
	x->recovered += rebuilt;
	if (!s->counted) {
		/* lost on the wire all the same: the rate follows real loss */
		x->lost += rebuilt;
		x->win_lost += rebuilt;
	}
	if (mcast_assembly_complete(&s->a))
		queue_frame(x, s);
}

/* A DATA packet: checks, then into its chunk's frame. */
static void
on_data(struct rx *x, const struct mcast_packet *p, uint64_t now)
{
	uint32_t c = p->u.data.chunk;
	struct slot *s;
	int n;

	if (p->u.data.total != x->m->nchunks || c >= x->m->nchunks ||
	    x->mc->chunks != x->m->nchunks || p->u.data.frame_len != x->mc->frames[c] ||
	    p->u.data.offset % x->mc->slice != 0 ||
	    p->u.data.len != MIN(x->mc->slice, p->u.data.frame_len - p->u.data.offset))
		return;                 /* not this image's stream */
	note_stream(x, p->u.data.pass, c, (p->u.data.flags & MCAST_DATA_REPAIR) != 0, now);
	if (chunk_done(x, c) || (s = slot_for(x, c, p->u.data.frame_len)) == NULL)
		return;
	n = mcast_assembly_data(&s->a, x->fec.k != 0 ? &x->fec : NULL, p->u.data.offset,
	    p->u.data.payload, p->u.data.len);
	if (n > 0 && s->counted)
		x->repaired++;
	slot_took(x, s, n, n > 1 ? (unsigned)n - 1 : 0, now);
}

/* A PARITY packet: checks (this session's FEC, slice and a frame of this
 * image), then into its chunk's slot; it may rebuild lost slices. */
static void
on_parity(struct rx *x, const struct mcast_packet *p, uint64_t now)
{
	uint32_t c = p->u.parity.chunk;
	struct slot *s;
	int n;

	if (x->fec.k == 0 || p->u.parity.k != x->fec.k || p->u.parity.m != x->fec.m ||
	    p->u.parity.slice != x->mc->slice || p->u.parity.total != x->m->nchunks ||
	    c >= x->m->nchunks || x->mc->chunks != x->m->nchunks ||
	    p->u.parity.frame_len != x->mc->frames[c])
		return;                 /* not this image's stream */
	note_stream(x, p->u.parity.pass, c, false, now);
	if (chunk_done(x, c) || (s = slot_for(x, c, p->u.parity.frame_len)) == NULL)
		return;
	n = mcast_assembly_parity(&s->a, &x->fec, p->u.parity.group, p->u.parity.index,
	    p->u.parity.payload, p->u.parity.len);
	slot_took(x, s, n, n > 0 ? (unsigned)n : 0, now);
}

/* Has the stream gone past chunk c in this pass? */
static bool
passed_by(const struct rx *x, uint32_t c)
{
	return x->pass_ended || c < x->seen;
}

/* The holes of slots the stream has gone past count as lost, the first
 * time only (what a repair pass misses again is not news); the slots
 * stay: the next pass fills the holes. */
static void
count_losses(struct rx *x)
{
	for (size_t i = 0; i < SLOTS; i++) {
		struct slot *s = &x->slot[i];
		if (!s->used || !passed_by(x, s->a.chunk) || s->counted)
			continue;
		s->counted = true;
		x->lost += s->a.nslices - s->a.got;
		x->win_lost += s->a.nslices - s->a.got;
	}
}

/* ---- status ---- */

static bool
in_slot(const struct rx *x, uint32_t c)
{
	for (size_t i = 0; i < SLOTS; i++)
		if (x->slot[i].used && x->slot[i].a.chunk == c)
			return true;
	return false;
}

/* The chunks still needed, as ranges: up to what this pass has shown, or
 * all of them once the pass ended. */
static uint32_t
needed_ranges(struct rx *x, struct mcast_packet *p)
{
	uint32_t limit = x->pass_ended ? (uint32_t)x->m->nchunks : x->seen, done = 0;
	/* chunks held in part are asked for slice by slice (send_nacks) */
	struct mcast_range *cur = NULL;

	pthread_mutex_lock(x->lock);
	for (uint32_t c = 0; c < x->m->nchunks; c++) {
		if (resume_is_done(x->r, c)) {
			done++;
			continue;
		}
		if (c >= limit || in_slot(x, c) || x->queued[c])
			continue;
		if (cur != NULL && cur->first + cur->count == c) {
			cur->count++;
		} else if (p->u.status.nranges < MCAST_RANGES_MAX) {
			cur = &p->u.status.range[p->u.status.nranges++];
			cur->first = c;
			cur->count = 1;
		} else {
			cur = NULL;
		}
	}
	pthread_mutex_unlock(x->lock);
	return done;
}

/* One NACK per partly received chunk the stream has gone past: the runs
 * of slices it lacks. */
static void
send_nacks(struct rx *x)
{
	struct mcast_packet *p = calloc(1, sizeof *p);
	uint8_t buf[MCAST_HEADER_LEN + 16 + 8 * MCAST_RANGES_MAX];
	unsigned sent = 0;

	if (p == NULL)
		return;
	for (size_t i = 0; i < SLOTS && sent < NACKS_PER_STATUS; i++) {
		const struct slot *s = &x->slot[i];
		size_t len;
		if (!s->used || mcast_assembly_complete(&s->a) || !passed_by(x, s->a.chunk))
			continue;
		*p = (struct mcast_packet){ .type = MCAST_NACK, .session = x->mc->session,
			.sender = x->mc->receiver };
		p->u.nack.chunk = s->a.chunk;
		p->u.nack.frame_len = s->a.frame_len;
		/* what is still missing after FEC rebuilt what it could */
		p->u.nack.nranges = mcast_assembly_missing(&s->a, p->u.nack.range,
		    MCAST_RANGES_MAX);
		len = mcast_build(p, buf, sizeof buf);
		if (len > 0 && sendto(x->fd, buf, len, 0, (struct sockaddr *)&x->control,
		    sizeof x->control) > 0)
			sent++;
	}
	free(p);
}

/* KiB waiting in the socket: the receiver is falling behind the sender. */
static uint32_t
backlog_kib(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof mem;

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 ||
	    len < sizeof mem[0] * (SK_MEMINFO_RMEM_ALLOC + 1))
		return 0;
	return mem[SK_MEMINFO_RMEM_ALLOC] / 1024;
}

static void
send_status(struct rx *x, enum mcast_rstate state)
{
	struct mcast_packet *p = calloc(1, sizeof *p);
	uint8_t buf[MCAST_HEADER_LEN + 32 + 8 * MCAST_RANGES_MAX];
	size_t len;

	if (p == NULL)
		return;
	p->type = MCAST_STATUS;
	p->session = x->mc->session;
	p->sender = x->mc->receiver;
	p->u.status.state = state;
	p->u.status.total = (uint32_t)x->m->nchunks;
	p->u.status.seen = x->seen;
	p->u.status.received = x->received;
	p->u.status.lost = x->lost;
	p->u.status.backlog = backlog_kib(x->fd);
	if (state == MCAST_RECEIVING)
		p->u.status.done = needed_ranges(x, p);
	else
		p->u.status.done = state == MCAST_COMPLETE ? p->u.status.total : 0;
	len = mcast_build(p, buf, sizeof buf);
	if (len > 0)
		(void)sendto(x->fd, buf, len, 0, (struct sockaddr *)&x->control, sizeof x->control);
	if (state == MCAST_RECEIVING)
		send_nacks(x);
	x->received = x->lost = 0;
	x->last_status_us = now_us();
	free(p);
}

static bool
all_done(struct rx *x)
{
	bool done;

	pthread_mutex_lock(x->lock);
	done = x->r->first_open >= x->r->n;
	pthread_mutex_unlock(x->lock);
	return done;
}

/* Lost half of what came for SLOW_WINDOW_US: the session is too fast for
 * this machine. */
static bool
too_slow(struct rx *x, uint64_t now)
{
	uint64_t total = x->win_received + x->win_lost;
	bool slow = false;

	if (now - x->win_start_us < SLOW_WINDOW_US)
		return false;
	if (total > 100 && x->win_lost * 1000 / total > SLOW_PERMILLE)
		slow = true;
	x->win_received = x->win_lost = 0;
	x->win_start_us = now;
	return slow;
}

/* ---- progress ---- */

static void *
reporter_main(void *arg)
{
	struct rx *x = arg;
	struct timespec at;
	uint64_t bytes;

	pthread_mutex_lock(&x->qlock);
	while (!x->report_stop) {
		clock_deadline_ms(&at, REPORT_EVERY_MS);
		(void)pthread_cond_timedwait(&x->report_cond, &x->qlock, &at);
		if (x->report_stop)
			break;
		pthread_mutex_unlock(&x->qlock);
		pthread_mutex_lock(x->lock);
		bytes = x->r->bytes_done;
		pthread_mutex_unlock(x->lock);
		progress_report_on(x->ag, &x->report_conn, x->prog, bytes, 0, false);
		pthread_mutex_lock(&x->qlock);
	}
	pthread_mutex_unlock(&x->qlock);
	return NULL;
}

/* Reports once a second on a connection of their own, each bounded to
 * REPORT_TIMEOUT_S; without the thread, the loop reports (as before). */
static void
reporter_start(struct rx *x)
{
	pthread_condattr_t ca;

	x->report_api = x->ag->api;
	x->report_api.retry_for = 0;
	x->report_api.total_s = REPORT_TIMEOUT_S;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->report_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (api_conn_open(&x->report_conn, &x->report_api) < 0)
		return;
	x->reporting = pthread_create(&x->reporter, NULL, reporter_main, x) == 0;
	if (!x->reporting)
		api_conn_close(&x->report_conn);
}

/* Waits for a report in flight (REPORT_TIMEOUT_S at most). */
static void
reporter_stop(struct rx *x)
{
	if (x->reporting) {
		pthread_mutex_lock(&x->qlock);
		x->report_stop = true;
		pthread_cond_broadcast(&x->report_cond);
		pthread_mutex_unlock(&x->qlock);
		pthread_join(x->reporter, NULL);
		api_conn_close(&x->report_conn);
		x->reporting = false;
	}
	pthread_cond_destroy(&x->report_cond);
}

/* ---- the loop ---- */

enum rx_end { RX_GOING, RX_COMPLETE, RX_OVER, RX_SILENT, RX_SLOW, RX_STOPPED };

static enum rx_end
on_packet(struct rx *x, const uint8_t *buf, size_t n, uint64_t now)
{
	struct mcast_packet p;

	if (mcast_parse(buf, n, &p) < 0 || p.session != x->mc->session || p.sender != 0)
		return RX_GOING;        /* not ours: dropped */
	if (p.type == MCAST_DATA) {
		on_data(x, &p, now);
	} else if (p.type == MCAST_END && p.u.end.pass == 0) {
		x->last_data_us = now;  /* not started yet: waiting for others */
	} else if (p.type == MCAST_PARITY) {
		on_parity(x, &p, now);
	} else if (p.type == MCAST_END) {
		x->last_data_us = now;
		x->pass_ended = true;
		count_losses(x);
		if (p.u.end.final)
			return RX_OVER;
		send_status(x, MCAST_RECEIVING);
	}
	return RX_GOING;
}

/* recvmmsg's buffers: each message is one datagram or, with UDP GRO, a
 * train of datagrams of gso_size bytes each (the last may be shorter). */
struct rx_bufs {
	struct mmsghdr msg[RECV_MSGS];
	struct iovec iov[RECV_MSGS];
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl[RECV_MSGS];
	uint8_t data[RECV_MSGS][RECV_BUF];
};

static size_t
gro_size(struct msghdr *m, size_t len)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		int size;
		if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO ||
		    c->cmsg_len < CMSG_LEN(sizeof size))
			continue;
		memcpy(&size, CMSG_DATA(c), sizeof size);
		return size > 0 ? (size_t)size : len;
	}
	return len;
}

/* Whatever is waiting, up to 512 datagrams' worth of messages. */
static enum rx_end
rx_drain(struct rx *x, struct rx_bufs *rb)
{
	enum rx_end end = RX_GOING;

	for (int round = 0; round < 32 && end == RX_GOING; round++) {
		for (int i = 0; i < RECV_MSGS; i++) {
			rb->iov[i] = (struct iovec){ rb->data[i], RECV_BUF };
			rb->msg[i].msg_hdr = (struct msghdr){ .msg_iov = &rb->iov[i], .msg_iovlen = 1,
				.msg_control = rb->ctl[i].buf, .msg_controllen = sizeof rb->ctl[i].buf };
		}
		int n = recvmmsg(x->fd, rb->msg, RECV_MSGS, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		uint64_t now = now_us();
		x->messages += (uint64_t)n;
		for (int i = 0; i < n && end == RX_GOING; i++) {
			size_t len = rb->msg[i].msg_len, seg = gro_size(&rb->msg[i].msg_hdr, len);
			for (size_t off = 0; off < len && end == RX_GOING; off += seg) {
				x->datagrams++;
				end = on_packet(x, rb->data[i] + off, MIN(seg, len - off), now);
			}
		}
		if (n < RECV_MSGS)
			break;
	}
	return end;
}

static enum rx_end
rx_loop(struct rx *x)
{
	struct rx_bufs *rb = malloc(sizeof *rb);
	enum rx_end end = RX_GOING;

	if (rb == NULL)
		return RX_STOPPED;
	x->last_data_us = x->win_start_us = now_us();
	while (end == RX_GOING) {
		struct pollfd pfd = { .fd = x->fd, .events = POLLIN };
		uint64_t now;
		if (poll(&pfd, 1, 50) > 0)
			end = rx_drain(x, rb);
		now = now_us();
		if (end != RX_GOING)
			break;
		if (atomic_load(&x->ag->stop))
			end = RX_STOPPED;
		else if (all_done(x))
			end = RX_COMPLETE;
		else if (now - x->last_data_us > SILENCE_US)
			end = RX_SILENT;
		else if (too_slow(x, now))
			end = RX_SLOW;
		if (end == RX_GOING && now - x->last_status_us >= STATUS_EVERY_US) {
			count_losses(x);
			send_status(x, MCAST_RECEIVING);
		}
		if (!x->reporting) {
			pthread_mutex_lock(x->lock);
			uint64_t bytes = x->r->bytes_done;
			pthread_mutex_unlock(x->lock);
			progress_report(x->ag, x->prog, bytes, 0, false);
		}
	}
	free(rb);
	return end;
}

static void
rx_close(struct rx *x, pthread_t *writers, size_t nwriters)
{
	pthread_mutex_lock(&x->qlock);
	x->qclose = true;
	pthread_cond_broadcast(&x->qcond);
	pthread_mutex_unlock(&x->qlock);
	for (size_t i = 0; i < nwriters; i++)
		pthread_join(writers[i], NULL);
	for (size_t i = 0; i < SLOTS; i++)
		slot_free(&x->slot[i]);
	if (x->fd >= 0)
		close(x->fd);
	pthread_cond_destroy(&x->qcond);
	pthread_mutex_destroy(&x->qlock);
	mcast_fec_free(&x->fec);
}

static const char *const end_text[] = {
	[RX_GOING] = "?", [RX_COMPLETE] = "every chunk received",
	[RX_OVER] = "the session is over", [RX_SILENT] = "the sender went silent",
	[RX_SLOW] = "too slow for the session: leaving it", [RX_STOPPED] = "stopped",
};

int
mcast_receive(struct agent *ag, const struct manifest *m, struct resume *r,
    pthread_mutex_t *lock, struct progress *p)
{
	struct rx *x = calloc(1, sizeof *x);
	pthread_t writers[WRITERS];
	size_t nwriters = 0;
	enum rx_end end;

	if (x == NULL)
		return agent_fail(ag, "out of memory");
	*x = (struct rx){ .ag = ag, .m = m, .mc = &ag->task.mcast, .r = r, .lock = lock,
		.fd = -1, .prog = p };
	pthread_mutex_init(&x->qlock, NULL);
	pthread_cond_init(&x->qcond, NULL);
	x->queued = calloc(m->nchunks ? m->nchunks : 1, 1);
	if (x->queued == NULL || (x->mc->fec_k != 0 &&
	    mcast_fec_init(&x->fec, x->mc->fec_k, x->mc->fec_m) < 0)) {
		rx_close(x, writers, 0);
		free(x->queued);
		free(x);
		return agent_fail(ag, "out of memory");
	}
	if (rx_open(x) < 0) {
		rx_close(x, writers, 0);
		free(x->queued);
		free(x);
		return -EIO;
	}
	for (; nwriters < WRITERS; nwriters++)
		if (pthread_create(&writers[nwriters], NULL, writer_main, x) != 0)
			break;
	journal_info("multicast: joined session %s on %s:%u", x->mc->name, x->mc->group,
	    x->mc->port);
	send_status(x, MCAST_RECEIVING);        /* the sender learns our address */
	reporter_start(x);
	end = rx_loop(x);
	reporter_stop(x);
	rx_close(x, writers, nwriters);         /* every queued frame written */
	x->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (x->fd >= 0) {
		enum mcast_rstate st = all_done(x) ? MCAST_COMPLETE : MCAST_LEAVING;
		for (int i = 0; i < 3; i++)
			send_status(x, st);
		close(x->fd);
	}
	journal_info("multicast: %s; %u chunks (%" PRIu64 " bytes) came by multicast; "
	    "%u slices rebuilt by FEC, %u came as repairs (%" PRIu64 " datagrams in %" PRIu64
	    " receives)", end_text[end], x->from_mcast, x->bytes_mcast, x->recovered,
	    x->repaired, x->datagrams, x->messages);
	free(x->queued);
	free(x);
	return atomic_load(&ag->stop) ? -EIO : 0;
}

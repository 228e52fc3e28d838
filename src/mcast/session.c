/* A multicast deploy session: the sender thread.  See session.h. */
#include "mcast/session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "mcast/fec.h"

#define BATCH 128                       /* datagrams per sendmmsg */
#define GSO_SEGMENTS_MAX 64             /* datagrams in one GSO message */
#define GSO_BYTES_MAX 65000
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#define BURST 64                        /* slices that may leave back to back */
#define JOINS_MAX MCAST_RECEIVERS_MAX
#define RECEIVER_TIMEOUT_US (15 * 1000000ull)
#define IDLE_END_US (3 * 1000000ull)

struct mcast_session {
	struct mcast_session_config cfg;
	uint64_t id;
	int fd;                         /* control socket; also sends the data */
	uint16_t control_port;
	uint32_t nchunks;
	uint32_t *frame_len;
	uint8_t (*sha)[SHA256_LEN];
	uint64_t image_bytes;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;           /* guards everything below */
	pthread_cond_t wake;
	enum mcast_session_state state;
	char error[128];
	bool start_now;
	atomic_bool cancel;
	struct in_addr iface;           /* 0 until the first join */
	/* one receiver per machine (its task): a machine that joins again
	 * gets a new id and its old one is revoked */
	struct member {
		uint64_t host, id;
		bool admitted;          /* handed to the engine */
	} member[JOINS_MAX];
	size_t nmembers;
	size_t nleft;                   /* machines whose task ended: not waited for */
	uint64_t revoked[JOINS_MAX];    /* ids to take from the engine */
	size_t nrevoked;
	int64_t created, first_join, started, finished;
	struct mcast_engine eng;        /* read under the lock for info */
	bool eng_ready;
};

static const char *const state_names[] = {
	[MCAST_WAITING] = "waiting", [MCAST_SENDING] = "sending",
	[MCAST_FINISHED] = "finished", [MCAST_CANCELLED] = "cancelled",
	[MCAST_FAILED] = "failed",
};

const char *
mcast_session_state_name(enum mcast_session_state st)
{
	return (size_t)st < ARRAY_SIZE(state_names) ? state_names[st] : "?";
}

const struct mcast_session_config *
mcast_session_config(const struct mcast_session *s)
{
	return &s->cfg;
}

const uint32_t *
mcast_session_frames(const struct mcast_session *s, uint32_t *n)
{
	*n = s->nchunks;
	return s->frame_len;
}

static int64_t
wall_now(void)
{
	return (int64_t)time(NULL);
}

/* ---- set-up ---- */

static int
load_frames(struct mcast_session *s, char *err, size_t errlen)
{
	struct manifest m;
	int rc = repo_load(s->cfg.repo, s->cfg.image, &m, err, errlen);

	if (rc < 0)
		return rc;
	s->nchunks = (uint32_t)m.nchunks;
	s->frame_len = calloc(m.nchunks ? m.nchunks : 1, sizeof *s->frame_len);
	s->sha = calloc(m.nchunks ? m.nchunks : 1, sizeof *s->sha);
	if (s->frame_len == NULL || s->sha == NULL) {
		manifest_free(&m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m.nchunks && rc == 0; i++) {
		int64_t z = repo_chunk_size(s->cfg.repo, m.chunk[i].sha256);
		memcpy(s->sha[i], m.chunk[i].sha256, SHA256_LEN);
		if (z <= 0 || z > MCAST_FRAME_MAX) {
			snprintf(err, errlen, "image %s: chunk %zu missing or too large", s->cfg.image, i);
			rc = -ENOENT;
		} else {
			s->frame_len[i] = (uint32_t)z;
			s->image_bytes += (uint64_t)z;
		}
	}
	manifest_free(&m);
	if (rc == 0 && s->nchunks == 0) {
		snprintf(err, errlen, "image %s has no chunks", s->cfg.image);
		rc = -EINVAL;
	}
	return rc;
}

static int
open_socket(struct mcast_session *s, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof a;
	unsigned char ttl = (unsigned char)MAX(1u, MIN(s->cfg.ttl, 255u)), loop = 0;
	int sndbuf = 8 << 20;

	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &alen) < 0 ||
	    setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) < 0 ||
	    setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) < 0) {
		snprintf(err, errlen, "multicast socket: %s", strerror(errno));
		return -errno;
	}
	(void)setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	s->control_port = ntohs(a.sin_port);
	return 0;
}

/* ---- the thread ---- */

static uint64_t
now_us(void)
{
	return clock_now_us();
}

/* While the session waits for receivers, those that joined hear from it
 * every second (END of pass 0: "not started yet"), so a machine that booted
 * early waits for the others instead of taking the silence for a dead
 * server.  Called with the lock held. */
static void
announce_waiting(struct mcast_session *s)
{
	struct mcast_packet p = { .type = MCAST_END, .session = s->id };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = s->cfg.group,
		.sin_port = htons(s->cfg.port) };
	uint8_t buf[64];
	size_t len;

	if (s->nmembers == 0)
		return;
	if (s->iface.s_addr != 0)
		(void)setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_IF, &s->iface, sizeof s->iface);
	if ((len = mcast_build(&p, buf, sizeof buf)) > 0)
		(void)sendto(s->fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to);
}

/* Waits for the start conditions; false when cancelled. */
static bool
wait_start(struct mcast_session *s)
{
	pthread_mutex_lock(&s->lock);
	for (;;) {
		int64_t now = wall_now();
		bool enough = s->nmembers >= MAX(s->cfg.min_receivers, 1u);
		bool late = s->nmembers > 0 && now >= s->first_join + (int64_t)s->cfg.start_after_s;
		if (s->cancel)
			break;
		if ((s->start_now && s->nmembers > 0) || enough || late)
			break;
		struct timespec ts;
		announce_waiting(s);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&s->wake, &s->lock, &ts);
	}
	bool go = !s->cancel;
	if (go) {
		s->state = MCAST_SENDING;
		s->started = wall_now();
	}
	pthread_mutex_unlock(&s->lock);
	return go;
}

/* Hand the engine the receivers that joined since last time; while some
 * of the session's machines have not joined, the engine may not end the
 * session before start_after_s from its start (they are still booting:
 * like WDS auto-cast, they join the running session). */
static void
admit_joined(struct mcast_session *s, uint64_t now, uint64_t started_us)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nmembers; i++)
		if (!s->member[i].admitted) {
			(void)mcast_engine_add_receiver(&s->eng, s->member[i].id, now);
			s->member[i].admitted = true;
		}
	while (s->nrevoked > 0)
		(void)mcast_engine_remove_receiver(&s->eng, s->revoked[--s->nrevoked]);
	mcast_engine_hold(&s->eng, s->nmembers + s->nleft < s->cfg.hosts ?
	    started_us + (uint64_t)s->cfg.start_after_s * 1000000 : 0);
	pthread_mutex_unlock(&s->lock);
}

/* Is id revoked, waiting for the sender to take it from the engine?
 * (lock held) */
static bool
revoked(const struct mcast_session *s, uint64_t id)
{
	for (size_t i = 0; i < s->nrevoked; i++)
		if (s->revoked[i] == id)
			return true;
	return false;
}

/* The member of machine host, or NULL (lock held). */
static struct member *
member_of(struct mcast_session *s, uint64_t host)
{
	for (size_t i = 0; i < s->nmembers; i++)
		if (s->member[i].host == host)
			return &s->member[i];
	return NULL;
}

static void
read_status(struct mcast_session *s)
{
	uint8_t buf[2048];
	struct mcast_packet p;          /* on this thread's stack: sessions run at once */

	for (int i = 0; i < 256; i++) {
		ssize_t n = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0)
			return;
		if (mcast_parse(buf, (size_t)n, &p) < 0 || p.session != s->id ||
		    (p.type != MCAST_STATUS && p.type != MCAST_NACK))
			continue;               /* not ours: ignored */
		pthread_mutex_lock(&s->lock);
		if (p.type == MCAST_STATUS)
			(void)mcast_engine_status(&s->eng, &p, now_us());
		else
			(void)mcast_engine_nack(&s->eng, &p, now_us());
		pthread_mutex_unlock(&s->lock);
	}
}

/* The frame of chunk c, kept while its slices go out, and with FEC its
 * parity, made once per frame loaded, at the first PARITY it is asked for
 * (a frame loaded for repairs needs none). */
struct frame_cache {
	uint32_t chunk;
	bool valid, parity_valid;
	uint8_t *data;                  /* MCAST_FRAME_MAX + a slice: zero-padded */
	uint8_t *parity;                /* NULL without FEC */
	struct mcast_fec fec;
};

static const uint8_t *
frame_get(struct mcast_session *s, struct frame_cache *fc, uint32_t c)
{
	char rel[128];
	uint32_t len = s->frame_len[c], padded;
	int fd, rc;

	if (fc->valid && fc->chunk == c)
		return fc->data;
	fc->valid = fc->parity_valid = false;
	repo_chunk_relpath(s->sha[c], rel, sizeof rel);
	fd = openat(s->cfg.repo->dirfd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	rc = image_pread(fd, fc->data, len, 0);
	close(fd);
	if (rc < 0)
		return NULL;
	padded = (len + s->cfg.slice - 1) / s->cfg.slice * s->cfg.slice;
	memset(fc->data + len, 0, padded - len);
	fc->chunk = c;
	fc->valid = true;
	return fc->data;
}

/* Parity piece index of group g of chunk c. */
static const uint8_t *
parity_get(struct mcast_session *s, struct frame_cache *fc, uint32_t c, uint32_t g,
    unsigned index)
{
	if (fc->parity == NULL || frame_get(s, fc, c) == NULL)
		return NULL;
	if (!fc->parity_valid) {
		mcast_fec_encode_frame(&fc->fec, fc->data, s->frame_len[c], s->cfg.slice,
		    fc->parity);
		fc->parity_valid = true;
	}
	return fc->parity + ((size_t)g * s->cfg.fec_m + index) * s->cfg.slice;
}

/* The buffers: a frame, and with FEC the coder and a frame's parity. */
static int
frame_cache_init(struct mcast_session *s, struct frame_cache *fc)
{
	uint32_t groups;

	memset(fc, 0, sizeof *fc);
	fc->data = malloc(MCAST_FRAME_MAX + s->cfg.slice);
	if (fc->data == NULL)
		return -ENOMEM;
	if (s->cfg.fec_k == 0)
		return 0;
	groups = mcast_fec_groups(MCAST_FRAME_MAX, s->cfg.slice, s->cfg.fec_k);
	fc->parity = malloc((size_t)groups * s->cfg.fec_m * s->cfg.slice);
	if (fc->parity == NULL || mcast_fec_init(&fc->fec, s->cfg.fec_k, s->cfg.fec_m) < 0)
		return -ENOMEM;
	return 0;
}

static void
frame_cache_free(struct frame_cache *fc)
{
	free(fc->data);
	free(fc->parity);
	mcast_fec_free(&fc->fec);
}

struct gso_msgs {
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	union { char buf[CMSG_SPACE(sizeof(uint16_t))]; struct cmsghdr align; } ctl[BATCH];
	uint32_t dgrams[BATCH];         /* datagrams in each message */
	unsigned n;
};

/* Datagrams laid end to end in one arena, so that a run of equal-sized
 * ones (the slices of one chunk) goes out as one UDP GSO message: the
 * kernel cuts it into datagrams, and the way to every receiver (a bridge,
 * veth, a NIC with segmentation offload) carries one buffer, not dozens. */
struct batch {
	uint8_t arena[BATCH * MCAST_PACKET_MAX];
	uint32_t len[BATCH];
	size_t n, used;
	bool gso_off;                   /* the kernel refused GSO once */
	struct sockaddr_in to;
	struct gso_msgs gso;
};


/* Group the batch into messages: a run of datagrams of one size (the last
 * may be shorter) up to GSO_SEGMENTS_MAX and GSO_BYTES_MAX becomes one. */
static void
gso_group(struct batch *b)
{
	struct gso_msgs *g = &b->gso;
	size_t off = 0;

	g->n = 0;
	for (size_t i = 0; i < b->n; g->n++) {
		uint32_t seg = b->len[i], k = 1;
		size_t bytes = seg;
		while (!b->gso_off && i + k < b->n && k < GSO_SEGMENTS_MAX &&
		    bytes + b->len[i + k] <= GSO_BYTES_MAX && b->len[i + k] <= seg) {
			bytes += b->len[i + k];
			if (b->len[i + k++] < seg)
				break;          /* a shorter one ends the run */
		}
		struct msghdr *m = &g->msg[g->n].msg_hdr;
		g->iov[g->n] = (struct iovec){ b->arena + off, bytes };
		*m = (struct msghdr){ .msg_name = &b->to, .msg_namelen = sizeof b->to,
			.msg_iov = &g->iov[g->n], .msg_iovlen = 1 };
		if (k > 1) {
			uint16_t size = (uint16_t)seg;
			m->msg_control = g->ctl[g->n].buf;
			m->msg_controllen = sizeof g->ctl[g->n].buf;
			struct cmsghdr *c = CMSG_FIRSTHDR(m);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof size);
			memcpy(CMSG_DATA(c), &size, sizeof size);
		}
		g->dgrams[g->n] = k;
		off += bytes;
		i += k;
	}
}

static void
batch_flush(struct mcast_session *s, struct batch *b)
{
	struct gso_msgs *g = &b->gso;
	unsigned sent = 0;

	gso_group(b);
	for (int tries = 0; sent < g->n && tries < 1000; tries++) {
		int r = sendmmsg(s->fd, g->msg + sent, g->n - sent, 0);
		if (r > 0) {
			sent += (unsigned)r;
		} else if (errno == EAGAIN || errno == ENOBUFS) {
			struct pollfd pfd = { .fd = s->fd, .events = POLLOUT };
			(void)poll(&pfd, 1, 10);
		} else if (!b->gso_off && (errno == EIO || errno == EINVAL)) {
			log_info("mcast %s: UDP GSO refused (%s): one datagram at a time",
			    s->cfg.name, strerror(errno));
			b->gso_off = true;
			batch_flush(s, b);      /* once more, without GSO */
			return;
		} else {
			log_warn("mcast %s: send: %s", s->cfg.name, strerror(errno));
			break;
		}
	}
	b->n = 0;
	b->used = 0;
}

static bool
batch_add(struct mcast_session *s, struct batch *b, const struct mcast_packet *p)
{
	size_t len = mcast_build(p, b->arena + b->used, sizeof b->arena - b->used);

	if (len == 0)
		return false;
	b->len[b->n++] = (uint32_t)len;
	b->used += len;
	if (b->n == BATCH || sizeof b->arena - b->used < MCAST_PACKET_MAX)
		batch_flush(s, b);
	return true;
}

/* How long past its due time to sleep: long enough for half a burst of
 * slices to become due (the engine lets up to a burst leave together, so
 * nothing is lost by sleeping), short enough to keep the pace even. */
static uint64_t
lag_us(uint64_t rate, uint32_t slice)
{
	uint64_t lag = rate ? (uint64_t)(BURST / 2) * slice * 1000000 / rate : 0;

	return MIN(lag, 2000u);
}

/* Sleep until at (microseconds), at most 200 ms; a STATUS or NACK from a
 * receiver ends the sleep early. */
static void
wait_until(struct mcast_session *s, uint64_t at)
{
	uint64_t now = now_us(), us = at > now ? MIN(at - now, 200000u) : 0;
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };

	if (us > 0)
		(void)ppoll(&pfd, 1, &ts, NULL);
}

static bool
send_parity(struct mcast_session *s, struct frame_cache *fc, struct batch *b,
    const struct mcast_action *a)
{
	struct mcast_packet p = { .type = MCAST_PARITY, .session = s->id };

	p.u.parity.payload = parity_get(s, fc, a->chunk, a->group, a->index);
	if (p.u.parity.payload == NULL) {
		snprintf(s->error, sizeof s->error, "chunk %u unreadable", a->chunk);
		return false;
	}
	p.u.parity.chunk = a->chunk;
	p.u.parity.frame_len = s->frame_len[a->chunk];
	p.u.parity.group = a->group;
	p.u.parity.slice = (uint16_t)s->cfg.slice;
	p.u.parity.k = (uint8_t)s->cfg.fec_k;
	p.u.parity.m = (uint8_t)s->cfg.fec_m;
	p.u.parity.index = (uint8_t)a->index;
	p.u.parity.pass = a->pass;
	p.u.parity.total = s->nchunks;
	p.u.parity.len = (uint16_t)a->len;
	return batch_add(s, b, &p);
}

/* One action of the engine: false when the session is over. */
static bool
step(struct mcast_session *s, struct frame_cache *fc, struct batch *b)
{
	struct mcast_action a;
	struct mcast_packet p = { .session = s->id };
	const uint8_t *frame;
	uint64_t rate;

	pthread_mutex_lock(&s->lock);
	mcast_engine_next(&s->eng, now_us(), &a);
	rate = s->eng.rate;
	pthread_mutex_unlock(&s->lock);
	switch (a.kind) {
	case MCAST_ACT_DATA:
		if ((frame = frame_get(s, fc, a.chunk)) == NULL) {
			snprintf(s->error, sizeof s->error, "chunk %u unreadable", a.chunk);
			return false;
		}
		p.type = MCAST_DATA;
		p.u.data.chunk = a.chunk;
		p.u.data.frame_len = s->frame_len[a.chunk];
		p.u.data.offset = a.offset;
		p.u.data.total = s->nchunks;
		p.u.data.pass = a.pass;
		p.u.data.flags = a.repair ? MCAST_DATA_REPAIR : 0;
		p.u.data.payload = frame + a.offset;
		p.u.data.len = (uint16_t)a.len;
		return batch_add(s, b, &p);
	case MCAST_ACT_PARITY:
		return send_parity(s, fc, b, &a);
	case MCAST_ACT_END:
		p.type = MCAST_END;
		p.u.end.pass = a.pass;
		p.u.end.final = a.final;
		p.u.end.next = a.next;
		batch_add(s, b, &p);
		batch_flush(s, b);
		if (!a.final)
			log_info("mcast %s: pass %u ended; next pass %u chunks", s->cfg.name,
			    a.pass, a.next);
		return true;
	case MCAST_ACT_WAIT:
		batch_flush(s, b);
		wait_until(s, a.at_us + lag_us(rate, s->cfg.slice));
		return true;
	case MCAST_ACT_DONE:
		batch_flush(s, b);
		return false;
	}
	return false;
}

static void
changed(struct mcast_session *s)
{
	if (s->cfg.on_change != NULL)
		s->cfg.on_change(s, s->cfg.on_change_arg);
}

static void
run(struct mcast_session *s)
{
	struct frame_cache fc;
	struct batch *b = calloc(1, sizeof *b);
	uint64_t started_us = now_us(), told_us = started_us;
	unsigned n = 0;

	if (frame_cache_init(s, &fc) < 0 || b == NULL) {
		snprintf(s->error, sizeof s->error, "out of memory");
		goto out;
	}
	b->to = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr = s->cfg.group,
		.sin_port = htons(s->cfg.port) };
	pthread_mutex_lock(&s->lock);
	if (s->iface.s_addr != 0)
		(void)setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_IF, &s->iface, sizeof s->iface);
	pthread_mutex_unlock(&s->lock);
	while (!s->cancel) {
		admit_joined(s, now_us(), started_us);
		if ((++n & 15) == 0 || b->n == 0)
			read_status(s);
		if (!step(s, &fc, b))
			break;
		if ((n & 255) == 0 && now_us() - told_us >= 1000000) {
			told_us = now_us();
			changed(s);
		}
	}
out:
	frame_cache_free(&fc);
	free(b);
}

static void *
session_main(void *arg)
{
	struct mcast_session *s = arg;
	struct mcast_engine_config ec = {
		.nchunks = s->nchunks, .frame_len = s->frame_len, .slice = s->cfg.slice,
		.rate_max = s->cfg.rate_max, .rate_min = s->cfg.rate_min,
		.rate_start = s->cfg.rate_max / 16,     /* slow start: the room is unknown */
		.receiver_timeout_us = RECEIVER_TIMEOUT_US, .idle_end_us = IDLE_END_US,
		.max_passes = 64, .burst = BURST, .fec_k = s->cfg.fec_k, .fec_m = s->cfg.fec_m,
	};

	if (!wait_start(s)) {
		pthread_mutex_lock(&s->lock);
		s->state = MCAST_CANCELLED;     /* before it started */
		s->finished = wall_now();
		pthread_mutex_unlock(&s->lock);
		log_info("mcast %s: cancelled before it started", s->cfg.name);
		changed(s);
		return NULL;
	}
	changed(s);
	(void)prctl(PR_SET_TIMERSLACK, 10000UL);   /* pacing: sleeps of 0.1-2 ms */
	pthread_mutex_lock(&s->lock);
	s->eng_ready = mcast_engine_init(&s->eng, &ec, now_us()) == 0;
	pthread_mutex_unlock(&s->lock);
	if (!s->eng_ready) {
		snprintf(s->error, sizeof s->error, "engine: bad parameters or out of memory");
	} else {
		char fec[16];
		log_info("mcast %s: sending image %s (%u chunks, %llu bytes) to %s:%u, FEC %s",
		    s->cfg.name, s->cfg.image, s->nchunks, (unsigned long long)s->image_bytes,
		    inet_ntoa(s->cfg.group), s->cfg.port,
		    mcast_fec_text(s->cfg.fec_k, s->cfg.fec_m, fec, sizeof fec));
		run(s);
	}
	pthread_mutex_lock(&s->lock);
	s->state = s->cancel ? MCAST_CANCELLED : s->error[0] ? MCAST_FAILED : MCAST_FINISHED;
	s->finished = wall_now();
	pthread_mutex_unlock(&s->lock);
	log_info("mcast %s: %s after %u passes, %llu bytes sent (%llu parity pieces)%s%s",
	    s->cfg.name, mcast_session_state_name(s->state), s->eng_ready ? s->eng.pass : 0,
	    (unsigned long long)(s->eng_ready ? s->eng.bytes_sent : 0),
	    (unsigned long long)(s->eng_ready ? s->eng.parity_sent : 0),
	    s->error[0] ? ": " : "", s->error);
	changed(s);
	return NULL;
}

/* ---- the API's side ---- */

int
mcast_session_create(struct mcast_session **out, const struct mcast_session_config *cfg,
    char *err, size_t errlen)
{
	struct mcast_session *s = calloc(1, sizeof *s);
	int rc;

	*out = NULL;
	if (s == NULL)
		return -ENOMEM;
	s->cfg = *cfg;
	s->fd = -1;
	s->state = MCAST_WAITING;
	s->created = wall_now();
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	do {
		if (getrandom(&s->id, sizeof s->id, 0) != (ssize_t)sizeof s->id) {
			mcast_session_destroy(s);
			return -EIO;
		}
	} while (s->id == 0);
	rc = load_frames(s, err, errlen);
	if (rc == 0 && (cfg->fec_k != 0 || cfg->fec_m != 0) &&
	    !mcast_fec_valid(cfg->fec_k, cfg->fec_m)) {
		snprintf(err, errlen, "FEC %u,%u: need 1 <= M <= K <= %d, K + M <= %d", cfg->fec_k,
		    cfg->fec_m, MCAST_FEC_K_MAX, MCAST_FEC_PIECES_MAX);
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = open_socket(s, err, errlen);
	if (rc == 0 && pthread_create(&s->thread, NULL, session_main, s) != 0) {
		snprintf(err, errlen, "cannot start the session's thread");
		rc = -EAGAIN;
	}
	if (rc < 0) {
		mcast_session_destroy(s);
		return rc;
	}
	s->thread_started = true;
	*out = s;
	return 0;
}

/* A fresh receiver id (never 0), or 0. */
static uint64_t
new_id(void)
{
	uint64_t id = 0;

	for (int tries = 0; id == 0 && tries < 4; tries++)
		if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id)
			id = 0;
	return id;
}

uint64_t
mcast_session_join(struct mcast_session *s, struct in_addr local, uint64_t host)
{
	struct member *m;
	uint64_t id = 0;

	pthread_mutex_lock(&s->lock);
	if (s->state != MCAST_WAITING && s->state != MCAST_SENDING)
		goto out;
	m = member_of(s, host);
	if ((m == NULL && s->nmembers == JOINS_MAX) ||
	    (m != NULL && m->admitted && s->nrevoked == JOINS_MAX) || (id = new_id()) == 0)
		goto out;
	if (m == NULL) {
		m = &s->member[s->nmembers++];
		m->host = host;
	} else if (m->admitted) {
		s->revoked[s->nrevoked++] = m->id;      /* the old agent's id stops here */
	}
	m->id = id;
	m->admitted = false;
	if (s->first_join == 0)
		s->first_join = wall_now();
	if (s->iface.s_addr == 0)
		s->iface = local;
	pthread_cond_signal(&s->wake);
out:
	pthread_mutex_unlock(&s->lock);
	return id;
}

void
mcast_session_leave(struct mcast_session *s, uint64_t host)
{
	struct member *m;

	pthread_mutex_lock(&s->lock);
	m = member_of(s, host);
	if (m != NULL && (!m->admitted || s->nrevoked < JOINS_MAX)) {
		if (m->admitted)
			s->revoked[s->nrevoked++] = m->id;
		*m = s->member[--s->nmembers];
	}
	if (s->nleft < JOINS_MAX)
		s->nleft++;             /* its machine is not waited for */
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

void
mcast_session_start_now(struct mcast_session *s)
{
	pthread_mutex_lock(&s->lock);
	s->start_now = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

void
mcast_session_cancel(struct mcast_session *s)
{
	pthread_mutex_lock(&s->lock);
	s->cancel = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

void
mcast_session_destroy(struct mcast_session *s)
{
	if (s == NULL)
		return;
	if (s->thread_started) {
		mcast_session_cancel(s);
		pthread_join(s->thread, NULL);
	}
	if (s->eng_ready)
		mcast_engine_free(&s->eng);
	if (s->fd >= 0)
		close(s->fd);
	free(s->frame_len);
	free(s->sha);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const char *
rx_state(const struct mcast_receiver_info *r)
{
	if (r->gone)
		return "gone";
	return r->state == MCAST_COMPLETE ? "complete" : r->state == MCAST_LEAVING ?
	    "leaving" : "receiving";
}

void
mcast_session_info(struct mcast_session *s, struct mcast_session_info *out)
{
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&s->lock);
	out->state = s->state;
	str_copy(out->error, s->error, sizeof out->error);
	out->session_id = s->id;
	out->control_port = s->control_port;
	out->chunks = s->nchunks;
	out->image_bytes = s->image_bytes;
	out->created = s->created;
	out->started = s->started;
	out->finished = s->finished;
	if (s->eng_ready) {
		out->pass = s->eng.pass;
		out->rate = s->eng.rate;
		out->bytes_sent = s->eng.bytes_sent;
		out->parity_sent = s->eng.parity_sent;
		for (size_t i = 0; i < s->eng.nrx; i++)
			if (!revoked(s, s->eng.rx[i].id))
				out->rx[out->nrx++] = (struct mcast_rx_public){ s->eng.rx[i].id,
					s->eng.rx[i].done, s->eng.rx[i].total,
					rx_state(&s->eng.rx[i]) };
	}
	for (size_t i = 0; i < s->nmembers && out->nrx < MCAST_RECEIVERS_MAX; i++)
		if (!s->eng_ready || !s->member[i].admitted)
			out->rx[out->nrx++] = (struct mcast_rx_public){ s->member[i].id, 0,
				s->nchunks, "waiting" };
	pthread_mutex_unlock(&s->lock);
}

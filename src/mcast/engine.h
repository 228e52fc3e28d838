/* The multicast sender's engine: what to send next and when.  Pure: the
 * caller passes the time and the receivers' STATUS packets and carries out
 * the actions (tests drive it with fake time).
 *
 * A session sends an image's chunks (their zstd frames, cut into slices)
 * in passes.  Pass 1 carries every chunk in order.  Receivers report, in
 * STATUS packets, the whole chunks they still need and, in NACKs, the
 * slices missing from chunks they hold in part; needs for chunks this pass
 * has already gone past (or does not carry) are collected into the next
 * pass, which carries only those -- a late joiner gets what it missed
 * there.  Slices NACKed for chunks the pass has gone past are not left for
 * the next pass: they are sent between the pass's chunks, so a lossy
 * receiver completes its chunks as the pass goes and keeps few in part.  When a pass ends
 * with nothing asked for, the engine announces END and waits; it finishes
 * when every receiver is complete (or gone), when nobody asked for
 * anything for idle_end_us, or after max_passes.
 *
 * The rate follows the receivers: when most of them (or the only one)
 * report loss above 2%, it is congestion and the rate drops by a fifth
 * (not below rate_min); one lossy link among several is not, and is served
 * by repairs alone.  A second without such a cut raises it by a tenth (up
 * to rate_max).  A receiver that cannot keep up
 * at the floor leaves (it says LEAVING and fetches the rest over HTTP) and
 * no longer counts.
 *
 * With forward error correction (fec_k, fec_m: mcast/fec.h), every chunk
 * sent whole (in pass 1, or asked whole later) has, right after each
 * group of fec_k data slices (or the frame's last slice, for a short last
 * group), the group's fec_m PARITY actions, paced like data: they cost
 * rate.  Slices sent as repairs (NACKed) stay plain data, without parity. */
#ifndef PXED_MCAST_ENGINE_H
#define PXED_MCAST_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mcast/codec.h"

#define MCAST_RECEIVERS_MAX 256

struct mcast_engine_config {
	uint32_t nchunks;
	const uint32_t *frame_len;      /* per chunk; not owned */
	uint32_t slice;                 /* payload bytes per DATA */
	uint64_t rate_max;              /* payload bytes per second */
	uint64_t rate_min;
	uint64_t rate_start;            /* 0: rate_max; else slow start from here */
	uint64_t receiver_timeout_us;   /* a silent receiver is dropped */
	uint64_t idle_end_us;           /* nobody needs anything: end */
	unsigned max_passes;
	unsigned burst;                 /* slices that may leave back to back */
	unsigned fec_k, fec_m;          /* parity pieces per group of slices; 0, 0: off */
};

enum mcast_action_kind {
	MCAST_ACT_DATA,                 /* send one slice */
	MCAST_ACT_PARITY,               /* send one parity piece */
	MCAST_ACT_END,                  /* send END (final: the session is over) */
	MCAST_ACT_WAIT,                 /* nothing before at_us */
	MCAST_ACT_DONE,                 /* finished */
};

struct mcast_action {
	enum mcast_action_kind kind;
	uint64_t at_us;                 /* WAIT */
	uint32_t chunk, offset, len;    /* DATA; PARITY: chunk, len */
	uint32_t group;                 /* PARITY: group of fec_k slices */
	unsigned index;                 /* PARITY: piece, < fec_m */
	uint16_t pass;
	bool repair;                    /* DATA: a NACKed slice, out of the pass's order */
	bool final;                     /* END */
	uint32_t next;                  /* END: chunks of the next pass */
};

struct mcast_receiver_info {
	uint64_t id;
	uint32_t done, total;
	enum mcast_rstate state;
	bool gone;                      /* timed out */
	uint64_t last_us;
	uint32_t loss_permille;         /* in its last report */
	uint32_t backlog_kib;           /* queued in its socket at its last report */
	uint32_t backlog_prev_kib;      /* ... and at the one before */
	uint64_t delivered;             /* bytes per second it took, last report */
};

struct mcast_engine {
	struct mcast_engine_config cfg;
	uint16_t pass;
	uint32_t *queue;                /* chunks of this pass, ascending */
	uint32_t nqueue, pos, offset;   /* next slice: queue[pos] at offset */
	uint8_t *need;                  /* for the next pass: 0 no, 1 whole, 2 slices */
	uint8_t **need_mask;            /* need 2: one byte per slice */
	uint8_t **cur_mask;             /* this pass: the slices it carries (NULL: all) */
	uint32_t nneeded;
	bool repairing;                 /* serving a NACKed chunk inside the pass */
	uint32_t r_chunk, r_offset, r_scan;
	uint8_t *r_mask;
	bool parity_due;                /* a group's parity is being sent */
	uint32_t p_chunk, p_group;
	unsigned p_index;
	uint64_t rate;
	uint64_t next_us;               /* pacing: when the next slice is due */
	bool paced;                     /* a slice has been sent */
	bool slow_start;                /* doubling until the first congestion */
	bool raise_ok;                  /* the last reports allow a raise */
	uint64_t hold_until_us;         /* machines still missing: no end before */
	uint64_t last_need_us;          /* last time somebody needed something */
	uint64_t last_raise_us, last_cut_us, last_end_us;
	unsigned ends_final;            /* final ENDs sent */
	bool idle;                      /* between passes, waiting for needs */
	bool started;
	struct mcast_receiver_info rx[MCAST_RECEIVERS_MAX];
	size_t nrx;
	uint64_t bytes_sent;            /* payload, data and parity */
	uint64_t parity_sent;           /* parity pieces */
};

/* 0, -EINVAL (no chunks, a zero slice or rate, fec_k and fec_m neither
 * both 0 nor mcast_fec_valid) or -ENOMEM. */
int mcast_engine_init(struct mcast_engine *e, const struct mcast_engine_config *cfg,
    uint64_t now_us);
void mcast_engine_free(struct mcast_engine *e);

/* A receiver the server admitted (its id from the API).  -ENOSPC when full. */
int mcast_engine_add_receiver(struct mcast_engine *e, uint64_t id, uint64_t now_us);
/* A receiver the server revoked (its task ended, or its machine joined
 * again with a new id): its packets are ignored from now on.  -ENOENT when
 * unknown. */
int mcast_engine_remove_receiver(struct mcast_engine *e, uint64_t id);

/* A STATUS from a receiver; unknown ids are ignored (returns -ENOENT). */
int mcast_engine_status(struct mcast_engine *e, const struct mcast_packet *p, uint64_t now_us);
/* A NACK: slices of one chunk a receiver holds in part and still needs.
 * -ENOENT for an unknown receiver, -EINVAL for a chunk or frame size that
 * is not this image's. */
int mcast_engine_nack(struct mcast_engine *e, const struct mcast_packet *p, uint64_t now_us);

/* What to do now.  After a DATA, PARITY or END action the caller sends
 * it; the engine has already accounted for it. */
void mcast_engine_next(struct mcast_engine *e, uint64_t now_us, struct mcast_action *a);

/* Machines of the session have not joined yet: do not end the session
 * before until_us (0: nobody is missing). */
void mcast_engine_hold(struct mcast_engine *e, uint64_t until_us);

/* Receivers still taking part (not complete, not gone, not leaving). */
size_t mcast_engine_active(const struct mcast_engine *e);

#endif

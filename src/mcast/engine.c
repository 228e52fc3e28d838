/* The multicast sender's engine.  See engine.h. */
#include "mcast/engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define LOSS_CUT_PERMILLE 20            /* 2% */
#define BACKLOG_HIGH_KIB 8192           /* a receiver this far behind is struggling */
#define RATE_STEP_US 200000             /* raise at most this often */
#define CUT_STEP_US 200000              /* cut at most every 200 ms */
#define END_EVERY_US 500000             /* END repeated while waiting */
#define FINAL_ENDS 3

int
mcast_engine_init(struct mcast_engine *e, const struct mcast_engine_config *cfg,
    uint64_t now_us)
{
	memset(e, 0, sizeof *e);
	if (cfg->nchunks == 0 || cfg->nchunks > MCAST_CHUNKS_MAX || cfg->slice == 0 ||
	    cfg->slice > MCAST_PACKET_MAX || cfg->rate_max == 0 || cfg->rate_min == 0 ||
	    cfg->rate_min > cfg->rate_max ||
	    ((cfg->fec_k != 0 || cfg->fec_m != 0) && !mcast_fec_valid(cfg->fec_k, cfg->fec_m)))
		return -EINVAL;
	e->cfg = *cfg;
	if (e->cfg.burst == 0)
		e->cfg.burst = 1;
	if (e->cfg.max_passes == 0)
		e->cfg.max_passes = 64;
	e->queue = calloc(cfg->nchunks, sizeof *e->queue);
	e->need = calloc(cfg->nchunks, sizeof *e->need);
	e->need_mask = calloc(cfg->nchunks, sizeof *e->need_mask);
	e->cur_mask = calloc(cfg->nchunks, sizeof *e->cur_mask);
	if (e->queue == NULL || e->need == NULL || e->need_mask == NULL ||
	    e->cur_mask == NULL) {
		mcast_engine_free(e);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cfg->nchunks; i++)
		e->queue[i] = i;
	e->nqueue = cfg->nchunks;
	e->pass = 1;
	e->rate = cfg->rate_max;
	if (cfg->rate_start > 0 && cfg->rate_start < cfg->rate_max) {
		e->rate = MAX(cfg->rate_start, cfg->rate_min);
		e->slow_start = true;
	}
	e->next_us = now_us;            /* emit_slice allows the first burst */
	e->last_need_us = now_us;
	e->last_raise_us = now_us;
	return 0;
}

void
mcast_engine_free(struct mcast_engine *e)
{
	free(e->r_mask);
	e->r_mask = NULL;
	for (uint32_t c = 0; c < e->cfg.nchunks; c++) {
		if (e->need_mask != NULL)
			free(e->need_mask[c]);
		if (e->cur_mask != NULL)
			free(e->cur_mask[c]);
	}
	free(e->queue);
	free(e->need);
	free(e->need_mask);
	free(e->cur_mask);
	e->queue = NULL;
	e->need = NULL;
	e->need_mask = e->cur_mask = NULL;
}

static uint32_t
nslices(const struct mcast_engine *e, uint32_t c)
{
	return (e->cfg.frame_len[c] + e->cfg.slice - 1) / e->cfg.slice;
}

/* Chunk c is needed whole in the next pass. */
static void
need_whole(struct mcast_engine *e, uint32_t c)
{
	if (e->need[c] == 0)
		e->nneeded++;
	e->need[c] = 1;
	free(e->need_mask[c]);
	e->need_mask[c] = NULL;
}

int
mcast_engine_add_receiver(struct mcast_engine *e, uint64_t id, uint64_t now_us)
{
	for (size_t i = 0; i < e->nrx; i++)
		if (e->rx[i].id == id)
			return 0;
	if (e->nrx == MCAST_RECEIVERS_MAX)
		return -ENOSPC;
	e->rx[e->nrx] = (struct mcast_receiver_info){ .id = id, .total = e->cfg.nchunks,
		.last_us = now_us };
	e->nrx++;
	return 0;
}

int
mcast_engine_remove_receiver(struct mcast_engine *e, uint64_t id)
{
	for (size_t i = 0; i < e->nrx; i++)
		if (e->rx[i].id == id) {
			e->rx[i] = e->rx[--e->nrx];
			return 0;
		}
	return -ENOENT;
}

static struct mcast_receiver_info *
find_rx(struct mcast_engine *e, uint64_t id)
{
	for (size_t i = 0; i < e->nrx; i++)
		if (e->rx[i].id == id)
			return &e->rx[i];
	return NULL;
}

size_t
mcast_engine_active(const struct mcast_engine *e)
{
	size_t n = 0;

	for (size_t i = 0; i < e->nrx; i++)
		if (!e->rx[i].gone && e->rx[i].state == MCAST_RECEIVING)
			n++;
	return n;
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Has this pass already gone past chunk c (or does it not carry it)?  The
 * chunk in flight and the ones still ahead in the queue are not past. */
static bool
passed(const struct mcast_engine *e, uint32_t c)
{
	if (e->idle || e->pos >= e->nqueue)
		return true;
	return bsearch(&c, e->queue + e->pos, e->nqueue - e->pos, sizeof c, u32_cmp) == NULL;
}

static void
note_needs(struct mcast_engine *e, const struct mcast_packet *p, uint64_t now_us)
{
	uint32_t n = e->cfg.nchunks;

	for (uint16_t i = 0; i < p->u.status.nranges; i++) {
		const struct mcast_range *r = &p->u.status.range[i];
		for (uint32_t c = r->first; c < n && c - r->first < r->count; c++) {
			if (e->need[c] == 1 || !passed(e, c))
				continue;
			need_whole(e, c);
		}
	}
	if (p->u.status.nranges > 0)
		e->last_need_us = now_us;
}

static bool
taking_part(const struct mcast_receiver_info *rx)
{
	return !rx->gone && rx->state == MCAST_RECEIVING;
}

/* Losing packets, or falling behind: its socket holds a backlog that is
 * still growing (the early sign: loss comes only once the backlog
 * overflows; a backlog that shrinks is being worked off). */
static bool
struggling(const struct mcast_receiver_info *rx)
{
	return rx->loss_permille > LOSS_CUT_PERMILLE ||
	    (rx->backlog_kib > BACKLOG_HIGH_KIB && rx->backlog_kib > rx->backlog_prev_kib);
}

/* Congestion: most receivers still in the session (or the only one) are
 * struggling. */
static bool
congested(const struct mcast_engine *e)
{
	size_t active = 0, bad = 0;

	for (size_t i = 0; i < e->nrx; i++) {
		if (!taking_part(&e->rx[i]))
			continue;
		active++;
		if (struggling(&e->rx[i]))
			bad++;
	}
	return bad > 0 && 2 * bad > active;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median of what the struggling receivers took per second in their
 * last report: what the room can take now.  0 when unknown. */
static uint64_t
room_rate(const struct mcast_engine *e)
{
	uint64_t r[MCAST_RECEIVERS_MAX];
	size_t n = 0;

	for (size_t i = 0; i < e->nrx; i++)
		if (taking_part(&e->rx[i]) && struggling(&e->rx[i]) && e->rx[i].delivered > 0)
			r[n++] = e->rx[i].delivered;
	if (n == 0)
		return 0;
	qsort(r, n, sizeof r[0], u64_cmp);
	return r[n / 2];
}

/* Congestion: cut by a fifth, or at once to a little below what the room
 * takes when that is lower; never below the floor.  Slow start ends. */
static void
cut_rate(struct mcast_engine *e, uint64_t now_us)
{
	uint64_t rate = e->rate * 4 / 5, room = room_rate(e) * 9 / 10;

	if (room > 0 && room < rate)
		rate = room;
	e->rate = rate < e->cfg.rate_min ? e->cfg.rate_min : rate;
	e->slow_start = false;
	e->last_cut_us = now_us;
	e->last_raise_us = now_us;
}

/* Every receiver taking part has reported since the last raise (or there
 * are none yet): a raise is based on news, not on old reports. */
static bool
heard_since_raise(const struct mcast_engine *e)
{
	for (size_t i = 0; i < e->nrx; i++)
		if (taking_part(&e->rx[i]) && e->rx[i].last_us <= e->last_raise_us)
			return false;
	return true;
}

/* A receiver's report: its loss, backlog and the rate it took since its
 * previous report (prev_us); cut on congestion, at most every CUT_STEP_US. */
static void
adapt_rate(struct mcast_engine *e, struct mcast_receiver_info *rx,
    const struct mcast_packet *p, uint64_t prev_us, uint64_t now_us)
{
	uint64_t got = (uint64_t)p->u.status.received + p->u.status.lost;

	rx->loss_permille = got ? (uint32_t)((uint64_t)p->u.status.lost * 1000 / got) : 0;
	rx->backlog_prev_kib = rx->backlog_kib;
	rx->backlog_kib = p->u.status.backlog;
	rx->delivered = now_us > prev_us ? (uint64_t)p->u.status.received * e->cfg.slice *
	    1000000 / (now_us - prev_us) : 0;
	bool jam = congested(e);

	if (jam && now_us - e->last_cut_us >= CUT_STEP_US)
		cut_rate(e, now_us);
	else if (jam)
		e->last_raise_us = now_us;      /* not clean: no raise yet */
	/* decided here, where reports arrive, not for every slice sent */
	e->raise_ok = !jam && heard_since_raise(e);
}

int
mcast_engine_status(struct mcast_engine *e, const struct mcast_packet *p, uint64_t now_us)
{
	struct mcast_receiver_info *rx;
	uint64_t prev_us;

	if (p->type != MCAST_STATUS || (rx = find_rx(e, p->sender)) == NULL)
		return -ENOENT;
	prev_us = rx->last_us;
	rx->last_us = now_us;
	rx->gone = false;
	rx->done = p->u.status.done;
	rx->state = p->u.status.state;
	if (rx->state != MCAST_RECEIVING)
		return 0;
	note_needs(e, p, now_us);
	adapt_rate(e, rx, p, prev_us, now_us);
	return 0;
}

int
mcast_engine_nack(struct mcast_engine *e, const struct mcast_packet *p, uint64_t now_us)
{
	struct mcast_receiver_info *rx;
	uint32_t c = p->u.nack.chunk, n;

	if (p->type != MCAST_NACK || (rx = find_rx(e, p->sender)) == NULL)
		return -ENOENT;
	if (c >= e->cfg.nchunks || p->u.nack.frame_len != e->cfg.frame_len[c])
		return -EINVAL;
	rx->last_us = now_us;
	if (e->need[c] == 1 || !passed(e, c))
		return 0;
	n = nslices(e, c);
	if (e->need_mask[c] == NULL && (e->need_mask[c] = calloc(n, 1)) == NULL) {
		need_whole(e, c);       /* no memory for a mask: send it all */
		return 0;
	}
	for (uint16_t i = 0; i < p->u.nack.nranges; i++) {
		const struct mcast_range *r = &p->u.nack.range[i];
		for (uint32_t k = r->first; k < n && k - r->first < r->count; k++)
			e->need_mask[c][k] = 1;
	}
	if (e->need[c] == 0)
		e->nneeded++;
	e->need[c] = 2;
	e->last_need_us = now_us;
	return 0;
}

static void
expire_receivers(struct mcast_engine *e, uint64_t now_us)
{
	for (size_t i = 0; i < e->nrx; i++)
		if (!e->rx[i].gone && e->rx[i].state == MCAST_RECEIVING &&
		    now_us - e->rx[i].last_us > e->cfg.receiver_timeout_us)
			e->rx[i].gone = true;
}

/* Slow start doubles the rate every RATE_STEP_US while the room keeps up;
 * after the first congestion each clean step raises it by a twentieth. */
static void
maybe_raise(struct mcast_engine *e, uint64_t now_us)
{
	if (now_us - e->last_raise_us < RATE_STEP_US || (e->nrx > 0 && !e->raise_ok))
		return;
	e->last_raise_us = now_us;
	e->raise_ok = false;            /* the next raise waits for fresh reports */
	e->rate += e->slow_start ? e->rate : e->rate / 20;
	if (e->rate >= e->cfg.rate_max) {
		e->rate = e->cfg.rate_max;
		e->slow_start = false;
	}
}

/* The needs collected become the next pass. */
static void
start_pass(struct mcast_engine *e)
{
	e->nqueue = 0;
	for (uint32_t c = 0; c < e->cfg.nchunks; c++) {
		free(e->cur_mask[c]);
		e->cur_mask[c] = NULL;
		if (e->need[c] == 0)
			continue;
		e->queue[e->nqueue++] = c;
		e->cur_mask[c] = e->need_mask[c];       /* NULL when needed whole */
		e->need_mask[c] = NULL;
		e->need[c] = 0;
	}
	e->nneeded = 0;
	e->pos = e->offset = 0;
	e->pass++;
	e->idle = false;
}

static bool
finished(const struct mcast_engine *e, uint64_t now_us)
{
	bool anyone = e->nrx > 0;

	if (e->pass > e->cfg.max_passes)
		return true;
	if (now_us < e->hold_until_us)
		return false;           /* machines of the session are still to come */
	if (anyone && mcast_engine_active(e) == 0)
		return true;
	return now_us - e->last_need_us >= e->cfg.idle_end_us;
}

void
mcast_engine_hold(struct mcast_engine *e, uint64_t until_us)
{
	e->hold_until_us = until_us;
}

static void
act_end(struct mcast_engine *e, uint64_t now_us, bool final, struct mcast_action *a)
{
	a->kind = MCAST_ACT_END;
	a->pass = e->pass;
	a->final = final;
	a->next = e->nneeded;
	e->last_end_us = now_us;
	if (final)
		e->ends_final++;
}

/* Between passes: start the next one, announce, or finish. */
static void
next_idle(struct mcast_engine *e, uint64_t now_us, struct mcast_action *a)
{
	/* max_passes holds even while receivers still need chunks (found by
	 * fuzz_mcast_control: one reporting needs forever kept the session
	 * sending, the pass number wrapping): the rest is fetched over HTTP */
	if (e->ends_final > 0 || e->pass >= e->cfg.max_passes ||
	    (e->nneeded == 0 && finished(e, now_us))) {
		if (e->ends_final >= FINAL_ENDS) {
			a->kind = MCAST_ACT_DONE;
			return;
		}
		if (e->ends_final > 0 && now_us - e->last_end_us < 100000) {
			a->kind = MCAST_ACT_WAIT;
			a->at_us = e->last_end_us + 100000;
			return;
		}
		act_end(e, now_us, true, a);
		return;
	}
	if (e->nneeded > 0) {
		start_pass(e);
		act_end(e, now_us, false, a);
		a->next = e->nqueue;            /* tell the next pass's size */
		return;
	}
	if (now_us - e->last_end_us >= END_EVERY_US) {
		act_end(e, now_us, false, a);
		return;
	}
	a->kind = MCAST_ACT_WAIT;
	a->at_us = e->last_end_us + END_EVERY_US;
}

/* Move to the next slice this pass carries (a repair pass carries only
 * the slices asked for); pos == nqueue when the pass is through. */
static void
skip_unwanted(struct mcast_engine *e)
{
	while (e->pos < e->nqueue) {
		uint32_t c = e->queue[e->pos];
		const uint8_t *mask = e->cur_mask[c];
		while (mask != NULL && e->offset < e->cfg.frame_len[c] &&
		    !mask[e->offset / e->cfg.slice])
			e->offset += e->cfg.slice;
		if (e->offset < e->cfg.frame_len[c])
			return;
		e->offset = 0;
		e->pos++;
	}
}

/* Time, in microseconds, that len bytes take at the current rate. */
static uint64_t
cost_us(const struct mcast_engine *e, uint64_t len)
{
	return len * 1000000 / e->rate;
}

/* How far next_us may lag behind now: burst slices may then leave at once. */
static uint64_t
burst_window(const struct mcast_engine *e)
{
	return cost_us(e, (uint64_t)(e->cfg.burst - 1) * e->cfg.slice);
}

/* len bytes may leave now: true, accounted for; false with a WAIT.  A
 * token bucket: next_us is when the next slice is due; time the sender
 * spent elsewhere (a late wake-up, a disk read) is made up for in a burst,
 * but never more than burst slices' worth, so an idle spell does not
 * become a flood. */
static bool
pace(struct mcast_engine *e, uint64_t now_us, uint32_t len, struct mcast_action *a)
{
	uint64_t window = burst_window(e);

	if (e->next_us + window < now_us || !e->paced) {
		e->next_us = now_us > window ? now_us - window : 0;
		e->paced = true;        /* the first burst */
	}
	if (e->next_us > now_us) {
		a->kind = MCAST_ACT_WAIT;
		a->at_us = e->next_us;
		return false;
	}
	e->next_us += cost_us(e, len);
	e->bytes_sent += len;
	return true;
}

/* Slice [off, off + slice) of chunk c, paced by the rate: true with a DATA
 * action, false with a WAIT (nothing may leave yet). */
static bool
emit_slice(struct mcast_engine *e, uint64_t now_us, uint32_t c, uint32_t off,
    struct mcast_action *a)
{
	uint32_t len = MIN(e->cfg.frame_len[c] - off, e->cfg.slice);

	if (!pace(e, now_us, len, a))
		return false;
	a->kind = MCAST_ACT_DATA;
	a->chunk = c;
	a->offset = off;
	a->len = len;
	a->pass = e->pass;
	return true;
}

/* After the data slice at off of a chunk sent whole: when it ends a group
 * (fec_k slices, or the frame), that group's parity is due. */
static void
note_group_end(struct mcast_engine *e, uint32_t c, uint32_t off)
{
	uint32_t idx = off / e->cfg.slice, n = nslices(e, c);

	if (e->cfg.fec_k == 0 || ((idx + 1) % e->cfg.fec_k != 0 && idx + 1 != n))
		return;
	e->parity_due = true;
	e->p_chunk = c;
	e->p_group = idx / e->cfg.fec_k;
	e->p_index = 0;
}

/* The due group's next parity piece, paced like data. */
static void
next_parity(struct mcast_engine *e, uint64_t now_us, struct mcast_action *a)
{
	uint32_t c = e->p_chunk;
	uint64_t start = (uint64_t)e->p_group * e->cfg.fec_k * e->cfg.slice;
	uint32_t len = (uint32_t)MIN((uint64_t)e->cfg.slice, e->cfg.frame_len[c] - start);

	if (!pace(e, now_us, len, a))
		return;
	a->kind = MCAST_ACT_PARITY;
	a->chunk = c;
	a->group = e->p_group;
	a->index = e->p_index;
	a->len = len;
	a->pass = e->pass;
	e->parity_sent++;
	if (++e->p_index == e->cfg.fec_m)
		e->parity_due = false;
}

/* The next slice of this pass. */
static void
next_slice(struct mcast_engine *e, uint64_t now_us, struct mcast_action *a)
{
	uint32_t c = e->queue[e->pos];

	if (!emit_slice(e, now_us, c, e->offset, a))
		return;
	if (e->cur_mask[c] == NULL)
		note_group_end(e, c, e->offset);        /* sent whole: with parity */
	e->offset += a->len;
	if (e->offset >= e->cfg.frame_len[c]) {
		e->offset = 0;
		e->pos++;
	}
}

/* Between two chunks of the pass: take up a chunk with NACKed slices that
 * the pass has gone past (whole chunks wait for the next pass). */
static void
start_repair(struct mcast_engine *e)
{
	uint32_t n = e->cfg.nchunks;

	if (e->repairing || e->offset != 0 || e->nneeded == 0)
		return;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t c = (e->r_scan + k) % n;
		if (e->need[c] != 2)
			continue;
		e->r_chunk = c;
		e->r_offset = 0;
		e->r_mask = e->need_mask[c];
		e->need_mask[c] = NULL;
		e->need[c] = 0;
		e->nneeded--;
		e->r_scan = c + 1;
		e->repairing = true;
		return;
	}
}

/* The repair's next slice: true with an action, false when it is done. */
static bool
next_repair(struct mcast_engine *e, uint64_t now_us, struct mcast_action *a)
{
	uint32_t c = e->r_chunk;

	while (e->r_offset < e->cfg.frame_len[c] && !e->r_mask[e->r_offset / e->cfg.slice])
		e->r_offset += e->cfg.slice;
	if (e->r_offset >= e->cfg.frame_len[c]) {
		free(e->r_mask);
		e->r_mask = NULL;
		e->repairing = false;
		return false;
	}
	if (emit_slice(e, now_us, c, e->r_offset, a)) {
		e->r_offset += a->len;
		a->repair = true;
	}
	return true;
}

void
mcast_engine_next(struct mcast_engine *e, uint64_t now_us, struct mcast_action *a)
{
	memset(a, 0, sizeof *a);
	expire_receivers(e, now_us);
	if (!e->idle && e->nrx > 0 && mcast_engine_active(e) == 0) {
		e->pos = e->nqueue;     /* everyone is complete: no point going on */
		free(e->r_mask);
		e->r_mask = NULL;
		e->repairing = false;
		e->parity_due = false;
		for (uint32_t c = 0; c < e->cfg.nchunks; c++)
			if (e->need[c] != 0)
				need_whole(e, c), e->need[c] = 0;
		e->nneeded = 0;
	}
	if (!e->idle && e->parity_due) {
		next_parity(e, now_us, a);
		return;
	}
	if (!e->idle) {
		start_repair(e);
		if (e->repairing && next_repair(e, now_us, a))
			return;
		skip_unwanted(e);
	}
	if (!e->idle && e->pos >= e->nqueue) {
		e->idle = true;
		e->last_need_us = now_us;       /* give receivers time to answer */
		act_end(e, now_us, false, a);
		return;
	}
	if (e->idle) {
		next_idle(e, now_us, a);
		return;
	}
	maybe_raise(e, now_us);
	next_slice(e, now_us, a);
}

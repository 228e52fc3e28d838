#include "tftp/transfer.h"

#include <string.h>

#include "core/util.h"

#define RTO_GRANULARITY_US 1000u

uint16_t
tftp_index_to_wire(uint64_t index, bool wrap_to_one)
{
	if (index == 0)
		return 0;
	if (wrap_to_one)
		return (uint16_t)((index - 1) % 65535u + 1u);
	return (uint16_t)(index & 0xffffu);
}

uint64_t
tftp_wire_to_index(uint16_t wire, uint64_t low, uint64_t high, bool wrap_to_one)
{
	uint64_t period = wrap_to_one ? 65535u : 65536u;

	if (high <= low || high - low >= period)
		return 0;
	/* walk back from high: the distance is (wire(high) - wire) mod period */
	uint64_t high_wire = tftp_index_to_wire(high, wrap_to_one);
	uint64_t w = wire, dist;
	if (wrap_to_one) {
		if (w == 0)
			return 0;
		dist = (high_wire + period - w) % period;
	} else {
		dist = (high_wire + period - w) % period;
	}
	if (dist >= high - low)
		return 0;
	return high - dist;
}

uint16_t
tftp_transfer_wire(const struct tftp_transfer *t, uint64_t index)
{
	return tftp_index_to_wire(index, t->p.wrap_to_one);
}

uint64_t
tftp_transfer_offset(const struct tftp_transfer *t, uint64_t index)
{
	return (index - 1) * t->p.blksize;
}

uint32_t
tftp_transfer_block_len(const struct tftp_transfer *t, uint64_t index)
{
	uint64_t off = tftp_transfer_offset(t, index);

	if (!t->p.size_known)
		return t->p.blksize;
	if (off >= t->p.size)
		return 0;
	return (uint32_t)MIN((uint64_t)t->p.blksize, t->p.size - off);
}

static void
rto_update(struct tftp_transfer *t, uint64_t sample)
{
	if (!t->have_rtt) {
		t->srtt_us = sample;
		t->rttvar_us = sample / 2;
		t->have_rtt = true;
	} else {
		uint64_t diff = t->srtt_us > sample ? t->srtt_us - sample : sample - t->srtt_us;
		t->rttvar_us = (3 * t->rttvar_us + diff) / 4;
		t->srtt_us = (7 * t->srtt_us + sample) / 8;
	}
	uint64_t rto = t->srtt_us + MAX((uint64_t)RTO_GRANULARITY_US, 4 * t->rttvar_us);
	t->rto_us = MIN(MAX(rto, t->p.min_rto_us), t->p.max_rto_us);
}

static void
next_window(struct tftp_transfer *t, struct tftp_action *act)
{
	uint64_t first = t->acked + 1;
	uint64_t remaining = t->last_block ? t->last_block - t->acked : t->p.windowsize;

	act->kind = TFTP_ACTION_SEND;
	act->first = first;
	act->count = (uint32_t)MIN((uint64_t)t->p.windowsize, remaining);
}

void
tftp_transfer_start(struct tftp_transfer *t, const struct tftp_transfer_params *p,
    uint64_t now, struct tftp_action *act)
{
	memset(t, 0, sizeof *t);
	t->p = *p;
	if (t->p.windowsize == 0)
		t->p.windowsize = 1;
	if (t->p.size_known)
		t->last_block = t->p.size / t->p.blksize + 1;
	t->rto_us = MIN(MAX(p->initial_rto_us, p->min_rto_us), p->max_rto_us);
	t->progress_us = now;
	t->window_sent_us = now;
	if (p->oack) {
		t->oack_pending = true;
		act->kind = TFTP_ACTION_SEND_OACK;
		return;
	}
	next_window(t, act);
}

void
tftp_transfer_set_last(struct tftp_transfer *t, uint64_t index)
{
	t->last_block = index;
}

static void
on_progress(struct tftp_transfer *t, uint64_t now, bool window_complete)
{
	t->proven = true;
	if (window_complete && !t->window_resent && now >= t->window_sent_us)
		rto_update(t, now - t->window_sent_us);
	t->progress_us = now;
	t->timeouts = 0;
}

/* Blocks the client may already have go again at now: no RTT sample from
 * this window (Karn), and until a retransmission timeout has passed, ACKs
 * may be the client's answers to those copies. */
static void
retransmit_mark(struct tftp_transfer *t, uint64_t now)
{
	t->retransmit_us = now;
	t->window_resent = true;
}

static bool
echoes_possible(const struct tftp_transfer *t, uint64_t now)
{
	return t->retransmit_us != 0 && now < t->retransmit_us + t->rto_us;
}

/* An ACK equal to acked while two or more blocks are out: the client got a
 * later one, so acked + 1 is missing.  Taken only when it can be an answer
 * to the window (half a round trip after it left) and not an echo of a
 * copy.  With one block out (lock-step) it says nothing the timer does
 * not: ignored, as RFC 1123 asks. */
static void
on_duplicate_ack(struct tftp_transfer *t, uint64_t now, struct tftp_action *act)
{
	if (t->sent - t->acked < 2 || !t->have_rtt || now < t->window_sent_us + t->srtt_us / 2)
		return;
	if (echoes_possible(t, now))
		return;
	retransmit_mark(t, now);
	t->retransmitted_blocks += t->sent - t->acked;
	next_window(t, act);
}

/* An ACK for block n inside the window: the client has discarded what came
 * after n, so the window goes again from n + 1.  But while copies may be
 * arriving, the ACK may have been provoked by a copy of a block the client
 * had, with the rest still on its way: then only what lies beyond the
 * blocks sent is sent (if they were lost, the client says so again). */
static void
on_partial_ack(struct tftp_transfer *t, uint64_t index, uint64_t now, struct tftp_action *act)
{
	if (echoes_possible(t, now)) {
		uint64_t end = index + t->p.windowsize + 1;     /* one past the window */
		if (t->last_block != 0)
			end = MIN(end, t->last_block + 1);
		if (t->sent + 1 >= end)
			return;
		act->kind = TFTP_ACTION_SEND;
		act->first = t->sent + 1;
		act->count = (uint32_t)(end - act->first);
		return;
	}
	retransmit_mark(t, now);
	t->retransmitted_blocks += t->sent - index;
	next_window(t, act);
}

void
tftp_transfer_on_ack(struct tftp_transfer *t, uint16_t wire, uint64_t now,
    struct tftp_action *act)
{
	act->kind = TFTP_ACTION_NONE;
	if (t->done)
		return;
	if (t->oack_pending) {
		if (wire != 0)
			return;         /* only ACK 0 answers an OACK */
		t->oack_pending = false;
		on_progress(t, now, true);
		next_window(t, act);
		return;
	}
	if (t->sent > t->acked && wire == tftp_transfer_wire(t, t->acked)) {
		on_duplicate_ack(t, now, act);
		return;
	}
	uint64_t index = tftp_wire_to_index(wire, t->acked, t->sent, t->p.wrap_to_one);
	if (index == 0)
		return;                 /* old or from the future */
	bool complete = index == t->sent;
	t->acked = index;
	on_progress(t, now, complete);
	if (t->last_block != 0 && t->acked >= t->last_block) {
		t->done = true;
		act->kind = TFTP_ACTION_DONE;
		return;
	}
	if (complete) {
		next_window(t, act);
		return;
	}
	on_partial_ack(t, index, now, act);
}

void
tftp_transfer_on_timeout(struct tftp_transfer *t, uint64_t now,
    struct tftp_action *act)
{
	act->kind = TFTP_ACTION_NONE;
	if (t->done)
		return;
	if (now - t->progress_us >= t->p.idle_timeout_us ||
	    (!t->proven && t->timeouts + 1 >= TFTP_UNPROVEN_SENDS)) {
		act->kind = TFTP_ACTION_GIVE_UP;
		return;
	}
	t->timeouts++;
	t->rto_us = MIN(t->rto_us * 2, t->p.max_rto_us);
	t->window_resent = true;
	if (t->oack_pending) {
		act->kind = TFTP_ACTION_SEND_OACK;
		return;
	}
	if (t->timeouts == 1 && t->sent > t->acked) {
		/* a probe: the last block sent.  Its answer is news whatever
		 * the client had, so it opens no window for echoes. */
		t->retransmitted_blocks++;
		act->kind = TFTP_ACTION_SEND;
		act->first = t->sent;
		act->count = 1;
		return;
	}
	retransmit_mark(t, now);
	t->retransmitted_blocks += t->sent - t->acked;
	next_window(t, act);
}

void
tftp_transfer_sent(struct tftp_transfer *t, uint64_t first, uint32_t count,
    uint64_t now)
{
	uint64_t last = first + count - 1;

	if (count == 0)
		return;
	if (first == t->acked + 1) {
		/* a window starts: fresh unless it repeats blocks already sent */
		t->window_resent = first <= t->sent;
		t->window_sent_us = now;
	}
	if (last > t->sent)
		t->sent = last;
	t->deadline_us = now + t->rto_us;
}

void
tftp_transfer_oack_sent(struct tftp_transfer *t, uint64_t now)
{
	t->window_sent_us = now;
	t->window_resent = t->timeouts > 0;
	t->deadline_us = now + t->rto_us;
}

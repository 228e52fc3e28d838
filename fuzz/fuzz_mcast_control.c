/* libFuzzer harness: multicast control, both ends.  The sender's engine
 * (mcast/engine.c) takes STATUS and NACK datagrams from receivers (anyone
 * on the segment can send them); the receiver's assembly (mcast/assemble.c)
 * takes DATA and PARITY datagrams (anyone can send those too).
 *
 * Each datagram goes through mcast_parse first, as the session and the
 * agent do, then to the engine (STATUS, NACK: under fake time) or to an
 * assembly of the chunk it names when the chunk's frame length is the
 * session's (DATA, PARITY), and the engine is asked for its next actions.
 *
 * What must hold: every action stays inside the session (a DATA inside its
 * chunk's frame and on the slice grid, a PARITY of an existing group and
 * piece, a WAIT in the future, pass numbers bounded), the receivers table
 * stays within MCAST_RECEIVERS_MAX, an assembly's counts stay within its
 * slices and a NACK it would send names only slices of its frame.
 *
 * Input: 4 bytes of session shape (chunks 1..16, slice 64..1400 in steps
 * of 64, FEC k,m or off, receivers 1..4), then records: a time step (1
 * byte, ms), a length (2 bytes, big-endian), the datagram. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcast/assemble.h"
#include "mcast/codec.h"
#include "mcast/engine.h"
#include "mcast/fec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SESSION 0x5ea55e55u
#define CHUNKS_MAX 16
#define ACTIONS_PER_STEP 64

struct lab {
	struct mcast_engine eng;
	struct mcast_engine_config cfg;
	uint32_t frame_len[CHUNKS_MAX];
	struct mcast_assembly asm_[CHUNKS_MAX];
	bool asm_ready[CHUNKS_MAX];
	struct mcast_fec fec;
	bool fec_on;
	uint64_t now;
	uint64_t actions;
};

static void
check_action(const struct lab *l, const struct mcast_action *a)
{
	const struct mcast_engine_config *c = &l->cfg;

	switch (a->kind) {
	case MCAST_ACT_DATA:
		if (a->chunk >= c->nchunks || a->len == 0 || a->len > c->slice ||
		    a->offset % c->slice != 0 ||
		    (uint64_t)a->offset + a->len > l->frame_len[a->chunk])
			abort();
		break;
	case MCAST_ACT_PARITY:
		if (!l->fec_on || a->chunk >= c->nchunks || a->index >= c->fec_m ||
		    (uint64_t)a->group * c->fec_k * c->slice >= l->frame_len[a->chunk] ||
		    a->len == 0 || a->len > c->slice)
			abort();
		break;
	case MCAST_ACT_END:
		if (a->next > c->nchunks)
			abort();
		break;
	case MCAST_ACT_WAIT:
		if (a->at_us <= l->now)
			abort();
		break;
	case MCAST_ACT_DONE:
		break;
	default:
		abort();
	}
	if (a->pass > c->max_passes + 1)
		abort();
}

/* The engine's actions until it waits (bounded). */
static void
run_engine(struct lab *l)
{
	struct mcast_action a;

	for (int i = 0; i < ACTIONS_PER_STEP; i++) {
		mcast_engine_next(&l->eng, l->now, &a);
		check_action(l, &a);
		l->actions++;
		if (a.kind == MCAST_ACT_WAIT || a.kind == MCAST_ACT_DONE)
			return;
	}
}

static void
check_assembly(const struct mcast_assembly *a)
{
	struct mcast_range r[MCAST_RANGES_MAX];
	uint16_t n = mcast_assembly_missing(a, r, MCAST_RANGES_MAX);

	if (a->got > a->nslices || a->recovered > a->nslices || n > MCAST_RANGES_MAX)
		abort();
	for (uint16_t i = 0; i < n; i++)
		if (r[i].count == 0 || (uint64_t)r[i].first + r[i].count > a->nslices)
			abort();
}

/* DATA or PARITY for the receiver's side. */
static void
to_assembly(struct lab *l, const struct mcast_packet *p)
{
	uint32_t chunk = p->type == MCAST_DATA ? p->u.data.chunk : p->u.parity.chunk;
	uint32_t frame_len = p->type == MCAST_DATA ? p->u.data.frame_len :
	    p->u.parity.frame_len;
	struct mcast_assembly *a;

	if (chunk >= l->cfg.nchunks || frame_len != l->frame_len[chunk])
		return;                 /* the agent checks against its manifest */
	a = &l->asm_[chunk];
	if (!l->asm_ready[chunk]) {
		if (mcast_assembly_init(a, chunk, frame_len, l->cfg.slice, l->cfg.fec_k,
		    l->cfg.fec_m) != 0)
			return;
		l->asm_ready[chunk] = true;
	}
	if (p->type == MCAST_DATA)
		(void)mcast_assembly_data(a, l->fec_on ? &l->fec : NULL, p->u.data.offset,
		    p->u.data.payload, p->u.data.len);
	else if (l->fec_on && p->u.parity.k == l->cfg.fec_k && p->u.parity.m == l->cfg.fec_m &&
	    p->u.parity.slice == l->cfg.slice)
		(void)mcast_assembly_parity(a, &l->fec, p->u.parity.group, p->u.parity.index,
		    p->u.parity.payload, p->u.parity.len);
	check_assembly(a);
}

static void
datagram(struct lab *l, const uint8_t *buf, size_t len)
{
	static struct mcast_packet p;
	uint8_t *copy = malloc(len > 0 ? len : 1);      /* exactly: ASan */

	if (copy == NULL)
		return;
	memcpy(copy, buf, len);
	if (mcast_parse(copy, len, &p) == 0) {
		if (p.type == MCAST_STATUS)
			(void)mcast_engine_status(&l->eng, &p, l->now);
		else if (p.type == MCAST_NACK)
			(void)mcast_engine_nack(&l->eng, &p, l->now);
		else if (p.type == MCAST_DATA || p.type == MCAST_PARITY)
			to_assembly(l, &p);
	}
	free(copy);
	if (l->eng.nrx > MCAST_RECEIVERS_MAX)
		abort();
}

static int
lab_init(struct lab *l, const uint8_t *shape)
{
	static const unsigned fec[][2] = { { 0, 0 }, { 4, 2 }, { 16, 2 }, { 8, 8 } };
	unsigned receivers = 1 + (shape[3] & 3);

	memset(l, 0, sizeof *l);
	l->cfg.nchunks = 1 + shape[0] % CHUNKS_MAX;
	l->cfg.slice = 64 * (1 + shape[1] % 22);
	l->cfg.fec_k = fec[shape[2] & 3][0];
	l->cfg.fec_m = fec[shape[2] & 3][1];
	for (uint32_t i = 0; i < l->cfg.nchunks; i++)
		l->frame_len[i] = 1 + (uint32_t)((i * 7919u + shape[2] * 131u) %
		    (l->cfg.slice * 40u));
	l->cfg.frame_len = l->frame_len;
	l->cfg.rate_max = 100000000;
	l->cfg.rate_min = 1000000;
	l->cfg.rate_start = 10000000;
	l->cfg.receiver_timeout_us = 3000000;
	l->cfg.idle_end_us = 2000000;
	l->cfg.max_passes = 8;
	l->cfg.burst = 8;
	l->now = 1000000;
	l->fec_on = l->cfg.fec_k != 0;
	if (l->fec_on && mcast_fec_init(&l->fec, l->cfg.fec_k, l->cfg.fec_m) != 0)
		return -1;
	if (mcast_engine_init(&l->eng, &l->cfg, l->now) != 0) {
		if (l->fec_on)
			mcast_fec_free(&l->fec);
		return -1;
	}
	for (unsigned i = 0; i < receivers; i++)
		(void)mcast_engine_add_receiver(&l->eng, 100 + i, l->now);
	return 0;
}

static void
lab_free(struct lab *l)
{
	for (uint32_t i = 0; i < l->cfg.nchunks; i++)
		if (l->asm_ready[i])
			mcast_assembly_free(&l->asm_[i]);
	mcast_engine_free(&l->eng);
	if (l->fec_on)
		mcast_fec_free(&l->fec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lab l;

	if (size < 4 || lab_init(&l, data) != 0)
		return 0;
	size_t at = 4;
	for (int records = 0; at + 3 <= size && records < 256; records++) {
		size_t len = (size_t)data[at + 1] << 8 | data[at + 2];
		l.now += (uint64_t)data[at] * 1000;
		at += 3;
		if (len > size - at)
			len = size - at;
		datagram(&l, data + at, len);
		at += len;
		run_engine(&l);
	}
	l.now += 10000000;              /* everyone silent: timeouts, the end */
	run_engine(&l);
	lab_free(&l);
	return 0;
}

/* The multicast sender's engine with fake time: pass 1 in order, repair
 * passes of just the slices asked for, whole chunks asked by STATUS, needs
 * for what was not sent yet ignored, pacing, the congestion rule, the end
 * when receivers are complete or gone; with FEC, each group's parity right
 * after it, paced like data, and none for repairs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mcast/engine.h"

#define SLICE 1400
#define FAST (1000ull * 1000 * 1000)    /* bytes per second: no waiting */

static const uint32_t frames[3] = { 3000, 1400, 10 };

static void
init_fec(struct mcast_engine *e, uint64_t rate, uint64_t now, unsigned k, unsigned m)
{
	struct mcast_engine_config c = {
		.nchunks = 3, .frame_len = frames, .slice = SLICE, .rate_max = rate,
		.rate_min = rate / 100 ? rate / 100 : 1, .receiver_timeout_us = 10000000,
		.idle_end_us = 3000000, .max_passes = 8, .burst = 4, .fec_k = k, .fec_m = m,
	};

	assert_int_equal(mcast_engine_init(e, &c, now), 0);
}

static void
init(struct mcast_engine *e, uint64_t rate, uint64_t now)
{
	init_fec(e, rate, now, 0, 0);
}

/* An action as text: DATA "chunk:offset+len", PARITY "Pchunk/group.index+len". */
static size_t
action_text(const struct mcast_action *a, char *out, size_t size, size_t used)
{
	if (a->kind == MCAST_ACT_PARITY)
		return (size_t)snprintf(out + used, size - used, "%sP%u/%u.%u+%u", used ? " " : "",
		    a->chunk, a->group, a->index, a->len);
	return (size_t)snprintf(out + used, size - used, "%s%s%u:%u+%u", used ? " " : "",
	    a->repair ? "r" : "", a->chunk, a->offset, a->len);
}

/* Run until the next END, collecting DATA and PARITY as text. */
static void
run_pass(struct mcast_engine *e, uint64_t *now, char *out, size_t size, struct mcast_action *end)
{
	struct mcast_action a;
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < 10000; i++) {
		mcast_engine_next(e, *now, &a);
		if (a.kind == MCAST_ACT_WAIT) {
			*now = a.at_us;
			continue;
		}
		if (a.kind != MCAST_ACT_DATA && a.kind != MCAST_ACT_PARITY) {
			*end = a;
			return;
		}
		used += action_text(&a, out, size, used);
	}
	fail_msg("no END");
}

static struct mcast_packet
status(uint64_t rx, enum mcast_rstate st, uint32_t received, uint32_t lost)
{
	struct mcast_packet p = { .type = MCAST_STATUS, .session = 1, .sender = rx };

	p.u.status.state = st;
	p.u.status.total = 3;
	p.u.status.received = received;
	p.u.status.lost = lost;
	return p;
}

/* Receiver rx lacks slices [first, first + count) of chunk c. */
static struct mcast_packet
nack_packet(uint64_t rx, uint32_t c, uint32_t first, uint32_t count)
{
	struct mcast_packet p = { .type = MCAST_NACK, .session = 1, .sender = rx };

	p.u.nack.chunk = c;
	p.u.nack.frame_len = frames[c];
	p.u.nack.nranges = 1;
	p.u.nack.range[0] = (struct mcast_range){ first, count };
	return p;
}

static void
test_first_pass(void **state)
{
	struct mcast_engine e;
	struct mcast_action end;
	uint64_t now = 1000;
	char got[256];

	(void)state;
	init(&e, FAST, now);
	assert_int_equal(mcast_engine_add_receiver(&e, 7, now), 0);
	run_pass(&e, &now, got, sizeof got, &end);
	assert_string_equal(got, "0:0+1400 0:1400+1400 0:2800+200 1:0+1400 2:0+10");
	assert_int_equal(end.kind, MCAST_ACT_END);
	assert_int_equal(end.pass, 1);
	assert_false(end.final);
	assert_int_equal(e.bytes_sent, 3000 + 1400 + 10);
	mcast_engine_free(&e);
}

static void
test_repairs(void **state)
{
	struct mcast_engine e;
	struct mcast_action end;
	struct mcast_packet nack = { .type = MCAST_NACK, .session = 1, .sender = 7 };
	struct mcast_packet st = status(7, MCAST_RECEIVING, 5, 0);
	uint64_t now = 1000;
	char got[256];

	(void)state;
	init(&e, FAST, now);
	mcast_engine_add_receiver(&e, 7, now);
	/* during pass 1, before chunk 2 went out: a NACK for it is ignored */
	run_pass(&e, &now, got, sizeof got, &end);
	nack.u.nack.chunk = 0;
	nack.u.nack.frame_len = 3000;
	nack.u.nack.nranges = 1;
	nack.u.nack.range[0] = (struct mcast_range){ 1, 1 };
	assert_int_equal(mcast_engine_nack(&e, &nack, now), 0);
	st.u.status.nranges = 1;
	st.u.status.range[0] = (struct mcast_range){ 2, 1 };
	assert_int_equal(mcast_engine_status(&e, &st, now), 0);
	/* the next action announces pass 2 with two chunks */
	run_pass(&e, &now, got, sizeof got, &end);
	assert_string_equal(got, "");
	assert_int_equal(end.pass, 2);
	assert_int_equal(end.next, 2);
	/* pass 2: the one slice of chunk 0, and chunk 2 whole */
	run_pass(&e, &now, got, sizeof got, &end);
	assert_string_equal(got, "0:1400+1400 2:0+10");       /* pass 2: not repairs */
	/* a NACK with the wrong frame size, or from a stranger */
	nack.u.nack.frame_len = 2999;
	assert_int_equal(mcast_engine_nack(&e, &nack, now), -EINVAL);
	nack.sender = 8;
	assert_int_equal(mcast_engine_nack(&e, &nack, now), -ENOENT);
	mcast_engine_free(&e);
}

/* A NACK for a chunk the pass has gone past is served between the next
 * two chunks, not in a pass of its own. */
static void
test_repair_inside_pass(void **state)
{
	struct mcast_engine e;
	struct mcast_action a, end;
	struct mcast_packet nack = { .type = MCAST_NACK, .session = 1, .sender = 7 };
	uint64_t now = 1000;
	char got[256] = "";
	size_t used = 0;

	(void)state;
	init(&e, FAST, now);
	mcast_engine_add_receiver(&e, 7, now);
	for (int sent = 0; sent < 4;) {         /* chunk 0 and the start of chunk 1 */
		mcast_engine_next(&e, now, &a);
		if (a.kind == MCAST_ACT_WAIT)
			now = a.at_us;
		else
			assert_int_equal(a.kind, MCAST_ACT_DATA), sent++;
	}
	nack.u.nack.chunk = 0;
	nack.u.nack.frame_len = 3000;
	nack.u.nack.nranges = 1;
	nack.u.nack.range[0] = (struct mcast_range){ 1, 1 };
	assert_int_equal(mcast_engine_nack(&e, &nack, now), 0);
	for (int i = 0; i < 20; i++) {
		mcast_engine_next(&e, now, &a);
		if (a.kind == MCAST_ACT_WAIT) {
			now = a.at_us;
			continue;
		}
		if (a.kind != MCAST_ACT_DATA && a.kind != MCAST_ACT_PARITY)
			break;
		used += action_text(&a, got, sizeof got, used);
	}
	assert_string_equal(got, "r0:1400+1400 2:0+10");      /* the repair, flagged */
	assert_int_equal(a.kind, MCAST_ACT_END);
	assert_int_equal(a.pass, 1);
	assert_int_equal(e.nneeded, 0);         /* nothing left for a pass 2 */
	(void)end;
	mcast_engine_free(&e);
}

static void
test_not_yet_sent(void **state)
{
	struct mcast_engine e;
	struct mcast_action a;
	struct mcast_packet st = status(7, MCAST_RECEIVING, 1, 0);
	uint64_t now = 1000;

	(void)state;
	init(&e, FAST, now);
	mcast_engine_add_receiver(&e, 7, now);
	mcast_engine_next(&e, now, &a);         /* chunk 0, first slice */
	st.u.status.nranges = 1;
	st.u.status.range[0] = (struct mcast_range){ 0, 3 };
	mcast_engine_status(&e, &st, now);
	assert_int_equal(e.nneeded, 0);         /* 0 is in flight, 1 and 2 to come */
	mcast_engine_free(&e);
}

/* Back-to-back DATA actions at one instant. */
static int
burst_at(struct mcast_engine *e, uint64_t now, struct mcast_action *a)
{
	int data = 0;

	for (int i = 0; i < 1000; i++) {
		mcast_engine_next(e, now, a);
		if (a->kind != MCAST_ACT_DATA)
			break;
		data++;
	}
	return data;
}

static void
test_pacing(void **state)
{
	static const uint32_t big[1] = { 300 * SLICE };
	struct mcast_engine_config c = {
		.nchunks = 1, .frame_len = big, .slice = SLICE, .rate_max = SLICE,
		.rate_min = 1, .receiver_timeout_us = 1000000000, .idle_end_us = 1000000000,
		.max_passes = 8, .burst = 4,
	};
	struct mcast_engine e;
	struct mcast_action a;
	uint64_t start = 100 * 1000000ull, now = start;
	int data;

	(void)state;
	assert_int_equal(mcast_engine_init(&e, &c, now), 0);   /* one slice a second */
	assert_int_equal(burst_at(&e, now, &a), 4);             /* the burst */
	assert_int_equal(a.kind, MCAST_ACT_WAIT);
	assert_true(a.at_us == now + 1000000);                  /* then the rate */
	/* 100 s of waking up when told: one slice a second, no more */
	data = 4;
	while (now < start + 100 * 1000000ull) {
		now = a.at_us;
		data += burst_at(&e, now, &a);
		assert_int_equal(a.kind, MCAST_ACT_WAIT);
	}
	assert_in_range(data, 4 + 99, 4 + 101);
	/* waking up late (200 ms after each due time) loses no rate */
	for (int i = 0; i < 50; i++) {
		now = a.at_us + 200000;
		data += burst_at(&e, now, &a);
	}
	assert_in_range(data, 4 + 100 + 49, 4 + 100 + 51);
	/* a long idle spell earns one burst, not a flood */
	now += 1000 * 1000000ull;
	assert_int_equal(burst_at(&e, now, &a), 4);
	mcast_engine_free(&e);
}

static void
test_congestion_rule(void **state)
{
	struct mcast_engine e;
	uint64_t now = 1000;
	/* they took far more than FAST: a cut is by a fifth, not to their rate */
	struct mcast_packet lossy = status(1, MCAST_RECEIVING, 900000, 100000);
	struct mcast_packet clean = status(2, MCAST_RECEIVING, 1000000, 0);

	(void)state;
	init(&e, FAST, now);
	for (uint64_t id = 1; id <= 3; id++)
		mcast_engine_add_receiver(&e, id, now);
	now += 1000000;
	mcast_engine_status(&e, &lossy, now);
	mcast_engine_status(&e, &clean, now);
	assert_true(e.rate == FAST);            /* one lossy link of three: repairs */
	lossy.sender = 3;
	now += 300000;
	mcast_engine_status(&e, &lossy, now);   /* two of three: congestion */
	assert_true(e.rate == FAST * 4 / 5);
	for (int i = 0; i < 100; i++) {
		now += 300000;
		mcast_engine_status(&e, &lossy, now);
	}
	assert_true(e.rate == FAST / 100);      /* never below the floor */
	mcast_engine_free(&e);
}

/* Falling behind is congestion before any loss: a backlog in the
 * receivers' sockets; the cut goes at once to what they take.  Slow start
 * doubles while they keep up and ends at the first congestion. */
static void
test_rate_follows_room(void **state)
{
	struct mcast_engine_config c = {
		.nchunks = 3, .frame_len = frames, .slice = SLICE, .rate_max = FAST,
		.rate_min = FAST / 1000, .rate_start = FAST / 16,
		.receiver_timeout_us = 10000000, .idle_end_us = 3000000, .max_passes = 8,
		.burst = 4,
	};
	struct mcast_engine e;
	struct mcast_action a;
	uint64_t now = 100 * 1000000ull, rate;
	/* 10000 slices in 0.2 s: 70 MB/s; 16 MiB queued */
	struct mcast_packet behind = status(1, MCAST_RECEIVING, 10000, 0);

	(void)state;
	assert_int_equal(mcast_engine_init(&e, &c, now), 0);
	assert_true(e.rate == FAST / 16 && e.slow_start);
	for (uint64_t id = 1; id <= 2; id++)
		mcast_engine_add_receiver(&e, id, now);
	/* no news from the receivers: no raise */
	now += 300000;
	mcast_engine_next(&e, now, &a);
	assert_true(e.rate == FAST / 16);
	/* both report, clean: the rate doubles */
	for (uint64_t id = 1; id <= 2; id++) {
		struct mcast_packet ok = status(id, MCAST_RECEIVING, 10, 0);
		mcast_engine_status(&e, &ok, now);
	}
	now += 10;
	mcast_engine_next(&e, now, &a);
	assert_true(e.rate == FAST / 8);
	/* both fall behind, losing nothing yet: cut to 90% of what they take */
	now += 200000;
	behind.u.status.backlog = 16384;
	mcast_engine_status(&e, &behind, now);
	behind.sender = 2;
	mcast_engine_status(&e, &behind, now);
	rate = (uint64_t)10000 * SLICE * 1000000 / 200010 * 9 / 10;
	assert_true(e.rate == rate);
	assert_false(e.slow_start);
	/* both still behind but working it off (the backlog shrinks): no cut */
	now += 300000;
	behind.u.status.backlog = 12000;
	behind.sender = 1;
	mcast_engine_status(&e, &behind, now);
	behind.sender = 2;
	mcast_engine_status(&e, &behind, now);
	assert_true(e.rate == rate);
	/* one of two falling further behind is no congestion (its repairs, and
	 * leaving for HTTP, serve it) */
	now += 300000;
	behind.u.status.backlog = 20000;
	mcast_engine_status(&e, &behind, now);
	assert_true(e.rate == rate);
	mcast_engine_free(&e);
}

static void
test_end(void **state)
{
	struct mcast_engine e;
	struct mcast_action a, end;
	struct mcast_packet done = status(7, MCAST_COMPLETE, 5, 0);
	uint64_t now = 1000;
	char got[256];
	int finals = 0;

	(void)state;
	init(&e, FAST, now);
	mcast_engine_add_receiver(&e, 7, now);
	mcast_engine_add_receiver(&e, 8, now);
	run_pass(&e, &now, got, sizeof got, &end);
	mcast_engine_status(&e, &done, now);
	assert_int_equal(mcast_engine_active(&e), 1);
	/* 8 says nothing: dropped after the timeout, then the session ends */
	for (int i = 0; i < 1000 && finals < 3; i++) {
		now += 100000;
		mcast_engine_next(&e, now, &a);
		if (a.kind == MCAST_ACT_END && a.final)
			finals++;
		assert_true(a.kind != MCAST_ACT_DATA);
	}
	assert_int_equal(finals, 3);
	mcast_engine_next(&e, now + 1000000, &a);
	assert_int_equal(a.kind, MCAST_ACT_DONE);
	mcast_engine_free(&e);
}

/* A revoked receiver (its task ended, or its machine joined again with a
 * new id): its STATUS and NACK are ignored, it no longer counts as
 * active, and the others still finish the session. */
static void
test_revoked(void **state)
{
	struct mcast_engine e;
	struct mcast_action end;
	struct mcast_packet st = status(7, MCAST_RECEIVING, 1, 0);
	struct mcast_packet nack = nack_packet(7, 0, 0, 1);
	uint64_t now = 1000;
	char got[256];

	(void)state;
	init(&e, FAST, now);
	mcast_engine_add_receiver(&e, 7, now);
	mcast_engine_add_receiver(&e, 8, now);
	run_pass(&e, &now, got, sizeof got, &end);
	assert_int_equal(mcast_engine_remove_receiver(&e, 7), 0);
	assert_int_equal(mcast_engine_remove_receiver(&e, 7), -ENOENT);
	assert_int_equal(mcast_engine_status(&e, &st, now), -ENOENT);
	assert_int_equal(mcast_engine_nack(&e, &nack, now), -ENOENT);
	assert_int_equal(mcast_engine_active(&e), 1);
	assert_int_equal(e.nrx, 1);
	assert_int_equal(e.rx[0].id, 8);
	mcast_engine_free(&e);
}

/* Machines of the session that have not joined hold it open (END of the
 * pass, again and again) until the hold ends, even when every receiver
 * that did join is complete. */
static void
test_hold_for_missing(void **state)
{
	struct mcast_engine e;
	struct mcast_action a, end;
	struct mcast_packet done = status(7, MCAST_COMPLETE, 5, 0);
	uint64_t now = 1000, hold;
	char got[256];
	int finals = 0;

	(void)state;
	init(&e, FAST, now);
	mcast_engine_add_receiver(&e, 7, now);
	run_pass(&e, &now, got, sizeof got, &end);
	mcast_engine_status(&e, &done, now);
	hold = now + 60 * 1000000ull;
	mcast_engine_hold(&e, hold);
	for (; now < hold - 100000; now += 100000) {
		mcast_engine_next(&e, now, &a);
		assert_true(a.kind == MCAST_ACT_WAIT || (a.kind == MCAST_ACT_END && !a.final));
	}
	for (int i = 0; i < 100 && finals < 3; i++) {
		now += 100000;
		mcast_engine_next(&e, now, &a);
		finals += a.kind == MCAST_ACT_END && a.final;
	}
	assert_int_equal(finals, 3);            /* the hold is over: the end */
	mcast_engine_free(&e);
}

/* FEC 2,1: parity after every second slice and after each frame's last
 * (a short group), over the group's coding length; counted and charged. */
static void
test_fec_first_pass(void **state)
{
	struct mcast_engine e;
	struct mcast_action end;
	uint64_t now = 1000;
	char got[512];

	(void)state;
	init_fec(&e, FAST, now, 2, 1);
	mcast_engine_add_receiver(&e, 7, now);
	run_pass(&e, &now, got, sizeof got, &end);
	assert_string_equal(got, "0:0+1400 0:1400+1400 P0/0.0+1400 0:2800+200 P0/1.0+200 "
	    "1:0+1400 P1/0.0+1400 2:0+10 P2/0.0+10");
	assert_int_equal(end.kind, MCAST_ACT_END);
	assert_int_equal(e.parity_sent, 4);
	assert_int_equal(e.bytes_sent, 3000 + 1400 + 10 + 1400 + 200 + 1400 + 10);
	mcast_engine_free(&e);
}

/* A larger frame: 10 slices in groups of 4, 4 and 2, each followed by its
 * 2 parity pieces; counts per kind. */
static void
test_fec_counts(void **state)
{
	static const uint32_t big[1] = { 9 * 1400 + 1 };
	struct mcast_engine_config c = { .nchunks = 1, .frame_len = big, .slice = SLICE,
		.rate_max = FAST, .rate_min = 1, .receiver_timeout_us = 10000000,
		.idle_end_us = 3000000, .burst = 4, .fec_k = 4, .fec_m = 2 };
	struct mcast_engine e;
	struct mcast_action a;
	uint64_t now = 1000;
	char kinds[64] = "";
	size_t n = 0;

	(void)state;
	assert_int_equal(mcast_engine_init(&e, &c, now), 0);
	mcast_engine_add_receiver(&e, 7, now);
	for (int i = 0; i < 1000 && n < sizeof kinds - 1; i++) {
		mcast_engine_next(&e, now, &a);
		if (a.kind == MCAST_ACT_WAIT)
			now = a.at_us;
		else if (a.kind == MCAST_ACT_DATA || a.kind == MCAST_ACT_PARITY)
			kinds[n++] = a.kind == MCAST_ACT_DATA ? 'd' : 'p';
		else
			break;
	}
	assert_string_equal(kinds, "ddddppddddppddpp");
	assert_int_equal(e.parity_sent, 6);
	assert_int_equal(a.kind, MCAST_ACT_END);
	mcast_engine_free(&e);
}

/* Parity costs rate like data: at 1400 bytes a second, bursts of 4, FEC
 * 1,1 sends data, parity, data, parity, then waits the 4 s they cost. */
static void
test_fec_pacing(void **state)
{
	struct mcast_engine e;
	struct mcast_action a;
	uint64_t now = 100 * 1000000ull;
	char got[256] = "";
	size_t used = 0;

	(void)state;
	init_fec(&e, 1400, now, 1, 1);
	for (int i = 0; i < 10; i++) {
		mcast_engine_next(&e, now, &a);
		if (a.kind != MCAST_ACT_DATA && a.kind != MCAST_ACT_PARITY)
			break;
		used += action_text(&a, got, sizeof got, used);
	}
	assert_string_equal(got, "0:0+1400 P0/0.0+1400 0:1400+1400 P0/1.0+1400");
	assert_int_equal(a.kind, MCAST_ACT_WAIT);
	assert_true(a.at_us == now + 1000000);  /* the burst of 4, then the rate */
	mcast_engine_free(&e);
}

/* Repairs stay plain data: NACKed slices inside the pass and a repair
 * pass of single slices carry no parity; a chunk asked whole does. */
static void
test_fec_repairs_plain(void **state)
{
	struct mcast_engine e;
	struct mcast_action end;
	struct mcast_packet nack = nack_packet(7, 0, 0, 2);
	struct mcast_packet st = status(7, MCAST_RECEIVING, 5, 0);
	uint64_t now = 1000;
	char got[512];

	(void)state;
	init_fec(&e, FAST, now, 2, 1);
	mcast_engine_add_receiver(&e, 7, now);
	run_pass(&e, &now, got, sizeof got, &end);
	assert_int_equal(mcast_engine_nack(&e, &nack, now), 0);
	st.u.status.nranges = 1;
	st.u.status.range[0] = (struct mcast_range){ 1, 1 };
	assert_int_equal(mcast_engine_status(&e, &st, now), 0);
	run_pass(&e, &now, got, sizeof got, &end);      /* announces pass 2 */
	run_pass(&e, &now, got, sizeof got, &end);
	assert_string_equal(got, "0:0+1400 0:1400+1400 1:0+1400 P1/0.0+1400");
	mcast_engine_free(&e);
}

/* Without FEC no PARITY action ever comes. */
static void
test_fec_off(void **state)
{
	struct mcast_engine e;
	struct mcast_action a;
	uint64_t now = 1000;

	(void)state;
	init(&e, FAST, now);
	mcast_engine_add_receiver(&e, 7, now);
	for (int i = 0; i < 100; i++) {
		mcast_engine_next(&e, now, &a);
		assert_true(a.kind != MCAST_ACT_PARITY);
		if (a.kind == MCAST_ACT_WAIT)
			now = a.at_us;
	}
	assert_int_equal(e.parity_sent, 0);
	mcast_engine_free(&e);
}

static void
test_bad_config(void **state)
{
	struct mcast_engine e;
	struct mcast_engine_config c = { .nchunks = 3, .frame_len = frames, .slice = 0,
		.rate_max = 1, .rate_min = 1 };

	(void)state;
	assert_int_equal(mcast_engine_init(&e, &c, 0), -EINVAL);
	c.slice = 1400;
	c.rate_min = 2;
	assert_int_equal(mcast_engine_init(&e, &c, 0), -EINVAL);
	c.rate_min = 1;
	c.nchunks = 0;
	assert_int_equal(mcast_engine_init(&e, &c, 0), -EINVAL);
	c.nchunks = 3;
	c.fec_k = 4;
	c.fec_m = 5;                            /* m > k */
	assert_int_equal(mcast_engine_init(&e, &c, 0), -EINVAL);
	c.fec_m = 0;                            /* one of them 0 */
	assert_int_equal(mcast_engine_init(&e, &c, 0), -EINVAL);
	c.fec_k = 200;
	c.fec_m = 100;                          /* k + m > 255 */
	assert_int_equal(mcast_engine_init(&e, &c, 0), -EINVAL);
	c.fec_k = 4;
	c.fec_m = 2;
	assert_int_equal(mcast_engine_init(&e, &c, 0), 0);
	mcast_engine_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_pass),
		cmocka_unit_test(test_repairs),
		cmocka_unit_test(test_repair_inside_pass),
		cmocka_unit_test(test_not_yet_sent),
		cmocka_unit_test(test_pacing),
		cmocka_unit_test(test_congestion_rule),
		cmocka_unit_test(test_rate_follows_room),
		cmocka_unit_test(test_end),
		cmocka_unit_test(test_revoked),
		cmocka_unit_test(test_hold_for_missing),
		cmocka_unit_test(test_fec_first_pass),
		cmocka_unit_test(test_fec_counts),
		cmocka_unit_test(test_fec_pacing),
		cmocka_unit_test(test_fec_repairs_plain),
		cmocka_unit_test(test_fec_off),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The multicast sender's engine with fake time: pass 1 in order, repair
 * passes of just the slices asked for, whole chunks asked by STATUS, needs
 * for what was not sent yet ignored, pacing, the congestion rule, the end
 * when receivers are complete or gone. */
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
init(struct mcast_engine *e, uint64_t rate, uint64_t now)
{
	struct mcast_engine_config c = {
		.nchunks = 3, .frame_len = frames, .slice = SLICE, .rate_max = rate,
		.rate_min = rate / 100 ? rate / 100 : 1, .receiver_timeout_us = 10000000,
		.idle_end_us = 3000000, .max_passes = 8, .burst = 4,
	};

	assert_int_equal(mcast_engine_init(e, &c, now), 0);
}

/* Run until the next END, collecting DATA as "chunk:offset+len" text. */
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
		if (a.kind != MCAST_ACT_DATA) {
			*end = a;
			return;
		}
		used += (size_t)snprintf(out + used, size - used, "%s%u:%u+%u", used ? " " : "",
		    a.chunk, a.offset, a.len);
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
	assert_string_equal(got, "0:1400+1400 2:0+10");
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
		if (a.kind != MCAST_ACT_DATA)
			break;
		used += (size_t)snprintf(got + used, sizeof got - used, "%s%u:%u+%u",
		    used ? " " : "", a.chunk, a.offset, a.len);
	}
	assert_string_equal(got, "0:1400+1400 2:0+10");
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
	struct mcast_packet lossy = status(1, MCAST_RECEIVING, 900, 100);
	struct mcast_packet clean = status(2, MCAST_RECEIVING, 1000, 0);

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
		cmocka_unit_test(test_end),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

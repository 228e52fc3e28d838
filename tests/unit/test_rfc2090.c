/* RFC 2090 multicast transfer engine, driven with fake time and fake
 * clients. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tftp/rfc2090_xfer.h"

static const struct rfc2090_peer A = { 0x0b02000a, 1001 };
static const struct rfc2090_peer B = { 0x0c02000a, 1002 };
static const struct rfc2090_peer C = { 0x0d02000a, 1003 };
static const struct tftp_oack NO_OPTIONS = { 0 };

static struct rfc2090_params
params(uint64_t last)
{
	struct rfc2090_params p = {
		.last_block = last, .rto_us = 100000, .max_rto_us = 400000, .retries = 2,
		.max_clients = 3,
	};
	return p;
}

static void
expect_oack(const struct rfc2090_action *a, size_t index, bool master)
{
	assert_int_equal(a->kind, RFC2090_ACTION_OACK);
	assert_int_equal(a->index, index);
	assert_int_equal(a->master, master);
}

static void
expect_data(const struct rfc2090_action *a, uint64_t block)
{
	assert_int_equal(a->kind, RFC2090_ACTION_DATA);
	assert_true(a->block == block);
}

static void
expect_none(const struct rfc2090_action *a)
{
	assert_int_equal(a->kind, RFC2090_ACTION_NONE);
}

static void
join(struct rfc2090_xfer *x, struct rfc2090_peer peer, uint64_t now,
    struct rfc2090_action *a)
{
	assert_int_equal(rfc2090_xfer_join(x, peer, &NO_OPTIONS, now, a), 0);
}

static void
ack(struct rfc2090_xfer *x, struct rfc2090_peer peer, uint16_t n, uint64_t now,
    struct rfc2090_action *a)
{
	assert_int_equal(rfc2090_xfer_on_ack(x, peer, n, now, a), 0);
}

/* One client: OACK mc=1, ACK 0, lock-step to the last block, done. */
static void
test_single_master(void **state)
{
	struct rfc2090_xfer x;
	struct rfc2090_action a;
	struct rfc2090_params p = params(3);

	(void)state;
	rfc2090_xfer_start(&x, &p);
	join(&x, A, 0, &a);
	expect_oack(&a, 0, true);
	assert_true(x.deadline_us == 100000);
	ack(&x, A, 0, 10, &a);
	expect_data(&a, 1);
	assert_true(x.deadline_us == 100010);
	ack(&x, A, 1, 20, &a);
	expect_data(&a, 2);
	ack(&x, A, 2, 30, &a);
	expect_data(&a, 3);
	ack(&x, A, 3, 40, &a);
	assert_int_equal(a.kind, RFC2090_ACTION_DONE);
	assert_int_equal(a.gone, RFC2090_GONE_DONE);
	assert_true(a.gone_peer.addr == A.addr && a.gone_peer.port == A.port);
	assert_true(x.done);
	assert_int_equal(x.count, 0);
	/* over: nobody joins any more, the timer does nothing */
	assert_int_equal(rfc2090_xfer_join(&x, B, &NO_OPTIONS, 50, &a), -ENOSPC);
	rfc2090_xfer_on_timeout(&x, 60, &a);
	expect_none(&a);
}

/* Duplicate, old and impossible ACKs bring nothing; a master may jump ahead. */
static void
test_duplicates_and_jumps(void **state)
{
	struct rfc2090_xfer x;
	struct rfc2090_action a;
	struct rfc2090_params p = params(100);

	(void)state;
	rfc2090_xfer_start(&x, &p);
	join(&x, A, 0, &a);
	ack(&x, A, 0, 1, &a);
	expect_data(&a, 1);
	ack(&x, A, 1, 2, &a);
	expect_data(&a, 2);
	ack(&x, A, 1, 3, &a);                   /* duplicate */
	expect_none(&a);
	ack(&x, A, 0, 4, &a);                   /* old */
	expect_none(&a);
	ack(&x, A, 101, 5, &a);                 /* past the end */
	expect_none(&a);
	ack(&x, A, 40, 6, &a);                  /* has 2..40 already: next hole */
	expect_data(&a, 41);
	assert_true(x.blocks_sent == 3);
	/* a stranger's ACK */
	assert_int_equal(rfc2090_xfer_on_ack(&x, C, 41, 7, &a), -ENOENT);
	expect_none(&a);
	assert_int_equal(rfc2090_xfer_on_error(&x, C, 7, &a), -ENOENT);
}

/* Later clients listen (mc=0); their ACKs do not pace; an ACK of the last
 * block from a listener removes it; the master finishing hands the lead
 * to the next, which starts from the block before its first hole. */
static void
test_rotation(void **state)
{
	struct rfc2090_xfer x;
	struct rfc2090_action a;
	struct rfc2090_params p = params(10);

	(void)state;
	rfc2090_xfer_start(&x, &p);
	join(&x, A, 0, &a);
	ack(&x, A, 0, 1, &a);
	expect_data(&a, 1);
	ack(&x, A, 1, 2, &a);
	expect_data(&a, 2);
	join(&x, B, 3, &a);
	expect_oack(&a, 1, false);
	assert_true(x.deadline_us == 2 + 100000);       /* the master's timer stays */
	join(&x, C, 3, &a);
	expect_oack(&a, 2, false);
	assert_int_equal(rfc2090_xfer_join(&x, (struct rfc2090_peer){ 9, 9 }, &NO_OPTIONS, 3,
	    &a), -ENOSPC);                              /* max_clients 3 */
	ack(&x, B, 0, 4, &a);                           /* listener: ignored */
	expect_none(&a);
	/* a repeated request from B: its OACK again, still mc=0 */
	assert_int_equal(rfc2090_xfer_join(&x, B, &NO_OPTIONS, 5, &a), -EEXIST);
	expect_oack(&a, 1, false);
	for (uint16_t n = 2; n < 10; n++) {
		ack(&x, A, n, 10 + n, &a);
		expect_data(&a, n + 1u);
	}
	ack(&x, C, 10, 30, &a);                         /* C had it all: done */
	expect_none(&a);
	assert_int_equal(a.gone, RFC2090_GONE_DONE);
	assert_int_equal(x.count, 2);
	ack(&x, A, 10, 31, &a);                         /* master done: B leads */
	expect_oack(&a, 0, true);
	assert_int_equal(a.gone, RFC2090_GONE_DONE);
	assert_true(x.client[0].peer.addr == B.addr);
	assert_int_equal(x.wait, RFC2090_WAIT_OACK);
	ack(&x, B, 0, 40, &a);                          /* B missed blocks 1 and 2 */
	expect_data(&a, 1);
	ack(&x, B, 1, 41, &a);
	expect_data(&a, 2);
	ack(&x, B, 10, 42, &a);
	assert_int_equal(a.kind, RFC2090_ACTION_DONE);
	assert_int_equal(x.masters, 2);
	assert_int_equal(x.finished, 3);
}

/* A silent master: the block is resent with a doubling timeout, then the
 * master is skipped and the next client is offered the lead; a silent new
 * master's OACK is resent the same way. */
static void
test_silent_master(void **state)
{
	struct rfc2090_xfer x;
	struct rfc2090_action a;
	struct rfc2090_params p = params(10);
	uint64_t now = 0;

	(void)state;
	rfc2090_xfer_start(&x, &p);
	join(&x, A, now, &a);
	join(&x, B, now, &a);
	ack(&x, A, 0, now, &a);
	expect_data(&a, 1);
	now = x.deadline_us;
	rfc2090_xfer_on_timeout(&x, now, &a);
	expect_data(&a, 1);
	assert_true(x.deadline_us == now + 200000);
	now = x.deadline_us;
	rfc2090_xfer_on_timeout(&x, now, &a);
	expect_data(&a, 1);
	assert_true(x.deadline_us == now + 400000);
	now = x.deadline_us;
	rfc2090_xfer_on_timeout(&x, now, &a);           /* retries spent: skip A */
	expect_oack(&a, 0, true);
	assert_int_equal(a.gone, RFC2090_GONE_SILENT);
	assert_true(a.gone_peer.addr == A.addr);
	assert_true(x.deadline_us == now + 100000);
	assert_int_equal(x.resent, 2);
	/* A is no longer a client */
	assert_int_equal(rfc2090_xfer_on_ack(&x, A, 1, now, &a), -ENOENT);
	/* B does not answer its OACK either */
	now = x.deadline_us;
	rfc2090_xfer_on_timeout(&x, now, &a);
	expect_oack(&a, 0, true);
	now = x.deadline_us;
	rfc2090_xfer_on_timeout(&x, now, &a);
	expect_oack(&a, 0, true);
	assert_true(x.deadline_us == now + 400000);
	now = x.deadline_us;
	rfc2090_xfer_on_timeout(&x, now, &a);
	assert_int_equal(a.kind, RFC2090_ACTION_DONE);
	assert_int_equal(a.gone, RFC2090_GONE_SILENT);
	assert_int_equal(x.skipped, 2);
	assert_true(x.done);
}

/* ERROR from a listener removes it; from the master hands the lead on. */
static void
test_error(void **state)
{
	struct rfc2090_xfer x;
	struct rfc2090_action a;
	struct rfc2090_params p = params(10);

	(void)state;
	rfc2090_xfer_start(&x, &p);
	join(&x, A, 0, &a);
	join(&x, B, 0, &a);
	join(&x, C, 0, &a);
	ack(&x, A, 0, 1, &a);
	assert_int_equal(rfc2090_xfer_on_error(&x, B, 2, &a), 0);
	expect_none(&a);
	assert_int_equal(a.gone, RFC2090_GONE_ERROR);
	assert_int_equal(x.count, 2);
	assert_int_equal(x.wait, RFC2090_WAIT_DATA);
	assert_int_equal(rfc2090_xfer_on_error(&x, A, 3, &a), 0);
	expect_oack(&a, 0, true);
	assert_true(x.client[0].peer.addr == C.addr);
	assert_int_equal(rfc2090_xfer_on_error(&x, C, 4, &a), 0);
	assert_int_equal(a.kind, RFC2090_ACTION_DONE);
}

/* A one-block file (empty file: one empty block); zero params clamped. */
static void
test_edges(void **state)
{
	struct rfc2090_xfer x;
	struct rfc2090_action a;
	struct rfc2090_params p = { 0 };

	(void)state;
	rfc2090_xfer_start(&x, &p);
	assert_true(x.p.last_block == 1);
	assert_int_equal(x.p.max_clients, RFC2090_CLIENTS_MAX);
	rfc2090_xfer_on_timeout(&x, 0, &a);             /* no clients: nothing */
	expect_none(&a);
	for (uint32_t i = 0; i < RFC2090_CLIENTS_MAX; i++)
		join(&x, (struct rfc2090_peer){ i, 1 }, 0, &a);
	assert_int_equal(rfc2090_xfer_join(&x, A, &NO_OPTIONS, 0, &a), -ENOSPC);
	ack(&x, (struct rfc2090_peer){ 0, 1 }, 0, 0, &a);
	expect_data(&a, 1);
	/* everyone ACKs the only block: each leaves; the last one ends it */
	for (uint32_t i = RFC2090_CLIENTS_MAX; i-- > 1;) {
		ack(&x, (struct rfc2090_peer){ i, 1 }, 1, 0, &a);
		expect_none(&a);
	}
	ack(&x, (struct rfc2090_peer){ 0, 1 }, 1, 0, &a);
	assert_int_equal(a.kind, RFC2090_ACTION_DONE);
	assert_int_equal(x.finished, RFC2090_CLIENTS_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_master),
		cmocka_unit_test(test_duplicates_and_jumps),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_silent_master),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

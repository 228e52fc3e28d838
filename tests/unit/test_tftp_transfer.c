/* The TFTP sending engine and option negotiation, driven with fake time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "tftp/negotiate.h"
#include "tftp/transfer.h"

static struct tftp_transfer_params
params(uint64_t size, uint32_t blksize, uint32_t window, bool oack)
{
	struct tftp_transfer_params p = {
		.blksize = blksize, .windowsize = window, .size = size, .size_known = true,
		.oack = oack, .min_rto_us = 1000, .max_rto_us = 2000000,
		.initial_rto_us = 500000, .idle_timeout_us = 10000000,
	};
	return p;
}

static void
expect_send(const struct tftp_action *a, uint64_t first, uint32_t count)
{
	assert_int_equal(a->kind, TFTP_ACTION_SEND);
	assert_true(a->first == first);
	assert_int_equal(a->count, count);
}

/* Send what the action says at time now. */
static void
sent(struct tftp_transfer *t, const struct tftp_action *a, uint64_t now)
{
	tftp_transfer_sent(t, a->first, a->count, now);
}

static void
test_lockstep_plain(void **state)
{
	struct tftp_transfer t;
	struct tftp_transfer_params p = params(1025, 512, 1, false);
	struct tftp_action a;

	(void)state;
	tftp_transfer_start(&t, &p, 0, &a);
	expect_send(&a, 1, 1);
	assert_true(t.last_block == 3);
	assert_int_equal(tftp_transfer_block_len(&t, 1), 512);
	assert_int_equal(tftp_transfer_block_len(&t, 3), 1);
	sent(&t, &a, 0);
	tftp_transfer_on_ack(&t, 1, 100, &a);
	expect_send(&a, 2, 1);
	sent(&t, &a, 100);
	tftp_transfer_on_ack(&t, 2, 200, &a);
	expect_send(&a, 3, 1);
	sent(&t, &a, 200);
	tftp_transfer_on_ack(&t, 3, 300, &a);
	assert_int_equal(a.kind, TFTP_ACTION_DONE);
	/* anything after the end is ignored */
	tftp_transfer_on_ack(&t, 3, 400, &a);
	assert_int_equal(a.kind, TFTP_ACTION_NONE);
}

static void
test_exact_multiple_has_empty_final_block(void **state)
{
	struct tftp_transfer t;
	struct tftp_transfer_params p = params(1024, 512, 8, false);
	struct tftp_action a;

	(void)state;
	tftp_transfer_start(&t, &p, 0, &a);
	expect_send(&a, 1, 3);
	assert_int_equal(tftp_transfer_block_len(&t, 3), 0);
	sent(&t, &a, 0);
	tftp_transfer_on_ack(&t, 3, 10, &a);
	assert_int_equal(a.kind, TFTP_ACTION_DONE);
}

static void
test_empty_file(void **state)
{
	struct tftp_transfer t;
	struct tftp_transfer_params p = params(0, 512, 4, false);
	struct tftp_action a;

	(void)state;
	tftp_transfer_start(&t, &p, 0, &a);
	expect_send(&a, 1, 1);
	assert_int_equal(tftp_transfer_block_len(&t, 1), 0);
}

static void
test_oack_needs_ack0(void **state)
{
	struct tftp_transfer t;
	struct tftp_transfer_params p = params(10000, 1468, 4, true);
	struct tftp_action a;

	(void)state;
	tftp_transfer_start(&t, &p, 0, &a);
	assert_int_equal(a.kind, TFTP_ACTION_SEND_OACK);
	tftp_transfer_oack_sent(&t, 0);
	tftp_transfer_on_ack(&t, 1, 10, &a);           /* not an answer to the OACK */
	assert_int_equal(a.kind, TFTP_ACTION_NONE);
	tftp_transfer_on_ack(&t, 0, 2000, &a);
	expect_send(&a, 1, 4);
	assert_true(t.have_rtt);
	assert_true(t.srtt_us == 2000);
}

static void
test_window_and_partial_ack(void **state)
{
	struct tftp_transfer t;
	struct tftp_transfer_params p = params(512 * 100, 512, 4, false);
	struct tftp_action a;

	(void)state;
	tftp_transfer_start(&t, &p, 0, &a);
	expect_send(&a, 1, 4);
	sent(&t, &a, 0);
	tftp_transfer_on_ack(&t, 4, 100, &a);           /* whole window */
	expect_send(&a, 5, 4);
	sent(&t, &a, 100);
	tftp_transfer_on_ack(&t, 6, 200, &a);           /* gap after 6: resend from 7 */
	expect_send(&a, 7, 4);
	assert_true(t.retransmitted_blocks == 2);
	sent(&t, &a, 200);
	assert_true(t.sent == 10);
}

static void
test_duplicate_ack_sends_nothing(void **state)
{
	struct tftp_transfer t;
	struct tftp_transfer_params p = params(512 * 100, 512, 1, false);
	struct tftp_action a;

	(void)state;
	tftp_transfer_start(&t, &p, 0, &a);
	sent(&t, &a, 0);
	tftp_transfer_on_ack(&t, 1, 10, &a);
	expect_send(&a, 2, 1);
	sent(&t, &a, 10);
	/* the delayed duplicate of ACK 1: no DATA (Sorcerer's Apprentice) */
	tftp_transfer_on_ack(&t, 1, 20, &a);
	assert_int_equal(a.kind, TFTP_ACTION_NONE);
	/* an ACK for a block not sent yet is ignored too */
	tftp_transfer_on_ack(&t, 5, 30, &a);
	assert_int_equal(a.kind, TFTP_ACTION_NONE);
	assert_true(t.acked == 1);
}

static void
test_timeout_backoff_and_give_up(void **state)
{
	struct tftp_transfer t;
	struct tftp_transfer_params p = params(512 * 100, 512, 4, false);
	struct tftp_action a;

	(void)state;
	p.initial_rto_us = 10000;
	p.min_rto_us = 10000;
	tftp_transfer_start(&t, &p, 0, &a);
	sent(&t, &a, 0);
	tftp_transfer_on_ack(&t, 2, 10000, &a);         /* the client answers once */
	expect_send(&a, 3, 4);
	sent(&t, &a, 10000);
	assert_true(t.deadline_us == 20000);
	tftp_transfer_on_timeout(&t, 20000, &a);
	expect_send(&a, 6, 1);                          /* a probe: the last block */
	assert_true(t.rto_us == 20000);
	sent(&t, &a, 20000);
	assert_true(t.deadline_us == 40000);
	assert_true(t.sent == 6);
	tftp_transfer_on_timeout(&t, 40000, &a);
	expect_send(&a, 3, 4);                          /* again: the window from acked + 1 */
	assert_true(t.rto_us == 40000);
	for (int i = 0; i < 20; i++)
		tftp_transfer_on_timeout(&t, 40000, &a);
	expect_send(&a, 3, 4);
	assert_true(t.rto_us == p.max_rto_us);          /* capped */
	tftp_transfer_on_timeout(&t, 10000 + p.idle_timeout_us, &a);   /* idle since the ACK */
	assert_int_equal(a.kind, TFTP_ACTION_GIVE_UP);
}

/* The probe after a timeout finds each of the three silent cases. */
static void
test_timeout_probe_answers(void **state)
{
	struct tftp_transfer t;
	struct tftp_transfer_params p = params(512 * 100, 512, 4, false);
	struct tftp_action a;

	(void)state;
	p.initial_rto_us = 10000;
	/* the window's last block or its ACK was lost: the probe brings ACK 4 */
	tftp_transfer_start(&t, &p, 0, &a);
	sent(&t, &a, 0);
	tftp_transfer_on_timeout(&t, 10000, &a);
	expect_send(&a, 4, 1);
	sent(&t, &a, 10000);
	tftp_transfer_on_ack(&t, 4, 12000, &a);
	expect_send(&a, 5, 4);                          /* back in step */
	assert_true(t.retransmitted_blocks == 1);
	assert_false(t.have_rtt);                       /* Karn: resent window */
	/* a gap the client reported in an ACK that was lost: it says so again */
	sent(&t, &a, 12000);
	tftp_transfer_on_timeout(&t, t.deadline_us, &a);
	expect_send(&a, 8, 1);
	sent(&t, &a, 40000);
	tftp_transfer_on_ack(&t, 6, 42000, &a);          /* has 6, lost 7 */
	expect_send(&a, 7, 4);
}

/* A duplicate ACK with a window out reports its first block lost; a stale
 * copy of the ACK that started the window, or an echo of a block sent
 * twice, does not. */
static void
test_duplicate_ack_resends_window(void **state)
{
	struct tftp_transfer t;
	struct tftp_transfer_params p = params(512 * 100, 512, 4, true);
	struct tftp_action a;

	(void)state;
	tftp_transfer_start(&t, &p, 0, &a);
	tftp_transfer_oack_sent(&t, 0);
	tftp_transfer_on_ack(&t, 0, 2000, &a);          /* 2 ms round trip */
	expect_send(&a, 1, 4);
	sent(&t, &a, 2000);
	assert_true(t.rto_us == 6000);
	tftp_transfer_on_ack(&t, 0, 2100, &a);          /* a stale copy of ACK 0 */
	assert_int_equal(a.kind, TFTP_ACTION_NONE);
	tftp_transfer_on_ack(&t, 0, 4000, &a);          /* block 1 lost, 2 came */
	expect_send(&a, 1, 4);
	assert_true(t.retransmitted_blocks == 4);
	sent(&t, &a, 4000);
	tftp_transfer_on_ack(&t, 0, 4010, &a);          /* the same gap again (EDK2) */
	assert_int_equal(a.kind, TFTP_ACTION_NONE);
	tftp_transfer_on_ack(&t, 4, 6000, &a);
	expect_send(&a, 5, 4);
	sent(&t, &a, 6000);
	assert_true(t.srtt_us == 2000);                 /* no sample from the resend */
	/* the copies of 1-4 arrive late and are answered with ACK 4: an echo */
	tftp_transfer_on_ack(&t, 4, 8000, &a);
	assert_int_equal(a.kind, TFTP_ACTION_NONE);
	/* a rto after the resend, a duplicate ACK is a loss again */
	tftp_transfer_on_ack(&t, 4, 4000 + t.rto_us, &a);
	expect_send(&a, 5, 4);
	assert_true(t.acked == 4);
}

/* After two timeouts the whole window went again: the client's ACK inside
 * it was provoked by the copies of what it had, and the rest is on its
 * way: only what lies beyond is sent, and the windows line up again
 * (resending from the ACK would put every later window out of step with
 * the client's, costing a round trip per window to the end). */
static void
test_blind_resend_keeps_windows_in_step(void **state)
{
	struct tftp_transfer t;
	struct tftp_transfer_params p = params(512 * 100, 512, 4, false);
	struct tftp_action a;

	(void)state;
	p.initial_rto_us = 10000;
	tftp_transfer_start(&t, &p, 0, &a);
	sent(&t, &a, 0);
	tftp_transfer_on_timeout(&t, 10000, &a);
	expect_send(&a, 4, 1);
	sent(&t, &a, 10000);
	tftp_transfer_on_timeout(&t, 30000, &a);
	expect_send(&a, 1, 4);
	sent(&t, &a, 30000);
	tftp_transfer_on_ack(&t, 3, 31000, &a);         /* it had 1-3: 4 is coming */
	expect_send(&a, 5, 3);
	sent(&t, &a, 31000);
	tftp_transfer_on_ack(&t, 7, 32000, &a);         /* 4-7: one window */
	expect_send(&a, 8, 4);
	sent(&t, &a, 32000);
	/* within a timeout of the copies, an ACK inside the window may still
	 * be their answer: only what lies beyond is sent */
	tftp_transfer_on_ack(&t, 9, 33000, &a);
	expect_send(&a, 12, 2);
	sent(&t, &a, 33000);
	tftp_transfer_on_ack(&t, 13, 35000, &a);
	expect_send(&a, 14, 4);
	sent(&t, &a, 35000);
	/* later, it is a gap: the window goes again from it */
	tftp_transfer_on_ack(&t, 15, 30000 + t.rto_us, &a);
	expect_send(&a, 16, 4);
	sent(&t, &a, 30000 + t.rto_us);
	assert_true(t.sent == 19);
}

/* n timeouts in a row, each at its deadline, with blocks 1-16 out: the
 * first resends block 16 (the probe), the others the whole window. */
static void
timeouts_resend_window(struct tftp_transfer *t, struct tftp_action *a, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t now = t->deadline_us;
		tftp_transfer_on_timeout(t, now, a);
		if (i == 0)
			expect_send(a, 16, 1);
		else
			expect_send(a, 1, 16);
		sent(t, a, now);
	}
}

/* Before the client answered once, the first packet goes out at most
 * TFTP_UNPROVEN_SENDS times (its source may be forged), whatever the
 * window; an ACK (of the OACK too) lifts the bound. */
static void
test_unproven_gives_up(void **state)
{
	struct tftp_transfer t;
	struct tftp_transfer_params p = params(512 * 100, 512, 16, false);
	struct tftp_action a;
	uint64_t now = 0;

	(void)state;
	tftp_transfer_start(&t, &p, now, &a);
	expect_send(&a, 1, 16);
	sent(&t, &a, now);
	timeouts_resend_window(&t, &a, TFTP_UNPROVEN_SENDS - 1);
	tftp_transfer_on_timeout(&t, t.deadline_us, &a);
	assert_int_equal(a.kind, TFTP_ACTION_GIVE_UP);
	assert_false(t.proven);
	/* with an OACK: only OACKs, the same number of times */
	p.oack = true;
	now = 0;
	tftp_transfer_start(&t, &p, now, &a);
	assert_int_equal(a.kind, TFTP_ACTION_SEND_OACK);
	tftp_transfer_oack_sent(&t, now);
	for (int i = 1; i < TFTP_UNPROVEN_SENDS; i++) {
		now = t.deadline_us;
		tftp_transfer_on_timeout(&t, now, &a);
		assert_int_equal(a.kind, TFTP_ACTION_SEND_OACK);
		tftp_transfer_oack_sent(&t, now);
	}
	tftp_transfer_on_timeout(&t, t.deadline_us, &a);
	assert_int_equal(a.kind, TFTP_ACTION_GIVE_UP);
	/* ACK 0 at the last chance: proven, and a silent spell later is
	 * resent until the idle timeout, not cut at four */
	tftp_transfer_start(&t, &p, 0, &a);
	tftp_transfer_oack_sent(&t, 0);
	tftp_transfer_on_ack(&t, 0, 100, &a);
	expect_send(&a, 1, 16);
	assert_true(t.proven);
	sent(&t, &a, 100);
	timeouts_resend_window(&t, &a, 10);
}

static void
test_rtt_estimate_and_karn(void **state)
{
	struct tftp_transfer t;
	struct tftp_transfer_params p = params(512 * 1000, 512, 1, false);
	struct tftp_action a;

	(void)state;
	tftp_transfer_start(&t, &p, 0, &a);
	sent(&t, &a, 0);
	tftp_transfer_on_ack(&t, 1, 2000, &a);          /* 2 ms round trip */
	assert_true(t.srtt_us == 2000);
	assert_true(t.rttvar_us == 1000);
	assert_true(t.rto_us == 6000);                  /* srtt + 4 rttvar */
	sent(&t, &a, 2000);
	tftp_transfer_on_timeout(&t, 8000, &a);         /* lost: resend block 2 */
	expect_send(&a, 2, 1);
	sent(&t, &a, 8000);
	tftp_transfer_on_ack(&t, 2, 100000, &a);        /* ambiguous: no sample */
	assert_true(t.srtt_us == 2000);
	sent(&t, &a, 100000);
	tftp_transfer_on_ack(&t, 3, 102000, &a);        /* fresh window: sampled */
	assert_true(t.srtt_us == 2000);
	assert_true(t.rto_us == 2000 + 4 * 750);
}

static void
test_rollover_wraps_to_zero(void **state)
{
	struct tftp_transfer t;
	struct tftp_transfer_params p = params(512ull * 70000, 512, 1, false);
	struct tftp_action a;

	(void)state;
	tftp_transfer_start(&t, &p, 0, &a);
	assert_int_equal(tftp_transfer_wire(&t, 65535), 65535);
	assert_int_equal(tftp_transfer_wire(&t, 65536), 0);
	assert_int_equal(tftp_transfer_wire(&t, 65537), 1);
	assert_true(tftp_transfer_offset(&t, 65537) == 512ull * 65536);
	t.acked = 65535;
	t.sent = 65536;
	tftp_transfer_on_ack(&t, 0, 10, &a);            /* ACK 0 = block 65536 */
	expect_send(&a, 65537, 1);
	assert_true(t.acked == 65536);
}

static void
test_rollover_wraps_to_one(void **state)
{
	(void)state;
	assert_int_equal(tftp_index_to_wire(65535, true), 65535);
	assert_int_equal(tftp_index_to_wire(65536, true), 1);
	assert_int_equal(tftp_index_to_wire(65537, true), 2);
	assert_true(tftp_wire_to_index(1, 65535, 65536, true) == 65536);
	assert_true(tftp_wire_to_index(0, 65535, 65536, true) == 0);
}

static void
test_wire_to_index(void **state)
{
	(void)state;
	assert_true(tftp_wire_to_index(5, 4, 8, false) == 5);
	assert_true(tftp_wire_to_index(8, 4, 8, false) == 8);
	assert_true(tftp_wire_to_index(4, 4, 8, false) == 0);   /* duplicate */
	assert_true(tftp_wire_to_index(9, 4, 8, false) == 0);   /* future */
	assert_true(tftp_wire_to_index(2, 65534, 65540, false) == 65538);
	assert_true(tftp_wire_to_index(65535, 65534, 65540, false) == 65535);
	assert_true(tftp_wire_to_index(1, 0, 0, false) == 0);
}

/* ---- negotiation ---- */

static struct tftp_limits
limits(void)
{
	struct tftp_limits l = {
		.blksize_max = 65464, .mtu_blksize = tftp_mtu_blksize(1500, AF_INET),
		.window_max = 64, .rollover = 0, .min_rto_us = 10000, .max_rto_us = 2000000,
		.idle_timeout_us = 20000000,
	};
	return l;
}

static void
test_negotiate_edk2(void **state)
{
	struct tftp_request req = { .mode = TFTP_MODE_OCTET,
		.present = TFTP_OPT_TSIZE | TFTP_OPT_BLKSIZE | TFTP_OPT_WINDOWSIZE,
		.blksize = 1468, .windowsize = 4, .tsize = 0 };
	struct tftp_limits l = limits();
	struct tftp_oack o;
	struct tftp_transfer_params p;

	(void)state;
	assert_true(tftp_negotiate(&req, &l, 123456, &o, &p));
	assert_int_equal(o.present, req.present);       /* nothing unrequested */
	assert_int_equal(o.blksize, 1468);
	assert_int_equal(o.windowsize, 4);
	assert_true(o.tsize == 123456);
	assert_int_equal(p.blksize, 1468);
	assert_int_equal(p.windowsize, 4);
}

static void
test_negotiate_clamps(void **state)
{
	struct tftp_request req = { .mode = TFTP_MODE_OCTET,
		.present = TFTP_OPT_BLKSIZE | TFTP_OPT_WINDOWSIZE | TFTP_OPT_TIMEOUT,
		.blksize = 8192, .windowsize = 1000, .timeout = 7 };
	struct tftp_limits l = limits();
	struct tftp_oack o;
	struct tftp_transfer_params p;

	(void)state;
	tftp_negotiate(&req, &l, 1, &o, &p);
	assert_int_equal(o.blksize, 1468);              /* 1500 MTU */
	assert_int_equal(o.windowsize, 64);             /* server cap */
	assert_int_equal(o.timeout, 7);                 /* echoed exactly */
	assert_true(p.max_rto_us == 7000000);
	l.allow_fragments = true;
	tftp_negotiate(&req, &l, 1, &o, &p);
	assert_int_equal(o.blksize, 8192);
	assert_int_equal(tftp_mtu_blksize(1500, AF_INET6), 1448);
	assert_int_equal(tftp_mtu_blksize(65536, AF_INET), 65464);
}

static void
test_negotiate_netascii_and_plain(void **state)
{
	struct tftp_request req = { .mode = TFTP_MODE_NETASCII,
		.present = TFTP_OPT_TSIZE | TFTP_OPT_WINDOWSIZE, .windowsize = 8 };
	struct tftp_limits l = limits();
	struct tftp_oack o;
	struct tftp_transfer_params p;

	(void)state;
	assert_false(tftp_negotiate(&req, &l, 100, &o, &p));
	assert_int_equal(o.present, 0);
	assert_int_equal(p.windowsize, 1);
	assert_false(p.size_known);
	req.mode = TFTP_MODE_OCTET;
	req.present = 0;
	assert_false(tftp_negotiate(&req, &l, 100, &o, &p));
	assert_int_equal(p.blksize, 512);
	req.present = TFTP_OPT_ROLLOVER;
	req.rollover = 1;
	assert_true(tftp_negotiate(&req, &l, 100, &o, &p));
	assert_true(p.wrap_to_one);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lockstep_plain),
		cmocka_unit_test(test_exact_multiple_has_empty_final_block),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_oack_needs_ack0),
		cmocka_unit_test(test_window_and_partial_ack),
		cmocka_unit_test(test_duplicate_ack_sends_nothing),
		cmocka_unit_test(test_timeout_backoff_and_give_up),
		cmocka_unit_test(test_timeout_probe_answers),
		cmocka_unit_test(test_duplicate_ack_resends_window),
		cmocka_unit_test(test_blind_resend_keeps_windows_in_step),
		cmocka_unit_test(test_unproven_gives_up),
		cmocka_unit_test(test_rtt_estimate_and_karn),
		cmocka_unit_test(test_rollover_wraps_to_zero),
		cmocka_unit_test(test_rollover_wraps_to_one),
		cmocka_unit_test(test_wire_to_index),
		cmocka_unit_test(test_negotiate_edk2),
		cmocka_unit_test(test_negotiate_clamps),
		cmocka_unit_test(test_negotiate_netascii_and_plain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* PXE MTFTP: the pass engine driven with fake time, and the mtftp-file
 * table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "core/util.h"

#include "tftp/mtftp_files.h"
#include "tftp/mtftp_pass.h"

static struct mtftp_pass_params
params(uint64_t last)
{
	struct mtftp_pass_params p = {
		.last_block = last, .rto_us = 100000, .max_rto_us = 400000,
		.retries = 2, .pace_us = 10000, .burst = 4,
	};
	return p;
}

static void
expect_send(const struct mtftp_action *a, uint64_t first, uint32_t count, bool unicast)
{
	assert_int_equal(a->kind, MTFTP_ACTION_SEND);
	assert_true(a->first == first);
	assert_int_equal(a->count, count);
	assert_int_equal(a->unicast, unicast);
}

/* The master ACKs every block: lock-step to the end; block 1 is unicast too. */
static void
test_pass_lockstep(void **state)
{
	struct mtftp_pass m;
	struct mtftp_action a;
	uint64_t now = 1000;

	(void)state;
	mtftp_pass_start(&m, &(struct mtftp_pass_params){ 0 }, &a);
	mtftp_pass_start(&m, &(const struct mtftp_pass_params){ .last_block = 3, .rto_us = 100,
	    .max_rto_us = 400, .retries = 1, .pace_us = 10, .burst = 2 }, &a);
	expect_send(&a, 1, 1, true);
	for (uint64_t b = 1; b <= 3; b++) {
		mtftp_pass_sent(&m, a.first, a.count, now);
		assert_true(m.deadline_us == now + 100);
		mtftp_pass_on_ack(&m, (uint16_t)b, &a);
		if (b < 3)
			expect_send(&a, b + 1, 1, false);
	}
	assert_int_equal(a.kind, MTFTP_ACTION_DONE);
	assert_true(m.done);
	mtftp_pass_on_timeout(&m, &a);
	assert_int_equal(a.kind, MTFTP_ACTION_NONE);
}

/* Duplicate, old and future ACKs bring nothing. */
static void
test_pass_duplicate_ack(void **state)
{
	struct mtftp_pass m;
	struct mtftp_action a;
	struct mtftp_pass_params p = params(10);

	(void)state;
	mtftp_pass_start(&m, &p, &a);
	mtftp_pass_sent(&m, 1, 1, 0);
	mtftp_pass_on_ack(&m, 1, &a);
	expect_send(&a, 2, 1, false);
	mtftp_pass_sent(&m, 2, 1, 10);
	mtftp_pass_on_ack(&m, 1, &a);           /* duplicate (the multicast copy of 1) */
	assert_int_equal(a.kind, MTFTP_ACTION_NONE);
	mtftp_pass_on_ack(&m, 5, &a);           /* future */
	assert_int_equal(a.kind, MTFTP_ACTION_NONE);
	mtftp_pass_on_ack(&m, 0, &a);
	assert_int_equal(a.kind, MTFTP_ACTION_NONE);
	mtftp_pass_on_ack(&m, 2, &a);
	expect_send(&a, 3, 1, false);
}

/* A silent master: resends with a doubled timeout, then the pass runs on
 * in bursts to the end. */
static void
test_pass_silent_master(void **state)
{
	struct mtftp_pass m;
	struct mtftp_action a;
	struct mtftp_pass_params p = params(10);
	uint64_t now = 0;

	(void)state;
	mtftp_pass_start(&m, &p, &a);
	mtftp_pass_sent(&m, 1, 1, now);
	mtftp_pass_on_ack(&m, 1, &a);
	mtftp_pass_sent(&m, 2, 1, now);
	now = m.deadline_us;
	mtftp_pass_on_timeout(&m, &a);
	expect_send(&a, 2, 1, false);
	mtftp_pass_sent(&m, 2, 1, now);
	assert_true(m.deadline_us == now + 200000);
	now = m.deadline_us;
	mtftp_pass_on_timeout(&m, &a);
	expect_send(&a, 2, 1, false);
	mtftp_pass_sent(&m, 2, 1, now);
	assert_true(m.deadline_us == now + 400000);
	now = m.deadline_us;
	mtftp_pass_on_timeout(&m, &a);          /* retries used up: run on */
	assert_false(m.master);
	expect_send(&a, 3, 4, false);
	mtftp_pass_sent(&m, 3, 4, now);
	assert_true(m.deadline_us == now + 10000);
	mtftp_pass_on_timeout(&m, &a);
	expect_send(&a, 7, 4, false);
	mtftp_pass_sent(&m, 7, 4, now);
	mtftp_pass_on_timeout(&m, &a);
	assert_int_equal(a.kind, MTFTP_ACTION_DONE);
	assert_int_equal(m.resent, 2);
}

/* An ERROR from the master: the pass runs on; a master that comes back
 * with the ACK of the last block sent takes over lock-step again. */
static void
test_pass_master_gone_and_back(void **state)
{
	struct mtftp_pass m;
	struct mtftp_action a;
	struct mtftp_pass_params p = params(20);

	(void)state;
	mtftp_pass_start(&m, &p, &a);
	mtftp_pass_sent(&m, 1, 1, 0);
	mtftp_pass_on_ack(&m, 1, &a);           /* the master answers once */
	expect_send(&a, 2, 1, false);
	mtftp_pass_sent(&m, 2, 1, 0);
	mtftp_pass_master_gone(&m, &a);
	expect_send(&a, 3, 4, false);
	mtftp_pass_sent(&m, 3, 4, 0);
	mtftp_pass_master_gone(&m, &a);         /* once only */
	assert_int_equal(a.kind, MTFTP_ACTION_NONE);
	mtftp_pass_on_ack(&m, 4, &a);           /* behind: no send, master back */
	assert_int_equal(a.kind, MTFTP_ACTION_NONE);
	assert_true(m.master);
	mtftp_pass_on_ack(&m, 6, &a);
	expect_send(&a, 7, 1, false);
}

/* An opener that never ACKs proves nothing (a forged source): block 1 and
 * its resends, then the pass ends, silent or with an ERROR. */
static void
test_pass_unproven_ends(void **state)
{
	struct mtftp_pass m;
	struct mtftp_action a;
	struct mtftp_pass_params p = params(20);

	(void)state;
	mtftp_pass_start(&m, &p, &a);
	mtftp_pass_sent(&m, 1, 1, 0);
	for (uint32_t i = 0; i < p.retries; i++) {
		mtftp_pass_on_timeout(&m, &a);
		expect_send(&a, 1, 1, true);
		mtftp_pass_sent(&m, 1, 1, 0);
	}
	mtftp_pass_on_timeout(&m, &a);
	assert_int_equal(a.kind, MTFTP_ACTION_DONE);
	assert_true(m.unproven);
	mtftp_pass_start(&m, &p, &a);
	mtftp_pass_sent(&m, 1, 1, 0);
	mtftp_pass_master_gone(&m, &a);
	assert_int_equal(a.kind, MTFTP_ACTION_DONE);
}

/* A file that is an exact multiple of 512 ends with an empty block. */
static void
test_pass_last_block_acked_ends(void **state)
{
	struct mtftp_pass m;
	struct mtftp_action a;
	struct mtftp_pass_params p = params(1);

	(void)state;
	mtftp_pass_start(&m, &p, &a);
	expect_send(&a, 1, 1, true);
	mtftp_pass_sent(&m, 1, 1, 0);
	mtftp_pass_on_ack(&m, 1, &a);
	assert_int_equal(a.kind, MTFTP_ACTION_DONE);
}

static void
test_files_parse(void **state)
{
	struct mtftp_file f;
	char err[160];

	(void)state;
	assert_int_equal(mtftp_file_parse("undionly.kpxe 239.255.1.2 3001", &f, err, sizeof err), 0);
	assert_string_equal(f.path, "undionly.kpxe");
	assert_int_equal(f.cport, 3001);
	assert_int_equal(ntohl(f.group.s_addr), 0xefff0102);
	assert_int_equal(mtftp_file_parse("/boot\\pxe.0  239.1.1.1\t7", &f, err, sizeof err), 0);
	assert_string_equal(f.path, "boot/pxe.0");
	assert_int_not_equal(mtftp_file_parse("a.kpxe 192.0.2.1 3001", &f, err, sizeof err), 0);
	assert_non_null(strstr(err, "multicast"));
	assert_int_not_equal(mtftp_file_parse("a.kpxe 239.1.1.1 0", &f, err, sizeof err), 0);
	assert_int_not_equal(mtftp_file_parse("a.kpxe 239.1.1.1 70000", &f, err, sizeof err), 0);
	assert_int_not_equal(mtftp_file_parse("a.kpxe 239.1.1.1", &f, err, sizeof err), 0);
	assert_int_not_equal(mtftp_file_parse("a.kpxe 239.1.1.1 1 x", &f, err, sizeof err), 0);
	assert_int_not_equal(mtftp_file_parse("../a 239.1.1.1 1", &f, err, sizeof err), 0);
}

static void
test_files_build_and_find(void **state)
{
	static struct config cfg;
	struct mtftp_files t;
	char err[256];

	(void)state;
	memset(&cfg, 0, sizeof cfg);
	cfg.mtftp_port = 1759;
	cfg.mtftp_timeout = 2;
	cfg.mtftp_delay = 3;
	str_copy(cfg.mtftp_file.item[0], "undionly.kpxe 239.255.1.2 3001", sizeof cfg.mtftp_file.item[0]);
	str_copy(cfg.mtftp_file.item[1], "pxe/lpxelinux.0 239.255.1.3 3001", sizeof cfg.mtftp_file.item[1]);
	cfg.mtftp_file.count = 2;
	assert_int_equal(mtftp_files_build(&cfg, &t, err, sizeof err), 0);
	assert_int_equal(t.count, 2);
	assert_int_equal(t.sport, 1759);
	assert_int_equal(t.timeout, 2);
	assert_int_equal(t.delay, 3);
	assert_ptr_equal(mtftp_files_find(&t, "/undionly.kpxe"), &t.file[0]);
	assert_ptr_equal(mtftp_files_find(&t, "pxe\\lpxelinux.0"), &t.file[1]);
	assert_null(mtftp_files_find(&t, "UNDIONLY.KPXE"));
	assert_null(mtftp_files_find(&t, "other"));
	assert_null(mtftp_files_find(NULL, "undionly.kpxe"));
	str_copy(cfg.mtftp_file.item[1], "/undionly.kpxe 239.255.1.9 4000", sizeof cfg.mtftp_file.item[1]);
	assert_int_not_equal(mtftp_files_build(&cfg, &t, err, sizeof err), 0);
	str_copy(cfg.mtftp_file.item[1], "other.kpxe 239.255.1.2 3001", sizeof cfg.mtftp_file.item[1]);
	assert_int_not_equal(mtftp_files_build(&cfg, &t, err, sizeof err), 0);
	assert_non_null(strstr(err, "twice"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_lockstep),
		cmocka_unit_test(test_pass_duplicate_ack),
		cmocka_unit_test(test_pass_silent_master),
		cmocka_unit_test(test_pass_master_gone_and_back),
		cmocka_unit_test(test_pass_unproven_ends),
		cmocka_unit_test(test_pass_last_block_acked_ends),
		cmocka_unit_test(test_files_parse),
		cmocka_unit_test(test_files_build_and_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

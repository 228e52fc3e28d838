/* Unit tests for the report of the system calls the sandbox refused
 * (src/pxed/denied.c, pure, compiled in: the daemon's sources are not in
 * libpxed): the first refusal of a call is reported at once, the next ones
 * within a minute together once the minute is over, each call on its own
 * clock, numbers outside the table in one slot, and a flush reports all. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pxed/denied.c"

#include <string.h>

static struct denied d;
static struct denied_report out[8];

static int
reset(void **state)
{
	(void)state;
	memset(&d, 0, sizeof d);
	return 0;
}

static void
test_first_at_once(void **state)
{
	(void)state;
	assert_int_equal(denied_due(&d, 1000, false, out, 8), 0);
	denied_note(&d, 59);
	assert_int_equal(denied_due(&d, 1000, false, out, 8), 1);
	assert_int_equal(out[0].nr, 59);
	assert_int_equal(out[0].times, 1);
	assert_int_equal(denied_due(&d, 1500, false, out, 8), 0);
}

static void
test_once_a_minute(void **state)
{
	(void)state;
	denied_note(&d, 59);
	assert_int_equal(denied_due(&d, 1000, false, out, 8), 1);
	for (int i = 0; i < 5; i++)
		denied_note(&d, 59);
	/* within the minute: held back, counted */
	assert_int_equal(denied_due(&d, 1000 + DENIED_REPORT_MS - 1, false, out, 8), 0);
	denied_note(&d, 59);
	assert_int_equal(denied_due(&d, 1000 + DENIED_REPORT_MS, false, out, 8), 1);
	assert_int_equal(out[0].nr, 59);
	assert_int_equal(out[0].times, 6);
	/* a minute from that report, not from the first */
	denied_note(&d, 59);
	assert_int_equal(denied_due(&d, 1000 + 2 * DENIED_REPORT_MS - 1, false, out, 8), 0);
	assert_int_equal(denied_due(&d, 1000 + 2 * DENIED_REPORT_MS, false, out, 8), 1);
	assert_int_equal(out[0].times, 1);
}

static void
test_each_call_its_clock(void **state)
{
	(void)state;
	denied_note(&d, 59);
	assert_int_equal(denied_due(&d, 0, false, out, 8), 1);
	denied_note(&d, 59);
	denied_note(&d, 101);
	denied_note(&d, 101);
	/* 101 is new: reported at once; 59 waits for its minute */
	assert_int_equal(denied_due(&d, 10, false, out, 8), 1);
	assert_int_equal(out[0].nr, 101);
	assert_int_equal(out[0].times, 2);
	assert_int_equal(denied_due(&d, DENIED_REPORT_MS, false, out, 8), 1);
	assert_int_equal(out[0].nr, 59);
	assert_int_equal(out[0].times, 1);
}

static void
test_out_of_table(void **state)
{
	(void)state;
	denied_note(&d, -1);
	denied_note(&d, DENIED_CALLS);
	denied_note(&d, 1L << 40);
	denied_note(&d, DENIED_CALLS - 1);
	assert_int_equal(denied_due(&d, 0, false, out, 8), 2);
	assert_int_equal(out[0].nr, DENIED_CALLS - 1);
	assert_int_equal(out[0].times, 1);
	assert_int_equal(out[1].nr, -1);
	assert_int_equal(out[1].times, 3);
}

static void
test_bounded_and_flush(void **state)
{
	(void)state;
	for (int nr = 0; nr < 10; nr++)
		denied_note(&d, nr);
	/* at most max at a time; the rest at the next call */
	assert_int_equal(denied_due(&d, 0, false, out, 8), 8);
	assert_int_equal(out[7].nr, 7);
	assert_int_equal(denied_due(&d, 0, false, out, 8), 2);
	assert_int_equal(out[1].nr, 9);
	/* held back within the minute, but a flush reports them */
	denied_note(&d, 3);
	denied_note(&d, 3);
	assert_int_equal(denied_due(&d, 5, false, out, 8), 0);
	assert_int_equal(denied_due(&d, 5, true, out, 8), 1);
	assert_int_equal(out[0].nr, 3);
	assert_int_equal(out[0].times, 2);
	assert_int_equal(denied_due(&d, 5, true, out, 8), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_first_at_once, reset),
		cmocka_unit_test_setup(test_once_a_minute, reset),
		cmocka_unit_test_setup(test_each_call_its_clock, reset),
		cmocka_unit_test_setup(test_out_of_table, reset),
		cmocka_unit_test_setup(test_bounded_and_flush, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The starvation guard (dhcp/guard.c) with fake time: token buckets, the
 * verdicts for new clients (rate, relay rate, pool reserve), and the
 * pool-low alarm's transitions and repeats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dhcp/guard.h"

static void
test_bucket(void **state)
{
	struct dhcp_bucket b = { 0 };
	int64_t t = 1000000;
	int got = 0;

	(void)state;
	/* a second's worth at once, then nothing until time passes */
	for (int i = 0; i < 20; i++)
		got += dhcp_bucket_take(&b, 10, t);
	assert_int_equal(got, 10);
	assert_false(dhcp_bucket_take(&b, 10, t + 50));
	assert_true(dhcp_bucket_take(&b, 10, t + 100));        /* 100 ms: one more */
	assert_false(dhcp_bucket_take(&b, 10, t + 100));
	/* a long pause fills it to the burst, not beyond */
	got = 0;
	for (int i = 0; i < 50; i++)
		got += dhcp_bucket_take(&b, 10, t + 60000);
	assert_int_equal(got, 10);
	/* no limit */
	for (int i = 0; i < 1000; i++)
		assert_true(dhcp_bucket_take(&b, 0, t));
	/* the clock going back refills instead of stalling */
	assert_true(dhcp_bucket_take(&b, 10, t - 5000));
}

static void
test_admit(void **state)
{
	struct dhcp_guard g = { 0 };
	struct dhcp_bucket relay = { 0 }, other = { 0 };
	int64_t t = 5000000;
	unsigned admitted = 0;

	(void)state;
	/* before a count the reserve is unknown: only the rates apply */
	for (int i = 0; i < 100; i++)
		admitted += dhcp_guard_admit(&g, NULL, 20, 5, 10, t) == DHCP_GUARD_ADMIT;
	assert_int_equal(admitted, 20);
	assert_int_equal(g.refused_rate, 80);
	/* the relay's rate is the tighter one through that relay */
	admitted = 0;
	for (int i = 0; i < 100; i++)
		admitted += dhcp_guard_admit(&g, &relay, 20, 5, 10, t + 2000) == DHCP_GUARD_ADMIT;
	assert_int_equal(admitted, 5);
	/* a flood through one relay leaves the subnet's bucket to the others */
	admitted = 0;
	for (int i = 0; i < 100; i++)
		admitted += dhcp_guard_admit(&g, &other, 20, 5, 10, t + 2000) == DHCP_GUARD_ADMIT;
	assert_int_equal(admitted, 5);
	/* the reserve: 10 of 100 free is the reserve at 10 % */
	(void)dhcp_guard_count(&g, 100, 11, 20, 100);
	assert_int_equal(dhcp_guard_admit(&g, NULL, 0, 0, 10, t + 9000), DHCP_GUARD_ADMIT);
	dhcp_guard_took(&g);
	assert_int_equal(g.free_now, 10);
	assert_int_equal(dhcp_guard_admit(&g, NULL, 0, 0, 10, t + 9000), DHCP_GUARD_RESERVE);
	assert_int_equal(g.refused_reserve, 1);
	/* reserve 0: down to the last address */
	g.free_now = 1;
	assert_int_equal(dhcp_guard_admit(&g, NULL, 0, 0, 0, t + 9000), DHCP_GUARD_ADMIT);
	/* took never goes below zero */
	g.free_now = 0;
	dhcp_guard_took(&g);
	assert_int_equal(g.free_now, 0);
}

static void
test_alarm(void **state)
{
	struct dhcp_guard g = { 0 };

	(void)state;
	assert_int_equal(dhcp_guard_count(&g, 100, 50, 20, 1000), DHCP_GUARD_QUIET);
	assert_int_equal(dhcp_guard_count(&g, 100, 20, 20, 1001), DHCP_GUARD_QUIET); /* 20 %: not below */
	assert_int_equal(dhcp_guard_count(&g, 100, 19, 20, 1002), DHCP_GUARD_LOW);
	assert_true(g.low);
	assert_int_equal(dhcp_guard_count(&g, 100, 5, 20, 1003), DHCP_GUARD_QUIET);
	assert_int_equal(dhcp_guard_count(&g, 100, 5, 20, 1002 + DHCP_GUARD_LOW_LOG_S),
	    DHCP_GUARD_STILL_LOW);
	assert_int_equal(dhcp_guard_count(&g, 100, 5, 20, 1003 + DHCP_GUARD_LOW_LOG_S),
	    DHCP_GUARD_QUIET);
	assert_int_equal(dhcp_guard_count(&g, 100, 40, 20, 2000), DHCP_GUARD_RECOVERED);
	assert_false(g.low);
	assert_int_equal(dhcp_guard_count(&g, 100, 40, 20, 2001), DHCP_GUARD_QUIET);
	/* 0 %: never; an empty pool rings nothing either */
	assert_int_equal(dhcp_guard_count(&g, 100, 0, 0, 3000), DHCP_GUARD_QUIET);
	assert_int_equal(dhcp_guard_count(&g, 0, 0, 20, 3001), DHCP_GUARD_QUIET);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_admit),
		cmocka_unit_test(test_alarm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the event bus (src/core/bus.c): events read in order
 * after any point, a reader that lags past the ring told of the gap,
 * publishers on several threads each numbered once, the notify hook,
 * events kept in the ring and allocated taking each other's slots, lost
 * events counted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/bus.h"
#include "core/stats.h"

static void
test_in_order(void **state)
{
	uint64_t first = bus_last(), gap;
	struct bus_event e;
	char text[32];

	(void)state;
	for (int i = 0; i < 10; i++) {
		int n = snprintf(text, sizeof text, "{\"i\":%d}", i);
		assert_int_equal(bus_publish("task", text, (size_t)n), first + (uint64_t)i + 1);
	}
	for (int i = 0; i < 10; i++) {
		assert_int_equal(bus_read(first + (uint64_t)i, &e, &gap), 1);
		assert_int_equal(e.seq, first + (uint64_t)i + 1);
		assert_string_equal(e.kind, "task");
		snprintf(text, sizeof text, "{\"i\":%d}", i);
		assert_string_equal(e.data, text);
		free(e.data);
	}
	assert_int_equal(bus_read(bus_last(), &e, &gap), 0);
}

static void
test_gap(void **state)
{
	uint64_t from = bus_last(), gap;
	struct bus_event e;

	(void)state;
	for (int i = 0; i < BUS_EVENTS + 5; i++)
		bus_publish("boot", "{}", 2);
	assert_int_equal(bus_read(from, &e, &gap), -1);
	assert_int_equal(gap, 5);
	assert_int_equal(e.seq, from + 6);      /* the oldest kept */
	free(e.data);
}

/* Small events live in the ring, others are allocated; each takes the
 * other's slot as the ring turns (ASan: nothing freed twice or leaked). */
static void
test_sizes(void **state)
{
	static const size_t sizes[] = { 2, BUS_SMALL - 1, BUS_SMALL, BUS_SMALL + 1, BUS_DATA_MAX };
	static char text[BUS_DATA_MAX + 1];
	uint64_t from, gap;
	struct bus_event e;

	(void)state;
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			size_t n = sizes[(i + (size_t)round) % (sizeof sizes / sizeof sizes[0])];
			memset(text, 'a' + (int)(n % 26), n);
			from = bus_last();
			assert_int_equal(bus_publish("task", text, n), from + 1);
			assert_int_equal(bus_read(from, &e, &gap), 1);
			assert_int_equal(e.len, n);
			assert_memory_equal(e.data, text, n);
			assert_int_equal(e.data[n], '\0');
			free(e.data);
		}
		for (int i = 0; i < BUS_EVENTS; i++)    /* around the ring */
			bus_publish("boot", text, (size_t)(i % 2 ? 3 : BUS_SMALL + 7));
	}
}

static void
test_lost(void **state)
{
	uint64_t lost = STATS_GET(api_events_lost), last = bus_last();

	(void)state;
	assert_int_equal(bus_publish("big", "x", BUS_DATA_MAX + 1), 0);
	assert_int_equal(STATS_GET(api_events_lost), lost + 1);
	bus_lost("task");
	assert_int_equal(STATS_GET(api_events_lost), lost + 2);
	assert_int_equal(bus_last(), last);
}

#define THREADS 4
#define EACH 5000

static void *
publisher(void *arg)
{
	(void)arg;
	for (int i = 0; i < EACH; i++)
		bus_publish("host", "{}", 2);
	return NULL;
}

static int notified;

static void
count_notify(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&notified, 1, __ATOMIC_RELAXED);
}

static void
test_threads(void **state)
{
	uint64_t from = bus_last();
	pthread_t t[THREADS];

	(void)state;
	bus_set_notify(count_notify, NULL);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, publisher, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	bus_set_notify(NULL, NULL);
	assert_int_equal(bus_last() - from, THREADS * EACH);
	assert_int_equal(notified, THREADS * EACH);
}

static void
test_boot_event(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 0x31 };
	uint64_t from = bus_last(), gap;
	struct bus_event e;

	(void)state;
	bus_publish_boot(mac, 6, "dhcp-offer", "192.0.2.9 \"quoted\" \xff", 1000);
	assert_int_equal(bus_read(from, &e, &gap), 1);
	assert_string_equal(e.kind, "boot");
	assert_string_equal(e.data, "{\"mac\":\"52:54:00:00:00:31\",\"kind\":\"dhcp-offer\","
	    "\"detail\":\"192.0.2.9 \\\"quoted\\\" \xef\xbf\xbd\",\"time_ms\":1000}");
	free(e.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_boot_event),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_lost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

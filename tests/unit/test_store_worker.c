/* DHCP's store worker (dhcp/store_worker.h) on SQLite and on PostgreSQL
 * (store_backends.h): batches committed and reported in order with the
 * rows in the database (also when many share commits), a batch with a failed write reported failed and
 * the next one committed, a conditional write lost to another server's
 * client reported with the holder, boot events written, stop drains the queue,
 * and the notify callback is called for each outcome. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/util.h"
#include "dhcp/store_worker.h"
#include "store/store.h"

#include "store_backends.h"

struct fixture {
	char where[TB_WHERE_MAX];
	struct store *st;               /* another connection, to read */
	struct store_worker *w;
};

static atomic_uint notified;

static void
count_notify(void *arg)
{
	(void)arg;
	atomic_fetch_add(&notified, 1);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	log_init("test_store_worker", true, LOG_LEVEL_WARN);
	tb_where_new(f->where, sizeof f->where, "worker");
	assert_int_equal(store_open(&f->st, f->where), 0);
	atomic_store(&notified, 0);
	assert_int_equal(store_worker_start(&f->w, f->where, false, "", count_notify, NULL), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = { "pxed.db", "pxed.db-wal", "pxed.db-shm" };

	store_worker_stop(f->w, 10000);
	assert_true(store_worker_free(f->w));
	store_close(f->st);
	tb_where_drop(f->where, names, ARRAY_SIZE(names));
	free(f);
	return 0;
}

static struct store_lease
lease_of(unsigned last, int64_t expires)
{
	struct store_lease l = { .mac_len = 6, .state = LEASE_BOUND, .starts = 1000,
		.expires = expires };
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xe0, 0x00, 0x00 };

	memcpy(l.mac, mac, sizeof mac);
	l.mac[5] = (uint8_t)last;
	l.address.s_addr = htonl(0xc0000200u | last);  /* 192.0.2.last */
	return l;
}

/* The next outcome, waiting up to 10 s for it. */
static struct store_outcome
next_outcome(struct store_worker *w)
{
	struct store_outcome o = { 0 };

	for (int i = 0; i < 1000; i++) {
		if (store_worker_take(w, &o))
			return o;
		usleep(10000);
	}
	fail_msg("no outcome within 10 s");
	return o;
}

static void
test_batches_in_order(void **state)
{
	struct fixture *f = *state;
	struct store_lease l, got;

	assert_false(store_worker_batch_open(f->w));
	for (unsigned i = 10; i < 13; i++) {
		l = lease_of(i, 5000 + i);
		assert_int_equal(store_worker_lease_put(f->w, &l), 0);
	}
	assert_true(store_worker_batch_open(f->w));
	int64_t b1 = store_worker_commit(f->w);
	assert_false(store_worker_batch_open(f->w));
	l = lease_of(20, 7000);
	assert_int_equal(store_worker_lease_put(f->w, &l), 0);
	int64_t b2 = store_worker_commit(f->w);
	assert_true(b1 > 0 && b2 == b1 + 1);
	struct store_outcome o = next_outcome(f->w);
	assert_int_equal(o.batch, b1);
	assert_true(o.committed);
	o = next_outcome(f->w);
	assert_int_equal(o.batch, b2);
	assert_true(o.committed);
	assert_true(atomic_load(&notified) >= 1);
	assert_true(store_worker_reachable(f->w));
	assert_int_equal(store_worker_waiting_ms(f->w), 0);
	/* what the outcome says is in the database, for another connection */
	assert_int_equal(store_lease_get(f->st, lease_of(11, 0).address, &got), 0);
	assert_int_equal(got.expires, 5011);
	assert_memory_equal(got.mac, lease_of(11, 0).mac, 6);
	assert_int_equal(store_lease_get(f->st, lease_of(20, 0).address, &got), 0);
	assert_int_equal(got.expires, 7000);
	/* a release is a write of the batch too (alone: the row goes) */
	struct store_lease rel = lease_of(20, 0);
	assert_int_equal(store_worker_lease_release(f->w, &rel), 0);
	int64_t b3 = store_worker_commit(f->w);
	o = next_outcome(f->w);
	assert_int_equal(o.batch, b3);
	assert_true(o.committed);
	assert_int_equal(store_lease_get(f->st, lease_of(20, 0).address, &got), -ENOENT);
}

/* Batches ended faster than the worker commits share commits (up to
 * STORE_WORKER_GROUP a transaction): each still gets its outcome, in
 * order, and its rows. */
/* Servers sharing the database: the second server's write of an address
 * the first one's client holds changes nothing, does not fail its batch
 * (the other write of it is committed), and is reported lost with the
 * holder's lease. */
static void
test_lost_write_reported(void **state)
{
	struct fixture *f = *state;
	struct store_worker *wa, *wb;
	struct store_lease mine = lease_of(30, 9000), theirs = lease_of(30, 9100), other, got;

	theirs.mac[4] = 0xee;                   /* another client, the same address */
	other = lease_of(31, 9200);
	assert_int_equal(store_worker_start(&wa, f->where, false, "a", count_notify, NULL), 0);
	assert_int_equal(store_worker_start(&wb, f->where, false, "b", count_notify, NULL), 0);
	assert_int_equal(store_worker_lease_put(wa, &mine), 0);
	int64_t ba = store_worker_commit(wa);
	assert_true(next_outcome(wa).committed);
	assert_int_equal(store_worker_lease_put(wb, &theirs), 0);
	assert_int_equal(store_worker_lease_put(wb, &other), 0);
	int64_t bb = store_worker_commit(wb);
	struct store_outcome o = next_outcome(wb);
	assert_int_equal(o.batch, bb);
	assert_true(o.committed);
	assert_false(store_worker_take_lost(wa, ba, &got));
	assert_false(store_worker_take_lost(wb, bb - 1, &got));  /* not an earlier batch's */
	assert_true(store_worker_take_lost(wb, bb, &got));
	assert_int_equal(got.address.s_addr, mine.address.s_addr);
	assert_int_equal(got.state, LEASE_BOUND);
	assert_memory_equal(got.mac, mine.mac, 6);
	assert_int_equal(got.expires, 9000);
	assert_false(store_worker_take_lost(wb, bb, &got));
	assert_int_equal(store_lease_get(f->st, mine.address, &got), 0);
	assert_memory_equal(got.mac, mine.mac, 6);
	assert_int_equal(store_lease_get(f->st, other.address, &got), 0);
	assert_int_equal(got.expires, 9200);
	store_worker_stop(wa, 10000);
	store_worker_stop(wb, 10000);
	assert_true(store_worker_free(wa));
	assert_true(store_worker_free(wb));
}

static void
test_many_batches(void **state)
{
	struct fixture *f = *state;
	struct store_lease l, got;
	int64_t first = 0;

	for (unsigned i = 0; i < 40; i++) {
		l = lease_of(100 + i, 6000 + i);
		assert_int_equal(store_worker_lease_put(f->w, &l), 0);
		int64_t b = store_worker_commit(f->w);
		if (i == 0)
			first = b;
		assert_int_equal(b, first + i);
	}
	for (unsigned i = 0; i < 40; i++) {
		struct store_outcome o = next_outcome(f->w);
		assert_int_equal(o.batch, first + i);
		assert_true(o.committed);
	}
	for (unsigned i = 0; i < 40; i++) {
		assert_int_equal(store_lease_get(f->st, lease_of(100 + i, 0).address, &got), 0);
		assert_int_equal(got.expires, 6000 + i);
	}
}

static void
test_failed_write_fails_its_batch(void **state)
{
	struct fixture *f = *state;
	struct store_lease good = lease_of(30, 9000), bad = lease_of(31, 9000), got;

	bad.mac_len = 17;               /* refused by store_lease_put */
	assert_int_equal(store_worker_lease_put(f->w, &good), 0);
	assert_int_equal(store_worker_lease_put(f->w, &bad), 0);
	int64_t b1 = store_worker_commit(f->w);
	struct store_outcome o = next_outcome(f->w);
	assert_int_equal(o.batch, b1);
	assert_false(o.committed);      /* its ACKs must not go */
	assert_true(store_worker_reachable(f->w));      /* the database answered */
	good = lease_of(32, 9100);
	assert_int_equal(store_worker_lease_put(f->w, &good), 0);
	int64_t b2 = store_worker_commit(f->w);
	o = next_outcome(f->w);
	assert_int_equal(o.batch, b2);
	assert_true(o.committed);
	assert_int_equal(store_lease_get(f->st, good.address, &got), 0);
}

static void
test_stop_drains_and_events(void **state)
{
	struct fixture *f = *state;
	struct store_event ev[4];
	struct store_lease l = lease_of(40, 8000), got;
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xe0, 0x00, 0x40 };
	struct store_outcome o;

	assert_int_equal(store_worker_event(f->w, mac, 6, "dhcp-ack", "192.0.2.40", "", 1234),
	    0);
	assert_int_equal(store_worker_lease_put(f->w, &l), 0);
	int64_t b = store_worker_commit(f->w);
	store_worker_stop(f->w, 10000);
	/* taken after the stop: written before the thread ended */
	assert_true(store_worker_take(f->w, &o));
	assert_int_equal(o.batch, b);
	assert_true(o.committed);
	assert_int_equal(store_lease_get(f->st, l.address, &got), 0);
	assert_int_equal(store_event_list(f->st, mac, 6, ev, 4), 1);
	assert_string_equal(ev[0].kind, "dhcp-ack");
	assert_string_equal(ev[0].detail, "192.0.2.40");
	unsigned before = atomic_load(&notified);
	store_worker_stop(f->w, 10000);         /* again: nothing */
	assert_int_equal(atomic_load(&notified), before);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batches_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_write_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_fails_its_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_drains_and_events, setup, teardown),
	};

	return tb_run_both("test_store_worker", tests, ARRAY_SIZE(tests));
}

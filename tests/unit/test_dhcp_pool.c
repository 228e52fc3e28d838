/* Address pools: offers, bindings, reservations, release, decline, expiry,
 * and the client index under churn. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dhcp/pool.h"
#include "dhcp/split.h"

#define NET 0xc0000200u                 /* 192.0.2.0 */

static void
mac_of(uint8_t mac[6], unsigned n)
{
	uint8_t m[6] = { 0x52, 0x54, 0, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	memcpy(mac, m, 6);
}

static void
setup_pool(struct pool *p)
{
	assert_int_equal(pool_init(p, NET + 1, NET + 254), 0);
	pool_add_range(p, NET + 100, NET + 109);        /* 10 addresses */
	pool_exclude(p, NET + 105, NET + 105);
}

static void
test_offer_then_bind(void **state)
{
	struct pool p;
	uint8_t mac[6];

	(void)state;
	setup_pool(&p);
	mac_of(mac, 1);
	struct pool_slot *s = pool_offer(&p, mac, 6, mac, 6, 0, 0, 1000);
	assert_non_null(s);
	uint32_t a = pool_slot_addr(&p, s);
	assert_true(a >= NET + 100 && a <= NET + 109 && a != NET + 105);
	assert_int_equal(s->state, SLOT_OFFERED);
	/* the same client asking again gets the same address */
	assert_ptr_equal(pool_offer(&p, mac, 6, mac, 6, 0, 0, 1001), s);
	assert_int_equal(pool_bind(&p, a, mac, 6, mac, 6, false, 1002, 1002 + 3600), 0);
	assert_int_equal(s->state, SLOT_BOUND);
	assert_ptr_equal(pool_find_client(&p, mac, 6, 2000), s);
	assert_null(pool_find_client(&p, mac, 6, 1002 + 3600));        /* expired */
	pool_free(&p);
}

static void
test_requested_address_and_conflicts(void **state)
{
	struct pool p;
	uint8_t a_mac[6], b_mac[6];

	(void)state;
	setup_pool(&p);
	mac_of(a_mac, 1);
	mac_of(b_mac, 2);
	struct pool_slot *s = pool_offer(&p, a_mac, 6, a_mac, 6, 0, NET + 107, 10);
	assert_int_equal(pool_slot_addr(&p, s), NET + 107);
	/* B asks for the same: gets another one */
	struct pool_slot *t = pool_offer(&p, b_mac, 6, b_mac, 6, 0, NET + 107, 11);
	assert_int_not_equal(pool_slot_addr(&p, t), NET + 107);
	/* B cannot bind A's offered address; excluded and outside are refused */
	assert_int_equal(pool_bind(&p, NET + 107, b_mac, 6, b_mac, 6, false, 12, 100), -EBUSY);
	assert_int_equal(pool_bind(&p, NET + 105, b_mac, 6, b_mac, 6, false, 12, 100), -EINVAL);
	assert_int_equal(pool_bind(&p, NET + 50, b_mac, 6, b_mac, 6, false, 12, 100), -EINVAL);
	/* a reservation may be outside the range */
	assert_int_equal(pool_bind(&p, NET + 50, b_mac, 6, b_mac, 6, true, 12, 100), 0);
	/* an offer expires: then B may take it */
	assert_int_equal(pool_bind(&p, NET + 107, b_mac, 6, b_mac, 6, false,
	    10 + POOL_OFFER_HOLD_S, 1000), 0);
	pool_free(&p);
}

static void
test_exhaustion_and_reuse(void **state)
{
	struct pool p;
	uint8_t mac[6];

	(void)state;
	setup_pool(&p);
	for (unsigned i = 0; i < 9; i++) {
		mac_of(mac, i);
		struct pool_slot *s = pool_offer(&p, mac, 6, mac, 6, 0, 0, 100);
		assert_non_null(s);
		assert_int_equal(pool_bind(&p, pool_slot_addr(&p, s), mac, 6, mac, 6, false, 100,
		    200), 0);
	}
	mac_of(mac, 99);
	assert_null(pool_offer(&p, mac, 6, mac, 6, 0, 0, 150));        /* 9 usable: full */
	/* release one: it is free again */
	mac_of(mac, 3);
	struct pool_slot *s3 = pool_find_client(&p, mac, 6, 150);
	uint32_t a3 = pool_slot_addr(&p, s3);
	assert_int_equal(pool_release(&p, a3, mac, 6, 150), 0);
	mac_of(mac, 99);
	struct pool_slot *s = pool_offer(&p, mac, 6, mac, 6, 0, 0, 151);
	assert_non_null(s);
	assert_int_equal(pool_slot_addr(&p, s), a3);
	/* after the leases expire everything is free */
	struct pool_counts c;
	pool_count(&p, 10000, &c);
	assert_int_equal(c.free_count, 9);
	pool_free(&p);
}

static void
test_decline_quarantines(void **state)
{
	struct pool p;
	uint8_t a_mac[6], b_mac[6];

	(void)state;
	setup_pool(&p);
	mac_of(a_mac, 1);
	mac_of(b_mac, 2);
	struct pool_slot *s = pool_offer(&p, a_mac, 6, a_mac, 6, 0, NET + 100, 10);
	assert_int_equal(pool_slot_addr(&p, s), NET + 100);
	assert_int_equal(pool_bind(&p, NET + 100, a_mac, 6, a_mac, 6, false, 10, 1000), 0);
	assert_int_equal(pool_decline(&p, NET + 100, a_mac, 6, 20), 0);
	assert_int_equal(pool_decline(&p, NET + 100, a_mac, 6, 20), -ENOENT);
	/* nobody gets it during the quarantine, even when asking for it */
	struct pool_slot *t = pool_offer(&p, b_mac, 6, b_mac, 6, 0, NET + 100, 30);
	assert_int_not_equal(pool_slot_addr(&p, t), NET + 100);
	struct pool_counts c;
	pool_count(&p, 30, &c);
	assert_int_equal(c.declined, 1);
	/* after it, it is usable again */
	assert_int_equal(pool_bind(&p, NET + 100, b_mac, 6, b_mac, 6, false,
	    20 + POOL_DECLINE_HOLD_S, 99999), 0);
	pool_free(&p);
}

static void
test_release_by_other_refused(void **state)
{
	struct pool p;
	uint8_t a_mac[6], b_mac[6];

	(void)state;
	setup_pool(&p);
	mac_of(a_mac, 1);
	mac_of(b_mac, 2);
	assert_int_equal(pool_bind(&p, NET + 101, a_mac, 6, a_mac, 6, false, 1, 1000), 0);
	assert_int_equal(pool_release(&p, NET + 101, b_mac, 6, 2), -ENOENT);
	assert_true(pool_taken_by_other(&p, NET + 101, b_mac, 6, 2));
	assert_false(pool_taken_by_other(&p, NET + 101, a_mac, 6, 2));
	pool_free(&p);
}

static void
test_client_moves_address(void **state)
{
	struct pool p;
	uint8_t mac[6];

	(void)state;
	setup_pool(&p);
	mac_of(mac, 7);
	assert_int_equal(pool_bind(&p, NET + 101, mac, 6, mac, 6, false, 1, 1000), 0);
	/* binding another address moves the client: one slot per client */
	assert_int_equal(pool_bind(&p, NET + 102, mac, 6, mac, 6, false, 2, 1000), 0);
	assert_int_equal(pool_slot(&p, NET + 101)->state, SLOT_FREE);
	assert_int_equal(pool_slot_addr(&p, pool_find_client(&p, mac, 6, 3)), NET + 102);
	pool_free(&p);
}

/* Many clients coming and going must keep the hash index consistent. */
/* A reload: live slots of the old pool restored in a new one whose range
 * moved: a binding and an offer that still fit keep their client (found by
 * key), one outside the new range or excluded is refused, a quarantine
 * stays, a slot live for another client is not taken. */
static void
test_restore_into_new_pool(void **state)
{
	struct pool old, fresh;
	uint8_t m1[6], m2[6], m3[6];

	(void)state;
	setup_pool(&old);
	mac_of(m1, 1);
	mac_of(m2, 2);
	mac_of(m3, 3);
	assert_int_equal(pool_bind(&old, NET + 100, m1, 6, m1, 6, false, 1000, 9000), 0);
	assert_non_null(pool_offer(&old, m2, 6, m2, 6, 0, NET + 108, 1000));
	assert_int_equal(pool_bind(&old, NET + 101, m3, 6, m3, 6, false, 1000, 9000), 0);
	assert_int_equal(pool_decline(&old, NET + 101, m3, 6, 1000), 0);
	assert_int_equal(pool_init(&fresh, NET + 1, NET + 254), 0);
	pool_add_range(&fresh, NET + 100, NET + 104);   /* 108 no longer leasable */
	assert_int_equal(pool_restore(&fresh, NET + 100, pool_slot(&old, NET + 100), false, 1500), 0);
	assert_int_equal(pool_restore(&fresh, NET + 108, pool_slot(&old, NET + 108), false, 1500),
	    -EINVAL);
	assert_int_equal(pool_restore(&fresh, NET + 108, pool_slot(&old, NET + 108), true, 1500), 0);
	assert_int_equal(pool_restore(&fresh, NET + 101, pool_slot(&old, NET + 101), false, 1500), 0);
	assert_int_equal(pool_slot(&fresh, NET + 101)->state, SLOT_DECLINED);
	struct pool_slot *s = pool_find_client(&fresh, m1, 6, 2000);
	assert_non_null(s);
	assert_int_equal(pool_slot_addr(&fresh, s), NET + 100);
	assert_int_equal(s->expires, 9000);
	/* live for m1: m2's old slot cannot land on it */
	assert_int_equal(pool_restore(&fresh, NET + 100, pool_slot(&old, NET + 108), false, 1500),
	    -EBUSY);
	/* a fresh offer does not hand out the restored or quarantined addresses */
	uint8_t m4[6];
	mac_of(m4, 4);
	struct pool_slot *o = pool_offer(&fresh, m4, 6, m4, 6, 0, 0, 1600);
	assert_non_null(o);
	assert_true(pool_slot_addr(&fresh, o) >= NET + 102);
	pool_free(&old);
	pool_free(&fresh);
}

static void
test_index_churn(void **state)
{
	struct pool p;
	uint8_t mac[6];

	(void)state;
	assert_int_equal(pool_init(&p, 0x0a000001u, 0x0a00fffeu), 0);  /* /16 */
	pool_add_range(&p, 0x0a000001u, 0x0a00fffeu);
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 20000; i++) {
			mac_of(mac, i);
			struct pool_slot *s = pool_offer(&p, mac, 6, mac, 6, 0, 0, 10);
			assert_non_null(s);
			assert_int_equal(pool_bind(&p, pool_slot_addr(&p, s), mac, 6, mac, 6, false,
			    10, 100000), 0);
		}
		for (unsigned i = round; i < 20000; i += 3) {
			mac_of(mac, i);
			struct pool_slot *s = pool_find_client(&p, mac, 6, 20);
			assert_non_null(s);
			assert_int_equal(pool_release(&p, pool_slot_addr(&p, s), mac, 6, 20), 0);
			assert_null(pool_find_client(&p, mac, 6, 20));
		}
	}
	for (unsigned i = 0; i < 20000; i++) {
		mac_of(mac, i);
		struct pool_slot *s = pool_find_client(&p, mac, 6, 30);
		if (s != NULL)
			assert_memory_equal(s->mac, mac, 6);
	}
	pool_free(&p);
	assert_int_equal(pool_init(&p, 1, 70000), -ERANGE);
}

/* Servers sharing a database: a free address is picked from the preferred
 * buckets first, any other when those are taken. */
static void
test_prefer_buckets(void **state)
{
	struct pool p;
	bool prefer[SPLIT_BUCKETS] = { false };
	uint8_t mac[6];
	unsigned preferred = 0, got_preferred = 0;

	(void)state;
	setup_pool(&p);
	for (uint32_t a = NET + 100; a <= NET + 109; a++)
		if (a != NET + 105 && (a & 1) == 0) {
			prefer[split_addr_bucket(a)] = true;
			preferred++;
		}
	assert_true(preferred >= 2);
	p.prefer = prefer;
	for (unsigned i = 0; i < 9; i++) {
		mac_of(mac, i);
		struct pool_slot *s = pool_offer(&p, mac, 6, mac, 6, 0, 0, 1000);
		assert_non_null(s);
		bool pref = prefer[split_addr_bucket(pool_slot_addr(&p, s))];
		if (i < preferred)
			assert_true(pref);      /* the preferred ones first */
		got_preferred += pref;
	}
	assert_int_equal(got_preferred, preferred);     /* then the others: all 9 given */
	mac_of(mac, 99);
	assert_null(pool_offer(&p, mac, 6, mac, 6, 0, 0, 1000));
	pool_free(&p);
}

/* Another server's lease replaces whatever the slot held here, and the
 * client's other slot goes. */
static void
test_learn(void **state)
{
	struct pool p;
	uint8_t a[6], b[6];

	(void)state;
	setup_pool(&p);
	mac_of(a, 1);
	mac_of(b, 2);
	assert_int_equal(pool_bind(&p, NET + 100, a, 6, a, 6, false, 1000, 2000), 0);
	assert_int_equal(pool_bind(&p, NET + 101, b, 6, b, 6, false, 1000, 2000), 0);
	assert_int_equal(pool_learn(&p, NET + 100, b, 6, b, 6, 3000), 0);
	assert_true(pool_taken_by_other(&p, NET + 100, a, 6, 1500));
	struct pool_slot *s = pool_find_client(&p, b, 6, 1500);
	assert_non_null(s);
	assert_int_equal(pool_slot_addr(&p, s), NET + 100);
	assert_int_equal(s->expires, 3000);
	assert_null(pool_find_client(&p, a, 6, 1500));
	assert_false(pool_taken_by_other(&p, NET + 101, a, 6, 1500));
	assert_int_equal(pool_learn(&p, NET + 300, b, 6, b, 6, 3000), -EINVAL);
	pool_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer_then_bind),
		cmocka_unit_test(test_requested_address_and_conflicts),
		cmocka_unit_test(test_exhaustion_and_reuse),
		cmocka_unit_test(test_decline_quarantines),
		cmocka_unit_test(test_release_by_other_refused),
		cmocka_unit_test(test_client_moves_address),
		cmocka_unit_test(test_index_churn),
		cmocka_unit_test(test_restore_into_new_pool),
		cmocka_unit_test(test_prefer_buckets),
		cmocka_unit_test(test_learn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

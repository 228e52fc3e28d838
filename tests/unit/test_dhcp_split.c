/* The RFC 3074 buckets and their owners (dhcp/split.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/util.h"
#include "dhcp/split.h"

/* The hash of one byte key k is T[1 ^ k]: over every k, each value once
 * (the RFC's table is a permutation of 0..255). */
static void
test_table_is_permutation(void **state)
{
	unsigned seen[256] = { 0 };

	(void)state;
	for (unsigned k = 0; k < 256; k++) {
		uint8_t b = (uint8_t)k;
		seen[split_hash(&b, 1)]++;
	}
	for (unsigned v = 0; v < 256; v++)
		assert_int_equal(seen[v], 1);
}

/* The RFC's table and code: T[len ^ last byte], then back to the first.
 * Hand-computed from the table: for key {0x00}: T[1] = 175; for the key
 * {0x00, 0x00}: T[T[2] ^ 0] = T[119] = 150. */
static void
test_known_values(void **state)
{
	const uint8_t one[1] = { 0 }, two[2] = { 0, 0 };

	(void)state;
	assert_int_equal(split_hash(one, 1), 175);
	assert_int_equal(split_hash(two, 2), 150);
}

/* 6-byte MACs spread over the buckets: 25600 sequential MACs, no bucket
 * with fewer than half or more than twice the mean. */
static void
test_macs_spread(void **state)
{
	unsigned count[SPLIT_BUCKETS] = { 0 };

	(void)state;
	for (unsigned i = 0; i < 100 * SPLIT_BUCKETS; i++) {
		uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, (uint8_t)(i >> 8), (uint8_t)i };
		count[split_hash(mac, sizeof mac)]++;
	}
	for (unsigned b = 0; b < SPLIT_BUCKETS; b++) {
		assert_true(count[b] >= 50);
		assert_true(count[b] <= 200);
	}
}

static void
owners_of(const char *const *list, size_t n, uint8_t owner[SPLIT_BUCKETS],
    char (*names)[SPLIT_NAME_MAX])
{
	for (size_t i = 0; i < n; i++)
		str_copy(names[i], list[i], SPLIT_NAME_MAX);
	split_owners((const char (*)[SPLIT_NAME_MAX])names, n, owner);
}

/* Three servers each get a fair share; when one leaves only its buckets
 * move (to both others); when it comes back it has the same ones again;
 * the order of the list does not matter. */
static void
test_owners(void **state)
{
	static const char *const abc[] = { "pxe-a", "pxe-b", "pxe-c" };
	static const char *const cab[] = { "pxe-c", "pxe-a", "pxe-b" };
	static const char *const ac[] = { "pxe-a", "pxe-c" };
	char names[3][SPLIT_NAME_MAX], n2[3][SPLIT_NAME_MAX];
	uint8_t three[SPLIT_BUCKETS], two[SPLIT_BUCKETS], again[SPLIT_BUCKETS];
	unsigned share[3] = { 0 }, to_a = 0, to_c = 0;

	(void)state;
	owners_of(abc, 3, three, names);
	for (unsigned b = 0; b < SPLIT_BUCKETS; b++)
		share[three[b]]++;
	for (unsigned i = 0; i < 3; i++) {
		assert_true(share[i] >= 50);
		assert_true(share[i] <= 120);
	}
	owners_of(ac, 2, two, n2);
	for (unsigned b = 0; b < SPLIT_BUCKETS; b++) {
		const char *before = names[three[b]], *after = n2[two[b]];
		if (strcmp(before, "pxe-b") != 0) {
			assert_string_equal(before, after);     /* only b's moved */
		} else {
			to_a += strcmp(after, "pxe-a") == 0;
			to_c += strcmp(after, "pxe-c") == 0;
		}
	}
	assert_int_equal(to_a + to_c, share[1]);
	assert_true(to_a > 0);
	assert_true(to_c > 0);
	owners_of(cab, 3, again, n2);
	for (unsigned b = 0; b < SPLIT_BUCKETS; b++)
		assert_string_equal(names[three[b]], n2[again[b]]);
}

static void
test_one_or_none(void **state)
{
	static const char *const one[] = { "alone" };
	char names[1][SPLIT_NAME_MAX];
	uint8_t owner[SPLIT_BUCKETS];

	(void)state;
	owners_of(one, 1, owner, names);
	for (unsigned b = 0; b < SPLIT_BUCKETS; b++)
		assert_int_equal(owner[b], 0);
	split_owners(NULL, 0, owner);
	for (unsigned b = 0; b < SPLIT_BUCKETS; b++)
		assert_int_equal(owner[b], 0);
}

/* A subnet's key: its network and prefix length. */
static void
test_subnet_key(void **state)
{
	char key[SPLIT_KEY_MAX];

	(void)state;
	split_subnet_key(0xc0000200u, 0xffffff00u, key);
	assert_string_equal(key, "192.0.2.0/24");
	split_subnet_key(0xc6336480u, 0xffffff80u, key);
	assert_string_equal(key, "198.51.100.128/25");
	split_subnet_key(0xffffffffu, 0xffffffffu, key);
	assert_string_equal(key, "255.255.255.255/32");
	split_subnet_key(0, 0, key);
	assert_string_equal(key, "0.0.0.0/0");
}

/* A list names a subnet only as a whole word. */
static void
test_lists(void **state)
{
	(void)state;
	assert_true(split_lists("192.0.2.0/24", "192.0.2.0/24"));
	assert_true(split_lists("10.0.0.0/8 192.0.2.0/24", "192.0.2.0/24"));
	assert_true(split_lists("192.0.2.0/24 10.0.0.0/8", "192.0.2.0/24"));
	assert_false(split_lists("192.0.2.0/25", "192.0.2.0/2"));
	assert_false(split_lists("192.0.2.0/24", "92.0.2.0/24"));
	assert_false(split_lists("1.192.0.2.0/24", "192.0.2.0/24"));
	assert_false(split_lists("", "192.0.2.0/24"));
	assert_false(split_lists("192.0.2.0/24", ""));
}

/* Per subnet: the servers publishing it split its buckets (each bucket
 * one owner's, the same as split_owners among them); a server that does
 * not publish it, or publishes nothing, takes none; self alone has all;
 * self counts even when its heartbeat was not read. */
static void
test_subnet_mine(void **state)
{
	static const char *const who[] = { "pxe-a", "pxe-b", "pxe-c", "pxe-d", "pxe-p" };
	const char *lists[] = { "192.0.2.0/24", "192.0.2.0/24 10.0.0.0/8", "192.0.2.0/24",
		"198.51.100.0/24", "" };
	char names[5][SPLIT_NAME_MAX], abc[3][SPLIT_NAME_MAX];
	bool mine[3][SPLIT_BUCKETS], d[SPLIT_BUCKETS], p[SPLIT_BUCKETS];
	uint8_t owner[SPLIT_BUCKETS];

	(void)state;
	for (size_t i = 0; i < 5; i++)
		str_copy(names[i], who[i], SPLIT_NAME_MAX);
	owners_of(who, 3, owner, abc);
	for (size_t s = 0; s < 3; s++)
		assert_int_equal(split_subnet_mine((const char (*)[SPLIT_NAME_MAX])names, lists, 5,
		    who[s], "192.0.2.0/24", mine[s]), 3);
	for (unsigned b = 0; b < SPLIT_BUCKETS; b++) {
		assert_int_equal(mine[0][b] + mine[1][b] + mine[2][b], 1);
		assert_true(mine[owner[b]][b]);
	}
	/* D gives addresses on another subnet: all of them its own */
	assert_int_equal(split_subnet_mine((const char (*)[SPLIT_NAME_MAX])names, lists, 5,
	    "pxe-d", "198.51.100.0/24", d), 1);
	for (unsigned b = 0; b < SPLIT_BUCKETS; b++)
		assert_true(d[b]);
	/* only B on 10.0.0.0/8 */
	assert_int_equal(split_subnet_mine((const char (*)[SPLIT_NAME_MAX])names, lists, 5,
	    "pxe-b", "10.0.0.0/8", d), 1);
	/* self not in the list read (its heartbeat lost): counted */
	assert_int_equal(split_subnet_mine((const char (*)[SPLIT_NAME_MAX])names + 1, lists + 1, 4,
	    "pxe-a", "192.0.2.0/24", p), 3);
	for (unsigned b = 0; b < SPLIT_BUCKETS; b++)
		assert_int_equal(p[b], mine[0][b]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_is_permutation),
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_macs_spread),
		cmocka_unit_test(test_owners),
		cmocka_unit_test(test_one_or_none),
		cmocka_unit_test(test_subnet_key),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_subnet_mine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_is_permutation),
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_macs_spread),
		cmocka_unit_test(test_owners),
		cmocka_unit_test(test_one_or_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

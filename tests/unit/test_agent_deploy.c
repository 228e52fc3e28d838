/* Unit tests for pxe-agent's deploy bookkeeping: which chunks a resumed
 * deploy skips, and the resume offset (every chunk below it written) as
 * chunks complete out of order.  The agent is not in libpxed: its
 * curl-free source is compiled in here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "agent/resume.c"

static const struct image_chunk chunks[] = {
	{ .offset = 0, .length = 512, .table = true },
	{ .offset = 1024, .length = 1024 },
	{ .offset = 4096, .length = 4096 },
	{ .offset = 8192, .length = 100 },
	{ .offset = 65536, .length = 4096 },
	{ .offset = 1 << 20, .length = 512, .table = true },
};
#define N (sizeof chunks / sizeof chunks[0])

static void
test_resume_fresh(void **state)
{
	struct resume r;

	(void)state;
	assert_int_equal(resume_init(&r, chunks, N, 0), 0);
	for (size_t i = 0; i < N; i++)
		assert_false(resume_is_done(&r, i));
	assert_int_equal(resume_offset(&r), 0);
	assert_int_equal(r.bytes_done, 0);
	/* the backup table at the end, written first, moves nothing */
	resume_mark(&r, 5);
	assert_int_equal(resume_offset(&r), 0);
	resume_mark(&r, 0);
	assert_int_equal(resume_offset(&r), 1024);
	/* out of order: 3 before 1 and 2 */
	resume_mark(&r, 3);
	assert_int_equal(resume_offset(&r), 1024);
	resume_mark(&r, 2);
	assert_int_equal(resume_offset(&r), 1024);
	resume_mark(&r, 1);
	assert_int_equal(resume_offset(&r), 65536);
	resume_mark(&r, 1);                     /* twice counts once */
	assert_int_equal(r.bytes_done, 512 + 512 + 1024 + 4096 + 100);
	resume_mark(&r, 4);
	assert_int_equal(resume_offset(&r), (1 << 20) + 512);
	assert_int_equal(r.bytes_done, 512 + 512 + 1024 + 4096 + 100 + 4096);
	resume_mark(&r, N + 3);                 /* out of range: ignored */
	resume_free(&r);
}

static void
test_resume_from_offset(void **state)
{
	static const struct {
		uint64_t from;
		size_t skipped;                 /* the first chunks done */
		uint64_t offset;
	} cases[] = {
		{ 0, 0, 0 },
		{ 511, 0, 0 },                  /* inside chunk 0: rewritten */
		{ 512, 1, 1024 },
		{ 1024, 1, 1024 },
		{ 2048, 2, 4096 },
		{ 8000, 2, 4096 },
		{ 8292, 4, 65536 },
		{ 1 << 20, 5, 1 << 20 },
		{ UINT64_MAX, 6, (1 << 20) + 512 },
	};

	(void)state;
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct resume r;
		assert_int_equal(resume_init(&r, chunks, N, cases[c].from), 0);
		for (size_t i = 0; i < N; i++)
			assert_int_equal(resume_is_done(&r, i), i < cases[c].skipped);
		if (resume_offset(&r) != cases[c].offset)
			fail_msg("from %llu: offset %llu, want %llu",
			    (unsigned long long)cases[c].from,
			    (unsigned long long)resume_offset(&r),
			    (unsigned long long)cases[c].offset);
		resume_free(&r);
	}
}

static void
test_resume_empty(void **state)
{
	struct resume r;

	(void)state;
	assert_int_equal(resume_init(&r, NULL, 0, 12345), 0);
	assert_int_equal(resume_offset(&r), 0);
	assert_false(resume_is_done(&r, 0));
	resume_free(&r);
}

/* Many chunks completed in a shuffled order: the offset never passes an
 * open chunk and ends at the end of the last. */
static void
test_resume_shuffled(void **state)
{
	enum { COUNT = 2000 };
	struct image_chunk *c = calloc(COUNT, sizeof *c);
	size_t order[COUNT];
	uint64_t seed = 7, prev = 0;
	struct resume r;

	(void)state;
	for (size_t i = 0; i < COUNT; i++) {
		c[i] = (struct image_chunk){ .offset = i * 8192 + 512, .length = 4096 };
		order[i] = i;
	}
	for (size_t i = COUNT - 1; i > 0; i--) {
		seed = seed * 6364136223846793005ull + 1;
		size_t j = (size_t)(seed >> 33) % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	assert_int_equal(resume_init(&r, c, COUNT, 0), 0);
	for (size_t k = 0; k < COUNT; k++) {
		uint64_t off;
		resume_mark(&r, order[k]);
		off = resume_offset(&r);
		assert_true(off >= prev);
		for (size_t i = 0; i < COUNT && c[i].offset + c[i].length <= off; i++)
			assert_true(resume_is_done(&r, i));
		prev = off;
	}
	assert_int_equal(prev, (COUNT - 1) * 8192 + 512 + 4096);
	assert_int_equal(r.bytes_done, COUNT * 4096ull);
	resume_free(&r);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resume_fresh),
		cmocka_unit_test(test_resume_from_offset),
		cmocka_unit_test(test_resume_empty),
		cmocka_unit_test(test_resume_shuffled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for image_target_plan (src/image/target.c): hand-made
 * manifests (GPT, MBR, a whole-disk filesystem) deployed to larger and
 * smaller disks: which chunks are the GPT's backup and primary, whether
 * the image fits, and what the refusal says. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "core/util.h"
#include "image/target.h"

#define MiB             (1024ull * 1024)
#define GPT_HEAD        17408ull        /* MBR, header, 32 sectors of entries */
#define GPT_TAIL        16896ull        /* 32 sectors of entries, header */
#define PART2_END       (230 * MiB)

/* A 256 MiB GPT disk: ext in 1..128 MiB, NTFS in 128..230 MiB, free space
 * up to the backup table. */
static struct image_chunk gpt_chunks[] = {
	{ .offset = 0, .length = GPT_HEAD, .table = true },
	{ .offset = 1 * MiB, .length = 4 * MiB },
	{ .offset = 200 * MiB, .length = 65536 },
	{ .offset = 256 * MiB - GPT_TAIL, .length = GPT_TAIL, .table = true },
};

static void
gpt_manifest(struct manifest *m)
{
	memset(m, 0, sizeof *m);
	m->disk_size = 256 * MiB;
	m->sector_size = 512;
	m->table = PTABLE_GPT;
	m->part[0] = (struct image_part){ .index = 1, .offset = 1 * MiB, .length = 127 * MiB };
	m->part[1] = (struct image_part){ .index = 2, .offset = 128 * MiB,
		.length = PART2_END - 128 * MiB };
	m->nparts = 2;
	m->chunk = gpt_chunks;
	m->nchunks = ARRAY_SIZE(gpt_chunks);
}

struct target_case {
	uint64_t size;
	int rc;
	bool relocate;
	const char *says;               /* in the message when refused */
};

static void
run_cases(const struct manifest *m, const struct target_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct image_target t;
		char err[400] = "";
		int rc = image_target_plan(m, c[i].size, &t, err, sizeof err);

		if (rc != c[i].rc || (rc == 0 && t.relocate != c[i].relocate))
			fail_msg("%llu bytes: rc %d relocate %d (%s)",
			    (unsigned long long)c[i].size, rc, t.relocate, err);
		if (rc != 0 && strstr(err, c[i].says) == NULL)
			fail_msg("%llu bytes: \"%s\" lacks \"%s\"",
			    (unsigned long long)c[i].size, err, c[i].says);
	}
}

static void
test_target_gpt_sizes(void **state)
{
	static const struct target_case cases[] = {
		{ 256 * MiB, 0, false, NULL },
		{ 256 * MiB + 511, 0, false, NULL },            /* same sectors */
		{ 1280 * MiB, 0, true, NULL },
		{ 256 * MiB + 512, 0, true, NULL },
		{ 240 * MiB, 0, true, NULL },
		{ PART2_END + GPT_TAIL, 0, true, NULL },        /* just fits */
		{ PART2_END + GPT_TAIL + 511, 0, true, NULL },
		{ PART2_END + GPT_TAIL - 1, -ENOSPC, true,
		    "partition 2 ends at byte 241172480 and the backup GPT needs "
		    "16896 bytes after it, so the disk needs 241189376 bytes; it has "
		    "241189375 (the image is of a 268435456-byte disk)" },
		{ 64 * MiB, -ENOSPC, true, "disk too small: partition 2" },
		{ 0, -ENOSPC, true, "partition 2" },
	};
	struct manifest m;
	struct image_target t;

	(void)state;
	gpt_manifest(&m);
	run_cases(&m, cases, ARRAY_SIZE(cases));
	assert_int_equal(image_target_plan(&m, 1280 * MiB, &t, NULL, 0), 0);
	assert_int_equal(t.head_count, 1);
	assert_int_equal(t.head_bytes, GPT_HEAD);
	assert_int_equal(t.backup_first, 3);
	assert_int_equal(t.backup_count, 1);
	assert_int_equal(t.backup_bytes, GPT_TAIL);
	assert_true(image_target_is_backup(&t, 3));
	assert_false(image_target_is_backup(&t, 0));
	assert_false(image_target_is_backup(&t, 2));
	assert_false(image_target_is_backup(&t, 4));
	assert_true(image_target_is_rewritten(&t, 0));
	assert_false(image_target_is_rewritten(&t, 1));
	assert_true(image_target_is_rewritten(&t, 3));
	/* the same size: nothing is relocated, nothing rewritten */
	assert_int_equal(image_target_plan(&m, 256 * MiB, &t, NULL, 0), 0);
	assert_false(image_target_is_backup(&t, 3));
	assert_false(image_target_is_rewritten(&t, 0));
}

/* Data in the free space after the last partition must fit too. */
static void
test_target_gpt_data_after_parts(void **state)
{
	static struct image_chunk chunks[] = {
		{ .offset = 0, .length = GPT_HEAD, .table = true },
		{ .offset = 240 * MiB, .length = 4096 },
		{ .offset = 256 * MiB - GPT_TAIL, .length = GPT_TAIL, .table = true },
	};
	static const struct target_case cases[] = {
		{ 240 * MiB + 4096 + GPT_TAIL, 0, true, NULL },
		{ 236 * MiB, -ENOSPC, true, "the data at byte 251658240 ends at byte 251662336" },
	};
	struct manifest m;

	(void)state;
	gpt_manifest(&m);
	m.chunk = chunks;
	m.nchunks = ARRAY_SIZE(chunks);
	run_cases(&m, cases, ARRAY_SIZE(cases));
}

/* A backup table that crosses a multiple of the chunk size is two chunks. */
static void
test_target_gpt_split_backup(void **state)
{
	static struct image_chunk chunks[] = {
		{ .offset = 0, .length = GPT_HEAD, .table = true },
		{ .offset = 1 * MiB, .length = 4096 },
		{ .offset = 256 * MiB - 8704, .length = 8704, .table = true },
		{ .offset = 256 * MiB, .length = 8192, .table = true },
	};
	struct manifest m;
	struct image_target t;

	(void)state;
	gpt_manifest(&m);
	m.disk_size = 256 * MiB + 8192;
	m.chunk = chunks;
	m.nchunks = ARRAY_SIZE(chunks);
	assert_int_equal(image_target_plan(&m, 512 * MiB, &t, NULL, 0), 0);
	assert_true(t.relocate);
	assert_int_equal(t.backup_first, 2);
	assert_int_equal(t.backup_count, 2);
	assert_int_equal(t.backup_bytes, GPT_TAIL);
	assert_false(image_target_is_backup(&t, 1));
}

/* A tiny GPT whose head and tail are one chunk cannot be moved. */
static void
test_target_gpt_inseparable(void **state)
{
	static struct image_chunk chunks[] = {
		{ .offset = 0, .length = 68 * 512, .table = true },
	};
	struct manifest m;
	struct image_target t;
	char err[300] = "";

	(void)state;
	gpt_manifest(&m);
	m.disk_size = 68 * 512;
	m.nparts = 0;
	m.chunk = chunks;
	m.nchunks = 1;
	assert_int_equal(image_target_plan(&m, 68 * 512, &t, err, sizeof err), 0);
	assert_int_equal(image_target_plan(&m, 1 * MiB, &t, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "cannot be moved"));
}

static void
test_target_mbr(void **state)
{
	static struct image_chunk chunks[] = {
		{ .offset = 0, .length = 512, .table = true },
		{ .offset = 1 * MiB, .length = 1 * MiB },
		{ .offset = 50 * MiB, .length = 1 * MiB },
	};
	static const struct target_case cases[] = {
		{ 100 * MiB, 0, false, NULL },
		{ 1 * 1024 * MiB, 0, false, NULL },
		{ 51 * MiB, 0, false, NULL },
		{ 51 * MiB - 1, -ENOSPC, false, "partition 1 ends at byte 53477376; "
		    "the disk has 53477375 bytes (the image is of a 104857600-byte disk)" },
	};
	struct manifest m = { .disk_size = 100 * MiB, .sector_size = 512,
		.table = PTABLE_MBR, .nparts = 1, .chunk = chunks,
		.nchunks = ARRAY_SIZE(chunks) };

	(void)state;
	m.part[0] = (struct image_part){ .index = 1, .offset = 1 * MiB, .length = 50 * MiB };
	run_cases(&m, cases, ARRAY_SIZE(cases));
}

static void
test_target_whole_disk_fs(void **state)
{
	static struct image_chunk chunks[] = { { .offset = 0, .length = 1 * MiB } };
	static const struct target_case cases[] = {
		{ 100 * MiB, 0, false, NULL },
		{ 200 * MiB, 0, false, NULL },
		{ 99 * MiB, -ENOSPC, false, "one filesystem on a whole 104857600-byte disk" },
	};
	struct manifest m = { .disk_size = 100 * MiB, .sector_size = 512,
		.table = PTABLE_NONE, .chunk = chunks, .nchunks = 1 };

	(void)state;
	run_cases(&m, cases, ARRAY_SIZE(cases));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_gpt_sizes),
		cmocka_unit_test(test_target_gpt_data_after_parts),
		cmocka_unit_test(test_target_gpt_split_backup),
		cmocka_unit_test(test_target_gpt_inseparable),
		cmocka_unit_test(test_target_mbr),
		cmocka_unit_test(test_target_whole_disk_fs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

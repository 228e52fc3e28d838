/* Unit tests for src/image/chunk.c and manifest.c: the cutting plan from
 * tables of extents, zstd frames in and out (and every way a frame can be
 * wrong), and the manifest codec: a round trip and a table of manifests
 * that must be refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/util.h"

#include "image/chunk.h"
#include "image/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define KiB 1024u
#define MiB (1024u * 1024u)

/* ---- chunk_plan ---- */

struct plan_case {
	const char *name;
	uint64_t chunk_size, merge_gap;
	struct extent in[6];
	size_t nin;
	struct extent out[8];
	size_t nout;
};

static const struct plan_case plan_cases[] = {
	{ "empty", 100, 10, { { 0 } }, 0, { { 0 } }, 0 },
	{ "inside one window", 100, 10, { { 10, 50 } }, 1, { { 10, 50 } }, 1 },
	{ "whole window", 100, 10, { { 100, 100 } }, 1, { { 100, 100 } }, 1 },
	{ "crosses a boundary", 100, 10, { { 90, 20 } }, 1, { { 90, 10 }, { 100, 10 } }, 2 },
	{ "three windows", 100, 10, { { 50, 250 } }, 1,
	  { { 50, 50 }, { 100, 100 }, { 200, 100 } }, 3 },
	{ "gap under the limit merges", 100, 10, { { 10, 10 }, { 25, 5 } }, 2,
	  { { 10, 20 } }, 1 },
	{ "gap at the limit merges", 100, 10, { { 10, 10 }, { 30, 5 } }, 2, { { 10, 25 } }, 1 },
	{ "gap over the limit splits", 100, 10, { { 10, 10 }, { 31, 5 } }, 2,
	  { { 10, 10 }, { 31, 5 } }, 2 },
	{ "no merge across a boundary", 100, 10, { { 80, 15 }, { 100, 5 } }, 2,
	  { { 80, 15 }, { 100, 5 } }, 2 },
	{ "ends on a boundary: next window apart", 100, 10, { { 90, 10 }, { 105, 5 } }, 2,
	  { { 90, 10 }, { 105, 5 } }, 2 },
	{ "merged extent running past the window is cut", 100, 10,
	  { { 60, 30 }, { 95, 20 } }, 2, { { 60, 40 }, { 100, 15 } }, 2 },
	{ "chain of small gaps", 100, 10, { { 0, 5 }, { 10, 5 }, { 20, 5 }, { 30, 5 } }, 4,
	  { { 0, 35 } }, 1 },
	{ "zero merge gap", 100, 0, { { 0, 5 }, { 6, 5 } }, 2, { { 0, 5 }, { 6, 5 } }, 2 },
	{ "real sizes", 4 * MiB, 64 * KiB,
	  { { 0, 17408 }, { 1 * MiB, 64 * KiB }, { 1 * MiB + 128 * KiB, 4 * KiB },
	    { 7 * MiB, 2 * MiB } }, 4,
	  { { 0, 17408 }, { 1 * MiB, 132 * KiB }, { 7 * MiB, 1 * MiB }, { 8 * MiB, 1 * MiB } }, 4 },
};

static void
test_chunk_plan_table(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof plan_cases / sizeof plan_cases[0]; c++) {
		const struct plan_case *pc = &plan_cases[c];
		struct extent_list in = { 0 }, out = { 0 };
		for (size_t i = 0; i < pc->nin; i++)
			assert_int_equal(extent_list_add(&in, pc->in[i].offset, pc->in[i].length), 0);
		assert_int_equal(chunk_plan(&in, pc->chunk_size, pc->merge_gap, &out), 0);
		if (out.n != pc->nout)
			fail_msg("%s: %zu chunks, want %zu", pc->name, out.n, pc->nout);
		for (size_t i = 0; i < out.n; i++)
			if (out.v[i].offset != pc->out[i].offset || out.v[i].length != pc->out[i].length)
				fail_msg("%s: chunk %zu is %llu+%llu, want %llu+%llu", pc->name, i,
				    (unsigned long long)out.v[i].offset,
				    (unsigned long long)out.v[i].length,
				    (unsigned long long)pc->out[i].offset,
				    (unsigned long long)pc->out[i].length);
		extent_list_free(&in);
		extent_list_free(&out);
	}
}

static void
test_chunk_plan_limits(void **state)
{
	struct extent_list in = { 0 }, out = { 0 };

	(void)state;
	assert_int_equal(extent_list_add(&in, 0, 100), 0);
	assert_int_equal(chunk_plan(&in, 0, 0, &out), -EINVAL);
	assert_int_equal(chunk_plan(&in, IMAGE_CHUNK_MAX + 1ull, 0, &out), -EINVAL);
	assert_int_equal(chunk_plan(&in, IMAGE_CHUNK_MAX, 0, &out), 0);
	assert_int_equal(out.n, 1);
	extent_list_free(&in);
	extent_list_free(&out);
}

/* Every chunk lies in one window and the plan covers every used byte. */
static void
test_chunk_plan_covers(void **state)
{
	struct extent_list in = { 0 }, out = { 0 };
	uint64_t at = 0, seed = 1;

	(void)state;
	for (int i = 0; i < 500; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		at += 1 + (seed >> 33) % 3000;
		uint64_t len = 1 + (seed >> 40) % 5000;
		assert_int_equal(extent_list_add(&in, at, len), 0);
		at += len;
	}
	assert_int_equal(chunk_plan(&in, 4096, 300, &out), 0);
	for (size_t i = 0, j = 0; i < in.n; i++) {
		while (j < out.n && out.v[j].offset + out.v[j].length <= in.v[i].offset)
			j++;
		assert_true(j < out.n);
		assert_true(out.v[j].offset <= in.v[i].offset);
	}
	for (size_t j = 0; j < out.n; j++) {
		assert_true(out.v[j].length > 0);
		assert_int_equal(out.v[j].offset / 4096, (out.v[j].offset + out.v[j].length - 1) / 4096);
		if (j > 0)
			assert_true(out.v[j - 1].offset + out.v[j - 1].length <= out.v[j].offset);
	}
	extent_list_free(&in);
	extent_list_free(&out);
}

/* ---- frames ---- */

static uint8_t *
pattern(size_t len, unsigned seed)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((i * 31 + seed) ^ (i >> 7)) % (i % 3 ? 256 : 4);
	return p;
}

static void
test_frame_round_trip(void **state)
{
	static const size_t sizes[] = { 1, 512, 4096 + 3, 4 * MiB };
	static const int levels[] = { 1, 3, 19 };

	(void)state;
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
		for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
			if (sizes[s] == 4 * MiB && levels[l] == 19)
				continue;       /* slow under ASan */
			uint8_t *data = pattern(sizes[s], (unsigned)s), *out = malloc(sizes[s]);
			uint8_t sha[SHA256_LEN];
			void *z;
			size_t zlen;
			chunk_sha256(data, sizes[s], sha);
			assert_int_equal(chunk_compress(data, sizes[s], levels[l], &z, &zlen), 0);
			assert_int_equal(chunk_frame_size(z, zlen), sizes[s]);
			assert_int_equal(chunk_decompress_verify(z, zlen, out, sizes[s], sha),
			    (long)sizes[s]);
			assert_memory_equal(out, data, sizes[s]);
			free(z);
			free(out);
			free(data);
		}
}

static void
test_sha256_known(void **state)
{
	uint8_t sha[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];

	(void)state;
	chunk_sha256("abc", 3, sha);
	sha256_hex(sha, hex);
	assert_string_equal(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(sha256_parse(hex, 64, sha), 0);
	assert_int_equal(sha256_parse(hex, 63, sha), -EINVAL);
	hex[10] = 'g';
	assert_int_equal(sha256_parse(hex, 64, sha), -EINVAL);
}

/* The frame under test in a heap block of exactly its length. */
static long
decode(const void *z, size_t zlen, size_t cap, const uint8_t sha[SHA256_LEN])
{
	void *copy = malloc(zlen ? zlen : 1), *out = malloc(cap ? cap : 1);
	long rc;

	assert_non_null(copy);
	memcpy(copy, z, zlen);
	rc = chunk_decompress_verify(copy, zlen, out, cap, sha);
	free(copy);
	free(out);
	return rc;
}

static void
test_frame_errors(void **state)
{
	uint8_t *data = pattern(64 * KiB, 7), sha[SHA256_LEN], other[SHA256_LEN];
	uint8_t *z2;
	void *z;
	size_t zlen;

	(void)state;
	chunk_sha256(data, 64 * KiB, sha);
	memcpy(other, sha, sizeof other);
	other[0] ^= 1;
	assert_int_equal(chunk_compress(data, 64 * KiB, 3, &z, &zlen), 0);
	assert_int_equal(decode(z, zlen, 64 * KiB, sha), 64 * KiB);
	/* hash mismatch */
	assert_int_equal(decode(z, zlen, 64 * KiB, other), -EILSEQ);
	/* declared size larger than the buffer */
	assert_int_equal(decode(z, zlen, 64 * KiB - 1, sha), -EBADMSG);
	/* truncated at every length */
	for (size_t cut = 0; cut < zlen; cut += 1 + cut / 8)
		assert_int_equal(decode(z, cut, 64 * KiB, sha), -EBADMSG);
	/* trailing garbage, two frames */
	z2 = malloc(2 * zlen);
	memcpy(z2, z, zlen);
	memcpy(z2 + zlen, z, zlen);
	assert_int_equal(decode(z2, zlen + 1, 64 * KiB, sha), -EBADMSG);
	assert_int_equal(decode(z2, 2 * zlen, 128 * KiB, sha), -EBADMSG);
	/* a flipped byte in the compressed body */
	memcpy(z2, z, zlen);
	z2[zlen / 2] ^= 0x5a;
	assert_true(decode(z2, zlen, 64 * KiB, sha) < 0);
	/* not a frame at all */
	assert_int_equal(decode("hello, world", 12, 64 * KiB, sha), -EBADMSG);
	assert_int_equal(chunk_frame_size("hello", 5), 0);
	free(z2);
	free(z);
	free(data);
}

static void
test_frame_sizes(void **state)
{
	size_t big = IMAGE_CHUNK_MAX + 1;
	uint8_t *zero = calloc(1, big), sha[SHA256_LEN];
	uint8_t frame[256];
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	size_t n;
	void *z;
	size_t zlen;

	(void)state;
	/* declares more than IMAGE_CHUNK_MAX: refused before decoding */
	chunk_sha256(zero, big, sha);
	assert_int_equal(chunk_compress(zero, big, 1, &z, &zlen), 0);
	assert_int_equal(chunk_frame_size(z, zlen), big);
	assert_int_equal(decode(z, zlen, big, sha), -EBADMSG);
	free(z);
	/* no content size in the header */
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
	n = ZSTD_compress2(cctx, frame, sizeof frame, zero, 1000);
	assert_false(ZSTD_isError(n));
	chunk_sha256(zero, 1000, sha);
	assert_int_equal(chunk_frame_size(frame, n), 0);
	assert_int_equal(decode(frame, n, 4096, sha), -EBADMSG);
	/* an empty chunk is not a chunk */
	assert_int_equal(chunk_compress(zero, 0, 3, &z, &zlen), 0);
	chunk_sha256(zero, 0, sha);
	assert_int_equal(decode(z, zlen, 4096, sha), -EBADMSG);
	free(z);
	ZSTD_freeCCtx(cctx);
	free(zero);
}

/* ---- manifests ---- */

#define HA "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""
#define HB "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\""
#define DISK "\"disk\":{\"size\":1048576,\"sector_size\":512,\"table\":\"gpt\"}"
#define PART "{\"index\":1,\"offset\":1024,\"length\":4096,\"used\":100,\"fs\":\"ext\"}"
#define HEAD "\"format\":1,\"name\":\"web-01\",\"created\":1700000000,\"chunk_size\":65536"
#define GOOD "{" HEAD "," DISK ",\"partitions\":[" PART "],\"table_chunks\":[[0,512," HA "]]," \
	"\"chunks\":[[1024,100," HA "],[4096,4096," HB "]]}"

static int
parse_text(const char *text, struct manifest *m, char *err, size_t errlen)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, text, len);        /* exactly its length: no NUL to lean on */
	rc = manifest_parse(copy, len, m, err, errlen);
	free(copy);
	return rc;
}

static void
test_manifest_good(void **state)
{
	struct manifest m;
	char err[256];

	(void)state;
	assert_int_equal(parse_text(GOOD, &m, err, sizeof err), 0);
	assert_string_equal(m.name, "web-01");
	assert_int_equal(m.created, 1700000000);
	assert_int_equal(m.disk_size, 1048576);
	assert_int_equal(m.sector_size, 512);
	assert_int_equal(m.table, PTABLE_GPT);
	assert_int_equal(m.chunk_size, 65536);
	assert_int_equal(m.nparts, 1);
	assert_int_equal(m.part[0].fs, FS_EXT);
	assert_int_equal(m.part[0].used, 100);
	assert_int_equal(m.nchunks, 3);
	/* sorted by offset, table flag kept */
	assert_int_equal(m.chunk[0].offset, 0);
	assert_true(m.chunk[0].table);
	assert_int_equal(m.chunk[1].offset, 1024);
	assert_false(m.chunk[1].table);
	assert_int_equal(m.chunk[2].offset, 4096);
	assert_int_equal(m.chunk[2].sha256[0], 0xbb);
	assert_int_equal(manifest_bytes(&m), 512 + 100 + 4096);
	manifest_free(&m);
}

static void
assert_same_manifest(const struct manifest *a, const struct manifest *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->created, b->created);
	assert_int_equal(a->disk_size, b->disk_size);
	assert_int_equal(a->sector_size, b->sector_size);
	assert_int_equal(a->table, b->table);
	assert_int_equal(a->chunk_size, b->chunk_size);
	assert_int_equal(a->nparts, b->nparts);
	assert_memory_equal(a->part, b->part, a->nparts * sizeof a->part[0]);
	assert_int_equal(a->nchunks, b->nchunks);
	for (size_t i = 0; i < a->nchunks; i++) {
		assert_int_equal(a->chunk[i].offset, b->chunk[i].offset);
		assert_int_equal(a->chunk[i].length, b->chunk[i].length);
		assert_int_equal(a->chunk[i].table, b->chunk[i].table);
		assert_memory_equal(a->chunk[i].sha256, b->chunk[i].sha256, SHA256_LEN);
	}
}

static void
test_manifest_round_trip(void **state)
{
	struct manifest m = { .created = 42, .disk_size = 8ull << 30, .sector_size = 4096,
	    .table = PTABLE_MBR, .chunk_size = 4 * MiB };
	struct manifest back;
	char err[256], *text;
	size_t len;

	(void)state;
	str_copy(m.name, "win11_base.v2", sizeof m.name);
	m.nparts = 3;
	for (size_t i = 0; i < m.nparts; i++)
		m.part[i] = (struct image_part){ .index = (unsigned)i + 1,
		    .offset = (i + 1) << 30, .length = 1 << 30, .used = i * 1000,
		    .fs = (enum fs_kind)(i + 1) };
	m.nchunks = 1000;
	m.chunk = calloc(m.nchunks, sizeof *m.chunk);
	for (size_t i = 0; i < m.nchunks; i++) {
		m.chunk[i].offset = i * 4 * MiB + (i % 7) * 512;
		m.chunk[i].length = (uint32_t)(4 * MiB - (i % 7) * 512);
		m.chunk[i].table = i == 0 || i == m.nchunks - 1;
		chunk_sha256(&i, sizeof i, m.chunk[i].sha256);
	}
	text = manifest_format(&m, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	if (manifest_parse(text, len, &back, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_same_manifest(&m, &back);
	free(text);
	manifest_free(&back);
	manifest_free(&m);
}

struct bad_manifest {
	const char *name;
	const char *json;
	const char *reason;             /* a part of the message */
};

#define WITH_CHUNKS(t, c) "{" HEAD "," DISK ",\"partitions\":[],\"table_chunks\":[" t "]," \
	"\"chunks\":[" c "]}"
#define WITH_PART(p) "{" HEAD "," DISK ",\"partitions\":[" p "],\"table_chunks\":[]," \
	"\"chunks\":[]}"
#define WITH_NAME(n) "{\"format\":1,\"name\":" n ",\"created\":1,\"chunk_size\":65536," DISK \
	",\"partitions\":[],\"table_chunks\":[],\"chunks\":[]}"
#define P10 PART "," PART "," PART "," PART "," PART "," PART "," PART "," PART "," PART "," PART
#define P100 P10 "," P10 "," P10 "," P10 "," P10 "," P10 "," P10 "," P10 "," P10 "," P10

#define S10 "aaaaaaaaaa"
#define S100 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10
#define S1100 S100 S100 S100 S100 S100 S100 S100 S100 S100 S100 S100
#define D10 "1111111111"
#define D100 D10 D10 D10 D10 D10 D10 D10 D10 D10 D10
#define D1100 D100 D100 D100 D100 D100 D100 D100 D100 D100 D100 D100

static const struct bad_manifest bad_manifests[] = {
	{ "not JSON", "{\"format\":1", "not JSON" },
	{ "not an object", "[1,2,3]", "not a JSON object" },
	{ "empty", "", "not JSON" },
	{ "duplicate key", "{\"format\":1,\"format\":1}", "duplicate member \"format\"" },
	{ "duplicate name", "{\"format\":1,\"name\":\"a\",\"name\":\"b\"}",
	  "duplicate member \"name\"" },
	{ "duplicate in disk", "{" HEAD ",\"disk\":{\"size\":1,\"size\":2}}", "duplicate" },
	{ "chunks out of order", WITH_CHUNKS("", "[4096,512," HA "],[1024,512," HB "]"),
	  "out of order" },
	{ "chunks before disk", "{\"format\":1,\"table_chunks\":[],\"chunks\":[[0,1," HA
	  "]]," DISK "}", "\"disk\" must come before" },
	{ "chunks before table", "{" HEAD "," DISK ",\"partitions\":[],\"chunks\":[],"
	  "\"table_chunks\":[]}", "\"table_chunks\" missing before" },
	{ "a huge string", "{\"name\":\"" S1100 "\"}", "longer than" },
	{ "a huge number", "{\"format\":" D1100 "}", "longer than" },

	{ "wrong format", "{\"format\":2}", "format 2 unsupported" },
	{ "format as string", "{\"format\":\"1\"}", "\"format\"" },
	{ "no format", "{\"name\":\"x\"}", "\"format\"" },
	{ "name with slash", WITH_NAME("\"../etc\""), "name invalid" },
	{ "name with dot first", WITH_NAME("\".hidden\""), "name invalid" },
	{ "name empty", WITH_NAME("\"\""), "name invalid" },
	{ "name with blank", WITH_NAME("\"a b\""), "name invalid" },
	{ "name with NUL", WITH_NAME("\"ok\\u0000bad\""), "" },
	{ "name too long", WITH_NAME("\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""),
	  "name invalid" },
	{ "name not a string", WITH_NAME("7"), "\"name\"" },
	{ "negative created", "{\"format\":1,\"name\":\"a\",\"created\":-5,\"chunk_size\":1}",
	  "\"created\" out of range" },
	{ "chunk size zero", "{\"format\":1,\"name\":\"a\",\"created\":1,\"chunk_size\":0," DISK
	  ",\"partitions\":[],\"table_chunks\":[],\"chunks\":[]}", "\"chunk_size\"" },
	{ "chunk size too big", "{\"format\":1,\"name\":\"a\",\"created\":1,"
	  "\"chunk_size\":16777217}", "\"chunk_size\" out of range" },
	{ "negative disk size", "{" HEAD ",\"disk\":{\"size\":-1,\"sector_size\":512,"
	  "\"table\":\"gpt\"}}", "\"size\" out of range" },
	{ "odd sector size", "{" HEAD ",\"disk\":{\"size\":1,\"sector_size\":777,"
	  "\"table\":\"gpt\"}}", "sector size 777" },
	{ "unknown table", "{" HEAD ",\"disk\":{\"size\":1,\"sector_size\":512,"
	  "\"table\":\"apm\"}}", "\"apm\" unknown" },
	{ "no disk", "{" HEAD "}", "\"disk\" missing" },
	{ "no partitions", "{" HEAD "," DISK "}", "\"partitions\" missing" },
	{ "too many partitions", WITH_PART(P100 "," P10 "," P10 "," PART "," PART "," PART ","
	  PART "," PART "," PART "," PART "," PART "," PART), "too many partitions" },
	{ "partition index 0", WITH_PART("{\"index\":0,\"offset\":0,\"length\":1,\"used\":0,"
	  "\"fs\":\"ext\"}"), "outside the disk" },
	{ "partition past the end", WITH_PART("{\"index\":1,\"offset\":1048000,\"length\":4096,"
	  "\"used\":0,\"fs\":\"ext\"}"), "outside the disk" },
	{ "used over length", WITH_PART("{\"index\":1,\"offset\":0,\"length\":4096,"
	  "\"used\":5000,\"fs\":\"ext\"}"), "outside the disk" },
	{ "negative used", WITH_PART("{\"index\":1,\"offset\":0,\"length\":4096,"
	  "\"used\":-1,\"fs\":\"ext\"}"), "\"used\" out of range" },
	{ "unknown fs", WITH_PART("{\"index\":1,\"offset\":0,\"length\":4096,"
	  "\"used\":1,\"fs\":\"zfs\"}"), "\"zfs\" unknown" },
	{ "partition not an object", WITH_PART("[1]"), "not an object" },
	{ "no chunks", "{" HEAD "," DISK ",\"partitions\":[],\"table_chunks\":[]}",
	  "\"chunks\" missing" },
	{ "no table chunks", "{" HEAD "," DISK ",\"partitions\":[],\"chunks\":[]}",
	  "\"table_chunks\" missing" },
	{ "chunks overlap", WITH_CHUNKS("", "[4096,4096," HA "],[6000,100," HB "]"), "overlap" },
	{ "table overlaps data", WITH_CHUNKS("[0,1024," HA "]", "[512,100," HB "]"), "overlap" },
	{ "same offset twice", WITH_CHUNKS("[0,512," HA "]", "[0,512," HA "]"), "overlap" },
	{ "chunk past the end", WITH_CHUNKS("", "[1048000,4096," HA "]"), "past the end" },
	{ "chunk offset past the end", WITH_CHUNKS("", "[2000000,1," HA "]"), "past the end" },
	{ "chunk length zero", WITH_CHUNKS("", "[0,0," HA "]"), "length out of range" },
	{ "chunk too long", WITH_CHUNKS("", "[0,16777217," HA "]"), "length out of range" },
	{ "negative chunk offset", WITH_CHUNKS("", "[-512,512," HA "]"), "length out of range" },
	{ "short sha", WITH_CHUNKS("", "[0,512,\"abcd\"]"), "bad sha256" },
	{ "sha not hex", WITH_CHUNKS("", "[0,512,\"gggggggggggggggggggggggggggggggggggggggggggg"
	  "gggggggggggggggggggg\"]"), "bad sha256" },
	{ "sha as number", WITH_CHUNKS("", "[0,512,5]"), "not [offset" },
	{ "chunk of two", WITH_CHUNKS("", "[0,512]"), "not [offset" },
	{ "chunk of four", WITH_CHUNKS("", "[0,512," HA ",1]"), "not [offset" },
	{ "chunk as object", WITH_CHUNKS("", "{\"offset\":0}"), "not [offset" },
	{ "float offset", WITH_CHUNKS("", "[0.0,512," HA "]"), "not [offset" },
};

static void
test_manifest_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_manifests / sizeof bad_manifests[0]; i++) {
		const struct bad_manifest *b = &bad_manifests[i];
		struct manifest m;
		char err[256];
		int rc = parse_text(b->json, &m, err, sizeof err);
		if (rc != -EINVAL)
			fail_msg("%s: accepted (%d)", b->name, rc);
		if (strstr(err, b->reason) == NULL || err[0] == '\0')
			fail_msg("%s: message \"%s\" lacks \"%s\"", b->name, err, b->reason);
		assert_null(m.chunk);
		assert_int_equal(m.nchunks, 0);
	}
}

/* A manifest of n one-byte chunks, two bytes apart, on a disk of size. */
static char *
many_chunks(unsigned n, uint64_t size)
{
	size_t cap = 256 + (size_t)n * 96, len;
	char *text = malloc(cap);

	len = (size_t)snprintf(text, cap, "{" HEAD ",\"disk\":{\"size\":%llu,\"sector_size\":512,"
	    "\"table\":\"gpt\"},\"partitions\":[],\"table_chunks\":[],\"chunks\":[",
	    (unsigned long long)size);
	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s[%u,1," HA "]", i ? "," : "",
		    2 * i);
	snprintf(text + len, cap - len, "]}");
	return text;
}

/* The chunk count is bounded by the disk the manifest declares: a disk of
 * 64 KiB holds at most 65536 / 32768 + 1024 chunks. */
static void
test_manifest_chunks_bounded(void **state)
{
	struct manifest m;
	char err[256], *text;

	(void)state;
	text = many_chunks(1026, 65536);
	if (parse_text(text, &m, err, sizeof err) != 0)
		fail_msg("1026 chunks refused: %s", err);
	assert_int_equal(m.nchunks, 1026);
	manifest_free(&m);
	free(text);
	text = many_chunks(1027, 65536);
	assert_int_equal(parse_text(text, &m, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "1027 chunks for a disk of 65536 bytes"));
	free(text);
}

static int
count_chunk(void *arg, const struct image_chunk *c, char *err, size_t errlen)
{
	unsigned *n = arg;

	(void)c;
	(void)err;
	(void)errlen;
	(*n)++;
	return 0;
}

/* The reader takes the text in pieces of any size: every split of a
 * manifest, and one byte at a time, gives the same result. */
static void
test_manifest_reader_pieces(void **state)
{
	const char *text = GOOD;
	size_t len = strlen(text);
	struct manifest_reader *r;
	struct manifest m;
	char err[256];
	unsigned n;

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		n = 0;
		assert_int_equal(manifest_reader_new(&r, &m, count_chunk, &n), 0);
		assert_int_equal(manifest_reader_feed(r, text, cut, err, sizeof err), 0);
		assert_int_equal(manifest_reader_feed(r, text + cut, len - cut, err, sizeof err), 0);
		if (manifest_reader_end(r, err, sizeof err) != 0)
			fail_msg("cut at %zu: %s", cut, err);
		manifest_reader_free(r);
		assert_int_equal(n, 3);
		assert_int_equal(m.nchunks, 3);
		assert_null(m.chunk);
		assert_string_equal(m.name, "web-01");
	}
	n = 0;
	assert_int_equal(manifest_reader_new(&r, &m, count_chunk, &n), 0);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(manifest_reader_feed(r, text + i, 1, err, sizeof err), 0);
	assert_int_equal(manifest_reader_end(r, err, sizeof err), 0);
	manifest_reader_free(r);
	assert_int_equal(n, 3);
}

/* A callback's error stops the reader with its reason. */
static int
refuse_chunk(void *arg, const struct image_chunk *c, char *err, size_t errlen)
{
	(void)arg;
	snprintf(err, errlen, "chunk at %llu refused", (unsigned long long)c->offset);
	return -ENOENT;
}

static void
test_manifest_reader_refusal(void **state)
{
	struct manifest_reader *r;
	struct manifest m;
	char err[256];

	(void)state;
	assert_int_equal(manifest_reader_new(&r, &m, refuse_chunk, NULL), 0);
	assert_int_equal(manifest_reader_feed(r, GOOD, strlen(GOOD), err, sizeof err), -ENOENT);
	assert_string_equal(err, "chunk at 0 refused");
	assert_int_equal(manifest_reader_end(r, err, sizeof err), -ENOENT);
	manifest_reader_free(r);
}

static void
test_image_names(void **state)
{
	(void)state;
	assert_true(image_name_valid("a"));
	assert_true(image_name_valid("Ubuntu-24.04_server"));
	assert_false(image_name_valid("-rf"));
	assert_false(image_name_valid("a/b"));
	assert_false(image_name_valid("a\\b"));
	assert_false(image_name_valid("é"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk_plan_table),
		cmocka_unit_test(test_chunk_plan_limits),
		cmocka_unit_test(test_chunk_plan_covers),
		cmocka_unit_test(test_sha256_known),
		cmocka_unit_test(test_frame_round_trip),
		cmocka_unit_test(test_frame_errors),
		cmocka_unit_test(test_frame_sizes),
		cmocka_unit_test(test_manifest_good),
		cmocka_unit_test(test_manifest_round_trip),
		cmocka_unit_test(test_manifest_bad),
		cmocka_unit_test(test_manifest_chunks_bounded),
		cmocka_unit_test(test_manifest_reader_pieces),
		cmocka_unit_test(test_manifest_reader_refusal),
		cmocka_unit_test(test_image_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

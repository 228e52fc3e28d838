/* Forward error correction for multicast deploys (fec.c, assemble.c):
 * the mcast-fec syntax, the group geometry, and the coding itself --
 * random erasure patterns of up to m pieces per group give the frame back
 * byte for byte (data before parity, parity before data, short final
 * groups and slices, a frame shorter than one slice); more than m lost in
 * a group are not rebuilt and are exactly what a NACK then asks for; what
 * does not fit the grid is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mcast/assemble.h"
#include "mcast/fec.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(uint32_t below)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % below);
}

static void
test_parse(void **state)
{
	static const struct { const char *text; int rc; unsigned k, m; } cases[] = {
		{ "off", 0, 0, 0 }, { "OFF", 0, 0, 0 }, { "no", 0, 0, 0 }, { "", 0, 0, 0 },
		{ "32,4", 0, 32, 4 }, { "1,1", 0, 1, 1 }, { "16,2", 0, 16, 2 },
		{ "128,127", 0, 128, 127 }, { "128,1", 0, 128, 1 },
		{ "128,128", -EINVAL }, { "4,5", -EINVAL }, { "0,0", -EINVAL },
		{ "1,0", -EINVAL }, { "129,1", -EINVAL }, { "32", -EINVAL }, { "32,", -EINVAL },
		{ ",4", -EINVAL }, { "32,4,1", -EINVAL }, { "a,b", -EINVAL }, { "-1,1", -EINVAL },
		{ "32,4x", -EINVAL }, { "99999999999999999999,1", -EINVAL }, { "on", -EINVAL },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < COUNT(cases); i++) {
		unsigned k = 99, m = 99;
		print_message("case: '%s'\n", cases[i].text);
		assert_int_equal(mcast_fec_parse(cases[i].text, &k, &m, err, sizeof err),
		    cases[i].rc);
		if (cases[i].rc == 0) {
			assert_int_equal(k, cases[i].k);
			assert_int_equal(m, cases[i].m);
		}
		assert_int_equal(mcast_fec_check(cases[i].text, err, sizeof err), cases[i].rc);
	}
	assert_false(mcast_fec_valid(0, 0));
	assert_true(mcast_fec_valid(MCAST_FEC_K_MAX, MCAST_FEC_PIECES_MAX - MCAST_FEC_K_MAX));
}

static void
test_geometry(void **state)
{
	(void)state;
	/* 10 slices of 100 bytes, the last one 50: groups of 4, 4, 2 */
	assert_int_equal(mcast_fec_groups(950, 100, 4), 3);
	assert_int_equal(mcast_fec_group_slices(950, 100, 4, 0), 4);
	assert_int_equal(mcast_fec_group_slices(950, 100, 4, 2), 2);
	assert_int_equal(mcast_fec_group_slices(950, 100, 4, 3), 0);
	assert_int_equal(mcast_fec_group_len(950, 100, 4, 2), 100);
	assert_int_equal(mcast_fec_group_len(950, 100, 4, 3), 0);
	/* the last group is one short slice: coded over its 50 bytes */
	assert_int_equal(mcast_fec_groups(850, 100, 4), 3);
	assert_int_equal(mcast_fec_group_slices(850, 100, 4, 2), 1);
	assert_int_equal(mcast_fec_group_len(850, 100, 4, 2), 50);
	/* a frame shorter than a slice */
	assert_int_equal(mcast_fec_groups(10, 1400, 32), 1);
	assert_int_equal(mcast_fec_group_len(10, 1400, 32, 0), 10);
	assert_int_equal(mcast_fec_groups(MCAST_FRAME_MAX, 512, 1), MCAST_SLICES_MAX);
}

/* A frame, its padded copy and its parity, as a sender holds them. */
struct sent {
	uint32_t frame_len, slice, groups;
	unsigned k, m;
	uint8_t *frame;                 /* padded to whole slices */
	uint8_t *parity;
};

static void
sent_make(struct sent *s, struct mcast_fec *f, uint32_t frame_len, uint32_t slice)
{
	uint32_t n = (frame_len + slice - 1) / slice;

	s->frame_len = frame_len;
	s->slice = slice;
	s->k = f->k;
	s->m = f->m;
	s->groups = mcast_fec_groups(frame_len, slice, f->k);
	s->frame = calloc(n, slice);
	s->parity = malloc((size_t)s->groups * f->m * slice);
	assert_non_null(s->frame);
	assert_non_null(s->parity);
	for (uint32_t i = 0; i < frame_len; i++)
		s->frame[i] = (uint8_t)rnd(256);
	mcast_fec_encode_frame(f, s->frame, frame_len, slice, s->parity);
}

static void
sent_free(struct sent *s)
{
	free(s->frame);
	free(s->parity);
}

static uint32_t
slice_len(const struct sent *s, uint32_t idx)
{
	uint32_t off = idx * s->slice;

	return s->frame_len - off < s->slice ? s->frame_len - off : s->slice;
}

/* Pick lost pieces of group g: lost[i] for the count data slices and the
 * m parity pieces (data first, then parity, as indices 0 .. k + m). */
static unsigned
pick_lost(const struct sent *s, uint32_t g, unsigned nlost, uint8_t *lost)
{
	unsigned count = mcast_fec_group_slices(s->frame_len, s->slice, s->k, g);
	unsigned pieces = count + s->m, done = 0;

	memset(lost, 0, MCAST_FEC_PIECES_MAX);
	nlost = nlost < pieces ? nlost : pieces;
	for (unsigned tries = 0; done < nlost && tries < 100000; tries++) {
		unsigned p = rnd(pieces);
		unsigned at = p < count ? p : s->k + (p - count);
		if (!lost[at]) {
			lost[at] = 1;
			done++;
		}
	}
	return done;
}

/* Feed one group's pieces that were not lost, data or parity first.
 * Returns the slices the assembly reported newly held. */
static int
feed_group(const struct sent *s, struct mcast_assembly *a, struct mcast_fec *f, uint32_t g,
    const uint8_t *lost, bool parity_first)
{
	unsigned count = mcast_fec_group_slices(s->frame_len, s->slice, s->k, g);
	uint32_t len = mcast_fec_group_len(s->frame_len, s->slice, s->k, g);
	int held = 0;

	for (int round = 0; round < 2; round++) {
		bool parity = (round == 0) == parity_first;
		for (unsigned i = 0; !parity && i < count; i++) {
			uint32_t idx = g * s->k + i;
			if (!lost[i])
				held += mcast_assembly_data(a, f, idx * s->slice,
				    s->frame + (size_t)idx * s->slice, slice_len(s, idx));
		}
		for (unsigned j = 0; parity && j < s->m; j++) {
			int rc;
			if (lost[s->k + j])
				continue;
			rc = mcast_assembly_parity(a, f, g, j,
			    s->parity + ((size_t)g * s->m + j) * s->slice, len);
			assert_true(rc >= 0);
			held += rc;
		}
	}
	return held;
}

static unsigned
data_lost(const struct sent *s, uint32_t g, const uint8_t *lost)
{
	unsigned count = mcast_fec_group_slices(s->frame_len, s->slice, s->k, g), n = 0;

	for (unsigned i = 0; i < count; i++)
		n += lost[i];
	return n;
}

/* Up to m pieces lost in every group: all rebuilt, byte for byte. */
static void
check_recovers(struct mcast_fec *f, uint32_t frame_len, uint32_t slice, bool parity_first)
{
	struct sent s;
	struct mcast_assembly a;
	struct mcast_range r[4];
	uint8_t lost[MCAST_FEC_PIECES_MAX];
	uint32_t rebuilt = 0;

	print_message("k %u m %u frame %u slice %u%s\n", f->k, f->m, frame_len, slice,
	    parity_first ? ", parity first" : "");
	sent_make(&s, f, frame_len, slice);
	assert_int_equal(mcast_assembly_init(&a, 3, frame_len, slice, f->k, f->m), 0);
	for (uint32_t g = 0; g < s.groups; g++) {
		pick_lost(&s, g, rnd(f->m + 1), lost);
		rebuilt += data_lost(&s, g, lost);
		feed_group(&s, &a, f, g, lost, parity_first);
	}
	assert_true(mcast_assembly_complete(&a));
	/* parity first, a group may be rebuilt before its last slices come */
	if (parity_first)
		assert_true(a.recovered >= rebuilt && a.recovered <= s.groups * f->m);
	else
		assert_int_equal(a.recovered, rebuilt);
	assert_int_equal(mcast_assembly_missing(&a, r, COUNT(r)), 0);
	assert_memory_equal(a.frame, s.frame, frame_len);
	mcast_assembly_free(&a);
	sent_free(&s);
}

static void
test_recovers(void **state)
{
	static const unsigned km[][2] = { { 1, 1 }, { 2, 1 }, { 4, 2 }, { 16, 2 },
		{ 32, 4 }, { 8, 8 }, { 128, 127 } };
	static const uint32_t frames[][2] = { { 100 * 1400, 1400 }, { 37 * 1400 + 11, 1400 },
		{ 10, 1400 }, { 1400, 1400 }, { 65 * 512 + 1, 512 }, { 300 * 1000 + 999, 1000 } };
	struct mcast_fec f;

	(void)state;
	for (size_t i = 0; i < COUNT(km); i++) {
		assert_int_equal(mcast_fec_init(&f, km[i][0], km[i][1]), 0);
		for (size_t j = 0; j < COUNT(frames); j++)
			for (int trial = 0; trial < 4; trial++)
				check_recovers(&f, frames[j][0], frames[j][1], trial & 1);
		mcast_fec_free(&f);
	}
}

/* More than m pieces lost in a group, data among them: not rebuilt; the
 * missing ranges (what the NACK asks for) are exactly the lost data
 * slices; once those come as repairs the frame is whole and exact. */
static void
test_too_many_lost(void **state)
{
	struct mcast_fec f;
	struct sent s;
	struct mcast_assembly a;
	static struct mcast_range r[MCAST_RANGES_MAX];
	static uint8_t lost[64][MCAST_FEC_PIECES_MAX];
	uint16_t n;

	(void)state;
	assert_int_equal(mcast_fec_init(&f, 16, 2), 0);
	sent_make(&s, &f, 40 * 1400 + 5, 1400);         /* groups of 16, 16, 9 */
	assert_int_equal(mcast_assembly_init(&a, 0, s.frame_len, s.slice, 16, 2), 0);
	for (uint32_t g = 0; g < s.groups; g++) {
		for (int tries = 0; tries < 1000; tries++)
			if (pick_lost(&s, g, 3 + rnd(4), lost[g]) > 2 &&
			    data_lost(&s, g, lost[g]) > 0)
				break;
		assert_int_equal(feed_group(&s, &a, &f, g, lost[g], g == 1),
		    (int)(mcast_fec_group_slices(s.frame_len, s.slice, 16, g) -
		    data_lost(&s, g, lost[g])));
	}
	assert_false(mcast_assembly_complete(&a));
	assert_int_equal(a.recovered, 0);
	n = mcast_assembly_missing(&a, r, COUNT(r));
	for (uint32_t idx = 0, k = 0; idx < a.nslices; idx++) {
		bool asked = k < n && idx >= r[k].first && idx - r[k].first < r[k].count;
		assert_int_equal(asked, lost[idx / 16][idx % 16] != 0);
		if (k < n && idx + 1 == r[k].first + r[k].count)
			k++;
	}
	/* the repairs: plain DATA (the first ones may let the rest be rebuilt) */
	for (uint16_t k = 0; k < n; k++)
		for (uint32_t idx = r[k].first; idx < r[k].first + r[k].count; idx++)
			if (!a.have[idx])
				assert_true(mcast_assembly_data(&a, &f, idx * s.slice,
				    s.frame + (size_t)idx * s.slice, slice_len(&s, idx)) >= 1);
	assert_true(mcast_assembly_complete(&a));
	assert_memory_equal(a.frame, s.frame, s.frame_len);
	mcast_assembly_free(&a);
	sent_free(&s);
	mcast_fec_free(&f);
}

/* A data slice arriving after parity can complete a group it could not
 * rebuild before: 3 lost of 16 + 2, then one of them comes as a repair. */
static void
test_repair_completes_group(void **state)
{
	struct mcast_fec f;
	struct sent s;
	struct mcast_assembly a;
	uint8_t lost[MCAST_FEC_PIECES_MAX] = { 0 };

	(void)state;
	assert_int_equal(mcast_fec_init(&f, 16, 2), 0);
	sent_make(&s, &f, 16 * 1000, 1000);
	assert_int_equal(mcast_assembly_init(&a, 0, s.frame_len, s.slice, 16, 2), 0);
	lost[2] = lost[7] = lost[15] = 1;
	assert_int_equal(feed_group(&s, &a, &f, 0, lost, false), 13);
	assert_false(mcast_assembly_complete(&a));
	/* slice 7 comes: two lost, two parity held, both rebuilt */
	assert_int_equal(mcast_assembly_data(&a, &f, 7 * 1000, s.frame + 7000, 1000), 3);
	assert_true(mcast_assembly_complete(&a));
	assert_int_equal(a.recovered, 2);
	assert_memory_equal(a.frame, s.frame, s.frame_len);
	/* a parity piece of a whole group is not kept */
	assert_int_equal(mcast_assembly_parity(&a, &f, 0, 1, s.parity + 1000, 1000), 0);
	mcast_assembly_free(&a);
	sent_free(&s);
	mcast_fec_free(&f);
}

/* Pieces that do not fit the grid or the coder are refused; a frame
 * without FEC takes no parity. */
static void
test_refused(void **state)
{
	static uint8_t buf[MCAST_PACKET_MAX];
	struct mcast_fec f;
	struct mcast_assembly a;

	(void)state;
	assert_int_equal(mcast_fec_init(&f, 4, 5), -EINVAL);
	assert_int_equal(mcast_fec_init(&f, 4, 2), 0);
	assert_int_equal(mcast_assembly_init(&a, 0, 0, 1400, 4, 2), -EINVAL);
	assert_int_equal(mcast_assembly_init(&a, 0, 100, 0, 0, 0), -EINVAL);
	assert_int_equal(mcast_assembly_init(&a, 0, MCAST_FRAME_MAX + 1, 1400, 0, 0), -EINVAL);
	assert_int_equal(mcast_assembly_init(&a, 0, 100, 10, 4, 0), -EINVAL);
	assert_int_equal(mcast_assembly_init(&a, 0, 950, 100, 4, 2), 0);
	assert_int_equal(mcast_assembly_data(&a, &f, 50, buf, 100), -EINVAL);
	assert_int_equal(mcast_assembly_data(&a, &f, 900, buf, 100), -EINVAL);
	assert_int_equal(mcast_assembly_data(&a, &f, 800, buf, 99), -EINVAL);
	assert_int_equal(mcast_assembly_data(&a, &f, 1000, buf, 100), -EINVAL);
	assert_int_equal(mcast_assembly_data(&a, &f, 900, buf, 50), 1);
	assert_int_equal(mcast_assembly_data(&a, &f, 900, buf, 50), 0);        /* again */
	assert_int_equal(mcast_assembly_parity(&a, &f, 3, 0, buf, 100), -EINVAL);
	assert_int_equal(mcast_assembly_parity(&a, &f, 0, 2, buf, 100), -EINVAL);
	assert_int_equal(mcast_assembly_parity(&a, &f, 0, 0, buf, 50), -EINVAL);
	/* slice 8 lost, slice 9 and a parity piece held: rebuilt (from a
	 * forged piece here: garbage, which the chunk's SHA-256 refuses) */
	assert_int_equal(mcast_assembly_parity(&a, &f, 2, 0, buf, 100), 1);
	assert_int_equal(a.recovered, 1);
	mcast_assembly_free(&a);
	assert_int_equal(mcast_assembly_init(&a, 0, 950, 100, 0, 0), 0);
	assert_int_equal(mcast_assembly_parity(&a, &f, 0, 0, buf, 100), -EINVAL);
	mcast_assembly_free(&a);
	mcast_fec_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_recovers),
		cmocka_unit_test(test_too_many_lost),
		cmocka_unit_test(test_repair_completes_group),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

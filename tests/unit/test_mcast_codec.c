/* Multicast deploy codec: every packet type built, checked against the
 * wire layout laid out here byte by byte, and parsed back; a table of
 * malformed datagrams; every truncation; builders given too little room.
 * Every input is parsed from a heap buffer of exactly its length, and every
 * build goes to a heap buffer of exactly the size offered, so ASan catches
 * any access past the end. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mcast/codec.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define SESSION 0x0123456789abcdefull
#define SENDER 0xfedcba9876543210ull
#define STATUS_FIXED 27                 /* STATUS fields before the ranges */
#define END_BODY 7
#define PAYLOAD_MAX (MCAST_PACKET_MAX - MCAST_HEADER_LEN - MCAST_DATA_FIXED)
#define PARITY_PAYLOAD_MAX (MCAST_PACKET_MAX - MCAST_HEADER_LEN - MCAST_PARITY_FIXED)

/* Field offsets in a datagram (header included). */
enum {
	AT_VERSION = 4, AT_TYPE = 5, AT_BODY = 6,
	AT_CHUNK = 24, AT_FRAME = 28, AT_OFFSET = 32, AT_PASS = 36, AT_TOTAL = 38,
	AT_FLAGS = 42, AT_PAYLOAD = 43,
	AT_S_DONE = 24, AT_S_TOTAL = 28, AT_S_STATE = 40, AT_S_BACKLOG = 45, AT_S_NRANGES = 49,
	AT_S_RANGE = 51,               /* + 8 i: first, + 8 i + 4: count */
	AT_E_PASS = 24, AT_E_FINAL = 26, AT_E_NEXT = 27,
	AT_P_CHUNK = 24, AT_P_FRAME = 28, AT_P_GROUP = 32, AT_P_SLICE = 36, AT_P_K = 38,
	AT_P_M = 39, AT_P_INDEX = 40, AT_P_PASS = 41, AT_P_TOTAL = 43, AT_P_PAYLOAD = 47,
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* Lay p out as docs say it goes on the wire, independently of mcast_build;
 * returns the length.  out must hold MCAST_PACKET_MAX + 64 bytes. */
static size_t
layout(const struct mcast_packet *p, uint8_t *out)
{
	size_t n = MCAST_HEADER_LEN;

	memcpy(out, "PXMC", 4);
	out[AT_VERSION] = MCAST_VERSION;
	out[AT_TYPE] = (uint8_t)p->type;
	put64(out + 8, p->session);
	put64(out + 16, p->sender);
	switch (p->type) {
	case MCAST_DATA:
		put32(out + AT_CHUNK, p->u.data.chunk);
		put32(out + AT_FRAME, p->u.data.frame_len);
		put32(out + AT_OFFSET, p->u.data.offset);
		put16(out + AT_PASS, p->u.data.pass);
		put32(out + AT_TOTAL, p->u.data.total);
		out[AT_FLAGS] = p->u.data.flags;
		memcpy(out + AT_PAYLOAD, p->u.data.payload, p->u.data.len);
		n = AT_PAYLOAD + p->u.data.len;
		break;
	case MCAST_STATUS:
		put32(out + 24, p->u.status.done);
		put32(out + 28, p->u.status.total);
		put32(out + 32, p->u.status.received);
		put32(out + 36, p->u.status.lost);
		out[40] = (uint8_t)p->u.status.state;
		put32(out + 41, p->u.status.seen);
		put32(out + AT_S_BACKLOG, p->u.status.backlog);
		put16(out + AT_S_NRANGES, p->u.status.nranges);
		for (size_t i = 0; i < p->u.status.nranges; i++) {
			put32(out + AT_S_RANGE + 8 * i, p->u.status.range[i].first);
			put32(out + AT_S_RANGE + 8 * i + 4, p->u.status.range[i].count);
		}
		n = AT_S_RANGE + 8u * p->u.status.nranges;
		break;
	case MCAST_END:
		put16(out + AT_E_PASS, p->u.end.pass);
		out[AT_E_FINAL] = p->u.end.final ? 1 : 0;
		put32(out + AT_E_NEXT, p->u.end.next);
		n = AT_E_NEXT + 4;
		break;
	case MCAST_PARITY:
		put32(out + AT_P_CHUNK, p->u.parity.chunk);
		put32(out + AT_P_FRAME, p->u.parity.frame_len);
		put32(out + AT_P_GROUP, p->u.parity.group);
		put16(out + AT_P_SLICE, p->u.parity.slice);
		out[AT_P_K] = p->u.parity.k;
		out[AT_P_M] = p->u.parity.m;
		out[AT_P_INDEX] = p->u.parity.index;
		put16(out + AT_P_PASS, p->u.parity.pass);
		put32(out + AT_P_TOTAL, p->u.parity.total);
		memcpy(out + AT_P_PAYLOAD, p->u.parity.payload, p->u.parity.len);
		n = AT_P_PAYLOAD + p->u.parity.len;
		break;
	case MCAST_NACK:
		fail_msg("layout: NACK has its own test");
		break;
	}
	put16(out + AT_BODY, (uint16_t)(n - MCAST_HEADER_LEN));
	return n;
}

/* An exact-size heap copy; the caller frees it. */
static uint8_t *
copy_exact(const uint8_t *bytes, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);

	assert_non_null(buf);
	if (len > 0)
		memcpy(buf, bytes, len);
	return buf;
}

/* Parse an exact-size heap copy of bytes (freed before returning, so only
 * for results whose payload pointer is not used). */
static int
parse_exact(const uint8_t *bytes, size_t len)
{
	static struct mcast_packet out;
	uint8_t *buf = copy_exact(bytes, len);
	int rc = mcast_parse(buf, len, &out);

	free(buf);
	return rc;
}

static void
assert_packet_equal(const struct mcast_packet *a, const struct mcast_packet *b)
{
	assert_int_equal(a->type, b->type);
	assert_true(a->session == b->session);
	assert_true(a->sender == b->sender);
	switch (a->type) {
	case MCAST_DATA:
		assert_int_equal(a->u.data.chunk, b->u.data.chunk);
		assert_int_equal(a->u.data.frame_len, b->u.data.frame_len);
		assert_int_equal(a->u.data.offset, b->u.data.offset);
		assert_int_equal(a->u.data.pass, b->u.data.pass);
		assert_int_equal(a->u.data.total, b->u.data.total);
		assert_int_equal(a->u.data.flags, b->u.data.flags);
		assert_int_equal(a->u.data.len, b->u.data.len);
		assert_memory_equal(a->u.data.payload, b->u.data.payload, a->u.data.len);
		break;
	case MCAST_STATUS:
		assert_int_equal(a->u.status.done, b->u.status.done);
		assert_int_equal(a->u.status.total, b->u.status.total);
		assert_int_equal(a->u.status.received, b->u.status.received);
		assert_int_equal(a->u.status.lost, b->u.status.lost);
		assert_int_equal(a->u.status.state, b->u.status.state);
		assert_int_equal(a->u.status.seen, b->u.status.seen);
		assert_int_equal(a->u.status.backlog, b->u.status.backlog);
		assert_int_equal(a->u.status.nranges, b->u.status.nranges);
		for (size_t i = 0; i < a->u.status.nranges; i++) {
			const struct mcast_range *ra = &a->u.status.range[i];
			const struct mcast_range *rb = &b->u.status.range[i];
			assert_int_equal(ra->first, rb->first);
			assert_int_equal(ra->count, rb->count);
		}
		break;
	case MCAST_END:
		assert_int_equal(a->u.end.pass, b->u.end.pass);
		assert_int_equal(a->u.end.final, b->u.end.final);
		assert_int_equal(a->u.end.next, b->u.end.next);
		break;
	case MCAST_PARITY:
		assert_int_equal(a->u.parity.chunk, b->u.parity.chunk);
		assert_int_equal(a->u.parity.frame_len, b->u.parity.frame_len);
		assert_int_equal(a->u.parity.group, b->u.parity.group);
		assert_int_equal(a->u.parity.slice, b->u.parity.slice);
		assert_int_equal(a->u.parity.k, b->u.parity.k);
		assert_int_equal(a->u.parity.m, b->u.parity.m);
		assert_int_equal(a->u.parity.index, b->u.parity.index);
		assert_int_equal(a->u.parity.pass, b->u.parity.pass);
		assert_int_equal(a->u.parity.total, b->u.parity.total);
		assert_int_equal(a->u.parity.len, b->u.parity.len);
		assert_memory_equal(a->u.parity.payload, b->u.parity.payload, a->u.parity.len);
		break;
	case MCAST_NACK:
		fail_msg("compare: NACK has its own test");
		break;
	}
}

/* Build p into a buffer of exactly the expected size, compare with the
 * layout, parse it back, compare field by field; then every smaller buffer
 * must be refused. */
static void
roundtrip(const char *what, const struct mcast_packet *p)
{
	static uint8_t want[MCAST_PACKET_MAX + 64];
	static struct mcast_packet back;
	size_t len = layout(p, want);
	uint8_t *buf = malloc(len);

	print_message("case: %s (%zu bytes)\n", what, len);
	assert_non_null(buf);
	assert_int_equal(mcast_build(p, buf, len), len);
	assert_memory_equal(buf, want, len);
	assert_int_equal(mcast_parse(buf, len, &back), 0);
	assert_packet_equal(p, &back);
	if (p->type == MCAST_DATA)
		assert_ptr_equal(back.u.data.payload, buf + AT_PAYLOAD);
	if (p->type == MCAST_PARITY)
		assert_ptr_equal(back.u.parity.payload, buf + AT_P_PAYLOAD);
	free(buf);
	for (size_t size = 0; size < len; size++) {
		buf = malloc(size ? size : 1);
		assert_non_null(buf);
		assert_int_equal(mcast_build(p, buf, size), 0);
		free(buf);
	}
}

static const uint8_t *
payload_bytes(void)
{
	static uint8_t bytes[UINT16_MAX];

	for (size_t i = 0; i < sizeof bytes; i++)
		bytes[i] = (uint8_t)(i * 7 + 3);
	return bytes;
}

static struct mcast_packet
data_packet(uint32_t chunk, uint32_t total, uint32_t frame_len, uint32_t offset,
    uint16_t len)
{
	struct mcast_packet p = { .type = MCAST_DATA, .session = SESSION, .sender = 0 };

	p.u.data.chunk = chunk;
	p.u.data.total = total;
	p.u.data.frame_len = frame_len;
	p.u.data.offset = offset;
	p.u.data.pass = 1;
	p.u.data.payload = payload_bytes();
	p.u.data.len = len;
	return p;
}

static void
test_data_roundtrip(void **state)
{
	struct mcast_packet p;

	(void)state;
	p = data_packet(0, 10, 1000, 0, 100);
	roundtrip("DATA payload at the start of the frame", &p);
	p = data_packet(4, 10, 1000, 400, 100);
	roundtrip("DATA payload in the middle of the frame", &p);
	p = data_packet(9, 10, 1000, 900, 100);
	roundtrip("DATA payload at the end of the frame", &p);
	p.u.data.flags = MCAST_DATA_REPAIR;
	roundtrip("DATA flagged as a repair", &p);
	p = data_packet(MCAST_CHUNKS_MAX - 1, MCAST_CHUNKS_MAX, MCAST_FRAME_MAX,
	    MCAST_FRAME_MAX - PAYLOAD_MAX, PAYLOAD_MAX);
	p.u.data.pass = 0xffff;
	roundtrip("DATA max payload, last chunk, last bytes of the largest frame", &p);
	p = data_packet(0, 1, 1, 0, 1);
	roundtrip("DATA 1-byte payload, 1-byte frame", &p);
	p = data_packet(2, 3, MCAST_FRAME_MAX, MCAST_FRAME_MAX - 1, 1);
	p.u.data.pass = 0;
	roundtrip("DATA last byte of the largest frame", &p);
}

static struct mcast_packet
status_packet(enum mcast_rstate rstate, uint16_t nranges)
{
	struct mcast_packet p = { .type = MCAST_STATUS, .session = SESSION, .sender = SENDER };

	p.u.status.done = 3;
	p.u.status.total = 1000;
	p.u.status.received = 12345;
	p.u.status.lost = 67;
	p.u.status.state = rstate;
	p.u.status.seen = 999;
	p.u.status.backlog = 4096;
	p.u.status.nranges = nranges;
	for (uint16_t i = 0; i < nranges; i++) {
		p.u.status.range[i].first = 7u * i;
		p.u.status.range[i].count = 1u + i % 5;
	}
	return p;
}

static void
test_status_roundtrip(void **state)
{
	static const enum mcast_rstate states[] = { MCAST_RECEIVING, MCAST_COMPLETE,
		MCAST_LEAVING };
	struct mcast_packet p;

	(void)state;
	for (size_t i = 0; i < COUNT(states); i++) {
		p = status_packet(states[i], 0);
		roundtrip("STATUS no ranges", &p);
		p = status_packet(states[i], 1);
		roundtrip("STATUS 1 range", &p);
		p = status_packet(states[i], MCAST_RANGES_MAX);
		roundtrip("STATUS MCAST_RANGES_MAX ranges", &p);
	}
	/* the edges a range may touch, and done == total */
	p = status_packet(MCAST_COMPLETE, 3);
	p.u.status.done = p.u.status.total = MCAST_CHUNKS_MAX;
	p.u.status.range[0] = (struct mcast_range){ 0, MCAST_CHUNKS_MAX };
	p.u.status.range[1] = (struct mcast_range){ MCAST_CHUNKS_MAX - 1, 1 };
	p.u.status.range[2] = (struct mcast_range){ 1, MCAST_CHUNKS_MAX - 1 };
	p.u.status.received = p.u.status.lost = p.u.status.seen = UINT32_MAX;
	p.u.status.backlog = UINT32_MAX;
	roundtrip("STATUS ranges up to MCAST_CHUNKS_MAX, done == total", &p);
	p = status_packet(MCAST_RECEIVING, 0);
	p.u.status.done = p.u.status.total = 0;
	roundtrip("STATUS total 0", &p);
}

static void
test_end_roundtrip(void **state)
{
	struct mcast_packet p = { .type = MCAST_END, .session = SESSION, .sender = 0 };

	(void)state;
	p.u.end.pass = 3;
	p.u.end.final = false;
	p.u.end.next = 42;
	roundtrip("END not final", &p);
	p.u.end.pass = 0xffff;
	p.u.end.final = true;
	p.u.end.next = 0;
	roundtrip("END final", &p);
}

/* Piece index of group of chunk 2 of 5 in a frame of frame_len bytes in
 * slices of slice bytes, k + m; the payload its group's coding length. */
static struct mcast_packet
parity_packet(uint32_t frame_len, uint16_t slice, uint8_t k, uint8_t m, uint32_t group,
    uint8_t index)
{
	struct mcast_packet p = { .type = MCAST_PARITY, .session = SESSION, .sender = 0 };
	uint64_t start = (uint64_t)group * k * slice;

	p.u.parity.chunk = 2;
	p.u.parity.total = 5;
	p.u.parity.frame_len = frame_len;
	p.u.parity.group = group;
	p.u.parity.slice = slice;
	p.u.parity.k = k;
	p.u.parity.m = m;
	p.u.parity.index = index;
	p.u.parity.pass = 1;
	p.u.parity.payload = payload_bytes();
	p.u.parity.len = (uint16_t)(frame_len - start < slice ? frame_len - start : slice);
	return p;
}

static void
test_parity_roundtrip(void **state)
{
	struct mcast_packet p;

	(void)state;
	p = parity_packet(100 * 1400, 1400, 32, 4, 0, 0);
	roundtrip("PARITY first piece of the first group", &p);
	p = parity_packet(100 * 1400 + 7, 1400, 32, 4, 3, 3);
	roundtrip("PARITY last piece of a short last group", &p);
	p = parity_packet(32 * 1400 + 7, 1400, 32, 4, 1, 2);
	roundtrip("PARITY a last group of one short slice", &p);
	p = parity_packet(10, 1400, 16, 2, 0, 1);
	roundtrip("PARITY a frame shorter than a slice", &p);
	p = parity_packet(100, PAYLOAD_MAX, 4, 2, 0, 1);
	roundtrip("PARITY the largest DATA slice, a 100-byte frame", &p);
	p = parity_packet(MCAST_FRAME_MAX, PARITY_PAYLOAD_MAX, MCAST_FEC_K_MAX,
	    MCAST_FEC_PIECES_MAX - MCAST_FEC_K_MAX, 0, MCAST_FEC_PIECES_MAX - MCAST_FEC_K_MAX - 1);
	p.u.parity.pass = 0xffff;
	p.u.parity.chunk = MCAST_CHUNKS_MAX - 1;
	p.u.parity.total = MCAST_CHUNKS_MAX;
	roundtrip("PARITY largest slice, k and m, last chunk", &p);
	p = parity_packet(MCAST_FRAME_MAX, 512, 1, 1, MCAST_SLICES_MAX - 1, 0);
	roundtrip("PARITY k = m = 1, the last group of the largest frame", &p);
}

/* Templates the malformed cases start from. */
enum base { BASE_DATA, BASE_STATUS, BASE_STATUS_FULL, BASE_END, BASE_PARITY };

static size_t
base_make(enum base base, uint8_t *out)
{
	static struct mcast_packet p;

	switch (base) {
	case BASE_DATA:
		/* chunk 5 of 10, bytes [100, 116) of a 1000-byte frame */
		p = data_packet(5, 10, 1000, 100, 16);
		break;
	case BASE_STATUS:
		/* done 3 of 1000; ranges (0, 1) and (7, 2) */
		p = status_packet(MCAST_RECEIVING, 2);
		break;
	case BASE_STATUS_FULL:
		p = status_packet(MCAST_RECEIVING, MCAST_RANGES_MAX);
		break;
	case BASE_END:
		p = (struct mcast_packet){ .type = MCAST_END, .session = SESSION };
		p.u.end.pass = 2;
		p.u.end.final = true;
		p.u.end.next = 17;
		break;
	case BASE_PARITY:
		/* piece 1 of group 1 (k 4, m 2) of a 1000-byte frame in 100-byte
		 * slices: bytes [400, 500), a 100-byte payload */
		p = parity_packet(1000, 100, 4, 2, 1, 1);
		break;
	}
	return layout(&p, out);
}

struct patch {
	uint16_t at;
	uint8_t width;                  /* 1, 2 or 4 bytes, big-endian; 0: none */
	uint32_t value;
};

struct bad_case {
	const char *what;
	enum base base;
	struct patch patch[3];
	const uint8_t *tail;            /* appended after the template */
	size_t tail_len;
	size_t cut;                     /* nonzero: keep this many bytes */
	int body_delta;                 /* added to the body length field */
	bool keep_body;                 /* leave the body length field as it was */
};

#define TAIL(s) .tail = (const uint8_t *)(s), .tail_len = sizeof(s) - 1
#define MAGIC(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (c) << 8 | (d))

static const struct bad_case bad_cases[] = {
	/* header */
	{ "magic PXMD", BASE_DATA, { { 0, 4, MAGIC('P', 'X', 'M', 'D') } } },
	{ "magic lowercase", BASE_END, { { 0, 4, MAGIC('p', 'x', 'm', 'c') } } },
	{ "magic zero", BASE_STATUS, { { 0, 4, 0 } } },
	{ "version 0", BASE_DATA, { { AT_VERSION, 1, 0 } } },
	{ "version 2", BASE_DATA, { { AT_VERSION, 1, 2 } } },
	{ "version 255", BASE_END, { { AT_VERSION, 1, 255 } } },
	{ "type 0", BASE_DATA, { { AT_TYPE, 1, 0 } } },
	{ "type 6", BASE_END, { { AT_TYPE, 1, 6 } } },
	{ "type 255", BASE_STATUS, { { AT_TYPE, 1, 255 } } },
	{ "type 0, header only", BASE_END, { { AT_TYPE, 1, 0 } }, .cut = MCAST_HEADER_LEN },
	{ "DATA body length + 1", BASE_DATA, .body_delta = 1 },
	{ "DATA body length - 1", BASE_DATA, .body_delta = -1 },
	{ "DATA body length 0", BASE_DATA, { { AT_BODY, 2, 0 } }, .keep_body = true },
	{ "DATA body length 65535", BASE_DATA, { { AT_BODY, 2, 0xffff } }, .keep_body = true },
	{ "STATUS body length + 8", BASE_STATUS, .body_delta = 8 },
	{ "STATUS body length - 1", BASE_STATUS, .body_delta = -1 },
	{ "END body length + 1", BASE_END, .body_delta = 1 },
	{ "END body length - 1", BASE_END, .body_delta = -1 },
	{ "END with one byte past its body length", BASE_END, TAIL("\0"), .keep_body = true },
	{ "header only, DATA", BASE_DATA, .cut = MCAST_HEADER_LEN },
	{ "header only, STATUS", BASE_STATUS, .cut = MCAST_HEADER_LEN },
	{ "header only, END", BASE_END, .cut = MCAST_HEADER_LEN },
	/* a body of another type */
	{ "DATA body typed END", BASE_DATA, { { AT_TYPE, 1, MCAST_END } } },
	{ "END body typed DATA", BASE_END, { { AT_TYPE, 1, MCAST_DATA } } },
	{ "END body typed STATUS", BASE_END, { { AT_TYPE, 1, MCAST_STATUS } } },
	{ "STATUS body typed END", BASE_STATUS, { { AT_TYPE, 1, MCAST_END } } },
	/* DATA */
	{ "DATA chunk == total", BASE_DATA, { { AT_CHUNK, 4, 10 } } },
	{ "DATA unknown flag", BASE_DATA, { { AT_FLAGS, 1, 0x02 } } },
	{ "DATA every flag", BASE_DATA, { { AT_FLAGS, 1, 0xff } } },
	{ "DATA chunk > total", BASE_DATA, { { AT_CHUNK, 4, 0xffffffff } } },
	{ "DATA total 0", BASE_DATA, { { AT_CHUNK, 4, 0 }, { AT_TOTAL, 4, 0 } } },
	{ "DATA total MCAST_CHUNKS_MAX + 1", BASE_DATA,
	    { { AT_TOTAL, 4, MCAST_CHUNKS_MAX + 1 } } },
	{ "DATA total 2^32 - 1", BASE_DATA, { { AT_TOTAL, 4, 0xffffffff } } },
	{ "DATA frame_len 0", BASE_DATA, { { AT_FRAME, 4, 0 }, { AT_OFFSET, 4, 0 } } },
	{ "DATA frame_len MCAST_FRAME_MAX + 1", BASE_DATA,
	    { { AT_FRAME, 4, MCAST_FRAME_MAX + 1 } } },
	{ "DATA frame_len 2^32 - 1", BASE_DATA, { { AT_FRAME, 4, 0xffffffff } } },
	{ "DATA offset == frame_len", BASE_DATA, { { AT_OFFSET, 4, 1000 } } },
	{ "DATA offset > frame_len", BASE_DATA, { { AT_OFFSET, 4, 1001 } } },
	{ "DATA offset 2^32 - 1 (offset + len wraps)", BASE_DATA,
	    { { AT_OFFSET, 4, 0xffffffff } } },
	{ "DATA offset + len == frame_len + 1", BASE_DATA, { { AT_OFFSET, 4, 985 } } },
	{ "DATA payload longer than a 1-byte frame", BASE_DATA,
	    { { AT_FRAME, 4, 1 }, { AT_OFFSET, 4, 0 } } },
	{ "DATA empty payload", BASE_DATA, .cut = AT_PAYLOAD },
	{ "DATA empty payload, offset 0", BASE_DATA, { { AT_OFFSET, 4, 0 } },
	    .cut = AT_PAYLOAD },
	/* STATUS */
	{ "STATUS nranges MCAST_RANGES_MAX + 1 (all there)", BASE_STATUS_FULL,
	    { { AT_S_NRANGES, 2, MCAST_RANGES_MAX + 1 } }, TAIL("\0\0\4\0\0\0\0\1") },
	{ "STATUS nranges 65535", BASE_STATUS, { { AT_S_NRANGES, 2, 0xffff } } },
	{ "STATUS nranges 3, two ranges there", BASE_STATUS, { { AT_S_NRANGES, 2, 3 } } },
	{ "STATUS nranges 1, two ranges there", BASE_STATUS, { { AT_S_NRANGES, 2, 1 } } },
	{ "STATUS first range count 0", BASE_STATUS, { { AT_S_RANGE + 4, 4, 0 } } },
	{ "STATUS last range count 0", BASE_STATUS, { { AT_S_RANGE + 12, 4, 0 } } },
	{ "STATUS last of 128 ranges count 0", BASE_STATUS_FULL,
	    { { AT_S_RANGE + 8 * (MCAST_RANGES_MAX - 1) + 4, 4, 0 } } },
	{ "STATUS range one past MCAST_CHUNKS_MAX", BASE_STATUS,
	    { { AT_S_RANGE, 4, MCAST_CHUNKS_MAX - 1 }, { AT_S_RANGE + 4, 4, 2 } } },
	{ "STATUS range starting at MCAST_CHUNKS_MAX", BASE_STATUS,
	    { { AT_S_RANGE, 4, MCAST_CHUNKS_MAX }, { AT_S_RANGE + 4, 4, 1 } } },
	{ "STATUS range count MCAST_CHUNKS_MAX + 1", BASE_STATUS,
	    { { AT_S_RANGE, 4, 0 }, { AT_S_RANGE + 4, 4, MCAST_CHUNKS_MAX + 1 } } },
	{ "STATUS range first + count wraps u32", BASE_STATUS,
	    { { AT_S_RANGE, 4, 1 }, { AT_S_RANGE + 4, 4, 0xffffffff } } },
	{ "STATUS range first 2^32 - 1", BASE_STATUS,
	    { { AT_S_RANGE + 8, 4, 0xffffffff }, { AT_S_RANGE + 12, 4, 1 } } },
	{ "STATUS range both 2^31 (sum wraps to 0)", BASE_STATUS,
	    { { AT_S_RANGE + 8, 4, 0x80000000 }, { AT_S_RANGE + 12, 4, 0x80000000 } } },
	{ "STATUS done > total", BASE_STATUS, { { AT_S_DONE, 4, 1001 } } },
	{ "STATUS done 1, total 0", BASE_STATUS,
	    { { AT_S_DONE, 4, 1 }, { AT_S_TOTAL, 4, 0 } } },
	{ "STATUS total MCAST_CHUNKS_MAX + 1", BASE_STATUS,
	    { { AT_S_TOTAL, 4, MCAST_CHUNKS_MAX + 1 } } },
	{ "STATUS state 3", BASE_STATUS, { { AT_S_STATE, 1, 3 } } },
	{ "STATUS state 255", BASE_STATUS, { { AT_S_STATE, 1, 255 } } },
	{ "STATUS trailing byte", BASE_STATUS, TAIL("\0") },
	{ "STATUS trailing uncounted range", BASE_STATUS, TAIL("\0\0\0\x20\0\0\0\1") },
	{ "STATUS trailing byte after 128 ranges", BASE_STATUS_FULL, TAIL("\1") },
	{ "STATUS 0 ranges, trailing bytes", BASE_STATUS, { { AT_S_NRANGES, 2, 0 } } },
	/* END */
	{ "END final 2", BASE_END, { { AT_E_FINAL, 1, 2 } } },
	{ "END final 255", BASE_END, { { AT_E_FINAL, 1, 255 } } },
	{ "END trailing byte", BASE_END, TAIL("\0") },
	{ "END trailing bytes", BASE_END, TAIL("\0\0\0\0\0\0\0") },
	/* PARITY */
	{ "PARITY body length + 1", BASE_PARITY, .body_delta = 1 },
	{ "PARITY body length - 1", BASE_PARITY, .body_delta = -1 },
	{ "header only, PARITY", BASE_PARITY, .cut = MCAST_HEADER_LEN },
	{ "PARITY empty payload", BASE_PARITY, .cut = AT_P_PAYLOAD },
	{ "PARITY payload one byte short", BASE_PARITY, .cut = AT_P_PAYLOAD + 99 },
	{ "PARITY payload one byte long", BASE_PARITY, TAIL("\0") },
	{ "PARITY body typed DATA", BASE_PARITY, { { AT_TYPE, 1, MCAST_DATA } } },
	{ "DATA body typed PARITY", BASE_DATA, { { AT_TYPE, 1, MCAST_PARITY } } },
	{ "PARITY chunk == total", BASE_PARITY, { { AT_P_CHUNK, 4, 5 } } },
	{ "PARITY total 0", BASE_PARITY, { { AT_P_CHUNK, 4, 0 }, { AT_P_TOTAL, 4, 0 } } },
	{ "PARITY total MCAST_CHUNKS_MAX + 1", BASE_PARITY,
	    { { AT_P_TOTAL, 4, MCAST_CHUNKS_MAX + 1 } } },
	{ "PARITY frame_len 0", BASE_PARITY, { { AT_P_FRAME, 4, 0 } } },
	{ "PARITY frame_len MCAST_FRAME_MAX + 1", BASE_PARITY,
	    { { AT_P_FRAME, 4, MCAST_FRAME_MAX + 1 } } },
	{ "PARITY group past the frame's last", BASE_PARITY, { { AT_P_GROUP, 4, 3 } } },
	{ "PARITY group 2^32 - 1", BASE_PARITY, { { AT_P_GROUP, 4, 0xffffffff } } },
	{ "PARITY group starts past the frame, k x slice large", BASE_PARITY,
	    { { AT_P_K, 1, 100 }, { AT_P_SLICE, 2, 8000 } } },
	{ "PARITY slice 0", BASE_PARITY, { { AT_P_SLICE, 2, 0 } } },
	{ "PARITY slice larger than a DATA payload (100-byte frame)", BASE_PARITY,
	    { { AT_P_SLICE, 2, PAYLOAD_MAX + 1 }, { AT_P_GROUP, 4, 0 }, { AT_P_FRAME, 4, 100 } } },
	{ "PARITY slice != payload (short group claimed)", BASE_PARITY,
	    { { AT_P_SLICE, 2, 101 } } },
	{ "PARITY payload shorter than slice, not the frame's end", BASE_PARITY,
	    { { AT_P_SLICE, 2, 99 } } },
	{ "PARITY k 0", BASE_PARITY, { { AT_P_K, 1, 0 } } },
	{ "PARITY m 0", BASE_PARITY, { { AT_P_M, 1, 0 }, { AT_P_INDEX, 1, 0 } } },
	{ "PARITY m > k", BASE_PARITY, { { AT_P_M, 1, 5 } } },
	{ "PARITY k MCAST_FEC_K_MAX + 1", BASE_PARITY,
	    { { AT_P_K, 1, MCAST_FEC_K_MAX + 1 }, { AT_P_GROUP, 4, 0 } } },
	{ "PARITY k + m 256", BASE_PARITY,
	    { { AT_P_K, 1, 128 }, { AT_P_M, 1, 128 }, { AT_P_GROUP, 4, 0 } } },
	{ "PARITY index == m", BASE_PARITY, { { AT_P_INDEX, 1, 2 } } },
	{ "PARITY index 255", BASE_PARITY, { { AT_P_INDEX, 1, 255 } } },
};

static void
patch_apply(uint8_t *buf, const struct patch *p)
{
	switch (p->width) {
	case 1:
		buf[p->at] = (uint8_t)p->value;
		break;
	case 2:
		put16(buf + p->at, (uint16_t)p->value);
		break;
	case 4:
		put32(buf + p->at, p->value);
		break;
	}
}

static void
test_bad_table(void **state)
{
	static uint8_t bytes[MCAST_PACKET_MAX + 64];

	(void)state;
	for (size_t i = 0; i < COUNT(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t len = base_make(c->base, bytes);

		print_message("case: %s\n", c->what);
		/* the template itself parses */
		assert_int_equal(parse_exact(bytes, len), 0);
		if (c->tail_len > 0)
			memcpy(bytes + len, c->tail, c->tail_len);
		len += c->tail_len;
		if (c->cut != 0)
			len = c->cut;
		if (!c->keep_body) {
			int body = (int)len - MCAST_HEADER_LEN + c->body_delta;
			put16(bytes + AT_BODY, (uint16_t)body);
		}
		for (size_t j = 0; j < COUNT(c->patch); j++)
			patch_apply(bytes, &c->patch[j]);
		assert_int_equal(parse_exact(bytes, len), -EINVAL);
	}
}

/* Every prefix of every template: as cut off in transit (header length
 * field unchanged) and with the length field made to agree, which walks
 * each field of the body past its end.  DATA's payload is the rest of the
 * datagram, so a DATA cut within its payload is a valid shorter DATA; a
 * PARITY's payload has the one length its fields give. */
static void
test_truncations(void **state)
{
	static const enum base bases[] = { BASE_DATA, BASE_STATUS, BASE_STATUS_FULL,
		BASE_END, BASE_PARITY };
	static uint8_t bytes[MCAST_PACKET_MAX + 64];
	static struct mcast_packet out;

	(void)state;
	for (size_t b = 0; b < COUNT(bases); b++) {
		size_t len = base_make(bases[b], bytes);

		print_message("base %zu: %zu bytes\n", b, len);
		for (size_t cut = 0; cut < len; cut++) {
			assert_int_equal(parse_exact(bytes, cut), -EINVAL);
			if (cut < MCAST_HEADER_LEN)
				continue;
			uint8_t *buf = copy_exact(bytes, cut);
			put16(buf + AT_BODY, (uint16_t)(cut - MCAST_HEADER_LEN));
			int rc = mcast_parse(buf, cut, &out);
			if (bases[b] == BASE_DATA && cut > AT_PAYLOAD) {
				assert_int_equal(rc, 0);
				assert_int_equal(out.u.data.len, cut - AT_PAYLOAD);
				assert_ptr_equal(out.u.data.payload, buf + AT_PAYLOAD);
			} else {
				assert_int_equal(rc, -EINVAL);
			}
			free(buf);
		}
	}
}

/* The largest DATA datagram parses; one byte more does not, whatever the
 * header says (a payload mcast_build would refuse). */
static void
test_data_size_limit(void **state)
{
	static uint8_t bytes[MCAST_PACKET_MAX + 64];
	static struct mcast_packet out;
	struct mcast_packet p = data_packet(0, 1, MCAST_FRAME_MAX, 0, PAYLOAD_MAX);
	size_t len = layout(&p, bytes);
	uint8_t *buf;

	(void)state;
	assert_int_equal(len, MCAST_PACKET_MAX);
	buf = copy_exact(bytes, len);
	assert_int_equal(mcast_parse(buf, len, &out), 0);
	assert_int_equal(out.u.data.len, PAYLOAD_MAX);
	free(buf);
	for (size_t extra = 1; extra <= 42; extra += 41) {
		p.u.data.len = (uint16_t)(PAYLOAD_MAX + extra);
		len = layout(&p, bytes);
		assert_int_equal(len, MCAST_PACKET_MAX + extra);
		assert_int_equal(parse_exact(bytes, len), -EINVAL);
	}
}

/* mcast_build refuses what would not go out or come back: a DATA over
 * MCAST_PACKET_MAX (even with room for it), more ranges than a STATUS
 * carries, an unknown type. */
static void
test_build_refuses(void **state)
{
	static uint8_t buf[UINT16_MAX + 128];
	static uint8_t big[UINT16_MAX];
	struct mcast_packet p = data_packet(0, 1, MCAST_FRAME_MAX, 0, PAYLOAD_MAX + 1);

	(void)state;
	assert_int_equal(mcast_build(&p, buf, sizeof buf), 0);
	p.u.data.payload = big;
	p.u.data.len = UINT16_MAX;
	assert_int_equal(mcast_build(&p, buf, sizeof buf), 0);
	p.u.data.len = PAYLOAD_MAX;
	assert_int_equal(mcast_build(&p, buf, sizeof buf), MCAST_PACKET_MAX);

	p = status_packet(MCAST_RECEIVING, MCAST_RANGES_MAX);
	p.u.status.nranges = MCAST_RANGES_MAX + 1;
	assert_int_equal(mcast_build(&p, buf, sizeof buf), 0);
	p.u.status.nranges = UINT16_MAX;
	assert_int_equal(mcast_build(&p, buf, sizeof buf), 0);

	p = (struct mcast_packet){ .type = (enum mcast_type)0, .session = SESSION };
	assert_int_equal(mcast_build(&p, buf, sizeof buf), 0);
	p.type = (enum mcast_type)6;
	assert_int_equal(mcast_build(&p, buf, sizeof buf), 0);
	p = parity_packet(MCAST_FRAME_MAX, PAYLOAD_MAX, 4, 2, 0, 0);
	p.u.parity.len = PARITY_PAYLOAD_MAX + 1;
	p.u.parity.payload = big;
	assert_int_equal(mcast_build(&p, buf, sizeof buf), 0);
}

/* A DATA with no payload (payload NULL) builds but does not parse: the
 * builder does not judge field values, the parser does. */
static void
test_build_unchecked_values(void **state)
{
	struct mcast_packet p = data_packet(0, 1, 1000, 0, 0);
	uint8_t buf[64];
	size_t n;

	(void)state;
	p.u.data.payload = NULL;
	n = mcast_build(&p, buf, sizeof buf);
	assert_int_equal(n, AT_PAYLOAD);
	assert_int_equal(parse_exact(buf, n), -EINVAL);
	p = status_packet((enum mcast_rstate)3, 0);
	n = mcast_build(&p, buf, sizeof buf);
	assert_int_equal(n, AT_S_RANGE);
	assert_int_equal(parse_exact(buf, n), -EINVAL);
}

/* NACK: a round trip, every truncation, and what is refused. */
static void
test_nack(void **state)
{
	static struct mcast_packet p, back;
	uint8_t buf[2048];
	size_t len;

	(void)state;
	p = (struct mcast_packet){ .type = MCAST_NACK, .session = SESSION, .sender = 9 };
	p.u.nack.chunk = 12;
	p.u.nack.frame_len = 1400 * 10 + 7;
	p.u.nack.nranges = 2;
	p.u.nack.range[0] = (struct mcast_range){ 0, 3 };
	p.u.nack.range[1] = (struct mcast_range){ 7, 4 };
	len = mcast_build(&p, buf, sizeof buf);
	assert_int_equal(len, MCAST_HEADER_LEN + 10 + 2 * 8);
	assert_int_equal(mcast_parse(buf, len, &back), 0);
	assert_int_equal(back.type, MCAST_NACK);
	assert_int_equal(back.sender, 9);
	assert_int_equal(back.u.nack.chunk, 12);
	assert_int_equal(back.u.nack.frame_len, 1400 * 10 + 7);
	assert_int_equal(back.u.nack.nranges, 2);
	assert_int_equal(back.u.nack.range[1].first, 7);
	assert_int_equal(back.u.nack.range[1].count, 4);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(mcast_parse(buf, cut, &back), -EINVAL);
	/* the limits */
	p.u.nack.range[1] = (struct mcast_range){ MCAST_SLICES_MAX - 1, 2 };
	len = mcast_build(&p, buf, sizeof buf);
	assert_int_equal(mcast_parse(buf, len, &back), -EINVAL);
	p.u.nack.range[1] = (struct mcast_range){ 7, 0 };
	len = mcast_build(&p, buf, sizeof buf);
	assert_int_equal(mcast_parse(buf, len, &back), -EINVAL);
	p.u.nack.range[1] = (struct mcast_range){ 7, 4 };
	p.u.nack.frame_len = 0;
	len = mcast_build(&p, buf, sizeof buf);
	assert_int_equal(mcast_parse(buf, len, &back), -EINVAL);
	p.u.nack.frame_len = MCAST_FRAME_MAX + 1;
	len = mcast_build(&p, buf, sizeof buf);
	assert_int_equal(mcast_parse(buf, len, &back), -EINVAL);
	p.u.nack.frame_len = 5000;
	p.u.nack.chunk = MCAST_CHUNKS_MAX;
	len = mcast_build(&p, buf, sizeof buf);
	assert_int_equal(mcast_parse(buf, len, &back), -EINVAL);
	/* no ranges, too many ranges: not built */
	p.u.nack.chunk = 1;
	p.u.nack.nranges = 0;
	assert_int_equal(mcast_build(&p, buf, sizeof buf), 0);
	p.u.nack.nranges = MCAST_RANGES_MAX + 1;
	assert_int_equal(mcast_build(&p, buf, sizeof buf), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_roundtrip),
		cmocka_unit_test(test_status_roundtrip),
		cmocka_unit_test(test_end_roundtrip),
		cmocka_unit_test(test_parity_roundtrip),
		cmocka_unit_test(test_bad_table),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_data_size_limit),
		cmocka_unit_test(test_build_refuses),
		cmocka_unit_test(test_build_unchecked_values),
		cmocka_unit_test(test_nack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

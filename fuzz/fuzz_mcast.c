/* libFuzzer harness: the multicast deploy codec.  Whatever parses is checked
 * against the limits the parser promises, built again and parsed back.
 * The format has no slack (fixed fields, an exact body length, the payload
 * is the rest of the datagram, flags are 0 or 1), so the rebuilt datagram
 * must be the input byte for byte, and the packet parsed from it equal
 * field by field.  One byte less room must make the builder refuse.  A
 * DATA is also grown to the size limit (check_grown). */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcast/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_parity_limits(const struct mcast_packet *p, const uint8_t *buf, size_t size)
{
	uint64_t start = (uint64_t)p->u.parity.group * p->u.parity.k * p->u.parity.slice;

	assert(p->u.parity.total > 0 && p->u.parity.total <= MCAST_CHUNKS_MAX);
	assert(p->u.parity.chunk < p->u.parity.total);
	assert(p->u.parity.frame_len > 0 && p->u.parity.frame_len <= MCAST_FRAME_MAX);
	assert(p->u.parity.k >= 1 && p->u.parity.k <= MCAST_FEC_K_MAX);
	assert(p->u.parity.m >= 1 && p->u.parity.m <= p->u.parity.k);
	assert(p->u.parity.k + p->u.parity.m <= MCAST_FEC_PIECES_MAX);
	assert(p->u.parity.index < p->u.parity.m);
	assert(p->u.parity.slice > 0 && start < p->u.parity.frame_len);
	assert(p->u.parity.len > 0 && p->u.parity.len <= p->u.parity.slice);
	assert(p->u.parity.len == p->u.parity.slice ||
	    start + p->u.parity.len == p->u.parity.frame_len);
	assert(p->u.parity.payload == buf + MCAST_HEADER_LEN + MCAST_PARITY_FIXED);
	assert(p->u.parity.payload + p->u.parity.len == buf + size);
}

static void
check_limits(const struct mcast_packet *p, const uint8_t *buf, size_t size)
{
	assert(size >= MCAST_HEADER_LEN && size <= MCAST_PACKET_MAX);
	switch (p->type) {
	case MCAST_DATA:
		assert(p->u.data.total > 0 && p->u.data.total <= MCAST_CHUNKS_MAX);
		assert(p->u.data.chunk < p->u.data.total);
		assert(p->u.data.frame_len > 0 && p->u.data.frame_len <= MCAST_FRAME_MAX);
		assert(p->u.data.len > 0);
		assert((uint64_t)p->u.data.offset + p->u.data.len <= p->u.data.frame_len);
		assert(p->u.data.payload == buf + MCAST_HEADER_LEN + MCAST_DATA_FIXED);
		assert(p->u.data.payload + p->u.data.len == buf + size);
		break;
	case MCAST_STATUS:
		assert(p->u.status.state <= MCAST_LEAVING);
		assert(p->u.status.total <= MCAST_CHUNKS_MAX);
		assert(p->u.status.done <= p->u.status.total);
		assert(p->u.status.nranges <= MCAST_RANGES_MAX);
		for (uint16_t i = 0; i < p->u.status.nranges; i++) {
			const struct mcast_range *r = &p->u.status.range[i];
			assert(r->count > 0);
			assert((uint64_t)r->first + r->count <= MCAST_CHUNKS_MAX);
		}
		break;
	case MCAST_END:
		break;
	case MCAST_PARITY:
		check_parity_limits(p, buf, size);
		break;
	case MCAST_NACK:
		assert(p->u.nack.chunk < MCAST_CHUNKS_MAX);
		assert(p->u.nack.frame_len > 0 && p->u.nack.frame_len <= MCAST_FRAME_MAX);
		assert(p->u.nack.nranges > 0 && p->u.nack.nranges <= MCAST_RANGES_MAX);
		for (uint16_t i = 0; i < p->u.nack.nranges; i++) {
			const struct mcast_range *r = &p->u.nack.range[i];
			assert(r->count > 0);
			assert((uint64_t)r->first + r->count <= MCAST_SLICES_MAX);
		}
		break;
	default:
		assert(!"parsed an unknown type");
	}
}

static void
check_equal(const struct mcast_packet *a, const struct mcast_packet *b)
{
	assert(a->type == b->type && a->session == b->session && a->sender == b->sender);
	switch (a->type) {
	case MCAST_DATA:
		assert(a->u.data.chunk == b->u.data.chunk);
		assert(a->u.data.frame_len == b->u.data.frame_len);
		assert(a->u.data.offset == b->u.data.offset);
		assert(a->u.data.pass == b->u.data.pass);
		assert(a->u.data.total == b->u.data.total);
		assert(a->u.data.len == b->u.data.len);
		assert(memcmp(a->u.data.payload, b->u.data.payload, a->u.data.len) == 0);
		break;
	case MCAST_STATUS:
		assert(a->u.status.done == b->u.status.done);
		assert(a->u.status.total == b->u.status.total);
		assert(a->u.status.received == b->u.status.received);
		assert(a->u.status.lost == b->u.status.lost);
		assert(a->u.status.state == b->u.status.state);
		assert(a->u.status.seen == b->u.status.seen);
		assert(a->u.status.backlog == b->u.status.backlog);
		assert(a->u.status.nranges == b->u.status.nranges);
		for (uint16_t i = 0; i < a->u.status.nranges; i++) {
			assert(a->u.status.range[i].first == b->u.status.range[i].first);
			assert(a->u.status.range[i].count == b->u.status.range[i].count);
		}
		break;
	case MCAST_END:
		assert(a->u.end.pass == b->u.end.pass);
		assert(a->u.end.final == b->u.end.final);
		assert(a->u.end.next == b->u.end.next);
		break;
	case MCAST_PARITY:
		assert(a->u.parity.chunk == b->u.parity.chunk);
		assert(a->u.parity.frame_len == b->u.parity.frame_len);
		assert(a->u.parity.group == b->u.parity.group);
		assert(a->u.parity.slice == b->u.parity.slice);
		assert(a->u.parity.k == b->u.parity.k && a->u.parity.m == b->u.parity.m);
		assert(a->u.parity.index == b->u.parity.index);
		assert(a->u.parity.pass == b->u.parity.pass);
		assert(a->u.parity.total == b->u.parity.total);
		assert(a->u.parity.len == b->u.parity.len);
		assert(memcmp(a->u.parity.payload, b->u.parity.payload, a->u.parity.len) == 0);
		break;
	case MCAST_NACK:
		assert(a->u.nack.chunk == b->u.nack.chunk);
		assert(a->u.nack.frame_len == b->u.nack.frame_len);
		assert(a->u.nack.nranges == b->u.nack.nranges);
		for (uint16_t i = 0; i < a->u.nack.nranges; i++) {
			assert(a->u.nack.range[i].first == b->u.nack.range[i].first);
			assert(a->u.nack.range[i].count == b->u.nack.range[i].count);
		}
		break;
	}
}

/* Build p into exact-size heap buffers: size - 1 bytes is refused, size
 * bytes gives back the input. */
static void
check_rebuild(const struct mcast_packet *p, const uint8_t *input, size_t size)
{
	static struct mcast_packet back;
	uint8_t *small = malloc(size - 1);
	uint8_t *out = malloc(size);

	assert(small != NULL && out != NULL);
	assert(mcast_build(p, small, size - 1) == 0);
	free(small);
	assert(mcast_build(p, out, size) == size);
	assert(memcmp(out, input, size) == 0);
	assert(mcast_parse(out, size, &back) == 0);
	check_limits(&back, out, size);
	check_equal(p, &back);
	free(out);
}

/* Mutation seldom grows an input to the size limit with a body length
 * that agrees, so a DATA that parsed is also grown there: its header and
 * fields, a frame that fits, a payload making the datagram MCAST_PACKET_MAX
 * - 32 to + 31 bytes long.  It parses exactly when mcast_build could have
 * made it, and then rebuilds to the same bytes. */
static void
check_grown(const uint8_t *input, size_t size)
{
	static struct mcast_packet grown;
	size_t len = MCAST_PACKET_MAX - 32 + size % 64;
	size_t body = len - MCAST_HEADER_LEN;
	uint8_t *buf = malloc(len);

	assert(buf != NULL);
	memcpy(buf, input, MCAST_HEADER_LEN + MCAST_DATA_FIXED);
	memset(buf + MCAST_HEADER_LEN + MCAST_DATA_FIXED, 0xa5,
	    len - MCAST_HEADER_LEN - MCAST_DATA_FIXED);
	buf[6] = (uint8_t)(body >> 8);
	buf[7] = (uint8_t)body;
	memcpy(buf + 28, "\0\1\0\0", 4);        /* frame_len 64 KiB */
	memset(buf + 32, 0, 4);                 /* offset 0 */
	assert(mcast_parse(buf, len, &grown) == (len <= MCAST_PACKET_MAX ? 0 : -EINVAL));
	if (len <= MCAST_PACKET_MAX) {
		check_limits(&grown, buf, len);
		check_rebuild(&grown, buf, len);
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mcast_packet p;
	uint8_t *buf = malloc(size ? size : 1);
	int rc;

	if (buf == NULL)
		return 0;
	if (size > 0)
		memcpy(buf, data, size);
	rc = mcast_parse(buf, size, &p);
	if (rc == 0) {
		check_limits(&p, buf, size);
		check_rebuild(&p, buf, size);
		if (p.type == MCAST_DATA)
			check_grown(buf, size);
	} else {
		assert(rc == -EINVAL);
	}
	free(buf);
	return 0;
}

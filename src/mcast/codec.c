/* The multicast deploy protocol's packets: parse and build. */
#include "mcast/codec.h"

#include <errno.h>
#include <string.h>

#include "core/cursor.h"
#include "core/util.h"

static bool
cursor_u64(struct cursor *c, uint64_t *out)
{
	uint32_t hi, lo;

	if (!cursor_u32(c, &hi) || !cursor_u32(c, &lo))
		return false;
	*out = (uint64_t)hi << 32 | lo;
	return true;
}

static void
writer_u64(struct writer *w, uint64_t v)
{
	writer_u32(w, (uint32_t)(v >> 32));
	writer_u32(w, (uint32_t)v);
}

static int
parse_data(struct cursor *c, struct mcast_packet *p)
{
	uint16_t len;

	if (!cursor_u32(c, &p->u.data.chunk) || !cursor_u32(c, &p->u.data.frame_len) ||
	    !cursor_u32(c, &p->u.data.offset) || !cursor_u16(c, &p->u.data.pass) ||
	    !cursor_u32(c, &p->u.data.total) || !cursor_u8(c, &p->u.data.flags) ||
	    (p->u.data.flags & ~MCAST_DATA_REPAIR) != 0)
		return -EINVAL;
	/* the payload, within a datagram mcast_build would make */
	if (c->left == 0 || c->left > MCAST_PACKET_MAX - MCAST_HEADER_LEN - MCAST_DATA_FIXED)
		return -EINVAL;
	len = (uint16_t)c->left;
	if (p->u.data.total == 0 || p->u.data.total > MCAST_CHUNKS_MAX ||
	    p->u.data.chunk >= p->u.data.total || p->u.data.frame_len == 0 ||
	    p->u.data.frame_len > MCAST_FRAME_MAX ||
	    p->u.data.offset > p->u.data.frame_len ||
	    len > p->u.data.frame_len - p->u.data.offset)
		return -EINVAL;
	p->u.data.len = len;
	return cursor_bytes(c, len, &p->u.data.payload) ? 0 : -EINVAL;
}

static int
parse_status(struct cursor *c, struct mcast_packet *p)
{
	uint8_t state;

	if (!cursor_u32(c, &p->u.status.done) || !cursor_u32(c, &p->u.status.total) ||
	    !cursor_u32(c, &p->u.status.received) || !cursor_u32(c, &p->u.status.lost) ||
	    !cursor_u8(c, &state) || !cursor_u32(c, &p->u.status.seen) ||
	    !cursor_u32(c, &p->u.status.backlog) || !cursor_u16(c, &p->u.status.nranges))
		return -EINVAL;
	if (state > MCAST_LEAVING || p->u.status.nranges > MCAST_RANGES_MAX ||
	    p->u.status.total > MCAST_CHUNKS_MAX || p->u.status.done > p->u.status.total)
		return -EINVAL;
	p->u.status.state = (enum mcast_rstate)state;
	for (uint16_t i = 0; i < p->u.status.nranges; i++) {
		struct mcast_range *r = &p->u.status.range[i];
		if (!cursor_u32(c, &r->first) || !cursor_u32(c, &r->count) || r->count == 0 ||
		    r->first >= MCAST_CHUNKS_MAX || r->count > MCAST_CHUNKS_MAX - r->first)
			return -EINVAL;
	}
	return c->left == 0 ? 0 : -EINVAL;
}

static int
parse_end(struct cursor *c, struct mcast_packet *p)
{
	uint8_t final;

	if (!cursor_u16(c, &p->u.end.pass) || !cursor_u8(c, &final) ||
	    !cursor_u32(c, &p->u.end.next) || final > 1 || c->left != 0)
		return -EINVAL;
	p->u.end.final = final == 1;
	return 0;
}

static int
parse_nack(struct cursor *c, struct mcast_packet *p)
{
	if (!cursor_u32(c, &p->u.nack.chunk) || !cursor_u32(c, &p->u.nack.frame_len) ||
	    !cursor_u16(c, &p->u.nack.nranges))
		return -EINVAL;
	if (p->u.nack.chunk >= MCAST_CHUNKS_MAX || p->u.nack.frame_len == 0 ||
	    p->u.nack.frame_len > MCAST_FRAME_MAX || p->u.nack.nranges == 0 ||
	    p->u.nack.nranges > MCAST_RANGES_MAX)
		return -EINVAL;
	for (uint16_t i = 0; i < p->u.nack.nranges; i++) {
		struct mcast_range *r = &p->u.nack.range[i];
		if (!cursor_u32(c, &r->first) || !cursor_u32(c, &r->count) || r->count == 0 ||
		    r->first >= MCAST_SLICES_MAX || r->count > MCAST_SLICES_MAX - r->first)
			return -EINVAL;
	}
	return c->left == 0 ? 0 : -EINVAL;
}

/* A PARITY's fields agree: k and m, the piece's index, a group that starts
 * inside the frame, and a payload of the group's coding length. */
static bool
parity_consistent(const struct mcast_packet *p)
{
	uint64_t start = (uint64_t)p->u.parity.group * p->u.parity.k * p->u.parity.slice;

	return p->u.parity.total > 0 && p->u.parity.total <= MCAST_CHUNKS_MAX &&
	    p->u.parity.chunk < p->u.parity.total && p->u.parity.frame_len > 0 &&
	    p->u.parity.frame_len <= MCAST_FRAME_MAX && p->u.parity.slice > 0 &&
	    p->u.parity.slice <= MCAST_PACKET_MAX - MCAST_HEADER_LEN - MCAST_DATA_FIXED &&
	    mcast_fec_valid(p->u.parity.k, p->u.parity.m) && p->u.parity.index < p->u.parity.m &&
	    start < p->u.parity.frame_len &&
	    p->u.parity.len == MIN(p->u.parity.slice, p->u.parity.frame_len - start);
}

static int
parse_parity(struct cursor *c, struct mcast_packet *p)
{
	if (!cursor_u32(c, &p->u.parity.chunk) || !cursor_u32(c, &p->u.parity.frame_len) ||
	    !cursor_u32(c, &p->u.parity.group) || !cursor_u16(c, &p->u.parity.slice) ||
	    !cursor_u8(c, &p->u.parity.k) || !cursor_u8(c, &p->u.parity.m) ||
	    !cursor_u8(c, &p->u.parity.index) || !cursor_u16(c, &p->u.parity.pass) ||
	    !cursor_u32(c, &p->u.parity.total))
		return -EINVAL;
	if (c->left == 0 || c->left > MCAST_PACKET_MAX - MCAST_HEADER_LEN - MCAST_PARITY_FIXED)
		return -EINVAL;
	p->u.parity.len = (uint16_t)c->left;
	if (!parity_consistent(p))
		return -EINVAL;
	return cursor_bytes(c, p->u.parity.len, &p->u.parity.payload) ? 0 : -EINVAL;
}

int
mcast_parse(const uint8_t *buf, size_t len, struct mcast_packet *out)
{
	struct cursor c = cursor_make(buf, len);
	const uint8_t *magic;
	uint8_t version, type;
	uint16_t body;

	if (!cursor_bytes(&c, 4, &magic) || memcmp(magic, MCAST_MAGIC, 4) != 0 ||
	    !cursor_u8(&c, &version) || version != MCAST_VERSION || !cursor_u8(&c, &type) ||
	    !cursor_u16(&c, &body) || !cursor_u64(&c, &out->session) ||
	    !cursor_u64(&c, &out->sender) || body != c.left)
		return -EINVAL;
	out->type = (enum mcast_type)type;
	switch (type) {
	case MCAST_DATA:
		return parse_data(&c, out);
	case MCAST_STATUS:
		return parse_status(&c, out);
	case MCAST_END:
		return parse_end(&c, out);
	case MCAST_NACK:
		return parse_nack(&c, out);
	case MCAST_PARITY:
		return parse_parity(&c, out);
	default:
		return -EINVAL;
	}
}

/* False for what no parser would take back: an unknown type, more ranges
 * than a STATUS carries. */
static bool
build_body(struct writer *w, const struct mcast_packet *p)
{
	switch (p->type) {
	case MCAST_DATA:
		writer_u32(w, p->u.data.chunk);
		writer_u32(w, p->u.data.frame_len);
		writer_u32(w, p->u.data.offset);
		writer_u16(w, p->u.data.pass);
		writer_u32(w, p->u.data.total);
		writer_u8(w, p->u.data.flags);
		writer_bytes(w, p->u.data.payload, p->u.data.len);
		return true;
	case MCAST_STATUS:
		if (p->u.status.nranges > MCAST_RANGES_MAX)
			return false;
		writer_u32(w, p->u.status.done);
		writer_u32(w, p->u.status.total);
		writer_u32(w, p->u.status.received);
		writer_u32(w, p->u.status.lost);
		writer_u8(w, (uint8_t)p->u.status.state);
		writer_u32(w, p->u.status.seen);
		writer_u32(w, p->u.status.backlog);
		writer_u16(w, p->u.status.nranges);
		for (uint16_t i = 0; i < p->u.status.nranges; i++) {
			writer_u32(w, p->u.status.range[i].first);
			writer_u32(w, p->u.status.range[i].count);
		}
		return true;
	case MCAST_END:
		writer_u16(w, p->u.end.pass);
		writer_u8(w, p->u.end.final ? 1 : 0);
		writer_u32(w, p->u.end.next);
		return true;
	case MCAST_NACK:
		if (p->u.nack.nranges == 0 || p->u.nack.nranges > MCAST_RANGES_MAX)
			return false;
		writer_u32(w, p->u.nack.chunk);
		writer_u32(w, p->u.nack.frame_len);
		writer_u16(w, p->u.nack.nranges);
		for (uint16_t i = 0; i < p->u.nack.nranges; i++) {
			writer_u32(w, p->u.nack.range[i].first);
			writer_u32(w, p->u.nack.range[i].count);
		}
		return true;
	case MCAST_PARITY:
		writer_u32(w, p->u.parity.chunk);
		writer_u32(w, p->u.parity.frame_len);
		writer_u32(w, p->u.parity.group);
		writer_u16(w, p->u.parity.slice);
		writer_u8(w, p->u.parity.k);
		writer_u8(w, p->u.parity.m);
		writer_u8(w, p->u.parity.index);
		writer_u16(w, p->u.parity.pass);
		writer_u32(w, p->u.parity.total);
		writer_bytes(w, p->u.parity.payload, p->u.parity.len);
		return true;
	}
	return false;
}

size_t
mcast_build(const struct mcast_packet *p, uint8_t *buf, size_t size)
{
	struct writer w = writer_make(buf, size);
	size_t body;

	writer_bytes(&w, MCAST_MAGIC, 4);
	writer_u8(&w, MCAST_VERSION);
	writer_u8(&w, (uint8_t)p->type);
	writer_u16(&w, 0);              /* body length, filled in below */
	writer_u64(&w, p->session);
	writer_u64(&w, p->sender);
	if (!build_body(&w, p) || w.overflow || w.used > MCAST_PACKET_MAX)
		return 0;
	body = w.used - MCAST_HEADER_LEN;
	buf[6] = (uint8_t)(body >> 8);
	buf[7] = (uint8_t)body;
	return w.used;
}

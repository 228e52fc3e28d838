/* The multicast deploy protocol's packets (docs/MULTICAST.md).  Pure: a
 * buffer in, a struct out, and back; no sockets, no clock.
 *
 * Every packet starts with the same 24-byte header:
 *   0  4  magic "PXMC"
 *   4  1  version (1)
 *   5  1  type (DATA, STATUS, END, NACK, PARITY)
 *   6  2  length of what follows the header
 *   8  8  session id (random, from the server; receivers drop other ids)
 *  16  8  sender: 0 for the server; a receiver's id (from the server)
 * DATA (server -> group): chunk u32, frame_len u32, offset u32, pass u16,
 *   total_chunks u32, flags u8 (REPAIR: a NACKed slice sent out of the
 *   pass's order, which says nothing of how far the pass has come; other
 *   bits must be 0), then the payload: bytes [offset, offset+len) of the
 *   chunk's zstd frame.  A receiver checks chunk < total it knows,
 *   frame_len against the chunk's limits and offset + len <= frame_len,
 *   and only ever writes a chunk after its SHA-256 matched the manifest.
 * STATUS (receiver -> server, unicast): done u32, total u32, received u32
 *   and lost u32 packets since its last status, state u8 (RECEIVING,
 *   COMPLETE, LEAVING), seen u32 (highest chunk heard in this pass),
 *   backlog u32 (KiB waiting in its socket: it is falling behind), nranges
 *   u16, then nranges x (first u32, count u32): chunks it still needs.
 * END (server -> group): pass u16, final u8 (1: the session is over, fetch
 *   what is missing over HTTP), next u32 (chunks the next pass will carry).
 *   Pass 0: the session has not started (sent every second while it waits
 *   for receivers, so that those waiting know the server is there).
 * NACK (receiver -> server, unicast): chunk u32, frame_len u32, nranges u16,
 *   then nranges x (first u32, count u32): the slices of a chunk it holds in
 *   part that it still needs (slice i covers bytes [i*slice, (i+1)*slice) of
 *   the frame), so a repair sends only those.
 * PARITY (server -> group, with forward error correction; mcast/fec.h):
 *   chunk u32, frame_len u32, group u32, slice u16, k u8, m u8, index u8,
 *   pass u16, total u32, then parity piece index (< m) of the group-th
 *   group of k slices of the chunk's frame (slice bytes each).  The payload
 *   is the group's coding length: min(slice, frame_len - group * k * slice)
 *   bytes, so group, slice and length must agree with frame_len. */
#ifndef PXED_MCAST_CODEC_H
#define PXED_MCAST_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MCAST_MAGIC "PXMC"
#define MCAST_VERSION 1
#define MCAST_HEADER_LEN 24
#define MCAST_DATA_FIXED 19             /* DATA fields before the payload */
#define MCAST_DATA_REPAIR 0x01          /* DATA flags */
#define MCAST_PARITY_FIXED 23           /* PARITY fields before the payload */
#define MCAST_PACKET_MAX 9000           /* jumbo frames at most */
#define MCAST_RANGES_MAX 128            /* ranges in one STATUS */
#define MCAST_FRAME_MAX (17u << 20)     /* a chunk's zstd frame */
#define MCAST_CHUNKS_MAX (4u << 20)
#define MCAST_SLICES_MAX (MCAST_FRAME_MAX / 512)     /* slices in one frame */
#define MCAST_FEC_K_MAX 128             /* data slices in an FEC group */
#define MCAST_FEC_PIECES_MAX 255        /* data + parity slices of a group (GF(2^8)) */

enum mcast_type {
	MCAST_DATA = 1, MCAST_STATUS = 2, MCAST_END = 3, MCAST_NACK = 4, MCAST_PARITY = 5,
};
enum mcast_rstate { MCAST_RECEIVING = 0, MCAST_COMPLETE = 1, MCAST_LEAVING = 2 };

/* FEC parameters the protocol allows: k data slices and m parity pieces a
 * group, 1 <= m <= k, k + m <= 255 (Reed-Solomon over GF(2^8)). */
static inline bool
mcast_fec_valid(unsigned k, unsigned m)
{
	return k >= 1 && k <= MCAST_FEC_K_MAX && m >= 1 && m <= k &&
	    k + m <= MCAST_FEC_PIECES_MAX;
}

struct mcast_range {
	uint32_t first;
	uint32_t count;
};

struct mcast_packet {
	enum mcast_type type;
	uint64_t session;
	uint64_t sender;
	union {
		struct {
			uint32_t chunk, frame_len, offset, total;
			uint16_t pass;
			uint8_t flags;              /* MCAST_DATA_REPAIR */
			const uint8_t *payload;     /* points into the buffer */
			uint16_t len;
		} data;
		struct {
			uint32_t done, total, received, lost, seen;
			uint32_t backlog;           /* KiB queued at the receiver */
			enum mcast_rstate state;
			uint16_t nranges;
			struct mcast_range range[MCAST_RANGES_MAX];
		} status;
		struct {
			uint16_t pass;
			bool final;
			uint32_t next;
		} end;
		struct {
			uint32_t chunk, frame_len;
			uint16_t nranges;
			struct mcast_range range[MCAST_RANGES_MAX];
		} nack;
		struct {
			uint32_t chunk, frame_len, group, total;
			uint16_t slice, pass;
			uint8_t k, m, index;
			const uint8_t *payload;     /* points into the buffer */
			uint16_t len;
		} parity;
	} u;
};

/* Parse one datagram.  0, or -EINVAL (not ours: wrong magic or version,
 * unknown type, lengths that do not add up, a range past MCAST_CHUNKS_MAX,
 * an offset past the frame, a PARITY whose k, m, index, group, slice and
 * length do not agree).  Never reads past len. */
int mcast_parse(const uint8_t *buf, size_t len, struct mcast_packet *out);

/* Build a packet into buf.  Returns its length, or 0 when it does not fit
 * (or a DATA or PARITY payload would exceed MCAST_PACKET_MAX). */
size_t mcast_build(const struct mcast_packet *p, uint8_t *buf, size_t size);

#endif

/* A multicast receiver putting one chunk's frame together from DATA slices
 * and, with forward error correction, PARITY pieces (fec.h).  Pure: no
 * sockets, no clock; the agent keeps one per chunk in reassembly and the
 * unit tests drive it with erasure patterns.
 *
 * Slice i covers bytes [i * slice, (i + 1) * slice) of the frame.  When a
 * group of k slices has lost data slices but holds at least k of its
 * k + m pieces, the lost ones are rebuilt and count as received; what is
 * still missing after that is what a NACK asks for.  A rebuilt slice is
 * only as good as the pieces it came from: the frame is checked against
 * the manifest's SHA-256 before it is written, as always. */
#ifndef PXED_MCAST_ASSEMBLE_H
#define PXED_MCAST_ASSEMBLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mcast/codec.h"
#include "mcast/fec.h"

struct mcast_assembly {
	uint32_t chunk, frame_len, slice, nslices, got;
	unsigned k, m;                  /* FEC: 0, 0 when off */
	uint32_t ngroups;
	uint32_t recovered;             /* slices rebuilt from parity */
	uint8_t *frame;                 /* nslices * slice bytes, the tail zero */
	uint8_t *have;                  /* per slice */
	uint8_t *parity;                /* ngroups * m * slice; NULL until one is kept */
	uint8_t *have_parity;           /* ngroups * m */
};

/* 0, -EINVAL (a zero frame or slice, a frame over MCAST_FRAME_MAX, k and m
 * not mcast_fec_valid unless both 0) or -ENOMEM. */
int mcast_assembly_init(struct mcast_assembly *a, uint32_t chunk, uint32_t frame_len,
    uint32_t slice, unsigned k, unsigned m);
/* Frees the buffers (the frame too) and zeroes a. */
void mcast_assembly_free(struct mcast_assembly *a);

static inline bool
mcast_assembly_complete(const struct mcast_assembly *a)
{
	return a->got == a->nslices;
}

/* A DATA slice: len bytes at offset, which must fit the slice grid.
 * Returns the slices newly held (itself and any it let FEC rebuild), 0
 * for a duplicate, -EINVAL when it does not fit.  fec: the session's
 * coder, NULL without FEC. */
int mcast_assembly_data(struct mcast_assembly *a, struct mcast_fec *fec, uint32_t offset,
    const uint8_t *payload, uint32_t len);
/* PARITY piece index of group: len must be the group's coding length.
 * Returns the data slices it let FEC rebuild (0 when none yet, or the
 * group is whole and the piece was not kept), -EINVAL when it does not
 * fit, -ENOMEM. */
int mcast_assembly_parity(struct mcast_assembly *a, struct mcast_fec *fec, uint32_t group,
    unsigned index, const uint8_t *payload, uint32_t len);
/* The runs of slices still missing, up to max ranges (a NACK's). */
uint16_t mcast_assembly_missing(const struct mcast_assembly *a, struct mcast_range *r,
    uint16_t max);

#endif

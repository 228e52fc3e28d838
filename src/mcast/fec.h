/* Forward error correction for multicast deploys (docs/MULTICAST.md):
 * Reed-Solomon erasure codes from Intel ISA-L over GF(2^8).
 *
 * A chunk's frame is cut into slices; each group of k slices (the last
 * group may have fewer) gets m parity slices.  Any k of a group's k + m
 * pieces give back the whole group.  The generator matrix is ISA-L's
 * Cauchy matrix: k identity rows (the data itself) over m Cauchy rows
 * (the parity), every k x k sub-matrix of which is invertible.
 *
 * Pieces of a group are coded over the same length, the group's coding
 * length (mcast_fec_group_len): a shorter final slice is zero-padded to
 * it, and a short final group is completed with all-zero data slices that
 * are never sent (both sides know them).  The GF arithmetic is all ISA-L's. */
#ifndef PXED_MCAST_FEC_H
#define PXED_MCAST_FEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mcast/codec.h"

/* A group's coder: the matrix, its encode tables and scratch for decoding.
 * One per thread (decoding writes the scratch). */
struct mcast_fec {
	unsigned k, m;
	uint8_t *matrix;                /* (k + m) x k */
	uint8_t *encode_tables;         /* 32 k m: the parity rows */
	uint8_t *square, *inverse;      /* k x k: the survivors' rows, inverted */
	uint8_t *decode_rows;           /* m x k */
	uint8_t *decode_tables;         /* 32 k m */
	uint8_t *zero;                  /* MCAST_PACKET_MAX zero bytes */
};

/* "off" (k = m = 0) or "K,M" (mcast_fec_valid, codec.h).  0, or -EINVAL with a reason in err. */
int mcast_fec_parse(const char *text, unsigned *k, unsigned *m, char *err, size_t errlen);
/* "off" or "K,M" into buf. */
const char *mcast_fec_text(unsigned k, unsigned m, char *buf, size_t size);
/* The setting's syntax, as a config validator. */
int mcast_fec_check(const char *value, char *err, size_t errlen);

/* The geometry of a frame of frame_len bytes in slices of slice bytes. */
uint32_t mcast_fec_groups(uint32_t frame_len, uint32_t slice, unsigned k);
/* Slices of group g (k, or fewer for the last). */
unsigned mcast_fec_group_slices(uint32_t frame_len, uint32_t slice, unsigned k, uint32_t g);
/* Bytes each piece of group g is coded over: its first slice's length. */
uint32_t mcast_fec_group_len(uint32_t frame_len, uint32_t slice, unsigned k, uint32_t g);

/* 0, -EINVAL (not mcast_fec_valid) or -ENOMEM. */
int mcast_fec_init(struct mcast_fec *f, unsigned k, unsigned m);
void mcast_fec_free(struct mcast_fec *f);

/* The m parity pieces of a group: data[i] for i < count (count <= k)
 * hold len bytes each (len <= MCAST_PACKET_MAX); the slices past count
 * are zero.  parity[j] get len bytes each. */
void mcast_fec_encode(struct mcast_fec *f, uint8_t *const *data, unsigned count,
    uint8_t *const *parity, uint32_t len);

/* The parity of a whole frame: frame holds frame_len bytes, zero-padded
 * to a whole number of slices; parity gets mcast_fec_groups() * m * slice
 * bytes, piece j of group g at (g * m + j) * slice (its group's coding
 * length of it used). */
void mcast_fec_encode_frame(struct mcast_fec *f, uint8_t *frame, uint32_t frame_len,
    uint32_t slice, uint8_t *parity);

/* Rebuild a group's missing data slices.  piece[0 .. k + m) are the data
 * slices then the parity pieces, NULL where missing; data slices at count
 * and beyond are zero (their pointers are not looked at).  Each missing
 * data slice i < count is written to out[i] (len bytes).  Returns how many
 * were rebuilt (0: none missing), -EAGAIN with fewer than k pieces, -EIO
 * when the survivors' matrix does not invert (cannot happen with a Cauchy
 * matrix; checked all the same). */
int mcast_fec_decode(struct mcast_fec *f, uint8_t *const *piece, unsigned count,
    uint8_t *const *out, uint32_t len);

#endif

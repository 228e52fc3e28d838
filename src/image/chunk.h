/* Chunks: SHA-256 of the uncompressed bytes names them; each is stored and
 * sent as one zstd frame (with its content size in the frame header). */
#ifndef PXED_IMAGE_CHUNK_H
#define PXED_IMAGE_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "image/disk.h"
#include "image/manifest.h"

void chunk_sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

/* Compress len bytes into a malloc'd zstd frame at level (1..19).
 * Returns 0 with *out and *out_len set, or -ENOMEM / -EIO. */
int chunk_compress(const void *data, size_t len, int level, void **out, size_t *out_len);

/* Decompress frame z into out (capacity cap) and check the SHA-256.
 * Returns the uncompressed length, or -EBADMSG (not one valid zstd frame,
 * or content larger than cap / IMAGE_CHUNK_MAX), -EILSEQ (hash mismatch). */
long chunk_decompress_verify(const void *z, size_t zlen, void *out, size_t cap,
    const uint8_t sha[SHA256_LEN]);

/* Content size a frame declares (0 when unknown or not a frame). */
uint64_t chunk_frame_size(const void *z, size_t zlen);

/* Cut used extents into chunks: a chunk never crosses a multiple of
 * chunk_size (absolute disk offset), so the same data at the same place
 * cuts the same way in every capture (dedup), and extents of one window
 * closer than merge_gap are joined (fewer, larger chunks; the gap's bytes
 * ride along).  Appends to out.  0 or -ENOMEM. */
int chunk_plan(const struct extent_list *used, uint64_t chunk_size, uint64_t merge_gap,
    struct extent_list *out);

#endif

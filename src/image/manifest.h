/* An image manifest: what a disk looked like and where its bytes are.
 *
 * The manifest is JSON (docs/IMAGE-FORMAT.md).  It names the disk's size
 * and partition table, each partition with its filesystem and used bytes,
 * and the list of chunks: byte ranges of the disk, each stored once as a
 * zstd frame named by the SHA-256 of its uncompressed bytes.  The parser
 * takes untrusted bytes (an upload from an agent, a file on disk) and
 * checks everything a deploy relies on: chunks sorted, not overlapping,
 * inside the disk, each no longer than IMAGE_CHUNK_MAX. */
#ifndef PXED_IMAGE_MANIFEST_H
#define PXED_IMAGE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/disk.h"

#define IMAGE_FORMAT_VERSION 1
#define IMAGE_NAME_MAX 64               /* [A-Za-z0-9._-], not starting with '.' */
#define IMAGE_CHUNK_MAX (16u << 20)     /* uncompressed bytes in one chunk */
#define IMAGE_CHUNKS_MAX (4u << 20)     /* chunks in one manifest */
#define IMAGE_MANIFEST_MAX (512u << 20) /* bytes of manifest JSON */
#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

struct image_chunk {
	uint64_t offset;                /* on the disk */
	uint32_t length;                /* uncompressed */
	bool table;                     /* holds partition table: written first */
	uint8_t sha256[SHA256_LEN];
};

struct image_part {
	unsigned index;
	uint64_t offset;
	uint64_t length;
	uint64_t used;                  /* bytes the filesystem uses */
	enum fs_kind fs;
};

struct manifest {
	char name[IMAGE_NAME_MAX + 1];
	int64_t created;                /* Unix time */
	uint64_t disk_size;
	uint32_t sector_size;
	enum ptable_kind table;
	uint64_t chunk_size;            /* the capture's cutting size */
	struct image_part part[DISK_MAX_PARTS];
	size_t nparts;
	struct image_chunk *chunk;      /* sorted by offset */
	size_t nchunks;
};

void manifest_free(struct manifest *m);

/* Parse and validate (manifest_read.c).  Returns 0, -EINVAL with a reason
 * in err, or -ENOMEM.  On error *m is left empty (nothing to free). */
int manifest_parse(const char *text, size_t len, struct manifest *m,
    char *err, size_t errlen);

/* The streaming reader: the text in pieces of any size, each chunk handed
 * to on_chunk as it is read and checked (a table chunk before the data
 * chunks), nothing kept; *m gets the header and the partitions, nchunks
 * their count, chunk stays NULL.  on_chunk returns 0, or a negative errno
 * with a reason in err, which stops the reader.  The chunks "disk" and
 * "table_chunks" come before "chunks", and each list in order of offset
 * (docs/IMAGE-FORMAT.md). */
struct manifest_reader;
typedef int manifest_chunk_fn(void *arg, const struct image_chunk *c, char *err,
    size_t errlen);
int manifest_reader_new(struct manifest_reader **out, struct manifest *m,
    manifest_chunk_fn *on_chunk, void *arg);
/* 0, or the first error (-EINVAL with its reason in err, or on_chunk's). */
int manifest_reader_feed(struct manifest_reader *r, const char *data, size_t len,
    char *err, size_t errlen);
/* After the last piece: 0 when the whole manifest is valid. */
int manifest_reader_end(struct manifest_reader *r, char *err, size_t errlen);
void manifest_reader_free(struct manifest_reader *r);

/* JSON text of m (malloc'd, NUL-terminated), or NULL when out of memory. */
char *manifest_format(const struct manifest *m, size_t *len);

/* Total uncompressed bytes of the chunks. */
uint64_t manifest_bytes(const struct manifest *m);

/* Is name a valid image name? */
bool image_name_valid(const char *name);

void sha256_hex(const uint8_t sha[SHA256_LEN], char out[SHA256_HEX_LEN + 1]);
/* Parse exactly 64 hex digits.  0 or -EINVAL. */
int sha256_parse(const char *hex, size_t len, uint8_t out[SHA256_LEN]);

const char *ptable_kind_name(enum ptable_kind kind);
/* The kind of a table or a filesystem by its manifest name, or -1. */
int ptable_kind_parse(const char *name);
int image_fs_parse(const char *name);
/* The manifest's name of a filesystem kind: raw, ext, ntfs, fat, swap. */
const char *image_fs_name(enum fs_kind kind);

#endif

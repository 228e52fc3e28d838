/* The image repository on the server: a directory of immutable chunk
 * files and published manifests.
 *
 *   DIR/chunks/ab/<sha256>.zst     one zstd frame per chunk, named by the
 *                                  SHA-256 of its uncompressed bytes
 *   DIR/manifests/<name>.json      a published image
 *
 * Chunks are verified (decompressed and hashed) before they get their
 * name, and a manifest is published only when every chunk it names is
 * present, by an atomic rename: a reader sees a whole image or none.
 * Files are plain and immutable, so any HTTP server or cache can serve
 * chunks.  Safe to use from several threads (no shared state but the
 * directory fd). */
#ifndef PXED_IMAGE_REPO_H
#define PXED_IMAGE_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "files/files.h"
#include "image/manifest.h"

struct image_repo {
	int dirfd;
	char path[1024];
};

struct image_info {
	char name[IMAGE_NAME_MAX + 1];
	int64_t created;
	uint64_t disk_size;
	uint64_t used;                  /* uncompressed bytes of its chunks */
	uint64_t stored;                /* compressed bytes of its chunks */
	size_t nchunks;
	size_t nparts;
};

/* Open (create) the repository directory.  0 or a negative errno. */
int repo_open(struct image_repo *r, const char *path);
void repo_close(struct image_repo *r);

/* "chunks/ab/<hex>.zst" relative to the repository. */
void repo_chunk_relpath(const uint8_t sha[SHA256_LEN], char *out, size_t size);

bool repo_has_chunk(const struct image_repo *r, const uint8_t sha[SHA256_LEN]);
/* Compressed size of a stored chunk, or a negative errno. */
int64_t repo_chunk_size(const struct image_repo *r, const uint8_t sha[SHA256_LEN]);

/* Verify frame z against sha and store it.  Returns 1 when stored, 0 when
 * it was present already, -EBADMSG (not a valid frame), -EILSEQ (hash
 * mismatch), -ENOSPC / -EDQUOT (disk full), or another negative errno.
 * Nothing is left behind on error. */
int repo_put_chunk(const struct image_repo *r, const uint8_t sha[SHA256_LEN],
    const void *z, size_t zlen);

/* Check a frame of a stored chunk: 0, -ENOENT, -EBADMSG, -EILSEQ. */
int repo_check_chunk(const struct image_repo *r, const uint8_t sha[SHA256_LEN]);

/* A manifest upload: its bytes spooled into a hidden file beneath the
 * repository and read as they come (repo_scan below), so a server checks
 * a manifest of any size in constant memory: every chunk it names must be
 * on the server.  begin, write the pieces, finish (the manifest is whole
 * and valid: head and info filled), then publish under head.name; abort in
 * every case (it frees what is left, and removes an unpublished file). */
struct repo_scan {
	const struct image_repo *repo;
	bool need_all;                  /* a missing chunk is an error */
	struct manifest_reader *reader;
	struct manifest head;           /* header and partitions (no chunk list) */
	struct image_info info;
};
struct repo_upload {
	struct repo_scan scan;
	struct files_upload file;
	char tmp[64];                   /* its hidden name beneath the repository */
	uint64_t bytes;
};
int repo_upload_begin(struct repo_upload *u, const struct image_repo *r);
/* -EINVAL (a bad manifest), -ENOENT (a chunk not on the server), -EFBIG,
 * or a write error; err says which. */
int repo_upload_write(struct repo_upload *u, const void *data, size_t len, char *err,
    size_t errlen);
int repo_upload_finish(struct repo_upload *u, char *err, size_t errlen);
/* Link it into place as head.name; -EEXIST when the image exists and
 * replace is not set. */
int repo_upload_publish(struct repo_upload *u, bool replace, char *err, size_t errlen);
void repo_upload_abort(struct repo_upload *u);

/* Publish manifest text as image name (which must match its "name").
 * Refuses with -ENOENT (err names the first missing chunk) when a chunk is
 * missing, -EINVAL for a bad manifest.  An older image of the same name is
 * replaced atomically when replace is set, else refused with -EEXIST. */
int repo_publish(const struct image_repo *r, const char *text, size_t len, bool replace,
    char *err, size_t errlen);

/* Read a published manifest: malloc'd text (NUL-terminated) or NULL with
 * errno set (ENOENT). */
char *repo_manifest_text(const struct image_repo *r, const char *name, size_t *len);
int repo_load(const struct image_repo *r, const char *name, struct manifest *m,
    char *err, size_t errlen);
/* What the published manifest of name says, read as a stream (constant
 * memory): its header and partitions in *head (NULL: not wanted; no chunk
 * list), counts and sizes in *out (chunks missing from the repository
 * count as stored 0).  0, -ENOENT, or -EINVAL with err. */
int repo_scan(const struct image_repo *r, const char *name, struct manifest *head,
    struct image_info *out, char *err, size_t errlen);
int repo_info(const struct image_repo *r, const char *name, struct image_info *out);
/* Modification time (ns) and size of the manifest file of name, which
 * tell a manifest replaced since: 0 or a negative errno (-ENOENT). */
int repo_manifest_stamp(const struct image_repo *r, const char *name, int64_t *mtime_ns,
    uint64_t *size);

/* Names of the published images, sorted; *names is malloc'd (free it).
 * Returns the count or a negative errno. */
int repo_list(const struct image_repo *r, char (**names)[IMAGE_NAME_MAX + 1]);

/* Remove a published image (its chunks stay until repo_gc). */
int repo_remove(const struct image_repo *r, const char *name);

/* Delete chunks no published manifest names and older than min_age_s
 * (a capture in progress has uploaded chunks that no manifest names yet).
 * Returns the number of chunks removed or a negative errno; *freed gets
 * their compressed bytes. */
int repo_gc(const struct image_repo *r, unsigned min_age_s, uint64_t *freed);

/* Re-hash every chunk of an image: 0 when all are good, else the number
 * of bad or missing chunks (err names the first). */
int repo_verify(const struct image_repo *r, const char *name, char *err, size_t errlen);

#endif

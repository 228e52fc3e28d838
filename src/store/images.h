/* The image catalogue: a row per published image (schema 7).
 *
 * The repository's manifests stay the truth about an image's content
 * (immutable files any HTTP cache can serve); the catalogue is what the
 * API lists and shows without parsing a manifest per request.  A row is
 * written when an image is published, removed with it, and reconciled
 * with the repository at start-up (http/catalog.c): each row keeps the
 * size and modification time of the manifest it was made from, so a
 * manifest replaced behind pxed's back is noticed.
 *
 * Used from libmicrohttpd's threads and at start-up, each through a store
 * connection of its own; every call is one statement. */
#ifndef PXED_STORE_IMAGES_H
#define PXED_STORE_IMAGES_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define STORE_IMAGE_NAME 72

/* What identifies the manifest file a row was made from. */
struct store_image_stamp {
	int64_t mtime_ns;
	uint64_t size;
};

struct store_image {
	char name[STORE_IMAGE_NAME];
	int64_t created;                /* the capture's Unix time */
	uint64_t disk_size;
	uint64_t used;                  /* uncompressed bytes of its chunks */
	uint64_t stored;                /* compressed bytes of its chunks */
	uint64_t chunks;
	uint64_t partitions;
	char table[8];                  /* "gpt", "mbr", "none" */
	int64_t task;                   /* the capture task that published it; 0: unknown */
	struct store_image_stamp stamp;
	char *partition_list;           /* JSON array text, malloc'd; NULL from lists */
};

/* Insert the row, or replace the row of the same name.  0 or -EIO. */
int store_image_put(struct store *st, const struct store_image *im);
/* The row of name, its partition list included: 0, -ENOENT or -EIO. */
int store_image_get(struct store *st, const char *name, struct store_image *out);
/* Up to max rows ordered by name, those after the name after ("" from the
 * first), without partition lists; the count or -EIO.  A list longer
 * than max is read page by page, after the last name of a page. */
int store_image_list(struct store *st, const char *after, struct store_image *out,
    size_t max);
/* 0, or -ENOENT when there was no such row. */
int store_image_remove(struct store *st, const char *name);
void store_image_free(struct store_image *im);

/* Capture tasks pending, booting or running (their uploaded chunks are
 * named by no manifest yet): the count, or -EIO. */
int store_captures_active(struct store *st);

#endif

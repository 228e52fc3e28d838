/* The image catalogue kept beside the repository: a store row per
 * published manifest (store/images.h), made from the manifest.
 *
 * The manifest is the truth about an image; the row is what the API lists
 * and shows.  A publish writes the manifest first and then the row (when
 * the row cannot be written the image stands, and catalog_reconcile makes
 * the row at the next start); a removal takes both away.  Pure of
 * libmicrohttpd; called from the API's threads and at start-up. */
#ifndef PXED_API_CATALOG_H
#define PXED_API_CATALOG_H

#include <stdint.h>

#include "image/repo.h"
#include "store/images.h"

/* The row of the published image name, made from its manifest (the chunk
 * sizes summed, the partition list as the API shows it).  0, -ENOENT (no
 * such manifest), -EINVAL (a manifest that does not parse) or -ENOMEM.
 * Free with store_image_free. */
int catalog_row_make(const struct image_repo *r, const char *name, int64_t task,
    struct store_image *out);

/* The row of a just published image (task: the capture that published
 * it).  0 or a negative errno (logged by the caller). */
int catalog_record(const struct image_repo *r, struct store *st, const char *name,
    int64_t task);

struct catalog_report {
	unsigned added;         /* manifests that had no row */
	unsigned updated;       /* rows made again: their manifest had changed */
	unsigned removed;       /* rows whose manifest is gone (or unreadable) */
	unsigned kept;          /* rows that matched their manifest */
	unsigned failed;        /* rows that could not be written or removed */
};

/* Make the catalogue agree with the repository: a row for each manifest
 * that has none (or whose manifest changed since), no row without a
 * manifest.  Logs each image it adds, updates or removes.  0, or a
 * negative errno when the repository or the store could not be listed
 * (then nothing was changed). */
int catalog_reconcile(const struct image_repo *r, struct store *st,
    struct catalog_report *out);

#endif

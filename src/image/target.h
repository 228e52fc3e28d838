/* Deploying an image to a disk of another size than the captured one.
 *
 * A GPT image's backup table (its entries and header in the captured
 * disk's last sectors) is not written where the image has it: a deploy to
 * a disk of another sector count writes it at the end of the target
 * instead (gpt_relocate), so every other chunk and every partition must
 * end before the relocated backup begins.  An MBR has nothing at the end
 * of the disk: every chunk and partition must end inside it.  A disk
 * without a table is one filesystem: the target must be at least as large
 * as the captured disk.
 *
 * Pure: a manifest and a size in, a plan or a message out.  The agent
 * checks it before it writes anything (src/agent/deploy.c). */
#ifndef PXED_IMAGE_TARGET_H
#define PXED_IMAGE_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/manifest.h"

struct image_target {
	uint64_t disk_size;             /* the target's bytes */
	bool relocate;                  /* GPT, and the sector count differs */
	size_t head_count;              /* GPT: chunks [0, head_count) hold the
	                                 * MBR, primary header and entries */
	uint64_t head_bytes;            /* where they end */
	size_t backup_first;            /* GPT: the chunks of the backup table */
	size_t backup_count;
	uint64_t backup_bytes;
};

/* Plans the deploy of m to a disk of disk_size bytes.  0, or -ENOSPC with
 * a message naming the sizes and what would not fit (a partition, the data
 * at an offset, the partition table), or -EINVAL when a GPT image's tables
 * cannot be told apart from its data. */
int image_target_plan(const struct manifest *m, uint64_t disk_size,
    struct image_target *t, char *err, size_t errlen);

/* Chunk i is the image's backup GPT, and the deploy relocates it: it is
 * neither fetched nor written; the relocated copy is written instead. */
bool image_target_is_backup(const struct image_target *t, size_t i);

/* Chunk i holds bytes the relocation changes (the primary table or the
 * backup): verify checks them by their CRCs, not by the image's hash. */
bool image_target_is_rewritten(const struct image_target *t, size_t i);

#endif

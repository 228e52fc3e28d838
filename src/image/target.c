/* Deploying an image to a disk of another size: which chunks are the GPT's
 * tables, and whether the rest fits. */
#include "image/target.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "image/fs.h"

/* What ends furthest into the disk: a partition or a chunk. */
struct target_far {
	uint64_t end;
	unsigned part_index;            /* a partition, or 0 */
	const struct image_chunk *chunk; /* else this chunk */
};

/* The GPT's chunks: the table chunks that follow each other from offset 0
 * (MBR, primary header, entries) and those that follow each other up to
 * the captured disk's last whole sector (backup entries and header). */
static void
target_find_gpt(const struct manifest *m, struct image_target *t)
{
	uint64_t end = 0, start = m->disk_size - m->disk_size % m->sector_size;
	size_t i = m->nchunks;

	while (t->head_count < m->nchunks && m->chunk[t->head_count].table &&
	    m->chunk[t->head_count].offset == end) {
		end += m->chunk[t->head_count].length;
		t->head_count++;
	}
	t->head_bytes = end;
	while (i > t->head_count && m->chunk[i - 1].table &&
	    m->chunk[i - 1].offset + m->chunk[i - 1].length == start) {
		start = m->chunk[i - 1].offset;
		i--;
	}
	t->backup_first = i;
	t->backup_count = m->nchunks - i;
	t->backup_bytes = m->disk_size - m->disk_size % m->sector_size - start;
}

bool
image_target_is_backup(const struct image_target *t, size_t i)
{
	return t->relocate && i >= t->backup_first &&
	    i - t->backup_first < t->backup_count;
}

bool
image_target_is_rewritten(const struct image_target *t, size_t i)
{
	return t->relocate && (i < t->head_count || image_target_is_backup(t, i));
}

static struct target_far
target_find_far(const struct manifest *m, const struct image_target *t)
{
	struct target_far far = { 0 };

	for (size_t i = 0; i < m->nparts; i++) {
		if (m->part[i].offset + m->part[i].length > far.end)
			far = (struct target_far){ .end = m->part[i].offset + m->part[i].length,
				.part_index = m->part[i].index };
	}
	for (size_t i = 0; i < m->nchunks; i++) {
		const struct image_chunk *c = &m->chunk[i];
		if (!image_target_is_backup(t, i) && c->offset + c->length > far.end)
			far = (struct target_far){ .end = c->offset + c->length, .chunk = c };
	}
	return far;
}

static void
target_far_name(const struct target_far *far, char *out, size_t size)
{
	if (far->part_index != 0)
		snprintf(out, size, "partition %u", far->part_index);
	else if (far->chunk != NULL && far->chunk->table)
		snprintf(out, size, "the partition table at byte %" PRIu64,
		    far->chunk->offset);
	else if (far->chunk != NULL)
		snprintf(out, size, "the data at byte %" PRIu64, far->chunk->offset);
	else
		snprintf(out, size, "nothing");
}

/* The bytes the target needs: what ends furthest (rounded up to a whole
 * sector), plus the relocated backup GPT after it. */
static int
target_check_fit(const struct manifest *m, const struct image_target *t,
    char *err, size_t errlen)
{
	uint64_t ss = m->sector_size, usable = t->disk_size - t->disk_size % ss;
	struct target_far far = target_find_far(m, t);
	uint64_t need = (far.end + ss - 1) / ss * ss + (t->relocate ? t->backup_bytes : 0);
	char what[64];

	if (need <= (t->relocate ? usable : t->disk_size))
		return 0;
	target_far_name(&far, what, sizeof what);
	if (t->relocate)
		image_error(err, errlen, "disk too small: %s ends at byte %" PRIu64
		    " and the backup GPT needs %" PRIu64 " bytes after it, so the disk "
		    "needs %" PRIu64 " bytes; it has %" PRIu64 " (the image is of a "
		    "%" PRIu64 "-byte disk)", what, far.end, t->backup_bytes, need,
		    t->disk_size, m->disk_size);
	else
		image_error(err, errlen, "disk too small: %s ends at byte %" PRIu64
		    "; the disk has %" PRIu64 " bytes (the image is of a %" PRIu64
		    "-byte disk)", what, far.end, t->disk_size, m->disk_size);
	return -ENOSPC;
}

int
image_target_plan(const struct manifest *m, uint64_t disk_size,
    struct image_target *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	t->disk_size = disk_size;
	if (m->table == PTABLE_NONE && disk_size < m->disk_size) {
		image_error(err, errlen, "disk too small: the image is one filesystem "
		    "on a whole %" PRIu64 "-byte disk; this disk has %" PRIu64 " bytes",
		    m->disk_size, disk_size);
		return -ENOSPC;
	}
	if (m->table != PTABLE_GPT)
		return target_check_fit(m, t, err, errlen);
	target_find_gpt(m, t);
	t->relocate = disk_size / m->sector_size != m->disk_size / m->sector_size;
	if (t->relocate && (t->backup_count == 0 || t->head_bytes < 2 * m->sector_size)) {
		image_error(err, errlen, "the image's GPT cannot be moved to a disk of "
		    "another size: its primary and backup tables are not chunks of "
		    "their own; the disk must have %" PRIu64 " bytes, it has %" PRIu64,
		    m->disk_size, disk_size);
		return -EINVAL;
	}
	return target_check_fit(m, t, err, errlen);
}

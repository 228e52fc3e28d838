/* Capture planning: used extents -> table and data chunks. */
#include "agent/plan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "image/chunk.h"

static int
extent_cmp(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

size_t
extents_normalize(struct extent *v, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, extent_cmp);
	for (size_t i = 0; i < n; i++) {
		if (v[i].length == 0)
			continue;
		if (out > 0 && v[i].offset <= v[out - 1].offset + v[out - 1].length) {
			uint64_t end = v[i].offset + v[i].length;
			if (end > v[out - 1].offset + v[out - 1].length)
				v[out - 1].length = end - v[out - 1].offset;
			continue;
		}
		v[out++] = v[i];
	}
	return out;
}

/* Append without merging (the list may be unsorted until normalized). */
static int
extents_push(struct extent_list *l, uint64_t offset, uint64_t length)
{
	if (length == 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct extent *v = reallocarray(l->v, cap, sizeof *v);
		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct extent){ offset, length };
	return 0;
}

int
extents_subtract(const struct extent_list *a, const struct extent_list *b,
    struct extent_list *out)
{
	size_t j = 0;

	for (size_t i = 0; i < a->n; i++) {
		uint64_t start = a->v[i].offset, end = start + a->v[i].length;
		while (j < b->n && b->v[j].offset + b->v[j].length <= start)
			j++;
		for (size_t k = j; k < b->n && b->v[k].offset < end; k++) {
			if (b->v[k].offset > start && extents_push(out, start,
			    b->v[k].offset - start) < 0)
				return -ENOMEM;
			if (b->v[k].offset + b->v[k].length > start)
				start = b->v[k].offset + b->v[k].length;
		}
		if (start < end && extents_push(out, start, end - start) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The used bytes of one range: appended to all; the filesystem's kind and
 * byte count to kind and used when asked. */
static int
probe_range(int fd, uint64_t offset, uint64_t length, struct extent_list *all,
    enum fs_kind *kind, uint64_t *used, char *err, size_t errlen)
{
	struct extent_list found = { 0 };
	enum fs_kind k = FS_UNKNOWN;
	int rc = fs_used_extents(fd, offset, length, &k, &found, err, errlen);

	for (size_t i = 0; rc == 0 && i < found.n; i++)
		rc = extents_push(all, found.v[i].offset, found.v[i].length);
	if (kind != NULL)
		*kind = k;
	if (used != NULL)
		*used = extent_list_bytes(&found);
	extent_list_free(&found);
	return rc;
}

static int
probe_partitions(int fd, const struct disk_layout *layout, bool raw_encrypted,
    struct capture_plan *p, struct extent_list *all, char *err, size_t errlen)
{
	char why[256];

	for (size_t i = 0; i < layout->nparts; i++) {
		const struct partition *part = &layout->part[i];
		struct image_part *ip = &p->part[i];
		*ip = (struct image_part){ .index = part->index, .offset = part->offset,
		    .length = part->length };
		if (probe_range(fd, part->offset, part->length, all, &ip->fs, &ip->used,
		    why, sizeof why) < 0) {
			snprintf(err, errlen, "partition %u: %s", part->index, why);
			return -EIO;
		}
		if (ip->fs == FS_BITLOCKER && !raw_encrypted) {
			snprintf(err, errlen, "partition %u is encrypted with BitLocker: its "
			    "content cannot be read; capture it whole as raw data with "
			    "--raw-encrypted (raw_encrypted), or decrypt it first", part->index);
			return -EPERM;
		}
	}
	p->nparts = layout->nparts;
	return 0;
}

/* The space outside every partition and table.  Only the boot loader gap
 * (between the table and the first partition: GRUB's core image, other
 * loaders) is kept, as its non-zero blocks, unless outside is set: then
 * every free byte is probed (the GPT's free space after the last partition,
 * the room between logical partitions), a previous owner's old data
 * included.  A disk without a table is one range probed whole (a
 * filesystem on the whole disk).  The tables are chunks of their own: the
 * zeros of a 64 KiB block around one (the backup GPT's) must not become a
 * data chunk that a deploy to a smaller disk would have to fit. */
static int
probe_gaps(int fd, const struct disk_layout *layout, bool outside,
    struct extent_list *all, char *err, size_t errlen)
{
	struct extent cover[DISK_MAX_PARTS + DISK_MAX_TABLE];
	uint64_t at = 0, first = layout->disk_size;
	size_t n = 0;
	char why[256];

	for (size_t i = 0; i < layout->nparts; i++) {
		cover[n++] = (struct extent){ layout->part[i].offset, layout->part[i].length };
		first = MIN(first, layout->part[i].offset);
	}
	for (size_t i = 0; i < layout->ntable; i++)
		cover[n++] = layout->table[i];
	n = extents_normalize(cover, n);
	for (size_t i = 0; i <= n; i++) {
		uint64_t end = i < n ? cover[i].offset : layout->disk_size;
		if (!outside && layout->kind != PTABLE_NONE)
			end = MIN(end, first);
		if (end > at && probe_range(fd, at, end - at, all, NULL, NULL, why,
		    sizeof why) < 0) {
			snprintf(err, errlen, "space at %" PRIu64 ": %s", at, why);
			return -EIO;
		}
		if (i < n && cover[i].offset + cover[i].length > at)
			at = cover[i].offset + cover[i].length;
	}
	return 0;
}

static int
chunks_append(struct capture_plan *p, const struct extent_list *cut, bool table)
{
	struct image_chunk *v = reallocarray(p->chunk, p->nchunks + cut->n + 1, sizeof *v);

	if (v == NULL)
		return -ENOMEM;
	p->chunk = v;
	for (size_t i = 0; i < cut->n; i++) {
		v[p->nchunks++] = (struct image_chunk){ .offset = cut->v[i].offset,
		    .length = (uint32_t)cut->v[i].length, .table = table };
		p->bytes += cut->v[i].length;
	}
	return 0;
}

/* Data chunks are planned between table extents so that the merging of
 * nearby extents never swallows one. */
static int
plan_data(struct capture_plan *p, const struct extent_list *data,
    const struct extent_list *table, uint64_t chunk_size)
{
	struct extent_list part = { 0 }, cut = { 0 };
	size_t d = 0;
	int rc = 0;

	for (size_t t = 0; t <= table->n && rc == 0; t++) {
		uint64_t limit = t < table->n ? table->v[t].offset : UINT64_MAX;
		part.n = cut.n = 0;
		while (rc == 0 && d < data->n && data->v[d].offset < limit) {
			rc = extents_push(&part, data->v[d].offset, data->v[d].length);
			d++;
		}
		if (rc == 0)
			rc = chunk_plan(&part, chunk_size, PLAN_MERGE_GAP, &cut);
		if (rc == 0)
			rc = chunks_append(p, &cut, false);
	}
	extent_list_free(&part);
	extent_list_free(&cut);
	return rc;
}

static int
chunk_cmp(const void *a, const void *b)
{
	const struct image_chunk *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int
plan_chunks(struct capture_plan *p, struct extent_list *all, uint64_t chunk_size)
{
	struct extent_list table = { 0 }, data = { 0 }, cut = { 0 };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < p->layout.ntable; i++)
		rc = extents_push(&table, p->layout.table[i].offset, p->layout.table[i].length);
	if (rc == 0) {
		table.n = extents_normalize(table.v, table.n);
		all->n = extents_normalize(all->v, all->n);
		rc = extents_subtract(all, &table, &data);
	}
	if (rc == 0)
		rc = chunk_plan(&table, chunk_size, 0, &cut);
	if (rc == 0)
		rc = chunks_append(p, &cut, true);
	if (rc == 0)
		rc = plan_data(p, &data, &table, chunk_size);
	if (rc == 0)
		qsort(p->chunk, p->nchunks, sizeof *p->chunk, chunk_cmp);
	extent_list_free(&table);
	extent_list_free(&data);
	extent_list_free(&cut);
	return rc;
}

int
capture_plan_layout(int fd, const struct disk_layout *layout,
    const struct plan_options *o, struct capture_plan *p, char *err, size_t errlen)
{
	struct extent_list all = { 0 };
	int rc;

	memset(p, 0, sizeof *p);
	p->layout = *layout;
	rc = probe_partitions(fd, layout, o->raw_encrypted, p, &all, err, errlen);
	if (rc == 0)
		rc = probe_gaps(fd, layout, o->outside_partitions, &all, err, errlen);
	if (rc == 0 && plan_chunks(p, &all, o->chunk_size) < 0) {
		snprintf(err, errlen, "out of memory planning the chunks");
		rc = -ENOMEM;
	}
	extent_list_free(&all);
	if (rc < 0)
		capture_plan_free(p);
	return rc;
}

int
capture_plan_build(int fd, const struct plan_options *o, struct capture_plan *p,
    char *err, size_t errlen)
{
	struct disk_layout *layout = calloc(1, sizeof *layout);
	int rc;

	memset(p, 0, sizeof *p);
	if (layout == NULL)
		return -ENOMEM;
	rc = disk_read_layout(fd, layout, err, errlen);
	if (rc == 0)
		rc = capture_plan_layout(fd, layout, o, p, err, errlen);
	free(layout);
	return rc;
}

void
capture_plan_free(struct capture_plan *p)
{
	free(p->chunk);
	p->chunk = NULL;
	p->nchunks = 0;
}


/* FAT12/16/32 used bytes, without a library: the reserved sectors, every
 * FAT and (FAT12/16) the root directory are always used; a data cluster
 * is used when its FAT entry is neither free (0) nor bad.  The FAT32
 * backup boot sector and FSInfo lie in the reserved sectors.
 *
 * Parsing runs over a reader callback so the fuzzer can feed it memory;
 * fs_fat_used is the pread glue.  The FAT type follows Linux: FAT32 when
 * the 16-bit FAT size is 0, else FAT12 below 4085 clusters, else FAT16. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"
#include "core/util.h"
#include "image/disk.h"
#include "image/fs.h"

#define FAT_SECTOR_MIN          512
#define FAT12_MAX_CLUSTERS      4084
#define FAT16_MAX_CLUSTERS      65524
#define FAT32_MAX_CLUSTERS      0x0ffffff5u
#define FAT_CHUNK_ENTRIES       43690   /* 65535 bytes of FAT12, multiple of 2 */

struct fat_bpb {
	uint8_t jump;
	uint16_t bytes_per_sector;
	uint8_t sectors_per_cluster;
	uint16_t reserved_sectors;
	uint8_t fats;
	uint16_t root_entries;
	uint16_t total16;
	uint8_t media;
	uint16_t fat16_sectors;
	uint32_t total32;
	uint32_t fat32_sectors;
	uint32_t root_cluster;          /* FAT32 */
};

static bool
fat_bpb_read(const uint8_t *sector, size_t len, struct fat_bpb *b)
{
	struct cursor c = cursor_make(sector, len);

	if (len < FAT_SECTOR_MIN || sector[510] != 0x55 || sector[511] != 0xaa)
		return false;
	return cursor_u8(&c, &b->jump) && cursor_skip(&c, 2 + 8) &&
	    cursor_le16(&c, &b->bytes_per_sector) &&
	    cursor_u8(&c, &b->sectors_per_cluster) &&
	    cursor_le16(&c, &b->reserved_sectors) &&
	    cursor_u8(&c, &b->fats) &&
	    cursor_le16(&c, &b->root_entries) &&
	    cursor_le16(&c, &b->total16) &&
	    cursor_u8(&c, &b->media) &&
	    cursor_le16(&c, &b->fat16_sectors) &&
	    cursor_skip(&c, 2 + 2 + 4) &&       /* geometry, hidden sectors */
	    cursor_le32(&c, &b->total32) &&
	    cursor_le32(&c, &b->fat32_sectors) &&
	    cursor_skip(&c, 2 + 2) &&           /* flags, version */
	    cursor_le32(&c, &b->root_cluster);
}

static bool
power_of_two(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static bool
fat_bpb_sane(const struct fat_bpb *b)
{
	return (b->jump == 0xeb || b->jump == 0xe9) &&
	    power_of_two(b->bytes_per_sector) && b->bytes_per_sector >= 512 &&
	    b->bytes_per_sector <= 4096 &&
	    power_of_two(b->sectors_per_cluster) &&
	    b->reserved_sectors >= 1 && b->fats >= 1 && b->fats <= 4 &&
	    (b->media == 0xf0 || b->media >= 0xf8) &&
	    (b->total16 != 0 || b->total32 != 0) &&
	    (b->fat16_sectors != 0 || b->fat32_sectors != 0);
}

/* The FAT holds an entry for every cluster (and the two reserved ones). */
static bool
fat_geometry_derive(struct fat_geometry *g)
{
	uint64_t root_sectors, entries;

	root_sectors = ((uint64_t)g->root_entries * 32 + g->bytes_per_sector - 1) /
	    g->bytes_per_sector;
	g->data_sector = g->reserved_sectors + g->fats * g->fat_sectors +
	    root_sectors;
	if (g->data_sector >= g->total_sectors)
		return false;
	g->clusters = (g->total_sectors - g->data_sector) / g->sectors_per_cluster;
	g->cluster_bytes = (uint64_t)g->sectors_per_cluster * g->bytes_per_sector;
	if (g->clusters == 0)
		return false;
	if (g->bits == 32) {
		if (g->root_entries != 0 || g->clusters > FAT32_MAX_CLUSTERS)
			return false;
	} else {
		g->bits = g->clusters <= FAT12_MAX_CLUSTERS ? 12 : 16;
		if (g->root_entries == 0 || g->clusters > FAT16_MAX_CLUSTERS)
			return false;
	}
	entries = g->fat_sectors * g->bytes_per_sector * 8 / g->bits;
	return entries >= g->clusters + 2;
}

bool
fat_geometry_read(const uint8_t *sector, size_t len, struct fat_geometry *g)
{
	struct fat_bpb b;

	if (!fat_bpb_read(sector, len, &b) || !fat_bpb_sane(&b))
		return false;
	memset(g, 0, sizeof(*g));
	g->bytes_per_sector = b.bytes_per_sector;
	g->sectors_per_cluster = b.sectors_per_cluster;
	g->reserved_sectors = b.reserved_sectors;
	g->fats = b.fats;
	g->root_entries = b.root_entries;
	g->total_sectors = b.total16 != 0 ? b.total16 : b.total32;
	g->fat_sectors = b.fat16_sectors != 0 ? b.fat16_sectors : b.fat32_sectors;
	g->bits = b.fat16_sectors == 0 ? 32 : 0;
	g->root_cluster = b.root_cluster;
	return fat_geometry_derive(g);
}

bool
fat_boot_sector_valid(const uint8_t *sector, size_t len)
{
	struct fat_geometry g;

	return fat_geometry_read(sector, len, &g);
}

/* Entry i of a FAT chunk of n bytes (i counted from the chunk's start,
 * which is entry-aligned: FAT12 chunks hold an even number of entries). */
static bool
fat_entry(const uint8_t *chunk, size_t n, unsigned bits, size_t i,
    uint32_t *value)
{
	size_t at = bits == 12 ? i + i / 2 : i * (bits / 8);
	struct cursor c = cursor_make(chunk, n);
	uint16_t v16;

	if (!cursor_skip(&c, at))
		return false;
	if (bits == 32) {
		if (!cursor_le32(&c, value))
			return false;
		*value &= 0x0fffffff;           /* the top 4 bits are reserved */
		return true;
	}
	if (!cursor_le16(&c, &v16))
		return false;
	if (bits == 12)
		v16 = (i & 1) ? (uint16_t)(v16 >> 4) : (uint16_t)(v16 & 0x0fff);
	*value = v16;
	return true;
}

static bool
fat_entry_used(unsigned bits, uint32_t v)
{
	uint32_t bad = bits == 12 ? 0xff7 : bits == 16 ? 0xfff7 : 0x0ffffff7;

	return v != 0 && v != bad;
}

struct fat_walk {
	fat_read_fn *read;
	void *ctx;
	uint64_t base;
	const struct fat_geometry *g;
	struct extent_list *out;
};

/* Reads one chunk of the first FAT (entries [first, first+count)) and adds
 * the clusters in use. */
static int
fat_walk_chunk(struct fat_walk *w, uint8_t *buf, uint64_t first, size_t count)
{
	const struct fat_geometry *g = w->g;
	uint64_t fat_at = (uint64_t)g->reserved_sectors * g->bytes_per_sector;
	uint64_t at = fat_at + first * g->bits / 8;
	size_t n = (count * g->bits + 7) / 8;
	uint64_t data_at = w->base + g->data_sector * g->bytes_per_sector;
	int rc;

	rc = w->read(w->ctx, at, buf, n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < count; i++) {
		uint64_t cluster = first + i;
		uint32_t v;

		if (cluster < 2)
			continue;
		if (!fat_entry(buf, n, g->bits, i, &v))
			return -EINVAL;
		if (!fat_entry_used(g->bits, v))
			continue;
		rc = extent_list_add(w->out,
		    data_at + (cluster - 2) * g->cluster_bytes, g->cluster_bytes);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
fat_used_extents(fat_read_fn *read, void *ctx, uint64_t base, uint64_t length,
    struct extent_list *out, char *err, size_t errlen)
{
	uint8_t sector[FAT_SECTOR_MIN];
	struct fat_geometry g;
	struct fat_walk w = { read, ctx, base, &g, out };
	size_t chunk = FAT_CHUNK_ENTRIES;
	uint8_t *buf;
	int rc;

	rc = read(ctx, 0, sector, sizeof(sector));
	if (rc < 0) {
		image_error(err, errlen, "FAT: reading the boot sector failed");
		return rc;
	}
	if (!fat_geometry_read(sector, sizeof(sector), &g)) {
		image_error(err, errlen, "FAT: not a valid boot sector");
		return -EINVAL;
	}
	if (g.total_sectors * g.bytes_per_sector > length) {
		image_error(err, errlen, "FAT: filesystem (%llu sectors) larger "
		    "than its partition", (unsigned long long)g.total_sectors);
		return -EINVAL;
	}
	rc = extent_list_add(out, base, g.data_sector * g.bytes_per_sector);
	buf = malloc(chunk * 4);
	if (buf == NULL)
		return -ENOMEM;
	for (uint64_t first = 0; rc == 0 && first < g.clusters + 2; first += chunk)
		rc = fat_walk_chunk(&w, buf, first,
		    (size_t)MIN((uint64_t)chunk, g.clusters + 2 - first));
	free(buf);
	if (rc < 0)
		image_error(err, errlen, "FAT: reading the allocation table "
		    "failed");
	return rc;
}

struct fat_fd {
	int fd;
	uint64_t offset;
};

static int
fat_fd_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
	const struct fat_fd *f = ctx;

	return image_pread(f->fd, buf, len, f->offset + offset);
}

int
fs_fat_used(int fd, uint64_t offset, uint64_t length, struct extent_list *out,
    char *err, size_t errlen)
{
	struct fat_fd f = { fd, offset };

	return fat_used_extents(fat_fd_read, &f, offset, length, out, err,
	    errlen);
}

/* ---- files (fs_file.c): the reader over the disk's descriptor ---- */

struct fat_handle {
	struct fat_fd fd;
	struct fat_files files;
};

int
fs_fat_open(int fd, uint64_t offset, uint64_t length, void **out, char *err, size_t errlen)
{
	struct fat_handle *h = calloc(1, sizeof *h);
	int rc;

	*out = NULL;
	if (h == NULL)
		return -ENOMEM;
	h->fd = (struct fat_fd){ fd, offset };
	rc = fat_files_open(&h->files, fat_fd_read, &h->fd, length, err, errlen);
	if (rc < 0)
		free(h);
	else
		*out = h;
	return rc;
}

void
fs_fat_close(void *handle)
{
	free(handle);
}

int
fs_fat_walk(void *handle, size_t max, struct fs_entries *out, char *err, size_t errlen)
{
	struct fat_handle *h = handle;

	return fat_files_walk(&h->files, max, out, err, errlen);
}

struct fat_reader {
	struct fat_files *files;
	uint32_t cluster;
	uint64_t size;
	uint64_t hint_index;
	uint32_t hint_cluster;
};

int
fs_fat_reader_open(void *handle, uint64_t id, void **out, uint64_t *size)
{
	struct fat_handle *h = handle;
	struct fat_reader *r = calloc(1, sizeof *r);
	int rc;

	*out = NULL;
	if (r == NULL)
		return -ENOMEM;
	r->files = &h->files;
	rc = fat_files_entry(&h->files, id, &r->cluster, &r->size);
	if (rc < 0) {
		free(r);
		return rc;
	}
	*size = r->size;
	*out = r;
	return 0;
}

ssize_t
fs_fat_reader_pread(void *reader, void *buf, size_t n, uint64_t off)
{
	struct fat_reader *r = reader;

	return fat_files_pread(r->files, r->cluster, r->size, buf, n, off, &r->hint_index,
	    &r->hint_cluster);
}

void
fs_fat_reader_close(void *reader)
{
	free(reader);
}

/* The files of a FAT12/16/32 filesystem, read-only, without a library:
 * directories are walked breadth first from the root (FAT12/16: the fixed
 * root directory region; FAT32: the root cluster chain), 32-byte entries
 * at a time; long names (VFAT) are used when their checksum matches the
 * short entry that follows them, else the 8.3 name.  Every cluster chain
 * is followed through the first FAT with a bound on its length (a loop or
 * a chain longer than the filesystem ends it).
 *
 * Parsing runs over a reader callback (fs.h: fat_read_fn), so the fuzzer
 * feeds it memory (fuzz/fuzz_fat.c). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"
#include "core/util.h"
#include "image/fs.h"

#define DIRENT_SIZE     32
#define ATTR_LFN        0x0f
#define ATTR_DIR        0x10
#define ATTR_VOLUME     0x08
#define LFN_CHARS       13
#define LFN_MAX_PARTS   20              /* 255 characters */
#define DIR_ENTRIES_MAX (1u << 20)      /* entries read from one directory */

int
fat_files_open(struct fat_files *f, fat_read_fn *read, void *ctx, uint64_t length,
    char *err, size_t errlen)
{
	uint8_t sector[512];
	int rc;

	memset(f, 0, sizeof *f);
	f->read = read;
	f->ctx = ctx;
	f->length = length;
	rc = read(ctx, 0, sector, sizeof sector);
	if (rc < 0 || !fat_geometry_read(sector, sizeof sector, &f->g)) {
		image_error(err, errlen, "FAT: not a valid boot sector");
		return rc < 0 ? rc : -EINVAL;
	}
	if (f->g.total_sectors * f->g.bytes_per_sector > length) {
		image_error(err, errlen, "FAT: filesystem larger than its partition");
		return -EINVAL;
	}
	if (f->g.bits == 32 && (f->g.root_cluster < 2 ||
	    f->g.root_cluster >= f->g.clusters + 2)) {
		image_error(err, errlen, "FAT32: root cluster %u outside the filesystem",
		    f->g.root_cluster);
		return -EINVAL;
	}
	return 0;
}

/* The FAT entry of cluster: the next one, or >= the end mark. */
static int
fat_next(struct fat_files *f, uint32_t cluster, uint32_t *next)
{
	const struct fat_geometry *g = &f->g;
	uint64_t at = (uint64_t)g->reserved_sectors * g->bytes_per_sector +
	    (g->bits == 12 ? cluster + cluster / 2 : (uint64_t)cluster * (g->bits / 8));
	uint8_t b[4] = { 0 };
	int rc = f->read(f->ctx, at, b, g->bits == 32 ? 4 : 2);

	if (rc < 0)
		return rc;
	if (g->bits == 32)
		*next = ((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
		    (uint32_t)b[3] << 24) & 0x0fffffff;
	else if (g->bits == 16)
		*next = (uint32_t)b[0] | (uint32_t)b[1] << 8;
	else
		*next = (cluster & 1) ? ((uint32_t)b[0] >> 4 | (uint32_t)b[1] << 4) :
		    ((uint32_t)b[0] | ((uint32_t)b[1] & 0x0f) << 8);
	return 0;
}

static bool
cluster_ok(const struct fat_files *f, uint32_t c)
{
	return c >= 2 && (uint64_t)c < f->g.clusters + 2;
}

static uint64_t
cluster_at(const struct fat_files *f, uint32_t c)
{
	return (f->g.data_sector * f->g.bytes_per_sector) + (uint64_t)(c - 2) *
	    f->g.cluster_bytes;
}

/* ---- directories ---- */

struct fat_name {
	uint16_t lfn[LFN_MAX_PARTS * LFN_CHARS];
	unsigned parts;                 /* expected parts, 0: none pending */
	uint32_t seen;                  /* bit per part seen */
	uint8_t checksum;
};

static uint8_t
short_checksum(const uint8_t *name)
{
	uint8_t sum = 0;

	for (int i = 0; i < 11; i++)
		sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + name[i]);
	return sum;
}

static void
lfn_take(struct fat_name *n, const uint8_t *e)
{
	static const unsigned at[LFN_CHARS] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };
	unsigned seq = e[0] & 0x1f;

	if (seq == 0 || seq > LFN_MAX_PARTS) {
		n->parts = 0;
		return;
	}
	if (e[0] & 0x40) {              /* the last part comes first */
		memset(n, 0, sizeof *n);
		n->parts = seq;
		n->checksum = e[13];
	}
	if (n->parts == 0 || seq > n->parts || e[13] != n->checksum) {
		n->parts = 0;
		return;
	}
	for (unsigned i = 0; i < LFN_CHARS; i++)
		n->lfn[(seq - 1) * LFN_CHARS + i] = (uint16_t)(e[at[i]] | e[at[i] + 1] << 8);
	n->seen |= 1u << (seq - 1);
}

/* UTF-16 (to its NUL or 0xFFFF padding) into UTF-8; false when empty or
 * holding '/', control characters or lone surrogates. */
static bool
lfn_utf8(const struct fat_name *n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n->parts * LFN_CHARS; i++) {
		uint32_t c = n->lfn[i];
		if (c == 0 || c == 0xffff)
			break;
		if (c >= 0xd800 && c < 0xdc00 && i + 1 < n->parts * LFN_CHARS &&
		    n->lfn[i + 1] >= 0xdc00 && n->lfn[i + 1] < 0xe000)
			c = 0x10000 + ((c - 0xd800) << 10) + (n->lfn[++i] - 0xdc00u);
		if (c < 0x20 || c == '/' || c == 0x7f || (c >= 0xd800 && c < 0xe000))
			return false;
		size_t len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
		if (o + len + 1 > size)
			return false;
		if (len == 1) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = (char)((len == 2 ? 0xc0 : len == 3 ? 0xe0 : 0xf0) | c >> (6 * (len - 1)));
		for (size_t k = 1; k < len; k++)
			out[o++] = (char)(0x80 | ((c >> (6 * (len - 1 - k))) & 0x3f));
	}
	out[o] = '\0';
	return o > 0;
}

static char
lower_if(uint8_t c, bool lower)
{
	return (char)(lower && c >= 'A' && c <= 'Z' ? c + 32 : c);
}

/* The 8.3 name "NAME.EXT" (spaces trimmed; lower case where Windows NT's
 * flags in byte 12 say so; '/' and controls as '_'). */
static void
short_name(const uint8_t *e, char *out)
{
	size_t o = 0;

	for (int i = 0; i < 8 && e[i] != ' '; i++)
		out[o++] = i == 0 && e[0] == 0x05 ? (char)0xe5 : lower_if(e[i], e[12] & 0x08);
	if (e[8] != ' ')
		out[o++] = '.';
	for (int i = 8; i < 11 && e[i] != ' '; i++)
		out[o++] = lower_if(e[i], e[12] & 0x10);
	out[o] = '\0';
	for (size_t i = 0; i < o; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == '/' || (unsigned char)out[i] >= 0x7f)
			out[i] = '_';
}

struct fat_dir_walk {
	struct fat_files *f;
	struct fs_entries *files, dirs;
	const char *path;
	struct fat_name name;
	size_t max;
};

/* One 32-byte entry at byte offset at.  1: the directory's end. */
static int
dir_entry(struct fat_dir_walk *w, const uint8_t *e, uint64_t at)
{
	char name[4 * 255 + 1], path[FS_PATH_MAX];
	struct cursor c = cursor_make(e, DIRENT_SIZE);
	uint16_t hi, lo;
	uint32_t size;

	if (e[0] == 0x00)
		return 1;
	if (e[0] == 0xe5) {
		w->name.parts = 0;
		return 0;
	}
	if (e[11] == ATTR_LFN) {
		lfn_take(&w->name, e);
		return 0;
	}
	if (!(cursor_skip(&c, 20) && cursor_le16(&c, &hi) && cursor_skip(&c, 4) &&
	    cursor_le16(&c, &lo) && cursor_le32(&c, &size)))
		return -EINVAL;
	if (w->name.parts == 0 || w->name.seen != (1u << w->name.parts) - 1 ||
	    w->name.checksum != short_checksum(e) || !lfn_utf8(&w->name, name, sizeof name))
		short_name(e, name);
	w->name.parts = 0;
	if ((e[11] & ATTR_VOLUME) || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    name[0] == '\0' || (size_t)snprintf(path, sizeof path, "%s/%s",
	    strcmp(w->path, "/") == 0 ? "" : w->path, name) >= sizeof path)
		return 0;
	uint32_t cluster = (w->f->g.bits == 32 ? (uint32_t)hi << 16 : 0) | lo;
	if (e[11] & ATTR_DIR)
		return cluster_ok(w->f, cluster) ? fs_entries_add(&w->dirs, path, cluster, 0) : 0;
	if (w->files->n >= w->max)
		return -E2BIG;
	return fs_entries_add(w->files, path, at, size);
}

/* Entries [at, at + len) of a directory, read a cluster (or sector) at a time. */
static int
dir_span(struct fat_dir_walk *w, uint64_t at, uint64_t len, uint8_t *buf, size_t *count)
{
	int rc = w->f->read(w->f->ctx, at, buf, (size_t)len);

	for (uint64_t i = 0; rc == 0 && i + DIRENT_SIZE <= len; i += DIRENT_SIZE) {
		if (++*count > DIR_ENTRIES_MAX)
			return 1;
		rc = dir_entry(w, buf + i, at + i);
	}
	return rc;
}

static int
dir_read(struct fat_dir_walk *w, uint32_t first, uint8_t *buf)
{
	const struct fat_geometry *g = &w->f->g;
	uint32_t c = first, next;
	size_t count = 0;
	int rc = 0;

	w->name.parts = 0;
	if (first == 0) {                       /* FAT12/16: the fixed root directory */
		uint64_t at = (uint64_t)(g->reserved_sectors + g->fats * g->fat_sectors) *
		    g->bytes_per_sector;
		for (uint32_t i = 0; rc == 0 && i < g->root_entries; i += g->bytes_per_sector /
		    DIRENT_SIZE)
			rc = dir_span(w, at + (uint64_t)i * DIRENT_SIZE, g->bytes_per_sector, buf,
			    &count);
		return rc > 0 ? 0 : rc;
	}
	for (uint64_t n = 0; rc == 0 && cluster_ok(w->f, c) && n <= g->clusters; n++) {
		rc = dir_span(w, cluster_at(w->f, c), g->cluster_bytes, buf, &count);
		if (rc == 0)
			rc = fat_next(w->f, c, &next);
		c = next;
	}
	return rc > 0 ? 0 : rc;
}

int
fat_files_walk(struct fat_files *f, size_t max, struct fs_entries *out, char *err,
    size_t errlen)
{
	struct fat_dir_walk w = { .f = f, .files = out, .max = max };
	uint8_t *buf = malloc(MAX(f->g.cluster_bytes, (uint64_t)f->g.bytes_per_sector));
	int rc = buf != NULL ? fs_entries_add(&w.dirs, "/", f->g.bits == 32 ?
	    f->g.root_cluster : 0, 0) : -ENOMEM;

	/* a loop of directories grows the list past the cluster count: damaged */
	for (size_t i = 0; rc == 0 && i < w.dirs.n; i++) {
		w.path = w.dirs.v[i].path;
		rc = dir_read(&w, (uint32_t)w.dirs.v[i].id, buf);
		if (w.dirs.n > f->g.clusters + 1)
			rc = rc < 0 ? rc : -EINVAL;     /* more directories than clusters */
	}
	if (rc < 0)
		image_error(err, errlen, rc == -E2BIG ? "FAT: more than %zu files" :
		    "FAT: a directory is damaged", max);
	free(buf);
	fs_entries_free(&w.dirs);
	return rc;
}

int
fat_files_entry(struct fat_files *f, uint64_t id, uint32_t *cluster, uint64_t *size)
{
	uint8_t e[DIRENT_SIZE];
	int rc = f->read(f->ctx, id, e, sizeof e);

	if (rc < 0)
		return rc;
	*cluster = (f->g.bits == 32 ? (uint32_t)(e[20] | e[21] << 8) << 16 : 0) |
	    (uint32_t)(e[26] | e[27] << 8);
	*size = (uint64_t)e[28] | (uint64_t)e[29] << 8 | (uint64_t)e[30] << 16 |
	    (uint64_t)e[31] << 24;
	return 0;
}

ssize_t
fat_files_pread(struct fat_files *f, uint32_t cluster, uint64_t size, void *buf, size_t n,
    uint64_t off, uint64_t *hint_index, uint32_t *hint_cluster)
{
	uint64_t want = off / f->g.cluster_bytes, index = 0, in;
	uint32_t c = cluster, next;
	size_t len;
	int rc;

	if (off >= size || n == 0)
		return 0;
	if (*hint_cluster != 0 && *hint_index <= want) {
		index = *hint_index;
		c = *hint_cluster;
	}
	for (; index < want; index++) {
		if (!cluster_ok(f, c) || index > f->g.clusters || fat_next(f, c, &next) < 0)
			return -EIO;
		c = next;
	}
	if (!cluster_ok(f, c))
		return -EIO;
	*hint_index = index;
	*hint_cluster = c;
	in = off % f->g.cluster_bytes;
	len = (size_t)MIN((uint64_t)n, MIN(f->g.cluster_bytes - in, size - off));
	rc = f->read(f->ctx, cluster_at(f, c) + in, buf, len);
	return rc < 0 ? rc : (ssize_t)len;
}

/* Inside src/image: the filesystem readers behind fs_used_extents and the
 * helpers they share.  Not for other parts: they call image/disk.h. */
#ifndef PXED_IMAGE_FS_H
#define PXED_IMAGE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image/disk.h"
#include "image/fsfile.h"

/* snprintf into err (when errlen > 0). */
void image_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Each appends the used bytes of the filesystem in [offset, offset+length)
 * of fd to out, in ascending order, and returns 0 or a negative errno with
 * a message in err. */
int fs_ext_used(int fd, uint64_t offset, uint64_t length,
    struct extent_list *out, char *err, size_t errlen);
int fs_ntfs_used(int fd, uint64_t offset, uint64_t length,
    struct extent_list *out, char *err, size_t errlen);
int fs_fat_used(int fd, uint64_t offset, uint64_t length,
    struct extent_list *out, char *err, size_t errlen);

/* Files inside ext and NTFS (fs_file.c): a handle each, see image/fsfile.h. */
int fs_ext_open(int fd, uint64_t offset, bool write, void **out, char *err, size_t errlen);
int fs_ext_close(void *h);
int fs_ext_read(void *h, const char *path, size_t max, uint8_t **data, size_t *len,
    char *err, size_t errlen);
int fs_ext_write(void *h, const char *path, const uint8_t *data, size_t len,
    char *err, size_t errlen);
int fs_ntfs_open(int fd, uint64_t offset, uint64_t length, bool write, void **out,
    bool *hibernated, char *err, size_t errlen);
int fs_ntfs_close(void *h);
int fs_ntfs_read(void *h, const char *path, size_t max, uint8_t **data, size_t *len,
    char *err, size_t errlen);
int fs_ntfs_write(void *h, const char *path, const uint8_t *data, size_t len,
    char *err, size_t errlen);
int fs_ntfs_create(void *h, const char *path, const uint8_t *data, size_t len,
    char *err, size_t errlen);

int fs_ntfs_create(void *h, const char *path, const uint8_t *data, size_t len,
    char *err, size_t errlen);
void *fs_ntfs_volume(void *h);          /* the handle's ntfs_volume */
int fs_ntfs_mkdir(void *h, const char *path, char *err, size_t errlen);
int fs_ntfs_rename(void *h, const char *from, const char *to, char *err, size_t errlen);
int fs_ext_mkdir(void *h, const char *path, char *err, size_t errlen);
int fs_ext_rename(void *h, const char *from, const char *to, char *err, size_t errlen);
int fs_ext_create(void *h, const char *path, const uint8_t *data, size_t len,
    char *err, size_t errlen);

/* An ext filesystem opened by fs_ext_open keeps where it lies in its
 * priv_data, for readers that pread its blocks (walk_ext.c). */
struct ext_where {
	int fd;
	uint64_t offset;
};

/* Walks (walk_ext.c, walk_ntfs.c) and readers of one file by its id. */
int fs_ext_walk(void *h, size_t max, struct fs_entries *out, char *err, size_t errlen);
int fs_fat_open(int fd, uint64_t offset, uint64_t length, void **out, char *err,
    size_t errlen);
void fs_fat_close(void *h);
int fs_fat_walk(void *h, size_t max, struct fs_entries *out, char *err, size_t errlen);
int fs_fat_reader_open(void *h, uint64_t id, void **out, uint64_t *size);
ssize_t fs_fat_reader_pread(void *r, void *buf, size_t n, uint64_t off);
void fs_fat_reader_close(void *r);
int fs_ntfs_walk(void *h, size_t max, struct fs_entries *out, char *err, size_t errlen);
int fs_ext_reader_open(void *h, uint64_t id, void **out, uint64_t *size);
ssize_t fs_ext_reader_pread(void *r, void *buf, size_t n, uint64_t off);
void fs_ext_reader_close(void *r);
int fs_ntfs_reader_open(void *h, uint64_t id, void **out, uint64_t *size);
ssize_t fs_ntfs_reader_pread(void *r, void *buf, size_t n, uint64_t off);
void fs_ntfs_reader_close(void *r);

/* FAT is parsed here, without a library, over a reader so that it can be
 * fuzzed from memory.  The reader fills buf with len bytes found at offset
 * bytes from the start of the filesystem: 0 or a negative errno. */
typedef int fat_read_fn(void *ctx, uint64_t offset, void *buf, size_t len);

/* A FAT filesystem's layout, from its boot sector (fs_fat.c). */
struct fat_geometry {
	uint32_t bytes_per_sector;
	uint32_t sectors_per_cluster;
	uint32_t reserved_sectors;
	uint32_t fats;
	uint32_t root_entries;
	uint64_t total_sectors;
	uint64_t fat_sectors;
	/* derived */
	unsigned bits;                  /* 12, 16 or 32 */
	uint64_t clusters;
	uint64_t data_sector;           /* first sector of cluster 2 */
	uint64_t cluster_bytes;
	uint32_t root_cluster;          /* FAT32: the root directory's first cluster */
};

/* The geometry of a boot sector; false when it is not a sane FAT one. */
bool fat_geometry_read(const uint8_t *sector, size_t len, struct fat_geometry *g);

/* The files of a FAT filesystem over a reader (fat_files.c, fuzzed): every
 * regular file (long names when their checksum matches, else 8.3 names),
 * its id the byte offset of its directory entry; and reading one. */
struct fat_files {
	fat_read_fn *read;
	void *ctx;
	uint64_t length;
	struct fat_geometry g;
};
int fat_files_open(struct fat_files *f, fat_read_fn *read, void *ctx, uint64_t length,
    char *err, size_t errlen);
int fat_files_walk(struct fat_files *f, size_t max, struct fs_entries *out, char *err,
    size_t errlen);
/* The file whose directory entry is at id: its first cluster and size. */
int fat_files_entry(struct fat_files *f, uint64_t id, uint32_t *cluster, uint64_t *size);
/* Up to n bytes at off of the file starting at cluster (size bytes);
 * hint_index and hint_cluster remember where the last read ended. */
ssize_t fat_files_pread(struct fat_files *f, uint32_t cluster, uint64_t size, void *buf,
    size_t n, uint64_t off, uint64_t *hint_index, uint32_t *hint_cluster);

/* Whether sector (the first bytes of a filesystem) is a FAT boot sector
 * with a sane BIOS parameter block. */
bool fat_boot_sector_valid(const uint8_t *sector, size_t len);

/* The FAT reader proper: reads through read(ctx, ...) and appends
 * [base + x, ...) for each used byte range x of a FAT filesystem that is
 * length bytes long. */
int fat_used_extents(fat_read_fn *read, void *ctx, uint64_t base,
    uint64_t length, struct extent_list *out, char *err, size_t errlen);

#endif

/* Which bytes of a partition a filesystem uses: probe the first bytes, then
 * ask the filesystem's own reader (fs_ext.c, fs_ntfs.c, fs_fat.c), or keep
 * swap's header page, or scan for non-zero 64 KiB blocks. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cursor.h"
#include "core/util.h"
#include "image/disk.h"
#include "image/fs.h"

#define PROBE_BYTES     65536           /* swap's largest page size */
#define SCAN_BLOCK      65536
#define SCAN_CHUNK      (64 * SCAN_BLOCK)       /* 4 MiB per pread */

#define EXT_MAGIC_AT    (1024 + 56)
#define EXT_MAGIC       0xef53

void
image_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *
fs_kind_name(enum fs_kind kind)
{
	switch (kind) {
	case FS_EXT:
		return "ext";
	case FS_NTFS:
		return "ntfs";
	case FS_FAT:
		return "fat";
	case FS_SWAP:
		return "swap";
	case FS_BITLOCKER:
		return "bitlocker";
	case FS_UNKNOWN:
		break;
	}
	return "unknown";
}

static bool
probe_ext(const uint8_t *head, size_t len)
{
	struct cursor c = cursor_make(head, len);
	uint16_t magic;

	return cursor_skip(&c, EXT_MAGIC_AT) && cursor_le16(&c, &magic) &&
	    magic == EXT_MAGIC;
}

/* BitLocker's boot sector: the OEM id "-FVE-FS-" (Windows Vista and later;
 * BitLocker To Go on FAT volumes too). */
static bool
probe_bitlocker(const uint8_t *head, size_t len)
{
	return len >= 512 && memcmp(head + 3, "-FVE-FS-", 8) == 0;
}

static bool
probe_ntfs(const uint8_t *head, size_t len)
{
	return len >= 512 && memcmp(head + 3, "NTFS    ", 8) == 0 &&
	    head[510] == 0x55 && head[511] == 0xaa;
}

/* Linux swap: "SWAPSPACE2" ends the first page, whatever its size. */
static size_t
probe_swap(const uint8_t *head, size_t len)
{
	static const size_t pages[] = { 4096, 8192, 16384, 65536 };

	for (size_t i = 0; i < ARRAY_SIZE(pages); i++) {
		if (pages[i] <= len &&
		    memcmp(head + pages[i] - 10, "SWAPSPACE2", 10) == 0)
			return pages[i];
	}
	return 0;
}

static enum fs_kind
fs_probe(const uint8_t *head, size_t len, size_t *swap_page)
{
	if (probe_ext(head, len))
		return FS_EXT;
	if (probe_bitlocker(head, len))
		return FS_BITLOCKER;
	if (probe_ntfs(head, len))
		return FS_NTFS;
	if (fat_boot_sector_valid(head, len))
		return FS_FAT;
	*swap_page = probe_swap(head, len);
	if (*swap_page != 0)
		return FS_SWAP;
	return FS_UNKNOWN;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Every 64 KiB block (from the partition's start) holding a non-zero byte. */
static int
scan_nonzero(int fd, uint64_t offset, uint64_t length, struct extent_list *out,
    char *err, size_t errlen)
{
	uint8_t *buf = malloc(SCAN_CHUNK);
	uint64_t pos;
	int rc = 0;

	if (buf == NULL)
		return -ENOMEM;
	for (pos = 0; pos < length && rc == 0; pos += SCAN_CHUNK) {
		size_t n = (size_t)MIN((uint64_t)SCAN_CHUNK, length - pos);

		rc = image_pread(fd, buf, n, offset + pos);
		if (rc < 0) {
			image_error(err, errlen, "reading at %llu: %s",
			    (unsigned long long)(offset + pos), strerror(-rc));
			break;
		}
		for (size_t b = 0; b < n && rc == 0; b += SCAN_BLOCK) {
			size_t len = MIN((size_t)SCAN_BLOCK, n - b);
			if (!all_zero(buf + b, len))
				rc = extent_list_add(out, offset + pos + b, len);
		}
	}
	free(buf);
	return rc;
}

/* Reads the first bytes of the partition and says what it holds. */
static int
probe_partition(int fd, uint64_t offset, uint64_t length, enum fs_kind *kind,
    size_t *swap_page, char *err, size_t errlen)
{
	size_t n = (size_t)MIN(length, (uint64_t)PROBE_BYTES);
	uint8_t *head = malloc(PROBE_BYTES);
	int rc;

	if (head == NULL)
		return -ENOMEM;
	rc = image_pread(fd, head, n, offset);
	if (rc < 0)
		image_error(err, errlen, "reading at %llu: %s",
		    (unsigned long long)offset, strerror(-rc));
	else
		*kind = fs_probe(head, n, swap_page);
	free(head);
	return rc;
}

int
fs_used_extents(int fd, uint64_t offset, uint64_t length,
    enum fs_kind *kind, struct extent_list *out, char *err, size_t errlen)
{
	size_t swap_page = 0;
	int rc;

	*kind = FS_UNKNOWN;
	if (offset + length < offset) {
		image_error(err, errlen, "partition range wraps");
		return -EINVAL;
	}
	if (out->n > 0 && out->v[out->n - 1].offset > offset) {
		image_error(err, errlen, "extents must be added in ascending order");
		return -EINVAL;
	}
	rc = probe_partition(fd, offset, length, kind, &swap_page, err, errlen);
	if (rc < 0)
		return rc;
	switch (*kind) {
	case FS_EXT:
		return fs_ext_used(fd, offset, length, out, err, errlen);
	case FS_NTFS:
		return fs_ntfs_used(fd, offset, length, out, err, errlen);
	case FS_FAT:
		return fs_fat_used(fd, offset, length, out, err, errlen);
	case FS_SWAP:
		return extent_list_add(out, offset, swap_page);
	case FS_BITLOCKER:
		/* encrypted: every byte, or (the caller's choice) nothing */
		return extent_list_add(out, offset, length);
	case FS_UNKNOWN:
		break;
	}
	return scan_nonzero(fd, offset, length, out, err, errlen);
}

int
fs_probe_kind(int fd, uint64_t offset, uint64_t length, enum fs_kind *kind, char *err,
    size_t errlen)
{
	size_t swap_page = 0;

	*kind = FS_UNKNOWN;
	return probe_partition(fd, offset, length, kind, &swap_page, err, errlen);
}

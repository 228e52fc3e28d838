/* What is on a disk: its partition table and, per partition, which bytes a
 * filesystem uses.  Capture reads only those bytes; deploy writes them.
 *
 * The partition-table parser is pure (a buffer in, a description out) so it
 * can be fuzzed; the used-block readers take a file descriptor and a byte
 * range (a partition inside a whole-disk device or image file) and never
 * need the filesystem mounted. */
#ifndef PXED_IMAGE_DISK_H
#define PXED_IMAGE_DISK_H

#include <stddef.h>
#include <stdint.h>

/* A byte range, absolute on the disk. */
struct extent {
	uint64_t offset;
	uint64_t length;
};

/* A growable, sorted list of non-overlapping extents. */
struct extent_list {
	struct extent *v;
	size_t n;
	size_t cap;
};

void extent_list_free(struct extent_list *l);
/* Append [offset, offset+length); merges with the last extent when they
 * touch or overlap.  Extents must be appended in ascending order of offset:
 * one starting before the last is refused.  0, -EINVAL (out of order or
 * wrapping past 2^64) or -ENOMEM. */
int extent_list_add(struct extent_list *l, uint64_t offset, uint64_t length);
uint64_t extent_list_bytes(const struct extent_list *l);

enum ptable_kind { PTABLE_NONE, PTABLE_MBR, PTABLE_GPT };

/* FS_BITLOCKER: a BitLocker volume ("-FVE-FS-" in its boot sector):
 * encrypted, never read inside, captured whole only when asked. */
enum fs_kind { FS_UNKNOWN, FS_EXT, FS_NTFS, FS_FAT, FS_SWAP, FS_BITLOCKER };

#define DISK_MAX_PARTS 128
/* Table extents: the MBR or GPT head, the GPT tail, or the MBR and one
 * EBR sector per logical partition. */
#define DISK_MAX_TABLE (DISK_MAX_PARTS + 2)

struct partition {
	unsigned index;         /* 1-based, as the OS numbers it */
	uint64_t offset;        /* bytes from the start of the disk */
	uint64_t length;        /* bytes */
	uint8_t mbr_type;       /* MBR: the type byte; GPT: 0 */
	uint8_t gpt_type[16];   /* GPT: the type GUID as stored; MBR: zero */
};

struct disk_layout {
	enum ptable_kind kind;
	uint32_t sector_size;
	uint64_t disk_size;
	/* The bytes that hold the table, copied whole by capture and written
	 * first by deploy, sorted: MBR sector (+ GPT header and entries), for
	 * GPT the backup entries and header at the end of the disk, for MBR
	 * the EBR sector of each logical partition. */
	struct extent table[DISK_MAX_TABLE];
	size_t ntable;
	/* MBR: the extended partition (the container of the logical ones),
	 * 0 and 0 when there is none.  It is not in part[]: it overlaps its
	 * logical partitions.  disk_parse_layout only sees the MBR sector and
	 * leaves the logical partitions to disk_read_layout, which follows the
	 * EBR chain (at most DISK_MAX_PARTS links, loops refused). */
	uint64_t extended_offset;
	uint64_t extended_length;
	struct partition part[DISK_MAX_PARTS];
	size_t nparts;
};

/* Parses a partition table.  head: the first bytes of the disk (at least
 * 34 sectors when available), tail: the last 33 sectors (may be NULL for
 * MBR; for GPT the backup header is checked when it lies in the tail).
 * part[] is in table order (GPT: entry order, MBR: primaries).  A disk
 * without an MBR signature, or whose four entries are all empty, is
 * PTABLE_NONE with no partitions (a filesystem on the whole disk).
 * Returns 0, or -EINVAL with a message in err when the table is damaged
 * (bad GPT CRC, partition past the end, overlapping entries, truncated
 * buffers...). */
int disk_parse_layout(const uint8_t *head, size_t head_len, const uint8_t *tail,
    size_t tail_len, uint64_t disk_size, uint32_t sector_size,
    struct disk_layout *out, char *err, size_t errlen);

/* Reads the table of an open disk (device or image file): the size and
 * sector size (BLKGETSIZE64, BLKSSZGET) of a block device, the size and
 * 512-byte sectors of a regular file; then the head and tail, and for MBR
 * the EBR chain of an extended partition.  0, or a negative errno with a
 * message in err. */
int disk_read_layout(int fd, struct disk_layout *out, char *err, size_t errlen);

/* A GPT rewritten for a disk of another size (a deploy to a larger or
 * smaller disk than the captured one). */
struct gpt_relocation {
	uint64_t backup_lba;            /* the new backup header: the last sector */
	uint64_t last_usable;           /* the new last usable LBA */
	uint64_t old_backup_lba;        /* what the primary header said before */
	uint64_t old_last_usable;
	uint32_t entries_crc;           /* of the entries: unchanged */
	uint64_t tail_offset;           /* bytes: where tail goes on the disk */
	uint8_t *tail;                  /* backup entries + backup header, malloc'd */
	size_t tail_len;
};

/* Rewrites the GPT in head (the protective MBR, the primary header and
 * its entries: at least up to the end of the entries) for a disk of
 * disk_size bytes with sectors of sector_size bytes.  The primary header
 * gets the disk's last sector as its alternate LBA and the sector before
 * the backup entries as its last usable LBA, and a new CRC; the entries
 * and their CRC stay.  A 0xEE MBR entry that covered the old disk (from
 * LBA 1 to its end) covers the new one, capped at 0xFFFFFFFF sectors; a
 * hybrid MBR's partial 0xEE entry stays.  out->tail is the backup entries
 * and backup header (its own LBA, alternate LBA 1, its entries' LBA, its
 * CRC), to be written at out->tail_offset.  Running it again on its own
 * result changes nothing.  Returns 0; -EINVAL when head is not a valid
 * GPT; -ENOSPC when a partition (or the primary table) would reach into
 * the backup on this disk; -ENOMEM.  On error head is unchanged, out holds
 * nothing to free, and err says why. */
int gpt_relocate(uint8_t *head, size_t head_len, uint64_t disk_size,
    uint32_t sector_size, struct gpt_relocation *out, char *err, size_t errlen);
void gpt_relocation_free(struct gpt_relocation *r);

/* The last partition grown to fill the disk (deploy onto a larger disk). */
struct ptable_growth {
	unsigned index;                 /* the partition, 1-based */
	uint64_t offset;                /* bytes */
	uint64_t old_length, new_length;        /* equal: no room to grow */
	struct gpt_relocation gpt;      /* GPT: the backup to write (tail) */
};

/* Rewrites the table in head (the MBR sector, or the protective MBR, GPT
 * header and entries as the disk has them now: a GPT already moved to this
 * disk's size) so that the partition ending last reaches the end of the
 * disk: a GPT entry's last LBA becomes the last usable LBA (the entries'
 * CRC, the header's CRC and the backup in g->gpt follow), an MBR primary
 * entry's count reaches the disk's end (at most 2^32 - 1 sectors).  Less
 * than 1 MiB of room: nothing changes (new_length == old_length).  0;
 * -ENOENT (no partition), -ENOTSUP (no table, or the last partition is a
 * logical one), -EINVAL (a damaged table, or a GPT for a disk of another
 * size), -ENOMEM; err says why.  Free g with ptable_growth_free. */
int ptable_grow_last(uint8_t *head, size_t head_len, enum ptable_kind kind,
    uint64_t disk_size, uint32_t sector_size, struct ptable_growth *g,
    char *err, size_t errlen);
void ptable_growth_free(struct ptable_growth *g);

const char *fs_kind_name(enum fs_kind kind);

/* Read exactly len bytes at offset, retrying short reads and EINTR.
 * 0, -EIO at the end of the file, or a negative errno. */
int image_pread(int fd, void *buf, size_t len, uint64_t offset);

/* Probes the filesystem in [offset, offset+length) of fd and appends the
 * bytes it uses (absolute offsets) to out, in ascending order: ext2/3/4 from
 * libext2fs block bitmaps, NTFS from libntfs-3g's cluster bitmap, FAT12/16/32
 * from the allocation table (plus reserved sectors, FATs and root dir),
 * swap as its header page only, a BitLocker volume whole (encrypted: the
 * caller decides whether it is taken), anything else as every non-zero
 * 64 KiB block.  *kind is set as soon as the probe knows it, also on error (a
 * damaged ext or NTFS is an error, not a fallback to the block scan).
 * Returns 0 or a negative errno with a message in err. */
int fs_used_extents(int fd, uint64_t offset, uint64_t length,
    enum fs_kind *kind, struct extent_list *out, char *err, size_t errlen);

/* What the first bytes of [offset, offset+length) say it holds (ext, NTFS,
 * FAT, swap, BitLocker, else FS_UNKNOWN).  0 or a negative errno. */
int fs_probe_kind(int fd, uint64_t offset, uint64_t length, enum fs_kind *kind, char *err,
    size_t errlen);

#endif

/* What the agent learns from the running system: the kernel command line,
 * the disk to use, the inventory sent to the server.  Every function takes
 * the root of the tree to read ("" for the real one) so tests can point it
 * at a fake /proc and /sys. */
#ifndef PXED_AGENT_SYSINFO_H
#define PXED_AGENT_SYSINFO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SYSINFO_PATH_MAX 512
#define SYSINFO_CMDLINE_MAX 4096

/* The value of "key=value" in a kernel command line (words separated by
 * blanks; quotes are not supported), copied into out.  0, -ENOENT, or
 * -ENAMETOOLONG when it does not fit. */
int sysinfo_cmdline_get(const char *cmdline, const char *key, char *out, size_t size);

/* Reads root/proc/cmdline into out (NUL-terminated).  0 or -errno. */
int sysinfo_cmdline_read(const char *root, char *out, size_t size);

/* Is this /sys/block name a disk worth imaging (not loop, ram, sr, zram)? */
int sysinfo_disk_name_ok(const char *name);

/* The first whole disk (names in alphabetical order) of root/sys/block that
 * is not loop, ram, sr or zram and has a size: "/dev/NAME" in out.
 * 0, -ENOENT (none) or -errno. */
int sysinfo_disk_choose(const char *root, char *out, size_t size);

#define SYSINFO_DISK_PATH 256
/* Every such disk with a size, "/dev/NAME", sorted, at most max: the count
 * or a negative errno. */
int sysinfo_disk_list(const char *root, char (*out)[SYSINFO_DISK_PATH], size_t max);

/* MemAvailable of root/proc/meminfo in bytes, 0 when unknown. */
uint64_t sysinfo_mem_available(const char *root);

/* The inventory object: cpu, cores, ram, disks, nics.  NULL on ENOMEM. */
json_t *sysinfo_inventory(const char *root);

/* A small file under root (trailing blanks removed): 0 or -errno. */
int sysinfo_read(const char *root, const char *path, char *out, size_t size);

#endif

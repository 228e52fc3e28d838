/* /proc and /sys: the command line, the disk choice, the inventory. */
#include "agent/sysinfo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

#define SYSINFO_FILE_MAX 4096

int
sysinfo_cmdline_get(const char *cmdline, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (*p != '\0') {
		size_t word = strcspn(p, " \t\n");
		if (word > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t vlen = word - klen - 1;
			if (vlen >= size)
				return -ENAMETOOLONG;
			memcpy(out, p + klen + 1, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p += word;
		p += strspn(p, " \t\n");
	}
	return -ENOENT;
}

/* A small file's text, trailing blanks removed.  0 or -errno. */
static int
read_small(const char *root, const char *path, char *out, size_t size)
{
	char full[SYSINFO_PATH_MAX];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(full, sizeof full, "%s%s", root, path) >= sizeof full)
		return -ENAMETOOLONG;
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, out, size - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	out[n] = '\0';
	return 0;
}

int
sysinfo_cmdline_read(const char *root, char *out, size_t size)
{
	return read_small(root, "/proc/cmdline", out, size);
}

int
sysinfo_disk_name_ok(const char *name)
{
	static const char *const skip[] = { "loop", "ram", "sr", "zram" };

	if (name[0] == '.' || name[0] == '\0')
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(skip); i++)
		if (strncmp(name, skip[i], strlen(skip[i])) == 0)
			return 0;
	return 1;
}

/* Bytes of /sys/block/NAME (its size file counts 512-byte sectors). */
static uint64_t
disk_size(const char *root, const char *name)
{
	char path[SYSINFO_PATH_MAX], text[32];
	uint64_t sectors;

	if ((size_t)snprintf(path, sizeof path, "/sys/block/%s/size", name) >= sizeof path ||
	    read_small(root, path, text, sizeof text) < 0 ||
	    parse_u64(text, strlen(text), 0, UINT64_MAX / 512, &sectors) < 0)
		return 0;
	return sectors * 512;
}

static int
disk_filter(const struct dirent *d)
{
	return sysinfo_disk_name_ok(d->d_name);
}

/* The candidate names of root/sys/block, sorted.  Count or -errno. */
static int
block_names(const char *root, struct dirent ***names)
{
	char dir[SYSINFO_PATH_MAX];
	int n;

	if ((size_t)snprintf(dir, sizeof dir, "%s/sys/block", root) >= sizeof dir)
		return -ENAMETOOLONG;
	n = scandir(dir, names, disk_filter, alphasort);
	return n < 0 ? -errno : n;
}

static void
names_free(struct dirent **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
sysinfo_disk_choose(const char *root, char *out, size_t size)
{
	struct dirent **names;
	int n = block_names(root, &names), rc = -ENOENT;

	if (n < 0)
		return n;
	for (int i = 0; i < n && rc == -ENOENT; i++) {
		if (disk_size(root, names[i]->d_name) == 0)
			continue;
		rc = (size_t)snprintf(out, size, "/dev/%s", names[i]->d_name) < size ? 0 : -ENAMETOOLONG;
	}
	names_free(names, n);
	return rc;
}

int
sysinfo_disk_list(const char *root, char (*out)[SYSINFO_DISK_PATH], size_t max)
{
	struct dirent **names;
	int n = block_names(root, &names), count = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n && (size_t)count < max; i++) {
		if (disk_size(root, names[i]->d_name) == 0 ||
		    (size_t)snprintf(out[count], SYSINFO_DISK_PATH, "/dev/%s",
		    names[i]->d_name) >= SYSINFO_DISK_PATH)
			continue;
		count++;
	}
	names_free(names, n);
	return count;
}

/* ---- inventory ---- */

/* The value after "key<blanks>:" on a line of a /proc file. */
static int
proc_field(const char *root, const char *path, const char *key, char *out, size_t size)
{
	char full[SYSINFO_PATH_MAX], line[SYSINFO_FILE_MAX];
	size_t klen = strlen(key);
	int rc = -ENOENT;
	FILE *f;

	if ((size_t)snprintf(full, sizeof full, "%s%s", root, path) >= sizeof full)
		return -ENAMETOOLONG;
	if ((f = fopen(full, "re")) == NULL)
		return -errno;
	while (rc == -ENOENT && fgets(line, sizeof line, f) != NULL) {
		char *colon = strchr(line, ':');
		if (strncmp(line, key, klen) != 0 || colon == NULL ||
		    strspn(line + klen, " \t") != (size_t)(colon - line - (ptrdiff_t)klen))
			continue;
		colon += 1 + strspn(colon + 1, " \t");
		colon[strcspn(colon, "\n")] = '\0';
		str_copy(out, colon, size);
		rc = 0;
	}
	fclose(f);
	return rc;
}

static int
cpu_cores(const char *root)
{
	char full[SYSINFO_PATH_MAX], line[SYSINFO_FILE_MAX];
	int n = 0;
	FILE *f;

	if ((size_t)snprintf(full, sizeof full, "%s/proc/cpuinfo", root) >= sizeof full ||
	    (f = fopen(full, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "processor", 9) == 0 && strchr(" \t:", line[9]) != NULL)
			n++;
	fclose(f);
	return n;
}

static uint64_t
meminfo_bytes(const char *root, const char *key)
{
	char text[64];
	uint64_t kib;

	if (proc_field(root, "/proc/meminfo", key, text, sizeof text) < 0)
		return 0;
	text[strcspn(text, " ")] = '\0';
	if (parse_u64(text, strlen(text), 0, UINT64_MAX / 1024, &kib) < 0)
		return 0;
	return kib * 1024;
}

uint64_t
sysinfo_mem_available(const char *root)
{
	return meminfo_bytes(root, "MemAvailable");
}

static json_t *
disks_json(const char *root)
{
	struct dirent **names;
	int n = block_names(root, &names);
	json_t *arr = json_array();

	for (int i = 0; i < n && arr != NULL; i++) {
		char path[SYSINFO_PATH_MAX], model[128] = "";
		const char *name = names[i]->d_name;
		snprintf(path, sizeof path, "/sys/block/%s/device/model", name);
		read_small(root, path, model, sizeof model);
		json_array_append_new(arr, json_pack("{s:s,s:I,s:s}", "name", name,
		    "size", (json_int_t)disk_size(root, name), "model", model));
	}
	if (n > 0)
		names_free(names, n);
	return arr;
}

static json_t *
nics_json(const char *root)
{
	char dir[SYSINFO_PATH_MAX];
	struct dirent **names;
	json_t *arr = json_array();
	int n;

	snprintf(dir, sizeof dir, "%s/sys/class/net", root);
	n = scandir(dir, &names, NULL, alphasort);
	for (int i = 0; i < n && arr != NULL; i++) {
		char path[SYSINFO_PATH_MAX], mac[64] = "";
		const char *name = names[i]->d_name;
		if (name[0] == '.' || strcmp(name, "lo") == 0)
			continue;
		snprintf(path, sizeof path, "/sys/class/net/%s/address", name);
		read_small(root, path, mac, sizeof mac);
		json_array_append_new(arr, json_pack("{s:s,s:s}", "name", name, "mac", mac));
	}
	if (n > 0)
		names_free(names, n);
	return arr;
}

json_t *
sysinfo_inventory(const char *root)
{
	char cpu[128] = "unknown";

	if (proc_field(root, "/proc/cpuinfo", "model name", cpu, sizeof cpu) < 0)
		proc_field(root, "/proc/cpuinfo", "Hardware", cpu, sizeof cpu);
	return json_pack("{s:s,s:i,s:I,s:o,s:o}", "cpu", cpu, "cores", cpu_cores(root),
	    "ram", (json_int_t)meminfo_bytes(root, "MemTotal"), "disks", disks_json(root),
	    "nics", nics_json(root));
}

/* ---- for the hardware tests (diag_*.c) ---- */

int
sysinfo_read(const char *root, const char *path, char *out, size_t size)
{
	return read_small(root, path, out, size);
}


/* ntfs-put: copies files into an NTFS image file at a path, making the
 * directories on the way, with libntfs-3g (ntfscp copies into existing
 * directories only; the tests build Windows trees without mounting).
 *
 *   ntfs-put IMAGE SRC:/DEST/PATH [SRC:/DEST/PATH...]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>

/* The child called name of dir, made (as type) when missing; dir is closed. */
static ntfs_inode *
child(ntfs_volume *vol, ntfs_inode *dir, const char *name, mode_t type)
{
	ntfschar *u = NULL;
	int n = ntfs_mbstoucs(name, &u);
	ntfs_inode *ni = NULL;
	u64 mref;

	if (n > 0) {
		mref = ntfs_inode_lookup_by_name(dir, u, n);
		ni = mref != (u64)-1 ? ntfs_inode_open(vol, MREF(mref)) :
		    ntfs_create(dir, const_cpu_to_le32(0), u, (u8)n, type);
	}
	free(u);
	ntfs_inode_close(dir);
	return ni;
}

static int
put(ntfs_volume *vol, const char *src, const char *dest)
{
	char path[1024], *save = NULL, *name, *next;
	ntfs_inode *ni = ntfs_inode_open(vol, FILE_root);
	ntfs_attr *na;
	char buf[65536];
	s64 at = 0;
	ssize_t n;
	int fd = open(src, O_RDONLY);

	snprintf(path, sizeof path, "%s", dest);
	name = strtok_r(path, "/", &save);
	while (ni != NULL && name != NULL) {
		next = strtok_r(NULL, "/", &save);
		ni = child(vol, ni, name, next != NULL ? S_IFDIR : S_IFREG);
		name = next;
	}
	if (ni == NULL || fd < 0) {
		fprintf(stderr, "ntfs-put: %s -> %s: %s\n", src, dest, strerror(errno));
		return -1;
	}
	na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (na == NULL || ntfs_attr_truncate(na, 0) != 0)
		return -1;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		if (ntfs_attr_pwrite(na, at, n, buf) != n)
			return -1;
		at += n;
	}
	ntfs_attr_close(na);
	close(fd);
	return ntfs_inode_close(ni);
}

int
main(int argc, char **argv)
{
	ntfs_volume *vol;
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: ntfs-put IMAGE SRC:/DEST/PATH...\n");
		return 2;
	}
	vol = ntfs_mount(argv[1], 0);
	if (vol == NULL) {
		fprintf(stderr, "ntfs-put: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (int i = 2; i < argc && rc == 0; i++) {
		char *colon = strchr(argv[i], ':');
		if (colon == NULL) {
			rc = -1;
			break;
		}
		*colon = '\0';
		rc = put(vol, argv[i], colon + 1);
	}
	if (ntfs_umount(vol, FALSE) != 0)
		rc = -1;
	return rc == 0 ? 0 : 1;
}

/* Which boot files are served by PXE MTFTP, on which multicast group and
 * client port ("mtftp-file = FILE GROUP CPORT"), and what PXE clients are
 * told about it in option 43.1-5.  Pure: shared by the MTFTP server
 * (tftp/mtftp.c) and the DHCP replies (boot policy, dhcp/reply.c). */
#ifndef PXED_TFTP_MTFTP_FILES_H
#define PXED_TFTP_MTFTP_FILES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define MTFTP_FILES_MAX CONFIG_LIST_MAX
#define MTFTP_BLKSIZE 512               /* PXE MTFTP: no options, 512-byte blocks */
#define MTFTP_BLOCKS_MAX 65535u         /* no rollover over MTFTP (PXELINUX, atftp) */

struct mtftp_file {
	char path[CONFIG_ITEM_MAX];     /* normalized: relative, single slashes */
	struct in_addr group;
	uint16_t cport;
};

struct mtftp_files {
	struct mtftp_file file[MTFTP_FILES_MAX];
	size_t count;
	uint16_t sport;                 /* mtftp-port (43.3) */
	uint8_t timeout, delay;         /* 43.4, 43.5 */
};

/* Parse one "FILE GROUP CPORT".  Returns 0, or -EINVAL with a message. */
int mtftp_file_parse(const char *spec, struct mtftp_file *out, char *err, size_t err_size);

/* Build the table from the configuration (mtftp-file, mtftp-port,
 * mtftp-timeout, mtftp-delay); a file or a group:port given twice is an
 * error.  Returns 0, or -EINVAL with a message. */
int mtftp_files_build(const struct config *cfg, struct mtftp_files *t, char *err,
    size_t err_size);

/* The entry for a path as a client or a boot rule names it (normalized
 * here: leading slashes and backslashes as files_path_normalize), or NULL. */
const struct mtftp_file *mtftp_files_find(const struct mtftp_files *t, const char *path);

#endif

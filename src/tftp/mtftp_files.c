#include "tftp/mtftp_files.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "files/files.h"

static int
normalize(const char *in, size_t len, char *out, size_t out_size)
{
	char full[FILES_PATH_MAX];

	if (files_path_normalize(in, len, NULL, full, sizeof full) != 0 || full[0] == '\0')
		return -EINVAL;
	return str_copy(out, full, out_size) < out_size ? 0 : -EINVAL;
}

int
mtftp_file_parse(const char *spec, struct mtftp_file *out, char *err, size_t err_size)
{
	char buf[CONFIG_ITEM_MAX], *save = NULL;
	uint64_t port;

	memset(out, 0, sizeof *out);
	str_copy(buf, spec, sizeof buf);
	char *file = strtok_r(buf, " \t", &save);
	char *group = strtok_r(NULL, " \t", &save);
	char *cport = strtok_r(NULL, " \t", &save);
	if (file == NULL || group == NULL || cport == NULL || strtok_r(NULL, " \t", &save)) {
		snprintf(err, err_size, "expected FILE GROUP CPORT, e.g. "
		    "undionly.kpxe 239.255.1.2 3001");
		return -EINVAL;
	}
	if (normalize(file, strlen(file), out->path, sizeof out->path) != 0) {
		snprintf(err, err_size, "'%s' is not a file name beneath the root", file);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, group, &out->group) != 1 || !IN_MULTICAST(ntohl(out->group.s_addr))) {
		snprintf(err, err_size, "'%s' is not an IPv4 multicast group", group);
		return -EINVAL;
	}
	if (parse_u64(cport, strlen(cport), 1, 65535, &port) != 0) {
		snprintf(err, err_size, "'%s' is not a port from 1 to 65535", cport);
		return -EINVAL;
	}
	out->cport = (uint16_t)port;
	return 0;
}

static bool
clashes(const struct mtftp_files *t, const struct mtftp_file *f)
{
	for (size_t i = 0; i < t->count; i++) {
		const struct mtftp_file *o = &t->file[i];
		if (strcmp(o->path, f->path) == 0 ||
		    (o->group.s_addr == f->group.s_addr && o->cport == f->cport))
			return true;
	}
	return false;
}

int
mtftp_files_build(const struct config *cfg, struct mtftp_files *t, char *err,
    size_t err_size)
{
	char msg[160];

	memset(t, 0, sizeof *t);
	t->sport = (uint16_t)cfg->mtftp_port;
	t->timeout = (uint8_t)cfg->mtftp_timeout;
	t->delay = (uint8_t)cfg->mtftp_delay;
	for (size_t i = 0; i < cfg->mtftp_file.count && i < MTFTP_FILES_MAX; i++) {
		struct mtftp_file *f = &t->file[t->count];
		if (mtftp_file_parse(cfg->mtftp_file.item[i], f, msg, sizeof msg) != 0) {
			snprintf(err, err_size, "mtftp-file %s: %s", cfg->mtftp_file.item[i], msg);
			return -EINVAL;
		}
		if (clashes(t, f)) {
			snprintf(err, err_size, "mtftp-file %s: file or group and port given twice",
			    cfg->mtftp_file.item[i]);
			return -EINVAL;
		}
		t->count++;
	}
	return 0;
}

const struct mtftp_file *
mtftp_files_find(const struct mtftp_files *t, const char *path)
{
	char norm[CONFIG_ITEM_MAX];

	if (t == NULL || path == NULL || normalize(path, strlen(path), norm, sizeof norm) != 0)
		return NULL;
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->file[i].path, norm) == 0)
			return &t->file[i];
	return NULL;
}

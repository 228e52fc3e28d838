/* The ClamAV signature database for scan tasks: clamav-db-dir (what
 * freshclam keeps current, and signature files an administrator adds) is
 * served read-only at /clamav/ by the HTTP server, and listed to the agent
 * with each file's size and SHA-256 so that it can check what it
 * downloaded before it loads it. */
#include "api/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "image/chunk.h"
#include "image/manifest.h"

#define DB_FILES_MAX    64
#define DB_FILE_MAX     (1ull << 30)

int
api_clamav_open(const char *dir)
{
	int fd;

	if (dir == NULL || dir[0] == '\0')
		return -1;
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		log_warn("api: clamav-db-dir %s: %s (scan tasks will fail)", dir, strerror(errno));
	return fd;
}

/* The file kinds libclamav loads from a database directory. */
static bool
db_name_ok(const char *name)
{
	static const char *const ext[] = { ".cvd", ".cld", ".cud", ".hdb", ".hsb", ".hdu",
		".hsu", ".mdb", ".msb", ".ndb", ".ndu", ".ldb", ".ldu", ".cdb", ".crb", ".cat",
		".cbc", ".idb", ".fp", ".sfp", ".ign", ".ign2", ".ftm", ".pdb", ".gdb", ".wdb",
		".info", ".yar", ".yara" };
	const char *dot = strrchr(name, '.');

	if (dot == NULL || name[0] == '.' || strlen(name) > 128 ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
	    strlen(name))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(ext); i++)
		if (strcmp(dot, ext[i]) == 0)
			return true;
	return false;
}

/* The SHA-256 of a file of the directory, read in pieces. */
static int
db_file_sha256(int dirfd, const char *name, char hex[SHA256_HEX_LEN + 1])
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t buf[1 << 16], sha[SHA256_LEN];
	unsigned len = 0;
	ssize_t n = 0;
	int rc = fd >= 0 && ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ?
	    0 : -EIO;

	while (rc == 0 && (n = read(fd, buf, sizeof buf)) > 0)
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			rc = -EIO;
	if (rc == 0 && (n < 0 || EVP_DigestFinal_ex(ctx, sha, &len) != 1))
		rc = -EIO;
	if (rc == 0)
		sha256_hex(sha, hex);
	EVP_MD_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int
db_list(int dirfd, json_t *files)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	int rc = 0;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char hex[SHA256_HEX_LEN + 1];
		struct stat st;
		if (!db_name_ok(e->d_name) ||
		    fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || (uint64_t)st.st_size > DB_FILE_MAX)
			continue;
		if (json_array_size(files) >= DB_FILES_MAX)
			rc = -E2BIG;
		else if (db_file_sha256(dirfd, e->d_name, hex) == 0)
			json_array_append_new(files, json_pack("{s:s,s:I,s:s}", "name", e->d_name,
			    "size", (json_int_t)st.st_size, "sha256", hex));
	}
	closedir(d);
	return rc;
}

static void
agent_clamav(struct api_call *c)
{
	char base[256], url[300];
	json_t *files = json_array();
	int rc = c->api->clamav_dirfd >= 0 ? db_list(c->api->clamav_dirfd, files) : -ENOENT;

	if (rc < 0) {
		json_decref(files);
		api_reply_error(c->rs, rc == -ENOENT ? 404 : 500, "the ClamAV database (clamav-db-dir)"
		    ": %s", rc == -E2BIG ? "more than 64 signature files" : strerror(-rc));
		return;
	}
	api_server_base(c, base, sizeof base);
	snprintf(url, sizeof url, "%s/clamav/", base);
	api_reply_json(c->rs, 200, json_pack("{s:s,s:o}", "url", url, "files", files));
}

const struct api_route api_scan_routes[] = {
	{ "GET", "api/v1/agent/clamav", API_TASK, API_TASK_TYPE(TASK_SCAN), .running = true,
	    .handler = agent_clamav, .statuses = "200 404 500",
	    .summary = "the ClamAV database's files: name, size, sha256; served at /clamav/" },
	{ NULL },
};

/* The ClamAV database of a scan: pxed lists clamav-db-dir's signature
 * files (name, size, SHA-256; GET /api/v1/agent/clamav) and serves them at
 * /clamav/; the agent keeps a copy in a directory of its own (once per
 * boot: a file already there with the listed size and hash is not fetched
 * again, a file the list does not name is removed), checks every file
 * against the list, and loads the directory into one libclamav engine.
 * An empty database, a file that does not match, or one libclamav refuses
 * stops the scan before anything is scanned. */
#include "agent/scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/journal.h"
#include "core/util.h"
#include "image/chunk.h"

#define DB_FILE_MAX     (1ull << 30)
#define DB_LIST_MAX     (64u << 10)

static bool
db_name_safe(const char *name)
{
	return name[0] != '\0' && name[0] != '.' && strlen(name) <= 128 &&
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
	    strlen(name);
}

/* Is the file there already, whole?  Its hash is computed again. */
static bool
db_file_ok(int dirfd, const char *name, uint64_t size, const char *want)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	uint8_t *data, sha[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
	bool ok = false;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size &&
	    (data = malloc(size > 0 ? size : 1)) != NULL) {
		if (pread_full(fd, data, size, 0) == 0) {
			chunk_sha256(data, size, sha);
			sha256_hex(sha, hex);
			ok = strcmp(hex, want) == 0;
		}
		free(data);
	}
	close(fd);
	return ok;
}

static int
db_fetch(struct agent *ag, int dirfd, const char *url, const char *name, uint64_t size,
    const char *want)
{
	struct api_buf body = { .max = size + 1 };
	char full[API_URL_MAX + 200], err[API_ERR_MAX], hex[SHA256_HEX_LEN + 1];
	uint8_t sha[SHA256_LEN];
	int fd, rc;

	snprintf(full, sizeof full, "%s%s", url, name);
	rc = api_request(&ag->conn, "GET", full, NULL, 0, NULL, &body, err, sizeof err);
	if (rc != 200) {
		api_buf_free(&body);
		return agent_fail(ag, "ClamAV database: %s: %s", name, err);
	}
	chunk_sha256(body.data, body.len, sha);
	sha256_hex(sha, hex);
	if (body.len != size || strcmp(hex, want) != 0) {
		api_buf_free(&body);
		return agent_fail(ag, "ClamAV database: %s is damaged (its size or SHA-256 is not "
		    "the server's): not scanning", name);
	}
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	rc = fd >= 0 ? pwrite_full(fd, body.data, body.len, 0) : -errno;
	if (fd >= 0)
		close(fd);
	api_buf_free(&body);
	if (rc < 0)
		return agent_fail(ag, "ClamAV database: writing %s: %s", name, strerror(-rc));
	return 0;
}

/* Files of the directory the list does not name go. */
static void
db_prune(int dirfd, json_t *files)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		bool listed = false;
		size_t i;
		json_t *f;
		if (e->d_name[0] == '.')
			continue;
		json_array_foreach(files, i, f)
			listed |= strcmp(json_string_value(json_object_get(f, "name")) ?
			    json_string_value(json_object_get(f, "name")) : "", e->d_name) == 0;
		if (!listed)
			unlinkat(dirfd, e->d_name, 0);
	}
	closedir(d);
}

static int
db_sync(struct agent *ag, int dirfd, json_t *list, unsigned *nfiles)
{
	const char *url = json_string_value(json_object_get(list, "url"));
	json_t *files = json_object_get(list, "files"), *f;
	size_t i;

	if (url == NULL || !json_is_array(files))
		return agent_fail(ag, "ClamAV database: the server's list is not understood");
	*nfiles = 0;
	db_prune(dirfd, files);
	json_array_foreach(files, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *sha = json_string_value(json_object_get(f, "sha256"));
		json_int_t size = json_integer_value(json_object_get(f, "size"));
		if (name == NULL || sha == NULL || !db_name_safe(name) || size < 0 ||
		    (uint64_t)size > DB_FILE_MAX)
			return agent_fail(ag, "ClamAV database: a file of the list is not understood");
		if (!db_file_ok(dirfd, name, (uint64_t)size, sha) &&
		    db_fetch(ag, dirfd, url, name, (uint64_t)size, sha) < 0)
			return -EIO;
		(*nfiles)++;
	}
	return 0;
}

int
scandb_fetch(struct agent *ag, const char *dir, unsigned *nfiles)
{
	struct api_buf resp = { .max = DB_LIST_MAX };
	char err[API_ERR_MAX];
	json_t *list;
	int dirfd, rc;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return agent_fail(ag, "%s: %s", dir, strerror(errno));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return agent_fail(ag, "%s: %s", dir, strerror(errno));
	rc = api_request(&ag->conn, "GET", "/api/v1/agent/clamav", NULL, 0, NULL, &resp, err,
	    sizeof err);
	if (rc != 200) {
		api_buf_free(&resp);
		close(dirfd);
		if (agent_status_ended(rc)) {
			agent_ended(ag, rc, err);
			return -EIO;
		}
		return agent_fail(ag, "ClamAV database: %s", err);
	}
	list = json_loadb(resp.data, resp.len, 0, NULL);
	api_buf_free(&resp);
	rc = db_sync(ag, dirfd, list, nfiles);
	json_decref(list);
	close(dirfd);
	if (rc == 0 && *nfiles == 0)
		return agent_fail(ag, "the ClamAV database is empty (no signature file in pxed's "
		    "clamav-db-dir): not scanning");
	return rc;
}

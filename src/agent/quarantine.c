/* The quarantine of a scan and its restore.
 *
 * Quarantine: on each filesystem holding infected files, the directory
 * /pxed-quarantine/TASK/ is made and each file is moved into it (a rename
 * on the same filesystem: nothing is copied, nothing deleted) under a
 * generated name (0001, 0002...), and manifest.json beside them records
 * each one's original path, size, SHA-256 and signature.  A filesystem
 * that may not be written (Windows hibernated, FAT: no writer here) keeps
 * its files where they were, and the report says why.
 *
 * Restore (a later task): every filesystem with /pxed-quarantine/OF/
 * manifest.json gets its files back where they were, each checked against
 * its SHA-256 first; a path taken in the meantime is left alone and named.
 * The manifest then records the restore. */
#include "agent/quarantine.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/journal.h"
#include "agent/parts.h"
#include "agent/qmanifest.h"
#include "agent/scan.h"
#include "core/util.h"
#include "image/chunk.h"
#include "image/manifest.h"

#define QUARANTINE_DIR  "/pxed-quarantine"
#define FINDINGS_MAX    1000
#define RESTORE_FILE_MAX (1ull << 30)

void
quarantine_init(struct quarantine *q, int64_t task)
{
	memset(q, 0, sizeof *q);
	q->task = task;
}

void
quarantine_free(struct quarantine *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->v[i].path);
	free(q->v);
	memset(q, 0, sizeof *q);
}

void
quarantine_note(struct quarantine *q, const char *disk, const struct partition *part,
    enum fs_kind kind, const struct fs_entry *e, const char *signature, const char *sha256,
    uint64_t size)
{
	struct quarantine_item *it;

	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 16;
		struct quarantine_item *v = reallocarray(q->v, cap, sizeof *v);
		if (v == NULL)
			return;
		q->v = v;
		q->cap = cap;
	}
	it = &q->v[q->n];
	memset(it, 0, sizeof *it);
	if ((it->path = strdup(e->path)) == NULL)
		return;
	str_copy(it->disk, disk, sizeof it->disk);
	it->part = *part;
	it->kind = kind;
	str_copy(it->signature, signature, sizeof it->signature);
	str_copy(it->sha256, sha256, sizeof it->sha256);
	it->size = size;
	q->n++;
}

json_t *
quarantine_findings(const struct quarantine *q)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < q->n && i < FINDINGS_MAX; i++) {
		const struct quarantine_item *it = &q->v[i];
		json_t *o = json_pack("{s:s,s:i,s:s,s:s,s:I,s:s}", "disk", it->disk, "partition",
		    (int)it->part.index, "path", it->path, "signature", it->signature, "size",
		    (json_int_t)it->size, "sha256", it->sha256);
		if (o != NULL && it->moved[0] != '\0')
			json_object_set_new(o, "quarantined", json_string(it->moved));
		else if (o != NULL && it->why[0] != '\0')
			json_object_set_new(o, "kept", json_string(it->why));
		json_array_append_new(arr, o);
	}
	return arr;
}

const char *
quarantine_summary(struct quarantine *q)
{
	snprintf(q->summary, sizeof q->summary, ", %u quarantined%s", q->moved,
	    q->kept > 0 ? ", some left in place (see the report)" : "");
	return q->summary;
}

/* ---- the move ---- */

static void
items_keep(struct quarantine *q, size_t first, size_t end, const char *why)
{
	for (size_t i = first; i < end; i++)
		if (q->v[i].moved[0] == '\0') {
			str_copy(q->v[i].why, why, sizeof q->v[i].why);
			q->kept++;
		}
}

static bool
same_part(const struct quarantine_item *a, const struct quarantine_item *b)
{
	return strcmp(a->disk, b->disk) == 0 && a->part.index == b->part.index &&
	    a->part.offset == b->part.offset;
}

/* The items [first, end) of one filesystem, moved; the manifest written. */
static int
quarantine_fs(struct agent *ag, struct quarantine *q, struct fs_volume *v, size_t first,
    size_t end)
{
	struct qmanifest m = { .task = q->task };
	char dir[64], to[96], err[256];
	char *text;
	int rc;

	snprintf(dir, sizeof dir, QUARANTINE_DIR "/%" PRId64, q->task);
	if (((rc = fs_mkdir(v, QUARANTINE_DIR, err, sizeof err)) < 0 && rc != -EEXIST) ||
	    ((rc = fs_mkdir(v, dir, err, sizeof err)) < 0 && rc != -EEXIST)) {
		items_keep(q, first, end, "no quarantine directory could be made");
		return 0;
	}
	m.files = calloc(end - first, sizeof *m.files);
	if (m.files == NULL)
		return agent_fail(ag, "out of memory");
	for (size_t i = first; i < end; i++) {
		struct quarantine_item *it = &q->v[i];
		struct qfile *f = &m.files[m.nfiles];
		snprintf(f->name, sizeof f->name, "%04zu", m.nfiles + 1);
		snprintf(to, sizeof to, "%s/%s", dir, f->name);
		if (!qmanifest_path_ok(it->path) || it->sha256[0] == '\0' ||
		    fs_rename(v, it->path, to, err, sizeof err) < 0) {
			items_keep(q, i, i + 1, "it could not be moved");
			continue;
		}
		f->path = it->path;             /* borrowed */
		f->size = it->size;
		memcpy(f->sha256, it->sha256, sizeof f->sha256);
		str_copy(f->signature, it->signature, sizeof f->signature);
		str_copy(it->moved, to, sizeof it->moved);
		m.nfiles++;
		q->moved++;
	}
	text = qmanifest_format(&m);
	free(m.files);
	snprintf(to, sizeof to, "%s/manifest.json", dir);
	rc = text != NULL ? fs_file_create(v, to, (const uint8_t *)text, strlen(text), err,
	    sizeof err) : -ENOMEM;
	free(text);
	if (rc < 0)
		return agent_fail(ag, "quarantine: %s: %s", to, err);
	return 0;
}

static int
quarantine_group(struct agent *ag, struct quarantine *q, size_t first, size_t end)
{
	const struct quarantine_item *it = &q->v[first];
	struct fs_volume *v;
	char err[256];
	int fd, rc;

	if (it->kind != FS_EXT && it->kind != FS_NTFS) {
		items_keep(q, first, end, "FAT is not written by pxe-agent: left in place");
		return 0;
	}
	fd = open(it->disk, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return agent_fail(ag, "%s: %s", it->disk, strerror(errno));
	rc = fs_volume_open(fd, it->part.offset, it->part.length, it->kind, true, &v, err,
	    sizeof err);
	if (rc < 0) {
		items_keep(q, first, end, rc == -EROFS ? "Windows is hibernated (or Fast Startup):"
		    " nothing may be written" : "the filesystem could not be opened for writing");
		journal_error("quarantine: %s partition %u: %s", it->disk, it->part.index, err);
		close(fd);
		return 0;
	}
	rc = quarantine_fs(ag, q, v, first, end);
	if (fs_volume_close(v) < 0 && rc == 0)
		rc = agent_fail(ag, "quarantine: %s partition %u: writing back failed", it->disk,
		    it->part.index);
	if (rc == 0 && fdatasync(fd) < 0)
		rc = agent_fail(ag, "%s: sync: %s", it->disk, strerror(errno));
	close(fd);
	return rc;
}

static int
item_cmp(const void *a, const void *b)
{
	const struct quarantine_item *x = a, *y = b;
	int c = strcmp(x->disk, y->disk);

	if (c == 0 && x->part.offset != y->part.offset)
		c = x->part.offset < y->part.offset ? -1 : 1;
	return c != 0 ? c : strcmp(x->path, y->path);    /* the same names every time */
}

int
quarantine_run(struct agent *ag, struct quarantine *q)
{
	int rc = 0;

	qsort(q->v, q->n, sizeof *q->v, item_cmp);
	for (size_t first = 0, end; first < q->n && rc == 0; first = end) {
		for (end = first + 1; end < q->n && same_part(&q->v[first], &q->v[end]); end++)
			;
		rc = quarantine_group(ag, q, first, end);
	}
	journal_info("quarantine: %u files moved into " QUARANTINE_DIR "/%" PRId64 "/, %u left "
	    "in place", q->moved, q->task, q->kept);
	return rc;
}

/* ---- restore ---- */

struct restore {
	struct agent *ag;
	json_t *restored, *kept;
	unsigned filesystems;
};

static void
restore_keep(struct restore *r, const char *path, const char *why)
{
	if (json_array_size(r->kept) < FINDINGS_MAX)
		json_array_append_new(r->kept, json_pack("{s:s,s:s}", "path", path, "why", why));
	journal_error("restore: %s: %s", path, why);
}

/* The quarantined file is the one that was moved: same size, same hash. */
static bool
restore_check(struct fs_volume *v, const char *path, const struct qfile *f)
{
	uint8_t *data = NULL, sha[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1], err[256];
	size_t len = 0;
	bool ok = false;

	if (fs_file_read(v, path, RESTORE_FILE_MAX, &data, &len, err, sizeof err) == 0 &&
	    len == f->size) {
		chunk_sha256(data, len, sha);
		sha256_hex(sha, hex);
		ok = strcmp(hex, f->sha256) == 0;
	}
	free(data);
	return ok;
}

static int
restore_files(struct restore *r, struct fs_volume *v, const char *dir, struct qmanifest *m,
    unsigned index)
{
	char from[96], err[256], *text;
	int rc;

	for (size_t i = 0; i < m->nfiles; i++) {
		const struct qfile *f = &m->files[i];
		snprintf(from, sizeof from, "%s/%s", dir, f->name);
		if (!restore_check(v, from, f)) {
			restore_keep(r, f->path, "the quarantined file is not the one moved (size or "
			    "SHA-256): not restored");
			continue;
		}
		rc = fs_rename(v, from, f->path, err, sizeof err);
		if (rc < 0) {
			restore_keep(r, f->path, rc == -EEXIST ? "a file has that path now: left in "
			    "quarantine" : rc == -ENOENT ? "its directory is gone: left in quarantine" :
			    "it could not be moved back");
			continue;
		}
		json_array_append_new(r->restored, json_pack("{s:i,s:s,s:s}", "partition",
		    (int)index, "path", f->path, "sha256", f->sha256));
	}
	m->restored_by = r->ag->task.id;
	text = qmanifest_format(m);
	snprintf(from, sizeof from, "%s/manifest.json", dir);
	rc = text != NULL ? fs_file_write(v, from, (const uint8_t *)text, strlen(text), err,
	    sizeof err) : -ENOMEM;
	free(text);
	return rc < 0 ? agent_fail(r->ag, "restore: %s: %s", from, err) : 0;
}

/* The quarantine manifest of this filesystem, or -ENOENT. */
static int
restore_manifest(struct restore *r, struct fs_volume *v, const char *dir,
    struct qmanifest *m)
{
	char path[96], err[256];
	uint8_t *text = NULL;
	size_t len = 0;
	int rc;

	snprintf(path, sizeof path, "%s/manifest.json", dir);
	rc = fs_file_read(v, path, QMANIFEST_MAX, &text, &len, err, sizeof err);
	if (rc < 0)
		return rc == -ENOENT ? -ENOENT : agent_fail(r->ag, "restore: %s: %s", path, err);
	rc = qmanifest_parse((const char *)text, len, m, err, sizeof err);
	free(text);
	if (rc < 0)
		return agent_fail(r->ag, "restore: %s: %s", path, err);
	if (m->task != r->ag->task.restore_of)
		return agent_fail(r->ag, "restore: %s belongs to task %" PRId64, path, m->task);
	if (m->restored_by != 0)
		return agent_fail(r->ag, "restore: task %" PRId64 " already put these files back",
		    m->restored_by);
	return 0;
}

static int
restore_partition(void *arg, const char *disk, int fd, const struct partition *part,
    enum fs_kind kind)
{
	struct restore *r = arg;
	struct qmanifest m = { 0 };
	struct fs_volume *v;
	char dir[64], err[256];
	int rc;

	if (kind != FS_EXT && kind != FS_NTFS)
		return 0;
	snprintf(dir, sizeof dir, QUARANTINE_DIR "/%" PRId64, r->ag->task.restore_of);
	if (fs_volume_open(fd, part->offset, part->length, kind, false, &v, err, sizeof err) < 0)
		return 0;
	rc = restore_manifest(r, v, dir, &m);
	fs_volume_close(v);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0 && (rc = fs_volume_open(fd, part->offset, part->length, kind, true, &v, err,
	    sizeof err)) < 0)
		rc = agent_fail(r->ag, "restore: %s partition %u: %s", disk, part->index, err);
	else if (rc == 0) {
		rc = restore_files(r, v, dir, &m, part->index);
		if (fs_volume_close(v) < 0 && rc == 0)
			rc = agent_fail(r->ag, "restore: %s partition %u: writing back failed", disk,
			    part->index);
		r->filesystems++;
	}
	qmanifest_free(&m);
	return rc;
}

int
restore_run(struct agent *ag, char *done, size_t size)
{
	struct restore r = { .ag = ag, .restored = json_array(), .kept = json_array() };
	int rc = parts_each(ag, true, restore_partition, &r);

	if (rc == 0 && r.filesystems == 0)
		rc = agent_fail(ag, "restore: no filesystem holds " QUARANTINE_DIR "/%" PRId64
		    "/manifest.json", ag->task.restore_of);
	if (rc == 0) {
		snprintf(done, size, "%zu files of scan task %" PRId64 " put back%s",
		    json_array_size(r.restored), ag->task.restore_of,
		    json_array_size(r.kept) > 0 ? ", some left in quarantine (see the report)" : "");
		ag->report = json_pack("{s:s,s:I,s:O,s:O}", "kind", "restore", "of",
		    (json_int_t)ag->task.restore_of, "restored", r.restored, "kept", r.kept);
	}
	json_decref(r.restored);
	json_decref(r.kept);
	return rc;
}

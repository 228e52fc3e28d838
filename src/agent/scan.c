/* scan: every filesystem of every disk of the machine read with its own
 * library (ext2/3/4, NTFS, FAT; nothing is mounted, nothing written) and
 * every regular file scanned by libclamav, several at once: one engine,
 * loaded once, shared by the worker threads; each worker opens the
 * filesystem for itself and hands libclamav its files through a read
 * callback (cl_fmap_open_handle), so no file is copied.  Archives and
 * documents are scanned inside by libclamav within the limits set below;
 * a file over a limit is reported as such (Heuristics.Limits.Exceeded).
 * Findings: partition, path, signature, size, SHA-256.  With quarantine,
 * the infected files are then moved (quarantine.c). */
#include "agent/scan.h"

#include <clamav.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/journal.h"
#include "agent/parts.h"
#include "agent/quarantine.h"
#include "core/util.h"
#include "image/fsfile.h"
#include "image/manifest.h"

#define SCAN_MAX_SCANSIZE       (400ull << 20)  /* bytes scanned of one file, inside */
#define SCAN_MAX_FILESIZE       (100ull << 20)  /* larger files are not scanned */
#define SCAN_MAX_RECURSION      17              /* archives in archives */
#define SCAN_MAX_FILES          10000           /* files inside one archive */
#define SCAN_FILES_MAX          (8u << 20)      /* files of one filesystem */
#define REPORT_FINDINGS_MAX     1000
#define LIMITS_PREFIX           "Heuristics.Limits.Exceeded"

struct scan {
	struct agent *ag;
	struct cl_engine *engine;       /* one, shared by the workers */
	struct cl_scan_options opts;
	unsigned signatures;
	pthread_mutex_t lock;           /* guards what follows */
	struct quarantine quarantine;   /* the findings (moved with quarantine) */
	json_t *limits_hit, *unreadable, *skipped;
	uint64_t infected, limits;
	unsigned filesystems;
	atomic_uint_fast64_t files, bytes, errors;
	struct progress progress;
};

struct scan_part {
	struct scan *s;
	const char *disk;
	int fd;
	const struct partition *part;
	enum fs_kind kind;
	struct fs_entries files;
	atomic_size_t next;
};

/* libclamav's messages: errors and warnings into the journal. */
static void
scan_clamav_msg(enum cl_msg severity, const char *fullmsg, const char *msg, void *ctx)
{
	char line[JOURNAL_LINE_MAX - 32];
	size_t n = strcspn(msg, "\n");

	(void)fullmsg;
	(void)ctx;
	if (severity == CL_MSG_INFO_VERBOSE)
		return;
	snprintf(line, sizeof line, "%.*s", (int)MIN(n, sizeof line - 1), msg);
	journal_info("libclamav: %s", line);
}

static int
scan_engine(struct scan *s, const char *dir, unsigned nfiles)
{
	unsigned sigs = 0;
	cl_error_t e;

	cl_set_clcb_msg(scan_clamav_msg);
	if ((e = cl_init(CL_INIT_DEFAULT)) != CL_SUCCESS || (s->engine = cl_engine_new()) == NULL)
		return agent_fail(s->ag, "libclamav: %s", cl_strerror(e));
	cl_engine_set_num(s->engine, CL_ENGINE_MAX_SCANSIZE, (long long)SCAN_MAX_SCANSIZE);
	cl_engine_set_num(s->engine, CL_ENGINE_MAX_FILESIZE, (long long)SCAN_MAX_FILESIZE);
	cl_engine_set_num(s->engine, CL_ENGINE_MAX_RECURSION, SCAN_MAX_RECURSION);
	cl_engine_set_num(s->engine, CL_ENGINE_MAX_FILES, SCAN_MAX_FILES);
	e = cl_load(dir, s->engine, &sigs, CL_DB_STDOPT);
	if (e != CL_SUCCESS)
		return agent_fail(s->ag, "the ClamAV database is damaged: libclamav: %s: not "
		    "scanning", cl_strerror(e));
	if (sigs == 0)
		return agent_fail(s->ag, "the ClamAV database is empty (%u files, no signature): "
		    "not scanning", nfiles);
	if ((e = cl_engine_compile(s->engine)) != CL_SUCCESS)
		return agent_fail(s->ag, "libclamav: %s", cl_strerror(e));
	s->signatures = sigs;
	journal_info("scan: %u signatures from %u database files", sigs, nfiles);
	return 0;
}

/* ---- one file ---- */

/* libclamav's read callback: as much of count as the file holds (the
 * readers return a run or a cluster at a time). */
static off_t
scan_pread(void *handle, void *buf, size_t count, off_t offset)
{
	size_t done = 0;

	while (done < count) {
		ssize_t n = fs_reader_pread(handle, (uint8_t *)buf + done, count - done,
		    (uint64_t)offset + done);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (off_t)done;
}

static int
scan_sha256(struct fs_reader *r, uint64_t size, char hex[SHA256_HEX_LEN + 1])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t buf[1 << 16], sha[SHA256_LEN];
	unsigned len = 0;
	int rc = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? 0 : -EIO;

	for (uint64_t at = 0; rc == 0 && at < size;) {
		ssize_t n = fs_reader_pread(r, buf, (size_t)MIN(sizeof buf, size - at), at);
		if (n <= 0 || EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			rc = -EIO;
		at += n > 0 ? (uint64_t)n : 0;
	}
	if (rc == 0 && EVP_DigestFinal_ex(ctx, sha, &len) != 1)
		rc = -EIO;
	if (rc == 0)
		sha256_hex(sha, hex);
	EVP_MD_CTX_free(ctx);
	return rc;
}

static void
scan_found(struct scan_part *p, const struct fs_entry *e, const char *virname,
    struct fs_reader *r, uint64_t size)
{
	struct scan *s = p->s;
	char hex[SHA256_HEX_LEN + 1] = "";
	bool limit = strncmp(virname, LIMITS_PREFIX, strlen(LIMITS_PREFIX)) == 0;

	if (!limit && scan_sha256(r, size, hex) < 0)
		str_copy(hex, "", sizeof hex);
	pthread_mutex_lock(&s->lock);
	if (limit) {
		if (json_array_size(s->limits_hit) < REPORT_FINDINGS_MAX)
			json_array_append_new(s->limits_hit, json_pack("{s:s,s:i,s:s,s:s}", "disk",
			    p->disk, "partition", (int)p->part->index, "path", e->path, "limit",
			    virname + strlen(LIMITS_PREFIX) + (virname[strlen(LIMITS_PREFIX)] == '.')));
		s->limits++;
	} else {
		quarantine_note(&s->quarantine, p->disk, p->part, p->kind, e, virname, hex, size);
		s->infected++;
		journal_info("scan: %s partition %u: %s: %s", p->disk, p->part->index, e->path,
		    virname);
	}
	pthread_mutex_unlock(&s->lock);
}

static void
scan_one(struct scan_part *p, struct fs_volume *v, const struct fs_entry *e)
{
	struct scan *s = p->s;
	struct fs_reader *r = NULL;
	const char *virname = NULL;
	unsigned long scanned = 0;
	uint64_t size = 0;
	cl_fmap_t *map;
	cl_error_t rc;

	if (fs_reader_open(v, e->id, &r, &size) < 0) {
		atomic_fetch_add(&s->errors, 1);
		return;
	}
	map = size > 0 ? cl_fmap_open_handle(r, 0, (size_t)size, scan_pread, 0) : NULL;
	rc = map != NULL ? cl_scanmap_callback(map, e->path, &virname, &scanned, s->engine,
	    &s->opts, NULL) : CL_CLEAN;
	if (map != NULL)
		cl_fmap_close(map);
	if (rc == CL_VIRUS && virname != NULL)
		scan_found(p, e, virname, r, size);
	else if (rc != CL_CLEAN)
		atomic_fetch_add(&s->errors, 1);
	fs_reader_close(r);
	atomic_fetch_add(&s->files, 1);
	atomic_fetch_add(&s->bytes, size);
}

static void
scan_worker(void *arg, struct api_conn *conn)
{
	struct scan_part *p = arg;
	struct fs_volume *v;
	char err[256];
	size_t i;

	(void)conn;
	if (fs_volume_open(p->fd, p->part->offset, p->part->length, p->kind, false, &v, err,
	    sizeof err) < 0)
		return;                 /* the walk opened it: it does not happen */
	while (!atomic_load(&p->s->ag->stop) && (i = atomic_fetch_add(&p->next, 1)) <
	    p->files.n)
		scan_one(p, v, &p->files.v[i]);
	fs_volume_close(v);
}

static void
scan_tick(void *arg)
{
	struct scan_part *p = arg;

	atomic_store(&p->s->progress.files, atomic_load(&p->s->files));
	progress_report(p->s->ag, &p->s->progress, atomic_load(&p->s->bytes), 0, false);
}

/* ---- partitions ---- */

static void
scan_note(struct scan *s, json_t *list, const char *disk, unsigned index, const char *why)
{
	if (json_array_size(list) < REPORT_FINDINGS_MAX)
		json_array_append_new(list, json_pack("{s:s,s:i,s:s}", "disk", disk, "partition",
		    (int)index, "why", why));
	journal_info("scan: %s partition %u: %s", disk, index, why);
	(void)s;
}

static int
scan_partition(void *arg, const char *disk, int fd, const struct partition *part,
    enum fs_kind kind)
{
	struct scan *s = arg;
	struct scan_part p = { .s = s, .disk = disk, .fd = fd, .part = part, .kind = kind };
	struct fs_volume *v;
	char err[256] = "";
	int rc;

	if (kind == FS_BITLOCKER) {
		scan_note(s, s->skipped, disk, part->index, "encrypted with BitLocker: not scanned");
		return 0;
	}
	if (kind != FS_EXT && kind != FS_NTFS && kind != FS_FAT)
		return 0;                       /* swap, empty, unknown */
	rc = fs_volume_open(fd, part->offset, part->length, kind, false, &v, err, sizeof err);
	if (rc == 0) {
		if (fs_volume_hibernated(v))
			scan_note(s, s->skipped, disk, part->index, "Windows is hibernated (or "
			    "Fast Startup): scanned read-only, nothing may be written");
		rc = fs_walk(v, SCAN_FILES_MAX, &p.files, err, sizeof err);
		fs_volume_close(v);
	}
	if (rc < 0 && p.files.n == 0) {
		scan_note(s, s->unreadable, disk, part->index, err[0] ? err : strerror(-rc));
		fs_entries_free(&p.files);
		return 0;
	}
	if (err[0] != '\0')
		scan_note(s, s->unreadable, disk, part->index, err);
	uint64_t t0 = clock_now_us();
	journal_info("scan: %s partition %u (%s): %zu files", disk, part->index,
	    fs_kind_name(kind), p.files.n);
	s->filesystems++;
	rc = pool_run(s->ag, scan_worker, scan_tick, &p);
	journal_info("scan: %s partition %u scanned in %.1f s by %u workers", disk, part->index,
	    (double)(clock_now_us() - t0) / 1e6, s->ag->parallel);
	fs_entries_free(&p.files);
	return rc < 0 || atomic_load(&s->ag->stop) ? -EIO : 0;
}

/* ---- the whole ---- */

static void
scan_report(struct scan *s, char *done, size_t size)
{
	struct agent *ag = s->ag;
	uint64_t files = atomic_load(&s->files), bytes = atomic_load(&s->bytes);

	ag->report = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:i,s:O,s:O,s:O,s:O,s:{s:I,s:I,s:i,s:i},"
	    "s:I}", "kind", "scan", "signatures", (json_int_t)s->signatures,
	    "files", (json_int_t)files, "bytes", (json_int_t)bytes,
	    "infected", (json_int_t)s->infected, "errors", (json_int_t)atomic_load(&s->errors),
	    "filesystems", (int)s->filesystems, "findings", quarantine_findings(&s->quarantine),
	    "limits_hit", s->limits_hit, "unreadable", s->unreadable, "not_scanned", s->skipped,
	    "limits", "max_scansize", (json_int_t)SCAN_MAX_SCANSIZE, "max_filesize",
	    (json_int_t)SCAN_MAX_FILESIZE, "max_recursion", SCAN_MAX_RECURSION, "max_files",
	    SCAN_MAX_FILES, "limits_hit_count", (json_int_t)s->limits);
	if (s->infected == 0)
		snprintf(done, size, "clean: %" PRIu64 " files (%" PRIu64 " bytes) scanned on %u "
		    "filesystems", files, bytes, s->filesystems);
	else
		snprintf(done, size, "%" PRIu64 " infected: %" PRIu64 " files (%" PRIu64 " bytes) "
		    "scanned on %u filesystems%s", s->infected, files, bytes, s->filesystems,
		    ag->task.quarantine ? quarantine_summary(&s->quarantine) : "");
}

static void
scan_free(struct scan *s)
{
	if (s->engine != NULL)
		cl_engine_free(s->engine);
	json_decref(s->limits_hit);
	json_decref(s->unreadable);
	json_decref(s->skipped);
	quarantine_free(&s->quarantine);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int
scan_run(struct agent *ag, char *done, size_t size)
{
	struct scan *s = calloc(1, sizeof *s);
	const char *dir = getenv("PXED_CLAMAV_CACHE");
	unsigned nfiles = 0;
	int rc;

	if (s == NULL)
		return agent_fail(ag, "out of memory");
	s->ag = ag;
	pthread_mutex_init(&s->lock, NULL);
	s->limits_hit = json_array();
	s->unreadable = json_array();
	s->skipped = json_array();
	s->opts = (struct cl_scan_options){ .general = CL_SCAN_GENERAL_HEURISTICS,
		.parse = ~0u, .heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX };
	quarantine_init(&s->quarantine, ag->task.id);
	rc = scandb_fetch(ag, dir != NULL && dir[0] != '\0' ? dir : "/run/pxed-clamav", &nfiles);
	if (rc == 0)
		rc = scan_engine(s, dir != NULL && dir[0] != '\0' ? dir : "/run/pxed-clamav",
		    nfiles);
	if (rc == 0) {
		progress_start(&s->progress, "scan", 0, 0);
		s->progress.count_files = true;
		rc = parts_each(ag, false, scan_partition, s);
	}
	if (rc == 0) {
		atomic_store(&s->progress.files, atomic_load(&s->files));
		progress_report(ag, &s->progress, atomic_load(&s->bytes), 0, true);
		if (ag->task.quarantine && s->infected > 0)
			rc = quarantine_run(ag, &s->quarantine);
	}
	if (rc == 0)
		scan_report(s, done, size);
	scan_free(s);
	return rc;
}

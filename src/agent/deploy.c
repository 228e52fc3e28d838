/* Deploy: the partition-table chunks first, then the data chunks in
 * ascending order, fetched by the worker pool; every chunk's hash is
 * checked before a byte of it is written.  The resume offset goes to the
 * server only after fdatasync.  Optionally every range is read back and
 * hashed again (phase "verify"). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "agent/agent.h"
#include "agent/journal.h"
#include "agent/mcast.h"
#include "agent/resume.h"
#include "image/chunk.h"

#define CHUNK_FETCH_ATTEMPTS 4          /* the first and three retries */

struct deploy {
	struct agent *ag;
	const struct manifest *m;
	size_t *order;                  /* chunk indexes this pass works on */
	size_t norder;
	atomic_size_t next;
	bool verify;                    /* this pass reads back instead */
	uint32_t max_len;               /* the longest chunk */
	pthread_mutex_t lock;           /* guards resume and synced */
	struct resume resume;
	uint64_t synced;                /* resume offset known to be on disk */
	size_t skipped_chunks;          /* below the resume offset at the start */
	uint64_t skipped_bytes;
	atomic_uint_fast64_t verified;
	atomic_uint_fast64_t fetched_bytes;     /* chunks fetched and written by this run */
	atomic_size_t fetched_chunks;
	struct progress progress;
};

/* Buffers a worker keeps between chunks. */
struct deploy_buffers {
	struct api_buf frame;
	uint8_t *data;
};

static void
chunk_url(const struct deploy *d, const struct image_chunk *c, char *url, size_t size)
{
	char hex[SHA256_HEX_LEN + 1];

	sha256_hex(c->sha256, hex);
	snprintf(url, size, "%s%.2s/%s.zst", d->ag->task.chunk_url, hex, hex);
}

/* GET the frame and decompress it: the length, or -EAGAIN (bad frame or
 * hash: try again), or -EIO (failed, recorded). */
static long
chunk_fetch_once(struct deploy *d, struct api_conn *conn, struct deploy_buffers *b,
    const struct image_chunk *c, const char *hex)
{
	char url[TASK_URL_MAX + 2 * SHA256_HEX_LEN], err[API_ERR_MAX];
	long n;
	int rc;

	chunk_url(d, c, url, sizeof url);
	b->frame.max = ZSTD_COMPRESSBOUND(c->length);
	rc = api_request(conn, "GET", url, NULL, 0, NULL, &b->frame, err, sizeof err);
	if (rc == -EMSGSIZE)
		return -EAGAIN;
	if (rc != 200)
		return agent_fail(d->ag, "chunk %s at offset %" PRIu64 ": %s", hex, c->offset,
		    rc == -ECANCELED ? "stopped" : err);
	n = chunk_decompress_verify(b->frame.data, b->frame.len, b->data, c->length, c->sha256);
	if (n >= 0 && n != (long)c->length)
		n = -EBADMSG;
	return n < 0 ? -EAGAIN : n;
}

/* Fetch, verify, write one chunk.  0 or -EIO (recorded). */
static int
chunk_deploy(struct deploy *d, struct api_conn *conn, struct deploy_buffers *b,
    const struct image_chunk *c)
{
	char hex[SHA256_HEX_LEN + 1];
	long n = -EAGAIN;
	int rc;

	sha256_hex(c->sha256, hex);
	for (int i = 0; i < CHUNK_FETCH_ATTEMPTS && n == -EAGAIN; i++) {
		if (i > 0)
			journal_info("chunk %s at offset %" PRIu64 ": bad frame or hash, "
			    "fetching again", hex, c->offset);
		n = chunk_fetch_once(d, conn, b, c, hex);
	}
	if (n == -EAGAIN)
		return agent_fail(d->ag, "chunk %s at offset %" PRIu64 ": hash mismatch", hex,
		    c->offset);
	if (n < 0)
		return -EIO;
	if ((rc = pwrite_full(d->ag->fd, b->data, c->length, c->offset)) < 0)
		return agent_fail(d->ag, "%s: write at %" PRIu64 ": %s", d->ag->disk, c->offset,
		    strerror(-rc));
	return 0;
}

/* Read back one chunk's range and hash it.  0 or -EIO (recorded). */
static int
chunk_verify(struct deploy *d, struct deploy_buffers *b, const struct image_chunk *c)
{
	char hex[SHA256_HEX_LEN + 1];
	uint8_t sha[SHA256_LEN];
	int rc;

	sha256_hex(c->sha256, hex);
	if ((rc = pread_full(d->ag->fd, b->data, c->length, c->offset)) < 0)
		return agent_fail(d->ag, "%s: read at %" PRIu64 ": %s", d->ag->disk, c->offset,
		    strerror(-rc));
	chunk_sha256(b->data, c->length, sha);
	if (memcmp(sha, c->sha256, SHA256_LEN) != 0)
		return agent_fail(d->ag, "verify: chunk %s at offset %" PRIu64
		    ": the disk holds other data", hex, c->offset);
	atomic_fetch_add(&d->verified, c->length);
	return 0;
}

static void
deploy_worker(void *arg, struct api_conn *conn)
{
	struct deploy *d = arg;
	struct deploy_buffers b = { .data = malloc(d->max_len ? d->max_len : 1) };
	size_t i;

	if (b.data == NULL) {
		agent_fail(d->ag, "out of memory for a chunk buffer");
		return;
	}
	while (!atomic_load(&d->ag->stop) && (i = atomic_fetch_add(&d->next, 1)) < d->norder) {
		const struct image_chunk *c = &d->m->chunk[d->order[i]];
		if (d->verify) {
			if (chunk_verify(d, &b, c) < 0)
				break;
			continue;
		}
		if (chunk_deploy(d, conn, &b, c) < 0)
			break;
		atomic_fetch_add(&d->fetched_bytes, c->length);
		atomic_fetch_add(&d->fetched_chunks, 1);
		pthread_mutex_lock(&d->lock);
		resume_mark(&d->resume, d->order[i]);
		pthread_mutex_unlock(&d->lock);
	}
	api_buf_free(&b.frame);
	free(b.data);
}

/* Sync when the written prefix grew; report what is safely on disk. */
static void
deploy_tick_report(struct deploy *d, bool final)
{
	uint64_t offset, bytes;

	pthread_mutex_lock(&d->lock);
	offset = resume_offset(&d->resume);
	bytes = d->resume.bytes_done;
	pthread_mutex_unlock(&d->lock);
	if (offset > d->synced) {
		if (fdatasync(d->ag->fd) < 0) {
			agent_fail(d->ag, "%s: sync: %s", d->ag->disk, strerror(errno));
			return;
		}
		d->synced = offset;
	}
	progress_report(d->ag, &d->progress, bytes, d->synced, final);
}

static void
deploy_tick(void *arg)
{
	struct deploy *d = arg;

	if (d->verify)
		progress_report(d->ag, &d->progress, atomic_load(&d->verified), d->synced, false);
	else
		deploy_tick_report(d, false);
}

/* Runs the pool over the chunks for which keep(table flag) holds and
 * which are not written yet. */
static int
deploy_pass(struct deploy *d, bool table)
{
	d->norder = 0;
	atomic_store(&d->next, 0);
	for (size_t i = 0; i < d->m->nchunks; i++)
		if (d->m->chunk[i].table == table && !resume_is_done(&d->resume, i))
			d->order[d->norder++] = i;
	if (d->norder == 0)
		return 0;
	return pool_run(d->ag, deploy_worker, deploy_tick, d);
}

static int
deploy_verify(struct deploy *d)
{
	if (fdatasync(d->ag->fd) < 0)
		return agent_fail(d->ag, "%s: sync: %s", d->ag->disk, strerror(errno));
	/* read the disk, not the page cache */
	posix_fadvise(d->ag->fd, 0, 0, POSIX_FADV_DONTNEED);
	d->verify = true;
	d->norder = d->m->nchunks;
	atomic_store(&d->next, 0);
	for (size_t i = 0; i < d->m->nchunks; i++)
		d->order[i] = i;
	progress_start(&d->progress, "verify", manifest_bytes(d->m), 0);
	if (pool_run(d->ag, deploy_worker, deploy_tick, d) < 0)
		return -EIO;
	progress_report(d->ag, &d->progress, atomic_load(&d->verified), d->synced, true);
	journal_info("verify: every chunk reads back with its hash");
	return 0;
}

/* Refuse a disk too small before anything is written. */
static int
deploy_check(struct agent *ag, const struct manifest *m)
{
	uint64_t need = 0;

	if (m->nchunks > 0)
		need = m->chunk[m->nchunks - 1].offset + m->chunk[m->nchunks - 1].length;
	if (need > ag->disk_size)
		return agent_fail(ag, "disk too small: image needs %" PRIu64
		    " bytes, disk has %" PRIu64, need, ag->disk_size);
	return 0;
}

static int
deploy_init(struct deploy *d, struct agent *ag)
{
	d->ag = ag;
	d->m = &ag->task.manifest;
	for (size_t i = 0; i < d->m->nchunks; i++)
		if (d->m->chunk[i].length > d->max_len)
			d->max_len = d->m->chunk[i].length;
	d->order = calloc(d->m->nchunks ? d->m->nchunks : 1, sizeof *d->order);
	if (d->order == NULL || resume_init(&d->resume, d->m->chunk, d->m->nchunks,
	    ag->task.resume_offset) < 0)
		return agent_fail(ag, "out of memory for %zu chunks", d->m->nchunks);
	pthread_mutex_init(&d->lock, NULL);
	d->synced = resume_offset(&d->resume);
	for (size_t i = 0; i < d->m->nchunks; i++)
		d->skipped_chunks += resume_is_done(&d->resume, i);
	d->skipped_bytes = d->resume.bytes_done;
	if (d->skipped_chunks > 0)
		journal_info("resuming at offset %" PRIu64 ": %zu chunks (%" PRIu64
		    " bytes) are on the disk already", d->synced, d->skipped_chunks,
		    d->skipped_bytes);
	return 0;
}

static void
deploy_free(struct deploy *d)
{
	resume_free(&d->resume);
	free(d->order);
	pthread_mutex_destroy(&d->lock);
}

static int
deploy_chunks(struct deploy *d)
{
	struct agent *ag = d->ag;

	journal_info("deploying image %s to %s: %zu chunks, %" PRIu64 " bytes%s",
	    d->m->name, ag->disk, d->m->nchunks, manifest_bytes(d->m),
	    ag->task.resume_offset ? " (resuming)" : "");
	progress_start(&d->progress, "deploy", manifest_bytes(d->m), d->resume.bytes_done);
	/* multicast first; whatever it did not bring comes over HTTP */
	if (ag->task.mcast.on && mcast_receive(ag, d->m, &d->resume, &d->lock, &d->progress) < 0)
		return -EIO;
	if (deploy_pass(d, true) < 0 || deploy_pass(d, false) < 0)
		return -EIO;
	deploy_tick_report(d, true);
	if (atomic_load(&ag->stop))
		return -EIO;
	journal_info("deploy: %zu chunks (%" PRIuFAST64 " bytes) fetched over HTTP, %zu chunks (%"
	    PRIu64 " bytes) on the disk before", atomic_load(&d->fetched_chunks),
	    atomic_load(&d->fetched_bytes), d->skipped_chunks, d->skipped_bytes);
	if (ag->task.verify && deploy_verify(d) < 0)
		return -EIO;
	if (fdatasync(ag->fd) < 0)
		return agent_fail(ag, "%s: sync: %s", ag->disk, strerror(errno));
	return 0;
}

int
deploy_run(struct agent *ag)
{
	struct deploy d = { 0 };
	int rc;

	if (disk_open(ag, O_RDWR) < 0 || deploy_check(ag, &ag->task.manifest) < 0)
		return -EIO;
	if (deploy_init(&d, ag) < 0) {
		free(d.order);
		resume_free(&d.resume);
		return -EIO;
	}
	rc = deploy_chunks(&d);
	deploy_free(&d);
	if (rc == 0)
		journal_info("deploy done: image %s on %s", ag->task.manifest.name, ag->disk);
	return rc;
}

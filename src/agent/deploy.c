/* Deploy: the partition-table chunks first, then the data chunks in
 * ascending order, fetched by the worker pool; every chunk's hash is
 * checked before a byte of it is written.  The resume offset goes to the
 * server only after fdatasync.  Optionally every range is read back and
 * hashed again (phase "verify").
 *
 * A disk of another size than the image's: nothing is written before
 * image_target_plan said that every partition and chunk fits.  A GPT is
 * then moved to the new size (gpt_relocate) after its primary table is
 * written: the image's backup chunks are never written, the backup goes to
 * the end of this disk instead, and verify checks the rewritten table by
 * reading it back (CRCs, backup at the end, the image's partitions) rather
 * than by the image's hashes. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/fetch.h"
#include "agent/journal.h"
#include "agent/mcast.h"
#include "agent/resume.h"
#include "core/util.h"
#include "image/chunk.h"
#include "image/target.h"

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
	struct image_target target;     /* the disk's size against the image's */
	struct chunk_fetcher fetch;     /* the chunk sources */
};

/* Buffers a worker keeps between chunks. */
struct deploy_buffers {
	struct api_buf frame;
	uint8_t *data;
};

/* Fetch (from the sources, fetch.c), verify, write one chunk.  0 or -EIO
 * (recorded). */
static int
chunk_deploy(struct deploy *d, struct api_conn *conn, struct deploy_buffers *b,
    const struct image_chunk *c)
{
	int rc;

	if (chunk_fetch(&d->fetch, conn, &b->frame, b->data, c) < 0)
		return -EIO;
	if ((rc = pwrite_start(d->ag->fd, b->data, c->length, c->offset)) < 0)
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

/* ---- a GPT on a disk of another size ---- */

/* Writes the moved backup (entries and header) at the end of the disk,
 * then the MBR and primary header that point at it, and syncs. */
static int
deploy_write_gpt(struct deploy *d, const uint8_t *head, const struct gpt_relocation *r)
{
	struct agent *ag = d->ag;
	int rc = pwrite_full(ag->fd, r->tail, r->tail_len, r->tail_offset);

	if (rc < 0)
		return agent_fail(ag, "%s: write at %" PRIu64 ": %s", ag->disk, r->tail_offset,
		    strerror(-rc));
	rc = pwrite_full(ag->fd, head, 2 * (size_t)d->m->sector_size, 0);
	if (rc < 0)
		return agent_fail(ag, "%s: write at 0: %s", ag->disk, strerror(-rc));
	if (fdatasync(ag->fd) < 0)
		return agent_fail(ag, "%s: sync: %s", ag->disk, strerror(errno));
	journal_info("GPT moved: backup header at LBA %" PRIu64 " (the image's at %" PRIu64
	    "), last usable LBA %" PRIu64 " (was %" PRIu64 ")", r->backup_lba,
	    r->old_backup_lba, r->last_usable, r->old_last_usable);
	return 0;
}

/* The primary table as the table chunks wrote it (or as an earlier run of
 * this task already moved it: moving it again changes nothing), read back
 * and moved to this disk's size. */
static int
deploy_relocate_gpt(struct deploy *d)
{
	struct agent *ag = d->ag;
	size_t len = (size_t)MIN(d->target.head_bytes, (uint64_t)IMAGE_CHUNK_MAX);
	uint8_t *head = malloc(len);
	struct gpt_relocation r;
	char err[AGENT_ERR_MAX];
	int rc;

	if (head == NULL)
		return agent_fail(ag, "out of memory for the GPT");
	rc = pread_full(ag->fd, head, len, 0);
	if (rc < 0) {
		free(head);
		return agent_fail(ag, "%s: read at 0: %s", ag->disk, strerror(-rc));
	}
	rc = gpt_relocate(head, len, ag->disk_size, d->m->sector_size, &r, err, sizeof err);
	if (rc < 0)
		agent_fail(ag, "%s: moving the GPT: %s", ag->disk, err);
	else
		rc = deploy_write_gpt(d, head, &r);
	gpt_relocation_free(&r);
	free(head);
	return rc < 0 ? -EIO : 0;
}

/* The disk's table has the image's partitions, in the same order. */
static int
deploy_same_parts(const struct manifest *m, const struct disk_layout *l, char *err,
    size_t errlen)
{
	if (l->kind != PTABLE_GPT || l->nparts != m->nparts) {
		snprintf(err, errlen, "a %s table with %zu partitions, the image has a GPT "
		    "with %zu", ptable_kind_name(l->kind), l->nparts, m->nparts);
		return -EINVAL;
	}
	for (size_t i = 0; i < m->nparts; i++) {
		if (l->part[i].index != m->part[i].index || l->part[i].offset != m->part[i].offset ||
		    l->part[i].length != m->part[i].length) {
			snprintf(err, errlen, "partition %u is not where the image has it",
			    m->part[i].index);
			return -EINVAL;
		}
	}
	return 0;
}

/* Verify of a moved GPT: read back from the disk, every CRC checked
 * (primary and backup headers and entries), the backup in the disk's last
 * sector, and the image's partitions in it. */
static int
deploy_verify_gpt(struct deploy *d)
{
	struct disk_layout *l = calloc(1, sizeof *l);
	char err[AGENT_ERR_MAX];
	int rc;

	if (l == NULL)
		return agent_fail(d->ag, "out of memory for the partition table");
	rc = disk_read_layout(d->ag->fd, l, err, sizeof err);
	if (rc == 0)
		rc = deploy_same_parts(d->m, l, err, sizeof err);
	free(l);
	if (rc < 0)
		return agent_fail(d->ag, "verify: %s: the partition table: %s", d->ag->disk, err);
	for (size_t i = 0; i < d->m->nchunks; i++)
		if (image_target_is_rewritten(&d->target, i))
			atomic_fetch_add(&d->verified, d->m->chunk[i].length);
	return 0;
}

static int
deploy_verify(struct deploy *d)
{
	if (fdatasync(d->ag->fd) < 0)
		return agent_fail(d->ag, "%s: sync: %s", d->ag->disk, strerror(errno));
	/* read the disk, not the page cache */
	posix_fadvise(d->ag->fd, 0, 0, POSIX_FADV_DONTNEED);
	d->verify = true;
	d->norder = 0;
	atomic_store(&d->next, 0);
	for (size_t i = 0; i < d->m->nchunks; i++)
		if (!image_target_is_rewritten(&d->target, i))
			d->order[d->norder++] = i;
	progress_start(&d->progress, "verify", manifest_bytes(d->m), 0);
	if (pool_run(d->ag, deploy_worker, deploy_tick, d) < 0)
		return -EIO;
	if (d->target.relocate && deploy_verify_gpt(d) < 0)
		return -EIO;
	progress_report(d->ag, &d->progress, atomic_load(&d->verified), d->synced, true);
	journal_info("verify: every chunk reads back with its hash%s",
	    d->target.relocate ? " (the moved GPT with its CRCs)" : "");
	return 0;
}

/* Refuse a disk too small before anything is written, and plan the move
 * of a GPT to a disk of another size. */
static int
deploy_check(struct agent *ag, struct image_target *t)
{
	const struct manifest *m = &ag->task.manifest;
	char err[AGENT_ERR_MAX];

	if (image_target_plan(m, ag->disk_size, t, err, sizeof err) < 0)
		return agent_fail(ag, "%s: %s", ag->disk, err);
	if (t->relocate)
		journal_info("%s: %" PRIu64 " bytes, the image's disk had %" PRIu64
		    ": its GPT is moved to the end of this disk", ag->disk,
		    ag->disk_size, m->disk_size);
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
	/* the image's backup GPT is never written: the moved one is */
	for (size_t i = 0; i < d->m->nchunks; i++)
		if (image_target_is_backup(&d->target, i))
			resume_mark(&d->resume, i);
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
	if (deploy_pass(d, true) < 0 ||
	    (d->target.relocate && deploy_relocate_gpt(d) < 0) ||
	    deploy_pass(d, false) < 0)
		return -EIO;
	deploy_tick_report(d, true);
	if (atomic_load(&ag->stop))
		return -EIO;
	journal_info("deploy: %zu chunks (%" PRIuFAST64 " bytes) fetched over HTTP, %zu chunks (%"
	    PRIu64 " bytes) on the disk before", atomic_load(&d->fetched_chunks),
	    atomic_load(&d->fetched_bytes), d->skipped_chunks, d->skipped_bytes);
	chunk_fetcher_report(&d->fetch);
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

	if (disk_open(ag, O_RDWR) < 0 || deploy_check(ag, &d.target) < 0)
		return -EIO;
	if (deploy_init(&d, ag) < 0) {
		free(d.order);
		resume_free(&d.resume);
		return -EIO;
	}
	if (chunk_fetcher_init(&d.fetch, ag) < 0) {
		deploy_free(&d);
		return -EIO;
	}
	rc = deploy_chunks(&d);
	chunk_fetcher_free(&d.fetch);
	deploy_free(&d);
	if (rc == 0 && ag->task.no_grow)
		journal_info("grow: the task says no_grow: partitions as the image has them");
	else if (rc == 0)
		rc = grow_run(ag, &ag->task.manifest);
	if (rc == 0 && ag->task.hostname[0] != '\0')
		rc = identity_run(ag, &ag->task.manifest, ag->task.hostname);
	if (rc == 0)
		journal_info("deploy done: image %s on %s", ag->task.manifest.name, ag->disk);
	return rc;
}

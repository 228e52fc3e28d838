/* Capture: plan the chunks, then let the worker pool carry each chunk
 * through the whole pipeline -- read, hash, ask the server whether it has
 * it, and if not compress and upload it -- so that reading the disk,
 * compressing (the expensive part) and the network overlap across the
 * workers; finally upload the manifest.  Each byte of the disk is read
 * once; a worker holds one chunk at a time. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/journal.h"
#include "agent/plan.h"
#include "agent/sysinfo.h"
#include "core/util.h"
#include "image/chunk.h"

struct capture {
	struct agent *ag;
	struct capture_plan plan;
	atomic_size_t next;
	atomic_uint_fast64_t bytes_read;
	atomic_uint_fast64_t sent_chunks, sent_bytes;
	struct progress progress;
};

static int
capture_read(struct capture *c, struct image_chunk *ch, uint8_t *buf)
{
	int rc = pread_full(c->ag->fd, buf, ch->length, ch->offset);

	if (rc < 0)
		return agent_fail(c->ag, "%s: read at %" PRIu64 ": %s", c->ag->disk,
		    ch->offset, strerror(-rc));
	chunk_sha256(buf, ch->length, ch->sha256);
	atomic_fetch_add(&c->bytes_read, ch->length);
	return 0;
}

/* Does the server lack this chunk?  1 yes, 0 no, < 0 failed. */
static int
capture_missing(struct capture *c, struct api_conn *conn, const char *hex)
{
	struct api_buf resp = { .max = API_JSON_MAX };
	char err[API_ERR_MAX];
	json_t *arr = json_pack("[s]", hex), *answer;
	int rc;

	if (arr == NULL)
		return agent_fail(c->ag, "out of memory");
	rc = api_send_json(conn, "POST", "/api/v1/agent/chunks/missing", arr, &resp, err,
	    sizeof err);
	json_decref(arr);
	if (rc != 200) {
		api_buf_free(&resp);
		if (agent_status_ended(rc)) {
			agent_ended(c->ag, rc, err);
			return -EIO;
		}
		return agent_fail(c->ag, "chunks/missing: %s", rc == -ECANCELED ? "stopped" : err);
	}
	answer = json_loadb(resp.data, resp.len, 0, NULL);
	api_buf_free(&resp);
	if (!json_is_array(answer) || json_array_size(answer) > 1) {
		json_decref(answer);
		return agent_fail(c->ag, "chunks/missing: the answer is not a JSON array");
	}
	rc = json_array_size(answer) == 1;
	json_decref(answer);
	return rc;
}

static int
capture_upload(struct capture *c, struct api_conn *conn, const struct image_chunk *ch,
    const uint8_t *buf, const char *hex)
{
	char path[128], err[API_ERR_MAX];
	void *z = NULL;
	size_t zlen = 0;
	int rc;

	if (chunk_compress(buf, ch->length, c->ag->task.level, &z, &zlen) < 0)
		return agent_fail(c->ag, "chunk %s: compression failed", hex);
	snprintf(path, sizeof path, "/api/v1/agent/chunks/%s", hex);
	rc = api_request(conn, "PUT", path, z, zlen, "application/zstd", NULL, err, sizeof err);
	free(z);
	if (agent_status_ended(rc)) {
		agent_ended(c->ag, rc, err);
		return -EIO;
	}
	if (rc != 200 && rc != 201)
		return agent_fail(c->ag, "upload of chunk %s at offset %" PRIu64 ": %s", hex,
		    ch->offset, rc == -ECANCELED ? "stopped" : err);
	atomic_fetch_add(&c->sent_chunks, 1);
	atomic_fetch_add(&c->sent_bytes, zlen);
	return 0;
}

/* One chunk through the pipeline. */
static int
capture_one(struct capture *c, struct api_conn *conn, size_t i, uint8_t *buf)
{
	struct image_chunk *ch = &c->plan.chunk[i];
	char hex[SHA256_HEX_LEN + 1];
	int rc = capture_read(c, ch, buf);

	if (rc < 0)
		return rc;
	sha256_hex(ch->sha256, hex);
	rc = capture_missing(c, conn, hex);
	if (rc <= 0)
		return rc;
	return capture_upload(c, conn, ch, buf, hex);
}

static void
capture_worker(void *arg, struct api_conn *conn)
{
	struct capture *c = arg;
	uint8_t *buf = malloc(IMAGE_CHUNK_MAX);
	size_t i;

	if (buf == NULL) {
		agent_fail(c->ag, "out of memory for a chunk buffer");
		return;
	}
	while (!atomic_load(&c->ag->stop) && (i = atomic_fetch_add(&c->next, 1)) < c->plan.nchunks)
		if (capture_one(c, conn, i, buf) < 0)
			break;
	free(buf);
}

static void
capture_tick(void *arg)
{
	struct capture *c = arg;

	progress_report(c->ag, &c->progress, atomic_load(&c->bytes_read), 0, false);
}

static int
capture_manifest(struct capture *c)
{
	struct manifest m = { .created = (int64_t)time(NULL) };
	char err[API_ERR_MAX];
	size_t len;
	char *text;
	int rc;

	str_copy(m.name, c->ag->task.image, sizeof m.name);
	m.disk_size = c->plan.layout.disk_size;
	m.sector_size = c->plan.layout.sector_size;
	m.table = c->plan.layout.kind;
	m.chunk_size = c->ag->task.chunk_size;
	memcpy(m.part, c->plan.part, sizeof m.part);
	m.nparts = c->plan.nparts;
	m.chunk = c->plan.chunk;
	m.nchunks = c->plan.nchunks;
	if ((text = manifest_format(&m, &len)) == NULL)
		return agent_fail(c->ag, "out of memory formatting the manifest");
	rc = api_request(&c->ag->conn, "PUT", "/api/v1/agent/manifest", text, len,
	    "application/json", NULL, err, sizeof err);
	free(text);
	if (rc != 201 && rc != 200 && rc != 204)
		return agent_fail(c->ag, "manifest upload: %s",
		    rc == -ECANCELED ? "stopped" : err);
	return 0;
}

static void
capture_log_plan(const struct capture *c)
{
	const struct capture_plan *p = &c->plan;

	journal_info("capturing %s (%" PRIu64 " bytes, %s table) as image %s: %zu partitions, "
	    "%zu chunks, %" PRIu64 " bytes used", c->ag->disk, p->layout.disk_size,
	    ptable_kind_name(p->layout.kind), c->ag->task.image, p->nparts, p->nchunks, p->bytes);
	for (size_t i = 0; i < p->nparts; i++)
		journal_info("partition %u: %s, %" PRIu64 " of %" PRIu64 " bytes used",
		    p->part[i].index, fs_kind_name(p->part[i].fs), p->part[i].used,
		    p->part[i].length);
}

static int
capture_chunks(struct capture *c)
{
	atomic_store(&c->next, 0);
	if (pool_run(c->ag, capture_worker, capture_tick, c) < 0)
		return -EIO;
	progress_report(c->ag, &c->progress, atomic_load(&c->bytes_read), 0, true);
	if (atomic_load(&c->ag->stop))
		return -EIO;
	journal_info("capture: %" PRIuFAST64 " new chunks uploaded (%" PRIuFAST64
	    " compressed bytes)", atomic_load(&c->sent_chunks), atomic_load(&c->sent_bytes));
	return capture_manifest(c);
}

int
capture_run(struct agent *ag)
{
	struct capture *c = calloc(1, sizeof *c);
	char err[AGENT_ERR_MAX];
	int rc;

	if (c == NULL)
		return agent_fail(ag, "out of memory");
	c->ag = ag;
	rc = disk_open(ag, O_RDONLY);
	if (rc == 0 && capture_plan_build(ag->fd, &(struct plan_options){
	    .chunk_size = ag->task.chunk_size,
	    .outside_partitions = ag->task.outside_partitions,
	    .raw_encrypted = ag->task.raw_encrypted }, &c->plan, err,
	    sizeof err) < 0)
		rc = agent_fail(ag, "%s: %s", ag->disk, err);
	if (rc == 0) {
		capture_log_plan(c);
		progress_start(&c->progress, "capture", c->plan.bytes, 0);
		rc = capture_chunks(c);
	}
	if (rc == 0)
		journal_info("capture done: image %s", ag->task.image);
	capture_plan_free(&c->plan);
	free(c);
	return rc;
}

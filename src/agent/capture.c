/* Capture: plan the chunks, then batch by batch read and hash them (the
 * worker pool), ask the server which it lacks, compress and upload those
 * (the pool again: compression is the expensive part), and finally upload
 * the manifest.  A batch holds at most CAPTURE_BATCH_MAX chunks and a
 * memory budget's worth of bytes; each byte of the disk is read once. */
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

#define CAPTURE_BATCH_MAX 1024
#define CAPTURE_BUDGET_MIN (64ull << 20)
#define CAPTURE_BUDGET_MAX (1ull << 30)

struct capture {
	struct agent *ag;
	struct capture_plan plan;
	size_t first, count;            /* the batch: plan.chunk[first..first+count) */
	uint8_t *data[CAPTURE_BATCH_MAX];
	bool missing[CAPTURE_BATCH_MAX];
	bool upload;                    /* this pass compresses and uploads */
	atomic_size_t next;
	atomic_uint_fast64_t bytes_read;
	atomic_uint_fast64_t sent_chunks, sent_bytes;
	uint64_t budget;
	struct progress progress;
};

static int
capture_read_one(struct capture *c, size_t i)
{
	struct image_chunk *ch = &c->plan.chunk[c->first + i];
	int rc;

	c->data[i] = malloc(ch->length);
	if (c->data[i] == NULL)
		return agent_fail(c->ag, "out of memory for chunk at %" PRIu64, ch->offset);
	if ((rc = pread_full(c->ag->fd, c->data[i], ch->length, ch->offset)) < 0)
		return agent_fail(c->ag, "%s: read at %" PRIu64 ": %s", c->ag->disk,
		    ch->offset, strerror(-rc));
	chunk_sha256(c->data[i], ch->length, ch->sha256);
	atomic_fetch_add(&c->bytes_read, ch->length);
	return 0;
}

static int
capture_upload_one(struct capture *c, struct api_conn *conn, size_t i)
{
	const struct image_chunk *ch = &c->plan.chunk[c->first + i];
	char hex[SHA256_HEX_LEN + 1], path[128], err[API_ERR_MAX];
	void *z = NULL;
	size_t zlen = 0;
	int rc;

	sha256_hex(ch->sha256, hex);
	if (chunk_compress(c->data[i], ch->length, c->ag->task.level, &z, &zlen) < 0)
		return agent_fail(c->ag, "chunk %s: compression failed", hex);
	snprintf(path, sizeof path, "/api/v1/agent/chunks/%s", hex);
	rc = api_request(conn, "PUT", path, z, zlen, "application/zstd", NULL, err, sizeof err);
	free(z);
	if (rc != 200 && rc != 201)
		return agent_fail(c->ag, "upload of chunk %s at offset %" PRIu64 ": %s", hex,
		    ch->offset, rc == -ECANCELED ? "stopped" : err);
	atomic_fetch_add(&c->sent_chunks, 1);
	atomic_fetch_add(&c->sent_bytes, zlen);
	return 0;
}

static void
capture_worker(void *arg, struct api_conn *conn)
{
	struct capture *c = arg;
	size_t i;

	while (!atomic_load(&c->ag->stop) && (i = atomic_fetch_add(&c->next, 1)) < c->count) {
		if (c->upload && !c->missing[i])
			continue;
		if ((c->upload ? capture_upload_one(c, conn, i) : capture_read_one(c, i)) < 0)
			break;
	}
}

static void
capture_tick(void *arg)
{
	struct capture *c = arg;

	progress_report(c->ag, &c->progress, atomic_load(&c->bytes_read), 0, false);
}

/* Marks the first chunk of the batch with this hash (later ones with the
 * same hash are the same bytes: sent once). */
static void
mark_missing(struct capture *c, const uint8_t sha[SHA256_LEN])
{
	for (size_t i = 0; i < c->count; i++)
		if (memcmp(c->plan.chunk[c->first + i].sha256, sha, SHA256_LEN) == 0) {
			c->missing[i] = true;
			return;
		}
}

static int
parse_missing(struct capture *c, const struct api_buf *b)
{
	json_t *arr = json_loadb(b->data, b->len, 0, NULL);
	uint8_t sha[SHA256_LEN];
	int rc = 0;

	if (!json_is_array(arr))
		rc = agent_fail(c->ag, "chunks/missing: the answer is not a JSON array");
	for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
		json_t *v = json_array_get(arr, i);
		if (!json_is_string(v) || sha256_parse(json_string_value(v),
		    json_string_length(v), sha) < 0)
			rc = agent_fail(c->ag, "chunks/missing: bad hash in the answer");
		else
			mark_missing(c, sha);
	}
	json_decref(arr);
	return rc;
}

/* Which chunks of the batch the server lacks. */
static int
capture_query(struct capture *c)
{
	struct api_buf resp = { .max = API_JSON_MAX };
	char hex[SHA256_HEX_LEN + 1], err[API_ERR_MAX];
	json_t *arr = json_array();
	int rc;

	memset(c->missing, 0, sizeof c->missing);
	for (size_t i = 0; arr != NULL && i < c->count; i++) {
		sha256_hex(c->plan.chunk[c->first + i].sha256, hex);
		json_array_append_new(arr, json_string(hex));
	}
	if (arr == NULL)
		return agent_fail(c->ag, "out of memory");
	rc = api_send_json(&c->ag->conn, "POST", "/api/v1/agent/chunks/missing", arr, &resp,
	    err, sizeof err);
	json_decref(arr);
	if (rc == 200)
		rc = parse_missing(c, &resp);
	else
		rc = agent_fail(c->ag, "chunks/missing: %s", rc == -ECANCELED ? "stopped" : err);
	api_buf_free(&resp);
	return rc;
}

/* The next batch from first: chunks up to the count and memory limits. */
static void
batch_pick(struct capture *c, size_t first)
{
	uint64_t bytes = 0;

	c->first = first;
	c->count = 0;
	while (first + c->count < c->plan.nchunks && c->count < CAPTURE_BATCH_MAX) {
		uint64_t len = c->plan.chunk[first + c->count].length;
		if (c->count > 0 && bytes + len > c->budget)
			break;
		bytes += len;
		c->count++;
	}
}

static void
batch_free(struct capture *c)
{
	for (size_t i = 0; i < c->count; i++) {
		free(c->data[i]);
		c->data[i] = NULL;
	}
}

static int
capture_batch(struct capture *c)
{
	int rc;

	c->upload = false;
	atomic_store(&c->next, 0);
	rc = pool_run(c->ag, capture_worker, capture_tick, c);
	if (rc == 0)
		rc = capture_query(c);
	if (rc == 0) {
		c->upload = true;
		atomic_store(&c->next, 0);
		rc = pool_run(c->ag, capture_worker, capture_tick, c);
	}
	batch_free(c);
	return rc;
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

static uint64_t
capture_budget(void)
{
	uint64_t avail = sysinfo_mem_available("") / 4;

	return avail < CAPTURE_BUDGET_MIN ? CAPTURE_BUDGET_MIN :
	    avail > CAPTURE_BUDGET_MAX ? CAPTURE_BUDGET_MAX : avail;
}

static int
capture_chunks(struct capture *c)
{
	for (size_t first = 0; first < c->plan.nchunks; first += c->count) {
		batch_pick(c, first);
		if (capture_batch(c) < 0)
			return -EIO;
	}
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
	c->budget = capture_budget();
	rc = disk_open(ag, O_RDONLY);
	if (rc == 0 && capture_plan_build(ag->fd, ag->task.chunk_size, &c->plan, err,
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

/* Wipe, at the level the task asks (docs/DIAGNOSTICS.md):
 *   fast      discard the whole disk (when the device supports it), then
 *             zero its first and last MiB (the MBR, the GPT and its backup);
 *   zero      write zeros over every sector;
 *   random    write an AES-256-CTR keystream (a random key, counter = the
 *             offset) over every sector: random data at disk speed, that
 *             the verify pass can compute again;
 *   sanitize  the device purges itself (wipe_sanitize.c).
 * zero and random write 8 MiB at a time with O_DIRECT (as dd oflag=direct
 * does); with verify they read everything back (O_DIRECT) and compare:
 * NIST SP 800-88's "clear".  Each wipe that wrote leaves a certificate
 * with the host (POST /api/v1/agent/wipe). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent/agent.h"
#include "agent/journal.h"
#include "agent/wipe.h"
#include "core/util.h"

#define WIPE_EDGE (1u << 20)
#define WIPE_PIECE (8u << 20)
#define WIPE_ALIGN 65536

/* ---- the certificate ---- */

void
wipe_cert_start(struct agent *ag, struct wipe_cert *c, const char *method)
{
	memset(c, 0, sizeof *c);
	str_copy(c->method, method, sizeof c->method);
	str_copy(c->verify, "none", sizeof c->verify);
	c->started = (int64_t)time(NULL);
	c->size = ag->disk_size;
	disk_identity(ag->disk, c->model, sizeof c->model, c->serial, sizeof c->serial);
}

void
wipe_cert_send(struct agent *ag, struct wipe_cert *c, bool ok, const char *message)
{
	char err[API_ERR_MAX];
	json_t *body;
	int rc;

	c->finished = (int64_t)time(NULL);
	body = json_pack("{s:s,s:s,s:s,s:I,s:s,s:I,s:I,s:I,s:I,s:s,s:I,s:b,s:s}", "disk", ag->disk,
	    "model", c->model, "serial", c->serial, "size", (json_int_t)c->size,
	    "method", c->method, "started", (json_int_t)c->started,
	    "finished", (json_int_t)c->finished, "bytes_written", (json_int_t)c->bytes_written,
	    "write_ms", (json_int_t)c->write_ms,
	    "verify", c->verify, "bytes_verified", (json_int_t)c->bytes_verified, "ok", ok,
	    "message", message);
	if (ag->cancelled || body == NULL) {
		json_decref(body);
		return;
	}
	rc = api_send_json(&ag->conn, "POST", "/api/v1/agent/wipe", body, NULL, err, sizeof err);
	json_decref(body);
	if (rc != 204 && rc != 200)
		journal_error("wipe certificate not sent: %s", err);
	journal_info("certificate: %s %s (%s, serial %s): %s, %" PRIu64 " bytes written, verify"
	    " %s", ag->disk, c->method, c->model[0] ? c->model : "model unknown",
	    c->serial[0] ? c->serial : "unknown", ok ? "done" : "FAILED", c->bytes_written,
	    c->verify);
}

/* ---- fast ---- */

static void
wipe_discard(struct agent *ag)
{
	uint64_t range[2] = { 0, ag->disk_size };

	if (ioctl(ag->fd, BLKDISCARD, range) < 0)
		journal_info("%s: no discard (%s), zeroing the tables only", ag->disk,
		    strerror(errno));
	else
		journal_info("%s: discarded %" PRIu64 " bytes", ag->disk, ag->disk_size);
}

static int
wipe_zero(struct agent *ag, uint64_t offset, size_t len)
{
	void *zero = calloc(1, len ? len : 1);
	int rc;

	if (zero == NULL)
		return agent_fail(ag, "out of memory");
	rc = pwrite_full(ag->fd, zero, len, offset);
	free(zero);
	if (rc < 0)
		return agent_fail(ag, "%s: write at %" PRIu64 ": %s", ag->disk, offset,
		    strerror(-rc));
	return 0;
}

/* Do [offset, offset + len) read back as zeros? */
static bool
reads_zero(struct agent *ag, uint64_t offset, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);
	bool zero = buf != NULL && pread_full(ag->fd, buf, len, offset) == 0;

	for (size_t i = 0; zero && i < len; i++)
		zero = buf[i] == 0;
	free(buf);
	return zero;
}

static int
wipe_fast(struct agent *ag)
{
	struct wipe_cert c;
	struct progress p;
	size_t edge;

	if (disk_open(ag, O_RDWR) < 0)
		return -EIO;
	edge = ag->disk_size < WIPE_EDGE ? (size_t)ag->disk_size : WIPE_EDGE;
	wipe_cert_start(ag, &c, "fast");
	progress_start(&p, "wipe", 2 * (uint64_t)edge, 0);
	progress_report(ag, &p, 0, 0, false);
	if (atomic_load(&ag->stop))
		return -EIO;
	wipe_discard(ag);
	if (wipe_zero(ag, 0, edge) < 0 || wipe_zero(ag, ag->disk_size - edge, edge) < 0 ||
	    fdatasync(ag->fd) < 0) {
		wipe_cert_send(ag, &c, false, ag->err[0] ? ag->err : strerror(errno));
		return agent_fail(ag, "%s: %s", ag->disk, strerror(errno));
	}
	c.bytes_written = 2 * (uint64_t)edge;
	if (ag->task.verify) {
		bool ok = reads_zero(ag, 0, edge) && reads_zero(ag, ag->disk_size - edge, edge);
		str_copy(c.verify, ok ? "pass" : "fail", sizeof c.verify);
		c.bytes_verified = 2 * (uint64_t)edge;
	}
	progress_report(ag, &p, 2 * (uint64_t)edge, 0, true);
	wipe_cert_send(ag, &c, strcmp(c.verify, "fail") != 0, "discarded, tables zeroed");
	if (atomic_load(&ag->stop))
		return -EIO;
	if (strcmp(c.verify, "fail") == 0)
		return agent_fail(ag, "%s: the zeroed tables do not read back as zeros", ag->disk);
	journal_info("wipe done: %s", ag->disk);
	return 0;
}

/* ---- zero, random: every sector ---- */

struct overwrite {
	struct agent *ag;
	bool random;
	EVP_CIPHER_CTX *ctx;
	uint8_t key[32];
	uint8_t *buf, *check;
	struct progress p;
};

/* The bytes of [off, off + len) the pass writes, into out. */
static int
pattern(struct overwrite *w, uint64_t off, uint8_t *out, size_t len)
{
	uint8_t iv[16] = { 0 };
	uint64_t block = off / 16;
	int n = 0;

	if (!w->random)
		return 0;               /* out was zeroed once (overwrite_setup) */
	memset(out, 0, len);
	for (int i = 0; i < 8; i++)
		iv[15 - i] = (uint8_t)(block >> (8 * i));
	if (EVP_EncryptInit_ex(w->ctx, NULL, NULL, w->key, iv) != 1 ||
	    EVP_EncryptUpdate(w->ctx, out, &n, out, (int)len) != 1 || (size_t)n != len)
		return -EIO;
	return 0;
}

/* Open for the passes: O_DIRECT unless the file system refuses it or the
 * size leaves a tail it cannot write. */
static int
overwrite_open(struct agent *ag)
{
	int probe = open(ag->disk, O_RDWR | O_DIRECT | O_CLOEXEC);

	if (probe >= 0)
		close(probe);
	if (disk_open(ag, O_RDWR | (probe >= 0 ? O_DIRECT : 0)) < 0)
		return -EIO;
	if (ag->disk_size % 4096 != 0)
		(void)fcntl(ag->fd, F_SETFL, fcntl(ag->fd, F_GETFL) & ~O_DIRECT);
	return 0;
}

static int
overwrite_pass(struct overwrite *w, struct wipe_cert *c)
{
	struct agent *ag = w->ag;
	uint64_t size = ag->disk_size, t0 = clock_now_us();

	progress_start(&w->p, "wipe", size, 0);
	for (uint64_t off = 0; off < size && !atomic_load(&ag->stop); off += WIPE_PIECE) {
		size_t n = (size_t)MIN((uint64_t)WIPE_PIECE, size - off);
		int rc = pattern(w, off, w->buf, n);
		if (rc == 0)
			rc = pwrite_full(ag->fd, w->buf, n, off);
		if (rc < 0)
			return agent_fail(ag, "%s: write at %" PRIu64 ": %s", ag->disk, off,
			    strerror(-rc));
		c->bytes_written = off + n;
		progress_report(ag, &w->p, off + n, 0, false);
	}
	if (!atomic_load(&ag->stop) && fdatasync(ag->fd) < 0)
		return agent_fail(ag, "%s: sync: %s", ag->disk, strerror(errno));
	c->write_ms = (clock_now_us() - t0) / 1000;
	journal_info("%s: %" PRIu64 " bytes written in %.2f s (%.0f MB/s)", ag->disk,
	    c->bytes_written, (double)c->write_ms / 1000, (double)c->bytes_written /
	    (double)MAX(c->write_ms, 1u) / 1000);
	progress_report(ag, &w->p, c->bytes_written, 0, true);
	return atomic_load(&ag->stop) ? -EIO : 0;
}

/* Read everything back and compare: 0 pass, 1 a difference (the first
 * logged), or -EIO. */
static int
verify_pass(struct overwrite *w, struct wipe_cert *c)
{
	struct agent *ag = w->ag;
	uint64_t size = ag->disk_size;

	progress_start(&w->p, "verify", size, 0);
	for (uint64_t off = 0; off < size && !atomic_load(&ag->stop); off += WIPE_PIECE) {
		size_t n = (size_t)MIN((uint64_t)WIPE_PIECE, size - off);
		int rc = pread_full(ag->fd, w->check, n, off);
		if (rc < 0)
			return agent_fail(ag, "%s: verify: read at %" PRIu64 ": %s", ag->disk, off,
			    strerror(-rc));
		if (pattern(w, off, w->buf, n) < 0)
			return agent_fail(ag, "keystream failed");
		c->bytes_verified = off + n;
		if (memcmp(w->buf, w->check, n) != 0) {
			size_t i = 0;
			while (i < n && w->buf[i] == w->check[i])
				i++;
			journal_error("%s: verify: byte %" PRIu64 " differs from what was written",
			    ag->disk, off + i);
			return 1;
		}
		progress_report(ag, &w->p, off + n, 0, false);
	}
	progress_report(ag, &w->p, c->bytes_verified, 0, true);
	return atomic_load(&ag->stop) ? -EIO : 0;
}

static int
overwrite_setup(struct overwrite *w)
{
	w->buf = aligned_alloc(WIPE_ALIGN, WIPE_PIECE);
	w->check = aligned_alloc(WIPE_ALIGN, WIPE_PIECE);
	if (w->buf == NULL || w->check == NULL)
		return -ENOMEM;
	memset(w->buf, 0, WIPE_PIECE);
	if (!w->random)
		return 0;
	if (getrandom(w->key, sizeof w->key, 0) != (ssize_t)sizeof w->key)
		return -EIO;
	w->ctx = EVP_CIPHER_CTX_new();
	if (w->ctx == NULL || EVP_EncryptInit_ex(w->ctx, EVP_aes_256_ctr(), NULL, NULL,
	    NULL) != 1)
		return -ENOMEM;
	return 0;
}

static void
overwrite_free(struct overwrite *w)
{
	EVP_CIPHER_CTX_free(w->ctx);
	OPENSSL_cleanse(w->key, sizeof w->key);
	free(w->buf);
	free(w->check);
}

static int
wipe_overwrite(struct agent *ag, bool random)
{
	struct overwrite w = { .ag = ag, .random = random };
	struct wipe_cert c;
	int rc, v = 0;

	if (overwrite_open(ag) < 0)
		return -EIO;
	wipe_cert_start(ag, &c, random ? "random" : "zero");
	if (overwrite_setup(&w) < 0) {
		overwrite_free(&w);
		return agent_fail(ag, "out of memory");
	}
	journal_info("%s: writing %s over all %" PRIu64 " bytes", ag->disk,
	    random ? "random data" : "zeros", ag->disk_size);
	rc = overwrite_pass(&w, &c);
	if (rc == 0 && ag->task.verify) {
		v = verify_pass(&w, &c);
		str_copy(c.verify, v == 0 ? "pass" : "fail", sizeof c.verify);
	}
	overwrite_free(&w);
	if (rc == 0 && v == 0)
		wipe_cert_send(ag, &c, true, ag->task.verify ? "every byte written and read back" :
		    "every byte written");
	else
		wipe_cert_send(ag, &c, false, v == 1 ? "a byte read back differs" : ag->err);
	if (v == 1)
		return agent_fail(ag, "%s: verify: what was read back differs", ag->disk);
	if (rc < 0 || v < 0)
		return -EIO;
	journal_info("wipe done: %s (%s%s)", ag->disk, c.method,
	    ag->task.verify ? ", verified" : "");
	return 0;
}

int
wipe_run(struct agent *ag)
{
	switch (ag->task.params.level) {
	case WIPE_ZERO: return wipe_overwrite(ag, false);
	case WIPE_RANDOM: return wipe_overwrite(ag, true);
	case WIPE_SANITIZE: return wipe_sanitize(ag);
	default: return wipe_fast(ag);
	}
}

/* The disk tests: smart (smartctl), disk-read (a read-only surface scan)
 * and disk-write (badblocks -w, destructive).
 *
 * disk-read reads each disk in 4 MiB pieces with O_DIRECT, as dd
 * iflag=direct does; a piece that fails is read again 64 KiB at a time and
 * each 64 KiB that fails one logical block at a time, still with
 * O_DIRECT, so every unreadable sector is found exactly and listed as a
 * range.  (badblocks narrows a failed read down to single blocks too, but
 * reads those through the page cache, which fails the whole 4 KiB page
 * around a bad 512-byte sector: see docs/DIAGNOSTICS.md.) */
#include "agent/diag.h"
#include "agent/diag_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/journal.h"
#include "core/util.h"

#define SCAN_PIECE (4u << 20)
#define SCAN_RETRY (64u << 10)
#define SCAN_MIN_RATE (1u << 20)        /* the time bound: 60 s + size at 1 MiB/s */
#define SMART_TIMEOUT_S 60

/* ---- smart ---- */

static json_t *
smart_json(const char *disk, const struct smart_health *h)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
	    "disk", disk, "model", h->model, "serial", h->serial, "firmware", h->firmware,
	    "available", h->available, "nvme", h->nvme, "passed", h->passed,
	    "reallocated", (json_int_t)h->reallocated, "pending", (json_int_t)h->pending,
	    "offline_uncorrectable", (json_int_t)h->offline_uncorrectable,
	    "reported_uncorrect", (json_int_t)h->reported_uncorrect,
	    "media_errors", (json_int_t)h->media_errors,
	    "percentage_used", (json_int_t)h->percentage_used,
	    "critical_warning", (json_int_t)h->critical_warning,
	    "power_on_hours", (json_int_t)h->power_on_hours);
}

/* smartctl -j ARGS... DISK parsed by parse; 0, or -EIO with what[] said. */
static int
smartctl(struct diag_run *d, const char *a1, const char *a2, const char *disk,
    struct command_result *out)
{
	const char *argv[] = { "smartctl", "-j", a1, a2, disk, NULL };

	if (a2 == NULL) {
		argv[3] = disk;
		argv[4] = NULL;
	}
	return diag_command(d, argv, SMART_TIMEOUT_S, out);
}

/* Start a short self-test and wait for its end (bounded): "passed",
 * "failed: ...", or why it did not run. */
static enum smart_selftest
smart_selftest(struct diag_run *d, const char *disk, const struct smart_health *h,
    char *what, size_t size)
{
	unsigned minutes = h->short_minutes > 0 ? (unsigned)h->short_minutes : 2;
	uint64_t deadline = clock_now_us() + (minutes * 60ull + 60) * 1000000ull;
	enum smart_selftest st = SELFTEST_UNKNOWN;
	struct command_result r;

	if (smartctl(d, "-t", "short", disk, &r) < 0 || r.status != 0) {
		snprintf(what, size, "could not start: %.80s", r.err);
		command_result_free(&r);
		return SELFTEST_UNKNOWN;
	}
	command_result_free(&r);
	while (clock_now_us() < deadline && !atomic_load(&d->ag->stop)) {
		sleep(2);
		if (smartctl(d, h->nvme ? "-l" : "-c", h->nvme ? "selftest" : NULL, disk, &r) == 0)
			st = smart_selftest_parse(r.out, r.out_len, what, size);
		command_result_free(&r);
		if (st != SELFTEST_RUNNING && st != SELFTEST_UNKNOWN)
			return st;
	}
	snprintf(what, size, "did not end within %u minutes", minutes + 1);
	return SELFTEST_UNKNOWN;
}

/* One disk: its status, a line for the summary, its details. */
static enum diag_status
smart_disk(struct diag_run *d, const char *disk, json_t *list, char *line, size_t size)
{
	struct smart_health h;
	struct command_result r;
	char why[256], test[128] = "not supported";
	enum smart_selftest st = SELFTEST_UNKNOWN;
	json_t *o;

	if (smartctl(d, "-a", NULL, disk, &r) < 0 || smart_parse(r.out, r.out_len, &h) < 0) {
		snprintf(line, size, "%s: smartctl: %.100s", diag_disk_short(disk),
		    r.err[0] != '\0' ? r.err : "no JSON");
		command_result_free(&r);
		return DIAG_ERROR;
	}
	command_result_free(&r);
	if (!h.available) {
		snprintf(line, size, "%s: no SMART%s%s%s", diag_disk_short(disk),
		    h.message[0] ? " (" : "", h.message, h.message[0] ? ")" : "");
		json_array_append_new(list, smart_json(disk, &h));
		return DIAG_SKIPPED;
	}
	if (h.self_test)
		st = smart_selftest(d, disk, &h, test, sizeof test);
	smart_verdict(&h, why, sizeof why);
	if (st == SELFTEST_FAILED)
		snprintf(why + strlen(why), sizeof why - strlen(why), "%sself-test: %s",
		    why[0] ? ", " : "", test);
	o = smart_json(disk, &h);
	json_object_set_new(o, "self_test", json_string(st == SELFTEST_PASSED ? "passed" :
	    st == SELFTEST_FAILED ? "failed" : test));
	json_object_set_new(o, "why", json_string(why));
	json_array_append_new(list, o);
	snprintf(line, size, "%s: %s%s%s", diag_disk_short(disk), why[0] ? "FAILING: " : "health ok",
	    why, h.reallocated > 0 ? " (reallocated sectors)" : "");
	if (!why[0] && st == SELFTEST_PASSED)
		strncat(line, ", short self-test passed", size - strlen(line) - 1);
	return why[0] ? DIAG_FAIL : DIAG_PASS;
}

/* The worse of two statuses: fail, error, pass, skipped. */
static enum diag_status
status_worse(enum diag_status a, enum diag_status b)
{
	static const int rank[] = { [DIAG_SKIPPED] = 0, [DIAG_PASS] = 1, [DIAG_ERROR] = 2,
		[DIAG_FAIL] = 3 };

	return rank[a] >= rank[b] ? a : b;
}

/* Append "; text" to the summary (cut at its size). */
static void
summary_add(char *summary, size_t size, const char *text)
{
	size_t n = strlen(summary);

	snprintf(summary + n, size - n, "%s%s", n > 0 ? "; " : "", text);
}

void
diag_smart(struct diag_run *d, struct diag_result *r)
{
	json_t *list = json_array();
	enum diag_status worst = DIAG_SKIPPED;
	char summary[256] = "", line[200];

	if (diag_tool_missing(r, "smartctl")) {
		json_decref(list);
		return;
	}
	for (size_t i = 0; i < d->ndisks && !atomic_load(&d->ag->stop); i++) {
		worst = status_worse(worst, smart_disk(d, d->disks[i], list, line, sizeof line));
		summary_add(summary, sizeof summary, line);
	}
	json_object_set_new(r->details, "disks", list);
	diag_set(r, worst, "%s", d->ndisks == 0 ? "no disks" : summary);
}

/* ---- disk-read: the surface scan ---- */

struct scan {
	struct diag_run *d;
	int fd;
	const char *disk;
	uint64_t size;
	unsigned lbs;                   /* logical block size */
	uint8_t *buf;
	struct sector_ranges *bad;
	uint64_t done_before;           /* bytes of the disks scanned before this one */
	uint64_t total;                 /* bytes of every disk */
	uint64_t deadline;
	bool io_error;                  /* an error other than EIO */
};

/* Read [off, off + len) whole: 0, or -errno of the first failure. */
static int
scan_read(struct scan *s, uint64_t off, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(s->fd, s->buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	return 0;
}

/* A piece that failed: each logical block of [off, off + len) on its own. */
static void
scan_blocks(struct scan *s, uint64_t off, size_t len)
{
	for (uint64_t b = off; b < off + len && !atomic_load(&s->d->ag->stop); b += s->lbs) {
		int rc = scan_read(s, b, MIN((uint64_t)s->lbs, off + len - b));
		if (rc == -EIO || rc == -ENODATA || rc == -EILSEQ)
			sector_ranges_add(s->bad, b / 512, (MIN((uint64_t)s->lbs, off + len - b) +
			    511) / 512);
		else if (rc < 0)
			s->io_error = true;
	}
}

/* A 4 MiB piece that failed, 64 KiB at a time. */
static void
scan_retry(struct scan *s, uint64_t off, size_t len)
{
	for (uint64_t p = off; p < off + len; p += SCAN_RETRY) {
		size_t n = (size_t)MIN((uint64_t)SCAN_RETRY, off + len - p);
		if (scan_read(s, p, n) < 0)
			scan_blocks(s, p, n);
	}
}

static void
scan_pieces(struct scan *s)
{
	for (uint64_t off = 0; off < s->size && !atomic_load(&s->d->ag->stop); off += SCAN_PIECE) {
		size_t n = (size_t)MIN((uint64_t)SCAN_PIECE, s->size - off);
		int rc = scan_read(s, off, n);
		if (rc == -EINVAL) {            /* O_DIRECT refused this length */
			s->io_error = true;
			break;
		}
		if (rc < 0)
			scan_retry(s, off, n);
		progress_report(s->d->ag, &s->d->progress, s->done_before + off + n, 0, false);
		if (clock_now_us() > s->deadline)
			break;
	}
}

/* Open for the scan: O_DIRECT when the size allows it; the size and the
 * logical block size. */
static int
scan_open(struct scan *s)
{
	struct stat st;
	int lbs = 512;

	s->fd = open(s->disk, O_RDONLY | O_CLOEXEC | O_DIRECT);
	if (s->fd < 0 && errno == EINVAL)       /* a file system without O_DIRECT */
		s->fd = open(s->disk, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0 || fstat(s->fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(s->fd, BLKGETSIZE64, &s->size) < 0 || ioctl(s->fd, BLKSSZGET, &lbs) < 0)
			return -errno;
	} else if (S_ISREG(st.st_mode)) {
		s->size = (uint64_t)st.st_size;
		if (s->size % 4096 != 0)        /* a tail O_DIRECT cannot read */
			(void)fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) & ~O_DIRECT);
	} else {
		return -ENOTBLK;
	}
	s->lbs = lbs >= 512 && lbs <= 65536 ? (unsigned)lbs : 512;
	return 0;
}

static json_t *
ranges_json(const struct sector_ranges *bad)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < bad->n; i++)
		json_array_append_new(arr, json_pack("{s:I,s:I}", "first",
		    (json_int_t)bad->r[i].first, "count", (json_int_t)bad->r[i].count));
	return arr;
}

/* One disk: its status and a summary line; its details appended. */
static enum diag_status
scan_disk(struct diag_run *d, const char *disk, uint64_t done_before, uint64_t total,
    json_t *list, char *line, size_t size)
{
	struct scan s = { .d = d, .fd = -1, .disk = disk, .done_before = done_before,
		.total = total };
	uint64_t t0 = clock_now_us(), us;
	double rate;
	int rc;

	s.bad = calloc(1, sizeof *s.bad);
	s.buf = aligned_alloc(65536, SCAN_PIECE);
	rc = s.bad == NULL || s.buf == NULL ? -ENOMEM : scan_open(&s);
	if (rc == 0) {
		s.deadline = t0 + (60 + s.size / SCAN_MIN_RATE) * 1000000ull;
		scan_pieces(&s);
	}
	us = MAX(clock_now_us() - t0, 1u);
	rate = (double)s.size * 1e6 / (double)us;
	if (rc == 0)
		json_array_append_new(list, json_pack("{s:s,s:I,s:i,s:I,s:o,s:b,s:I,s:I}", "disk",
		    disk, "size", (json_int_t)s.size, "logical_block", (int)s.lbs,
		    "bad_sectors", (json_int_t)s.bad->sectors, "bad", ranges_json(s.bad),
		    "bad_cut", s.bad->cut, "rate", (json_int_t)rate, "ms", (json_int_t)(us / 1000)));
	if (rc < 0)
		snprintf(line, size, "%s: %s", diag_disk_short(disk), strerror(-rc));
	else if (s.bad->sectors > 0)
		snprintf(line, size, "%s: %" PRIu64 " unreadable sectors in %zu%s range%s, first"
		    " %" PRIu64 " (+%" PRIu64 ")", diag_disk_short(disk), s.bad->sectors, s.bad->n,
		    s.bad->cut ? "+" : "", s.bad->n == 1 && !s.bad->cut ? "" : "s",
		    s.bad->r[0].first, s.bad->r[0].count);
	else
		snprintf(line, size, "%s: every sector read, %.0f MB/s", diag_disk_short(disk),
		    rate / 1e6);
	enum diag_status st = rc < 0 || s.io_error || clock_now_us() > s.deadline ? DIAG_ERROR :
	    s.bad->sectors > 0 ? DIAG_FAIL : DIAG_PASS;
	if (s.fd >= 0)
		close(s.fd);
	free(s.buf);
	free(s.bad);
	return st;
}

/* The size of a disk (device or file), 0 when unknown. */
static uint64_t
disk_bytes(const char *disk)
{
	int fd = open(disk, O_RDONLY | O_CLOEXEC);
	uint64_t size = 0;
	struct stat st;

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode))
		(void)ioctl(fd, BLKGETSIZE64, &size);
	else if (S_ISREG(st.st_mode))
		size = (uint64_t)st.st_size;
	close(fd);
	return size;
}

void
diag_disk_read(struct diag_run *d, struct diag_result *r)
{
	json_t *list = json_array();
	enum diag_status worst = DIAG_SKIPPED;
	char summary[256] = "", line[200];
	uint64_t total = 0, done = 0;

	for (size_t i = 0; i < d->ndisks; i++)
		total += disk_bytes(d->disks[i]);
	progress_start(&d->progress, "disk-read", total, 0);
	for (size_t i = 0; i < d->ndisks && !atomic_load(&d->ag->stop); i++) {
		worst = status_worse(worst, scan_disk(d, d->disks[i], done, total, list, line,
		    sizeof line));
		done += disk_bytes(d->disks[i]);
		summary_add(summary, sizeof summary, line);
	}
	progress_report(d->ag, &d->progress, done, 0, true);
	json_object_set_new(r->details, "disks", list);
	diag_set(r, worst, "%s", d->ndisks == 0 ? "no disks" : summary);
}

/* ---- disk-write: badblocks -w ---- */

struct write_tick {
	struct diag_run *d;
	uint64_t done_before;
};

/* Progress from what badblocks has read and written (/proc/PID/io). */
static void
write_tick(void *arg, pid_t pid)
{
	struct write_tick *w = arg;
	char path[64], text[1024], *p;
	uint64_t rchar = 0, wchar = 0;

	snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
	if (sysinfo_read("", path, text, sizeof text) < 0)
		return;
	if ((p = strstr(text, "rchar: ")) != NULL)
		rchar = strtoull(p + 7, NULL, 10);
	if ((p = strstr(text, "wchar: ")) != NULL)
		wchar = strtoull(p + 7, NULL, 10);
	progress_report(w->d->ag, &w->d->progress, w->done_before + rchar + wchar, 0, false);
}

/* badblocks' block numbers (one a line) as sector ranges. */
static void
write_ranges(const char *out, unsigned bs, struct sector_ranges *bad)
{
	for (const char *p = out; *p != '\0';) {
		char *end;
		unsigned long long b = strtoull(p, &end, 10);
		if (end == p)
			break;
		sector_ranges_add(bad, b * (bs / 512), bs / 512);
		p = end + strspn(end, "\n ");
	}
}

static enum diag_status
write_disk(struct diag_run *d, const char *disk, uint64_t done_before, json_t *list,
    char *line, size_t size)
{
	uint64_t bytes = disk_bytes(disk);
	unsigned bs = bytes / 512 < (1ull << 32) ? 512 : 4096;
	char bs_text[16], count[16], how[64];
	const char *argv[] = { "badblocks", "-w", "-t", "random", "-b", bs_text, "-c", count,
		disk, NULL };
	struct write_tick w = { d, done_before };
	struct command cmd = { .argv = argv, .timeout_s = (unsigned)(120 + 2 * bytes /
	    SCAN_MIN_RATE), .stop = &d->ag->stop, .tick = write_tick, .tick_arg = &w };
	struct sector_ranges *bad = calloc(1, sizeof *bad);
	struct command_result r;
	enum diag_status st;

	snprintf(bs_text, sizeof bs_text, "%u", bs);
	snprintf(count, sizeof count, "%u", SCAN_PIECE / bs);
	if (bad == NULL || command_run(&cmd, &r) < 0) {
		snprintf(line, size, "%s: badblocks did not run", diag_disk_short(disk));
		free(bad);
		return DIAG_ERROR;
	}
	write_ranges(r.out, bs, bad);
	st = bad->sectors > 0 ? DIAG_FAIL : r.status == 0 ? DIAG_PASS : DIAG_ERROR;
	if (st == DIAG_ERROR)
		snprintf(line, size, "%s: badblocks: %s: %.120s", diag_disk_short(disk),
		    command_how(&r, &cmd, how, sizeof how), r.err);
	else if (st == DIAG_FAIL)
		snprintf(line, size, "%s: %" PRIu64 " sectors failed the write/read pattern, first"
		    " %" PRIu64, diag_disk_short(disk), bad->sectors, bad->r[0].first);
	else
		snprintf(line, size, "%s: random pattern written and read back, %.0f s",
		    diag_disk_short(disk), r.seconds);
	json_array_append_new(list, json_pack("{s:s,s:I,s:I,s:o,s:b}", "disk", disk, "size",
	    (json_int_t)bytes, "bad_sectors", (json_int_t)bad->sectors, "bad", ranges_json(bad),
	    "bad_cut", bad->cut));
	command_result_free(&r);
	free(bad);
	return st;
}

void
diag_disk_write(struct diag_run *d, struct diag_result *r)
{
	json_t *list;
	enum diag_status worst = DIAG_SKIPPED;
	char summary[256] = "", line[200];
	uint64_t total = 0, done = 0;

	if (!d->params->destructive) {          /* params.c refused it already */
		diag_set(r, DIAG_ERROR, "refused: disk-write needs \"destructive\"");
		return;
	}
	if (diag_tool_missing(r, "badblocks"))
		return;
	list = json_array();
	for (size_t i = 0; i < d->ndisks; i++)
		total += 2 * disk_bytes(d->disks[i]);
	progress_start(&d->progress, "disk-write", total, 0);
	for (size_t i = 0; i < d->ndisks && !atomic_load(&d->ag->stop); i++) {
		journal_info("disk-write: %s: writing a random pattern over every block",
		    d->disks[i]);
		worst = status_worse(worst, write_disk(d, d->disks[i], done, list, line,
		    sizeof line));
		done += 2 * disk_bytes(d->disks[i]);
		summary_add(summary, sizeof summary, line);
	}
	progress_report(d->ag, &d->progress, done, 0, true);
	json_object_set_new(r->details, "disks", list);
	diag_set(r, worst, "%s", d->ndisks == 0 ? "no disks" : summary);
}

/* What the hardware tests read from the Debian tools they run: dmidecode's
 * text, smartctl's JSON, memtester's, stress-ng's and ethtool's text, and
 * the unreadable sector ranges of a surface scan.  Pure: bytes in, structs
 * or JSON out; the output of a tool is bytes from the firmware and the
 * devices, so every parser is bounded, tolerant of anything, and fuzzed
 * (fuzz/fuzz_diag.c). */
#ifndef PXED_AGENT_DIAG_PARSE_H
#define PXED_AGENT_DIAG_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* dmidecode -q -t 0 -t 1 -t 2 -t 17: {"bios": {"vendor", "version",
 * "date"}, "system": {"vendor", "model", "version", "serial", "uuid"},
 * "board": {"vendor", "model", "serial"}, "memory": [{"locator", "size",
 * "type", "speed", "vendor", "serial", "part"}] (installed modules only),
 * "memory_total": bytes}.  Strings are valid UTF-8 (bad bytes replaced),
 * at most 128 bytes; at most DMI_MODULES_MAX modules.  NULL on ENOMEM. */
#define DMI_MODULES_MAX 256
json_t *dmi_parse(const char *text, size_t len);

/* "512 MB", "16 GB", "8192 kB" in bytes; 0 for "No Module Installed",
 * "Unknown" or anything else. */
uint64_t dmi_size_bytes(const char *text);

/* smartctl -j -a DEV: what predicts a failure.  -1: not reported. */
struct smart_health {
	bool available;                 /* the device speaks SMART */
	bool enabled;
	bool nvme;
	int passed;                     /* overall health: 1, 0, -1 */
	int64_t reallocated;            /* ATA 5 */
	int64_t pending;                /* ATA 197 */
	int64_t offline_uncorrectable;  /* ATA 198 */
	int64_t reported_uncorrect;     /* ATA 187 */
	int64_t media_errors;           /* NVMe */
	int64_t percentage_used;        /* NVMe */
	int64_t critical_warning;       /* NVMe */
	int64_t power_on_hours;
	int short_minutes;              /* ATA short self-test time; -1: none */
	bool self_test;                 /* a short self-test can be started */
	char model[64], serial[64], firmware[32];
	char message[160];              /* smartctl's first error message, or "" */
};
/* 0, or -EINVAL when text is not smartctl's JSON. */
int smart_parse(const char *text, size_t len, struct smart_health *out);
/* Why the health says the drive is failing, "" when nothing does
 * (reallocated sectors alone are noted, not failing: see
 * docs/DIAGNOSTICS.md). */
void smart_verdict(const struct smart_health *h, char *why, size_t size);

/* The state of the self-test (smartctl -j -c for ATA, -j -l selftest for
 * NVMe): */
enum smart_selftest { SELFTEST_UNKNOWN, SELFTEST_RUNNING, SELFTEST_PASSED, SELFTEST_FAILED };
enum smart_selftest smart_selftest_parse(const char *text, size_t len, char *what,
    size_t size);

/* memtester's output: tests reported ok, FAILURE lines, the first of
 * them (cut to size). */
struct memtester_report {
	unsigned ok;
	unsigned failures;
	char first_failure[160];
};
void memtester_parse(const char *text, size_t len, struct memtester_report *out);

/* stress-ng --metrics-brief: the bogo ops of the cpu stressor (-1: not
 * found) and the "fail:" lines. */
struct stress_report {
	int64_t bogo_ops;
	unsigned fail_lines;
	char first_fail[160];
};
void stress_parse(const char *text, size_t len, struct stress_report *out);

/* ethtool IFACE: speed in Mbit/s (-1 unknown), "Full"/"Half"/"" and the
 * link (1, 0, -1 unknown). */
struct ethtool_report {
	int64_t speed_mbit;
	char duplex[16];
	int link;
};
void ethtool_parse(const char *text, size_t len, struct ethtool_report *out);

/* hdparm -I DEV: its "Security:" section. */
struct ata_security {
	bool supported, enabled, locked, frozen, enhanced;
	int minutes, enhanced_minutes;  /* the drive's estimates; -1: none */
};
void ata_security_parse(const char *text, size_t len, struct ata_security *out);

/* nvme id-ctrl DEV -o json: what the controller can do to purge itself. */
struct nvme_ctrl {
	int64_t oacs;                   /* bit 1: Format NVM */
	int64_t sanicap;                /* bit 0 crypto erase, 1 block erase, 2 overwrite */
	int64_t fna;                    /* bit 2: crypto erase with a format */
};
/* 0, or -EINVAL when text is not nvme-cli's JSON. */
int nvme_ctrl_parse(const char *text, size_t len, struct nvme_ctrl *out);
/* nvme sanitize-log DEV -o json: the status of the last sanitize (SSTAT
 * bits 0-2: 0 never, 1 done, 2 running, 3 failed), or -1. */
int nvme_sanitize_status(const char *text, size_t len);

/* Unreadable sectors of one disk, as ranges in ascending order; adjacent
 * or overlapping additions merge.  At most SECTOR_RANGES_MAX ranges are
 * kept; sectors past that are still counted. */
#define SECTOR_RANGES_MAX 1024
struct sector_range {
	uint64_t first, count;
};
struct sector_ranges {
	struct sector_range r[SECTOR_RANGES_MAX];
	size_t n;
	uint64_t sectors;               /* every unreadable sector, listed or not */
	bool cut;                       /* some ranges were not kept */
};
/* Add [first, first + count); ranges come in ascending order. */
void sector_ranges_add(struct sector_ranges *s, uint64_t first, uint64_t count);

#endif

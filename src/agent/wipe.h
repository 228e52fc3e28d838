/* Wipes and their certificates (wipe.c, wipe_sanitize.c), the disk's
 * model and serial (diskid.c). */
#ifndef PXED_AGENT_WIPE_H
#define PXED_AGENT_WIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent;

/* What a wipe leaves with the host (POST /api/v1/agent/wipe). */
struct wipe_cert {
	char model[64], serial[64];
	uint64_t size;
	char method[48];                /* fast, zero, random, sanitize-... */
	int64_t started, finished;      /* Unix seconds */
	uint64_t bytes_written, bytes_verified;
	uint64_t write_ms;              /* the write pass, its sync included */
	char verify[8];                 /* pass, fail, none */
};

void wipe_cert_start(struct agent *ag, struct wipe_cert *c, const char *method);
/* Send it (finished now); logged on the console too. */
void wipe_cert_send(struct agent *ag, struct wipe_cert *c, bool ok, const char *message);

/* The drive purges itself: NVMe sanitize or format with secure erase,
 * ATA security erase; fails with a clear message, having written
 * nothing, when the device cannot. */
int wipe_sanitize(struct agent *ag);

/* A disk's model and serial from /sys (the serial of a SATA disk from its
 * SCSI VPD page 0x80, which libata fills), "" when unknown (a file). */
void disk_identity(const char *disk, char *model, size_t msize, char *serial, size_t ssize);
/* The serial in a VPD page 0x80 (4-byte header, then ASCII), blanks
 * trimmed, as valid UTF-8; "" when the page is not one.  Pure. */
void vpd80_serial(const uint8_t *page, size_t len, char *out, size_t size);

#endif

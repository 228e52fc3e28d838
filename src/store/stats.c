/* Boots and failures per hour from the events table.  See stats.h.
 *
 * A boot: a MAC that, in the hour, was offered or acknowledged a boot
 * program by DHCP (a dhcp-offer or dhcp-ack whose detail names a boot
 * file: "ADDR boot FILE"; a "local" decision names none), got a proxyDHCP
 * offer (proxy-offer, only made with a boot program or a menu) or a boot
 * server's ACK on port 4011 (pxe-ack), or was served a task's boot script
 * (boot-script).  Each MAC counts once an hour however many of these it
 * had (a PXE ROM and then iPXE ask for one boot twice).
 *
 * A failure: a MAC that, in the hour, had a TFTP transfer fail for any
 * reason but a missing file (tftp-failed; firmware and loaders probe for
 * optional files -- PXELINUX's configuration search, iPXE's autoexec.ipxe
 * -- so "file not found" is their normal answer), an HTTP download cut
 * before its end (http-aborted), a task that failed (task-failed), or no
 * address because its subnet's pool was full (dhcp-no-address).  Each MAC
 * counts once an hour. */
#include "store/stats.h"
#include "store/internal.h"
#include "store/store.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"

static const char boots_sql[] =
    "SELECT when_ms / 3600000, count(DISTINCT mac) FROM events"
    " WHERE when_ms >= ?1 AND (kind IN ('proxy-offer', 'pxe-ack', 'boot-script')"
    " OR (kind IN ('dhcp-offer', 'dhcp-ack') AND detail LIKE '% boot _%'))"
    " GROUP BY 1";

static const char failures_sql[] =
    "SELECT when_ms / 3600000, count(DISTINCT mac) FROM events"
    " WHERE when_ms >= ?1 AND (kind IN ('http-aborted', 'task-failed', 'dhcp-no-address')"
    " OR (kind = 'tftp-failed' AND detail NOT LIKE '%: file not found'))"
    " GROUP BY 1";

/* Run one of the counts into out's boots or failures. */
static int
count_hours(struct store *st, const char *sql, int64_t first_hour, unsigned hours,
    struct store_hour *out, size_t field)
{
	struct db_stmt *s = store_prep(st, sql);
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, first_hour * 3600000);
	while ((rc = db_step(s)) == 1) {
		int64_t i = db_col_int64(s, 0) - first_hour;
		if (i >= 0 && i < (int64_t)hours)       /* not a clock set back */
			*(unsigned *)(void *)((char *)&out[i] + field) =
			    (unsigned)db_col_int64(s, 1);
	}
	if (rc != 0)
		log_error("store: boot counts failed");
	db_finalize(s);
	return rc == 0 ? 0 : -EIO;
}

int
store_boot_hours(struct store *st, int64_t now, unsigned hours, struct store_hour *out)
{
	if (hours < 1 || hours > STORE_HOURS_MAX || now < 0)
		return -EINVAL;
	if (store_events_queued(st) > 0 && store_events_flush(st) < 0)
		return -EIO;
	int64_t first_hour = now / 3600 - (int64_t)hours + 1;
	for (unsigned i = 0; i < hours; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].start = (first_hour + (int64_t)i) * 3600;
	}
	int rc = count_hours(st, boots_sql, first_hour, hours, out,
	    offsetof(struct store_hour, boots));
	if (rc == 0)
		rc = count_hours(st, failures_sql, first_hour, hours, out,
		    offsetof(struct store_hour, failures));
	return rc;
}

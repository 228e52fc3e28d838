/* wipe --level sanitize: the drive purges itself (NIST SP 800-88
 * "purge").  An NVMe drive: Sanitize (block erase, else crypto erase),
 * else Format NVM with a user-data secure erase (nvme-cli).  An ATA drive:
 * SECURITY ERASE UNIT, enhanced when offered (hdparm), after setting a
 * temporary password, which the erase clears.  Anything else, or a drive
 * that cannot (frozen, no such feature): the task fails saying why, and
 * nothing has been written. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/command.h"
#include "agent/diag_parse.h"
#include "agent/journal.h"
#include "agent/sysinfo.h"
#include "agent/wipe.h"
#include "core/util.h"

#define TOOL_TIMEOUT_S 60
#define SANITIZE_MAX_S (24 * 3600)
#define ATA_PASSWORD "pxed"

/* Run a tool; its output in r (free it).  0 when it exited 0. */
static int
tool(struct agent *ag, const char *const *argv, unsigned timeout_s, struct command_result *r)
{
	struct command cmd = { .argv = argv, .timeout_s = timeout_s, .stop = &ag->stop };

	if (command_run(&cmd, r) < 0)
		return -ENOENT;
	return r->status == 0 ? 0 : -EIO;
}

static int
cannot(struct agent *ag, const char *why)
{
	return agent_fail(ag, "sanitize: %s cannot purge itself: %s; nothing was written (use"
	    " --level zero or random)", ag->disk, why);
}

/* Poll the sanitize log until the operation ends (bounded). */
static int
nvme_sanitize_wait(struct agent *ag)
{
	const char *argv[] = { "nvme", "sanitize-log", ag->disk, "-o", "json", NULL };
	struct command_result r;
	uint64_t deadline = clock_now_us() + SANITIZE_MAX_S * 1000000ull;
	int st = -1;

	while (clock_now_us() < deadline && !atomic_load(&ag->stop)) {
		sleep(2);
		if (tool(ag, argv, TOOL_TIMEOUT_S, &r) == 0)
			st = nvme_sanitize_status(r.out, r.out_len);
		command_result_free(&r);
		if (st == 1)
			return 0;
		if (st == 3)
			return agent_fail(ag, "sanitize: %s: the drive reports the sanitize failed",
			    ag->disk);
	}
	return agent_fail(ag, "sanitize: %s: no end seen (sanitize log status %d)", ag->disk, st);
}

static int
sanitize_nvme(struct agent *ag, struct wipe_cert *c)
{
	const char *id[] = { "nvme", "id-ctrl", ag->disk, "-o", "json", NULL };
	char act[16];
	const char *san[] = { "nvme", "sanitize", ag->disk, act, NULL };
	const char *fmt[] = { "nvme", "format", ag->disk, "--ses=1", "--force", NULL };
	struct command_result r;
	struct nvme_ctrl n;
	int rc;

	if (!command_exists("nvme"))
		return cannot(ag, "nvme-cli is not there (the diag layer was not loaded?)");
	rc = tool(ag, id, TOOL_TIMEOUT_S, &r) == 0 ? nvme_ctrl_parse(r.out, r.out_len, &n) : -EIO;
	command_result_free(&r);
	if (rc < 0)
		return cannot(ag, "nvme id-ctrl failed");
	if ((n.sanicap & 3) != 0) {
		snprintf(act, sizeof act, "--sanact=%d", (n.sanicap & 2) ? 2 : 4);
		str_copy(c->method, (n.sanicap & 2) ? "sanitize-nvme-block-erase" :
		    "sanitize-nvme-crypto-erase", sizeof c->method);
		journal_info("%s: NVMe sanitize (%s)", ag->disk, c->method + 9);
		rc = tool(ag, san, TOOL_TIMEOUT_S, &r);
		command_result_free(&r);
		return rc < 0 ? agent_fail(ag, "sanitize: %s: nvme sanitize refused: %.160s",
		    ag->disk, r.err) : nvme_sanitize_wait(ag);
	}
	if ((n.oacs & 2) == 0)
		return cannot(ag, "the controller has neither Sanitize nor Format NVM");
	str_copy(c->method, "sanitize-nvme-format-secure-erase", sizeof c->method);
	journal_info("%s: NVMe Format NVM with a user-data secure erase", ag->disk);
	rc = tool(ag, fmt, SANITIZE_MAX_S, &r);
	if (rc < 0)
		rc = agent_fail(ag, "sanitize: %s: nvme format --ses=1 failed: %.160s", ag->disk,
		    r.err);
	command_result_free(&r);
	return rc;
}

static int
sanitize_ata(struct agent *ag, struct wipe_cert *c)
{
	const char *info[] = { "hdparm", "-I", ag->disk, NULL };
	const char *pass[] = { "hdparm", "--user-master", "u", "--security-set-pass",
		ATA_PASSWORD, ag->disk, NULL };
	const char *erase[] = { "hdparm", "--user-master", "u", "--security-erase",
		ATA_PASSWORD, ag->disk, NULL };
	struct command_result r;
	struct ata_security s;
	int rc;

	if (!command_exists("hdparm"))
		return cannot(ag, "hdparm is not there (the diag layer was not loaded?)");
	rc = tool(ag, info, TOOL_TIMEOUT_S, &r);
	ata_security_parse(r.out, r.out_len, &s);
	command_result_free(&r);
	if (rc < 0 || !s.supported)
		return cannot(ag, "the drive has no ATA security feature");
	if (s.frozen)
		return cannot(ag, "its security is frozen (the firmware froze it at boot;"
		    " a suspend and resume may unfreeze it)");
	if (s.enabled || s.locked)
		return cannot(ag, "a security password is set already");
	if (s.enhanced)
		erase[3] = "--security-erase-enhanced";
	str_copy(c->method, s.enhanced ? "sanitize-ata-enhanced-erase" :
	    "sanitize-ata-secure-erase", sizeof c->method);
	if (tool(ag, pass, TOOL_TIMEOUT_S, &r) < 0) {
		command_result_free(&r);
		return cannot(ag, "setting the temporary password failed");
	}
	command_result_free(&r);
	journal_info("%s: ATA %s (the drive estimates %d min)", ag->disk, erase[3] + 2,
	    s.enhanced ? s.enhanced_minutes : s.minutes);
	rc = tool(ag, erase, SANITIZE_MAX_S, &r);
	if (rc < 0)
		rc = agent_fail(ag, "sanitize: %s: the security erase failed: %.160s", ag->disk,
		    r.err);
	command_result_free(&r);
	return rc;
}

/* Is the disk an ATA drive behind libata (its SCSI vendor says "ATA")? */
static bool
is_ata(const char *name)
{
	char path[SYSINFO_PATH_MAX], vendor[32];

	snprintf(path, sizeof path, "/sys/block/%.64s/device/vendor", name);
	return sysinfo_read("", path, vendor, sizeof vendor) == 0 && strcmp(vendor, "ATA") == 0;
}

int
wipe_sanitize(struct agent *ag)
{
	const char *name = strncmp(ag->disk, "/dev/", 5) == 0 ? ag->disk + 5 : "";
	struct wipe_cert c;
	struct stat st;
	int rc;

	if (stat(ag->disk, &st) < 0)
		return agent_fail(ag, "sanitize: %s: %s", ag->disk, strerror(errno));
	if (!S_ISBLK(st.st_mode))
		return cannot(ag, "it is not a block device, and only an NVMe or ATA drive can");
	if (strncmp(name, "nvme", 4) != 0 && !is_ata(name))
		return cannot(ag, "it is neither an NVMe nor an ATA drive");
	if (disk_open(ag, O_RDONLY) < 0)
		return -EIO;
	wipe_cert_start(ag, &c, "sanitize");
	rc = strncmp(name, "nvme", 4) == 0 ? sanitize_nvme(ag, &c) : sanitize_ata(ag, &c);
	if (strcmp(c.method, "sanitize") != 0)         /* the drive was asked: a certificate */
		wipe_cert_send(ag, &c, rc == 0, rc == 0 ? "the drive purged itself" : ag->err);
	return rc;
}

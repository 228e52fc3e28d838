/* After a deploy: the machine's own name, written offline into what the
 * image holds.  Linux (an ext partition with /etc/hostname): that file
 * and the 127.0.1.1 line of /etc/hosts.  Windows (an NTFS partition with
 * Windows/System32/config/SYSTEM): the computer name
 * (ControlSetNNN\Control\ComputerName\ComputerName, at most 15 characters,
 * upper case, as Windows keeps it) and the TCP/IP host name
 * (...\Services\Tcpip\Parameters: Hostname and NV Hostname) of the
 * current control set, edited with libhivex.  A volume Windows left
 * hibernated is not written (the log says so; the deploy stands); nothing
 * found is not an error; a damaged hive or a failed write fails the task. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/hive.h"
#include "agent/hosts.h"
#include "agent/journal.h"
#include "core/util.h"
#include "image/fsfile.h"

#define HOSTS_MAX       (1u << 20)
#define HOSTNAME_FILE_MAX 4096
#define HIVE_MAX        (512u << 20)
#define NETBIOS_MAX     15

static int
identity_linux(struct fs_volume *v, unsigned index, const char *name)
{
	char line[80], err[256];
	uint8_t *hosts = NULL;
	size_t len;
	char *text;
	int rc;

	snprintf(line, sizeof line, "%s\n", name);
	rc = fs_file_write(v, "/etc/hostname", (const uint8_t *)line, strlen(line), err,
	    sizeof err);
	if (rc < 0) {
		journal_error("hostname: partition %u: /etc/hostname: %s", index, err);
		return rc;
	}
	rc = fs_file_read(v, "/etc/hosts", HOSTS_MAX, &hosts, &len, err, sizeof err);
	if (rc == -ENOENT) {
		journal_info("hostname: partition %u: %s in /etc/hostname (no /etc/hosts)",
		    index, name);
		return 0;
	}
	text = rc == 0 ? identity_hosts_text((const char *)hosts, len, name, &len) : NULL;
	free(hosts);
	if (text == NULL) {
		journal_error("hostname: partition %u: /etc/hosts: %s", index,
		    rc < 0 ? err : "out of memory");
		return rc < 0 ? rc : -ENOMEM;
	}
	rc = fs_file_write(v, "/etc/hosts", (const uint8_t *)text, len, err, sizeof err);
	free(text);
	if (rc < 0)
		journal_error("hostname: partition %u: /etc/hosts: %s", index, err);
	else
		journal_info("hostname: partition %u (Linux): %s in /etc/hostname and "
		    "/etc/hosts", index, name);
	return rc;
}

/* The control set Windows boots (Select\Current), "ControlSet001" if none. */
static void
identity_control_set(struct hive *hv, char *out, size_t size)
{
	static const char *const select[] = { "Select" };
	hive_node_h sel = hive_find(hv, select, 1);
	hive_value_h cur = sel != 0 ? hivex_node_get_value(hive_handle(hv), sel, "Current") : 0;
	int32_t n = cur != 0 ? hivex_value_dword(hive_handle(hv), cur) : -1;

	snprintf(out, size, "ControlSet%03d", n > 0 && n < 1000 ? (int)n : 1);
}

static int
identity_system_hive(struct hive *hv, const char *name)
{
	char cs[16], netbios[NETBIOS_MAX + 1];
	hive_node_h comp, tcpip;
	size_t i;

	identity_control_set(hv, cs, sizeof cs);
	const char *const comp_path[] = { cs, "Control", "ComputerName", "ComputerName" };
	const char *const tcp_path[] = { cs, "Services", "Tcpip", "Parameters" };
	comp = hive_find(hv, comp_path, ARRAY_SIZE(comp_path));
	tcpip = hive_find(hv, tcp_path, ARRAY_SIZE(tcp_path));
	if (comp == 0 || tcpip == 0)
		return -ENOENT;
	for (i = 0; name[i] != '\0' && i < NETBIOS_MAX; i++)
		netbios[i] = (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 32) : name[i];
	netbios[i] = '\0';
	if (hive_set_string(hv, comp, "ComputerName", netbios) < 0 ||
	    hive_set_string(hv, tcpip, "Hostname", name) < 0 ||
	    hive_set_string(hv, tcpip, "NV Hostname", name) < 0)
		return -EIO;
	return 0;
}

static int
identity_windows(struct fs_volume *v, unsigned index, const char *name, uint8_t *data,
    size_t len)
{
	static const char path[] = "/Windows/System32/config/SYSTEM";
	struct hive *hv = NULL;
	uint8_t *out = NULL;
	size_t outlen = 0;
	char err[256];
	int rc = hive_open(data, len, true, &hv);

	if (rc < 0) {
		journal_error("hostname: partition %u: %s is not a hive libhivex reads (%s)",
		    index, path, strerror(-rc));
		return rc;
	}
	rc = identity_system_hive(hv, name);
	if (rc == -ENOENT)
		journal_error("hostname: partition %u: the SYSTEM hive has no ComputerName "
		    "or Tcpip\\Parameters key", index);
	if (rc == 0 && (rc = hive_commit(hv, &out, &outlen)) < 0)
		journal_error("hostname: partition %u: hivex commit: %s", index, strerror(-rc));
	hive_close(hv);
	if (rc == 0 && (rc = fs_file_write(v, path, out, outlen, err, sizeof err)) < 0)
		journal_error("hostname: partition %u: %s: %s", index, path, err);
	if (rc == 0)
		journal_info("hostname: partition %u (Windows): computer name and TCP/IP host "
		    "name %s", index, name);
	free(out);
	return rc;
}

/* One partition: 1 named, 0 nothing of ours found, < 0 failed. */
static int
identity_partition(struct agent *ag, const struct partition *p, enum fs_kind fs,
    const char *name)
{
	struct fs_volume *v;
	char err[256];
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = fs_volume_open(ag->fd, p->offset, p->length, fs, true, &v, err, sizeof err);

	if (rc == -EROFS) {
		/* the deploy stands; the log says why the name is missing */
		journal_error("hostname: partition %u not written: %s", p->index, err);
		return 0;
	}
	if (rc < 0)
		return 0;                       /* not a filesystem we name things in */
	if (fs == FS_EXT) {
		rc = fs_file_read(v, "/etc/hostname", HOSTNAME_FILE_MAX, &data, &len, err,
		    sizeof err);
		if (rc == 0)
			rc = identity_linux(v, p->index, name) == 0 ? 1 : -EIO;
	} else {
		rc = fs_file_read(v, "/Windows/System32/config/SYSTEM", HIVE_MAX, &data, &len,
		    err, sizeof err);
		if (rc == 0)
			rc = identity_windows(v, p->index, name, data, len) == 0 ? 1 : -EIO;
	}
	free(data);
	if (fs_volume_close(v) < 0 && rc > 0) {
		journal_error("hostname: partition %u: writing the filesystem back failed",
		    p->index);
		rc = -EIO;
	}
	return rc == -ENOENT ? 0 : rc;
}

int
identity_run(struct agent *ag, const struct manifest *m, const char *name)
{
	struct disk_layout *l = calloc(1, sizeof *l);
	char err[AGENT_ERR_MAX];
	unsigned named = 0, failed = 0;

	if (l == NULL)
		return agent_fail(ag, "out of memory");
	if (disk_read_layout(ag->fd, l, err, sizeof err) < 0) {
		free(l);
		return agent_fail(ag, "%s: reading the table back: %s", ag->disk, err);
	}
	for (size_t i = 0; i < l->nparts; i++) {
		enum fs_kind fs = FS_UNKNOWN;
		for (size_t j = 0; j < m->nparts; j++)
			if (m->part[j].index == l->part[i].index)
				fs = m->part[j].fs;
		if (fs != FS_EXT && fs != FS_NTFS)
			continue;
		int rc = identity_partition(ag, &l->part[i], fs, name);
		named += rc > 0;
		failed += rc < 0;
	}
	free(l);
	if (named == 0 && failed == 0)
		journal_info("hostname: no Linux (/etc/hostname) or Windows (SYSTEM hive) "
		    "found: %s not written", name);
	if (failed > 0)
		return agent_fail(ag, "hostname %s: %u partition(s) could not be named (see the "
		    "log)", name, failed);
	return 0;
}

/* The machine's tests: inventory (dmidecode, smartctl -i, /sys), memory
 * (memtester), cpu (stress-ng --verify), network (ethtool, a timed HTTP
 * download from pxed). */
#include "agent/diag.h"
#include "agent/diag_parse.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "agent/journal.h"
#include "core/util.h"

#define INVENTORY_TOOL_S 30
#define MEMORY_RESERVE (64ull << 20)
#define NETWORK_SECONDS_MAX 10
#define NETWORK_FETCHES_MAX 8

/* ---- inventory ---- */

/* dmidecode's system, board, firmware and memory modules into inv. */
static void
inventory_dmi(struct diag_run *d, json_t *inv)
{
	const char *argv[] = { "dmidecode", "-q", "-t", "0", "-t", "1", "-t", "2", "-t", "17",
		NULL };
	struct command_result r;
	json_t *dmi, *sys, *bios;

	if (!command_exists("dmidecode") || diag_command(d, argv, INVENTORY_TOOL_S, &r) < 0)
		return;
	dmi = r.status == 0 ? dmi_parse(r.out, r.out_len) : NULL;
	command_result_free(&r);
	if (dmi == NULL)
		return;
	sys = json_object_get(dmi, "system");
	bios = json_object_get(dmi, "bios");
	json_object_set(sys, "firmware", json_object_get(bios, "version"));
	json_object_set(sys, "firmware_vendor", json_object_get(bios, "vendor"));
	json_object_set(sys, "firmware_date", json_object_get(bios, "date"));
	json_object_set(inv, "system", sys);
	json_object_set(inv, "board", json_object_get(dmi, "board"));
	json_object_set(inv, "memory_modules", json_object_get(dmi, "memory"));
	json_object_set(inv, "memory_total", json_object_get(dmi, "memory_total"));
	json_decref(dmi);
}

/* What smartctl -i says of a disk: its serial, firmware, SMART. */
static void
inventory_smart(struct diag_run *d, const char *dev, json_t *disk)
{
	const char *argv[] = { "smartctl", "-j", "-i", dev, NULL };
	struct smart_health h;
	struct command_result r;

	if (!command_exists("smartctl") || diag_command(d, argv, INVENTORY_TOOL_S, &r) < 0)
		return;
	if (smart_parse(r.out, r.out_len, &h) == 0) {
		if (h.serial[0] != '\0')
			json_object_set_new(disk, "serial", json_string(h.serial));
		if (h.model[0] != '\0')
			json_object_set_new(disk, "model", json_string(h.model));
		if (h.firmware[0] != '\0')
			json_object_set_new(disk, "firmware", json_string(h.firmware));
		json_object_set_new(disk, "smart", json_boolean(h.available));
	}
	command_result_free(&r);
}

/* The text of /sys/DIR/NAME/FILE as a JSON string (valid UTF-8), or NULL. */
static json_t *
sys_text(const char *dir, const char *name, const char *file)
{
	char path[SYSINFO_PATH_MAX], text[256], clean[3 * sizeof text];

	snprintf(path, sizeof path, "/sys/%s/%.64s/%s", dir, name, file);
	if (sysinfo_read("", path, text, sizeof text) < 0)
		return NULL;
	utf8_sanitize(clean, sizeof clean, text, strlen(text));
	return json_string(clean);
}

static void
inventory_disks(struct diag_run *d, json_t *disks)
{
	size_t i;
	json_t *disk, *v;

	json_array_foreach(disks, i, disk) {
		const char *name = json_string_value(json_object_get(disk, "name"));
		char dev[SYSINFO_PATH_MAX];
		if (name == NULL)
			continue;
		if ((v = sys_text("block", name, "serial")) != NULL ||
		    (v = sys_text("block", name, "device/serial")) != NULL)
			json_object_set_new(disk, "serial", v);
		if ((v = sys_text("block", name, "queue/rotational")) != NULL) {
			json_object_set_new(disk, "rotational",
			    json_boolean(strcmp(json_string_value(v), "1") == 0));
			json_decref(v);
		}
		json_object_set_new(disk, "smart", json_null());
		snprintf(dev, sizeof dev, "/dev/%.64s", name);
		inventory_smart(d, dev, disk);
	}
}

/* "e1000" of /sys/class/net/IF/device/driver, or "". */
static void
nic_driver(const char *iface, char *out, size_t size)
{
	char path[SYSINFO_PATH_MAX], target[PATH_MAX];
	ssize_t n;

	out[0] = '\0';
	snprintf(path, sizeof path, "/sys/class/net/%s/device/driver", iface);
	n = readlink(path, target, sizeof target - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	str_copy(out, diag_disk_short(target), size);
}

/* The link speed in Mbit/s that /sys says (-1: unknown). */
static int64_t
nic_speed(const char *iface)
{
	json_t *v = sys_text("class/net", iface, "speed");
	const char *s = json_string_value(v);
	int64_t speed = s != NULL ? strtoll(s, NULL, 10) : -1;

	json_decref(v);
	return speed > 0 ? speed : -1;
}

static void
inventory_nics(json_t *nics)
{
	size_t i;
	json_t *nic, *carrier;

	json_array_foreach(nics, i, nic) {
		const char *name = json_string_value(json_object_get(nic, "name"));
		char driver[64];
		if (name == NULL)
			continue;
		nic_driver(name, driver, sizeof driver);
		json_object_set_new(nic, "driver", json_string(driver));
		json_object_set_new(nic, "speed_mbit", json_integer(nic_speed(name)));
		carrier = sys_text("class/net", name, "carrier");
		json_object_set_new(nic, "link", json_boolean(carrier != NULL &&
		    strcmp(json_string_value(carrier), "1") == 0));
		json_decref(carrier);
	}
}

static const char *
text_at(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "";
}

void
diag_inventory(struct diag_run *d, struct diag_result *r)
{
	json_t *inv = sysinfo_inventory(""), *sys;
	char err[API_ERR_MAX], what[160];
	int rc;

	if (inv == NULL) {
		diag_set(r, DIAG_ERROR, "out of memory");
		return;
	}
	inventory_dmi(d, inv);
	inventory_disks(d, json_object_get(inv, "disks"));
	inventory_nics(json_object_get(inv, "nics"));
	rc = api_send_json(&d->ag->conn, "POST", "/api/v1/agent/inventory", inv, NULL, err,
	    sizeof err);
	sys = json_object_get(inv, "system");
	snprintf(what, sizeof what, "%.40s %.40s, serial %.40s", text_at(sys, "vendor"),
	    text_at(sys, "model"), text_at(sys, "serial"));
	diag_set(r, rc == 204 || rc == 200 ? DIAG_PASS : DIAG_ERROR,
	    "%s; %d CPUs; %" JSON_INTEGER_FORMAT " MiB RAM in %zu modules;"
	    " %zu disks; %zu NICs%s%.60s", sys != NULL ? what : "no DMI",
	    (int)json_integer_value(json_object_get(inv, "cores")),
	    json_integer_value(json_object_get(inv, "ram")) >> 20,
	    json_array_size(json_object_get(inv, "memory_modules")),
	    json_array_size(json_object_get(inv, "disks")),
	    json_array_size(json_object_get(inv, "nics")),
	    rc == 204 || rc == 200 ? "" : "; not sent to pxed: ", rc == 204 || rc == 200 ? "" : err);
	json_decref(r->details);
	r->details = inv;
}

/* ---- memory ---- */

void
diag_memory(struct diag_run *d, struct diag_result *r)
{
	uint64_t avail = sysinfo_mem_available(""), reserve = MAX(MEMORY_RESERVE, avail / 8);
	unsigned secs = d->params->duration;
	char size[32], how[64];
	const char *argv[] = { "memtester", size, "1", NULL };
	struct command cmd = { .argv = argv, .timeout_s = secs, .stop = &d->ag->stop };
	struct memtester_report rep;
	struct command_result out;
	uint64_t mib;

	if (diag_tool_missing(r, "memtester"))
		return;
	if (avail < reserve + (4u << 20)) {
		diag_set(r, DIAG_SKIPPED, "%" PRIu64 " MiB free: too little to test", avail >> 20);
		return;
	}
	mib = (avail - reserve) >> 20;
	if (d->params->memory_mb > 0 && d->params->memory_mb < mib)
		mib = d->params->memory_mb;
	snprintf(size, sizeof size, "%" PRIu64 "M", mib);
	if (command_run(&cmd, &out) < 0) {
		diag_set(r, DIAG_ERROR, "memtester did not run: %.100s", out.err);
		command_result_free(&out);
		return;
	}
	memtester_parse(out.out, out.out_len, &rep);
	json_object_set_new(r->details, "mib", json_integer((json_int_t)mib));
	json_object_set_new(r->details, "tests_ok", json_integer(rep.ok));
	json_object_set_new(r->details, "failures", json_integer(rep.failures));
	json_object_set_new(r->details, "bound_s", json_integer(secs));
	json_object_set_new(r->details, "stopped_at_bound", json_boolean(out.timed_out));
	if (rep.failures > 0 || (out.status > 0 && (out.status & 0x6) != 0))
		diag_set(r, DIAG_FAIL, "%u failures on %" PRIu64 " MiB: %.120s", rep.failures, mib,
		    rep.first_failure);
	else if (out.timed_out)
		diag_set(r, DIAG_PASS, "no errors: %u tests passed on %" PRIu64 " MiB before the"
		    " %u s bound", rep.ok, mib, secs);
	else if (out.status == 0)
		diag_set(r, DIAG_PASS, "all %u tests passed on %" PRIu64 " MiB in %.0f s", rep.ok,
		    mib, out.seconds);
	else
		diag_set(r, DIAG_ERROR, "memtester: %s: %.100s", command_how(&out, &cmd, how,
		    sizeof how), out.err);
	command_result_free(&out);
}

/* ---- cpu ---- */

void
diag_cpu(struct diag_run *d, struct diag_result *r)
{
	char timeout[32], how[64];
	const char *argv[] = { "stress-ng", "--cpu", "0", "--cpu-method", "all", "--verify",
		"--timeout", timeout, "--metrics-brief", NULL };
	struct command cmd = { .argv = argv, .timeout_s = d->params->duration + 60,
		.stop = &d->ag->stop };
	struct stress_report rep;
	struct command_result out;

	if (diag_tool_missing(r, "stress-ng"))
		return;
	snprintf(timeout, sizeof timeout, "%us", d->params->duration);
	if (command_run(&cmd, &out) < 0) {
		diag_set(r, DIAG_ERROR, "stress-ng did not run: %.100s", out.err);
		command_result_free(&out);
		return;
	}
	/* stress-ng writes its report to stderr or stdout by version */
	stress_parse(out.out, out.out_len, &rep);
	if (rep.bogo_ops < 0)
		stress_parse(out.err, strlen(out.err), &rep);
	json_object_set_new(r->details, "bogo_ops", json_integer(rep.bogo_ops));
	json_object_set_new(r->details, "seconds", json_real(out.seconds));
	json_object_set_new(r->details, "exit", json_integer(out.status));
	if (rep.fail_lines > 0 || out.status == 2)
		diag_set(r, DIAG_FAIL, "stress-ng --verify failed: %.160s", rep.first_fail);
	else if (out.status == 0)
		diag_set(r, DIAG_PASS, "%ld CPUs verified for %u s (%" PRId64 " bogo ops)",
		    sysconf(_SC_NPROCESSORS_ONLN), d->params->duration, rep.bogo_ops);
	else
		diag_set(r, DIAG_ERROR, "stress-ng: %s: %.100s", command_how(&out, &cmd, how,
		    sizeof how), out.err);
	command_result_free(&out);
}

/* ---- network ---- */

/* The interface with the host's MAC, else the first up one with link. */
static int
network_iface(const struct task_params *p, char *out, size_t size)
{
	json_t *nics = sysinfo_inventory(""), *nic;
	int rc = -ENODEV;
	size_t i;

	json_array_foreach(json_object_get(nics, "nics"), i, nic) {
		const char *name = text_at(nic, "name");
		json_t *carrier = sys_text("class/net", name, "carrier");
		bool up = carrier != NULL && strcmp(json_string_value(carrier), "1") == 0;
		json_decref(carrier);
		if (p->mac[0] != '\0' && strcasecmp(text_at(nic, "mac"), p->mac) == 0) {
			str_copy(out, name, size);
			rc = 0;
			break;
		}
		if (rc < 0 && up) {
			str_copy(out, name, size);
			rc = 0;
		}
	}
	json_decref(nics);
	return rc;
}

static size_t
count_bytes(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	*(uint64_t *)arg += size * nmemb;
	return size * nmemb;
}

/* Download url again and again for up to secs: bytes and seconds. */
static int
network_fetch(const char *url, unsigned secs, uint64_t *bytes, double *seconds, char *err,
    size_t size)
{
	uint64_t t0 = clock_now_us(), end = t0 + secs * 1000000ull;
	char curl_err[CURL_ERROR_SIZE] = "";
	int rc = 0;

	*bytes = 0;
	for (unsigned i = 0; i < NETWORK_FETCHES_MAX && rc == 0 && clock_now_us() < end; i++) {
		CURL *c = curl_easy_init();
		long status = 0;
		if (c == NULL)
			return -ENOMEM;
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, count_bytes);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, bytes);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)MAX((end - clock_now_us()) / 1000, 1u));
		CURLcode cc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(c);
		if (cc == CURLE_OPERATION_TIMEDOUT && *bytes > 0)
			break;                  /* the time is up: what came counts */
		if (cc != CURLE_OK || status != 200) {
			snprintf(err, size, "%.120s: %.120s", url, cc != CURLE_OK ? (curl_err[0] ?
			    curl_err : curl_easy_strerror(cc)) : "not 200");
			rc = -EIO;
		}
	}
	*seconds = (double)(clock_now_us() - t0) / 1e6;
	return rc;
}

/* Speed, duplex, link: ethtool when it is there, else /sys. */
static void
network_link(struct diag_run *d, const char *iface, struct ethtool_report *e)
{
	const char *argv[] = { "ethtool", iface, NULL };
	struct command_result r = { 0 };
	json_t *v;

	memset(e, 0, sizeof *e);
	e->speed_mbit = nic_speed(iface);
	e->link = -1;
	if ((v = sys_text("class/net", iface, "duplex")) != NULL)
		str_copy(e->duplex, json_string_value(v), sizeof e->duplex);
	json_decref(v);
	if ((v = sys_text("class/net", iface, "carrier")) != NULL)
		e->link = strcmp(json_string_value(v), "1") == 0;
	json_decref(v);
	if (command_exists("ethtool") && diag_command(d, argv, INVENTORY_TOOL_S, &r) == 0 &&
	    r.status == 0)
		ethtool_parse(r.out, r.out_len, e);
	if (strncasecmp(e->duplex, "unknown", 7) == 0)
		e->duplex[0] = '\0';      /* virtio: "Unknown! (255)" */
	if (r.out != NULL)
		command_result_free(&r);
}

void
diag_network(struct diag_run *d, struct diag_result *r)
{
	unsigned secs = MIN(d->params->duration, (unsigned)NETWORK_SECONDS_MAX);
	char iface[64], driver[64], err[256] = "", speed[32] = "speed unknown";
	struct ethtool_report e;
	uint64_t bytes = 0;
	double seconds = 0;
	int rc;

	if (network_iface(d->params, iface, sizeof iface) < 0) {
		diag_set(r, DIAG_FAIL, "no network interface with link");
		return;
	}
	nic_driver(iface, driver, sizeof driver);
	network_link(d, iface, &e);
	if (e.speed_mbit > 0)
		snprintf(speed, sizeof speed, "%" PRId64 " Mb/s", e.speed_mbit);
	rc = d->params->network_url[0] != '\0' ? network_fetch(d->params->network_url, secs,
	    &bytes, &seconds, err, sizeof err) : -ENOENT;
	json_object_set_new(r->details, "iface", json_string(iface));
	json_object_set_new(r->details, "driver", json_string(driver));
	json_object_set_new(r->details, "speed_mbit", json_integer(e.speed_mbit));
	json_object_set_new(r->details, "duplex", json_string(e.duplex));
	json_object_set_new(r->details, "link", e.link < 0 ? json_null() : json_boolean(e.link));
	json_object_set_new(r->details, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(r->details, "seconds", json_real(seconds));
	json_object_set_new(r->details, "mbit_s", json_real(seconds > 0 ?
	    (double)bytes * 8 / seconds / 1e6 : 0));
	if (e.link == 0)
		diag_set(r, DIAG_FAIL, "%s (%s): no link", iface, driver);
	else if (rc == -ENOENT)
		diag_set(r, DIAG_ERROR, "%s (%s) %s %s: no URL to time a download from", iface,
		    driver, speed, e.duplex);
	else if (rc < 0)
		diag_set(r, DIAG_FAIL, "%s (%s) %s %s: download from pxed failed: %.120s", iface,
		    driver, speed, e.duplex, err);
	else
		diag_set(r, DIAG_PASS, "%s (%s) %s, %s; %.0f Mbit/s from pxed (%" PRIu64 " MB in"
		    " %.1f s)", iface, driver, speed, e.duplex[0] ? e.duplex : "duplex unknown",
		    seconds > 0 ? (double)bytes * 8 / seconds / 1e6 : 0, bytes / 1000000, seconds);
}

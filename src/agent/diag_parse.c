/* See diag_parse.h.  Every parser walks its text line by line with a
 * pointer and what is left of the length; a NUL inside the text is just a
 * byte. */
#include "agent/diag_parse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define DMI_VALUE_MAX 128

struct line {
	const char *p;
	size_t n;
};

/* The next line of [*p, end) without its newline; false at the end. */
static bool
line_next(const char **p, const char *end, struct line *l)
{
	const char *nl;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	l->p = *p;
	l->n = (size_t)((nl != NULL ? nl : end) - *p);
	*p = nl != NULL ? nl + 1 : end;
	return true;
}

/* Does the line hold needle (n bytes)? */
static const char *
line_find(struct line l, const char *needle)
{
	return memmem(l.p, l.n, needle, strlen(needle));
}

static bool
line_starts(struct line l, const char *prefix)
{
	size_t n = strlen(prefix);

	return l.n >= n && memcmp(l.p, prefix, n) == 0;
}

/* Blanks off both ends. */
static struct line
line_trim(struct line l)
{
	while (l.n > 0 && (*l.p == ' ' || *l.p == '\t'))
		l.p++, l.n--;
	while (l.n > 0 && (l.p[l.n - 1] == ' ' || l.p[l.n - 1] == '\t' || l.p[l.n - 1] == '\r'))
		l.n--;
	return l;
}

/* A decimal number at the start of l (after blanks); -1 when none. */
static int64_t
line_number(struct line l)
{
	uint64_t v = 0;
	size_t i = 0;

	l = line_trim(l);
	while (i < l.n && i < 18 && l.p[i] >= '0' && l.p[i] <= '9')
		v = v * 10 + (uint64_t)(l.p[i++] - '0');
	return i == 0 ? -1 : (int64_t)v;
}

/* A JSON string of l, valid UTF-8 and at most DMI_VALUE_MAX bytes of it. */
static json_t *
text_json(struct line l)
{
	char buf[3 * DMI_VALUE_MAX + 1];

	utf8_sanitize(buf, sizeof buf, l.p, MIN(l.n, (size_t)DMI_VALUE_MAX));
	return json_string(buf);
}

/* ---- dmidecode ---- */

uint64_t
dmi_size_bytes(const char *text)
{
	static const struct { const char *unit; uint64_t mul; } units[] = {
		{ "kB", 1ull << 10 }, { "KB", 1ull << 10 }, { "MB", 1ull << 20 },
		{ "GB", 1ull << 30 }, { "TB", 1ull << 40 },
	};
	char *end;
	unsigned long long n = strtoull(text, &end, 10);

	if (end == text || *end != ' ' || n > (1ull << 24))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strcmp(end + 1, units[i].unit) == 0)
			return n * units[i].mul;
	return 0;
}

/* Which section a title starts and how its keys are named in our JSON. */
enum dmi_section { DMI_NONE, DMI_BIOS, DMI_SYSTEM, DMI_BOARD, DMI_MEMORY };

static const struct {
	enum dmi_section section;
	const char *key, *name;
} dmi_keys[] = {
	{ DMI_BIOS, "Vendor", "vendor" }, { DMI_BIOS, "Version", "version" },
	{ DMI_BIOS, "Release Date", "date" },
	{ DMI_SYSTEM, "Manufacturer", "vendor" }, { DMI_SYSTEM, "Product Name", "model" },
	{ DMI_SYSTEM, "Version", "version" }, { DMI_SYSTEM, "Serial Number", "serial" },
	{ DMI_SYSTEM, "UUID", "uuid" },
	{ DMI_BOARD, "Manufacturer", "vendor" }, { DMI_BOARD, "Product Name", "model" },
	{ DMI_BOARD, "Serial Number", "serial" },
	{ DMI_MEMORY, "Size", "size_text" }, { DMI_MEMORY, "Locator", "locator" },
	{ DMI_MEMORY, "Type", "type" }, { DMI_MEMORY, "Speed", "speed" },
	{ DMI_MEMORY, "Manufacturer", "vendor" }, { DMI_MEMORY, "Serial Number", "serial" },
	{ DMI_MEMORY, "Part Number", "part" },
};

static enum dmi_section
dmi_title(struct line l)
{
	static const struct { const char *title; enum dmi_section s; } titles[] = {
		{ "BIOS Information", DMI_BIOS }, { "System Information", DMI_SYSTEM },
		{ "Base Board Information", DMI_BOARD }, { "Memory Device", DMI_MEMORY },
	};

	l = line_trim(l);
	for (size_t i = 0; i < ARRAY_SIZE(titles); i++)
		if (l.n == strlen(titles[i].title) && memcmp(l.p, titles[i].title, l.n) == 0)
			return titles[i].s;
	return DMI_NONE;
}

/* "\tKey: Value" of the section into o. */
static void
dmi_key(json_t *o, enum dmi_section s, struct line l)
{
	const char *colon = memchr(l.p, ':', l.n);
	struct line key, value;

	if (colon == NULL)
		return;
	key = line_trim((struct line){ l.p, (size_t)(colon - l.p) });
	value = line_trim((struct line){ colon + 1, l.n - (size_t)(colon + 1 - l.p) });
	for (size_t i = 0; i < ARRAY_SIZE(dmi_keys); i++)
		if (dmi_keys[i].section == s && key.n == strlen(dmi_keys[i].key) &&
		    memcmp(key.p, dmi_keys[i].key, key.n) == 0)
			json_object_set_new(o, dmi_keys[i].name, text_json(value));
}

/* A memory device: kept (with its size in bytes) when a module is in. */
static void
dmi_module_end(json_t *modules, json_t *m, uint64_t *total)
{
	const char *text = json_string_value(json_object_get(m, "size_text"));
	uint64_t bytes = text != NULL ? dmi_size_bytes(text) : 0;

	if (bytes > 0 && json_array_size(modules) < DMI_MODULES_MAX) {
		json_object_set_new(m, "size", json_integer((json_int_t)bytes));
		json_object_del(m, "size_text");
		json_array_append(modules, m);
		*total += bytes;
	}
	json_decref(m);
}

json_t *
dmi_parse(const char *text, size_t len)
{
	json_t *out = json_pack("{s:{},s:{},s:{},s:[]}", "bios", "system", "board", "memory");
	json_t *modules = json_object_get(out, "memory"), *cur = NULL;
	const char *p = text, *end = text + len;
	enum dmi_section s = DMI_NONE;
	uint64_t total = 0;
	struct line l;

	if (out == NULL)
		return NULL;
	while (line_next(&p, end, &l)) {
		if (l.n > 0 && l.p[0] != '\t') {
			if (s == DMI_MEMORY && cur != NULL)
				dmi_module_end(modules, cur, &total);
			cur = NULL;
			s = dmi_title(l);
			if (s == DMI_MEMORY)
				cur = json_object();
			else if (s != DMI_NONE)
				cur = json_object_get(out, s == DMI_BIOS ? "bios" :
				    s == DMI_SYSTEM ? "system" : "board");
		} else if (cur != NULL && l.n > 1 && l.p[1] != '\t') {
			dmi_key(cur, s, l);
		}
	}
	if (s == DMI_MEMORY && cur != NULL)
		dmi_module_end(modules, cur, &total);
	json_object_set_new(out, "memory_total", json_integer((json_int_t)total));
	return out;
}

/* ---- smartctl ---- */

static int64_t
json_int_at(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static void
json_text_at(json_t *o, const char *key, char *out, size_t size)
{
	const char *v = json_string_value(json_object_get(o, key));

	utf8_sanitize(out, size, v != NULL ? v : "", v != NULL ? MIN(strlen(v), size - 1) : 0);
}

/* The raw values of the ATA attributes that predict a failure. */
static void
smart_attributes(json_t *table, struct smart_health *h)
{
	size_t i;
	json_t *a;

	json_array_foreach(table, i, a) {
		int64_t raw = json_int_at(json_object_get(a, "raw"), "value");
		switch (json_int_at(a, "id")) {
		case 5: h->reallocated = raw; break;
		case 187: h->reported_uncorrect = raw; break;
		case 197: h->pending = raw; break;
		case 198: h->offline_uncorrectable = raw; break;
		default: break;
		}
	}
}

static void
smart_nvme(json_t *log, struct smart_health *h)
{
	h->nvme = true;
	h->available = h->enabled = true;
	h->media_errors = json_int_at(log, "media_errors");
	h->percentage_used = json_int_at(log, "percentage_used");
	h->critical_warning = json_int_at(log, "critical_warning");
}

static void
smart_fields(json_t *root, struct smart_health *h)
{
	json_t *support = json_object_get(root, "smart_support");
	json_t *status = json_object_get(root, "smart_status");
	json_t *data = json_object_get(root, "ata_smart_data");
	json_t *msgs = json_object_get(json_object_get(root, "smartctl"), "messages");
	json_t *nvme = json_object_get(root, "nvme_smart_health_information_log");
	json_t *caps = json_object_get(data, "capabilities");

	json_text_at(root, "model_name", h->model, sizeof h->model);
	json_text_at(root, "serial_number", h->serial, sizeof h->serial);
	json_text_at(root, "firmware_version", h->firmware, sizeof h->firmware);
	json_text_at(json_array_get(msgs, 0), "string", h->message, sizeof h->message);
	h->available = json_is_true(json_object_get(support, "available"));
	h->enabled = json_is_true(json_object_get(support, "enabled"));
	if (json_is_boolean(json_object_get(status, "passed")))
		h->passed = json_is_true(json_object_get(status, "passed")) ? 1 : 0;
	smart_attributes(json_object_get(json_object_get(root, "ata_smart_attributes"), "table"),
	    h);
	if (json_is_object(nvme))
		smart_nvme(nvme, h);
	h->power_on_hours = json_int_at(json_object_get(root, "power_on_time"), "hours");
	h->short_minutes = (int)MIN(json_int_at(json_object_get(json_object_get(data,
	    "self_test"), "polling_minutes"), "short"), 24 * 60);
	h->self_test = (json_is_true(json_object_get(caps, "self_tests_supported")) &&
	    h->short_minutes >= 0) || json_is_object(json_object_get(root, "nvme_self_test_log"));
}

int
smart_parse(const char *text, size_t len, struct smart_health *h)
{
	json_t *root = json_loadb(text, len, 0, NULL);

	memset(h, 0, sizeof *h);
	h->passed = -1;
	h->reallocated = h->pending = h->offline_uncorrectable = h->reported_uncorrect = -1;
	h->media_errors = h->percentage_used = h->critical_warning = h->power_on_hours = -1;
	h->short_minutes = -1;
	if (!json_is_object(root) || !json_is_object(json_object_get(root, "smartctl"))) {
		json_decref(root);
		return -EINVAL;
	}
	smart_fields(root, h);
	json_decref(root);
	return 0;
}

/* Append ", text" (or "text" first) to why. */
__attribute__((format(printf, 3, 4)))
static void
why_add(char *why, size_t size, const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n + 3 >= size)
		return;
	if (n > 0) {
		memcpy(why + n, ", ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(why + n, size - n, fmt, ap);
	va_end(ap);
}

void
smart_verdict(const struct smart_health *h, char *why, size_t size)
{
	why[0] = '\0';
	if (h->passed == 0)
		why_add(why, size, "overall health FAILED");
	if (h->pending > 0)
		why_add(why, size, "%" PRId64 " pending sectors", h->pending);
	if (h->offline_uncorrectable > 0)
		why_add(why, size, "%" PRId64 " offline uncorrectable sectors",
		    h->offline_uncorrectable);
	if (h->reported_uncorrect > 0)
		why_add(why, size, "%" PRId64 " reported uncorrectable errors",
		    h->reported_uncorrect);
	if (h->media_errors > 0)
		why_add(why, size, "%" PRId64 " media errors", h->media_errors);
	if (h->critical_warning > 0)
		why_add(why, size, "critical warning 0x%02" PRIx64, h->critical_warning);
	if (h->percentage_used >= 100)
		why_add(why, size, "%" PRId64 "%% of its rated life used", h->percentage_used);
}

static enum smart_selftest
selftest_ata(json_t *status, char *what, size_t size)
{
	int64_t v = json_int_at(status, "value");

	json_text_at(status, "string", what, size);
	if (v < 0)
		return SELFTEST_UNKNOWN;
	if ((v >> 4) == 0xf)
		return SELFTEST_RUNNING;
	return v == 0 ? SELFTEST_PASSED : SELFTEST_FAILED;
}

static enum smart_selftest
selftest_nvme(json_t *log, char *what, size_t size)
{
	json_t *cur = json_object_get(log, "current_self_test_operation");
	json_t *result = json_object_get(json_array_get(json_object_get(log, "table"), 0),
	    "self_test_result");
	int64_t v;

	if (json_int_at(cur, "value") > 0) {
		json_text_at(cur, "string", what, size);
		return SELFTEST_RUNNING;
	}
	json_text_at(result, "string", what, size);
	v = json_int_at(result, "value");
	if (v < 0 || v == 0xf)
		return SELFTEST_UNKNOWN;
	return v == 0 ? SELFTEST_PASSED : SELFTEST_FAILED;
}

enum smart_selftest
smart_selftest_parse(const char *text, size_t len, char *what, size_t size)
{
	json_t *root = json_loadb(text, len, 0, NULL);
	json_t *ata = json_object_get(json_object_get(json_object_get(root, "ata_smart_data"),
	    "self_test"), "status");
	json_t *nvme = json_object_get(root, "nvme_self_test_log");
	enum smart_selftest st = SELFTEST_UNKNOWN;

	what[0] = '\0';
	if (json_is_object(ata))
		st = selftest_ata(ata, what, size);
	else if (json_is_object(nvme))
		st = selftest_nvme(nvme, what, size);
	json_decref(root);
	return st;
}

/* ---- memtester, stress-ng, ethtool ---- */

/* A line's text cut for a report (valid UTF-8, printable later). */
static void
line_copy(char *out, size_t size, struct line l)
{
	l = line_trim(l);
	utf8_sanitize(out, size, l.p, MIN(l.n, size - 1));
}

void
memtester_parse(const char *text, size_t len, struct memtester_report *out)
{
	const char *p = text, *end = text + len, *f;
	struct line l;

	memset(out, 0, sizeof *out);
	while (line_next(&p, end, &l)) {
		struct line t = line_trim(l);
		if ((f = line_find(l, "FAILURE")) != NULL) {
			if (out->failures++ == 0)
				line_copy(out->first_failure, sizeof out->first_failure,
				    (struct line){ f, l.n - (size_t)(f - l.p) });
		} else if (memchr(t.p, ':', t.n) != NULL && t.n >= 2 &&
		    memcmp(t.p + t.n - 2, "ok", 2) == 0) {
			out->ok++;
		}
	}
}

void
stress_parse(const char *text, size_t len, struct stress_report *out)
{
	const char *p = text, *end = text + len, *br;
	struct line l;

	memset(out, 0, sizeof *out);
	out->bogo_ops = -1;
	while (line_next(&p, end, &l)) {
		if (line_starts(l, "stress-ng: fail:")) {
			if (out->fail_lines++ == 0)
				line_copy(out->first_fail, sizeof out->first_fail, l);
			continue;
		}
		/* "stress-ng: metrc: [PID] cpu    3160   3.00 ..." */
		if ((br = line_find(l, "] cpu ")) != NULL && out->bogo_ops < 0)
			out->bogo_ops = line_number((struct line){ br + 6,
			    l.n - (size_t)(br + 6 - l.p) });
	}
}

/* "Key: value" of an ethtool line (after its tab): the value, or n 0. */
static struct line
ethtool_value(struct line l, const char *key)
{
	struct line t = line_trim(l);
	size_t k = strlen(key);

	if (t.n <= k || memcmp(t.p, key, k) != 0)
		return (struct line){ t.p, 0 };
	return line_trim((struct line){ t.p + k, t.n - k });
}

void
ethtool_parse(const char *text, size_t len, struct ethtool_report *out)
{
	const char *p = text, *end = text + len;
	struct line l, v;

	memset(out, 0, sizeof *out);
	out->speed_mbit = -1;
	out->link = -1;
	while (line_next(&p, end, &l)) {
		if ((v = ethtool_value(l, "Speed:")).n > 0) {
			out->speed_mbit = line_number(v);
		} else if ((v = ethtool_value(l, "Duplex:")).n > 0) {
			line_copy(out->duplex, sizeof out->duplex, v);
		} else if ((v = ethtool_value(l, "Link detected:")).n > 0) {
			out->link = v.n == 3 && memcmp(v.p, "yes", 3) == 0 ? 1 :
			    v.n == 2 && memcmp(v.p, "no", 2) == 0 ? 0 : -1;
		}
	}
}

/* ---- hdparm, nvme-cli ---- */

/* One line of hdparm's Security section, trimmed. */
static void
ata_security_line(struct line t, struct ata_security *out)
{
	static const char ee[] = "min for ENHANCED SECURITY ERASE UNIT";
	const char *p;

	if (t.n == 9 && memcmp(t.p, "supported", 9) == 0)
		out->supported = true;
	else if (t.n == 7 && memcmp(t.p, "enabled", 7) == 0)
		out->enabled = true;
	else if (t.n == 6 && memcmp(t.p, "locked", 6) == 0)
		out->locked = true;
	else if (t.n == 6 && memcmp(t.p, "frozen", 6) == 0)
		out->frozen = true;
	else if (line_find(t, "supported: enhanced erase") != NULL)
		out->enhanced = true;
	if (line_find(t, "min for SECURITY ERASE UNIT") != NULL) {
		out->minutes = (int)MIN(line_number(t), 100000);
		p = line_find(t, ". ");
		if (p != NULL && line_find(t, ee) != NULL)
			out->enhanced_minutes = (int)MIN(line_number((struct line){ p + 2,
			    t.n - (size_t)(p + 2 - t.p) }), 100000);
	}
}

void
ata_security_parse(const char *text, size_t len, struct ata_security *out)
{
	const char *p = text, *end = text + len;
	bool in = false;
	struct line l;

	memset(out, 0, sizeof *out);
	out->minutes = out->enhanced_minutes = -1;
	while (line_next(&p, end, &l)) {
		if (l.n > 0 && l.p[0] != '\t' && l.p[0] != ' ') {
			in = line_starts(l, "Security:");
			continue;
		}
		if (in)
			ata_security_line(line_trim(l), out);
	}
}

int
nvme_ctrl_parse(const char *text, size_t len, struct nvme_ctrl *out)
{
	json_t *root = json_loadb(text, len, 0, NULL);

	out->oacs = json_int_at(root, "oacs");
	out->sanicap = json_int_at(root, "sanicap");
	out->fna = json_int_at(root, "fna");
	json_decref(root);
	return out->oacs < 0 ? -EINVAL : 0;
}

int
nvme_sanitize_status(const char *text, size_t len)
{
	json_t *root = json_loadb(text, len, 0, NULL);
	json_t *v = json_object_get(root, "sstat");
	int64_t sstat = json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;

	/* nvme-cli 2.x names the log after the device: {"nvme0": {"sstat": ..}} */
	if (sstat < 0 && json_is_object(root) && json_object_size(root) == 1) {
		const char *key;
		json_t *inner;
		json_object_foreach(root, key, inner)
			sstat = json_int_at(inner, "sstat");
	}
	json_decref(root);
	return sstat < 0 ? -1 : (int)(sstat & 7);
}

/* ---- sector ranges ---- */

void
sector_ranges_add(struct sector_ranges *s, uint64_t first, uint64_t count)
{
	struct sector_range *last = s->n > 0 ? &s->r[s->n - 1] : NULL;

	if (count == 0)
		return;
	if (last != NULL && first <= last->first + last->count) {
		uint64_t end = MAX(last->first + last->count, first + count);
		s->sectors += end - (last->first + last->count);
		last->count = end - last->first;
		return;
	}
	s->sectors += count;
	if (s->n == SECTOR_RANGES_MAX) {
		s->cut = true;
		return;
	}
	s->r[s->n++] = (struct sector_range){ first, count };
}

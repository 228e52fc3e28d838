/* libFuzzer harness: the parsers of what the hardware tests read from
 * the Debian tools (src/agent/diag_parse.c) and the VPD serial
 * (diskid.c), on any bytes: no crash, no read past the input, and what
 * they promise holds (valid UTF-8 JSON, counts that add up, ranges in
 * order).  The first byte picks the parser; the rest is the text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/diag_parse.c"
#include "agent/diskid.c"
#include "agent/sysinfo.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_dmi(const char *text, size_t len)
{
	json_t *d = dmi_parse(text, len), *m;
	uint64_t total = 0;
	size_t i;
	char *dump;

	if (d == NULL)
		return;
	json_array_foreach(json_object_get(d, "memory"), i, m)
		total += (uint64_t)json_integer_value(json_object_get(m, "size"));
	if (json_array_size(json_object_get(d, "memory")) > DMI_MODULES_MAX ||
	    total != (uint64_t)json_integer_value(json_object_get(d, "memory_total")))
		abort();
	dump = json_dumps(d, 0);        /* every string valid UTF-8, or this fails */
	if (dump == NULL)
		abort();
	free(dump);
	json_decref(d);
}

static void
check_texts(const char *text, size_t len)
{
	struct smart_health h;
	struct memtester_report m;
	struct stress_report s;
	struct ethtool_report e;
	struct ata_security a;
	struct nvme_ctrl n;
	char why[256], what[64];

	if (smart_parse(text, len, &h) == 0) {
		smart_verdict(&h, why, sizeof why);
		if (strlen(h.model) >= sizeof h.model || strlen(why) >= sizeof why)
			abort();
	}
	(void)smart_selftest_parse(text, len, what, sizeof what);
	memtester_parse(text, len, &m);
	stress_parse(text, len, &s);
	ethtool_parse(text, len, &e);
	ata_security_parse(text, len, &a);
	(void)nvme_ctrl_parse(text, len, &n);
	(void)nvme_sanitize_status(text, len);
	if (e.link < -1 || e.link > 1 || strlen(m.first_failure) >= sizeof m.first_failure)
		abort();
}

static void
check_ranges(const uint8_t *data, size_t size)
{
	static struct sector_ranges r;
	uint64_t first = 0, sum = 0;
	char serial[64];

	memset(&r, 0, sizeof r);
	for (size_t i = 0; i + 2 <= size; i += 2) {
		first += data[i];
		sector_ranges_add(&r, first, data[i + 1] % 17);
		sum += data[i + 1] % 17;
	}
	for (size_t i = 1; i < r.n; i++)
		if (r.r[i].first <= r.r[i - 1].first + r.r[i - 1].count)
			abort();        /* merged, in order */
	if (r.sectors > sum)
		abort();
	vpd80_serial(data, size, serial, sizeof serial);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size == 0)
		return 0;
	text = malloc(size - 1 ? size - 1 : 1);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0: check_dmi(text, size - 1); break;
	case 1: check_texts(text, size - 1); break;
	default: check_ranges(data + 1, size - 1); break;
	}
	free(text);
	return 0;
}

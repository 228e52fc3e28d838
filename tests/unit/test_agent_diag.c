/* pxe-agent's diagnose and wipe parts that need no server: the task's
 * params (tests, destructive, duration, wipe level), what the tests read
 * from the Debian tools (outputs captured from them in a QEMU machine, in
 * tests/unit/data/diag/: dmidecode, smartctl of an ATA, an NVMe and a
 * virtio disk, nvme id-ctrl, hdparm -I, ethtool; memtester's and
 * stress-ng's from this machine), sector ranges, the VPD serial, and the
 * program runner on real programs (output, exit status, its deadline, a
 * missing program, a stop).  Agent sources are compiled in. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "agent/command.c"
#include "agent/diag_parse.c"
#include "agent/diskid.c"
#include "agent/journal.c"
#include "agent/params.c"
#include "agent/sysinfo.c"
#include "agent/task.c"

#define DATA "tests/unit/data/diag/"

/* A file's bytes in a heap buffer of exactly its size (ASan sees any
 * read past the end); *len its size. */
static char *
slurp(const char *name, size_t *len)
{
	FILE *f = fopen(name, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n > 0 ? (size_t)n : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* ---- params ---- */

static int
parse(const char *json, struct agent_task *t, char *err)
{
	return task_parse(json, strlen(json), t, err, 256);
}

static void
test_params(void **state)
{
	struct agent_task t;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"id\":3,\"type\":\"diagnose\"}", &t, err), 0);
	assert_int_equal(t.type, TASK_DIAGNOSE);
	assert_int_equal(t.params.tests, DIAG_TESTS_DEFAULT);
	assert_false(t.params.tests & DIAG_TEST_BIT(DIAG_DISK_WRITE));
	assert_int_equal(t.params.duration, DIAG_DURATION_DEFAULT);
	task_free(&t);
	assert_int_equal(parse("{\"id\":3,\"type\":\"diagnose\",\"params\":{\"tests\":[\"smart\","
	    "\"memory\"],\"duration\":5,\"network_url\":\"http://192.0.2.1/bootenv/initrd\","
	    "\"mac\":\"52:54:00:00:00:01\"}}", &t, err), 0);
	assert_int_equal(t.params.tests, DIAG_TEST_BIT(DIAG_SMART) | DIAG_TEST_BIT(DIAG_MEMORY));
	assert_int_equal(t.params.duration, 5);
	assert_string_equal(t.params.network_url, "http://192.0.2.1/bootenv/initrd");
	assert_string_equal(t.params.mac, "52:54:00:00:00:01");
	task_free(&t);
	/* the agent refuses a destructive test the task does not allow */
	assert_int_equal(parse("{\"id\":3,\"type\":\"diagnose\",\"params\":{\"tests\":"
	    "[\"disk-write\"]}}", &t, err), -EINVAL);
	assert_non_null(strstr(err, "destructive"));
	assert_int_equal(parse("{\"id\":3,\"type\":\"diagnose\",\"params\":{\"tests\":"
	    "[\"disk-write\"],\"destructive\":true}}", &t, err), 0);
	task_free(&t);
	assert_int_equal(parse("{\"id\":3,\"type\":\"diagnose\",\"params\":{\"tests\":"
	    "[\"smart\",\"fan\"]}}", &t, err), -EINVAL);
	assert_non_null(strstr(err, "unknown test \"fan\""));
	assert_int_equal(parse("{\"id\":3,\"type\":\"diagnose\",\"params\":{\"duration\":0}}",
	    &t, err), -EINVAL);
	assert_int_equal(parse("{\"id\":3,\"type\":\"diagnose\",\"params\":[]}", &t, err),
	    -EINVAL);
	/* wipe levels */
	assert_int_equal(parse("{\"id\":4,\"type\":\"wipe\",\"verify\":true,\"params\":"
	    "{\"level\":\"random\"}}", &t, err), 0);
	assert_int_equal(t.params.level, WIPE_RANDOM);
	assert_true(t.verify);
	task_free(&t);
	assert_int_equal(parse("{\"id\":4,\"type\":\"wipe\"}", &t, err), 0);
	assert_int_equal(t.params.level, WIPE_FAST);
	task_free(&t);
	assert_int_equal(parse("{\"id\":4,\"type\":\"wipe\",\"params\":{\"level\":\"shred\"}}",
	    &t, err), -EINVAL);
	assert_non_null(strstr(err, "shred"));
}

/* ---- dmidecode ---- */

static void
test_dmi(void **state)
{
	size_t len;
	char *text = slurp(DATA "dmidecode-qemu.txt", &len);
	json_t *d = dmi_parse(text, len), *sys, *mem;

	(void)state;
	assert_non_null(d);
	sys = json_object_get(d, "system");
	/* QEMU's -smbios type=1,manufacturer=PxedTest,product=DiagBox,serial=SN-1234 */
	assert_string_equal(json_string_value(json_object_get(sys, "vendor")), "PxedTest");
	assert_string_equal(json_string_value(json_object_get(sys, "model")), "DiagBox");
	assert_string_equal(json_string_value(json_object_get(sys, "serial")), "SN-1234");
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "bios"),
	    "vendor")), "SeaBIOS");
	mem = json_object_get(d, "memory");
	assert_int_equal(json_array_size(mem), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(mem, 0), "size")),
	    512 << 20);
	assert_string_equal(json_string_value(json_object_get(json_array_get(mem, 0), "locator")),
	    "DIMM 0");
	assert_int_equal(json_integer_value(json_object_get(d, "memory_total")), 512 << 20);
	json_decref(d);
	/* a cut, a bad byte, an empty slot, no newline at the end */
	static const char odd[] = "System Information\n\tManufacturer: A\xff" "B\n"
	    "Memory Device\n\tSize: No Module Installed\nMemory Device\n\tSize: 2 GB\n\tLocator";
	d = dmi_parse(odd, sizeof odd - 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "system"),
	    "vendor")), "A\xef\xbf\xbd" "B");
	assert_int_equal(json_array_size(json_object_get(d, "memory")), 1);
	assert_int_equal(json_integer_value(json_object_get(d, "memory_total")), 2ll << 30);
	json_decref(d);
	assert_int_equal(dmi_size_bytes("8192 MB"), 8192ull << 20);
	assert_int_equal(dmi_size_bytes("16 GB"), 16ull << 30);
	assert_int_equal(dmi_size_bytes("Unknown"), 0);
	assert_int_equal(dmi_size_bytes("12 PB"), 0);
	free(text);
}

/* ---- smartctl ---- */

static void
smart_file(const char *name, struct smart_health *h)
{
	size_t len;
	char *text = slurp(name, &len);

	assert_int_equal(smart_parse(text, len, h), 0);
	free(text);
}

static void
test_smart(void **state)
{
	struct smart_health h;
	char why[256], what[128];
	size_t len;
	char *text;

	(void)state;
	smart_file(DATA "smart-ata-qemu.json", &h);
	assert_true(h.available);
	assert_false(h.nvme);
	assert_int_equal(h.passed, 1);
	assert_string_equal(h.model, "QEMU HARDDISK");
	assert_string_equal(h.serial, "QM00001");
	assert_int_equal(h.reallocated, 0);
	assert_int_equal(h.pending, -1);        /* not reported */
	assert_int_equal(h.short_minutes, 2);
	assert_true(h.self_test);
	smart_verdict(&h, why, sizeof why);
	assert_string_equal(why, "");
	smart_file(DATA "smart-ata-failing.json", &h);
	assert_int_equal(h.reallocated, 12);
	smart_verdict(&h, why, sizeof why);
	assert_string_equal(why, "overall health FAILED, 8 pending sectors,"
	    " 3 offline uncorrectable sectors");
	smart_file(DATA "smart-nvme-qemu.json", &h);
	assert_true(h.nvme);
	assert_true(h.available);
	assert_int_equal(h.media_errors, 0);
	assert_int_equal(h.percentage_used, 0);
	assert_string_equal(h.serial, "NVME42");
	smart_verdict(&h, why, sizeof why);
	assert_string_equal(why, "");
	h.media_errors = 4;
	h.percentage_used = 103;
	smart_verdict(&h, why, sizeof why);
	assert_string_equal(why, "4 media errors, 103% of its rated life used");
	smart_file(DATA "smart-virtio.json", &h);
	assert_false(h.available);
	assert_string_equal(h.message, "/dev/vda: Unable to detect device type");
	assert_int_equal(smart_parse("not json", 8, &h), -EINVAL);
	assert_int_equal(smart_parse("{}", 2, &h), -EINVAL);
	/* self-test states */
	text = slurp(DATA "smart-ata-selftest.json", &len);
	assert_int_equal(smart_selftest_parse(text, len, what, sizeof what), SELFTEST_PASSED);
	assert_string_equal(what, "completed without error");
	free(text);
	static const char running[] = "{\"ata_smart_data\":{\"self_test\":{\"status\":"
	    "{\"value\":249,\"string\":\"in progress, 90% remaining\"}}}}";
	assert_int_equal(smart_selftest_parse(running, sizeof running - 1, what, sizeof what),
	    SELFTEST_RUNNING);
	static const char failed[] = "{\"ata_smart_data\":{\"self_test\":{\"status\":"
	    "{\"value\":121,\"string\":\"completed: read failure\"}}}}";
	assert_int_equal(smart_selftest_parse(failed, sizeof failed - 1, what, sizeof what),
	    SELFTEST_FAILED);
	static const char nvme[] = "{\"nvme_self_test_log\":{\"current_self_test_operation\":"
	    "{\"value\":0},\"table\":[{\"self_test_result\":{\"value\":0,\"string\":"
	    "\"Completed without error\"}}]}}";
	assert_int_equal(smart_selftest_parse(nvme, sizeof nvme - 1, what, sizeof what),
	    SELFTEST_PASSED);
}

/* ---- memtester, stress-ng, ethtool, hdparm, nvme ---- */

static void
test_tool_texts(void **state)
{
	static const char mem_ok[] = "Loop 1/1:\n  Stuck Address       : testing   0\b\b\bok\n"
	    "  Random Value        : ok\n  Compare XOR         : ok\n";
	static const char mem_bad[] = "Loop 1/1:\n  Stuck Address       : ok\n"
	    "  Random Value        : FAILURE: 0x12345678 != 0x12345670 at offset 0x0004a000.\n"
	    "FAILURE: 0x1 != 0x0 at offset 0x8.\n";
	static const char stress[] = "stress-ng: info:  [21374] dispatching hogs: 1 cpu\n"
	    "stress-ng: metrc: [21374] stressor       bogo ops real time  usr time\n"
	    "stress-ng: metrc: [21374] cpu                3160      3.00      1.44\n"
	    "stress-ng: info:  [21374] successful run completed in 3.06s\n";
	static const char stress_bad[] = "stress-ng: fail:  [99] cpu: matrix product"
	    " verification failed\nstress-ng: metrc: [99] cpu 17 1.0\n";
	static const char virtio[] = "Settings for eth0:\n\tSpeed: Unknown!\n\tDuplex: Unknown!"
	    " (255)\n\tLink detected: yes\n";
	struct memtester_report m;
	struct stress_report s;
	struct ethtool_report e;
	struct ata_security a;
	struct nvme_ctrl n;
	size_t len;
	char *text;

	(void)state;
	memtester_parse(mem_ok, sizeof mem_ok - 1, &m);
	assert_int_equal(m.ok, 3);
	assert_int_equal(m.failures, 0);
	memtester_parse(mem_bad, sizeof mem_bad - 1, &m);
	assert_int_equal(m.ok, 1);
	assert_int_equal(m.failures, 2);
	assert_string_equal(m.first_failure, "FAILURE: 0x12345678 != 0x12345670 at offset"
	    " 0x0004a000.");
	stress_parse(stress, sizeof stress - 1, &s);
	assert_int_equal(s.bogo_ops, 3160);
	assert_int_equal(s.fail_lines, 0);
	stress_parse(stress_bad, sizeof stress_bad - 1, &s);
	assert_int_equal(s.fail_lines, 1);
	assert_int_equal(s.bogo_ops, 17);
	text = slurp(DATA "ethtool-e1000.txt", &len);
	ethtool_parse(text, len, &e);
	assert_int_equal(e.speed_mbit, 1000);
	assert_string_equal(e.duplex, "Full");
	assert_int_equal(e.link, 1);
	free(text);
	ethtool_parse(virtio, sizeof virtio - 1, &e);
	assert_int_equal(e.speed_mbit, -1);
	assert_int_equal(e.link, 1);
	text = slurp(DATA "hdparm-qemu.txt", &len);     /* QEMU's disk: no security */
	ata_security_parse(text, len, &a);
	assert_false(a.supported);
	free(text);
	text = slurp(DATA "hdparm-security-frozen.txt", &len);
	ata_security_parse(text, len, &a);
	assert_true(a.supported);
	assert_true(a.frozen);
	assert_false(a.enabled);
	assert_true(a.enhanced);
	assert_int_equal(a.minutes, 2);
	assert_int_equal(a.enhanced_minutes, 8);
	free(text);
	text = slurp(DATA "hdparm-security-ready.txt", &len);
	ata_security_parse(text, len, &a);
	assert_true(a.supported);
	assert_false(a.frozen);
	free(text);
	text = slurp(DATA "nvme-id-ctrl-qemu.json", &len);
	assert_int_equal(nvme_ctrl_parse(text, len, &n), 0);
	assert_int_equal(n.oacs, 266);  /* Format NVM, no Sanitize */
	assert_int_equal(n.sanicap, 0);
	free(text);
	assert_int_equal(nvme_ctrl_parse("[]", 2, &n), -EINVAL);
	assert_int_equal(nvme_sanitize_status("{\"sstat\":257}", 13), 1);
	assert_int_equal(nvme_sanitize_status("{\"nvme0\":{\"sstat\":2}}", 21), 2);
	assert_int_equal(nvme_sanitize_status("{}", 2), -1);
}

/* ---- sector ranges, the VPD serial ---- */

static void
test_ranges(void **state)
{
	static struct sector_ranges r;
	static const uint8_t vpd[] = { 0x00, 0x80, 0x00, 0x14, 'Q', 'M', '0', '0', '0', '0', '1',
		' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ' };
	char serial[64];

	(void)state;
	sector_ranges_add(&r, 100, 1);
	sector_ranges_add(&r, 101, 1);          /* adjacent: merged */
	sector_ranges_add(&r, 102, 8);
	sector_ranges_add(&r, 105, 2);          /* inside: nothing new */
	sector_ranges_add(&r, 200, 4);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.r[0].first, 100);
	assert_int_equal(r.r[0].count, 10);
	assert_int_equal(r.r[1].first, 200);
	assert_int_equal(r.sectors, 14);
	memset(&r, 0, sizeof r);
	for (uint64_t i = 0; i < SECTOR_RANGES_MAX + 10; i++)
		sector_ranges_add(&r, 2 * i, 1);
	assert_int_equal(r.n, SECTOR_RANGES_MAX);
	assert_true(r.cut);
	assert_int_equal(r.sectors, SECTOR_RANGES_MAX + 10);
	vpd80_serial(vpd, sizeof vpd, serial, sizeof serial);
	assert_string_equal(serial, "QM00001");
	vpd80_serial(vpd, 3, serial, sizeof serial);
	assert_string_equal(serial, "");
	static const uint8_t long_len[] = { 0x00, 0x80, 0xff, 0xff, 'A', 'B' };
	vpd80_serial(long_len, sizeof long_len, serial, sizeof serial);
	assert_string_equal(serial, "AB");
}

/* ---- the runner ---- */

static void
test_command(void **state)
{
	const char *echo[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	const char *slow[] = { "sh", "-c", "echo started; sleep 30", NULL };
	const char *lots[] = { "sh", "-c", "yes | head -c 100000", NULL };
	const char *none[] = { "pxed-no-such-tool", NULL };
	struct command cmd = { .argv = echo };
	struct command_result r;
	atomic_bool stop = true;
	uint64_t t0;

	(void)state;
	assert_int_equal(command_run(&cmd, &r), 0);
	assert_int_equal(r.status, 3);
	assert_string_equal(r.out, "out\n");
	assert_string_equal(r.err, "err\n");
	command_result_free(&r);
	cmd = (struct command){ .argv = slow, .timeout_s = 1 };
	t0 = clock_now_us();
	assert_int_equal(command_run(&cmd, &r), 0);
	assert_true(r.timed_out);
	assert_int_equal(r.status, -1);
	assert_string_equal(r.out, "started\n");
	assert_true(clock_now_us() - t0 < 5000000);     /* killed, not waited for */
	command_result_free(&r);
	cmd = (struct command){ .argv = slow, .stop = &stop };
	assert_int_equal(command_run(&cmd, &r), 0);
	assert_true(r.stopped);
	command_result_free(&r);
	cmd = (struct command){ .argv = lots, .out_max = 1000 };
	assert_int_equal(command_run(&cmd, &r), 0);
	assert_int_equal(r.out_len, 1000);
	assert_true(r.out_cut);
	command_result_free(&r);
	cmd = (struct command){ .argv = none };
	assert_int_equal(command_run(&cmd, &r), -ENOENT);
	command_result_free(&r);
	assert_false(command_exists("pxed-no-such-tool"));
	assert_true(command_exists("sh"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_dmi),
		cmocka_unit_test(test_smart),
		cmocka_unit_test(test_tool_texts),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_command),
	};

	journal_init(true);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for pxe-agent's parts that need no server: the kernel command
 * line, the disk choice and the inventory from a fake /proc and /sys tree
 * (made here with mkdtemp), the task JSON, and the log ring.  The agent is
 * not in libpxed, so its curl-free sources are compiled in here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "agent/journal.c"
#include "agent/sysinfo.c"
#include "agent/task.c"
#include "agent/params.c"

#include <sys/stat.h>

static char root[64];

static void
put(const char *path, const char *text)
{
	char full[512], dir[512];
	FILE *f;

	snprintf(full, sizeof full, "%s%s", root, path);
	/* mkdir -p of the parent */
	for (char *p = strchr(full + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
		snprintf(dir, sizeof dir, "%.*s", (int)(p - full), full);
		mkdir(dir, 0755);
	}
	f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
setup_tree(void **state)
{
	(void)state;
	snprintf(root, sizeof root, "/tmp/pxed-agent-XXXXXX");
	return mkdtemp(root) != NULL ? 0 : -1;
}

static int
teardown_tree(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- command line ---- */

static void
test_cmdline(void **state)
{
	const char *line = "BOOT_IMAGE=/vmlinuz quiet pxed.server=http://10.0.0.1:8080 "
	    "pxed.token=abc123  pxed.task=7\tpxed.serverx=no pxed.empty= console=ttyS0\n";
	char out[64];

	(void)state;
	assert_int_equal(sysinfo_cmdline_get(line, "pxed.server", out, sizeof out), 0);
	assert_string_equal(out, "http://10.0.0.1:8080");
	assert_int_equal(sysinfo_cmdline_get(line, "pxed.token", out, sizeof out), 0);
	assert_string_equal(out, "abc123");
	assert_int_equal(sysinfo_cmdline_get(line, "pxed.task", out, sizeof out), 0);
	assert_string_equal(out, "7");
	assert_int_equal(sysinfo_cmdline_get(line, "pxed.empty", out, sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(sysinfo_cmdline_get(line, "pxed", out, sizeof out), -ENOENT);
	assert_int_equal(sysinfo_cmdline_get(line, "quiet", out, sizeof out), -ENOENT);
	assert_int_equal(sysinfo_cmdline_get("", "pxed.task", out, sizeof out), -ENOENT);
	assert_int_equal(sysinfo_cmdline_get(line, "pxed.server", out, 8), -ENAMETOOLONG);
}

static void
test_cmdline_read(void **state)
{
	char out[128];

	(void)state;
	put("/proc/cmdline", "ro pxed.task=12\n");
	assert_int_equal(sysinfo_cmdline_read(root, out, sizeof out), 0);
	assert_string_equal(out, "ro pxed.task=12");
}

/* ---- disk choice ---- */

static void
test_disk_names(void **state)
{
	(void)state;
	assert_true(sysinfo_disk_name_ok("sda"));
	assert_true(sysinfo_disk_name_ok("nvme0n1"));
	assert_true(sysinfo_disk_name_ok("vda"));
	assert_false(sysinfo_disk_name_ok("loop0"));
	assert_false(sysinfo_disk_name_ok("ram15"));
	assert_false(sysinfo_disk_name_ok("sr0"));
	assert_false(sysinfo_disk_name_ok("zram0"));
	assert_false(sysinfo_disk_name_ok("."));
}

static void
test_disk_choose(void **state)
{
	char out[64];

	(void)state;
	put("/sys/block/loop0/size", "2048\n");
	put("/sys/block/ram0/size", "8192\n");
	put("/sys/block/sr0/size", "4000\n");
	put("/sys/block/zram0/size", "4000\n");
	put("/sys/block/sda/size", "0\n");          /* empty card reader */
	put("/sys/block/vdb/size", "2097152\n");
	put("/sys/block/vdb/device/model", "QEMU HARDDISK   \n");
	assert_int_equal(sysinfo_disk_choose(root, out, sizeof out), 0);
	assert_string_equal(out, "/dev/vdb");
	put("/sys/block/nvme0n1/size", "1000\n");   /* sorts first */
	assert_int_equal(sysinfo_disk_choose(root, out, sizeof out), 0);
	assert_string_equal(out, "/dev/nvme0n1");
	assert_int_equal(sysinfo_disk_choose(root, out, 6), -ENAMETOOLONG);
}

static void
test_disk_choose_none(void **state)
{
	char out[64], empty[128];

	(void)state;
	snprintf(empty, sizeof empty, "%s/none", root);
	mkdir(empty, 0755);
	assert_int_equal(sysinfo_disk_choose(empty, out, sizeof out), -ENOENT);
	snprintf(empty + strlen(empty), sizeof empty - strlen(empty), "/sys");
	mkdir(empty, 0755);
	snprintf(empty + strlen(empty), sizeof empty - strlen(empty), "/block");
	mkdir(empty, 0755);
	put("/none/sys/block/loop1/size", "100\n");
	snprintf(empty, sizeof empty, "%s/none", root);
	assert_int_equal(sysinfo_disk_choose(empty, out, sizeof out), -ENOENT);
}

/* ---- inventory ---- */

static void
test_inventory(void **state)
{
	json_t *inv, *disks, *nics;

	(void)state;
	put("/proc/cpuinfo", "processor\t: 0\nmodel name\t: Test CPU @ 3.0GHz\n\n"
	    "processor\t: 1\nmodel name\t: Test CPU @ 3.0GHz\n\n");
	put("/proc/meminfo", "MemTotal:        2048000 kB\nMemAvailable:    1024 kB\n");
	put("/sys/class/net/lo/address", "00:00:00:00:00:00\n");
	put("/sys/class/net/eth0/address", "52:54:00:12:34:56\n");
	put("/sys/block/vdb/size", "2097152\n");
	put("/sys/block/vdb/device/model", "QEMU HARDDISK   \n");
	inv = sysinfo_inventory(root);
	assert_non_null(inv);
	assert_string_equal(json_string_value(json_object_get(inv, "cpu")), "Test CPU @ 3.0GHz");
	assert_int_equal(json_integer_value(json_object_get(inv, "cores")), 2);
	assert_int_equal(json_integer_value(json_object_get(inv, "ram")), 2048000ll * 1024);
	assert_int_equal(sysinfo_mem_available(root), 1024 * 1024);
	disks = json_object_get(inv, "disks");
	assert_true(json_array_size(disks) >= 1);
	for (size_t i = 0; i < json_array_size(disks); i++) {
		json_t *d = json_array_get(disks, i);
		if (strcmp(json_string_value(json_object_get(d, "name")), "vdb") != 0)
			continue;
		assert_int_equal(json_integer_value(json_object_get(d, "size")), 1ll << 30);
		assert_string_equal(json_string_value(json_object_get(d, "model")), "QEMU HARDDISK");
	}
	nics = json_object_get(inv, "nics");
	assert_int_equal(json_array_size(nics), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(nics, 0), "mac")),
	    "52:54:00:12:34:56");
	json_decref(inv);
}

/* ---- task JSON ---- */

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define MANIFEST "{\"format\":1,\"name\":\"img\",\"created\":1,\"chunk_size\":4194304," \
	"\"disk\":{\"size\":1048576,\"sector_size\":512,\"table\":\"mbr\"},\"partitions\":[]," \
	"\"table_chunks\":[[0,512,\"" SHA_A "\"]],\"chunks\":[[4096,4096,\"" SHA_A "\"]]}"

static void
test_task_deploy(void **state)
{
	const char *text = "{\"id\":7,\"type\":\"deploy\",\"image\":\"img\",\"disk\":null,"
	    "\"verify\":true,\"resume_offset\":4096,\"chunk_url\":\"http://h:8/images/chunks\","
	    "\"chunk_size\":4194304,\"level\":3,\"manifest\":" MANIFEST "}";
	struct agent_task t;
	char err[256];

	(void)state;
	assert_int_equal(task_parse(text, strlen(text), &t, err, sizeof err), 0);
	assert_int_equal(t.id, 7);
	assert_int_equal(t.type, TASK_DEPLOY);
	assert_string_equal(t.disk, "");
	assert_true(t.verify);
	assert_int_equal(t.resume_offset, 4096);
	assert_string_equal(t.chunk_url, "http://h:8/images/chunks/");
	assert_int_equal(t.manifest.nchunks, 2);
	assert_true(t.manifest.chunk[0].table);
	task_free(&t);
}

static void
test_task_manifest_string(void **state)
{
	json_t *root_obj = json_pack("{s:i,s:s,s:s,s:s,s:s}", "id", 8, "type", "deploy",
	    "disk", "/dev/vda", "chunk_url", "/images/chunks/", "manifest", MANIFEST);
	char *text = json_dumps(root_obj, 0), err[256];
	struct agent_task t;

	(void)state;
	assert_int_equal(task_parse(text, strlen(text), &t, err, sizeof err), 0);
	assert_string_equal(t.disk, "/dev/vda");
	assert_string_equal(t.chunk_url, "/images/chunks/");
	assert_false(t.verify);
	assert_int_equal(t.manifest.nchunks, 2);
	task_free(&t);
	free(text);
	json_decref(root_obj);
}

static void
test_task_capture_defaults(void **state)
{
	const char *text = "{\"id\":1,\"type\":\"capture\",\"image\":\"base-22.04\"}";
	struct agent_task t;
	char err[256];

	(void)state;
	assert_int_equal(task_parse(text, strlen(text), &t, err, sizeof err), 0);
	assert_int_equal(t.type, TASK_CAPTURE);
	assert_int_equal(t.chunk_size, TASK_CHUNK_SIZE_DEFAULT);
	assert_int_equal(t.level, TASK_LEVEL_DEFAULT);
	task_free(&t);
}

/* A deploy task's multicast session with FEC k, m (as text). */
static int
parse_mcast_fec(const char *fec, struct agent_task *t, char *err, size_t errlen)
{
	char text[2048];

	snprintf(text, sizeof text, "{\"id\":9,\"type\":\"deploy\",\"chunk_url\":\"/c/\","
	    "\"manifest\":" MANIFEST ",\"multicast\":{\"name\":\"room\",\"group\":"
	    "\"239.255.42.1\",\"port\":9000,\"session\":\"0123456789abcdef\",\"receiver\":"
	    "\"00000000000000ff\",\"control\":\"192.0.2.1\",\"control_port\":40000,"
	    "\"chunks\":2,\"slice\":1400,\"frames\":[100,200]%s}}", fec);
	return task_parse(text, strlen(text), t, err, errlen);
}

static void
test_task_multicast_fec(void **state)
{
	struct agent_task t;
	char err[256];

	(void)state;
	assert_int_equal(parse_mcast_fec(",\"fec_k\":16,\"fec_m\":2", &t, err, sizeof err), 0);
	assert_true(t.mcast.on);
	assert_int_equal(t.mcast.fec_k, 16);
	assert_int_equal(t.mcast.fec_m, 2);
	assert_int_equal(t.mcast.frames[1], 200);
	task_free(&t);
	assert_int_equal(parse_mcast_fec("", &t, err, sizeof err), 0);
	assert_int_equal(t.mcast.fec_k, 0);             /* no FEC */
	task_free(&t);
	assert_int_equal(parse_mcast_fec(",\"fec_k\":0,\"fec_m\":0", &t, err, sizeof err), 0);
	task_free(&t);
	assert_int_equal(parse_mcast_fec(",\"fec_k\":4,\"fec_m\":5", &t, err, sizeof err),
	    -EINVAL);
	assert_non_null(strstr(err, "fec_k, fec_m"));
	task_free(&t);
	assert_int_equal(parse_mcast_fec(",\"fec_k\":16", &t, err, sizeof err), -EINVAL);
	task_free(&t);
	assert_int_equal(parse_mcast_fec(",\"fec_k\":129,\"fec_m\":1", &t, err, sizeof err),
	    -EINVAL);
	task_free(&t);
}

static const struct {
	const char *json;
	const char *reason;
} bad_tasks[] = {
	{ "nope", "not JSON" },
	{ "[]", "not a JSON object" },
	{ "{\"id\":1,\"type\":\"format-c\"}", "unknown" },
	{ "{\"id\":1}", "unknown" },
	{ "{\"id\":-1,\"type\":\"wipe\"}", "\"id\"" },
	{ "{\"id\":1,\"type\":\"wipe\",\"level\":30}", "\"level\"" },
	{ "{\"id\":1,\"type\":\"wipe\",\"chunk_size\":0}", "\"chunk_size\"" },
	{ "{\"id\":1,\"type\":\"wipe\",\"verify\":1}", "\"verify\"" },
	{ "{\"id\":1,\"type\":\"wipe\",\"disk\":7}", "\"disk\"" },
	{ "{\"id\":1,\"type\":\"capture\",\"image\":\"../x\"}", "invalid" },
	{ "{\"id\":1,\"type\":\"capture\"}", "invalid" },
	{ "{\"id\":1,\"type\":\"deploy\",\"chunk_url\":\"/c/\"}", "without a manifest" },
	{ "{\"id\":1,\"type\":\"deploy\",\"manifest\":" MANIFEST "}", "chunk_url" },
	{ "{\"id\":1,\"type\":\"deploy\",\"chunk_url\":\"/c/\",\"manifest\":{\"format\":2}}",
	  "manifest: format 2" },
	{ "{\"id\":1,\"id\":2,\"type\":\"wipe\"}", "not JSON" },
};

static void
test_task_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_tasks / sizeof bad_tasks[0]; i++) {
		struct agent_task t;
		char err[256];
		int rc = task_parse(bad_tasks[i].json, strlen(bad_tasks[i].json), &t, err, sizeof err);
		if (rc != -EINVAL || strstr(err, bad_tasks[i].reason) == NULL)
			fail_msg("%s: %d \"%s\"", bad_tasks[i].json, rc, err);
		assert_null(t.manifest.chunk);
	}
}

/* ---- log ring ---- */

static void
test_journal_tail(void **state)
{
	char tail[JOURNAL_TAIL_MAX + 1], small[64];
	size_t n;

	(void)state;
	journal_init(true);
	assert_int_equal(journal_tail(tail, sizeof tail), 0);
	journal_info("first line");
	journal_info("bad \x01 byte");
	n = journal_tail(tail, sizeof tail);
	assert_string_equal(tail, "first line\nbad \\x01 byte\n");
	assert_int_equal(n, strlen(tail));
	for (int i = 0; i < 1000; i++)
		journal_info("line %04d of the long run", i);
	n = journal_tail(tail, sizeof tail);
	assert_true(n <= JOURNAL_TAIL_MAX);
	assert_true(n > JOURNAL_TAIL_MAX - 64);
	assert_true(strncmp(tail, "line ", 5) == 0);            /* a whole line first */
	assert_non_null(strstr(tail, "line 0999 of the long run\n"));
	assert_null(strstr(tail, "first line"));
	n = journal_tail(small, sizeof small);
	assert_int_equal(n, sizeof small - 1);
	assert_true(strstr(small, "0999 of the long run\n") != NULL);
	journal_init(true);
}

/* A report over the bound: its longest list cut until it fits. */
static void
test_report_bound(void **state)
{
	json_t *r = json_pack("{s:s,s:I,s:[],s:[]}", "kind", "scan", "infected", (json_int_t)5000,
	    "findings", "limits_hit");
	json_t *findings = json_object_get(r, "findings");
	char path[600];
	char *text;

	(void)state;
	memset(path, 'a', sizeof path - 1);
	path[sizeof path - 1] = '\0';
	for (int i = 0; i < 5000; i++)
		json_array_append_new(findings, json_pack("{s:s,s:i}", "path", path, "n", i));
	json_array_append_new(json_object_get(r, "limits_hit"), json_string("x"));
	task_report_bound(r, TASK_REPORT_SEND_MAX);
	text = json_dumps(r, JSON_COMPACT);
	assert_true(strlen(text) <= TASK_REPORT_SEND_MAX);
	assert_true(json_is_true(json_object_get(r, "truncated")));
	assert_true(json_array_size(findings) > 100);
	assert_int_equal(json_integer_value(json_object_get(r, "infected")), 5000);
	assert_int_equal(json_array_size(json_object_get(r, "limits_hit")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(findings, 0), "n")), 0);
	free(text);
	/* a small one is left alone */
	json_decref(r);
	r = json_pack("{s:[i]}", "findings", 1);
	task_report_bound(r, TASK_REPORT_SEND_MAX);
	assert_null(json_object_get(r, "truncated"));
	json_decref(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_report_bound),
		cmocka_unit_test(test_cmdline_read),
		cmocka_unit_test(test_disk_names),
		cmocka_unit_test(test_disk_choose),
		cmocka_unit_test(test_disk_choose_none),
		cmocka_unit_test(test_inventory),
		cmocka_unit_test(test_task_deploy),
		cmocka_unit_test(test_task_manifest_string),
		cmocka_unit_test(test_task_capture_defaults),
		cmocka_unit_test(test_task_multicast_fec),
		cmocka_unit_test(test_task_bad),
		cmocka_unit_test(test_journal_tail),
	};

	return cmocka_run_group_tests(tests, setup_tree, teardown_tree);
}

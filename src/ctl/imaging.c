/* pxectl host|group|image|task|mcast: the imaging side of the REST API. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "ctl/ctl.h"

/* ---- formatting ---- */

const char *
ctl_str(json_t *o, const char *key)
{
	return ctl_text(json_object_get(o, key), false);
}

json_int_t
ctl_num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* Run a call; on success print JSON (--json) or hand the answer to show. */
int
ctl_call(const struct ctl *c, const char *method, const char *path, json_t *body,
    const char *what, void (*show)(json_t *))
{
	json_t *answer = NULL;
	long status = ctl_request(c, method, path, body, &answer);
	int rc = 0;

	json_decref(body);
	if (status < 200 || status > 299) {
		ctl_print_error(what, status, answer);
		rc = 1;
	} else if (c->json) {
		if (answer != NULL)
			ctl_print_json(answer);
	} else if (show != NULL) {
		show(answer);
	}
	json_decref(answer);
	return rc;
}

/* GET path a page at a time until the server says there is no next one,
 * and show every page's items as one {"KEY": [...], "total": N}. */
static int
call_list(const struct ctl *c, const char *path, const char *key, const char *what,
    void (*show)(json_t *))
{
	json_t *all = json_array(), *answer = NULL, *next;
	char url[512], after[64] = "";
	json_int_t total = 0;
	long status;

	for (unsigned page = 0; page < 100000; page++) {
		snprintf(url, sizeof url, "%s?limit=1000%s%s", path, after[0] ? "&after=" : "",
		    after);
		status = ctl_request(c, "GET", url, NULL, &answer);
		if (status != 200) {
			ctl_print_error(what, status, answer);
			json_decref(answer);
			json_decref(all);
			return 1;
		}
		json_array_extend(all, json_object_get(answer, key));
		total = ctl_num(answer, "total");
		next = json_object_get(answer, "next");
		/* a cursor is a MAC or a task id: nothing to escape in a URL */
		if (!json_is_string(next) || json_string_length(next) >= sizeof after ||
		    strspn(json_string_value(next), "0123456789abcdef:") != json_string_length(next)) {
			json_decref(answer);
			break;
		}
		str_copy(after, json_string_value(next), sizeof after);
		json_decref(answer);
	}
	answer = json_pack("{s:o,s:I}", key, all, "total", total);
	if (c->json)
		ctl_print_json(answer);
	else
		show(answer);
	json_decref(answer);
	return 0;
}

/* ---- hosts ---- */

/* The host's architecture (IANA number from its PXE vendor class) named. */
static const char *
arch_name(const char *arch)
{
	static const struct { const char *num, *name; } names[] = {
		{ "0", "bios" }, { "6", "efi32" }, { "7", "efi64" }, { "9", "efi64" },
		{ "10", "arm32" }, { "11", "arm64" }, { "15", "efi32-http" },
		{ "16", "efi64-http" }, { "18", "arm32-http" }, { "19", "arm64-http" },
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(arch, names[i].num) == 0)
			return names[i].name;
	return arch;
}

static void
show_hosts(json_t *a)
{
	static const char *const heads[] = { "MAC", "NAME", "APPROVED", "LAST SEEN", "ARCH" };
	struct ctl_table t;
	size_t i;
	json_t *h;
	char seen[32];

	ctl_table_begin(&t, 5, heads);
	json_array_foreach(json_object_get(a, "hosts"), i, h)
		ctl_table_add(&t, (const char *[]){ ctl_str(h, "mac"), ctl_str(h, "name"),
		    json_is_true(json_object_get(h, "approved")) ? "yes" : "no",
		    ctl_when(ctl_num(h, "last_seen"), seen, sizeof seen), arch_name(ctl_str(h, "arch")) });
	ctl_table_print(&t, "");
}

/* "1.0 MiB / 4.0 MiB" of a task */
static const char *
task_progress(json_t *t, char *out, size_t size)
{
	char done[32], total[32];

	snprintf(out, size, "%s / %s", ctl_size(ctl_num(t, "bytes"), done, sizeof done),
	    ctl_size(ctl_num(t, "total"), total, sizeof total));
	return out;
}

/* "label a, b, c" from an array of strings; "label -" when empty. */
static void
print_names(const char *label, json_t *names)
{
	size_t i;
	json_t *n;

	printf("%s", label);
	json_array_foreach(names, i, n)
		printf("%s%s", i > 0 ? ", " : "", ctl_text(n, false));
	printf("%s\n", json_array_size(names) == 0 ? "-" : "");
}

void
ctl_show_host(json_t *h)
{
	json_t *task = json_object_get(h, "task"), *inv = json_object_get(h, "inventory");
	char first[32], last[32];

	ctl_when(ctl_num(h, "first_seen"), first, sizeof first);
	ctl_when(ctl_num(h, "last_seen"), last, sizeof last);
	printf("host %s\n  name      %s\n  approved  %s\n  arch      %s\n  uuid      %s\n"
	    "  first     %s\n  last      %s\n", ctl_str(h, "mac"), ctl_str(h, "name"),
	    json_is_true(json_object_get(h, "approved")) ? "yes" : "no",
	    arch_name(ctl_str(h, "arch")), ctl_str(h, "uuid"), first, last);
	if (json_is_object(inv)) {
		char ram[32];
		ctl_size(ctl_num(inv, "ram"), ram, sizeof ram);
		printf("  cpu       %s (%" JSON_INTEGER_FORMAT " cores), %s RAM\n", ctl_str(inv, "cpu"),
		    ctl_num(inv, "cores"), ram);
	}
	print_names("  groups    ", json_object_get(h, "groups"));
	if (json_is_object(task)) {
		char progress[80];
		printf("  task      %" JSON_INTEGER_FORMAT " %s %s, %s, %s\n", ctl_num(task, "id"),
		    ctl_str(task, "type"), ctl_str(task, "image"), ctl_str(task, "state"),
		    task_progress(task, progress, sizeof progress));
	} else {
		printf("  task      none\n");
	}
	ctl_show_host_diag(h);
}

/* prefix + the escaped argument + suffix, e.g. /api/v1/hosts/ lab1 /approve */
char *
ctl_path3(const char *prefix, const char *arg, const char *suffix)
{
	static char path[512];
	char enc[256];
	size_t o = 0;

	/* names and MACs are [A-Za-z0-9._:-]; anything else is escaped */
	for (const char *p = arg; *p != '\0' && o + 4 < sizeof enc; p++) {
		unsigned char ch = (unsigned char)*p;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("._:-", ch) != NULL)
			enc[o++] = (char)ch;
		else
			o += (size_t)snprintf(enc + o, sizeof enc - o, "%%%02X", ch);
	}
	enc[o] = '\0';
	snprintf(path, sizeof path, "%s%s%s", prefix, enc, suffix);
	return path;
}

int
ctl_host(const struct ctl *c, int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : "list";

	if (strcmp(verb, "list") == 0 && argc <= 1)
		return call_list(c, "/api/v1/hosts", "hosts", "host list", show_hosts);
	if (strcmp(verb, "wol") == 0)
		return ctl_host_wol(c, argc, argv);
	if (strcmp(verb, "add") == 0 && (argc == 2 || argc == 3))
		return ctl_call(c, "POST", "/api/v1/hosts", json_pack("{s:s,s:s}", "mac", argv[1],
		    "name", argc == 3 ? argv[2] : ""), "host add", ctl_show_host);
	if (strcmp(verb, "show") == 0 && argc == 2)
		return ctl_call(c, "GET", ctl_path3("/api/v1/hosts/", argv[1], ""), NULL, "host show",
		    ctl_show_host);
	if (strcmp(verb, "rm") == 0 && argc == 2)
		return ctl_call(c, "DELETE", ctl_path3("/api/v1/hosts/", argv[1], ""), NULL, "host rm",
		    NULL);
	if ((strcmp(verb, "approve") == 0 || strcmp(verb, "deny") == 0) && argc == 2)
		return ctl_call(c, "POST", ctl_path3("/api/v1/hosts/", argv[1],
		    strcmp(verb, "approve") == 0 ? "/approve" : "/deny"), NULL,
		    verb, ctl_show_host);
	if (strcmp(verb, "set") == 0)
		return ctl_host_set(c, argc, argv);
	fprintf(stderr, "pxectl: host list | add MAC [NAME] | show HOST | rm HOST |"
	    " approve HOST | deny HOST | wol HOST PASSWORD|none | set HOST hostname=NAME\n");
	return 2;
}

/* ---- host groups ---- */

static void
show_groups(json_t *a)
{
	static const char *const heads[] = { "GROUP", ">HOSTS" };
	struct ctl_table t;
	size_t i;
	json_t *g;
	char members[24];

	ctl_table_begin(&t, 2, heads);
	json_array_foreach(json_object_get(a, "groups"), i, g) {
		snprintf(members, sizeof members, "%" JSON_INTEGER_FORMAT, ctl_num(g, "members"));
		ctl_table_add(&t, (const char *[]){ ctl_str(g, "name"), members });
	}
	ctl_table_print(&t, "");
}

static void
show_group(json_t *g)
{
	size_t n = json_array_size(json_object_get(g, "hosts"));

	if (n == 0) {
		printf("group %s: no hosts (the group is gone)\n", ctl_str(g, "name"));
		return;
	}
	printf("group %s: %zu host%s\n", ctl_str(g, "name"), n, n == 1 ? "" : "s");
	show_hosts(g);
}

/* ["HOST"...] of argv[from..argc) */
static json_t *
hosts_array(int argc, char **argv, int from)
{
	json_t *hosts = json_array();

	for (int i = from; i < argc; i++)
		json_array_append_new(hosts, json_string(argv[i]));
	return hosts;
}

int
ctl_group(const struct ctl *c, int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : "list";

	if (strcmp(verb, "list") == 0 && argc <= 1)
		return ctl_call(c, "GET", "/api/v1/groups", NULL, "group list", show_groups);
	if (strcmp(verb, "show") == 0 && argc == 2)
		return ctl_call(c, "GET", ctl_path3("/api/v1/groups/", argv[1], ""), NULL, "group show",
		    show_group);
	if ((strcmp(verb, "add") == 0 || strcmp(verb, "rm") == 0) && argc >= 3)
		return ctl_call(c, "POST", ctl_path3("/api/v1/groups/", argv[1], verb[0] == 'a' ?
		    "/add" : "/remove"), json_pack("{s:o}", "hosts", hosts_array(argc, argv, 2)),
		    verb[0] == 'a' ? "group add" : "group rm", show_group);
	if (strcmp(verb, "delete") == 0 && argc == 2)
		return ctl_call(c, "DELETE", ctl_path3("/api/v1/groups/", argv[1], ""), NULL,
		    "group delete", NULL);
	fprintf(stderr, "pxectl: group list | show NAME | add NAME HOST... | rm NAME HOST... |"
	    " delete NAME\n");
	return 2;
}

/* ---- images ---- */

static void
show_images(json_t *a)
{
	static const char *const heads[] = { "NAME", ">DISK", ">USED", ">STORED", ">CHUNKS",
		"CREATED" };
	struct ctl_table t;
	size_t i;
	json_t *im;

	ctl_table_begin(&t, 6, heads);
	json_array_foreach(json_object_get(a, "images"), i, im) {
		char disk[32], used[32], stored[32], chunks[24], created[32];
		snprintf(chunks, sizeof chunks, "%" JSON_INTEGER_FORMAT, ctl_num(im, "chunks"));
		ctl_table_add(&t, (const char *[]){ ctl_str(im, "name"),
		    ctl_size(ctl_num(im, "disk_size"), disk, sizeof disk),
		    ctl_size(ctl_num(im, "used"), used, sizeof used),
		    ctl_size(ctl_num(im, "stored"), stored, sizeof stored), chunks,
		    ctl_when(ctl_num(im, "created"), created, sizeof created) });
	}
	ctl_table_print(&t, "");
}

static void
show_image(json_t *im)
{
	static const char *const heads[] = { ">PART", "FS", ">SIZE", ">USED" };
	char disk[32], used[32], stored[32], created[32];
	struct ctl_table t;
	size_t i;
	json_t *p;

	printf("image %s\n  created   %s\n  disk      %s, %s partition table\n"
	    "  used      %s in %" JSON_INTEGER_FORMAT " chunks, %s stored\n", ctl_str(im, "name"),
	    ctl_when(ctl_num(im, "created"), created, sizeof created),
	    ctl_size(ctl_num(im, "disk_size"), disk, sizeof disk), ctl_str(im, "table"),
	    ctl_size(ctl_num(im, "used"), used, sizeof used), ctl_num(im, "chunks"),
	    ctl_size(ctl_num(im, "stored"), stored, sizeof stored));
	ctl_table_begin(&t, 4, heads);
	json_array_foreach(json_object_get(im, "partition_list"), i, p) {
		char index[24], len[32], pused[32];
		snprintf(index, sizeof index, "%" JSON_INTEGER_FORMAT, ctl_num(p, "index"));
		ctl_table_add(&t, (const char *[]){ index, ctl_str(p, "fs"),
		    ctl_size(ctl_num(p, "length"), len, sizeof len),
		    ctl_size(ctl_num(p, "used"), pused, sizeof pused) });
	}
	if (t.rows > 0)
		ctl_table_print(&t, "  ");
	else
		ctl_table_free(&t);
}

static void
show_verify(json_t *v)
{
	if (json_is_true(json_object_get(v, "ok")))
		printf("image %s: every chunk verified\n", ctl_str(v, "name"));
	else
		printf("image %s: %" JSON_INTEGER_FORMAT " bad chunk(s): %s\n", ctl_str(v, "name"),
		    ctl_num(v, "bad_chunks"), ctl_str(v, "error"));
}

static void
show_removed(json_t *v)
{
	char freed[32];

	ctl_size(ctl_num(v, "bytes_freed"), freed, sizeof freed);
	printf("image %s removed; %" JSON_INTEGER_FORMAT " unused chunks deleted (%s)\n",
	    ctl_str(v, "removed"), ctl_num(v, "chunks_deleted"), freed);
}

int
ctl_image(const struct ctl *c, int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : "list";

	if (strcmp(verb, "list") == 0 && argc <= 1)
		return ctl_call(c, "GET", "/api/v1/images", NULL, "image list", show_images);
	if (strcmp(verb, "show") == 0 && argc == 2)
		return ctl_call(c, "GET", ctl_path3("/api/v1/images/", argv[1], ""), NULL, "image show",
		    show_image);
	if (strcmp(verb, "rm") == 0 && argc == 2)
		return ctl_call(c, "DELETE", ctl_path3("/api/v1/images/", argv[1], ""), NULL,
		    "image rm", show_removed);
	if (strcmp(verb, "verify") == 0 && argc == 2) {
		json_t *answer = NULL;
		long status = ctl_request(c, "POST", ctl_path3("/api/v1/images/", argv[1],
		    "/verify"), NULL, &answer);
		int ok = status == 200 && json_is_true(json_object_get(answer, "ok"));
		if (status != 200)
			ctl_print_error("image verify", status, answer);
		else if (c->json)
			ctl_print_json(answer);
		else
			show_verify(answer);
		json_decref(answer);
		return ok ? 0 : 1;
	}
	fprintf(stderr, "pxectl: image list | show NAME | rm NAME | verify NAME\n");
	return 2;
}

/* ---- tasks ---- */

/* The tasks of a list (or of an answer naming them), one row each. */
void
ctl_show_tasks(json_t *a)
{
	static const char *const heads[] = { ">ID", "HOST", "TYPE", "IMAGE", "STATE", "AFTER",
		"PHASE", "PROGRESS", "MESSAGE" };
	struct ctl_table t;
	size_t i;
	json_t *k;

	ctl_table_begin(&t, 9, heads);
	json_array_foreach(json_object_get(a, "tasks"), i, k) {
		char id[24], progress[80];
		snprintf(id, sizeof id, "%" JSON_INTEGER_FORMAT, ctl_num(k, "id"));
		ctl_table_add(&t, (const char *[]){ id, ctl_str(k, "host"), ctl_str(k, "type"),
		    ctl_str(k, "image"), ctl_str(k, "state"), ctl_str(k, "after"), ctl_str(k, "phase"),
		    task_progress(k, progress, sizeof progress), ctl_str(k, "message") });
	}
	ctl_table_print(&t, "");
}

void
ctl_show_task(json_t *t)
{
	char created[32], started[32], finished[32];
	json_t *one = json_pack("{s:[O]}", "tasks", t);

	ctl_show_tasks(one);
	json_decref(one);
	printf("  created %s, started %s, finished %s\n",
	    ctl_when(ctl_num(t, "created"), created, sizeof created),
	    ctl_when(ctl_num(t, "started"), started, sizeof started),
	    ctl_when(ctl_num(t, "finished"), finished, sizeof finished));
	printf("  after   %s\n", ctl_str(t, "after"));
	ctl_show_task_diag(t);
	if (ctl_str(t, "log")[0] != '\0')
		printf("  log:\n%s\n", ctl_text(json_object_get(t, "log"), true));
	ctl_show_report(t);
}

/* body with "after": --after, when given (the server checks it). */
/* body with "after" (--after) and the task's options (--no-grow...), when
 * given (the server checks them). */
static json_t *
with_after(const struct ctl *c, json_t *body)
{
	return ctl_with_options(c, body);
}

static int
task_new(const struct ctl *c, const char *type, const char *host, const char *image,
    bool verify)
{
	return ctl_call(c, "POST", "/api/v1/tasks", with_after(c, json_pack("{s:s,s:s,s:s,s:b,s:b}",
	    "host", host, "type", type, "image", image != NULL ? image : "", "verify", verify,
	    "replace", c->replace)), type, ctl_show_task);
}

/* ---- multicast sessions ---- */

/* Sessions, one row each; with running_only those not ended. */
static void
sessions_table(json_t *a, bool running_only)
{
	static const char *const heads[] = { "SESSION", "IMAGE", "STATE", "GROUP", ">PASS",
		">RATE", ">SENT", ">IMAGE SIZE", "FEC", ">RECEIVERS" };
	struct ctl_table t;
	size_t i;
	json_t *s;

	ctl_table_begin(&t, 10, heads);
	json_array_foreach(json_object_get(a, "sessions"), i, s) {
		const char *state = ctl_str(s, "state");
		if (running_only && (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0 ||
		    strcmp(state, "cancelled") == 0))
			continue;
		char group[80], pass[24], rate[32], sent[32], img[32], fec[48], rcv[24];
		snprintf(group, sizeof group, "%s:%" JSON_INTEGER_FORMAT, ctl_str(s, "group"),
		    ctl_num(s, "port"));
		snprintf(pass, sizeof pass, "%" JSON_INTEGER_FORMAT, ctl_num(s, "pass"));
		snprintf(fec, sizeof fec, "%s", ctl_str(s, "fec"));
		snprintf(rcv, sizeof rcv, "%zu", json_array_size(json_object_get(s, "receivers")));
		snprintf(rate, sizeof rate, "%.1f Mbit/s", (double)ctl_num(s, "rate") * 8 / 1e6);
		ctl_table_add(&t, (const char *[]){ ctl_str(s, "name"), ctl_str(s, "image"), state, group,
		    pass, rate,
		    ctl_size(ctl_num(s, "bytes_sent"), sent, sizeof sent),
		    ctl_size(ctl_num(s, "image_bytes"), img, sizeof img), fec, rcv });
	}
	ctl_table_print(&t, "");
}

static void
show_session(json_t *s)
{
	static const char *const heads[] = { ">RECEIVER", "STATE", ">CHUNKS" };
	char sent[32], img[32];
	struct ctl_table t;
	size_t i;
	json_t *r;

	printf("session %s: image %s, %s, group %s:%" JSON_INTEGER_FORMAT ", pass %"
	    JSON_INTEGER_FORMAT ", %.1f Mbit/s, %s sent (image %s), FEC %s (%" JSON_INTEGER_FORMAT
	    " parity)%s%s\n", ctl_str(s, "name"), ctl_str(s, "image"), ctl_str(s, "state"), ctl_str(s, "group"),
	    ctl_num(s, "port"), ctl_num(s, "pass"), (double)ctl_num(s, "rate") * 8 / 1e6,
	    ctl_size(ctl_num(s, "bytes_sent"), sent, sizeof sent),
	    ctl_size(ctl_num(s, "image_bytes"), img, sizeof img),
	    ctl_str(s, "fec"), ctl_num(s, "parity_sent"), ctl_str(s, "error")[0] ? ": " : "", ctl_str(s, "error"));
	ctl_table_begin(&t, 3, heads);
	json_array_foreach(json_object_get(s, "receivers"), i, r) {
		char n[24], chunks[48];
		snprintf(n, sizeof n, "%zu", i + 1);
		snprintf(chunks, sizeof chunks, "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
		    ctl_num(r, "done"), ctl_num(r, "total"));
		ctl_table_add(&t, (const char *[]){ n, ctl_str(r, "state"), chunks });
	}
	if (t.rows > 0)
		ctl_table_print(&t, "  ");
	else
		ctl_table_free(&t);
}

static void
show_sessions(json_t *a)
{
	sessions_table(a, false);
}

void
ctl_show_sessions_running(json_t *a)
{
	sessions_table(a, true);
}

int
ctl_mcast(const struct ctl *c, int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : "list";

	if (strcmp(verb, "list") == 0 && argc <= 1)
		return ctl_call(c, "GET", "/api/v1/mcast", NULL, "mcast list", show_sessions);
	if (strcmp(verb, "show") == 0 && argc == 2)
		return ctl_call(c, "GET", ctl_path3("/api/v1/mcast/", argv[1], ""), NULL, "mcast show",
		    show_session);
	if ((strcmp(verb, "start") == 0 || strcmp(verb, "cancel") == 0) && argc == 2)
		return ctl_call(c, "POST", ctl_path3("/api/v1/mcast/", argv[1], verb[0] == 's' ?
		    "/start" : "/cancel"), NULL, verb, show_session);
	fprintf(stderr, "pxectl: mcast list | show NAME | start NAME | cancel NAME\n");
	return 2;
}

/* task deploy --multicast NAME [--group GROUP] IMAGE [HOST...]: a session
 * and its tasks. */
static int
task_mcast(const struct ctl *c, int argc, char **argv, bool verify)
{
	json_t *body;

	if (argc < (c->group != NULL ? 2 : 3)) {
		fprintf(stderr, "pxectl: task deploy --multicast NAME [--group GROUP] IMAGE"
		    " [HOST...] (a group, hosts or both)\n");
		return 2;
	}
	body = json_pack("{s:s,s:s,s:o,s:b}", "name", c->mcast, "image", argv[1], "hosts",
	    hosts_array(argc, argv, 2), "verify", verify);
	if (c->group != NULL)
		json_object_set_new(body, "group", json_string(c->group));
	if (c->min_receivers >= 0)
		json_object_set_new(body, "min_receivers", json_integer(c->min_receivers));
	if (c->start_after >= 0)
		json_object_set_new(body, "start_after", json_integer(c->start_after));
	if (c->rate_mbit >= 0)
		json_object_set_new(body, "rate_mbit", json_integer(c->rate_mbit));
	if (c->fec != NULL)
		json_object_set_new(body, "fec", json_string(c->fec));
	return ctl_call(c, "POST", "/api/v1/mcast", with_after(c, body), "task deploy --multicast", show_session);
}

int
ctl_task(const struct ctl *c, int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : "list";
	bool verify = true;
	int rc;

	if (argc > 0 && strcmp(argv[argc - 1], "--no-verify") == 0) {
		verify = false;
		argc--;
	}
	rc = ctl_task_diag(c, argc, argv);      /* diagnose, memtest, boot, wipe */
	if (rc >= 0)
		return rc;
	if (c->mcast != NULL && strcmp(verb, "deploy") == 0)
		return task_mcast(c, argc, argv, verify);
	if (c->group != NULL && strcmp(verb, "deploy") == 0 && argc == 2)
		return ctl_call(c, "POST", "/api/v1/tasks", with_after(c, json_pack("{s:s,s:s,s:s,s:b}",
		    "group", c->group, "type", "deploy", "image", argv[1], "verify", verify)),
		    "task deploy --group", ctl_show_tasks);
	if ((rc = ctl_task_fs(c, verb, argc, argv)) >= 0)
		return rc;
	if (c->group != NULL) {
		fprintf(stderr, "pxectl: task deploy|scan --group GROUP ...\n");
		return 2;
	}
	if (strcmp(verb, "list") == 0 && argc <= 1)
		return call_list(c, "/api/v1/tasks", "tasks", "task list", ctl_show_tasks);
	if (strcmp(verb, "show") == 0 && argc == 2)
		return ctl_call(c, "GET", ctl_path3("/api/v1/tasks/", argv[1], ""), NULL, "task show",
		    ctl_show_task);
	if (strcmp(verb, "cancel") == 0 && argc == 2)
		return ctl_call(c, "POST", ctl_path3("/api/v1/tasks/", argv[1], "/cancel"), NULL,
		    "task cancel", ctl_show_task);
	if ((strcmp(verb, "deploy") == 0 || strcmp(verb, "capture") == 0) && argc == 3)
		return task_new(c, verb, argv[1], argv[2], verify);
	if ((strcmp(verb, "shell") == 0 || strcmp(verb, "local") == 0) && argc == 2)
		return task_new(c, verb, argv[1], NULL, verify);
	fprintf(stderr, "pxectl: task list | show ID | cancel ID | deploy HOST IMAGE [--no-verify]"
	    " [--no-grow] | deploy --group GROUP IMAGE | capture [--replace] HOST IMAGE"
	    " [--outside-partitions] [--raw-encrypted] | shell HOST | local HOST"
	    " | diagnose HOST|--group G [--tests LIST] [--destructive] [--duration S]"
	    " | memtest HOST | boot HOST ENV | wipe HOST [--level fast|zero|random|sanitize]"
	    " [--verify] | scan HOST|--group GROUP [--quarantine] | restore TASK"
	    " | reset-password HOST --user NAME [--unlock] [--enable] [--windows PATH]"
	    " | reset-password HOST --list  (deploy, capture, wipe, diagnose, scan...:"
	    " [--after reboot|poweroff|shell]; any: [--wake])\n");
	return 2;
}

/* pxectl: diagnose and repair (docs/DIAGNOSTICS.md).
 *
 *   task diagnose HOST|--group G [--tests LIST] [--destructive] [--duration S]
 *   task memtest HOST              task boot HOST ENV
 *   task wipe HOST [--level fast|zero|random|sanitize] [--verify]
 *   (each: [--wake], [--after ...] where the task runs the agent)
 *   wake HOST | wake --group G     host wol HOST PASSWORD|none
 *   env list | show NAME | set NAME KEY=VALUE... | rm NAME
 * and what host show and task show print of reports, health and wipe
 * certificates. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"
#include "core/util.h"
#include "ctl/ctl.h"

/* ---- what show prints ---- */

static void
show_wake(json_t *reports)
{
	size_t i;
	json_t *r;

	json_array_foreach(reports, i, r) {
		if (json_is_string(json_object_get(r, "error")))
			printf("wake %s: not sent: %s\n", ctl_str(r, "host"), ctl_str(r, "error"));
		else
			printf("wake %s: %" JSON_INTEGER_FORMAT " magic packets to %s:%" JSON_INTEGER_FORMAT
			    " (%s; last seen at %s)%s\n", ctl_str(r, "host"), ctl_num(r, "packets"),
			    ctl_str(r, "broadcast"), ctl_num(r, "port"), ctl_str(r, "via"), ctl_str(r, "address"),
			    json_is_true(json_object_get(r, "password")) ? ", with its SecureOn password" :
			    "");
	}
}

static void
show_wake_answer(json_t *a)
{
	show_wake(json_object_get(a, "wake"));
}

/* A new task (or a group's tasks) and what was woken. */
static void
show_created(json_t *a)
{
	json_t *tasks = json_object_get(a, "tasks"), *t;
	size_t i;

	if (json_is_array(tasks))
		json_array_foreach(tasks, i, t)
			ctl_show_task(t);
	else
		ctl_show_task(a);
	show_wake(json_object_get(a, "wake"));
}

/* The report of a diagnose task: a row a test. */
static void
show_report(json_t *report)
{
	char when[32], took[32];
	size_t i;
	json_t *r;

	printf("  %-10s %-8s %-19s %8s  %s\n", "TEST", "STATUS", "STARTED", "TOOK", "SUMMARY");
	json_array_foreach(report, i, r) {
		ctl_when(ctl_num(r, "started"), when, sizeof when);
		ctl_duration(ctl_num(r, "duration_ms"), took, sizeof took);
		printf("  %-10s %-8s %-19s %8s  %s\n", ctl_str(r, "test"), ctl_str(r, "status"), when, took,
		    ctl_str(r, "summary"));
	}
}

static void
show_certificates(json_t *certs, const char *indent)
{
	char when[32], size[32], written[32];
	size_t i;
	json_t *w;

	json_array_foreach(certs, i, w) {
		ctl_when(ctl_num(w, "finished"), when, sizeof when);
		ctl_size(ctl_num(w, "size"), size, sizeof size);
		ctl_size(ctl_num(w, "bytes_written"), written, sizeof written);
		printf("%swipe certificate %" JSON_INTEGER_FORMAT " (task %" JSON_INTEGER_FORMAT
		    "): %s\n%s  disk %s, %s, serial %s, %s\n%s  method %s, %s written,"
		    " verify %s (%" JSON_INTEGER_FORMAT " bytes read back), %s\n", indent,
		    ctl_num(w, "id"), ctl_num(w, "task"), json_is_true(json_object_get(w, "ok")) ? "done" :
		    "FAILED", indent, ctl_str(w, "disk"), ctl_str(w, "model")[0] ? ctl_str(w, "model") :
		    "model unknown", ctl_str(w, "serial")[0] ? ctl_str(w, "serial") : "unknown", size,
		    indent, ctl_str(w, "method"), written, ctl_str(w, "verify"), ctl_num(w, "bytes_verified"),
		    when);
	}
}

void
ctl_show_task_diag(json_t *t)
{
	json_t *p = json_object_get(t, "params"), *report = json_object_get(t, "report");
	json_t *certs = json_object_get(t, "certificates");
	char *text = json_is_object(p) && json_object_size(p) > 0 ?
	    json_text(p, JSON_COMPACT, NULL) : NULL;

	if (text != NULL)
		printf("  params  %s\n", text);
	free(text);
	if (json_is_array(report)) {
		if (json_array_size(report) == 0)
			printf("  report  no test has reported yet\n");
		else
			show_report(report);
	}
	if (json_is_array(certs))
		show_certificates(certs, "  ");
}

static void
show_system(json_t *inv)
{
	json_t *sys = json_object_get(inv, "system");
	char total[32];

	if (!json_is_object(sys))
		return;
	printf("  system    %s %s, serial %s, firmware %s %s (%s)\n", ctl_str(sys, "vendor"),
	    ctl_str(sys, "model"), ctl_str(sys, "serial"), ctl_str(sys, "firmware_vendor"),
	    ctl_str(sys, "firmware"), ctl_str(sys, "firmware_date"));
	ctl_size(ctl_num(inv, "memory_total"), total, sizeof total);
	printf("  memory    %s in %zu modules\n", total,
	    json_array_size(json_object_get(inv, "memory_modules")));
}

void
ctl_show_host_diag(json_t *h)
{
	json_t *health = json_object_get(h, "health"), *r;
	char when[32];
	size_t i;

	show_system(json_object_get(h, "inventory"));
	if (ctl_str(h, "last_addr")[0] != '\0')
		printf("  seen at   %s%s\n", ctl_str(h, "last_addr"),
		    json_is_true(json_object_get(h, "wol_password")) ? " (SecureOn password set)" :
		    "");
	if (json_array_size(health) > 0) {
		printf("  health    the latest result of each test:\n");
		printf("    %-10s %-8s %-19s %6s  %s\n", "TEST", "STATUS", "TAKEN", "TASK", "SUMMARY");
	}
	json_array_foreach(health, i, r) {
		ctl_when(ctl_num(r, "started"), when, sizeof when);
		printf("    %-10s %-8s %-19s %6" JSON_INTEGER_FORMAT "  %s\n", ctl_str(r, "test"),
		    ctl_str(r, "status"), when, ctl_num(r, "task"), ctl_str(r, "summary"));
	}
	show_certificates(json_object_get(h, "wipes"), "  ");
}

/* ---- tasks ---- */

/* body + "host" or "group", "wake" and "after" from the options. */
static json_t *
task_body(const struct ctl *c, const char *type, const char *host)
{
	json_t *b = json_pack("{s:s}", "type", type);

	if (c->group != NULL)
		json_object_set_new(b, "group", json_string(c->group));
	else
		json_object_set_new(b, "host", json_string(host));
	if (c->wake)
		json_object_set_new(b, "wake", json_true());
	if (c->after != NULL)
		json_object_set_new(b, "after", json_string(c->after));
	return b;
}

/* "smart,disk-read" as a list (the server checks the names). */
static json_t *
tests_list(const char *text)
{
	json_t *arr = json_array();
	char one[64];

	for (const char *p = text; *p != '\0';) {
		size_t n = strcspn(p, ", ");
		if (n > 0) {
			snprintf(one, sizeof one, "%.*s", (int)MIN(n, sizeof one - 1), p);
			json_array_append_new(arr, json_string(one));
		}
		p += n + (p[n] != '\0');
	}
	return arr;
}

int
ctl_task_diag(const struct ctl *c, int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : "";
	int need = c->group != NULL ? 1 : 2;    /* the verb (and HOST) */
	const char *host = c->group == NULL && argc > 1 ? argv[1] : NULL;
	json_t *b;

	if (strcmp(verb, "diagnose") == 0 && argc == need) {
		b = task_body(c, "diagnose", host);
		if (c->tests != NULL)
			json_object_set_new(b, "tests", tests_list(c->tests));
		if (c->destructive)
			json_object_set_new(b, "destructive", json_true());
		if (c->duration >= 0)
			json_object_set_new(b, "duration", json_integer(c->duration));
		if (c->memory_mb >= 0)
			json_object_set_new(b, "memory_mb", json_integer(c->memory_mb));
	} else if (strcmp(verb, "memtest") == 0 && argc == need) {
		b = task_body(c, "boot", host);
		json_object_set_new(b, "environment", json_string("memtest86+"));
	} else if (strcmp(verb, "boot") == 0 && argc == need + 1) {
		b = task_body(c, "boot", host);
		json_object_set_new(b, "environment", json_string(argv[need]));
	} else if (strcmp(verb, "wipe") == 0 && argc == need) {
		b = task_body(c, "wipe", host);
		json_object_set_new(b, "verify", json_boolean(c->verify));
		if (c->level != NULL)
			json_object_set_new(b, "level", json_string(c->level));
	} else {
		return -1;
	}
	return ctl_call(c, "POST", "/api/v1/tasks", b, verb, show_created);
}

/* ---- wake, Wake-on-LAN passwords ---- */

int
ctl_wake(const struct ctl *c, int argc, char **argv)
{
	if (c->group != NULL && argc == 0)
		return ctl_call(c, "POST", ctl_path3("/api/v1/groups/", c->group, "/wake"), NULL,
		    "wake", show_wake_answer);
	if (c->group == NULL && argc == 1)
		return ctl_call(c, "POST", ctl_path3("/api/v1/hosts/", argv[0], "/wake"), NULL,
		    "wake", show_wake_answer);
	fprintf(stderr, "pxectl: wake HOST | wake --group GROUP\n");
	return 2;
}

static void
show_wol(json_t *a)
{
	printf("host %s: SecureOn password %s\n", ctl_str(a, "host"),
	    json_is_true(json_object_get(a, "wol_password")) ? "set" : "none");
}

int
ctl_host_wol(const struct ctl *c, int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "pxectl: host wol HOST PASSWORD|none  (six bytes in hex,"
		    " 11:22:33:44:55:66)\n");
		return 2;
	}
	return ctl_call(c, "PUT", ctl_path3("/api/v1/hosts/", argv[1], "/wol"),
	    json_pack("{s:s}", "password", strcmp(argv[2], "none") == 0 ? "" : argv[2]),
	    "host wol", show_wol);
}

/* ---- environments ---- */

static void
show_env(json_t *e)
{
	json_t *initrds = json_object_get(e, "initrds"), *v;
	size_t i;

	printf("environment %s (%s, from the %s)%s%s\n", ctl_str(e, "name"), ctl_str(e, "kind"),
	    strcmp(ctl_str(e, "source"), "api") == 0 ? "API" : strcmp(ctl_str(e, "source"), "builtin") ==
	    0 ? "memtest86+ package" : "config file", json_is_true(json_object_get(e, "menu")) ?
	    ", in the no-task menu" : "", json_is_false(json_object_get(e, "ready")) ?
	    ": NOT READY" : "");
	static const char *const keys[] = { "title", "kernel", "args", "bios", "efi", "wimboot",
		"bcd", "boot_sdi", "boot_wim", "missing" };
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
		if (ctl_str(e, keys[k])[0] != '\0')
			printf("  %-9s %s\n", keys[k], ctl_str(e, keys[k]));
	json_array_foreach(initrds, i, v)
		printf("  %-9s %s\n", "initrd", ctl_text(v, false));
}

static void
show_envs(json_t *a)
{
	json_t *list = json_object_get(a, "environments"), *e;
	size_t i;

	printf("%-20s %-8s %-8s %-5s %s\n", "NAME", "KIND", "FROM", "MENU", "TITLE");
	json_array_foreach(list, i, e)
		printf("%-20s %-8s %-8s %-5s %s\n", ctl_str(e, "name"), ctl_str(e, "kind"), ctl_str(e, "source"),
		    json_is_true(json_object_get(e, "menu")) ? "yes" : "no", ctl_str(e, "title"));
}

/* KEY=VALUE words into an environment's JSON: initrd repeats, menu is
 * yes/no, boot-sdi and boot-wim as in the config file.  NULL on a bad word. */
static json_t *
env_body(int argc, char **argv)
{
	json_t *b = json_pack("{s:[]}", "initrds");
	char key[32];

	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (eq == NULL || eq == argv[i] || (size_t)(eq - argv[i]) >= sizeof key) {
			json_decref(b);
			return NULL;
		}
		snprintf(key, sizeof key, "%.*s", (int)(eq - argv[i]), argv[i]);
		for (char *k = key; *k != '\0'; k++)
			*k = *k == '-' ? '_' : *k;
		if (strcmp(key, "initrd") == 0)
			json_array_append_new(json_object_get(b, "initrds"), json_string(eq + 1));
		else if (strcmp(key, "menu") == 0)
			json_object_set_new(b, key, json_boolean(strcmp(eq + 1, "yes") == 0));
		else
			json_object_set_new(b, key, json_string(eq + 1));
	}
	return b;
}

int
ctl_env(const struct ctl *c, int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : "list";
	json_t *body;

	if (strcmp(verb, "list") == 0 && argc <= 1)
		return ctl_call(c, "GET", "/api/v1/environments", NULL, "env list", show_envs);
	if (strcmp(verb, "show") == 0 && argc == 2)
		return ctl_call(c, "GET", ctl_path3("/api/v1/environments/", argv[1], ""), NULL,
		    "env show", show_env);
	if (strcmp(verb, "rm") == 0 && argc == 2)
		return ctl_call(c, "DELETE", ctl_path3("/api/v1/environments/", argv[1], ""), NULL,
		    "env rm", NULL);
	if (strcmp(verb, "set") == 0 && argc >= 3 && (body = env_body(argc - 2, argv + 2)) != NULL)
		return ctl_call(c, "PUT", ctl_path3("/api/v1/environments/", argv[1], ""), body,
		    "env set", show_env);
	fprintf(stderr, "pxectl: env list | show NAME | rm NAME | set NAME kind=linux|chain|wimboot"
	    " [title=T] [menu=yes] [kernel=P] [initrd=P]... [args=A] [bios=P] [efi=P]"
	    " [wimboot=P] [bcd=P] [boot-sdi=P] [boot-wim=P]  (P: a path under root or a URL)\n");
	return 2;
}

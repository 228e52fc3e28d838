/* pxectl: the tasks that work inside a machine's filesystems (scan,
 * reset-password, restore), the options of deploy and capture (--no-grow,
 * --outside-partitions, --raw-encrypted), a task's report, and
 * "host set HOST hostname=NAME". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

struct flag_name {
	unsigned bit;
	const char *flag;
	const char *key;
};

static const struct flag_name flags[] = {
	{ CTL_NO_GROW, "--no-grow", "no_grow" },
	{ CTL_OUTSIDE, "--outside-partitions", "outside_partitions" },
	{ CTL_RAW_ENCRYPTED, "--raw-encrypted", "raw_encrypted" },
	{ CTL_QUARANTINE, "--quarantine", "quarantine" },
	{ CTL_UNLOCK, "--unlock", "unlock" },
	{ CTL_ENABLE, "--enable", "enable" },
	{ CTL_LIST, "--list", "list" },
};

unsigned
ctl_task_flag(const char *arg)
{
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (strcmp(arg, flags[i].flag) == 0)
			return flags[i].bit;
	return 0;
}

json_t *
ctl_with_options(const struct ctl *c, json_t *body)
{
	if (body == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (c->task_flags & flags[i].bit)
			json_object_set_new(body, flags[i].key, json_true());
	if (c->user != NULL)
		json_object_set_new(body, "user", json_string(c->user));
	if (c->windows != NULL)
		json_object_set_new(body, "windows", json_string(c->windows));
	if (c->after != NULL)
		json_object_set_new(body, "after", json_string(c->after));
	return body;
}

static void
print_value(json_t *v)
{
	if (json_is_string(v))
		printf("%s", ctl_text(v, false));       /* from the agent: escaped */
	else if (json_is_integer(v))
		printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_boolean(v))
		printf("%s", json_is_true(v) ? "yes" : "no");
	else
		printf("-");
}

/* An object of scalars on one line: "key=value key=value". */
static void
print_item(json_t *o, const char *indent)
{
	const char *key;
	json_t *v;
	bool first = true;

	printf("%s", indent);
	json_object_foreach(o, key, v) {
		printf("%s%s=", first ? "" : " ", key);
		first = false;
		print_value(v);
	}
	printf("\n");
}

void
ctl_show_report(json_t *task)
{
	json_t *r = json_object_get(task, "report"), *v, *item;
	const char *key;
	size_t i;

	if (json_integer_value(json_object_get(task, "files")) > 0)
		printf("  files   %" JSON_INTEGER_FORMAT " scanned\n",
		    json_integer_value(json_object_get(task, "files")));
	if (!json_is_object(r))
		return;
	printf("  report:\n");
	json_object_foreach(r, key, v) {
		if (!json_is_array(v)) {
			printf("    %s: ", key);
			print_value(v);
			printf("\n");
			continue;
		}
		printf("    %s (%zu):\n", key, json_array_size(v));
		json_array_foreach(v, i, item)
			if (json_is_object(item))
				print_item(item, "      ");
	}
}

/* task restore TASK: a restore task for the host of scan task TASK. */
static int
task_restore(const struct ctl *c, const char *id)
{
	char path[48];
	json_t *scan = NULL;
	long status;
	char *end;
	long long of = strtoll(id, &end, 10);

	if (*end != '\0' || of <= 0) {
		fprintf(stderr, "pxectl: task restore TASK (the id of a scan task)\n");
		return 2;
	}
	snprintf(path, sizeof path, "/api/v1/tasks/%lld", of);
	status = ctl_request(c, "GET", path, NULL, &scan);
	if (status != 200) {
		ctl_print_error("task restore", status, scan);
		json_decref(scan);
		return 1;
	}
	json_t *body = json_pack("{s:O,s:s,s:I}", "host", json_object_get(scan, "host"),
	    "type", "restore", "of", (json_int_t)of);
	json_decref(scan);
	return ctl_call(c, "POST", "/api/v1/tasks", ctl_with_options(c, body), "task restore",
	    ctl_show_task);
}

int
ctl_task_fs(const struct ctl *c, const char *verb, int argc, char **argv)
{
	bool scan = strcmp(verb, "scan") == 0, reset = strcmp(verb, "reset-password") == 0;

	if (strcmp(verb, "restore") == 0 && argc == 2)
		return task_restore(c, argv[1]);
	if (scan && c->group != NULL && argc == 1)
		return ctl_call(c, "POST", "/api/v1/tasks", ctl_with_options(c,
		    json_pack("{s:s,s:s}", "group", c->group, "type", "scan")), "task scan --group",
		    ctl_show_tasks);
	if ((scan || reset) && c->group == NULL && argc == 2)
		return ctl_call(c, "POST", "/api/v1/tasks", ctl_with_options(c,
		    json_pack("{s:s,s:s}", "host", argv[1], "type", verb)), verb, ctl_show_task);
	return -1;
}

int
ctl_host_set(const struct ctl *c, int argc, char **argv)
{
	const char *eq = argc == 3 ? strchr(argv[2], '=') : NULL;

	if (eq == NULL || (size_t)(eq - argv[2]) != strlen("hostname") ||
	    strncmp(argv[2], "hostname", 8) != 0) {
		fprintf(stderr, "pxectl: host set HOST hostname=NAME (hostname= : the host's name)\n");
		return 2;
	}
	return ctl_call(c, "PUT", ctl_path3("/api/v1/hosts/", argv[1], "/hostname"), json_pack("{s:s}", "hostname", eq + 1), "host set",
	    ctl_show_host);
}

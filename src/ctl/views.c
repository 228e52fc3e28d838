/* pxectl config | transfers | stats boots [HOURS]: the read-only views of
 * docs/API.md; the transfers table is also pxectl status's section. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"

/* settings ([{"name", "value", "source"}]) as a table; "-" for no value. */
static void
print_settings(json_t *settings, const char *indent)
{
	static const char *const heads[] = { "NAME", "VALUE", "SOURCE" };
	struct ctl_table t;
	size_t i;
	json_t *s;

	ctl_table_begin(&t, 3, heads);
	json_array_foreach(settings, i, s) {
		const char *v = ctl_str(s, "value");
		ctl_table_add(&t, (const char *[]){ ctl_str(s, "name"), v[0] != '\0' ? v : "-",
		    ctl_str(s, "source") });
	}
	ctl_table_print(&t, indent);
}

static void
show_config(json_t *cfg)
{
	json_t *file = json_object_get(cfg, "file"), *restart = json_object_get(cfg, "restart_needed");
	json_t *sn, *name;
	size_t i;

	if (json_is_string(file))
		printf("configuration file: %s\n\n", ctl_text(file, false));
	else
		printf("no configuration file: defaults and flags\n\n");
	print_settings(json_object_get(cfg, "settings"), "");
	json_array_foreach(json_object_get(cfg, "subnets"), i, sn) {
		printf("\n[subnet %s] (%s)\n", ctl_str(sn, "cidr"), ctl_str(sn, "mode"));
		print_settings(json_object_get(sn, "settings"), "  ");
	}
	if (json_array_size(restart) == 0)
		return;
	printf("\nchanged in the file, waiting for a restart (the running values are shown):");
	json_array_foreach(restart, i, name)
		printf(" %s", ctl_text(name, false));
	printf("\n");
}

int
ctl_config(const struct ctl *c)
{
	return ctl_call(c, "GET", "/api/v1/config", NULL, "config", show_config);
}

/* One transfer as a row: [SERVER] PROTO DIR PEER MAC FILE DONE SIZE RATE
 * TIME. */
static void
add_transfer(struct ctl_table *t, json_t *x, time_t now, bool servers)
{
	char done[32] = "?", size[32] = "?", rate[40], age[32];
	json_t *b = json_object_get(x, "bytes");
	const char *mac = ctl_str(x, "mac");

	if (json_is_integer(b))
		ctl_size(json_integer_value(b), done, sizeof done);
	if (ctl_num(x, "total") > 0)
		ctl_size(ctl_num(x, "total"), size, sizeof size);
	json_int_t started = ctl_num(x, "started");
	ctl_table_add(t, (const char *[]){ ctl_str(x, "server"), ctl_str(x, "proto"),
	    json_is_true(json_object_get(x, "upload")) ? "write" : "read", ctl_str(x, "peer"),
	    mac[0] != '\0' ? mac : "-", ctl_str(x, "file"), done, size,
	    ctl_rate(ctl_num(x, "rate"), rate, sizeof rate),
	    ctl_duration(started > 0 && now > started ? (now - started) * 1000 : 0, age,
	    sizeof age) } + !servers);
}

void
ctl_show_transfers(json_t *answer)
{
	static const char *const heads[] = { "SERVER", "PROTO", "DIR", "PEER", "MAC", "FILE",
		">DONE", ">SIZE", ">RATE", ">TIME" };
	json_t *list = json_object_get(answer, "transfers"), *x;
	json_int_t more = ctl_num(answer, "more");
	struct ctl_table t;
	time_t now = time(NULL);
	bool servers = false;   /* servers sharing one database: who runs each */
	size_t i;

	printf("\ntransfers in flight: %zu", json_array_size(list) + (size_t)more);
	if (more > 0)
		printf(" (%zu listed)", json_array_size(list));
	printf("\n");
	if (json_array_size(list) == 0)
		return;
	json_array_foreach(list, i, x)
		servers |= json_object_get(x, "server") != NULL;
	ctl_table_begin(&t, servers ? 10 : 9, heads + !servers);
	json_array_foreach(list, i, x)
		add_transfer(&t, x, now, servers);
	ctl_table_print(&t, "");
}

int
ctl_transfers(const struct ctl *c)
{
	return ctl_call(c, "GET", "/api/v1/transfers", NULL, "transfers", ctl_show_transfers);
}

static void
show_boots(json_t *answer)
{
	static const char *const heads[] = { "HOUR", ">BOOTS", ">FAILURES" };
	struct ctl_table t;
	json_t *h;
	size_t i;

	ctl_table_begin(&t, 3, heads);
	json_array_foreach(json_object_get(answer, "hours"), i, h) {
		char when[32], boots[24], failures[24];
		snprintf(boots, sizeof boots, "%lld", (long long)ctl_num(h, "boots"));
		snprintf(failures, sizeof failures, "%lld", (long long)ctl_num(h, "failures"));
		ctl_table_add(&t, (const char *[]){ ctl_when(ctl_num(h, "start"), when, sizeof when),
		    boots, failures });
	}
	ctl_table_print(&t, "");
	printf("(machines: each counts once an hour; see pxectl(8))\n");
}

int
ctl_stats(const struct ctl *c, int argc, char **argv)
{
	char path[64];
	char *end = NULL;
	long hours = argc == 2 ? strtol(argv[1], &end, 10) : 24;

	if (argc < 1 || argc > 2 || strcmp(argv[0], "boots") != 0 ||
	    (end != NULL && (*end != '\0' || hours < 1 || hours > 168))) {
		fprintf(stderr, "usage: pxectl stats boots [HOURS]   (1 to 168, default 24)\n");
		return 2;
	}
	snprintf(path, sizeof path, "/api/v1/stats/boots?hours=%ld", hours);
	return ctl_call(c, "GET", path, NULL, "stats boots", show_boots);
}

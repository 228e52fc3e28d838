/* pxectl config | transfers | stats boots [HOURS], and the transfers
 * section of pxectl status: the read-only views of docs/API.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "ctl/ctl.h"

#define STATUS_TRANSFERS 10             /* rows in pxectl status */

/* A value as printed: "-" for none. */
static const char *
value_text(json_t *setting)
{
	const char *v = ctl_str(setting, "value");

	return v[0] != '\0' ? v : "-";
}

/* settings ([{"name", "value", "source"}]) as an aligned table. */
static void
print_settings(json_t *settings, const char *indent)
{
	size_t name_w = strlen("NAME"), value_w = strlen("VALUE"), i;
	json_t *s;

	json_array_foreach(settings, i, s) {
		name_w = MAX(name_w, strlen(ctl_str(s, "name")));
		value_w = MAX(value_w, strlen(value_text(s)));
	}
	printf("%s%-*s  %-*s  %s\n", indent, (int)name_w, "NAME", (int)value_w, "VALUE", "SOURCE");
	json_array_foreach(settings, i, s)
		printf("%s%-*s  %-*s  %s\n", indent, (int)name_w, ctl_str(s, "name"),
		    (int)value_w, value_text(s), ctl_str(s, "source"));
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

/* One transfer as a row of the table. */
static void
print_transfer(json_t *t, time_t now)
{
	char bytes[32] = "?", total[32] = "?", rate[40], age[32];
	json_t *b = json_object_get(t, "bytes");

	if (json_is_integer(b))
		ctl_size(json_integer_value(b), bytes, sizeof bytes);
	if (ctl_num(t, "total") > 0)
		ctl_size(ctl_num(t, "total"), total, sizeof total);
	ctl_size(ctl_num(t, "rate"), rate, sizeof rate);
	strncat(rate, "/s", sizeof rate - strlen(rate) - 1);
	snprintf(age, sizeof age, "%lld s", (long long)MAX((json_int_t)0,
	    (json_int_t)now - ctl_num(t, "started")));
	printf("%-5s %-22s %-17s %10s %10s %12s %7s  %s%s\n", ctl_str(t, "proto"),
	    ctl_str(t, "peer"), ctl_str(t, "mac")[0] ? ctl_str(t, "mac") : "-", bytes, total, rate,
	    age, ctl_str(t, "file"),
	    json_is_true(json_object_get(t, "upload")) ? " (upload)" : "");
}

/* The table of transfers, at most max rows; "more" counts the rest. */
static void
print_transfers(json_t *answer, size_t max)
{
	json_t *list = json_object_get(answer, "transfers"), *t;
	json_int_t more = ctl_num(answer, "more");
	time_t now = time(NULL);
	size_t i;

	if (json_array_size(list) == 0) {
		printf("no transfers in flight\n");
		return;
	}
	printf("%-5s %-22s %-17s %10s %10s %12s %7s  %s\n", "PROTO", "PEER", "MAC", "BYTES",
	    "TOTAL", "RATE", "AGE", "FILE");
	json_array_foreach(list, i, t) {
		if (i == max)
			break;
		print_transfer(t, now);
	}
	more += (json_int_t)(json_array_size(list) - MIN(json_array_size(list), max));
	if (more > 0)
		printf("(%lld more not shown)\n", (long long)more);
}

static void
show_transfers(json_t *answer)
{
	print_transfers(answer, SIZE_MAX);
}

int
ctl_transfers(const struct ctl *c)
{
	return ctl_call(c, "GET", "/api/v1/transfers", NULL, "transfers", show_transfers);
}

void
ctl_status_transfers(const struct ctl *c)
{
	json_t *answer = NULL;

	if (ctl_request(c, "GET", "/api/v1/transfers", NULL, &answer) == 200) {
		printf("transfers in flight:\n");
		print_transfers(answer, STATUS_TRANSFERS);
	}
	json_decref(answer);
}

static void
show_boots(json_t *answer)
{
	json_t *h;
	size_t i;
	char when[32];

	printf("%-19s %6s %9s\n", "HOUR", "BOOTS", "FAILURES");
	json_array_foreach(json_object_get(answer, "hours"), i, h) {
		ctl_when(ctl_num(h, "start"), when, sizeof when);
		printf("%-19s %6lld %9lld\n", when, (long long)ctl_num(h, "boots"),
		    (long long)ctl_num(h, "failures"));
	}
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

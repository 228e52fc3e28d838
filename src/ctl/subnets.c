/* pxectl subnet list | show CIDR | enable CIDR [--proxy] | disable CIDR,
 * and pxectl reload (docs/API.md: subnets). */
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"

static void
show_subnets(json_t *root)
{
	json_t *list = json_object_get(root, "subnets"), *found = json_object_get(root, "discovered");
	json_t *s;
	size_t i;
	char seen[32];

	printf("%-20s %-6s %-7s %-24s %8s %6s %7s\n", "SUBNET", "MODE", "SOURCE", "REACHED BY",
	    "CLIENTS", "BOOTS", "LEASES");
	json_array_foreach(list, i, s)
		printf("%-20s %-6s %-7s %-24s %8lld %6lld %7lld\n", ctl_str(s, "cidr"),
		    ctl_str(s, "mode"), ctl_str(s, "source"),
		    ctl_str(s, "reach")[0] ? ctl_str(s, "reach") : "(not seen)",
		    (long long)ctl_num(s, "clients_last_hour"), (long long)ctl_num(s, "boots_last_hour"),
		    (long long)ctl_num(s, "leases"));
	if (json_array_size(found) == 0)
		return;
	printf("\ndiscovered subnets (relayed requests from subnets not configured here):\n");
	printf("%-16s %9s %-19s\n", "RELAY", "REQUESTS", "LAST SEEN");
	json_array_foreach(found, i, s) {
		ctl_when(ctl_num(s, "last_seen"), seen, sizeof seen);
		printf("%-16s %9lld %-19s\n", ctl_str(s, "relay"), (long long)ctl_num(s, "requests"),
		    seen);
	}
	printf("(clients and boots: the last hour)\n");
}

static void
show_subnet(json_t *s)
{
	json_t *settings = json_object_get(s, "settings"), *v;
	size_t i;
	char changed[32];

	printf("subnet      %s\nmode        %s (from %s)\nreached by  %s\n", ctl_str(s, "cidr"),
	    ctl_str(s, "mode"), ctl_str(s, "source"),
	    ctl_str(s, "reach")[0] ? ctl_str(s, "reach") : "(not seen yet)");
	printf("last hour   %lld client(s), %lld boot(s); %lld lease(s) now\n",
	    (long long)ctl_num(s, "clients_last_hour"), (long long)ctl_num(s, "boots_last_hour"),
	    (long long)ctl_num(s, "leases"));
	if (ctl_num(s, "changed") > 0) {
		ctl_when(ctl_num(s, "changed") / 1000, changed, sizeof changed);
		printf("changed     %s with pxectl (kept in the state store)\n", changed);
	}
	printf("\n%-12s %-30s %s\n", "SETTING", "VALUE", "FROM");
	json_array_foreach(settings, i, v)
		printf("%-12s %-30s %s\n", ctl_str(v, "name"),
		    ctl_str(v, "value")[0] ? ctl_str(v, "value") : "-", ctl_str(v, "source"));
	if (ctl_str(s, "warning")[0] != '\0')
		printf("\nwarning: %s\n", ctl_str(s, "warning"));
}

static void
show_reload(json_t *r)
{
	printf("%s\n", ctl_str(r, "message"));
}

int
ctl_reload(const struct ctl *c)
{
	return ctl_call(c, "POST", "/api/v1/reload", json_object(), "reload", show_reload);
}

int
ctl_subnet(const struct ctl *c, int argc, char **argv)
{
	char path[160];

	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return ctl_call(c, "GET", "/api/v1/subnets", NULL, "subnet list", show_subnets);
	if (argc != 2 || strlen(argv[1]) > 64) {
		fprintf(stderr, "usage: pxectl subnet list | show CIDR | enable CIDR [--proxy] "
		    "| disable CIDR\n");
		return 2;
	}
	if (strcmp(argv[0], "show") == 0) {
		snprintf(path, sizeof path, "/api/v1/subnets/%s", argv[1]);
		return ctl_call(c, "GET", path, NULL, "subnet show", show_subnet);
	}
	if (strcmp(argv[0], "enable") == 0 || strcmp(argv[0], "disable") == 0) {
		snprintf(path, sizeof path, "/api/v1/subnets/%s/%s", argv[1], argv[0]);
		json_t *body = json_pack("{s:b}", "proxy", c->proxy);
		return ctl_call(c, "POST", path, body, argv[0], show_subnet);
	}
	fprintf(stderr, "pxectl subnet: unknown command %s\n", argv[0]);
	return 2;
}

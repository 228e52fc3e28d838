/* pxectl subnet list | show CIDR | enable CIDR [--proxy] | disable CIDR,
 * and pxectl reload (docs/API.md: subnets). */
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"

/* The subnets served, each with its mode, where it is reached from and
 * its last hour; then the subnets relays asked for that are not served. */
void
ctl_show_subnets(json_t *root)
{
	static const char *const heads[] = { "SUBNET", "MODE", "SOURCE", "REACHED BY",
		">CLIENTS", ">BOOTS", ">LEASES" };
	static const char *const heads_found[] = { "RELAY", ">REQUESTS", "LAST SEEN" };
	json_t *found = json_object_get(root, "discovered"), *s;
	struct ctl_table t;
	size_t i;

	ctl_table_begin(&t, 7, heads);
	json_array_foreach(json_object_get(root, "subnets"), i, s) {
		char clients[24], boots[24], leases[24];
		snprintf(clients, sizeof clients, "%lld", (long long)ctl_num(s, "clients_last_hour"));
		snprintf(boots, sizeof boots, "%lld", (long long)ctl_num(s, "boots_last_hour"));
		snprintf(leases, sizeof leases, "%lld", (long long)ctl_num(s, "leases"));
		const char *reach = ctl_str(s, "reach");
		ctl_table_add(&t, (const char *[]){ ctl_str(s, "cidr"), ctl_str(s, "mode"),
		    ctl_str(s, "source"), reach[0] != '\0' ? reach : "(not seen)", clients, boots,
		    leases });
	}
	ctl_table_print(&t, "");
	if (json_array_size(found) == 0)
		return;
	printf("\ndiscovered subnets (relayed requests from subnets not configured here):\n");
	ctl_table_begin(&t, 3, heads_found);
	json_array_foreach(found, i, s) {
		char requests[24], seen[32];
		snprintf(requests, sizeof requests, "%lld", (long long)ctl_num(s, "requests"));
		ctl_table_add(&t, (const char *[]){ ctl_str(s, "relay"), requests,
		    ctl_when(ctl_num(s, "last_seen"), seen, sizeof seen) });
	}
	ctl_table_print(&t, "");
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
		return ctl_call(c, "GET", "/api/v1/subnets", NULL, "subnet list", ctl_show_subnets);
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

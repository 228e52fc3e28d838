/* Runtime subnets, pools and hosts, built from the configuration. */
#include "dhcp/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "store/store.h"
#include "tftp/mtftp_files.h"

static int
parse_addr(const char *text, size_t len, uint32_t *out)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr a;

	if (len == 0 || len >= sizeof buf)
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

/* "FIRST LAST", "FIRST,LAST" or "FIRST-LAST" (or one address). */
static int
parse_pair(const char *text, uint32_t *first, uint32_t *last)
{
	size_t a = strcspn(text, " \t,-");
	const char *rest = text + a;

	while (*rest == ' ' || *rest == '\t' || *rest == ',' || *rest == '-')
		rest++;
	if (parse_addr(text, a, first) != 0)
		return -EINVAL;
	if (*rest == '\0') {
		*last = *first;
		return 0;
	}
	if (parse_addr(rest, strcspn(rest, " \t,"), last) != 0 || *last < *first)
		return -EINVAL;
	return 0;
}

/* The netmask of a local interface address inside the same network as
 * addr, from getifaddrs; 0 when none. */
static uint32_t
local_netmask_for(uint32_t addr)
{
	struct ifaddrs *list, *ifa;
	uint32_t mask = 0;

	if (getifaddrs(&list) != 0)
		return 0;
	for (ifa = list; ifa != NULL && mask == 0; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || ifa->ifa_netmask == NULL ||
		    ifa->ifa_addr->sa_family != AF_INET)
			continue;
		uint32_t a = ntohl(((struct sockaddr_in *)(void *)ifa->ifa_addr)->sin_addr.s_addr);
		uint32_t m = ntohl(((struct sockaddr_in *)(void *)ifa->ifa_netmask)->sin_addr.s_addr);
		if ((a & m) == (addr & m))
			mask = m;
	}
	freeifaddrs(list);
	return mask;
}

static int
subnet_pool(struct dhcp_subnet *sn, char *err, size_t err_size)
{
	uint32_t net = ntohl(sn->network.s_addr), mask = ntohl(sn->netmask.s_addr);
	uint32_t bcast = net | ~mask;

	if (mask == 0xffffffffu || bcast - net < 2) {
		snprintf(err, err_size, "subnet %s: too small", sn->name);
		return -EINVAL;
	}
	int rc = pool_init(&sn->pool, net + 1, bcast - 1);
	if (rc != 0)
		snprintf(err, err_size, "subnet %s: %s", sn->name,
		    rc == -ERANGE ? "larger than a /16 (65536 addresses)" : "out of memory");
	return rc;
}

static int
subnet_range(struct dhcp_subnet *sn, const char *spec, bool exclude, char *err, size_t err_size)
{
	uint32_t first, last, net = ntohl(sn->network.s_addr), mask = ntohl(sn->netmask.s_addr);

	if (parse_pair(spec, &first, &last) != 0) {
		snprintf(err, err_size, "subnet %s: '%s' is not an address range", sn->name, spec);
		return -EINVAL;
	}
	if ((first & mask) != net || (last & mask) != net) {
		snprintf(err, err_size, "subnet %s: %s is outside the subnet", sn->name, spec);
		return -EINVAL;
	}
	if (exclude) {
		pool_exclude(&sn->pool, first, last);
	} else {
		pool_add_range(&sn->pool, first, last);
		sn->has_pool = true;
	}
	return 0;
}

static void
subnet_defaults(struct dhcp_subnet *sn, const struct config *cfg)
{
	sn->lease_time = cfg->dhcp_lease_time;
	sn->router = cfg->dhcp_router;
	for (size_t i = 0; i < cfg->dhcp_dns.count && sn->dns_count < 4; i++)
		if (inet_pton(AF_INET, cfg->dhcp_dns.item[i], &sn->dns[sn->dns_count]) == 1)
			sn->dns_count++;
	str_copy(sn->domain, cfg->dhcp_domain, sizeof sn->domain);
	sn->pxe = true;
}

static int
rules_add_all(struct boot_rules *r, const char (*items)[CONFIG_ITEM_MAX], size_t n,
    const char *where, char *err, size_t err_size)
{
	char msg[256];

	for (size_t i = 0; i < n; i++) {
		if (boot_rules_add(r, items[i], msg, sizeof msg) != 0) {
			snprintf(err, err_size, "%s: boot %s: %s", where, items[i], msg);
			return -EINVAL;
		}
	}
	return 0;
}

/* One [subnet] section. */
static int
subnet_from_section(struct dhcp_server *srv, const struct config_subnet *c, char *err,
    size_t err_size)
{
	struct dhcp_subnet *sn = &srv->subnet[srv->subnet_count];
	const struct config *cfg = &srv->cfg;

	memset(sn, 0, sizeof *sn);
	subnet_defaults(sn, cfg);
	str_copy(sn->name, c->name, sizeof sn->name);
	sn->network = c->network;
	sn->netmask = c->netmask;
	sn->next_server = c->next_server;
	if (c->lease_time != 0)
		sn->lease_time = c->lease_time;
	if (c->router.s_addr != 0)
		sn->router = c->router;
	if (c->dns.count > 0)
		sn->dns_count = 0;
	for (size_t i = 0; i < c->dns.count && sn->dns_count < 4; i++)
		if (inet_pton(AF_INET, c->dns.item[i], &sn->dns[sn->dns_count]) == 1)
			sn->dns_count++;
	if (c->domain[0] != '\0')
		str_copy(sn->domain, c->domain, sizeof sn->domain);
	sn->pxe = c->pxe;
	if (subnet_pool(sn, err, err_size) != 0)
		return -EINVAL;
	srv->subnet_count++;            /* from here on dhcp_subnets_free frees it */
	for (size_t i = 0; i < c->range.count; i++)
		if (subnet_range(sn, c->range.item[i], false, err, err_size) != 0)
			return -EINVAL;
	for (size_t i = 0; i < c->exclude.count; i++)
		if (subnet_range(sn, c->exclude.item[i], true, err, err_size) != 0)
			return -EINVAL;
	sn->proxy = c->proxy || (cfg->proxy && !sn->has_pool);
	sn->boot.mtftp = (c->mtftp || cfg->mtftp) && cfg->mtftp_port != 0 ? srv->mtftp : NULL;
	sn->off = c->off;
	sn->from_store = c->changed_by[0] != '\0';
	return rules_add_all(&sn->boot, c->boot.item, c->boot.count, sn->name, err, err_size);
}

/* --dhcp-range FIRST,LAST[,NETMASK][,LEASETIME] */
static int
subnet_from_range_flag(struct dhcp_server *srv, const char *spec, char *err, size_t err_size)
{
	char buf[CONFIG_ITEM_MAX], *field[4] = { NULL };
	size_t n = 0;
	uint32_t first, last, mask = 0;
	struct in_addr m;

	str_copy(buf, spec, sizeof buf);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t != NULL && n < 4;
	    t = strtok_r(NULL, ",", &save))
		field[n++] = t;
	if (n < 2 || parse_addr(field[0], strlen(field[0]), &first) != 0 ||
	    parse_addr(field[1], strlen(field[1]), &last) != 0 || last < first) {
		snprintf(err, err_size, "dhcp-range %s: expected FIRST,LAST[,NETMASK][,LEASETIME]", spec);
		return -EINVAL;
	}
	struct config_subnet c;
	memset(&c, 0, sizeof c);
	c.pxe = true;
	for (size_t i = 2; i < n; i++) {
		if (inet_pton(AF_INET, field[i], &m) == 1)
			mask = ntohl(m.s_addr);
		else if (config_parse_duration(field[i], &c.lease_time) != 0) {
			snprintf(err, err_size, "dhcp-range %s: '%s' is neither a netmask nor a "
			    "lease time", spec, field[i]);
			return -EINVAL;
		}
	}
	if (mask == 0 && (mask = local_netmask_for(first)) == 0) {
		snprintf(err, err_size, "dhcp-range %s: no local interface is on that subnet; "
		    "add the netmask (FIRST,LAST,NETMASK)", spec);
		return -EINVAL;
	}
	c.network.s_addr = htonl(first & mask);
	c.netmask.s_addr = htonl(mask);
	struct in_addr fa = { htonl(first & mask) };
	char net[INET_ADDRSTRLEN];
	snprintf(c.name, sizeof c.name, "%s/%d", inet_ntop(AF_INET, &fa, net, sizeof net),
	    __builtin_popcount(mask));
	snprintf(c.range.item[0], CONFIG_ITEM_MAX, "%s %s", field[0], field[1]);
	c.range.count = 1;
	return subnet_from_section(srv, &c, err, err_size);
}

/* [host] sections and --dhcp-host MAC,ADDR[,NAME] */
static int
hosts_build(struct dhcp_server *srv, char *err, size_t err_size)
{
	const struct config *cfg = &srv->cfg;

	for (size_t i = 0; i < cfg->host_count; i++) {
		const struct config_host *c = &cfg->host[i];
		struct dhcp_host *h = &srv->host[srv->host_count++];
		memcpy(h->mac, c->mac, 6);
		h->has_mac = true;
		h->address = c->address;
		if (c->client_id[0] != '\0') {
			int n = dhcp_hex_parse(c->client_id, h->client_id, sizeof h->client_id);
			if (n < 0) {
				snprintf(err, err_size, "[host %s]: client-id %s: expected hex bytes",
				    c->name, c->client_id);
				return -EINVAL;
			}
			h->client_id_len = (uint8_t)n;
		}
		str_copy(h->hostname, c->hostname, sizeof h->hostname);
		if (rules_add_all(&h->boot, c->boot.item, c->boot.count, c->name, err, err_size))
			return -EINVAL;
	}
	for (size_t i = 0; i < cfg->dhcp_host.count && srv->host_count < CONFIG_HOSTS_MAX; i++) {
		char buf[CONFIG_ITEM_MAX], *save = NULL;
		str_copy(buf, cfg->dhcp_host.item[i], sizeof buf);
		char *mac = strtok_r(buf, ",", &save), *addr = strtok_r(NULL, ",", &save);
		char *name = strtok_r(NULL, ",", &save);
		struct dhcp_host *h = &srv->host[srv->host_count];
		memset(h, 0, sizeof *h);
		int id_len = mac != NULL && strncmp(mac, "id:", 3) == 0 ?
		    dhcp_hex_parse(mac + 3, h->client_id, sizeof h->client_id) : 0;
		h->has_mac = id_len == 0 && mac != NULL && config_parse_mac(mac, h->mac) == 0;
		if ((!h->has_mac && id_len <= 0) || addr == NULL ||
		    inet_pton(AF_INET, addr, &h->address) != 1) {
			snprintf(err, err_size, "dhcp-host %s: expected MAC,ADDRESS[,NAME] or "
			    "id:CLIENTID,ADDRESS[,NAME]", cfg->dhcp_host.item[i]);
			return -EINVAL;
		}
		h->client_id_len = (uint8_t)(id_len > 0 ? id_len : 0);
		if (name != NULL)
			str_copy(h->hostname, name, sizeof h->hostname);
		srv->host_count++;
	}
	return 0;
}

/* Reserved addresses are never handed to anyone else. */
static void
reservations_apply(struct dhcp_server *srv)
{
	for (size_t i = 0; i < srv->host_count; i++) {
		struct in_addr a = srv->host[i].address;
		struct dhcp_subnet *sn = a.s_addr ? dhcp_subnet_for(srv, a) : NULL;
		if (sn != NULL)
			pool_exclude(&sn->pool, ntohl(a.s_addr), ntohl(a.s_addr));
	}
}

int
dhcp_subnets_build(struct dhcp_server *srv, char *err, size_t err_size)
{
	const struct config *cfg = &srv->cfg;
	char msg[256];

	/* The PXE MTFTP files (mtftp-file), for option 43.1-5: boot rules of
	 * scopes with MTFTP on point here. */
	srv->mtftp = calloc(1, sizeof *srv->mtftp);
	if (srv->mtftp == NULL) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	if (mtftp_files_build(cfg, srv->mtftp, err, err_size) != 0)
		return -EINVAL;
	srv->boot.mtftp = cfg->mtftp && cfg->mtftp_port != 0 ? srv->mtftp : NULL;
	srv->boot.http_port = cfg->http_port;
	for (size_t i = 0; i < cfg->boot.count; i++) {
		if (boot_rules_add(&srv->boot, cfg->boot.item[i], msg, sizeof msg) != 0) {
			snprintf(err, err_size, "boot %s: %s", cfg->boot.item[i], msg);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < cfg->subnet_count; i++)
		if (subnet_from_section(srv, &cfg->subnet[i], err, err_size) != 0)
			return -EINVAL;
	for (size_t i = 0; i < cfg->dhcp_range.count; i++) {
		if (srv->subnet_count >= CONFIG_SUBNETS_MAX) {
			snprintf(err, err_size, "more than %d subnets", CONFIG_SUBNETS_MAX);
			return -EINVAL;
		}
		if (subnet_from_range_flag(srv, cfg->dhcp_range.item[i], err, err_size) != 0)
			return -EINVAL;
	}
	if (hosts_build(srv, err, err_size) != 0)
		return -EINVAL;
	for (size_t i = 0; i < cfg->dhcp_rogue_allow.count; i++) {
		struct in_addr a;
		if (inet_pton(AF_INET, cfg->dhcp_rogue_allow.item[i], &a) != 1) {
			snprintf(err, err_size, "dhcp-rogue-allow: '%s' is not an IPv4 address",
			    cfg->dhcp_rogue_allow.item[i]);
			return -EINVAL;
		}
	}
	reservations_apply(srv);
	for (size_t i = 0; i < cfg->relay_count; i++) {
		const struct config_relay *c = &cfg->relay[i];
		struct dhcp_relay_rules *r = &srv->relay[srv->relay_count++];
		if (strcmp(c->match, "circuit-id") != 0 && strcmp(c->match, "remote-id") != 0) {
			snprintf(err, err_size, "[relay %s]: match must be circuit-id or remote-id",
			    c->name);
			return -EINVAL;
		}
		str_copy(r->id, c->name, sizeof r->id);
		r->boot.mtftp = srv->boot.mtftp;
		r->remote_id = strcmp(c->match, "remote-id") == 0;
		if (rules_add_all(&r->boot, c->boot.item, c->boot.count, c->name, err, err_size))
			return -EINVAL;
	}
	return pxe_menu_build(&srv->menu, cfg, err, err_size);
}

void
dhcp_subnets_free(struct dhcp_server *srv)
{
	for (size_t i = 0; i < srv->subnet_count; i++)
		pool_free(&srv->subnet[i].pool);
	srv->subnet_count = 0;
	free(srv->mtftp);
	srv->mtftp = NULL;
}

struct dhcp_subnet *
dhcp_subnet_for(struct dhcp_server *srv, struct in_addr addr)
{
	struct dhcp_subnet *best = NULL;

	for (size_t i = 0; i < srv->subnet_count; i++) {
		struct dhcp_subnet *sn = &srv->subnet[i];
		if ((addr.s_addr & sn->netmask.s_addr) == sn->network.s_addr &&
		    (best == NULL || ntohl(sn->netmask.s_addr) > ntohl(best->netmask.s_addr)))
			best = sn;
	}
	return best;
}

const struct dhcp_host *
dhcp_host_for_mac(const struct dhcp_server *srv, const uint8_t *mac, size_t mac_len)
{
	if (mac_len != 6)
		return NULL;
	for (size_t i = 0; i < srv->host_count; i++)
		if (srv->host[i].has_mac && memcmp(srv->host[i].mac, mac, 6) == 0)
			return &srv->host[i];
	return NULL;
}

const struct dhcp_host *
dhcp_host_for(const struct dhcp_server *srv, const struct dhcp_message *m)
{
	size_t id_len;
	const uint8_t *id = dhcp_option(m, DHCP_OPT_CLIENT_ID, &id_len);

	for (size_t i = 0; id != NULL && i < srv->host_count; i++) {
		const struct dhcp_host *h = &srv->host[i];
		if (h->client_id_len > 0 && h->client_id_len == id_len &&
		    memcmp(h->client_id, id, id_len) == 0)
			return h;
	}
	return dhcp_host_for_mac(srv, m->chaddr, m->hlen);
}

const struct dhcp_relay_rules *
dhcp_relay_for(const struct dhcp_server *srv, const struct dhcp_message *m)
{
	struct dhcp_relay_info info;
	size_t len;
	const uint8_t *o82 = dhcp_option(m, DHCP_OPT_RELAY_AGENT, &len);

	if (o82 == NULL || m->giaddr.s_addr == 0 || dhcp_relay_parse(o82, len, &info) != 0)
		return NULL;
	for (size_t i = 0; i < srv->relay_count; i++) {
		const struct dhcp_relay_rules *r = &srv->relay[i];
		const uint8_t *id = r->remote_id ? info.remote_id : info.circuit_id;
		size_t id_len = r->remote_id ? info.remote_id_len : info.circuit_id_len;
		if (id != NULL && id_len == strlen(r->id) && memcmp(id, r->id, id_len) == 0)
			return r;
	}
	return NULL;
}

int
dhcp_hex_parse(const char *text, uint8_t *out, size_t size)
{
	size_t n = 0;

	while (*text != '\0') {
		if (*text == ':' || *text == '-') {
			text++;
			continue;
		}
		int hi = hex_digit(text[0]), lo = hi < 0 ? -1 : hex_digit(text[1]);
		if (n >= size || lo < 0)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | lo);
		text += 2;
	}
	return n > 0 ? (int)n : -EINVAL;
}

static void
lease_loaded(const struct store_lease *l, void *arg)
{
	struct dhcp_server *srv = arg;
	struct dhcp_subnet *sn = dhcp_subnet_for(srv, l->address);
	int64_t now = (int64_t)time(NULL);
	const uint8_t *key = l->client_id_len ? l->client_id : l->mac;
	size_t key_len = l->client_id_len ? l->client_id_len : l->mac_len;

	if (sn == NULL || l->state != LEASE_BOUND || l->expires <= now)
		return;
	bool reserved = dhcp_host_for_mac(srv, l->mac, l->mac_len) != NULL;
	for (size_t i = 0; i < srv->host_count && !reserved; i++)
		reserved = srv->host[i].client_id_len > 0 &&
		    srv->host[i].client_id_len == l->client_id_len &&
		    memcmp(srv->host[i].client_id, l->client_id, l->client_id_len) == 0;
	if (pool_bind(&sn->pool, ntohl(l->address.s_addr), key, key_len, l->mac, l->mac_len,
	    reserved, now, l->expires) != 0) {
		char a[INET_ADDRSTRLEN];
		log_warn("dhcp: stored lease for %s does not fit the configuration: skipped",
		    inet_ntop(AF_INET, &l->address, a, sizeof a));
		return;
	}
	pool_slot(&sn->pool, ntohl(l->address.s_addr))->stored_expires = l->expires;
}

void
dhcp_leases_load(struct dhcp_server *srv)
{
	if (srv->store != NULL && store_lease_foreach(srv->store, lease_loaded, srv) != 0)
		log_error("dhcp: cannot read the stored leases");
}

void
dhcp_leases_put(struct dhcp_server *srv, const struct dhcp_stored *stored)
{
	for (size_t i = 0; stored != NULL && i < stored->count; i++)
		lease_loaded(&stored->lease[i], srv);
}

struct stored_read {
	struct dhcp_stored *s;
	int rc;                         /* the first error */
};

/* A bound, unexpired lease into the list (doubling, bounded). */
static void
lease_collect(const struct store_lease *l, void *arg)
{
	struct stored_read *r = arg;
	struct dhcp_stored *s = r->s;

	if (r->rc != 0 || l->state != LEASE_BOUND || l->expires <= (int64_t)time(NULL))
		return;
	if (s->count == s->size) {
		size_t size = s->size == 0 ? 256 : s->size * 2;
		struct store_lease *more = size > DHCP_STORED_MAX ? NULL :
		    realloc(s->lease, size * sizeof *more);
		if (more == NULL) {
			r->rc = size > DHCP_STORED_MAX ? -E2BIG : -ENOMEM;
			return;
		}
		s->lease = more;
		s->size = size;
	}
	s->lease[s->count++] = *l;
}

int
dhcp_stored_read(struct store *st, struct dhcp_stored *out)
{
	struct stored_read r = { out, 0 };

	memset(out, 0, sizeof *out);
	if (store_lease_foreach(st, lease_collect, &r) != 0)
		return -EIO;
	return r.rc;
}

void
dhcp_stored_free(struct dhcp_stored *s)
{
	free(s->lease);
	memset(s, 0, sizeof *s);
}

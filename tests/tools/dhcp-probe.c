/* dhcp-probe: build DHCP client messages with the codec, send them and
 * print the decoded replies.  A test tool for pxed's integration tests.
 *
 *   dhcp-probe --to IP:PORT [--bind IP:PORT] [--iface IF] [--wait-ms T]
 *              [--expect-replies N] [--count N] [--macs K] [--quiet] [--any-xid]
 *   message:   --type discover|request|decline|release|inform|none
 *              --mac MAC --xid HEX --flags HEX --broadcast --hops N
 *              --ciaddr IP --yiaddr IP --giaddr IP --file NAME
 *   options:   --vendor STR (60) --arch N (93) --ndi (94 = 1,3,0) --uuid HEX (97)
 *              --client-id HEX (61) --requested IP (50) --server-id IP (54)
 *              --max-size N (57) --prl N,N,... (55) --boot-item TYPE,LAYER
 *              (43 = {71}) --opt CODE=HEX --opt-str CODE=TEXT (repeatable, in order)
 *   damage:    --raw HEX (bytes appended verbatim after the options)
 *              --random-tail N (N random bytes appended, new ones per message)
 *              --no-end (no end option, no padding) --poke OFF=HEX
 *              (overwrite bytes after building) --cut N (send the first N bytes)
 *
 * Message i of --count N has xid + i; with --macs K its MAC's last three
 * bytes are advanced by i mod K.  Each reply (a BOOTREPLY whose xid is one
 * of ours, or any datagram with --any-xid) prints as one line:
 *   reply from=IP:PORT to=DST len=N type=T xid=X flags=F ciaddr= yiaddr= siaddr=
 *   giaddr= sname= file= order=C,C,... oC=HEX ...
 * (order: option codes in wire order; oC: values, RFC 3396 instances
 * concatenated), or "junk from=... to=... len=N why" when it does not parse.
 * Then "sent N replies M", and last "bytes sent S received R" (DHCP
 * message bytes of what was sent and of the replies counted).  With --expect-replies N the tool
 * exits 0 as soon as N replies arrived (N = 0: when none arrived in the
 * whole wait), else 1.  Exit 2: usage or system error. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "dhcp/codec.h"

#define PROBE_OPT_MAX 32
#define PROBE_VALUE_MAX 1024
#define PROBE_POKE_MAX 8

struct opt {
	uint8_t code;
	uint8_t data[PROBE_VALUE_MAX];
	size_t len;
};

struct poke {
	size_t off;
	uint8_t data[64];
	size_t len;
};

struct probe {
	struct sockaddr_in to, bind_addr;
	const char *iface;
	enum dhcp_type type;
	uint8_t mac[6];
	uint32_t xid;
	uint16_t flags;
	bool has_flags;
	uint8_t hops;
	struct in_addr ciaddr, yiaddr, giaddr;
	const char *file;
	struct opt opt[PROBE_OPT_MAX];
	size_t opt_count;
	struct opt raw;
	bool no_end;
	struct poke poke[PROBE_POKE_MAX];
	size_t poke_count;
	long cut;
	unsigned long count, macs, random_tail;
	long wait_ms, expect;
	bool quiet, any_xid;
	int fd;
	unsigned long sent, replies;
	uint64_t sent_bytes, reply_bytes;       /* of the messages sent and replies counted */
};

static void
usage(void)
{
	fprintf(stderr, "usage: dhcp-probe --to IP:PORT [--bind IP:PORT] [--iface IF] "
	    "[--wait-ms T] [--expect-replies N] [--count N] [--macs K] [--quiet] [--any-xid]\n"
	    "  [--type T] [--mac MAC] [--xid HEX] [--flags HEX] [--broadcast] [--hops N]\n"
	    "  [--ciaddr IP] [--yiaddr IP] [--giaddr IP] [--file NAME]\n"
	    "  [--vendor STR] [--arch N] [--ndi] [--uuid HEX] [--client-id HEX]\n"
	    "  [--requested IP] [--server-id IP] [--max-size N] [--prl LIST]\n"
	    "  [--boot-item TYPE,LAYER] [--opt CODE=HEX]... [--opt-str CODE=TEXT]...\n"
	    "  [--raw HEX] [--random-tail N] [--no-end] [--poke OFF=HEX]... [--cut N]\n");
}

/* ---- argument parsing ---- */

static int
number(const char *s, size_t len, unsigned long max, unsigned long *out)
{
	uint64_t v;

	if (parse_u64(s, len, 0, max, &v) != 0) {
		fprintf(stderr, "dhcp-probe: '%.*s' is not a number up to %lu\n", (int)len, s, max);
		return -EINVAL;
	}
	*out = (unsigned long)v;
	return 0;
}

/* Hex digits (':' allowed between bytes) into out; returns the length or -1. */
static long
hex_bytes(const char *text, uint8_t *out, size_t size)
{
	size_t n = 0;

	while (*text != '\0') {
		if (*text == ':') {
			text++;
			continue;
		}
		int hi = hex_digit(text[0]), lo = hi < 0 ? -1 : hex_digit(text[1]);
		if (hi < 0 || lo < 0 || n >= size) {
			fprintf(stderr, "dhcp-probe: bad hex '%s'\n", text);
			return -1;
		}
		out[n++] = (uint8_t)(hi << 4 | lo);
		text += 2;
	}
	return (long)n;
}

static int
parse_ip(const char *text, struct in_addr *a)
{
	if (inet_pton(AF_INET, text, a) != 1) {
		fprintf(stderr, "dhcp-probe: bad address '%s'\n", text);
		return -EINVAL;
	}
	return 0;
}

static int
parse_endpoint(const char *text, struct sockaddr_in *sin)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	unsigned long port;

	if (colon == NULL || (size_t)(colon - text) >= sizeof host) {
		fprintf(stderr, "dhcp-probe: '%s' is not IP:PORT\n", text);
		return -EINVAL;
	}
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	if (parse_ip(host, &sin->sin_addr) != 0 ||
	    number(colon + 1, strlen(colon + 1), 65535, &port) != 0)
		return -EINVAL;
	sin->sin_port = htons((uint16_t)port);
	return 0;
}

static struct opt *
opt_new(struct probe *p, unsigned long code)
{
	if (p->opt_count >= PROBE_OPT_MAX || code == 0 || code > 254) {
		fprintf(stderr, "dhcp-probe: too many options or bad code %lu\n", code);
		return NULL;
	}
	struct opt *o = &p->opt[p->opt_count++];
	o->code = (uint8_t)code;
	o->len = 0;
	return o;
}

static int
opt_bytes(struct probe *p, unsigned long code, const void *data, size_t len)
{
	struct opt *o = opt_new(p, code);

	if (o == NULL || len > sizeof o->data)
		return -EINVAL;
	memcpy(o->data, data, len);
	o->len = len;
	return 0;
}

static int
opt_hex(struct probe *p, unsigned long code, const char *hex)
{
	struct opt *o = opt_new(p, code);
	long n = o != NULL ? hex_bytes(hex, o->data, sizeof o->data) : -1;

	if (n < 0)
		return -EINVAL;
	o->len = (size_t)n;
	return 0;
}

/* "CODE=VALUE": the code, and where the value starts. */
static int
code_and_value(const char *text, unsigned long *code, const char **value)
{
	const char *eq = strchr(text, '=');

	if (eq == NULL) {
		fprintf(stderr, "dhcp-probe: '%s' is not CODE=VALUE\n", text);
		return -EINVAL;
	}
	*value = eq + 1;
	return number(text, (size_t)(eq - text), 255, code);
}

static int
opt_prl(struct probe *p, const char *list)
{
	uint8_t codes[255];
	size_t n = 0;

	while (*list != '\0' && n < sizeof codes) {
		size_t len = strcspn(list, ",");
		unsigned long c;
		if (number(list, len, 255, &c) != 0)
			return -EINVAL;
		codes[n++] = (uint8_t)c;
		list += len + (list[len] == ',');
	}
	return opt_bytes(p, DHCP_OPT_PARAM_LIST, codes, n);
}

static int
opt_boot_item(struct probe *p, const char *text)
{
	size_t len = strcspn(text, ",");
	unsigned long type, layer;

	if (text[len] != ',' || number(text, len, 65535, &type) != 0 ||
	    number(text + len + 1, strlen(text + len + 1), 65535, &layer) != 0)
		return -EINVAL;
	uint8_t v[9] = { 71, 4, (uint8_t)(type >> 8), (uint8_t)type,
		(uint8_t)(layer >> 8), (uint8_t)layer, 255 };
	return opt_bytes(p, DHCP_OPT_VENDOR, v, 7);
}

static int
opt_u16(struct probe *p, unsigned long code, const char *text)
{
	unsigned long v;

	if (number(text, strlen(text), 65535, &v) != 0)
		return -EINVAL;
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	return opt_bytes(p, code, b, 2);
}

static int
opt_addr(struct probe *p, unsigned long code, const char *text)
{
	struct in_addr a;

	if (parse_ip(text, &a) != 0)
		return -EINVAL;
	return opt_bytes(p, code, &a.s_addr, 4);
}

static int
parse_type(const char *name, enum dhcp_type *t)
{
	static const char *const names[] = {
		"none", "discover", "offer", "request", "decline", "ack", "nak", "release", "inform",
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(name, names[i]) == 0) {
			*t = (enum dhcp_type)i;
			return 0;
		}
	}
	fprintf(stderr, "dhcp-probe: unknown type '%s'\n", name);
	return -EINVAL;
}

static int
parse_poke(struct probe *p, const char *text)
{
	unsigned long off;
	const char *eq = strchr(text, '=');

	if (p->poke_count >= PROBE_POKE_MAX || eq == NULL ||
	    number(text, (size_t)(eq - text), DHCP_PACKET_MAX - 1, &off) != 0)
		return -EINVAL;
	struct poke *k = &p->poke[p->poke_count++];
	long n = hex_bytes(eq + 1, k->data, sizeof k->data);
	if (n < 0 || off + (size_t)n > DHCP_PACKET_MAX)
		return -EINVAL;
	k->off = off;
	k->len = (size_t)n;
	return 0;
}

/* Options that take a value and fill a header field or a number. */
static int
arg_header(struct probe *p, const char *name, const char *v)
{
	unsigned long n = 0;

	if (strcmp(name, "--to") == 0)
		return parse_endpoint(v, &p->to);
	if (strcmp(name, "--bind") == 0)
		return parse_endpoint(v, &p->bind_addr);
	if (strcmp(name, "--iface") == 0)
		return (p->iface = v), 0;
	if (strcmp(name, "--type") == 0)
		return parse_type(v, &p->type);
	if (strcmp(name, "--mac") == 0)
		return hex_bytes(v, p->mac, sizeof p->mac) == 6 ? 0 : -EINVAL;
	if (strcmp(name, "--ciaddr") == 0)
		return parse_ip(v, &p->ciaddr);
	if (strcmp(name, "--yiaddr") == 0)
		return parse_ip(v, &p->yiaddr);
	if (strcmp(name, "--giaddr") == 0)
		return parse_ip(v, &p->giaddr);
	if (strcmp(name, "--file") == 0)
		return (p->file = v), 0;
	if (strcmp(name, "--xid") == 0 || strcmp(name, "--flags") == 0) {
		uint8_t b[4] = { 0 };
		long len = hex_bytes(v, b, sizeof b);
		if (len <= 0)
			return -EINVAL;
		n = 0;
		for (long i = 0; i < len; i++)
			n = n << 8 | b[i];
		if (name[2] == 'x')
			p->xid = (uint32_t)n;
		else
			p->flags = (uint16_t)n, p->has_flags = true;
		return 0;
	}
	if (strcmp(name, "--hops") == 0) {
		int rc = number(v, strlen(v), 255, &n);
		p->hops = (uint8_t)n;
		return rc;
	}
	return 1;
}

static int
arg_numbers(struct probe *p, const char *name, const char *v)
{
	unsigned long n = 0;
	int rc;

	if (strcmp(name, "--wait-ms") == 0 || strcmp(name, "--expect-replies") == 0 ||
	    strcmp(name, "--cut") == 0) {
		rc = number(v, strlen(v), 3600000, &n);
		if (name[2] == 'w')
			p->wait_ms = (long)n;
		else if (name[2] == 'e')
			p->expect = (long)n;
		else
			p->cut = (long)n;
		return rc;
	}
	if (strcmp(name, "--count") == 0)
		return number(v, strlen(v), 1000000, &p->count);
	if (strcmp(name, "--macs") == 0)
		return number(v, strlen(v), 1 << 24, &p->macs);
	if (strcmp(name, "--random-tail") == 0)
		return number(v, strlen(v), PROBE_VALUE_MAX, &p->random_tail);
	return 1;
}

static int
arg_options(struct probe *p, const char *name, const char *v)
{
	unsigned long code;
	const char *value;

	if (strcmp(name, "--vendor") == 0)
		return opt_bytes(p, DHCP_OPT_VENDOR_CLASS, v, strlen(v));
	if (strcmp(name, "--arch") == 0)
		return opt_u16(p, DHCP_OPT_CLIENT_ARCH, v);
	if (strcmp(name, "--max-size") == 0)
		return opt_u16(p, DHCP_OPT_MAX_SIZE, v);
	if (strcmp(name, "--uuid") == 0)
		return opt_hex(p, DHCP_OPT_UUID, v);
	if (strcmp(name, "--client-id") == 0)
		return opt_hex(p, DHCP_OPT_CLIENT_ID, v);
	if (strcmp(name, "--requested") == 0)
		return opt_addr(p, DHCP_OPT_REQUESTED_IP, v);
	if (strcmp(name, "--server-id") == 0)
		return opt_addr(p, DHCP_OPT_SERVER_ID, v);
	if (strcmp(name, "--prl") == 0)
		return opt_prl(p, v);
	if (strcmp(name, "--boot-item") == 0)
		return opt_boot_item(p, v);
	if (strcmp(name, "--opt") == 0 || strcmp(name, "--opt-str") == 0) {
		if (code_and_value(v, &code, &value) != 0)
			return -EINVAL;
		return name[5] == '\0' ? opt_hex(p, code, value)
		    : opt_bytes(p, code, value, strlen(value));
	}
	if (strcmp(name, "--raw") == 0) {
		long n = hex_bytes(v, p->raw.data, sizeof p->raw.data);
		p->raw.len = n > 0 ? (size_t)n : 0;
		return n < 0 ? -EINVAL : 0;
	}
	if (strcmp(name, "--poke") == 0)
		return parse_poke(p, v);
	return 1;
}

static int
arg_flag(struct probe *p, const char *name)
{
	if (strcmp(name, "--quiet") == 0)
		p->quiet = true;
	else if (strcmp(name, "--any-xid") == 0)
		p->any_xid = true;
	else if (strcmp(name, "--broadcast") == 0)
		p->flags |= 0x8000, p->has_flags = true;
	else if (strcmp(name, "--no-end") == 0)
		p->no_end = true;
	else if (strcmp(name, "--ndi") == 0)
		return opt_bytes(p, DHCP_OPT_CLIENT_NDI, "\x01\x03\x00", 3);
	else
		return 1;
	return 0;
}

static int
parse_args(struct probe *p, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		int rc = arg_flag(p, argv[i]);
		if (rc == 1 && i + 1 < argc) {
			rc = arg_header(p, argv[i], argv[i + 1]);
			if (rc == 1)
				rc = arg_numbers(p, argv[i], argv[i + 1]);
			if (rc == 1)
				rc = arg_options(p, argv[i], argv[i + 1]);
			if (rc != 1)
				i++;
		}
		if (rc != 0) {
			if (rc == 1)
				fprintf(stderr, "dhcp-probe: unknown or incomplete '%s'\n", argv[i]);
			return -EINVAL;
		}
	}
	if (p->to.sin_family != AF_INET) {
		usage();
		return -EINVAL;
	}
	return 0;
}

/* ---- building and sending ---- */

static size_t
build(const struct probe *p, unsigned long i, uint8_t *out)
{
	struct dhcp_builder b;
	uint8_t mac[6];
	struct in_addr none = { 0 };
	uint32_t bump = p->macs > 0 ? (uint32_t)(i % p->macs) : 0;
	uint32_t low = ((uint32_t)p->mac[3] << 16 | (uint32_t)p->mac[4] << 8 | p->mac[5]) + bump;

	memcpy(mac, p->mac, 3);
	mac[3] = (uint8_t)(low >> 16);
	mac[4] = (uint8_t)(low >> 8);
	mac[5] = (uint8_t)low;
	dhcp_request_start(&b, p->type, p->xid + (uint32_t)i, mac, sizeof mac);
	b.buf[3] = p->hops;
	dhcp_set_flags(&b, p->flags);
	dhcp_set_addrs(&b, p->ciaddr, p->yiaddr, none, p->giaddr);
	if (p->file != NULL)
		dhcp_set_file(&b, p->file);
	for (size_t k = 0; k < p->opt_count; k++)
		dhcp_add_option(&b, p->opt[k].code, p->opt[k].data, p->opt[k].len);
	if (b.len + p->raw.len < sizeof b.buf) {
		memcpy(b.buf + b.len, p->raw.data, p->raw.len);
		b.len += p->raw.len;
	}
	if (p->random_tail > 0 && b.len + p->random_tail < sizeof b.buf &&
	    getrandom(b.buf + b.len, p->random_tail, 0) == (ssize_t)p->random_tail)
		b.len += p->random_tail;
	size_t len = p->no_end ? b.len : dhcp_finish(&b);
	for (size_t k = 0; k < p->poke_count; k++)
		memcpy(b.buf + p->poke[k].off, p->poke[k].data, p->poke[k].len);
	for (size_t k = 0; k < p->poke_count; k++)
		len = MAX(len, p->poke[k].off + p->poke[k].len);
	if (p->cut >= 0 && (size_t)p->cut < len)
		len = (size_t)p->cut;
	memcpy(out, b.buf, len);
	return len;
}

static int
open_socket(struct probe *p)
{
	int on = 1, rcvbuf = 4 << 20;

	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (p->fd >= 0 && setsockopt(p->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof rcvbuf) != 0)
		(void)setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	if (p->fd < 0 ||
	    setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
	    setsockopt(p->fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on) != 0 ||
	    setsockopt(p->fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) != 0 ||
	    (p->iface != NULL && setsockopt(p->fd, SOL_SOCKET, SO_BINDTODEVICE, p->iface,
	    (socklen_t)strlen(p->iface)) != 0) ||
	    bind(p->fd, (struct sockaddr *)&p->bind_addr, sizeof p->bind_addr) != 0) {
		perror("dhcp-probe: socket");
		return -errno;
	}
	return 0;
}

/* ---- replies ---- */

/* Option codes of the main area (and file/sname when overloaded) in
 * wire order, as "C,C,...". */
static void
print_order(const uint8_t *buf, size_t len)
{
	size_t i = DHCP_HEADER_SIZE + 4;
	const char *sep = "";

	printf(" order=");
	while (i < len && buf[i] != DHCP_OPT_END) {
		if (buf[i] == DHCP_OPT_PAD) {
			i++;
			continue;
		}
		printf("%s%u", sep, buf[i]);
		sep = ",";
		if (i + 1 >= len)
			break;
		i += 2 + (size_t)buf[i + 1];
	}
}

static void
print_options(const struct dhcp_message *m)
{
	for (unsigned code = 1; code < 255; code++) {
		size_t len;
		const uint8_t *v = dhcp_option(m, (uint8_t)code, &len);
		if (v == NULL)
			continue;
		printf(" o%u=", code);
		for (size_t i = 0; i < len; i++)
			printf("%02x", v[i]);
	}
}

static void
print_reply(const struct sockaddr_in *from, const char *to, const uint8_t *buf, size_t len,
    const struct dhcp_message *m)
{
	static const char *const types[] = {
		"BOOTP", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM",
	};
	char who[LOG_ADDR_MAX], a[4][INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &m->ciaddr, a[0], sizeof a[0]);
	inet_ntop(AF_INET, &m->yiaddr, a[1], sizeof a[1]);
	inet_ntop(AF_INET, &m->siaddr, a[2], sizeof a[2]);
	inet_ntop(AF_INET, &m->giaddr, a[3], sizeof a[3]);
	printf("reply from=%s to=%s len=%zu op=%u type=%s xid=%08x flags=%04x hops=%u ciaddr=%s "
	    "yiaddr=%s siaddr=%s giaddr=%s sname=%s file=%s",
	    log_addr((const struct sockaddr *)from, who, sizeof who), to, len, m->op,
	    (unsigned)m->type < ARRAY_SIZE(types) ? types[m->type] : "?", m->xid, m->flags,
	    m->hops, a[0], a[1], a[2], a[3], m->sname, m->file);
	print_order(buf, len);
	print_options(m);
	printf("\n");
}

static bool
ours(const struct probe *p, const struct dhcp_message *m)
{
	uint32_t n = p->count > 0 ? (uint32_t)p->count : 1;

	return p->any_xid || (m->op == DHCP_BOOTREPLY && m->xid - p->xid < n);
}

/* recvmsg with the datagram's destination address (IP_PKTINFO). */
static ssize_t
receive_from(int fd, uint8_t *buf, size_t size, struct sockaddr_in *from, struct in_addr *to)
{
	union { char buf[256]; struct cmsghdr align; } ctl;
	struct iovec iov = { buf, size };
	struct msghdr msg = {
		.msg_name = from, .msg_namelen = sizeof *from, .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf,
	};
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

	to->s_addr = 0;
	for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; c != NULL;
	    c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			*to = pi.ipi_addr;
		}
	}
	return n;
}

static void
receive_one(struct probe *p)
{
	static struct dhcp_message m;
	uint8_t buf[DHCP_PACKET_MAX + 1];
	struct sockaddr_in from;
	struct in_addr to;
	const char *why;
	char who[LOG_ADDR_MAX], dst[INET_ADDRSTRLEN];

	ssize_t n = receive_from(p->fd, buf, sizeof buf, &from, &to);
	if (n < 0)
		return;
	inet_ntop(AF_INET, &to, dst, sizeof dst);
	if (dhcp_parse(buf, (size_t)n, &m, &why) != 0) {
		if (p->any_xid) {
			p->replies++;
			if (!p->quiet)
				printf("junk from=%s to=%s len=%zd %s\n",
				    log_addr((const struct sockaddr *)&from, who, sizeof who), dst, n,
				    why);
		}
		return;
	}
	if (!ours(p, &m))
		return;
	p->replies++;
	p->reply_bytes += (uint64_t)n;
	if (!p->quiet)
		print_reply(&from, dst, buf, (size_t)n, &m);
}

static void
listen_replies(struct probe *p)
{
	uint64_t deadline = clock_now_us() + (uint64_t)p->wait_ms * 1000;

	while (p->expect <= 0 || (long)p->replies < p->expect) {
		uint64_t now = clock_now_us();
		if (now >= deadline)
			break;
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		int left = (int)((deadline - now + 999) / 1000);
		if (poll(&pfd, 1, left) > 0)
			receive_one(p);
	}
}

static void
send_all(struct probe *p)
{
	uint8_t buf[DHCP_PACKET_MAX];
	unsigned long n = p->count > 0 ? p->count : 1;

	for (unsigned long i = 0; i < n; i++) {
		size_t len = build(p, i, buf);
		if (sendto(p->fd, buf, len, 0, (struct sockaddr *)&p->to, sizeof p->to) < 0) {
			if (errno != ENOBUFS && errno != EAGAIN)
				perror("dhcp-probe: sendto");
			continue;
		}
		p->sent++;
		p->sent_bytes += len;
		if ((i & 63) == 63)
			receive_one(p);         /* keep our own queue from overflowing */
	}
}

int
main(int argc, char **argv)
{
	static struct probe p = {
		.type = DHCPDISCOVER, .mac = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 },
		.xid = 0x10203040, .wait_ms = 2000, .expect = -1, .cut = -1,
		.bind_addr = { .sin_family = AF_INET },
	};

	p.bind_addr.sin_port = htons(68);
	if (parse_args(&p, argc, argv) != 0)
		return 2;
	if (open_socket(&p) != 0)
		return 2;
	send_all(&p);
	listen_replies(&p);
	printf("sent %lu replies %lu\n", p.sent, p.replies);
	printf("bytes sent %llu received %llu\n", (unsigned long long)p.sent_bytes,
	    (unsigned long long)p.reply_bytes);
	close(p.fd);
	if (p.expect < 0)
		return 0;
	return p.expect == 0 ? (p.replies == 0 ? 0 : 1) : ((long)p.replies >= p.expect ? 0 : 1);
}

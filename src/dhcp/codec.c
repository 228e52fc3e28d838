#include "dhcp/codec.h"

#include <errno.h>
#include <string.h>

#include "core/cursor.h"
#include "core/util.h"

#define SNAME_OFFSET 44
#define SNAME_SIZE 64
#define FILE_OFFSET 108
#define FILE_SIZE 128
#define ADDRS_OFFSET 12
#define FLAGS_OFFSET 10
#define OPTIONS_OFFSET 240
#define OPTION_VALUE_MAX 255

/* PXE vendor sub-options (option 43). */
enum pxe_sub {
	PXE_SUB_MTFTP_IP = 1, PXE_SUB_MTFTP_CPORT = 2, PXE_SUB_MTFTP_SPORT = 3,
	PXE_SUB_MTFTP_TMOUT = 4, PXE_SUB_MTFTP_DELAY = 5, PXE_SUB_CONTROL = 6,
	PXE_SUB_SERVERS = 8, PXE_SUB_MENU = 9, PXE_SUB_PROMPT = 10,
	PXE_SUB_BOOT_ITEM = 71, PXE_SUB_END = 255,
};

/* Relay agent sub-options (option 82, RFC 3046 and 3527). */
enum relay_sub {
	RELAY_SUB_CIRCUIT_ID = 1, RELAY_SUB_REMOTE_ID = 2, RELAY_SUB_LINK_SELECTION = 5,
};

/* One option area: the main one after the cookie, or file/sname when
 * option 52 says they hold options. */
struct area {
	const uint8_t *p;
	size_t len;
	bool main;
};

/* ---- parsing ---- */

/* First pass over an area: sizes only.  Checks overload and the store
 * bound so the second pass cannot fail. */
static int
option_count(struct dhcp_message *m, uint8_t code, const uint8_t *val, uint8_t len,
    const char **why)
{
	if (code == DHCP_OPT_OVERLOAD) {
		if (m->overload != 0 || len != 1 || val[0] < 1 || val[0] > 3) {
			*why = "bad overload option";
			return -EBADMSG;
		}
		m->overload = val[0];
	}
	if (m->store_used + len > DHCP_OPTION_STORE) {
		*why = "options larger than the store";
		return -ENOSPC;
	}
	m->opt_present[code] = true;
	m->opt_length[code] = (uint16_t)(m->opt_length[code] + len);
	m->store_used += len;
	return 0;
}

/* Second pass: append the value after what earlier instances put there. */
static void
option_copy(struct dhcp_message *m, uint8_t code, const uint8_t *val, uint8_t len)
{
	memcpy(m->store + m->opt_offset[code] + m->opt_length[code], val, len);
	m->opt_length[code] = (uint16_t)(m->opt_length[code] + len);
}

static int
area_walk(const struct area *a, struct dhcp_message *m, bool copy, const char **why)
{
	struct cursor c = cursor_make(a->p, a->len);
	const uint8_t *val;
	uint8_t code, len;

	while (cursor_u8(&c, &code)) {
		if (code == DHCP_OPT_PAD)
			continue;
		if (code == DHCP_OPT_END)
			break;
		if (!cursor_u8(&c, &len) || !cursor_bytes(&c, len, &val)) {
			*why = "truncated option";
			return -EBADMSG;
		}
		if (code == DHCP_OPT_OVERLOAD && !a->main)
			continue;               /* only honoured in the main area */
		if (copy) {
			option_copy(m, code, val, len);
		} else {
			int rc = option_count(m, code, val, len, why);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* Lay the options out in the store by code, then reset the lengths for
 * the copying pass. */
static void
store_layout(struct dhcp_message *m)
{
	size_t off = 0;

	for (size_t code = 0; code < 256; code++) {
		if (!m->opt_present[code])
			continue;
		m->opt_offset[code] = (uint16_t)off;
		off += m->opt_length[code];
		m->opt_length[code] = 0;
	}
}

/* Main area, then file, then sname (RFC 2131 4.1, RFC 3396 order). */
static int
options_parse(struct dhcp_message *m, const uint8_t *opts, size_t opts_len,
    const uint8_t *sname, const uint8_t *file, const char **why)
{
	struct area areas[3] = { { opts, opts_len, true } };
	size_t n = 1;
	int rc;

	rc = area_walk(&areas[0], m, false, why);
	if (rc != 0)
		return rc;
	if (m->overload & 1)
		areas[n++] = (struct area){ file, FILE_SIZE, false };
	if (m->overload & 2)
		areas[n++] = (struct area){ sname, SNAME_SIZE, false };
	for (size_t i = 1; i < n; i++) {
		rc = area_walk(&areas[i], m, false, why);
		if (rc != 0)
			return rc;
	}
	store_layout(m);
	for (size_t i = 0; i < n; i++)
		(void)area_walk(&areas[i], m, true, why);
	return 0;
}

/* NUL-terminated copy of a fixed-size header string field. */
static void
field_copy(char *dst, const uint8_t *src, size_t size)
{
	const uint8_t *nul = memchr(src, '\0', size);
	size_t n = nul != NULL ? (size_t)(nul - src) : size;

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
read_addr(struct cursor *c, struct in_addr *a, bool *ok)
{
	const uint8_t *p;

	if (!cursor_bytes(c, 4, &p)) {
		*ok = false;
		return;
	}
	memcpy(&a->s_addr, p, 4);
}

static bool
header_parse(struct cursor *c, struct dhcp_message *m, const uint8_t **sname,
    const uint8_t **file)
{
	const uint8_t *chaddr;
	bool ok = cursor_u8(c, &m->op) && cursor_u8(c, &m->htype) &&
	    cursor_u8(c, &m->hlen) && cursor_u8(c, &m->hops) &&
	    cursor_u32(c, &m->xid) && cursor_u16(c, &m->secs) &&
	    cursor_u16(c, &m->flags);

	if (!ok)
		return false;
	read_addr(c, &m->ciaddr, &ok);
	read_addr(c, &m->yiaddr, &ok);
	read_addr(c, &m->siaddr, &ok);
	read_addr(c, &m->giaddr, &ok);
	if (!ok || !cursor_bytes(c, sizeof m->chaddr, &chaddr))
		return false;
	memcpy(m->chaddr, chaddr, sizeof m->chaddr);
	return cursor_bytes(c, SNAME_SIZE, sname) && cursor_bytes(c, FILE_SIZE, file);
}

static int
message_type(struct dhcp_message *m, const char **why)
{
	size_t len;
	const uint8_t *v = dhcp_option(m, DHCP_OPT_MESSAGE_TYPE, &len);

	if (v == NULL)
		return 0;
	if (len != 1 || v[0] < DHCPDISCOVER || v[0] > DHCPINFORM) {
		*why = "bad message type";
		return -EBADMSG;
	}
	m->type = (enum dhcp_type)v[0];
	return 0;
}

int
dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_message *m, const char **why)
{
	struct cursor c = cursor_make(buf, len);
	const uint8_t *sname, *file;
	uint32_t cookie;
	int rc;

	memset(m, 0, sizeof *m);
	*why = NULL;
	m->wire_len = len;
	if (len < DHCP_HEADER_SIZE || !header_parse(&c, m, &sname, &file)) {
		*why = "shorter than the BOOTP header";
		return -EBADMSG;
	}
	if (m->op != DHCP_BOOTREQUEST && m->op != DHCP_BOOTREPLY) {
		*why = "not a BOOTREQUEST or BOOTREPLY";
		return -EPROTO;
	}
	if (m->hlen > sizeof m->chaddr) {
		*why = "hardware address longer than 16 bytes";
		return -EPROTO;
	}
	if (cursor_u32(&c, &cookie) && cookie == DHCP_COOKIE) {
		m->has_cookie = true;
		rc = options_parse(m, c.p, c.left, sname, file, why);
		if (rc != 0)
			return rc;
	}
	if (!(m->overload & 2))
		field_copy(m->sname, sname, SNAME_SIZE);
	if (!(m->overload & 1))
		field_copy(m->file, file, FILE_SIZE);
	return message_type(m, why);
}

const uint8_t *
dhcp_option(const struct dhcp_message *m, uint8_t code, size_t *len)
{
	if (!m->opt_present[code]) {
		*len = 0;
		return NULL;
	}
	*len = m->opt_length[code];
	return m->store + m->opt_offset[code];
}

/* The value of code when it is exactly size bytes long. */
static const uint8_t *
option_sized(const struct dhcp_message *m, uint8_t code, size_t size)
{
	size_t len;
	const uint8_t *v = dhcp_option(m, code, &len);

	return v != NULL && len == size ? v : NULL;
}

bool
dhcp_option_u8(const struct dhcp_message *m, uint8_t code, uint8_t *out)
{
	const uint8_t *v = option_sized(m, code, 1);

	if (v == NULL)
		return false;
	*out = v[0];
	return true;
}

bool
dhcp_option_u16(const struct dhcp_message *m, uint8_t code, uint16_t *out)
{
	const uint8_t *v = option_sized(m, code, 2);
	struct cursor c;

	if (v == NULL)
		return false;
	c = cursor_make(v, 2);
	return cursor_u16(&c, out);
}

bool
dhcp_option_u32(const struct dhcp_message *m, uint8_t code, uint32_t *out)
{
	const uint8_t *v = option_sized(m, code, 4);
	struct cursor c;

	if (v == NULL)
		return false;
	c = cursor_make(v, 4);
	return cursor_u32(&c, out);
}

bool
dhcp_option_addr(const struct dhcp_message *m, uint8_t code, struct in_addr *out)
{
	const uint8_t *v = option_sized(m, code, 4);

	if (v == NULL)
		return false;
	memcpy(&out->s_addr, v, 4);
	return true;
}

/* ---- building ---- */

struct start_fields {
	uint8_t op, htype, hlen;
	uint32_t xid;
	uint16_t flags;
	struct in_addr giaddr;
	uint8_t chaddr[16];
};

static void
builder_start(struct dhcp_builder *b, const struct start_fields *f, enum dhcp_type type,
    size_t max)
{
	struct writer w;
	static const uint8_t zero[SNAME_SIZE + FILE_SIZE];
	struct in_addr none = { 0 };

	memset(b, 0, sizeof *b);
	b->max = max;
	w = writer_make(b->buf, sizeof b->buf);
	writer_u8(&w, f->op);
	writer_u8(&w, f->htype);
	writer_u8(&w, f->hlen);
	writer_u8(&w, 0);                       /* hops */
	writer_u32(&w, f->xid);
	writer_u16(&w, 0);                      /* secs */
	writer_u16(&w, f->flags);
	for (int i = 0; i < 3; i++)             /* ciaddr, yiaddr, siaddr */
		writer_bytes(&w, &none.s_addr, 4);
	writer_bytes(&w, &f->giaddr.s_addr, 4);
	writer_bytes(&w, f->chaddr, sizeof f->chaddr);
	writer_bytes(&w, zero, sizeof zero);    /* sname, file */
	writer_u32(&w, DHCP_COOKIE);
	b->len = w.used;
	if (type != DHCP_NONE)
		dhcp_add_u8(b, DHCP_OPT_MESSAGE_TYPE, (uint8_t)type);
}

void
dhcp_reply_start(struct dhcp_builder *b, const struct dhcp_message *req,
    enum dhcp_type type, size_t max_size)
{
	struct start_fields f = {
		.op = DHCP_BOOTREPLY, .htype = req->htype, .hlen = req->hlen,
		.xid = req->xid, .flags = req->flags, .giaddr = req->giaddr,
	};

	memcpy(f.chaddr, req->chaddr, sizeof f.chaddr);
	if (max_size < DHCP_DEFAULT_MAX - 28)
		max_size = DHCP_DEFAULT_MAX - 28;
	if (max_size > DHCP_PACKET_MAX)
		max_size = DHCP_PACKET_MAX;
	builder_start(b, &f, type, max_size);
}

void
dhcp_request_start(struct dhcp_builder *b, enum dhcp_type type, uint32_t xid,
    const uint8_t *mac, size_t mac_len)
{
	struct start_fields f = { .op = DHCP_BOOTREQUEST, .htype = 1, .xid = xid };

	if (mac_len > sizeof f.chaddr)
		mac_len = sizeof f.chaddr;
	f.hlen = (uint8_t)mac_len;
	if (mac_len > 0)
		memcpy(f.chaddr, mac, mac_len);
	builder_start(b, &f, type, DHCP_PACKET_MAX);
}

void
dhcp_set_addrs(struct dhcp_builder *b, struct in_addr ciaddr, struct in_addr yiaddr,
    struct in_addr siaddr, struct in_addr giaddr)
{
	struct writer w = writer_make(b->buf + ADDRS_OFFSET, 16);

	writer_bytes(&w, &ciaddr.s_addr, 4);
	writer_bytes(&w, &yiaddr.s_addr, 4);
	writer_bytes(&w, &siaddr.s_addr, 4);
	writer_bytes(&w, &giaddr.s_addr, 4);
}

void
dhcp_set_flags(struct dhcp_builder *b, uint16_t flags)
{
	struct writer w = writer_make(b->buf + FLAGS_OFFSET, 2);

	writer_u16(&w, flags);
}

/* Zero a header string field and copy s in, cut to size - 1 bytes. */
static void
field_set(uint8_t *field, size_t size, const char *s)
{
	size_t n = strnlen(s, size - 1);

	memset(field, 0, size);
	memcpy(field, s, n);
}

void
dhcp_set_sname(struct dhcp_builder *b, const char *sname)
{
	field_set(b->buf + SNAME_OFFSET, SNAME_SIZE, sname);
}

void
dhcp_set_file(struct dhcp_builder *b, const char *file)
{
	field_set(b->buf + FILE_OFFSET, FILE_SIZE, file);
}

/* All instances are written or none: one byte is always kept for the end
 * option so dhcp_finish cannot overflow. */
void
dhcp_add_option(struct dhcp_builder *b, uint8_t code, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t done = 0;
	size_t pieces = len == 0 ? 1 : (len + OPTION_VALUE_MAX - 1) / OPTION_VALUE_MAX;
	size_t need = len + 2 * pieces;
	size_t limit = MIN(b->max, sizeof b->buf);
	struct writer w;

	if (b->overflow || code == DHCP_OPT_PAD || code == DHCP_OPT_END ||
	    b->len + need + 1 > limit) {
		b->overflow = true;
		return;
	}
	w = writer_make(b->buf + b->len, limit - b->len - 1);
	do {
		size_t n = MIN(len - done, OPTION_VALUE_MAX);
		writer_u8(&w, code);
		writer_u8(&w, (uint8_t)n);
		if (n > 0)
			writer_bytes(&w, p + done, n);
		done += n;
	} while (done < len);
	b->len += w.used;
}

void
dhcp_add_u8(struct dhcp_builder *b, uint8_t code, uint8_t v)
{
	dhcp_add_option(b, code, &v, 1);
}

void
dhcp_add_u16(struct dhcp_builder *b, uint8_t code, uint16_t v)
{
	uint16_t n = htons(v);

	dhcp_add_option(b, code, &n, 2);
}

void
dhcp_add_u32(struct dhcp_builder *b, uint8_t code, uint32_t v)
{
	uint32_t n = htonl(v);

	dhcp_add_option(b, code, &n, 4);
}

void
dhcp_add_addr(struct dhcp_builder *b, uint8_t code, struct in_addr a)
{
	dhcp_add_option(b, code, &a.s_addr, 4);
}

size_t
dhcp_finish(struct dhcp_builder *b)
{
	size_t limit = MIN(b->max, sizeof b->buf);
	size_t end;

	if (b->overflow || b->len >= limit)
		return 0;
	b->buf[b->len++] = DHCP_OPT_END;
	end = MIN(MAX(b->len, (size_t)DHCP_MIN_MESSAGE), limit);
	memset(b->buf + b->len, 0, end - b->len);
	b->len = end;
	return b->len;
}

/* ---- PXE vendor options ---- */

static size_t
servers_length(const struct pxe_vendor *v, uint8_t count)
{
	size_t n = 0;

	for (uint8_t i = 0; i < count; i++)
		n += 3 + 4 * (size_t)MIN(v->servers[i].count, PXE_SERVERS_MAX);
	return n;
}

static void
build_servers(const struct pxe_vendor *v, struct writer *w)
{
	uint8_t count = MIN(v->server_count, PXE_MENU_MAX);
	size_t len = servers_length(v, count);

	if (count == 0)
		return;
	if (len > OPTION_VALUE_MAX) {
		w->overflow = true;
		return;
	}
	writer_u8(w, PXE_SUB_SERVERS);
	writer_u8(w, (uint8_t)len);
	for (uint8_t i = 0; i < count; i++) {
		uint8_t n = MIN(v->servers[i].count, PXE_SERVERS_MAX);
		writer_u16(w, v->servers[i].type);
		writer_u8(w, n);
		for (uint8_t j = 0; j < n; j++)
			writer_bytes(w, &v->servers[i].addr[j].s_addr, 4);
	}
}

static void
build_menu(const struct pxe_vendor *v, struct writer *w)
{
	uint8_t count = MIN(v->menu_count, PXE_MENU_MAX);
	size_t len = 0;

	if (count == 0)
		return;
	for (uint8_t i = 0; i < count; i++)
		len += 3 + strnlen(v->menu[i].text, sizeof v->menu[i].text - 1);
	if (len > OPTION_VALUE_MAX) {
		w->overflow = true;
		return;
	}
	writer_u8(w, PXE_SUB_MENU);
	writer_u8(w, (uint8_t)len);
	for (uint8_t i = 0; i < count; i++) {
		size_t n = strnlen(v->menu[i].text, sizeof v->menu[i].text - 1);
		writer_u16(w, v->menu[i].type);
		writer_u8(w, (uint8_t)n);
		writer_bytes(w, v->menu[i].text, n);
	}
}

static void
build_prompt(const struct pxe_vendor *v, struct writer *w)
{
	size_t n = strnlen(v->prompt, sizeof v->prompt - 1);

	if (v->menu_count == 0 && n == 0)
		return;
	writer_u8(w, PXE_SUB_PROMPT);
	writer_u8(w, (uint8_t)(1 + n));
	writer_u8(w, v->prompt_timeout);
	writer_bytes(w, v->prompt, n);
}

static void
build_mtftp(const struct pxe_vendor *v, struct writer *w)
{
	if (v->mtftp_ip.s_addr == 0)
		return;
	writer_u8(w, PXE_SUB_MTFTP_IP);
	writer_u8(w, 4);
	writer_bytes(w, &v->mtftp_ip.s_addr, 4);
	writer_u8(w, PXE_SUB_MTFTP_CPORT);
	writer_u8(w, 2);
	writer_u16(w, v->mtftp_cport);
	writer_u8(w, PXE_SUB_MTFTP_SPORT);
	writer_u8(w, 2);
	writer_u16(w, v->mtftp_sport);
	writer_u8(w, PXE_SUB_MTFTP_TMOUT);
	writer_u8(w, 1);
	writer_u8(w, v->mtftp_timeout);
	writer_u8(w, PXE_SUB_MTFTP_DELAY);
	writer_u8(w, 1);
	writer_u8(w, v->mtftp_delay);
}

/* Order: MTFTP 1-5, menu 9, prompt 10, control 6, servers 8, boot item 71,
 * end: the layout of the PXELINUX documentation example (§2.5). */
size_t
pxe_vendor_build(const struct pxe_vendor *v, uint8_t *out, size_t out_size)
{
	struct writer w = writer_make(out, out_size);

	build_mtftp(v, &w);
	build_menu(v, &w);
	build_prompt(v, &w);
	if (v->discovery_control != 0) {
		writer_u8(&w, PXE_SUB_CONTROL);
		writer_u8(&w, 1);
		writer_u8(&w, v->discovery_control);
	}
	build_servers(v, &w);
	if (v->has_boot_item) {
		writer_u8(&w, PXE_SUB_BOOT_ITEM);
		writer_u8(&w, 4);
		writer_u16(&w, v->item_type);
		writer_u16(&w, v->item_layer);
	}
	writer_u8(&w, PXE_SUB_END);
	return w.overflow ? 0 : w.used;
}

/* Copy len bytes of text into dst of size bytes, cut and NUL-terminated. */
static void
text_copy(char *dst, size_t size, const uint8_t *src, size_t len)
{
	size_t n = MIN(len, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int
parse_servers(struct cursor *c, struct pxe_vendor *v)
{
	while (c->left > 0) {
		uint16_t type;
		uint8_t count;
		const uint8_t *addrs;

		if (!cursor_u16(c, &type) || !cursor_u8(c, &count) ||
		    !cursor_bytes(c, 4 * (size_t)count, &addrs))
			return -EBADMSG;
		if (v->server_count >= PXE_MENU_MAX)
			continue;
		struct cursor a = cursor_make(addrs, 4 * (size_t)count);
		uint8_t keep = MIN(count, PXE_SERVERS_MAX), i = 0;
		const uint8_t *ip;
		v->servers[v->server_count].type = type;
		v->servers[v->server_count].count = keep;
		while (i < keep && cursor_bytes(&a, 4, &ip))
			memcpy(&v->servers[v->server_count].addr[i++].s_addr, ip, 4);
		v->server_count++;
	}
	return 0;
}

static int
parse_menu(struct cursor *c, struct pxe_vendor *v)
{
	while (c->left > 0) {
		uint16_t type;
		uint8_t len;
		const uint8_t *text;

		if (!cursor_u16(c, &type) || !cursor_u8(c, &len) ||
		    !cursor_bytes(c, len, &text))
			return -EBADMSG;
		if (v->menu_count >= PXE_MENU_MAX)
			continue;
		v->menu[v->menu_count].type = type;
		text_copy(v->menu[v->menu_count].text, sizeof v->menu[0].text, text, len);
		v->menu_count++;
	}
	return 0;
}

/* Fixed-size sub-options: a wrong length is a malformed option. */
static int
parse_fixed(uint8_t code, struct cursor *c, struct pxe_vendor *v)
{
	static const uint8_t sizes[] = {
		[PXE_SUB_MTFTP_IP] = 4, [PXE_SUB_MTFTP_CPORT] = 2, [PXE_SUB_MTFTP_SPORT] = 2,
		[PXE_SUB_MTFTP_TMOUT] = 1, [PXE_SUB_MTFTP_DELAY] = 1, [PXE_SUB_CONTROL] = 1,
		[PXE_SUB_BOOT_ITEM] = 4,
	};
	const uint8_t *ip;
	bool ok = true;

	if (c->left != sizes[code])
		return -EBADMSG;
	switch (code) {
	case PXE_SUB_MTFTP_IP:
		ok = cursor_bytes(c, 4, &ip);
		if (ok)
			memcpy(&v->mtftp_ip.s_addr, ip, 4);
		break;
	case PXE_SUB_MTFTP_CPORT: ok = cursor_u16(c, &v->mtftp_cport); break;
	case PXE_SUB_MTFTP_SPORT: ok = cursor_u16(c, &v->mtftp_sport); break;
	case PXE_SUB_MTFTP_TMOUT: ok = cursor_u8(c, &v->mtftp_timeout); break;
	case PXE_SUB_MTFTP_DELAY: ok = cursor_u8(c, &v->mtftp_delay); break;
	case PXE_SUB_CONTROL: ok = cursor_u8(c, &v->discovery_control); break;
	default:
		v->has_boot_item = true;
		ok = cursor_u16(c, &v->item_type) && cursor_u16(c, &v->item_layer);
		break;
	}
	return ok ? 0 : -EBADMSG;
}

static int
pxe_sub_parse(uint8_t code, struct cursor *val, struct pxe_vendor *v)
{
	switch (code) {
	case PXE_SUB_MTFTP_IP: case PXE_SUB_MTFTP_CPORT: case PXE_SUB_MTFTP_SPORT:
	case PXE_SUB_MTFTP_TMOUT: case PXE_SUB_MTFTP_DELAY: case PXE_SUB_CONTROL:
	case PXE_SUB_BOOT_ITEM:
		return parse_fixed(code, val, v);
	case PXE_SUB_SERVERS:
		return parse_servers(val, v);
	case PXE_SUB_MENU:
		return parse_menu(val, v);
	case PXE_SUB_PROMPT:
		if (!cursor_u8(val, &v->prompt_timeout))
			return -EBADMSG;
		text_copy(v->prompt, sizeof v->prompt, val->p, val->left);
		return 0;
	default:
		return 0;                       /* unknown: skipped */
	}
}

int
pxe_vendor_parse(const uint8_t *data, size_t len, struct pxe_vendor *v)
{
	struct cursor c = cursor_make(data, len);
	const uint8_t *val;
	uint8_t code, sublen;

	memset(v, 0, sizeof *v);
	while (cursor_u8(&c, &code)) {
		if (code == DHCP_OPT_PAD)
			continue;
		if (code == PXE_SUB_END)
			break;
		if (!cursor_u8(&c, &sublen) || !cursor_bytes(&c, sublen, &val))
			return -EBADMSG;
		struct cursor sub = cursor_make(val, sublen);
		int rc = pxe_sub_parse(code, &sub, v);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- relay agent information ---- */

int
dhcp_relay_parse(const uint8_t *data, size_t len, struct dhcp_relay_info *r)
{
	struct cursor c = cursor_make(data, len);
	const uint8_t *val;
	uint8_t code, sublen;

	memset(r, 0, sizeof *r);
	while (cursor_u8(&c, &code)) {
		if (!cursor_u8(&c, &sublen) || !cursor_bytes(&c, sublen, &val))
			return -EBADMSG;
		switch (code) {
		case RELAY_SUB_CIRCUIT_ID:
			r->circuit_id = val;
			r->circuit_id_len = sublen;
			break;
		case RELAY_SUB_REMOTE_ID:
			r->remote_id = val;
			r->remote_id_len = sublen;
			break;
		case RELAY_SUB_LINK_SELECTION:
			if (sublen != 4)
				return -EBADMSG;
			r->has_link_selection = true;
			memcpy(&r->link_selection.s_addr, val, 4);
			break;
		default:
			break;
		}
	}
	return 0;
}

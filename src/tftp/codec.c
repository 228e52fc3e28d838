#include "tftp/codec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <strings.h>

#include "core/cursor.h"
#include "core/util.h"

_Static_assert(sizeof(struct tftp_multicast) == 8, "compared with memcmp: no padding");

/* How one option's value is judged.  Values below min refuse the whole
 * negotiation (error 8: the server may lower a value, never raise it);
 * values above max are clamped; a value that is not a number is ignored
 * like an unknown option. */
struct option_rule {
	const char *name;
	uint32_t bit;
	uint64_t min, max;
	bool clamp_high;                /* else: out of range above = ignore */
};

static const struct option_rule option_rules[] = {
	{ "blksize", TFTP_OPT_BLKSIZE, TFTP_BLKSIZE_MIN, TFTP_BLKSIZE_MAX, true },
	{ "timeout", TFTP_OPT_TIMEOUT, TFTP_TIMEOUT_MIN, TFTP_TIMEOUT_MAX, false },
	{ "tsize", TFTP_OPT_TSIZE, 0, UINT64_MAX / 2, false },
	{ "windowsize", TFTP_OPT_WINDOWSIZE, 1, TFTP_WINDOWSIZE_MAX, true },
	{ "rollover", TFTP_OPT_ROLLOVER, 0, 1, false },
	{ "utimeout", TFTP_OPT_UTIMEOUT, 10000, 255000000, false },
	{ "msftwindow", TFTP_OPT_MSFTWINDOW, 0, UINT64_MAX / 2, false },
};

static void
request_store(struct tftp_request *req, uint32_t bit, uint64_t v)
{
	req->present |= bit;
	switch (bit) {
	case TFTP_OPT_BLKSIZE: req->blksize = (uint32_t)v; break;
	case TFTP_OPT_TIMEOUT: req->timeout = (uint32_t)v; break;
	case TFTP_OPT_TSIZE: req->tsize = v; break;
	case TFTP_OPT_WINDOWSIZE: req->windowsize = (uint32_t)v; break;
	case TFTP_OPT_ROLLOVER: req->rollover = (uint32_t)v; break;
	case TFTP_OPT_UTIMEOUT: req->utimeout = (uint32_t)v; break;
	default: break;                 /* msftwindow: noted, never granted */
	}
}

static void
request_option(struct tftp_request *req, const char *name, const char *value,
    size_t value_len)
{
	const struct option_rule *rule = NULL;
	uint64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(option_rules); i++) {
		if (strcasecmp(name, option_rules[i].name) == 0) {
			rule = &option_rules[i];
			break;
		}
	}
	if (rule == NULL && strcasecmp(name, "multicast") == 0) {
		/* RFC 2090: the request's value is empty; anything else is
		 * not an option we can take, so it is ignored (RFC 2347) */
		if (value_len == 0)
			req->present |= TFTP_OPT_MULTICAST;
		else
			req->ignored_options++;
		return;
	}
	if (rule == NULL) {
		req->unknown_options++;
		return;
	}
	if (req->present & rule->bit)
		return;                 /* first occurrence wins */
	int rc = parse_u64(value, value_len, 0, UINT64_MAX, &v);
	if (rc == -ERANGE && rule->clamp_high && value_len > 0) {
		v = rule->max;          /* absurdly long number: clamp */
		rc = 0;
	}
	if (rc != 0) {
		req->ignored_options++;
		return;
	}
	if (v < rule->min) {
		if (rule->clamp_high) {
			/* blksize < 8, windowsize 0: nothing we may answer */
			if (req->option_error == NULL)
				req->option_error = rule->name;
		} else {
			req->ignored_options++;
		}
		return;
	}
	if (v > rule->max) {
		if (!rule->clamp_high) {
			req->ignored_options++;
			return;
		}
		v = rule->max;
	}
	request_store(req, rule->bit, v);
}

static int
request_mode(const char *mode, enum tftp_mode *out)
{
	if (strcasecmp(mode, "octet") == 0) {
		*out = TFTP_MODE_OCTET;
		return 0;
	}
	if (strcasecmp(mode, "netascii") == 0) {
		*out = TFTP_MODE_NETASCII;
		return 0;
	}
	return -EINVAL;
}

int
tftp_request_parse(const uint8_t *buf, size_t len, struct tftp_request *req,
    const char **why)
{
	struct cursor c = cursor_make(buf, len);
	const char *mode, *name, *value;
	size_t mode_len, name_len, value_len;
	uint16_t op;

	memset(req, 0, sizeof *req);
	req->blksize = TFTP_BLKSIZE_DEFAULT;
	req->windowsize = 1;
	if (len > TFTP_REQUEST_MAX) {
		*why = "request too long";
		return -EBADMSG;
	}
	if (!cursor_u16(&c, &op)) {
		*why = "truncated opcode";
		return -EBADMSG;
	}
	if (op != TFTP_RRQ && op != TFTP_WRQ) {
		*why = "not a request";
		return -EPROTO;
	}
	req->op = (enum tftp_opcode)op;
	if (!cursor_cstring(&c, &req->filename, &req->filename_len)) {
		*why = "filename without terminating NUL";
		return -EBADMSG;
	}
	if (req->filename_len == 0) {
		*why = "empty filename";
		return -EBADMSG;
	}
	if (!cursor_cstring(&c, &mode, &mode_len)) {
		*why = "mode without terminating NUL";
		return -EBADMSG;
	}
	if (request_mode(mode, &req->mode) != 0) {
		*why = "unknown transfer mode";
		return -EINVAL;
	}
	while (c.left > 0) {
		struct cursor save = c;
		if (!cursor_cstring(&c, &name, &name_len) ||
		    !cursor_cstring(&c, &value, &value_len)) {
			c = save;
			break;
		}
		if (name_len == 0)
			break;          /* NUL padding: end of options */
		request_option(req, name, value, value_len);
	}
	/* Anything left that is not NUL padding is noted and ignored. */
	for (size_t i = 0; i < c.left; i++) {
		if (c.p[i] != 0) {
			req->trailing_garbage = true;
			break;
		}
	}
	*why = NULL;
	return 0;
}

int
tftp_packet_header(const uint8_t *buf, size_t len, uint16_t *opcode, uint16_t *num)
{
	struct cursor c = cursor_make(buf, len);

	if (!cursor_u16(&c, opcode) || !cursor_u16(&c, num))
		return -EBADMSG;
	return 0;
}

static void
write_option(struct writer *w, const char *name, uint64_t value)
{
	char text[24];

	snprintf(text, sizeof text, "%" PRIu64, value);
	writer_cstring(w, name);
	writer_cstring(w, text);
}

size_t
tftp_multicast_format(const struct tftp_multicast *m, char *out, size_t size)
{
	int n;

	if (m->has_group)
		n = snprintf(out, size, "%u.%u.%u.%u,%u,%u", m->addr[0], m->addr[1], m->addr[2],
		    m->addr[3], m->port, m->master ? 1u : 0u);
	else
		n = snprintf(out, size, ",,%u", m->master ? 1u : 0u);
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* One field of the value, up to the next comma (or the end if last). */
static bool
multicast_field(struct cursor *c, bool last, const char **field, size_t *len)
{
	const uint8_t *comma = memchr(c->p, ',', c->left);

	*field = (const char *)c->p;
	if (last) {
		if (comma != NULL)
			return false;
		*len = c->left;
		c->p += c->left;
		c->left = 0;
		return true;
	}
	if (comma == NULL)
		return false;
	*len = (size_t)(comma - c->p);
	c->p += *len + 1;
	c->left -= *len + 1;
	return true;
}

static int
multicast_addr(const char *text, size_t len, uint8_t addr[4])
{
	struct cursor c = cursor_make(text, len);
	const char *part;
	size_t part_len;
	uint64_t v;

	for (int i = 0; i < 4; i++) {
		const uint8_t *dot = memchr(c.p, '.', c.left);
		if ((i < 3) != (dot != NULL))
			return -EBADMSG;
		part = (const char *)c.p;
		part_len = i < 3 ? (size_t)(dot - c.p) : c.left;
		if (part_len > 3 || parse_u64(part, part_len, 0, 255, &v) != 0)
			return -EBADMSG;
		addr[i] = (uint8_t)v;
		c.p += part_len;
		c.left -= part_len;
		if (i < 3) {
			c.p++;
			c.left--;
		}
	}
	return 0;
}

int
tftp_multicast_parse(const char *value, size_t len, struct tftp_multicast *m)
{
	struct cursor c = cursor_make(value, len);
	const char *addr, *port, *mc;
	size_t addr_len, port_len, mc_len;
	uint64_t v;

	memset(m, 0, sizeof *m);
	if (!multicast_field(&c, false, &addr, &addr_len) ||
	    !multicast_field(&c, false, &port, &port_len) ||
	    !multicast_field(&c, true, &mc, &mc_len))
		return -EBADMSG;
	if ((addr_len == 0) != (port_len == 0))
		return -EBADMSG;
	if (parse_u64(mc, mc_len, 0, 1, &v) != 0)
		return -EBADMSG;
	m->master = v == 1;
	if (addr_len == 0)
		return 0;
	if (multicast_addr(addr, addr_len, m->addr) != 0 ||
	    parse_u64(port, port_len, 1, 65535, &v) != 0)
		return -EBADMSG;
	m->port = (uint16_t)v;
	m->has_group = true;
	return 0;
}

static void
write_multicast(struct writer *w, const struct tftp_multicast *m, bool request)
{
	char text[TFTP_MULTICAST_TEXT_MAX];

	writer_cstring(w, "multicast");
	if (request || tftp_multicast_format(m, text, sizeof text) == 0)
		text[0] = '\0';
	writer_cstring(w, text);
}

static void
write_options(struct writer *w, const struct tftp_oack *o, bool request)
{
	if (o->present & TFTP_OPT_BLKSIZE)
		write_option(w, "blksize", o->blksize);
	if (o->present & TFTP_OPT_TSIZE)
		write_option(w, "tsize", o->tsize);
	if (o->present & TFTP_OPT_TIMEOUT)
		write_option(w, "timeout", o->timeout);
	if (o->present & TFTP_OPT_WINDOWSIZE)
		write_option(w, "windowsize", o->windowsize);
	if (o->present & TFTP_OPT_ROLLOVER)
		write_option(w, "rollover", o->rollover);
	if (o->present & TFTP_OPT_UTIMEOUT)
		write_option(w, "utimeout", o->utimeout);
	if (o->present & TFTP_OPT_MULTICAST)
		write_multicast(w, &o->multicast, request);
}

size_t
tftp_build_oack(uint8_t *buf, size_t size, const struct tftp_oack *oack)
{
	struct writer w = writer_make(buf, size);

	writer_u16(&w, TFTP_OACK);
	write_options(&w, oack, false);
	return w.overflow ? 0 : w.used;
}

size_t
tftp_build_error(uint8_t *buf, size_t size, enum tftp_error_code code, const char *msg)
{
	struct writer w = writer_make(buf, size);

	writer_u16(&w, TFTP_ERROR);
	writer_u16(&w, (uint16_t)code);
	writer_cstring(&w, msg != NULL ? msg : "");
	return w.overflow ? 0 : w.used;
}

size_t
tftp_build_ack(uint8_t *buf, size_t size, uint16_t block)
{
	struct writer w = writer_make(buf, size);

	writer_u16(&w, TFTP_ACK);
	writer_u16(&w, block);
	return w.overflow ? 0 : w.used;
}

size_t
tftp_build_data_header(uint8_t *buf, size_t size, uint16_t block)
{
	struct writer w = writer_make(buf, size);

	writer_u16(&w, TFTP_DATA);
	writer_u16(&w, block);
	return w.overflow ? 0 : w.used;
}

static void
oack_option(struct tftp_oack *o, const char *name, const char *value, size_t value_len)
{
	uint64_t v;

	if (strcasecmp(name, "multicast") == 0) {
		if (tftp_multicast_parse(value, value_len, &o->multicast) == 0)
			o->present |= TFTP_OPT_MULTICAST;
		return;
	}
	if (parse_u64(value, value_len, 0, UINT64_MAX / 2, &v) != 0)
		return;
	if (strcasecmp(name, "blksize") == 0 && v <= UINT32_MAX) {
		o->present |= TFTP_OPT_BLKSIZE;
		o->blksize = (uint32_t)v;
	} else if (strcasecmp(name, "tsize") == 0) {
		o->present |= TFTP_OPT_TSIZE;
		o->tsize = v;
	} else if (strcasecmp(name, "timeout") == 0 && v <= UINT32_MAX) {
		o->present |= TFTP_OPT_TIMEOUT;
		o->timeout = (uint32_t)v;
	} else if (strcasecmp(name, "windowsize") == 0 && v <= UINT32_MAX) {
		o->present |= TFTP_OPT_WINDOWSIZE;
		o->windowsize = (uint32_t)v;
	} else if (strcasecmp(name, "rollover") == 0 && v <= 1) {
		o->present |= TFTP_OPT_ROLLOVER;
		o->rollover = (uint32_t)v;
	}
}

int
tftp_oack_parse(const uint8_t *buf, size_t len, struct tftp_oack *oack)
{
	struct cursor c = cursor_make(buf, len);
	const char *name, *value;
	size_t name_len, value_len;
	uint16_t op;

	memset(oack, 0, sizeof *oack);
	if (!cursor_u16(&c, &op) || op != TFTP_OACK)
		return -EBADMSG;
	while (c.left > 0) {
		if (!cursor_cstring(&c, &name, &name_len) ||
		    !cursor_cstring(&c, &value, &value_len))
			return -EBADMSG;
		oack_option(oack, name, value, value_len);
	}
	return 0;
}

size_t
tftp_build_request(uint8_t *buf, size_t size, enum tftp_opcode op,
    const char *filename, const char *mode, const struct tftp_oack *opts)
{
	struct writer w = writer_make(buf, size);

	writer_u16(&w, (uint16_t)op);
	writer_cstring(&w, filename);
	writer_cstring(&w, mode);
	if (opts != NULL)
		write_options(&w, opts, true);
	return w.overflow ? 0 : w.used;
}

/* Pure header helpers: Range, HTTP dates, entity tags, media types. */
#include "http/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/cursor.h"
#include "core/util.h"

static bool
is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static void
trim_ows(struct cursor *c)
{
	while (c->left > 0 && is_ows(c->p[0])) {
		c->p++;
		c->left--;
	}
	while (c->left > 0 && is_ows(c->p[c->left - 1]))
		c->left--;
}

/* Take a run of digits, saturating at UINT64_MAX (a position that large
 * is beyond any file).  Returns false when there is no digit. */
static bool
take_number(struct cursor *c, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = 0;

	while (c->left > 0 && c->p[0] >= '0' && c->p[0] <= '9') {
		unsigned d = (unsigned)(c->p[0] - '0');
		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
		c->p++;
		c->left--;
		n++;
	}
	*out = v;
	return n > 0;
}

/* "-n": the last n bytes. */
static int
range_suffix(struct cursor *c, uint64_t size, uint64_t *start, uint64_t *count)
{
	uint64_t n;

	if (!take_number(c, &n) || c->left != 0)
		return -EINVAL;
	if (n == 0 || size == 0)
		return -ERANGE;
	if (n > size)
		n = size;
	*start = size - n;
	*count = n;
	return 0;
}

/* "a-b" or "a-". */
static int
range_from(struct cursor *c, uint64_t size, uint64_t *start, uint64_t *count)
{
	uint64_t first, last = UINT64_MAX;
	uint8_t dash;

	if (!take_number(c, &first) || !cursor_u8(c, &dash) || dash != '-')
		return -EINVAL;
	if (c->left > 0 && !take_number(c, &last))
		return -EINVAL;
	if (c->left != 0 || last < first)
		return -EINVAL;
	if (first >= size)
		return -ERANGE;
	if (last >= size)
		last = size - 1;
	*start = first;
	*count = last - first + 1;
	return 0;
}

int
http_range_parse(const char *value, size_t len, uint64_t size,
    uint64_t *start, uint64_t *count)
{
	static const char unit[] = "bytes=";
	struct cursor c;

	if (value == NULL || len > HTTP_RANGE_VALUE_MAX)
		return -EINVAL;
	c = cursor_make(value, len);
	trim_ows(&c);
	if (c.left < sizeof unit - 1 ||
	    strncasecmp((const char *)c.p, unit, sizeof unit - 1) != 0)
		return -EINVAL;
	c.p += sizeof unit - 1;
	c.left -= sizeof unit - 1;
	trim_ows(&c);
	if (c.left == 0 || memchr(c.p, ',', c.left) != NULL)
		return -EINVAL;         /* empty, or several ranges */
	if (c.p[0] == '-') {
		c.p++;
		c.left--;
		return range_suffix(&c, size, start, count);
	}
	return range_from(&c, size, start, count);
}

static const char wday_names[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};
static const char month_names[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

int
http_date_format(time_t t, char *buf, size_t size)
{
	struct tm tm;
	int n;

	if (size < HTTP_DATE_SIZE || gmtime_r(&t, &tm) == NULL)
		return -EINVAL;
	if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return -EINVAL;
	n = snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    wday_names[tm.tm_wday], tm.tm_mday, month_names[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n > 0 && (size_t)n < size ? 0 : -EINVAL;
}

/* n decimal digits at s into *out. */
static bool
digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static int
name_index(const char *s, const char (*names)[4], size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (memcmp(s, names[i], 3) == 0)
			return (int)i;
	}
	return -1;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT": fixed positions, 29 bytes. */
static bool
date_fields(const char *s, struct tm *tm)
{
	int year;

	if (name_index(s, wday_names, 7) < 0 || memcmp(s + 3, ", ", 2) != 0 ||
	    s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' ||
	    s[22] != ':' || memcmp(s + 25, " GMT", 4) != 0)
		return false;
	tm->tm_mon = name_index(s + 8, month_names, 12);
	if (tm->tm_mon < 0 || !digits(s + 5, 2, &tm->tm_mday) ||
	    !digits(s + 12, 4, &year) || !digits(s + 17, 2, &tm->tm_hour) ||
	    !digits(s + 20, 2, &tm->tm_min) || !digits(s + 23, 2, &tm->tm_sec))
		return false;
	tm->tm_year = year - 1900;
	return tm->tm_mday >= 1 && tm->tm_mday <= 31 && tm->tm_hour <= 23 &&
	    tm->tm_min <= 59 && tm->tm_sec <= 60;
}

int
http_date_parse(const char *s, size_t len, time_t *out)
{
	struct cursor c = cursor_make(s, len);
	struct tm tm = { 0 }, check;
	time_t t;

	if (s == NULL)
		return -EINVAL;
	trim_ows(&c);
	if (c.left != 29 || !date_fields((const char *)c.p, &tm))
		return -EINVAL;
	int mday = tm.tm_mday, mon = tm.tm_mon;
	t = timegm(&tm);
	if (t == (time_t)-1 || gmtime_r(&t, &check) == NULL ||
	    check.tm_mday != mday || check.tm_mon != mon)
		return -EINVAL;         /* "31 Feb" and the like */
	*out = t;
	return 0;
}

void
http_etag_format(const struct stat *st, char *buf, size_t size)
{
	uint64_t mtime_ns = (uint64_t)st->st_mtim.tv_sec * UINT64_C(1000000000) +
	    (uint64_t)st->st_mtim.tv_nsec;

	snprintf(buf, size, "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"",
	    (uint64_t)st->st_ino, (uint64_t)st->st_size, mtime_ns);
}

/* One entity tag at the cursor ([W/]"opaque"); *tag, *tag_len span the
 * quoted part including the quotes. */
static bool
take_etag(struct cursor *c, const uint8_t **tag, size_t *tag_len)
{
	const uint8_t *close;

	if (c->left >= 2 && c->p[0] == 'W' && c->p[1] == '/') {
		c->p += 2;
		c->left -= 2;
	}
	if (c->left < 2 || c->p[0] != '"')
		return false;
	close = memchr(c->p + 1, '"', c->left - 1);
	if (close == NULL)
		return false;
	*tag = c->p;
	*tag_len = (size_t)(close - c->p) + 1;
	c->p += *tag_len;
	c->left -= *tag_len;
	return true;
}

bool
http_etag_list_match(const char *list, size_t len, const char *etag)
{
	struct cursor c = cursor_make(list, len);
	size_t etag_len = strlen(etag);

	if (list == NULL)
		return false;
	trim_ows(&c);
	if (c.left == 1 && c.p[0] == '*')
		return true;
	while (c.left > 0) {
		const uint8_t *tag;
		size_t tag_len;
		while (c.left > 0 && (is_ows(c.p[0]) || c.p[0] == ',')) {
			c.p++;
			c.left--;
		}
		if (c.left == 0)
			break;
		if (!take_etag(&c, &tag, &tag_len))
			return false;
		if (tag_len == etag_len && memcmp(tag, etag, etag_len) == 0)
			return true;
		trim_ows(&c);
		if (c.left > 0 && c.p[0] != ',')
			return false;
	}
	return false;
}

static const struct {
	const char *suffix;
	const char *type;
} content_types[] = {
	{ ".efi", "application/efi" },
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".json", "application/json" },
	{ ".png", "image/png" },
	{ ".ico", "image/vnd.microsoft.icon" },
	{ ".woff2", "font/woff2" },
	{ ".ipxe", "text/plain" },
	{ ".cfg", "text/plain" },
	{ ".txt", "text/plain" },
};

const char *
http_content_type(const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < ARRAY_SIZE(content_types); i++) {
		size_t n = strlen(content_types[i].suffix);
		if (len >= n && strcasecmp(path + len - n, content_types[i].suffix) == 0)
			return content_types[i].type;
	}
	return "application/octet-stream";
}

unsigned
http_status_for_error(int err, bool resolving)
{
	switch (err) {
	case -EINVAL:
		return resolving ? 400 : 404;  /* bad escape / not a regular file */
	case -ENOENT:
	case -ENOTDIR:
	case -EISDIR:
		return 404;
	case -EACCES:
	case -EPERM:
	case -EXDEV:
	case -ELOOP:
		return 403;
	case -ENAMETOOLONG:
		return 414;
	case -EMFILE:
	case -ENFILE:
	case -ENOMEM:
		return 503;
	default:
		return 500;
	}
}

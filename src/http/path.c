/* Request target -> normalized path beneath the root. */
#include "http/server.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/cursor.h"
#include "http/internal.h"

#include "core/util.h"

static bool
is_control(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

/* Skip "http://authority" or "https://authority" of an absolute-form
 * target (RFC 7230 5.3.2), leaving the cursor on the path. */
static void
skip_absolute_form(struct cursor *c)
{
	static const char *const schemes[] = { "http://", "https://" };

	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		size_t n = strlen(schemes[i]);
		if (c->left < n || strncasecmp((const char *)c->p, schemes[i], n) != 0)
			continue;
		c->p += n;
		c->left -= n;
		const uint8_t *slash = memchr(c->p, '/', c->left);
		size_t skip = slash != NULL ? (size_t)(slash - c->p) : c->left;
		c->p += skip;
		c->left -= skip;
		return;
	}
}

/* Percent-decode the whole cursor into out (cap bytes, no NUL added).
 * Returns the decoded length or a negative errno. */
static long
percent_decode(struct cursor *c, char *out, size_t cap)
{
	size_t o = 0;
	uint8_t ch;

	while (cursor_u8(c, &ch)) {
		if (ch == '%') {
			const uint8_t *hex;
			if (!cursor_bytes(c, 2, &hex))
				return -EINVAL;
			int hi = hex_digit(hex[0]), lo = hex_digit(hex[1]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			ch = (uint8_t)(hi << 4 | lo);
		}
		if (is_control(ch))
			return -EACCES;     /* %00, raw or encoded control bytes */
		if (o >= cap)
			return -ENAMETOOLONG;
		out[o++] = (char)ch;
	}
	return (long)o;
}

int
http_path_resolve(const char *target, size_t target_len, const char *root_path,
    char *out, size_t out_size)
{
	char decoded[HTTP_TARGET_MAX];
	struct cursor c;
	const char *query;
	long n;

	if (out == NULL || out_size == 0)
		return -EINVAL;
	out[0] = '\0';
	if (target == NULL && target_len > 0)
		return -EINVAL;
	c = cursor_make(target, target_len);
	query = target_len > 0 ? memchr(target, '?', target_len) : NULL;
	if (query != NULL)
		c.left = (size_t)(query - target);
	skip_absolute_form(&c);
	n = percent_decode(&c, decoded, sizeof decoded);
	if (n < 0)
		return (int)n;
	return files_path_normalize(decoded, (size_t)n, root_path, out, out_size);
}

int
http_query_value_decode(const char *value, char *out, size_t size)
{
	char raw[3 * 256];
	size_t len = strlen(value);
	struct cursor c;
	long n;

	if (size == 0 || size > 256)
		return -EINVAL;
	if (len >= sizeof raw)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < len; i++)
		raw[i] = value[i] == '+' ? ' ' : value[i];     /* before decoding: %2B stays */
	c = cursor_make(raw, len);
	n = percent_decode(&c, out, size - 1);      /* control bytes refused */
	if (n < 0)
		return (int)n;
	out[n] = '\0';
	return 0;
}

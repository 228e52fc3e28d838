#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistr.h>

size_t
str_copy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

int
parse_u64(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return len == 0 ? -EINVAL : -ERANGE;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

uint64_t
clock_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
clock_deadline_ms(struct timespec *at, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, at);
	at->tv_sec += ms / 1000;
	at->tv_nsec += (long)(ms % 1000) * 1000000L;
	at->tv_sec += at->tv_nsec / 1000000000L;
	at->tv_nsec %= 1000000000L;
}

static const char replacement[] = "\xef\xbf\xbd";     /* U+FFFD */

/* The next character of s[0..len): its length (0: not well-formed, or
 * a NUL) and its code point. */
static size_t
utf8_next(const char *s, size_t len, ucs4_t *uc)
{
	int n = u8_mbtoucr(uc, (const uint8_t *)s, len);

	return n > 0 && *uc != 0 ? (size_t)n : 0;
}

size_t
utf8_tail(const char *s, size_t len, size_t max)
{
	size_t at = len > max ? len - max : 0;

	/* step over continuation bytes (10xxxxxx): at most 3 of them */
	for (unsigned k = 0; k < 3 && at < len && ((unsigned char)s[at] & 0xc0) == 0x80; k++)
		at++;
	return at;
}

static bool
is_control(ucs4_t uc)
{
	return uc < 0x20 || uc == 0x7f || (uc >= 0x80 && uc <= 0x9f);
}

enum escape { ESCAPE_NONE, ESCAPE_CONTROLS, ESCAPE_CONTROLS_BUT_LINES };

/* src[0..len) into dst as valid UTF-8, control characters escaped as the
 * mode says; never a character cut; NUL-terminated.  Bytes written. */
static size_t
utf8_copy(char *dst, size_t size, const char *src, size_t len, enum escape mode)
{
	size_t o = 0, i = 0;
	ucs4_t uc;

	if (size == 0)
		return 0;
	while (i < len) {
		size_t n = utf8_next(src + i, len - i, &uc);
		bool keep = mode == ESCAPE_CONTROLS_BUT_LINES && (uc == '\n' || uc == '\t');
		char esc[8];
		const char *piece = src + i;
		size_t plen = n;
		if (n == 0) {
			piece = replacement;
			plen = sizeof replacement - 1;
		} else if (mode != ESCAPE_NONE && is_control(uc) && !keep) {
			piece = esc;
			plen = (size_t)snprintf(esc, sizeof esc, "\\x%02x", (unsigned)uc);
		}
		if (o + plen >= size)
			break;
		memcpy(dst + o, piece, plen);
		o += plen;
		i += n > 0 ? n : 1;
	}
	dst[o] = '\0';
	return o;
}

size_t
utf8_sanitize(char *dst, size_t size, const char *src, size_t len)
{
	return utf8_copy(dst, size, src, len, ESCAPE_NONE);
}

size_t
text_escape_controls(char *dst, size_t size, const char *s, bool lines)
{
	return utf8_copy(dst, size, s, strlen(s), lines ? ESCAPE_CONTROLS_BUT_LINES :
	    ESCAPE_CONTROLS);
}

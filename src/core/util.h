/* Small helpers every part uses: bounded string copy, strict numbers. */
#ifndef PXED_CORE_UTIL_H
#define PXED_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct timespec;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

/* Copy src into dst of size bytes, always NUL-terminated when size > 0.
 * Returns strlen(src); a result >= size means it was cut. */
size_t str_copy(char *dst, const char *src, size_t size);

/* Parse a whole decimal string of digits only (no sign, no blanks) of at
 * most 20 digits into *out.  Returns 0, -EINVAL (not a number) or
 * -ERANGE (outside [min, max]). */
int parse_u64(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out);

/* The value of a hexadecimal digit, or -1. */
int hex_digit(int c);

/* Text from outside (an agent, a DHCP client, a disk) as valid UTF-8:
 * src[0..len) copied into dst of size bytes, every byte that does not
 * start a well-formed UTF-8 character (or a NUL) replaced by U+FFFD, never
 * cutting a character; always NUL-terminated when size > 0.  A dst of
 * 3 * len + 1 bytes holds all of it.  Returns the bytes written. */
size_t utf8_sanitize(char *dst, size_t size, const char *src, size_t len);
/* Where the last at most max bytes of s[0..len) begin on a character
 * boundary (a tail cut of a log): an offset into s. */
size_t utf8_tail(const char *s, size_t len, size_t max);
/* s as a terminal may print it: valid UTF-8 (as utf8_sanitize), and each
 * control character (C0, DEL, C1: U+0080-U+009F) written as \xNN, so no
 * escape sequence reaches a terminal; with lines, newlines and tabs stay
 * (a multi-line log), else they are escaped too (one line of a table).
 * A dst of 4 * strlen(s) + 1 holds all. */
size_t text_escape_controls(char *dst, size_t size, const char *s, bool lines);

/* Monotonic clock in microseconds. */
uint64_t clock_now_us(void);
/* *at = the monotonic clock ms milliseconds from now: a deadline for
 * pthread_cond_timedwait on a condition set to CLOCK_MONOTONIC. */
void clock_deadline_ms(struct timespec *at, unsigned ms);

#endif

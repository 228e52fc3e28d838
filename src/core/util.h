/* Small helpers every part uses: bounded string copy, strict numbers. */
#ifndef PXED_CORE_UTIL_H
#define PXED_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Monotonic clock in microseconds. */
uint64_t clock_now_us(void);

#endif

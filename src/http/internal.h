/* Pure helpers of the HTTP server, shared by its files and exposed for the
 * unit tests and the fuzzer.  Nothing here includes microhttpd.h or touches
 * the filesystem or the network. */
#ifndef PXED_HTTP_INTERNAL_H
#define PXED_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define HTTP_TARGET_MAX 4096    /* decoded request path before normalizing */
#define HTTP_DATE_SIZE 32       /* "Sun, 06 Nov 1994 08:49:37 GMT" + NUL */
#define HTTP_ETAG_SIZE 64       /* "\"<ino>-<size>-<mtime ns>\"" in hex + NUL */
#define HTTP_RANGE_VALUE_MAX 256 /* longer Range values are ignored */

/* Parse a Range header value against a representation of size bytes.
 * Only one range of unit "bytes" is honoured: "a-b", "a-", "-n".
 * Returns 0 with *start and *count (count >= 1) for a satisfiable range,
 * -ERANGE when the range cannot be satisfied (416), or -EINVAL when the
 * header is malformed, has several ranges or another unit: then the
 * header is ignored and the whole file sent (RFC 7233 allows it). */
int http_range_parse(const char *value, size_t len, uint64_t size,
    uint64_t *start, uint64_t *count);

/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of t, in buf of at least
 * HTTP_DATE_SIZE bytes.  Returns 0 or -EINVAL (size too small, bad time). */
int http_date_format(time_t t, char *buf, size_t size);
/* Parse an IMF-fixdate exactly (leading/trailing blanks allowed).
 * Returns 0 and *out, or -EINVAL. */
int http_date_parse(const char *s, size_t len, time_t *out);

/* Strong validator from inode, size and mtime in nanoseconds, in hex,
 * quoted: "\"1a2b-400-17d0c3a51c4f2e00\"".  buf >= HTTP_ETAG_SIZE. */
void http_etag_format(const struct stat *st, char *buf, size_t size);
/* Does the If-None-Match list (comma separated entity tags, or "*") match
 * etag?  Weak comparison as RFC 7232 wants for If-None-Match: a "W/"
 * prefix is ignored.  A malformed list matches nothing. */
bool http_etag_list_match(const char *list, size_t len, const char *etag);

/* Media type by file name suffix (case-insensitive). */
const char *http_content_type(const char *path);

/* HTTP status for a negative errno from http_path_resolve (resolving) or
 * files_open_read: -EINVAL is a bad escape (400) from the first and "not a
 * regular file" (404) from the second. */
unsigned http_status_for_error(int err, bool resolving);

/* A query argument's value as sent (MHD leaves it undecoded: see
 * server.c) percent-decoded once into out, '+' as a blank; control bytes
 * and bad escapes refused.  0, -EINVAL, -EACCES or -ENAMETOOLONG. */
int http_query_value_decode(const char *value, char *out, size_t size);

#endif

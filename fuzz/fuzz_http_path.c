/* libFuzzer harness: request targets through http_path_resolve() and Range
 * values through http_range_parse(), checking what each promises.
 * Input: the whole buffer is a request target; for Range, the first 8
 * bytes (little-endian) are the file size and the rest the header value. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/internal.h"
#include "http/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_path(const uint8_t *data, size_t size)
{
	char out[FILES_PATH_MAX];
	int rc = http_path_resolve((const char *)data, size, "/srv/tftp", out, sizeof out);

	if (rc < 0) {
		if (out[0] != '\0')
			abort();
		return;
	}
	size_t len = strnlen(out, sizeof out);
	if (len >= sizeof out || out[0] == '/' || strstr(out, "//") != NULL)
		abort();
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			abort();
	}
	/* no ".." component anywhere */
	for (const char *p = out; *p != '\0'; ) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			abort();
		p += n;
		if (*p == '/')
			p++;
	}
}

static void
check_range(const uint8_t *data, size_t size)
{
	uint64_t file_size = 0, start = 0, count = 0;

	if (size < 8)
		return;
	for (int i = 7; i >= 0; i--)
		file_size = file_size << 8 | data[i];
	int rc = http_range_parse((const char *)data + 8, size - 8, file_size,
	    &start, &count);
	if (rc == 0 && (count == 0 || start >= file_size || count > file_size - start))
		abort();
	if (rc != 0 && rc != -EINVAL && rc != -ERANGE)
		abort();
}

static void
check_headers(const uint8_t *data, size_t size)
{
	char buf[HTTP_DATE_SIZE];
	time_t t;

	if (http_date_parse((const char *)data, size, &t) == 0) {
		if (http_date_format(t, buf, sizeof buf) != 0)
			abort();
		time_t back;
		if (http_date_parse(buf, strlen(buf), &back) != 0 || back != t)
			abort();
	}
	(void)http_etag_list_match((const char *)data, size, "\"1a2b-400-77359405\"");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_path(data, size);
	check_range(data, size);
	check_headers(data, size);
	return 0;
}

/* libFuzzer harness: chunk sources, as the chunk-sources setting (global or
 * [subnet]) and as one URL of a task's "chunk_sources" (the agent reads
 * them from the network): chunk_sources_parse() and
 * chunk_source_url_parse() (image/sources.c).  Checks: every URL taken
 * starts with http://, names a host, ends with '/', holds only the bytes
 * allowed and fits; a parsed list written back parses to the same list. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/sources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
url_check(const char *u)
{
	size_t n = strlen(u);

	if (n < 9 || n >= CHUNK_SOURCE_URL_MAX || strncmp(u, "http://", 7) != 0 ||
	    u[7] == '/' || u[n - 1] != '/')
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f ||
		    strchr("\"\\<>`{}|^?#", u[i]) != NULL)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[CHUNK_SOURCES_TEXT_MAX + 64], url[CHUNK_SOURCE_URL_MAX], err[256];
	char again_text[CHUNK_SOURCES_TEXT_MAX + 64];
	struct chunk_sources s, again;

	/* one URL as a task carries it: any bytes, NULs too */
	if (chunk_source_url_parse((const char *)data, size, url, err, sizeof err) == 0)
		url_check(url);
	if (size >= sizeof text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (chunk_sources_parse(text, &s, err, sizeof err) != 0)
		return 0;
	if (s.count > CHUNK_SOURCES_MAX)
		abort();
	for (size_t i = 0; i < s.count; i++)
		url_check(s.url[i]);
	chunk_sources_format(&s, again_text, sizeof again_text);
	if (chunk_sources_parse(again_text, &again, err, sizeof err) != 0 ||
	    memcmp(&s, &again, sizeof s) != 0)
		abort();
	return 0;
}

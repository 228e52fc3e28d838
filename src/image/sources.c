/* Chunk sources: the setting's syntax and the choice by address. */
#include "image/sources.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#define SCHEME "http://"

static bool
url_byte_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("\"\\<>`{}|^?#", c) == NULL;
}

int
chunk_source_url_parse(const char *text, size_t len, char out[CHUNK_SOURCE_URL_MAX],
    char *err, size_t errlen)
{
	size_t scheme = sizeof SCHEME - 1, host = 0;

	if (len < scheme || memcmp(text, SCHEME, scheme) != 0) {
		snprintf(err, errlen, "a chunk source is an http:// URL");
		return -EINVAL;
	}
	/* the limit holds with the '/' added, so the stored form parses again */
	if (len + (text[len - 1] != '/') > CHUNK_SOURCE_URL_MAX - 2) {
		snprintf(err, errlen, "a chunk source URL is at most %d bytes (with its final '/')",
		    CHUNK_SOURCE_URL_MAX - 2);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (!url_byte_ok((unsigned char)text[i])) {
			snprintf(err, errlen, "a chunk source URL holds byte 0x%02x at %zu "
			    "(no spaces, quotes, queries or fragments)", (unsigned char)text[i], i);
			return -EINVAL;
		}
	}
	while (scheme + host < len && text[scheme + host] != '/')
		host++;
	if (host == 0 || text[scheme] == ':' || text[scheme] == '@') {
		snprintf(err, errlen, "a chunk source URL names a host: http://HOST[:PORT]/PATH/");
		return -EINVAL;
	}
	memcpy(out, text, len);
	if (text[len - 1] != '/')
		out[len++] = '/';
	out[len] = '\0';
	return 0;
}

static bool
is_separator(char c)
{
	return c == ' ' || c == '\t' || c == ',';
}

int
chunk_sources_parse(const char *text, struct chunk_sources *out, char *err, size_t errlen)
{
	size_t i = 0, n = strlen(text);

	memset(out, 0, sizeof *out);
	if (strcmp(text, "none") == 0)
		return 0;
	while (i < n) {
		size_t start, len;
		while (i < n && is_separator(text[i]))
			i++;
		start = i;
		while (i < n && !is_separator(text[i]))
			i++;
		if ((len = i - start) == 0)
			break;
		if (out->count == CHUNK_SOURCES_MAX) {
			snprintf(err, errlen, "more than %d chunk sources", CHUNK_SOURCES_MAX);
			return -EINVAL;
		}
		if (chunk_source_url_parse(text + start, len, out->url[out->count], err, errlen) < 0)
			return -EINVAL;
		out->count++;
	}
	if (out->count == 0) {
		snprintf(err, errlen, "no chunk source: http:// URLs, or none");
		return -EINVAL;
	}
	return 0;
}

void
chunk_sources_format(const struct chunk_sources *s, char *out, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return;
	out[0] = '\0';
	if (s->count == 0) {
		snprintf(out, size, "none");
		return;
	}
	for (size_t i = 0; i < s->count && used < size; i++) {
		int n = snprintf(out + used, size - used, "%s%s", i > 0 ? " " : "", s->url[i]);
		if (n < 0)
			return;
		used += (size_t)n;
	}
}

int
chunk_sources_check(const char *value, char *err, size_t size)
{
	struct chunk_sources s;

	return chunk_sources_parse(value, &s, err, size);
}

const struct chunk_sources_rule *
chunk_sources_pick(const struct chunk_sources_rule *rules, size_t count, struct in_addr addr)
{
	const struct chunk_sources_rule *best = NULL;

	for (size_t i = 0; i < count; i++) {
		const struct chunk_sources_rule *r = &rules[i];
		if ((addr.s_addr & r->netmask.s_addr) != r->network.s_addr)
			continue;
		if (best == NULL || ntohl(r->netmask.s_addr) > ntohl(best->netmask.s_addr))
			best = r;
	}
	return best;
}

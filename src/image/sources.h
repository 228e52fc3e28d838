/* Chunk sources: HTTP places that serve a repository's chunks/ directory
 * (a mirror, a caching proxy in front of pxed), tried by the agent before
 * the server itself (docs/IMAGING.md, "Chunks from caches").
 *
 * Pure: the syntax of the chunk-sources setting (global and per [subnet])
 * and of one source URL, and the choice of a list by an address.  Used by
 * the server (config check, the task JSON) and by the agent (the task's
 * list, checked again: it came over the network). */
#ifndef PXED_IMAGE_SOURCES_H
#define PXED_IMAGE_SOURCES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define CHUNK_SOURCES_MAX 4             /* caches before the server */
#define CHUNK_SOURCE_URL_MAX 256        /* with its '/' and NUL */
#define CHUNK_SOURCES_TEXT_MAX (CHUNK_SOURCES_MAX * CHUNK_SOURCE_URL_MAX)

struct chunk_sources {
	size_t count;
	char url[CHUNK_SOURCES_MAX][CHUNK_SOURCE_URL_MAX];      /* each ends with '/' */
};

/* One source: "http://HOST[:PORT][/PATH]" of printable ASCII without
 * spaces, quotes, '\', '<', '>', '`', '{', '}', '|', '^', '?' or '#' (the
 * chunk's path is appended to it), at most CHUNK_SOURCE_URL_MAX - 2 bytes
 * with the '/' added when it has none (so the stored form parses again).  0, or -EINVAL with
 * the reason in err. */
int chunk_source_url_parse(const char *text, size_t len, char out[CHUNK_SOURCE_URL_MAX],
    char *err, size_t errlen);

/* The setting's value: URLs separated by spaces, tabs or commas, in the
 * order to try them, at most CHUNK_SOURCES_MAX; or "none" (no cache: the
 * server only).  0, or -EINVAL with the reason in err. */
int chunk_sources_parse(const char *text, struct chunk_sources *out, char *err, size_t errlen);

/* The value written back (URLs separated by one space, or "none"). */
void chunk_sources_format(const struct chunk_sources *s, char *out, size_t size);

/* The config's check of chunk-sources (config_validator). */
int chunk_sources_check(const char *value, char *err, size_t size);

/* A list for the addresses of a subnet. */
struct chunk_sources_rule {
	struct in_addr network, netmask;
	struct chunk_sources sources;
};

/* The rule of the most specific subnet holding addr (network order), or
 * NULL. */
const struct chunk_sources_rule *chunk_sources_pick(const struct chunk_sources_rule *rules,
    size_t count, struct in_addr addr);

#endif

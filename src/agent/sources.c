/* The chunk sources of a deploy: the order, the rests, the counts. */
#include "agent/sources.h"

#include <string.h>

#include "core/util.h"

void
source_set_init(struct source_set *s, const struct chunk_sources *caches,
    const char *server_url)
{
	memset(s, 0, sizeof *s);
	for (size_t i = 0; caches != NULL && i < caches->count && i < CHUNK_SOURCES_MAX; i++)
		str_copy(s->src[s->count++].url, caches->url[i], SOURCE_URL_MAX);
	str_copy(s->src[s->count].url, server_url, SOURCE_URL_MAX);
	s->src[s->count++].server = true;
	for (size_t i = 0; i < s->count; i++)
		s->src[i].rest_us = SOURCE_REST_FIRST_US;
}

size_t
source_set_next(const struct source_set *s, size_t from, uint64_t now_us)
{
	for (size_t i = from; i + 1 < s->count; i++)
		if (s->src[i].rest_until_us <= now_us)
			return i;
	return s->count - 1;
}

bool
source_set_record(struct source_set *s, size_t i, enum source_outcome o, uint64_t bytes,
    uint64_t now_us)
{
	struct source *src;

	if (i >= s->count)
		return false;
	src = &s->src[i];
	switch (o) {
	case SOURCE_OK:
		src->chunks++;
		src->bytes += bytes;
		src->fails = 0;
		src->rest_us = SOURCE_REST_FIRST_US;
		return false;
	case SOURCE_BAD: src->bad++; break;
	case SOURCE_MISSING: src->missing++; break;
	case SOURCE_FAILED: src->failed++; break;
	}
	/* a fetch begun before the source was put to rest: counted only */
	if (src->server || src->rest_until_us > now_us || ++src->fails < SOURCE_FAILS_MAX)
		return false;
	/* SOURCE_FAILS_MAX in a row, or the first failure after a rest */
	src->rest_until_us = now_us + src->rest_us;
	src->rest_us = MIN(src->rest_us * 2, SOURCE_REST_MAX_US);
	src->rests++;
	return true;
}

/* libFuzzer harness: manifest_parse on any bytes; whatever it accepts must
 * keep its promises (chunks sorted, not overlapping, inside the disk, each
 * at most IMAGE_CHUNK_MAX) and survive manifest_format + manifest_parse
 * unchanged: the same chunks, partitions and header fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_promises(const struct manifest *m)
{
	if (!image_name_valid(m->name) || m->chunk_size == 0 || m->nparts > DISK_MAX_PARTS)
		abort();
	for (size_t i = 0; i < m->nchunks; i++) {
		const struct image_chunk *c = &m->chunk[i];
		if (c->length == 0 || c->length > IMAGE_CHUNK_MAX ||
		    c->offset + c->length > m->disk_size)
			abort();
		if (i > 0 && m->chunk[i - 1].offset + m->chunk[i - 1].length > c->offset)
			abort();
	}
	for (size_t i = 0; i < m->nparts; i++)
		if (m->part[i].offset + m->part[i].length > m->disk_size ||
		    m->part[i].used > m->part[i].length)
			abort();
}

static void
check_same(const struct manifest *a, const struct manifest *b)
{
	if (strcmp(a->name, b->name) != 0 || a->created != b->created ||
	    a->disk_size != b->disk_size || a->sector_size != b->sector_size ||
	    a->table != b->table || a->chunk_size != b->chunk_size ||
	    a->nparts != b->nparts || a->nchunks != b->nchunks)
		abort();
	if (memcmp(a->part, b->part, a->nparts * sizeof a->part[0]) != 0)
		abort();
	for (size_t i = 0; i < a->nchunks; i++)
		if (a->chunk[i].offset != b->chunk[i].offset ||
		    a->chunk[i].length != b->chunk[i].length ||
		    a->chunk[i].table != b->chunk[i].table ||
		    memcmp(a->chunk[i].sha256, b->chunk[i].sha256, SHA256_LEN) != 0)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m, again;
	char err[256], *text;
	size_t len;

	if (manifest_parse((const char *)data, size, &m, err, sizeof err) != 0) {
		if (err[0] == '\0' || m.chunk != NULL)
			abort();
		return 0;
	}
	check_promises(&m);
	text = manifest_format(&m, &len);
	if (text == NULL)
		abort();
	if (manifest_parse(text, len, &again, err, sizeof err) != 0)
		abort();
	check_same(&m, &again);
	free(text);
	manifest_free(&again);
	manifest_free(&m);
	return 0;
}

/* libFuzzer harness: manifest_parse on any bytes; whatever it accepts must
 * keep its promises (chunks sorted, not overlapping, inside the disk, each
 * at most IMAGE_CHUNK_MAX) and survive manifest_format + manifest_parse
 * unchanged: the same chunks, partitions and header fields.  The streaming
 * reader fed the same bytes in pieces agrees with the whole parse. */
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

/* The streaming reader in three pieces (cut where the input says) gives
 * the same verdict as the whole text at once. */
static int
parse_in_pieces(const uint8_t *data, size_t size)
{
	size_t a = size > 0 ? data[0] % (size + 1) : 0, b = a + (size - a) / 2;
	struct manifest_reader *r;
	struct manifest m;
	char err[256];
	int rc;

	if (manifest_reader_new(&r, &m, NULL, NULL) != 0)
		abort();
	rc = manifest_reader_feed(r, (const char *)data, a, err, sizeof err);
	if (rc == 0)
		rc = manifest_reader_feed(r, (const char *)data + a, b - a, err, sizeof err);
	if (rc == 0)
		rc = manifest_reader_feed(r, (const char *)data + b, size - b, err, sizeof err);
	if (rc == 0)
		rc = manifest_reader_end(r, err, sizeof err);
	manifest_reader_free(r);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m, again;
	char err[256], *text;
	size_t len;
	int rc = manifest_parse((const char *)data, size, &m, err, sizeof err);

	if ((rc == 0) != (parse_in_pieces(data, size) == 0))
		abort();
	if (rc != 0) {
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

/* Resume tracking: a done flag per chunk and the first one still open. */
#include "agent/resume.h"

#include <errno.h>
#include <stdlib.h>

int
resume_init(struct resume *r, const struct image_chunk *chunk, size_t n,
    uint64_t resume_offset)
{
	r->chunk = chunk;
	r->n = n;
	r->first_open = 0;
	r->bytes_done = 0;
	r->done = calloc(n ? n : 1, sizeof *r->done);
	if (r->done == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (chunk[i].offset + chunk[i].length <= resume_offset)
			resume_mark(r, i);
	return 0;
}

void
resume_free(struct resume *r)
{
	free(r->done);
	r->done = NULL;
	r->n = 0;
}

bool
resume_is_done(const struct resume *r, size_t i)
{
	return i < r->n && r->done[i];
}

void
resume_mark(struct resume *r, size_t i)
{
	if (i >= r->n || r->done[i])
		return;
	r->done[i] = true;
	r->bytes_done += r->chunk[i].length;
	while (r->first_open < r->n && r->done[r->first_open])
		r->first_open++;
}

uint64_t
resume_offset(const struct resume *r)
{
	const struct image_chunk *last;

	if (r->first_open < r->n)
		return r->chunk[r->first_open].offset;
	if (r->n == 0)
		return 0;
	last = &r->chunk[r->n - 1];
	return last->offset + last->length;
}

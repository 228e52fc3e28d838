/* Sorted extent lists: the used bytes of a disk. */
#include <errno.h>
#include <stdlib.h>

#include "image/disk.h"

void
extent_list_free(struct extent_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int
extent_list_add(struct extent_list *l, uint64_t offset, uint64_t length)
{
	if (length == 0)
		return 0;
	if (offset + length < offset)
		return -EINVAL;
	if (l->n > 0) {
		struct extent *last = &l->v[l->n - 1];
		uint64_t end = last->offset + last->length;

		if (offset < last->offset)
			return -EINVAL;
		if (offset <= end) {
			if (offset + length > end)
				last->length = offset + length - last->offset;
			return 0;
		}
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct extent *v = reallocarray(l->v, cap, sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].offset = offset;
	l->v[l->n].length = length;
	l->n++;
	return 0;
}

uint64_t
extent_list_bytes(const struct extent_list *l)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < l->n; i++)
		sum += l->v[i].length;
	return sum;
}

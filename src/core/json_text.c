/* JSON text, whole or nothing: core/json_text.h. */
#include "core/json_text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_FIRST 256

struct text_buf {
	char *data;
	size_t len, size;
	bool failed;                    /* sticky: jansson may not stop at the first */
};

static int
text_append(const char *bytes, size_t n, void *ctx)
{
	struct text_buf *b = ctx;

	if (b->failed)
		return -1;
	if (n >= b->size - b->len) {
		size_t size = b->size > 0 ? b->size : TEXT_FIRST;
		char *p;
		while (n >= size - b->len) {
			if (size > SIZE_MAX / 2) {
				b->failed = true;
				return -1;
			}
			size *= 2;
		}
		p = realloc(b->data, size);
		if (p == NULL) {
			b->failed = true;
			return -1;
		}
		b->data = p;
		b->size = size;
	}
	memcpy(b->data + b->len, bytes, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

char *
json_text(const json_t *v, size_t flags, size_t *len)
{
	struct text_buf b = { 0 };

	if (v == NULL || json_dump_callback(v, text_append, &b, flags) != 0 || b.failed ||
	    b.data == NULL) {
		free(b.data);
		return NULL;
	}
	if (len != NULL)
		*len = b.len;
	return b.data;
}

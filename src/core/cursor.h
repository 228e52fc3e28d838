/* Bounded byte cursors for parsing and building packets.
 *
 * A reader holds a pointer and the number of bytes left; every read checks
 * the remaining length first and fails (returns false) without moving when
 * the bytes are not there.  Multi-byte fields are read with memcpy + ntoh
 * (network order) or memcpy + le*toh (little-endian on-disk formats: MBR,
 * GPT, FAT), never by casting the buffer.  A writer works the same way and remembers an
 * overflow so a builder can check once at the end. */
#ifndef PXED_CORE_CURSOR_H
#define PXED_CORE_CURSOR_H

#include <arpa/inet.h>
#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t *p;
	size_t left;
};

static inline struct cursor
cursor_make(const void *buf, size_t len)
{
	struct cursor c = { .p = buf, .left = len };
	return c;
}

static inline bool
cursor_u8(struct cursor *c, uint8_t *out)
{
	if (c->left < 1)
		return false;
	*out = c->p[0];
	c->p++;
	c->left--;
	return true;
}

static inline bool
cursor_u16(struct cursor *c, uint16_t *out)
{
	uint16_t v;

	if (c->left < 2)
		return false;
	memcpy(&v, c->p, 2);
	*out = ntohs(v);
	c->p += 2;
	c->left -= 2;
	return true;
}

static inline bool
cursor_u32(struct cursor *c, uint32_t *out)
{
	uint32_t v;

	if (c->left < 4)
		return false;
	memcpy(&v, c->p, 4);
	*out = ntohl(v);
	c->p += 4;
	c->left -= 4;
	return true;
}

/* Little-endian fields, as disk formats (MBR, GPT, FAT) store them. */
static inline bool
cursor_le16(struct cursor *c, uint16_t *out)
{
	uint16_t v;

	if (c->left < 2)
		return false;
	memcpy(&v, c->p, 2);
	*out = le16toh(v);
	c->p += 2;
	c->left -= 2;
	return true;
}

static inline bool
cursor_le32(struct cursor *c, uint32_t *out)
{
	uint32_t v;

	if (c->left < 4)
		return false;
	memcpy(&v, c->p, 4);
	*out = le32toh(v);
	c->p += 4;
	c->left -= 4;
	return true;
}

static inline bool
cursor_le64(struct cursor *c, uint64_t *out)
{
	uint64_t v;

	if (c->left < 8)
		return false;
	memcpy(&v, c->p, 8);
	*out = le64toh(v);
	c->p += 8;
	c->left -= 8;
	return true;
}

/* Skip n bytes. */
static inline bool
cursor_skip(struct cursor *c, size_t n)
{
	if (c->left < n)
		return false;
	c->p += n;
	c->left -= n;
	return true;
}

/* Take n bytes in place. */
static inline bool
cursor_bytes(struct cursor *c, size_t n, const uint8_t **out)
{
	if (c->left < n)
		return false;
	*out = c->p;
	c->p += n;
	c->left -= n;
	return true;
}

/* Take a NUL-terminated string that lies wholly within the remaining bytes.
 * On success *out points at it in place, *len is its length without the NUL
 * and the cursor is past the NUL. */
static inline bool
cursor_cstring(struct cursor *c, const char **out, size_t *len)
{
	const uint8_t *nul = memchr(c->p, '\0', c->left);

	if (nul == NULL)
		return false;
	*out = (const char *)c->p;
	*len = (size_t)(nul - c->p);
	c->left -= *len + 1;
	c->p = nul + 1;
	return true;
}

struct writer {
	uint8_t *p;
	size_t left;
	size_t used;
	bool overflow;
};

static inline struct writer
writer_make(void *buf, size_t size)
{
	struct writer w = { .p = buf, .left = size, .used = 0, .overflow = false };
	return w;
}

static inline void
writer_bytes(struct writer *w, const void *src, size_t n)
{
	if (w->overflow || w->left < n) {
		w->overflow = true;
		return;
	}
	if (n > 0)
		memcpy(w->p, src, n);
	w->p += n;
	w->left -= n;
	w->used += n;
}

static inline void
writer_u8(struct writer *w, uint8_t v)
{
	writer_bytes(w, &v, 1);
}

static inline void
writer_u16(struct writer *w, uint16_t v)
{
	uint16_t n = htons(v);
	writer_bytes(w, &n, 2);
}

static inline void
writer_u32(struct writer *w, uint32_t v)
{
	uint32_t n = htonl(v);
	writer_bytes(w, &n, 4);
}

/* Write s and its terminating NUL. */
static inline void
writer_cstring(struct writer *w, const char *s)
{
	writer_bytes(w, s, strlen(s) + 1);
}

#endif

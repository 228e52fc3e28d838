/* Image manifest: names, hashes and JSON out (manifest_read.c reads it). */
#include "image/manifest.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"
#include "core/util.h"

static const char *const ptable_names[] = {
	[PTABLE_NONE] = "none", [PTABLE_MBR] = "mbr", [PTABLE_GPT] = "gpt",
};

static const char *const fs_names[] = {
	[FS_UNKNOWN] = "raw", [FS_EXT] = "ext", [FS_NTFS] = "ntfs",
	[FS_FAT] = "fat", [FS_SWAP] = "swap", [FS_BITLOCKER] = "bitlocker",
};

const char *
ptable_kind_name(enum ptable_kind kind)
{
	return (size_t)kind < ARRAY_SIZE(ptable_names) ? ptable_names[kind] : "?";
}

const char *
image_fs_name(enum fs_kind kind)
{
	return (size_t)kind < ARRAY_SIZE(fs_names) ? fs_names[kind] : "raw";
}

static int
name_lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

int
ptable_kind_parse(const char *name)
{
	return name_lookup(ptable_names, ARRAY_SIZE(ptable_names), name);
}

int
image_fs_parse(const char *name)
{
	return name_lookup(fs_names, ARRAY_SIZE(fs_names), name);
}

bool
image_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > IMAGE_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

void
sha256_hex(const uint8_t sha[SHA256_LEN], char out[SHA256_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = digits[sha[i] >> 4];
		out[2 * i + 1] = digits[sha[i] & 15];
	}
	out[SHA256_HEX_LEN] = '\0';
}

int
sha256_parse(const char *hex, size_t len, uint8_t out[SHA256_LEN])
{
	if (len != SHA256_HEX_LEN)
		return -EINVAL;
	for (size_t i = 0; i < SHA256_LEN; i++) {
		int hi = hex_digit((unsigned char)hex[2 * i]);
		int lo = hex_digit((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void
manifest_free(struct manifest *m)
{
	free(m->chunk);
	m->chunk = NULL;
	m->nchunks = 0;
}

uint64_t
manifest_bytes(const struct manifest *m)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < m->nchunks; i++)
		sum += m->chunk[i].length;
	return sum;
}

/* ---- formatting ---- */

static json_t *
chunk_json(const struct image_chunk *c)
{
	char hex[SHA256_HEX_LEN + 1];

	sha256_hex(c->sha256, hex);
	return json_pack("[I,I,s]", (json_int_t)c->offset, (json_int_t)c->length, hex);
}

static json_t *
part_json(const struct image_part *p)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:s}", "index", (json_int_t)p->index,
	    "offset", (json_int_t)p->offset, "length", (json_int_t)p->length,
	    "used", (json_int_t)p->used,
	    "fs", (size_t)p->fs < ARRAY_SIZE(fs_names) ? fs_names[p->fs] : "raw");
}

static json_t *
manifest_json(const struct manifest *m)
{
	json_t *parts = json_array(), *tchunks = json_array(), *chunks = json_array();

	for (size_t i = 0; i < m->nparts; i++)
		json_array_append_new(parts, part_json(&m->part[i]));
	for (size_t i = 0; i < m->nchunks; i++)
		json_array_append_new(m->chunk[i].table ? tchunks : chunks,
		    chunk_json(&m->chunk[i]));
	return json_pack("{s:i,s:s,s:I,s:{s:I,s:I,s:s},s:I,s:o,s:o,s:o}",
	    "format", IMAGE_FORMAT_VERSION, "name", m->name,
	    "created", (json_int_t)m->created,
	    "disk", "size", (json_int_t)m->disk_size,
	    "sector_size", (json_int_t)m->sector_size,
	    "table", ptable_kind_name(m->table),
	    "chunk_size", (json_int_t)m->chunk_size,
	    "partitions", parts, "table_chunks", tchunks, "chunks", chunks);
}

char *
manifest_format(const struct manifest *m, size_t *len)
{
	json_t *root = manifest_json(m);
	char *text;

	if (root == NULL)
		return NULL;
	text = json_text(root, JSON_COMPACT, NULL);
	json_decref(root);
	if (text != NULL && len != NULL)
		*len = strlen(text);
	return text;
}

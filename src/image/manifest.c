/* Image manifest: JSON in and out, and every check a deploy relies on. */
#include "image/manifest.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- parsing ---- */

struct parse {
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int
fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A non-negative integer member. */
static int
get_u64(struct parse *p, json_t *obj, const char *key, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		return fail(p, "\"%s\" missing or not an integer", key);
	if (json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
		return fail(p, "\"%s\" out of range", key);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int
get_string(struct parse *p, json_t *obj, const char *key, const char **out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return fail(p, "\"%s\" missing or not a string", key);
	*out = json_string_value(v);
	return 0;
}

static int
parse_disk(struct parse *p, json_t *root, struct manifest *m)
{
	json_t *disk = json_object_get(root, "disk");
	const char *table = NULL;
	uint64_t v;
	int kind;

	if (!json_is_object(disk))
		return fail(p, "\"disk\" missing");
	if (get_u64(p, disk, "size", INT64_MAX, &m->disk_size) < 0 ||
	    get_u64(p, disk, "sector_size", 65536, &v) < 0 ||
	    get_string(p, disk, "table", &table) < 0)
		return -EINVAL;
	if (v != 512 && v != 1024 && v != 2048 && v != 4096)
		return fail(p, "sector size %llu unsupported", (unsigned long long)v);
	m->sector_size = (uint32_t)v;
	kind = name_lookup(ptable_names, ARRAY_SIZE(ptable_names), table);
	if (kind < 0)
		return fail(p, "partition table \"%s\" unknown", table);
	m->table = (enum ptable_kind)kind;
	return 0;
}

static int
parse_part(struct parse *p, json_t *o, const struct manifest *m, struct image_part *out)
{
	const char *fs = NULL;
	uint64_t index;
	int kind;

	if (!json_is_object(o))
		return fail(p, "partition is not an object");
	if (get_u64(p, o, "index", DISK_MAX_PARTS, &index) < 0 ||
	    get_u64(p, o, "offset", m->disk_size, &out->offset) < 0 ||
	    get_u64(p, o, "length", m->disk_size, &out->length) < 0 ||
	    get_u64(p, o, "used", m->disk_size, &out->used) < 0 ||
	    get_string(p, o, "fs", &fs) < 0)
		return -EINVAL;
	if (index == 0 || out->length > m->disk_size - out->offset || out->used > out->length)
		return fail(p, "partition %llu outside the disk", (unsigned long long)index);
	kind = name_lookup(fs_names, ARRAY_SIZE(fs_names), fs);
	if (kind < 0)
		return fail(p, "filesystem \"%s\" unknown", fs);
	out->index = (unsigned)index;
	out->fs = (enum fs_kind)kind;
	return 0;
}

static int
parse_parts(struct parse *p, json_t *root, struct manifest *m)
{
	json_t *arr = json_object_get(root, "partitions");

	if (!json_is_array(arr))
		return fail(p, "\"partitions\" missing");
	if (json_array_size(arr) > DISK_MAX_PARTS)
		return fail(p, "too many partitions");
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (parse_part(p, json_array_get(arr, i), m, &m->part[i]) < 0)
			return -EINVAL;
	m->nparts = json_array_size(arr);
	return 0;
}

/* One chunk: [offset, length, "sha256"]. */
static int
parse_chunk(struct parse *p, json_t *a, const struct manifest *m, bool table,
    struct image_chunk *out)
{
	json_t *off = json_array_get(a, 0), *len = json_array_get(a, 1);
	json_t *sha = json_array_get(a, 2);

	if (!json_is_array(a) || json_array_size(a) != 3 || !json_is_integer(off) ||
	    !json_is_integer(len) || !json_is_string(sha))
		return fail(p, "chunk is not [offset, length, \"sha256\"]");
	if (json_integer_value(off) < 0 || json_integer_value(len) <= 0 ||
	    json_integer_value(len) > IMAGE_CHUNK_MAX)
		return fail(p, "chunk length out of range");
	out->offset = (uint64_t)json_integer_value(off);
	out->length = (uint32_t)json_integer_value(len);
	out->table = table;
	if (out->offset > m->disk_size || out->length > m->disk_size - out->offset)
		return fail(p, "chunk at %llu past the end of the disk",
		    (unsigned long long)out->offset);
	if (sha256_parse(json_string_value(sha), json_string_length(sha), out->sha256) < 0)
		return fail(p, "chunk at %llu: bad sha256", (unsigned long long)out->offset);
	return 0;
}

static int
chunk_cmp(const void *a, const void *b)
{
	const struct image_chunk *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int
parse_chunk_list(struct parse *p, json_t *root, const char *key, bool table,
    struct manifest *m)
{
	json_t *arr = json_object_get(root, key);

	if (!json_is_array(arr))
		return fail(p, "\"%s\" missing", key);
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (parse_chunk(p, json_array_get(arr, i), m, table, &m->chunk[m->nchunks++]) < 0)
			return -EINVAL;
	return 0;
}

static int
parse_chunks(struct parse *p, json_t *root, struct manifest *m)
{
	size_t total = json_array_size(json_object_get(root, "table_chunks")) +
	    json_array_size(json_object_get(root, "chunks"));

	if (total > IMAGE_CHUNKS_MAX)
		return fail(p, "too many chunks");
	m->chunk = calloc(total ? total : 1, sizeof *m->chunk);
	if (m->chunk == NULL)
		return -ENOMEM;
	if (parse_chunk_list(p, root, "table_chunks", true, m) < 0 ||
	    parse_chunk_list(p, root, "chunks", false, m) < 0)
		return -EINVAL;
	qsort(m->chunk, m->nchunks, sizeof *m->chunk, chunk_cmp);
	for (size_t i = 1; i < m->nchunks; i++)
		if (m->chunk[i - 1].offset + m->chunk[i - 1].length > m->chunk[i].offset)
			return fail(p, "chunks overlap at %llu",
			    (unsigned long long)m->chunk[i].offset);
	return 0;
}

static int
parse_root(struct parse *p, json_t *root, struct manifest *m)
{
	const char *name = NULL;
	uint64_t format, created;

	if (!json_is_object(root))
		return fail(p, "manifest is not a JSON object");
	if (get_u64(p, root, "format", 1000, &format) < 0)
		return -EINVAL;
	if (format != IMAGE_FORMAT_VERSION)
		return fail(p, "format %llu unsupported", (unsigned long long)format);
	if (get_string(p, root, "name", &name) < 0)
		return -EINVAL;
	if (!image_name_valid(name))
		return fail(p, "image name invalid");
	str_copy(m->name, name, sizeof m->name);
	if (get_u64(p, root, "created", INT64_MAX, &created) < 0 ||
	    get_u64(p, root, "chunk_size", IMAGE_CHUNK_MAX, &m->chunk_size) < 0)
		return -EINVAL;
	if (m->chunk_size == 0)
		return fail(p, "\"chunk_size\" out of range");
	m->created = (int64_t)created;
	if (parse_disk(p, root, m) < 0 || parse_parts(p, root, m) < 0)
		return -EINVAL;
	return parse_chunks(p, root, m);
}

int
manifest_parse(const char *text, size_t len, struct manifest *m, char *err, size_t errlen)
{
	struct parse p = { err, errlen };
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(m, 0, sizeof *m);
	if (errlen > 0)
		err[0] = '\0';
	if (len > IMAGE_MANIFEST_MAX)
		return fail(&p, "manifest too large");
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return fail(&p, "not JSON: line %d: %s", jerr.line, jerr.text);
	rc = parse_root(&p, root, m);
	json_decref(root);
	if (rc < 0)
		manifest_free(m);
	return rc;
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
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (text != NULL && len != NULL)
		*len = strlen(text);
	return text;
}

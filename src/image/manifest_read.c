/* The manifest reader: a streaming parse (yajl) that checks everything a
 * deploy relies on as the bytes arrive, and hands each chunk to a callback
 * instead of building a tree.
 *
 * Memory is bounded whatever the input: no JSON tree is built, a token
 * (string, number, literal) longer than MANIFEST_TOKEN_MAX is refused
 * before the lexer buffers it, and the only lists kept are the partitions
 * (at most DISK_MAX_PARTS) and the table chunks (MANIFEST_TABLE_MAX).  So
 * a server can validate a 64 MiB upload in constant memory, and
 * manifest_parse() costs what its chunk array costs.
 *
 * Streaming needs an order: "disk" and "table_chunks" come before
 * "chunks" (every manifest pxed writes has them so), and each list is
 * sorted by offset.  Other members may come in any order; unknown
 * members are skipped; duplicates are refused. */
#include "image/manifest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "core/util.h"

#define MANIFEST_TOKEN_MAX 1024         /* bytes of one string, number or literal */
#define MANIFEST_TABLE_MAX 256          /* table chunks (MBR/GPT, EBRs) */
#define MANIFEST_STACK 8

enum ctx { C_TOP, C_ROOT, C_DISK, C_PARTS, C_PART, C_TABLE, C_DATA, C_CHUNK, C_SKIP };

/* Members of the root, of "disk" and of a partition: bits in a mask. */
enum member {
	M_FORMAT, M_NAME, M_CREATED, M_DISK, M_CHUNK_SIZE, M_PARTS, M_TABLE, M_CHUNKS,
	M_SIZE, M_SECTOR, M_TABLE_KIND,
	M_INDEX, M_OFFSET, M_LENGTH, M_USED, M_FS,
	M_UNKNOWN,
};

static const char *const member_names[] = {
	[M_FORMAT] = "format", [M_NAME] = "name", [M_CREATED] = "created", [M_DISK] = "disk",
	[M_CHUNK_SIZE] = "chunk_size", [M_PARTS] = "partitions", [M_TABLE] = "table_chunks",
	[M_CHUNKS] = "chunks", [M_SIZE] = "size", [M_SECTOR] = "sector_size",
	[M_TABLE_KIND] = "table", [M_INDEX] = "index", [M_OFFSET] = "offset",
	[M_LENGTH] = "length", [M_USED] = "used", [M_FS] = "fs",
};

/* Which members each object has (first, one past the last). */
static const struct { enum member first, end; } object_members[] = {
	[C_ROOT] = { M_FORMAT, M_SIZE }, [C_DISK] = { M_SIZE, M_INDEX },
	[C_PART] = { M_INDEX, M_UNKNOWN },
};

struct manifest_reader {
	yajl_handle yajl;
	struct manifest *m;             /* header, partitions; chunk stays NULL */
	manifest_chunk_fn *on_chunk;
	void *arg;
	char err[256];
	int rc;                         /* the first error (-EINVAL, -ENOMEM, ...) */
	enum ctx stack[MANIFEST_STACK];
	unsigned depth;
	unsigned skip;                  /* levels open inside an unknown member */
	enum member key;                /* the member whose value comes next */
	uint32_t seen[C_SKIP];          /* members seen, per object being read */
	uint64_t format, created, sector, index;
	char table_kind[16], fs[16];         /* one size (string_member): "bitlocker" fits */
	bool ended;                     /* the root object closed */
	/* the chunk being read, and what it must not overlap */
	unsigned field;
	struct image_chunk cur;
	bool cur_bad;
	uint64_t prev_end[2];           /* end of the last chunk of each list */
	bool have_prev[2];
	struct image_chunk table[MANIFEST_TABLE_MAX];
	size_t ntable, next_table;      /* table chunks; the first that may overlap */
	size_t ndata;
	/* the token guard: bytes of the current token in the raw stream */
	bool in_string, escaped;
	size_t token;
};

__attribute__((format(printf, 2, 3)))
static int
fail(struct manifest_reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->rc == 0) {
		va_start(ap, fmt);
		vsnprintf(r->err, sizeof r->err, fmt, ap);
		va_end(ap);
		r->rc = -EINVAL;
	}
	return 0;                       /* stops yajl */
}

static enum ctx
top(const struct manifest_reader *r)
{
	return r->depth > 0 ? r->stack[r->depth - 1] : C_TOP;
}

static int
push(struct manifest_reader *r, enum ctx c)
{
	if (r->depth == MANIFEST_STACK)
		return fail(r, "nested too deep");
	r->stack[r->depth++] = c;
	if (c < C_SKIP)
		r->seen[c] = 0;
	return 1;
}

/* ---- values ---- */

/* The largest value a number member may have. */
static uint64_t
number_max(enum member k)
{
	switch (k) {
	case M_FORMAT: return 1000;
	case M_CHUNK_SIZE: return IMAGE_CHUNK_MAX;
	case M_SECTOR: return 65536;
	case M_INDEX: return DISK_MAX_PARTS;
	default: return INT64_MAX;
	}
}

static int
number_member(struct manifest_reader *r, const char *text, size_t len)
{
	struct image_part *p = &r->m->part[r->m->nparts];
	uint64_t v;
	int rc = parse_u64(text, len, 0, number_max(r->key), &v);

	if (rc == -EINVAL && len > 1 && text[0] == '-' &&
	    parse_u64(text + 1, len - 1, 0, UINT64_MAX, &v) == 0)
		rc = -ERANGE;           /* a negative integer */
	if (rc < 0)
		return fail(r, "\"%s\" %s", member_names[r->key], rc == -ERANGE ?
		    "out of range" : "missing or not an integer");
	switch (r->key) {
	case M_FORMAT: r->format = v; break;
	case M_CREATED: r->created = v; break;
	case M_CHUNK_SIZE: r->m->chunk_size = v; break;
	case M_SIZE: r->m->disk_size = v; break;
	case M_SECTOR: r->sector = v; break;
	case M_INDEX: r->index = v; break;
	case M_OFFSET: p->offset = v; break;
	case M_LENGTH: p->length = v; break;
	case M_USED: p->used = v; break;
	default: break;
	}
	return 1;
}

static bool
is_number_member(enum member k)
{
	return k == M_FORMAT || k == M_CREATED || k == M_CHUNK_SIZE || k == M_SIZE ||
	    k == M_SECTOR || k == M_INDEX || k == M_OFFSET || k == M_LENGTH || k == M_USED;
}

static bool
is_string_member(enum member k)
{
	return k == M_NAME || k == M_TABLE_KIND || k == M_FS;
}

static int
string_member(struct manifest_reader *r, const char *s, size_t len)
{
	bool name = r->key == M_NAME;
	char *dst = name ? r->m->name : r->key == M_TABLE_KIND ? r->table_kind : r->fs;
	size_t size = name ? sizeof r->m->name : sizeof r->fs;

	if (len >= size || memchr(s, '\0', len) != NULL)
		return name ? fail(r, "image name invalid") :
		    fail(r, "\"%.*s\" unknown", (int)MIN(len, 16u), s);
	memcpy(dst, s, len);
	dst[len] = '\0';
	if (name && !image_name_valid(dst))
		return fail(r, "image name invalid");
	return 1;
}

/* A chunk's [offset, length, "sha256"] has been read. */
static int
chunk_end(struct manifest_reader *r, bool table)
{
	struct image_chunk *c = &r->cur;
	const struct manifest *m = r->m;

	if (r->cur_bad || r->field != 3)
		return fail(r, "chunk is not [offset, length, \"sha256\"]");
	if (c->length == 0 || c->length > IMAGE_CHUNK_MAX)
		return fail(r, "chunk length out of range");
	if ((r->seen[C_ROOT] & (1u << M_DISK)) == 0)
		return fail(r, "\"disk\" must come before the chunks");
	if (c->offset > m->disk_size || c->length > m->disk_size - c->offset)
		return fail(r, "chunk at %llu past the end of the disk",
		    (unsigned long long)c->offset);
	if (r->have_prev[table] && c->offset < r->prev_end[table])
		return fail(r, "chunks overlap or are out of order at %llu",
		    (unsigned long long)c->offset);
	r->prev_end[table] = c->offset + c->length;
	r->have_prev[table] = true;
	c->table = table;
	if (table) {
		if (r->ntable == MANIFEST_TABLE_MAX)
			return fail(r, "too many table chunks");
		r->table[r->ntable++] = *c;
	} else {
		while (r->next_table < r->ntable && r->table[r->next_table].offset +
		    r->table[r->next_table].length <= c->offset)
			r->next_table++;
		if (r->next_table < r->ntable && r->table[r->next_table].offset <
		    c->offset + c->length)
			return fail(r, "chunks overlap at %llu", (unsigned long long)c->offset);
		if (++r->ndata > IMAGE_CHUNKS_MAX)
			return fail(r, "too many chunks");
	}
	if (r->on_chunk != NULL) {
		int rc = r->on_chunk(r->arg, c, r->err, sizeof r->err);
		if (rc < 0) {
			r->rc = rc;
			return 0;
		}
	}
	return 1;
}

static int
chunk_field(struct manifest_reader *r, const char *text, size_t len, bool is_string)
{
	uint64_t v;

	if (r->field >= 3 || is_string != (r->field == 2)) {
		r->cur_bad = true;
		r->field++;
		return 1;               /* reported at the chunk's end */
	}
	if (r->field == 2) {
		if (sha256_parse(text, len, r->cur.sha256) < 0)
			return fail(r, "chunk at %llu: bad sha256",
			    (unsigned long long)r->cur.offset);
	} else if (parse_u64(text, len, 0, INT64_MAX, &v) < 0) {
		if (len > 0 && text[0] == '-')
			return fail(r, "chunk length out of range");
		r->cur_bad = true;      /* 0.0, 1e3: not an integer */
	} else if (r->field == 0) {
		r->cur.offset = v;
	} else {
		r->cur.length = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	}
	r->field++;
	return 1;
}

/* A scalar value: a number (raw text), a string, or a literal (NULL). */
static int
scalar(struct manifest_reader *r, const char *text, size_t len, bool is_string,
    bool is_number)
{
	enum ctx c = top(r);

	if (c == C_SKIP)
		return 1;
	if (c == C_CHUNK)
		return chunk_field(r, text, len, is_string);
	if (c == C_TABLE || c == C_DATA)
		return fail(r, "chunk is not [offset, length, \"sha256\"]");
	if (c == C_PARTS)
		return fail(r, "partition is not an object");
	if (c == C_TOP)
		return fail(r, "manifest is not a JSON object");
	if (r->key == M_UNKNOWN)
		return 1;
	if (is_number_member(r->key))
		return is_number ? number_member(r, text, len) :
		    fail(r, "\"%s\" missing or not an integer", member_names[r->key]);
	if (is_string_member(r->key))
		return is_string ? string_member(r, text, len) :
		    fail(r, "\"%s\" missing or not a string", member_names[r->key]);
	return fail(r, "\"%s\" has the wrong type", member_names[r->key]);
}

static int
on_null(void *ctx)
{
	return scalar(ctx, NULL, 0, false, false);
}

static int
on_bool(void *ctx, int v)
{
	(void)v;
	return scalar(ctx, NULL, 0, false, false);
}

static int
on_number(void *ctx, const char *s, size_t len)
{
	return scalar(ctx, s, len, false, true);
}

static int
on_string(void *ctx, const unsigned char *s, size_t len)
{
	return scalar(ctx, (const char *)s, len, true, false);
}

/* ---- objects and arrays ---- */

static int
on_key(void *ctx, const unsigned char *s, size_t len)
{
	struct manifest_reader *r = ctx;
	enum ctx c = top(r);

	if (c == C_SKIP)
		return 1;
	r->key = M_UNKNOWN;
	for (enum member k = object_members[c].first; k < object_members[c].end; k++)
		if (strlen(member_names[k]) == len && memcmp(member_names[k], s, len) == 0)
			r->key = k;
	if (r->key == M_UNKNOWN)
		return 1;
	if (r->seen[c] & (1u << r->key))
		return fail(r, "duplicate member \"%s\"", member_names[r->key]);
	r->seen[c] |= 1u << r->key;
	return 1;
}

static int
open_member(struct manifest_reader *r, bool map)
{
	enum member k = r->key;

	if (k == M_UNKNOWN)
		return push(r, C_SKIP) && (r->skip = 1);
	if (map && k == M_DISK)
		return push(r, C_DISK);
	if (!map && k == M_PARTS)
		return push(r, C_PARTS);
	if (!map && k == M_TABLE)
		return push(r, C_TABLE);
	if (!map && k == M_CHUNKS) {
		if ((r->seen[C_ROOT] & (1u << M_TABLE)) == 0)
			return fail(r, "\"table_chunks\" missing before \"chunks\"");
		return push(r, C_DATA);
	}
	if (k == M_DISK || k == M_PARTS || k == M_TABLE || k == M_CHUNKS)
		return fail(r, "\"%s\" missing", member_names[k]);
	return fail(r, "\"%s\" missing or not %s", member_names[k],
	    is_string_member(k) ? "a string" : "an integer");
}

static int
on_open(void *ctx, bool map)
{
	struct manifest_reader *r = ctx;

	switch (top(r)) {
	case C_SKIP:
		r->skip++;
		return 1;
	case C_TOP:
		return map ? push(r, C_ROOT) : fail(r, "manifest is not a JSON object");
	case C_PARTS:
		if (!map)
			return fail(r, "partition is not an object");
		if (r->m->nparts == DISK_MAX_PARTS)
			return fail(r, "too many partitions");
		r->fs[0] = '\0';
		return push(r, C_PART);
	case C_TABLE:
	case C_DATA:
		if (map)
			return fail(r, "chunk is not [offset, length, \"sha256\"]");
		memset(&r->cur, 0, sizeof r->cur);
		r->field = 0;
		r->cur_bad = false;
		return push(r, C_CHUNK);
	case C_CHUNK:
		r->cur_bad = true;
		r->field++;
		return push(r, C_SKIP) && (r->skip = 1);
	default:
		return open_member(r, map);
	}
}

static int
on_open_map(void *ctx)
{
	return on_open(ctx, true);
}

static int
on_open_array(void *ctx)
{
	return on_open(ctx, false);
}

static int
object_complete(struct manifest_reader *r, enum ctx c)
{
	for (enum member k = object_members[c].first; k < object_members[c].end; k++)
		if ((r->seen[c] & (1u << k)) == 0)
			return fail(r, "\"%s\" missing", member_names[k]);
	return 1;
}

static int
part_end(struct manifest_reader *r)
{
	struct image_part *p = &r->m->part[r->m->nparts];
	int fs = image_fs_parse(r->fs);

	if (!object_complete(r, C_PART))
		return 0;
	if (fs < 0)
		return fail(r, "filesystem \"%s\" unknown", r->fs);
	p->index = (unsigned)r->index;
	p->fs = (enum fs_kind)fs;
	r->m->nparts++;
	return 1;
}

static int
on_close(void *ctx)
{
	struct manifest_reader *r = ctx;
	enum ctx c = top(r);

	if (c == C_SKIP && --r->skip > 0)
		return 1;
	r->depth--;
	if (c == C_CHUNK)
		return chunk_end(r, top(r) == C_TABLE);
	if (c == C_PART)
		return part_end(r);
	if (c == C_DISK)
		return object_complete(r, C_DISK);
	if (c == C_ROOT)
		r->ended = true;
	return 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null, .yajl_boolean = on_bool, .yajl_number = on_number,
	.yajl_string = on_string, .yajl_start_map = on_open_map, .yajl_map_key = on_key,
	.yajl_end_map = on_close, .yajl_start_array = on_open_array, .yajl_end_array = on_close,
};

/* ---- the token guard ---- */

/* Refuse a token longer than MANIFEST_TOKEN_MAX before yajl buffers it. */
static int
guard(struct manifest_reader *r, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char ch = data[i];
		if (r->in_string) {
			if (r->escaped)
				r->escaped = false;
			else if (ch == '\\')
				r->escaped = true;
			else if (ch == '"')
				r->in_string = false;
		} else if (ch == '"') {
			r->in_string = true;
			r->token = 0;
		} else if (strchr("{}[],: \t\r\n", ch) != NULL) {
			r->token = 0;
			continue;
		}
		if (++r->token > MANIFEST_TOKEN_MAX)
			return fail(r, "a value longer than %d bytes", MANIFEST_TOKEN_MAX);
	}
	return 1;
}

/* ---- the reader ---- */

int
manifest_reader_new(struct manifest_reader **out, struct manifest *m,
    manifest_chunk_fn *on_chunk, void *arg)
{
	struct manifest_reader *r = calloc(1, sizeof *r);

	*out = NULL;
	if (r == NULL)
		return -ENOMEM;
	r->yajl = yajl_alloc(&callbacks, NULL, r);
	if (r->yajl == NULL) {
		free(r);
		return -ENOMEM;
	}
	memset(m, 0, sizeof *m);
	r->m = m;
	r->on_chunk = on_chunk;
	r->arg = arg;
	*out = r;
	return 0;
}

static int
report(struct manifest_reader *r, yajl_status st, const char *data, size_t len, char *err,
    size_t errlen)
{
	if (r->rc == 0 && st == yajl_status_error) {
		unsigned char *msg = yajl_get_error(r->yajl, 0, (const unsigned char *)data, len);
		snprintf(r->err, sizeof r->err, "not JSON: %s", msg != NULL ? (char *)msg : "");
		if (msg != NULL)
			yajl_free_error(r->yajl, msg);
		r->rc = -EINVAL;
	}
	if (r->rc < 0)
		str_copy(err, r->err, errlen);
	return r->rc;
}

int
manifest_reader_feed(struct manifest_reader *r, const char *data, size_t len, char *err,
    size_t errlen)
{
	yajl_status st = yajl_status_ok;

	if (r->rc == 0 && guard(r, data, len))
		st = yajl_parse(r->yajl, (const unsigned char *)data, len);
	return report(r, st, data, len, err, errlen);
}

static bool
seen(const struct manifest_reader *r, enum member k)
{
	return (r->seen[C_ROOT] & (1u << k)) != 0;
}

static int
missing(struct manifest_reader *r, enum member k)
{
	return fail(r, "\"%s\" missing", member_names[k]);
}

/* The disk and the partitions, once the whole text is in. */
static int
disk_check(struct manifest_reader *r)
{
	struct manifest *m = r->m;
	int kind = ptable_kind_parse(r->table_kind);

	if (r->sector != 512 && r->sector != 1024 && r->sector != 2048 && r->sector != 4096)
		return fail(r, "sector size %llu unsupported", (unsigned long long)r->sector);
	if (kind < 0)
		return fail(r, "partition table \"%s\" unknown", r->table_kind);
	m->sector_size = (uint32_t)r->sector;
	m->table = (enum ptable_kind)kind;
	if (!seen(r, M_PARTS))
		return missing(r, M_PARTS);
	for (size_t i = 0; i < m->nparts; i++) {
		const struct image_part *p = &m->part[i];
		if (p->index == 0 || p->offset > m->disk_size ||
		    p->length > m->disk_size - p->offset || p->used > p->length)
			return fail(r, "partition %u outside the disk", p->index);
	}
	return 1;
}

/* The root's members and their values, in the order a reader would look
 * at them, once the whole text is in. */
static int
root_check(struct manifest_reader *r)
{
	struct manifest *m = r->m;

	if (!seen(r, M_FORMAT))
		return missing(r, M_FORMAT);
	if (r->format != IMAGE_FORMAT_VERSION)
		return fail(r, "format %llu unsupported", (unsigned long long)r->format);
	for (enum member k = M_NAME; k <= M_DISK; k++)
		if (!seen(r, k))
			return missing(r, k);
	if (!seen(r, M_CHUNK_SIZE) || m->chunk_size == 0)
		return fail(r, "\"chunk_size\" %s", seen(r, M_CHUNK_SIZE) ? "out of range" :
		    "missing");
	if (!disk_check(r))
		return 0;
	if (!seen(r, M_TABLE))
		return missing(r, M_TABLE);
	if (!seen(r, M_CHUNKS))
		return missing(r, M_CHUNKS);
	if (r->ndata > m->disk_size / 32768 + 1024)
		return fail(r, "%zu chunks for a disk of %llu bytes", r->ndata,
		    (unsigned long long)m->disk_size);
	m->created = (int64_t)r->created;
	m->nchunks = r->ntable + r->ndata;
	return 1;
}

int
manifest_reader_end(struct manifest_reader *r, char *err, size_t errlen)
{
	yajl_status st = yajl_status_ok;

	if (r->rc == 0)
		st = yajl_complete_parse(r->yajl);
	if (r->rc == 0 && st == yajl_status_ok && !r->ended)
		fail(r, "not JSON: the manifest ends early");
	if (r->rc == 0 && st == yajl_status_ok)
		root_check(r);
	return report(r, st, NULL, 0, err, errlen);
}

void
manifest_reader_free(struct manifest_reader *r)
{
	if (r == NULL)
		return;
	yajl_free(r->yajl);
	free(r);
}

/* ---- the whole manifest in memory ---- */

struct collect {
	struct image_chunk *v;
	size_t n, cap;
};

static int
collect_chunk(void *arg, const struct image_chunk *c, char *err, size_t errlen)
{
	struct collect *k = arg;

	(void)err;
	(void)errlen;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 256;
		struct image_chunk *v = realloc(k->v, cap * sizeof *v);
		if (v == NULL)
			return -ENOMEM;
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n++] = *c;
	return 0;
}

static int
chunk_cmp(const void *a, const void *b)
{
	const struct image_chunk *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

int
manifest_parse(const char *text, size_t len, struct manifest *m, char *err, size_t errlen)
{
	struct collect k = { 0 };
	struct manifest_reader *r;
	int rc;

	if (len > IMAGE_MANIFEST_MAX) {
		memset(m, 0, sizeof *m);
		snprintf(err, errlen, "manifest too large");
		return -EINVAL;
	}
	rc = manifest_reader_new(&r, m, collect_chunk, &k);
	if (rc < 0)
		return rc;
	rc = manifest_reader_feed(r, text, len, err, errlen);
	if (rc == 0)
		rc = manifest_reader_end(r, err, errlen);
	manifest_reader_free(r);
	if (rc < 0) {
		free(k.v);
		memset(m, 0, sizeof *m);
		return rc;
	}
	/* the two lists are each sorted and do not overlap: one order */
	if (k.n > 1)
		qsort(k.v, k.n, sizeof *k.v, chunk_cmp);
	m->chunk = k.v;
	m->nchunks = k.n;
	if (m->chunk == NULL)
		m->chunk = calloc(1, sizeof *m->chunk);
	return m->chunk != NULL ? 0 : -ENOMEM;
}

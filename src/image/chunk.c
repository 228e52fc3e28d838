/* Chunk hashing, compression and the cutting plan. */
#include "image/chunk.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

void
chunk_sha256(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
	unsigned int n = SHA256_LEN;

	/* EVP_Digest with a fetched-once SHA-256: thread-safe, no state. */
	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1)
		memset(out, 0, SHA256_LEN);
}

/* The window covers the whole chunk (a chunk is compressed alone, so a
 * window shorter than it only loses matches): zstd's levels up to 8 use a
 * 2 MiB window for large inputs.  At level 3 (the default) the hash table
 * grows one step with it.  Together they store about 2% less for a 4 MiB
 * chunk of program files, for about 10% more time. */
#define DEFAULT_WLOG 21         /* zstd levels 1..8 for inputs > 256 KiB */

static int
set_params(ZSTD_CCtx *cctx, size_t len, int level)
{
	unsigned wlog = 10;

	while (wlog < 24 && ((size_t)1 << wlog) < len)
		wlog++;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx, len)))
		return -EIO;
	if (level <= 8 && wlog > DEFAULT_WLOG &&
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, (int)wlog)))
		return -EIO;
	if (level == 3 && wlog > DEFAULT_WLOG &&
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_hashLog, 18)))
		return -EIO;
	return 0;
}

int
chunk_compress(const void *data, size_t len, int level, void **out, size_t *out_len)
{
	size_t cap = ZSTD_compressBound(len);
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	void *buf = malloc(cap ? cap : 1);
	size_t n = 0;
	int rc = cctx == NULL || buf == NULL ? -ENOMEM : set_params(cctx, len, level);

	if (rc == 0) {
		n = ZSTD_compress2(cctx, buf, cap, data, len);
		if (ZSTD_isError(n))
			rc = -EIO;
	}
	ZSTD_freeCCtx(cctx);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*out_len = n;
	return 0;
}

uint64_t
chunk_frame_size(const void *z, size_t zlen)
{
	unsigned long long n = ZSTD_getFrameContentSize(z, zlen);

	if (n == ZSTD_CONTENTSIZE_UNKNOWN || n == ZSTD_CONTENTSIZE_ERROR)
		return 0;
	return n;
}

long
chunk_decompress_verify(const void *z, size_t zlen, void *out, size_t cap,
    const uint8_t sha[SHA256_LEN])
{
	uint8_t got[SHA256_LEN];
	uint64_t declared = chunk_frame_size(z, zlen);
	size_t n;

	/* Exactly one frame, whose declared size fits: a frame can claim any
	 * size, so the cap is checked before anything is written. */
	if (declared == 0 || declared > cap || declared > IMAGE_CHUNK_MAX ||
	    ZSTD_findFrameCompressedSize(z, zlen) != zlen)
		return -EBADMSG;
	n = ZSTD_decompress(out, (size_t)declared, z, zlen);
	if (ZSTD_isError(n) || n != declared)
		return -EBADMSG;
	chunk_sha256(out, n, got);
	if (memcmp(got, sha, SHA256_LEN) != 0)
		return -EILSEQ;
	return (long)n;
}

/* Append an extent without merging it into the previous one. */
static int
push_extent(struct extent_list *out, uint64_t offset, uint64_t length)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 64;
		struct extent *v = reallocarray(out->v, cap, sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		out->v = v;
		out->cap = cap;
	}
	out->v[out->n].offset = offset;
	out->v[out->n].length = length;
	out->n++;
	return 0;
}

/* Emit [start, end) cut at multiples of chunk_size. */
static int
emit_cut(uint64_t start, uint64_t end, uint64_t chunk_size, struct extent_list *out)
{
	while (start < end) {
		uint64_t boundary = (start / chunk_size + 1) * chunk_size;
		uint64_t stop = end < boundary ? end : boundary;
		if (push_extent(out, start, stop - start) < 0)
			return -ENOMEM;
		start = stop;
	}
	return 0;
}

int
chunk_plan(const struct extent_list *used, uint64_t chunk_size, uint64_t merge_gap,
    struct extent_list *out)
{
	size_t i = 0;

	if (chunk_size == 0 || chunk_size > IMAGE_CHUNK_MAX)
		return -EINVAL;
	while (i < used->n) {
		uint64_t start = used->v[i].offset;
		uint64_t end = start + used->v[i].length;
		/* join the following extents while the gap is small and the
		 * join stays inside the window of the current end */
		while (i + 1 < used->n) {
			const struct extent *next = &used->v[i + 1];
			uint64_t window_end = ((end - 1) / chunk_size + 1) * chunk_size;
			if (next->offset - end > merge_gap || next->offset >= window_end)
				break;
			end = next->offset + next->length;
			i++;
		}
		if (emit_cut(start, end, chunk_size, out) < 0)
			return -ENOMEM;
		i++;
	}
	return 0;
}

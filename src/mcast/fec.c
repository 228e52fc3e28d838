/* Forward error correction for multicast deploys.  See fec.h. */
#include "mcast/fec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <isa-l/erasure_code.h>

#include "core/util.h"

int
mcast_fec_parse(const char *text, unsigned *k, unsigned *m, char *err, size_t errlen)
{
	uint64_t kv, mv;
	const char *comma = strchr(text, ',');

	*k = *m = 0;
	if (strcasecmp(text, "off") == 0 || strcasecmp(text, "no") == 0 || text[0] == '\0')
		return 0;
	if (comma == NULL ||
	    parse_u64(text, (size_t)(comma - text), 1, MCAST_FEC_K_MAX, &kv) != 0 ||
	    parse_u64(comma + 1, strlen(comma + 1), 1, MCAST_FEC_K_MAX, &mv) != 0 ||
	    !mcast_fec_valid((unsigned)kv, (unsigned)mv)) {
		snprintf(err, errlen, "'%s' is not off or K,M with 1 <= M <= K <= %d and "
		    "K + M <= %d (e.g. 32,4)", text, MCAST_FEC_K_MAX, MCAST_FEC_PIECES_MAX);
		return -EINVAL;
	}
	*k = (unsigned)kv;
	*m = (unsigned)mv;
	return 0;
}

const char *
mcast_fec_text(unsigned k, unsigned m, char *buf, size_t size)
{
	if (k == 0)
		snprintf(buf, size, "off");
	else
		snprintf(buf, size, "%u,%u", k, m);
	return buf;
}

int
mcast_fec_check(const char *value, char *err, size_t errlen)
{
	unsigned k, m;

	return mcast_fec_parse(value, &k, &m, err, errlen);
}

uint32_t
mcast_fec_groups(uint32_t frame_len, uint32_t slice, unsigned k)
{
	uint32_t n = (frame_len + slice - 1) / slice;

	return (n + k - 1) / k;
}

unsigned
mcast_fec_group_slices(uint32_t frame_len, uint32_t slice, unsigned k, uint32_t g)
{
	uint32_t n = (frame_len + slice - 1) / slice, first = g * k;

	return first >= n ? 0 : (unsigned)MIN(n - first, (uint32_t)k);
}

uint32_t
mcast_fec_group_len(uint32_t frame_len, uint32_t slice, unsigned k, uint32_t g)
{
	uint64_t start = (uint64_t)g * k * slice;

	return start >= frame_len ? 0 : (uint32_t)MIN((uint64_t)slice, frame_len - start);
}

void
mcast_fec_free(struct mcast_fec *f)
{
	free(f->matrix);
	free(f->encode_tables);
	free(f->square);
	free(f->inverse);
	free(f->decode_rows);
	free(f->decode_tables);
	free(f->zero);
	memset(f, 0, sizeof *f);
}

int
mcast_fec_init(struct mcast_fec *f, unsigned k, unsigned m)
{
	memset(f, 0, sizeof *f);
	if (!mcast_fec_valid(k, m))
		return -EINVAL;
	f->k = k;
	f->m = m;
	f->matrix = malloc((size_t)(k + m) * k);
	f->encode_tables = malloc((size_t)32 * k * m);
	f->square = malloc((size_t)k * k);
	f->inverse = malloc((size_t)k * k);
	f->decode_rows = malloc((size_t)m * k);
	f->decode_tables = malloc((size_t)32 * k * m);
	f->zero = calloc(1, MCAST_PACKET_MAX);
	if (f->matrix == NULL || f->encode_tables == NULL || f->square == NULL ||
	    f->inverse == NULL || f->decode_rows == NULL || f->decode_tables == NULL ||
	    f->zero == NULL) {
		mcast_fec_free(f);
		return -ENOMEM;
	}
	gf_gen_cauchy1_matrix(f->matrix, (int)(k + m), (int)k);
	ec_init_tables((int)k, (int)m, f->matrix + (size_t)k * k, f->encode_tables);
	return 0;
}

void
mcast_fec_encode(struct mcast_fec *f, uint8_t *const *data, unsigned count,
    uint8_t *const *parity, uint32_t len)
{
	uint8_t *src[MCAST_FEC_K_MAX], *dst[MCAST_FEC_K_MAX];

	for (unsigned i = 0; i < f->k; i++)
		src[i] = i < count ? data[i] : f->zero;
	for (unsigned j = 0; j < f->m; j++)
		dst[j] = parity[j];
	ec_encode_data((int)len, (int)f->k, (int)f->m, f->encode_tables, src, dst);
}

void
mcast_fec_encode_frame(struct mcast_fec *f, uint8_t *frame, uint32_t frame_len,
    uint32_t slice, uint8_t *parity)
{
	uint32_t groups = mcast_fec_groups(frame_len, slice, f->k);
	uint8_t *data[MCAST_FEC_K_MAX], *out[MCAST_FEC_K_MAX];

	for (uint32_t g = 0; g < groups; g++) {
		unsigned count = mcast_fec_group_slices(frame_len, slice, f->k, g);
		for (unsigned i = 0; i < count; i++)
			data[i] = frame + ((size_t)g * f->k + i) * slice;
		for (unsigned j = 0; j < f->m; j++)
			out[j] = parity + ((size_t)g * f->m + j) * slice;
		mcast_fec_encode(f, data, count, out,
		    mcast_fec_group_len(frame_len, slice, f->k, g));
	}
}

/* The first k pieces present (zero slices past count count as present):
 * their rows of the matrix into f->square, their buffers into src.
 * Returns how many were found (k when enough). */
static unsigned
pick_survivors(struct mcast_fec *f, uint8_t *const *piece, unsigned count, uint8_t **src)
{
	unsigned found = 0;

	for (unsigned i = 0; i < f->k + f->m && found < f->k; i++) {
		bool zero = i >= count && i < f->k;
		if (!zero && piece[i] == NULL)
			continue;
		memcpy(f->square + (size_t)found * f->k, f->matrix + (size_t)i * f->k, f->k);
		src[found++] = zero ? f->zero : piece[i];
	}
	return found;
}

int
mcast_fec_decode(struct mcast_fec *f, uint8_t *const *piece, unsigned count,
    uint8_t *const *out, uint32_t len)
{
	uint8_t *src[MCAST_FEC_K_MAX], *dst[MCAST_FEC_K_MAX];
	unsigned lost[MCAST_FEC_K_MAX], missing = 0;

	count = MIN(count, f->k);
	for (unsigned i = 0; i < count; i++) {
		if (piece[i] != NULL)
			continue;
		if (missing == f->m)
			return -EAGAIN;         /* more missing than parity can cover */
		lost[missing] = i;
		dst[missing++] = out[i];
	}
	if (missing == 0)
		return 0;
	if (pick_survivors(f, piece, count, src) < f->k)
		return -EAGAIN;
	if (gf_invert_matrix(f->square, f->inverse, (int)f->k) != 0)
		return -EIO;
	/* data = inverse x survivors: row i of the inverse rebuilds slice i */
	for (unsigned r = 0; r < missing; r++)
		memcpy(f->decode_rows + (size_t)r * f->k, f->inverse + (size_t)lost[r] * f->k,
		    f->k);
	ec_init_tables((int)f->k, (int)missing, f->decode_rows, f->decode_tables);
	ec_encode_data((int)len, (int)f->k, (int)missing, f->decode_tables, src, dst);
	return (int)missing;
}

/* One chunk's frame put together from slices and parity.  See assemble.h. */
#include "mcast/assemble.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void
mcast_assembly_free(struct mcast_assembly *a)
{
	free(a->frame);
	free(a->have);
	free(a->parity);
	free(a->have_parity);
	memset(a, 0, sizeof *a);
}

int
mcast_assembly_init(struct mcast_assembly *a, uint32_t chunk, uint32_t frame_len,
    uint32_t slice, unsigned k, unsigned m)
{
	size_t size;

	memset(a, 0, sizeof *a);
	if (frame_len == 0 || frame_len > MCAST_FRAME_MAX || slice == 0 ||
	    slice > MCAST_PACKET_MAX || ((k != 0 || m != 0) && !mcast_fec_valid(k, m)))
		return -EINVAL;
	a->chunk = chunk;
	a->frame_len = frame_len;
	a->slice = slice;
	a->nslices = (frame_len + slice - 1) / slice;
	a->k = k;
	a->m = m;
	a->ngroups = k != 0 ? mcast_fec_groups(frame_len, slice, k) : 0;
	size = (size_t)a->nslices * slice;
	a->frame = malloc(size);
	a->have = calloc(a->nslices, 1);
	if (a->frame == NULL || a->have == NULL) {
		mcast_assembly_free(a);
		return -ENOMEM;
	}
	/* the short final slice is coded zero-padded */
	memset(a->frame + frame_len, 0, size - frame_len);
	return 0;
}

/* Data slices group g lacks. */
static unsigned
group_missing(const struct mcast_assembly *a, uint32_t g)
{
	unsigned count = mcast_fec_group_slices(a->frame_len, a->slice, a->k, g), n = 0;

	for (unsigned i = 0; i < count; i++)
		n += !a->have[g * a->k + i];
	return n;
}

static unsigned
group_parity_held(const struct mcast_assembly *a, uint32_t g)
{
	unsigned n = 0;

	for (unsigned j = 0; a->have_parity != NULL && j < a->m; j++)
		n += a->have_parity[(size_t)g * a->m + j];
	return n;
}

/* Rebuild what group g lacks when it holds enough pieces; returns the
 * slices rebuilt. */
static unsigned
group_decode(struct mcast_assembly *a, struct mcast_fec *fec, uint32_t g)
{
	uint8_t *piece[MCAST_FEC_PIECES_MAX], *out[MCAST_FEC_K_MAX];
	unsigned count = mcast_fec_group_slices(a->frame_len, a->slice, a->k, g);
	unsigned missing = group_missing(a, g);
	uint32_t first = g * a->k;
	int rc;

	if (fec == NULL || fec->k != a->k || fec->m != a->m || missing == 0 ||
	    group_parity_held(a, g) < missing)
		return 0;
	for (unsigned i = 0; i < count; i++) {
		out[i] = a->frame + (size_t)(first + i) * a->slice;
		piece[i] = a->have[first + i] ? out[i] : NULL;
	}
	for (unsigned j = 0; j < a->m; j++) {
		size_t at = (size_t)g * a->m + j;
		piece[a->k + j] = a->have_parity[at] ? a->parity + at * a->slice : NULL;
	}
	rc = mcast_fec_decode(fec, piece, count, out,
	    mcast_fec_group_len(a->frame_len, a->slice, a->k, g));
	if (rc <= 0)
		return 0;
	for (unsigned i = 0; i < count; i++)
		a->have[first + i] = 1;
	a->got += (uint32_t)rc;
	a->recovered += (uint32_t)rc;
	return (unsigned)rc;
}

int
mcast_assembly_data(struct mcast_assembly *a, struct mcast_fec *fec, uint32_t offset,
    const uint8_t *payload, uint32_t len)
{
	uint32_t idx;

	if (offset % a->slice != 0 || offset >= a->frame_len ||
	    len != MIN(a->slice, a->frame_len - offset))
		return -EINVAL;
	idx = offset / a->slice;
	if (a->have[idx])
		return 0;
	memcpy(a->frame + offset, payload, len);
	a->have[idx] = 1;
	a->got++;
	if (a->k == 0)
		return 1;
	return 1 + (int)group_decode(a, fec, idx / a->k);
}

int
mcast_assembly_parity(struct mcast_assembly *a, struct mcast_fec *fec, uint32_t group,
    unsigned index, const uint8_t *payload, uint32_t len)
{
	size_t at;

	if (a->k == 0 || group >= a->ngroups || index >= a->m ||
	    len != mcast_fec_group_len(a->frame_len, a->slice, a->k, group))
		return -EINVAL;
	if (group_missing(a, group) == 0)
		return 0;               /* nothing to rebuild: not kept */
	if (a->parity == NULL) {
		a->parity = malloc((size_t)a->ngroups * a->m * a->slice);
		a->have_parity = calloc((size_t)a->ngroups * a->m, 1);
		if (a->parity == NULL || a->have_parity == NULL) {
			free(a->parity);
			free(a->have_parity);
			a->parity = a->have_parity = NULL;
			return -ENOMEM;
		}
	}
	at = (size_t)group * a->m + index;
	if (a->have_parity[at])
		return 0;
	memcpy(a->parity + at * a->slice, payload, len);
	a->have_parity[at] = 1;
	return (int)group_decode(a, fec, group);
}

uint16_t
mcast_assembly_missing(const struct mcast_assembly *a, struct mcast_range *r, uint16_t max)
{
	struct mcast_range *cur = NULL;
	uint16_t n = 0;

	for (uint32_t i = 0; i < a->nslices; i++) {
		if (a->have[i])
			cur = NULL;
		else if (cur != NULL)
			cur->count++;
		else if (n < max)
			cur = &r[n++], *cur = (struct mcast_range){ i, 1 };
	}
	return n;
}

#include "tftp/netascii.h"

size_t
netascii_encode(struct netascii_encoder *enc, const uint8_t *in, size_t in_len,
    size_t *consumed, uint8_t *out, size_t out_size)
{
	size_t o = 0, i = 0;

	if (enc->has_pending && o < out_size) {
		out[o++] = enc->pending;
		enc->has_pending = 0;
	}
	while (i < in_len && o < out_size) {
		uint8_t c = in[i++];
		if (c == '\n' || c == '\r') {
			out[o++] = '\r';
			uint8_t second = c == '\n' ? '\n' : '\0';
			if (o < out_size) {
				out[o++] = second;
			} else {
				enc->pending = second;
				enc->has_pending = 1;
			}
		} else {
			out[o++] = c;
		}
	}
	*consumed = i;
	return o;
}

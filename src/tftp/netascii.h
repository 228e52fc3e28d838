/* Netascii encoding (RFC 764 as used by RFC 1350): LF -> CR LF,
 * CR -> CR NUL.  A streaming encoder: a CR LF pair may straddle blocks. */
#ifndef PXED_TFTP_NETASCII_H
#define PXED_TFTP_NETASCII_H

#include <stddef.h>
#include <stdint.h>

struct netascii_encoder {
	uint8_t pending;        /* second byte of a pair cut at a block end, or 0 */
	int has_pending;
};

/* Encode from in (in_len bytes) into out (out_size bytes).  Returns the
 * bytes written; *consumed gets the input bytes used.  Stops when out is
 * full; a pair that does not fit leaves its second byte pending. */
size_t netascii_encode(struct netascii_encoder *enc, const uint8_t *in, size_t in_len,
    size_t *consumed, uint8_t *out, size_t out_size);

#endif

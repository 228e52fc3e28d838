/* TFTP packet codec (RFC 1350, 2347, 2348, 2349, 2090, 7440): bytes in, structs
 * out and back.  No sockets, no clock, no allocation: strings returned by
 * the parser point into the caller's buffer. */
#ifndef PXED_TFTP_CODEC_H
#define PXED_TFTP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tftp_opcode {
	TFTP_RRQ = 1,
	TFTP_WRQ = 2,
	TFTP_DATA = 3,
	TFTP_ACK = 4,
	TFTP_ERROR = 5,
	TFTP_OACK = 6,
};

enum tftp_error_code {
	TFTP_ERR_UNDEFINED = 0,
	TFTP_ERR_NOT_FOUND = 1,
	TFTP_ERR_ACCESS = 2,
	TFTP_ERR_DISK_FULL = 3,
	TFTP_ERR_ILLEGAL_OP = 4,
	TFTP_ERR_UNKNOWN_TID = 5,
	TFTP_ERR_FILE_EXISTS = 6,
	TFTP_ERR_NO_USER = 7,
	TFTP_ERR_OPTION = 8,
};

enum tftp_mode {
	TFTP_MODE_OCTET,
	TFTP_MODE_NETASCII,
};

#define TFTP_HEADER_SIZE 4          /* opcode + block/code */
#define TFTP_BLKSIZE_DEFAULT 512
#define TFTP_BLKSIZE_MIN 8
#define TFTP_BLKSIZE_MAX 65464
#define TFTP_WINDOWSIZE_MAX 65535
#define TFTP_TIMEOUT_MIN 1
#define TFTP_TIMEOUT_MAX 255
#define TFTP_REQUEST_MAX 4096       /* larger datagrams are not requests */

/* Options recognised in a request; the bit is set in tftp_request.present
 * when the option came with a valid value. */
enum tftp_option_bit {
	TFTP_OPT_BLKSIZE = 1u << 0,
	TFTP_OPT_TIMEOUT = 1u << 1,
	TFTP_OPT_TSIZE = 1u << 2,
	TFTP_OPT_WINDOWSIZE = 1u << 3,
	TFTP_OPT_ROLLOVER = 1u << 4,    /* tftp-hpa extension: 0 or 1 */
	TFTP_OPT_UTIMEOUT = 1u << 5,    /* tftp-hpa: microseconds */
	TFTP_OPT_MSFTWINDOW = 1u << 6,  /* Windows bootmgr; never granted */
	TFTP_OPT_MULTICAST = 1u << 7,   /* RFC 2090: empty value in a request */
};

/* The value of RFC 2090's multicast option in an OACK: "addr,port,mc".
 * A later OACK that only makes a client master may leave addr and port
 * empty (",,1"); has_group says whether they are there. */
struct tftp_multicast {              /* no padding: compared with memcmp */
	uint8_t addr[4];                /* IPv4 group, network order */
	uint16_t port;
	bool has_group;
	bool master;                    /* mc: 1 = master client, 0 = listen */
};

#define TFTP_MULTICAST_TEXT_MAX 24      /* "255.255.255.255,65535,1" + NUL */

struct tftp_request {
	enum tftp_opcode op;            /* TFTP_RRQ or TFTP_WRQ */
	const char *filename;           /* in the packet buffer, NUL-terminated */
	size_t filename_len;
	enum tftp_mode mode;
	uint32_t present;               /* enum tftp_option_bit */
	uint32_t blksize;               /* 8..65464 (clamped from above) */
	uint32_t timeout;               /* seconds, 1..255 */
	uint32_t windowsize;            /* 1..65535 (clamped from above) */
	uint32_t rollover;              /* 0 or 1 */
	uint32_t utimeout;              /* microseconds */
	uint64_t tsize;                 /* 0 = size query on RRQ */
	unsigned unknown_options;       /* count, ignored per RFC 2347 */
	unsigned ignored_options;       /* known name, unusable value: ignored */
	bool trailing_garbage;          /* bytes after the last complete option */
	/* When the request is valid but an option forces a refusal (error 8),
	 * option_error names it; the caller answers ERROR 8. */
	const char *option_error;
};

/* Parse an RRQ/WRQ.  Returns 0 on success; on failure a negative errno
 * and *why (static text for the log and the ERROR packet):
 *   -EBADMSG  truncated or malformed (missing NUL, empty filename)
 *   -EPROTO   not a request opcode
 *   -EINVAL   unknown transfer mode
 * A request whose options must be refused returns 0 with
 * req->option_error set. */
int tftp_request_parse(const uint8_t *buf, size_t len, struct tftp_request *req,
    const char **why);

/* Parse the 4-byte header of DATA/ACK/ERROR/OACK-bearing packets.
 * For ACK and DATA *num is the block; for ERROR it is the code (the
 * message follows at buf + 4).
 * Returns 0 or -EBADMSG. */
int tftp_packet_header(const uint8_t *buf, size_t len, uint16_t *opcode,
    uint16_t *num);

/* The values an OACK carries.  present selects which are written, in the
 * order the client asked for them is not required by RFC 2347; we write
 * blksize, tsize, timeout, windowsize, rollover, utimeout, multicast.  In
 * a request (tftp_build_request) multicast is written with an empty
 * value, as RFC 2090 asks. */
struct tftp_oack {
	uint32_t present;
	uint32_t blksize;
	uint32_t timeout;
	uint32_t windowsize;
	uint32_t rollover;
	uint32_t utimeout;
	uint64_t tsize;
	struct tftp_multicast multicast;
};

/* Builders return the packet length, or 0 if it does not fit in size. */
size_t tftp_build_oack(uint8_t *buf, size_t size, const struct tftp_oack *oack);
size_t tftp_build_error(uint8_t *buf, size_t size, enum tftp_error_code code,
    const char *msg);
size_t tftp_build_ack(uint8_t *buf, size_t size, uint16_t block);
size_t tftp_build_data_header(uint8_t *buf, size_t size, uint16_t block);

/* The multicast option's OACK value: "a.b.c.d,port,mc" or ",,mc".
 * Returns the text length (without NUL), 0 if it does not fit. */
size_t tftp_multicast_format(const struct tftp_multicast *m, char *out, size_t size);
/* Parse that value (client side).  Returns 0 or -EBADMSG: addr and port
 * must be both present or both empty, mc 0 or 1. */
int tftp_multicast_parse(const char *value, size_t len, struct tftp_multicast *m);

/* Parse an OACK (client side: tests and the bench client).  Returns 0 or
 * -EBADMSG; unknown options are skipped. */
int tftp_oack_parse(const uint8_t *buf, size_t len, struct tftp_oack *oack);

/* Build an RRQ/WRQ (client side).  Returns length or 0. */
size_t tftp_build_request(uint8_t *buf, size_t size, enum tftp_opcode op,
    const char *filename, const char *mode, const struct tftp_oack *opts);

#endif

/* DHCPv4 codec (RFC 2131, 2132, 3396, 3046) and PXE vendor options
 * (option 43 sub-options, PXE 2.1).  Bytes in, structs out and back: no
 * sockets, no clock, no allocation. */
#ifndef PXED_DHCP_CODEC_H
#define PXED_DHCP_CODEC_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_HEADER_SIZE 236
#define DHCP_COOKIE 0x63825363u
#define DHCP_MIN_MESSAGE 300       /* pad replies to a BOOTP-sized payload */
#define DHCP_DEFAULT_MAX 576       /* IP datagram a client must accept */
#define DHCP_PACKET_MAX 1500       /* largest message we parse or build */
#define DHCP_OPTION_STORE 2048     /* concatenated option values (RFC 3396) */

enum dhcp_op { DHCP_BOOTREQUEST = 1, DHCP_BOOTREPLY = 2 };

#define DHCP_FLAG_BROADCAST 0x8000u   /* RFC 1542 2.2: the "flags" field's B bit */

enum dhcp_type {
	DHCP_NONE = 0,                 /* BOOTP: no option 53 */
	DHCPDISCOVER = 1, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK,
	DHCPNAK, DHCPRELEASE, DHCPINFORM,
};

enum dhcp_option_code {
	DHCP_OPT_PAD = 0, DHCP_OPT_SUBNET_MASK = 1, DHCP_OPT_ROUTER = 3,
	DHCP_OPT_DNS = 6, DHCP_OPT_HOSTNAME = 12, DHCP_OPT_BOOT_SIZE = 13,
	DHCP_OPT_DOMAIN = 15, DHCP_OPT_BROADCAST = 28, DHCP_OPT_VENDOR = 43,
	DHCP_OPT_REQUESTED_IP = 50, DHCP_OPT_LEASE_TIME = 51, DHCP_OPT_OVERLOAD = 52,
	DHCP_OPT_MESSAGE_TYPE = 53, DHCP_OPT_SERVER_ID = 54, DHCP_OPT_PARAM_LIST = 55,
	DHCP_OPT_MESSAGE = 56, DHCP_OPT_MAX_SIZE = 57, DHCP_OPT_T1 = 58,
	DHCP_OPT_T2 = 59, DHCP_OPT_VENDOR_CLASS = 60, DHCP_OPT_CLIENT_ID = 61,
	DHCP_OPT_TFTP_SERVER = 66, DHCP_OPT_BOOTFILE = 67, DHCP_OPT_USER_CLASS = 77,
	DHCP_OPT_RELAY_AGENT = 82, DHCP_OPT_CLIENT_ARCH = 93, DHCP_OPT_CLIENT_NDI = 94,
	DHCP_OPT_UUID = 97, DHCP_OPT_IPXE = 175, DHCP_OPT_END = 255,
};

/* A parsed message.  Option values are copied (and, when an option occurs
 * several times, concatenated in order, RFC 3396) into store; the header
 * fields are decoded.  Options come from the main area, then file, then
 * sname when option 52 says they are overloaded. */
struct dhcp_message {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	struct in_addr ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[16];
	char sname[65];                /* NUL-terminated copy (empty if overloaded) */
	char file[129];                /* NUL-terminated copy (empty if overloaded) */
	uint8_t overload;              /* option 52 value, 0 if none */
	enum dhcp_type type;           /* option 53, DHCP_NONE for BOOTP */
	bool has_cookie;
	size_t wire_len;               /* bytes of the message as received */
	uint16_t opt_offset[256];      /* into store; valid when opt_present */
	uint16_t opt_length[256];
	bool opt_present[256];
	uint8_t store[DHCP_OPTION_STORE];
	size_t store_used;
};

/* Parse a message of len bytes.  Returns 0, or a negative errno with *why:
 *   -EBADMSG  shorter than the header, a truncated option, bad overload
 *   -EPROTO   not a BOOTREQUEST/BOOTREPLY, or hlen > 16
 *   -ENOSPC   option values larger than DHCP_OPTION_STORE
 * A message without the magic cookie parses as BOOTP (no options). */
int dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_message *m, const char **why);

/* The value of option code, or NULL; *len gets its length. */
const uint8_t *dhcp_option(const struct dhcp_message *m, uint8_t code, size_t *len);
/* Helpers for fixed-size values: return false when absent or the wrong size. */
bool dhcp_option_u8(const struct dhcp_message *m, uint8_t code, uint8_t *out);
bool dhcp_option_u16(const struct dhcp_message *m, uint8_t code, uint16_t *out);
bool dhcp_option_u32(const struct dhcp_message *m, uint8_t code, uint32_t *out);
bool dhcp_option_addr(const struct dhcp_message *m, uint8_t code, struct in_addr *out);

/* Building a message: fill the header, add options, finish. */
struct dhcp_builder {
	uint8_t buf[DHCP_PACKET_MAX];
	size_t len;                    /* bytes used so far (header + options) */
	size_t max;                    /* the most the client accepts (its 57, or 576 - 28) */
	bool overflow;
};

/* Start a reply to req: op BOOTREPLY, htype/hlen/xid/flags/giaddr/chaddr
 * copied, hops 0, secs 0, cookie and option 53 = type written.  max_size
 * is the client's limit on the whole DHCP message (option 57 minus IP/UDP
 * headers), clamped to [DHCP_DEFAULT_MAX - 28, DHCP_PACKET_MAX]. */
void dhcp_reply_start(struct dhcp_builder *b, const struct dhcp_message *req,
    enum dhcp_type type, size_t max_size);
/* Start a request (client side: tests, the bench, the relay test). */
void dhcp_request_start(struct dhcp_builder *b, enum dhcp_type type, uint32_t xid,
    const uint8_t *mac, size_t mac_len);
/* Header fields of a message being built. */
void dhcp_set_addrs(struct dhcp_builder *b, struct in_addr ciaddr, struct in_addr yiaddr,
    struct in_addr siaddr, struct in_addr giaddr);
void dhcp_set_flags(struct dhcp_builder *b, uint16_t flags);
/* sname/file header fields (cut to 63/127 bytes + NUL). */
void dhcp_set_sname(struct dhcp_builder *b, const char *sname);
void dhcp_set_file(struct dhcp_builder *b, const char *file);
/* Add an option; values over 255 bytes are split into several instances
 * (RFC 3396).  Sets b->overflow when it does not fit. */
void dhcp_add_option(struct dhcp_builder *b, uint8_t code, const void *data, size_t len);
void dhcp_add_u8(struct dhcp_builder *b, uint8_t code, uint8_t v);
void dhcp_add_u16(struct dhcp_builder *b, uint8_t code, uint16_t v);
void dhcp_add_u32(struct dhcp_builder *b, uint8_t code, uint32_t v);
void dhcp_add_addr(struct dhcp_builder *b, uint8_t code, struct in_addr a);
/* Write option 255, pad to DHCP_MIN_MESSAGE.  Returns the length, or 0 on
 * overflow (the caller logs and drops options it can live without). */
size_t dhcp_finish(struct dhcp_builder *b);

/* ---- PXE vendor options (option 43 in replies to PXEClient) ---- */

#define PXE_MENU_MAX 16
#define PXE_SERVERS_MAX 8

struct pxe_menu_item {
	uint16_t type;                 /* boot server type; 0 = local boot */
	char text[64];
};

struct pxe_vendor {
	/* sub-option 6; 0 = not sent */
	uint8_t discovery_control;
	/* sub-option 8: one entry per type */
	struct { uint16_t type; struct in_addr addr[PXE_SERVERS_MAX]; uint8_t count; }
	    servers[PXE_MENU_MAX];
	uint8_t server_count;
	/* sub-option 9 */
	struct pxe_menu_item menu[PXE_MENU_MAX];
	uint8_t menu_count;
	/* sub-option 10; sent when prompt[0] != 0 or menu_count > 0 */
	uint8_t prompt_timeout;
	char prompt[64];
	/* sub-option 71 (boot item: in a 4011 ACK, echo of the request) */
	bool has_boot_item;
	uint16_t item_type, item_layer;
	/* sub-options 1-5 (MTFTP); sent when mtftp_ip.s_addr != 0 */
	struct in_addr mtftp_ip;
	uint16_t mtftp_cport, mtftp_sport;
	uint8_t mtftp_timeout, mtftp_delay;
};

/* Encode into out (at most out_size bytes; the caller adds it as option
 * 43, split per RFC 3396 when over 255).  Returns the length, or 0 when it
 * does not fit.  Always ends with sub-option 255. */
size_t pxe_vendor_build(const struct pxe_vendor *v, uint8_t *out, size_t out_size);

/* Parse a client's option 43 (a 4011 request carries 71).  Unknown
 * sub-options are skipped.  Returns 0 or -EBADMSG. */
int pxe_vendor_parse(const uint8_t *data, size_t len, struct pxe_vendor *v);

/* ---- relay agent information (option 82) ---- */

struct dhcp_relay_info {
	const uint8_t *circuit_id;     /* sub-option 1, points into the message */
	size_t circuit_id_len;
	const uint8_t *remote_id;      /* sub-option 2 */
	size_t remote_id_len;
	bool has_link_selection;       /* sub-option 5 */
	struct in_addr link_selection;
};

/* Parse option 82's value.  Returns 0 or -EBADMSG. */
int dhcp_relay_parse(const uint8_t *data, size_t len, struct dhcp_relay_info *r);

#endif

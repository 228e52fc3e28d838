/* Boot policy: the one place that decides what a client boots.
 *
 * Input: a classified request (struct boot_client, built from a DHCP
 * message by boot_classify).  Output: a decision (struct boot_decision).
 * No sockets, no packet layout, no clock: the DHCP server turns the
 * decision into header fields and options.
 *
 * Rules come from the configuration as lines "boot = CLASS TARGET", global,
 * per subnet or per host (MAC), most specific first:
 *   host rule > subnet rule > global rule > built-in default (none).
 * CLASS names (one per line):
 *   bios        x86 BIOS PXE (arch 0)
 *   efi32       x86 UEFI PXE (arch 6)
 *   efi64       x64 UEFI PXE (arch 7, and 9 sent by some old firmware)
 *   arm32       ARM 32 UEFI PXE (0x0a)
 *   arm64       ARM 64 UEFI PXE (0x0b)
 *   efi32-http  x86 UEFI HTTP boot (0x0f)
 *   efi64-http  x64 UEFI HTTP boot (0x10)
 *   arm32-http  ARM 32 UEFI HTTP boot (0x12)
 *   arm64-http  ARM 64 UEFI HTTP boot (0x13)
 *   ipxe        any client running iPXE (user class "iPXE" or option 175)
 * TARGET is a file name beneath the TFTP root (e.g. "undionly.kpxe",
 * "shimx64.efi") or an http:// URL (required for the -http classes; for
 * ipxe a URL is the script iPXE fetches).  The literal TARGET "local"
 * means: no boot file (PXE clients fall through to the next boot device).
 * "${next-server}" in a URL is replaced by the server's address on the
 * client's subnet, "${mac}" by the client's MAC as aa-bb-cc-dd-ee-ff
 * (e.g. http://${next-server}/api/v1/boot/${mac}.ipxe); other ${...} are
 * left for iPXE to expand. */
#ifndef PXED_BOOT_POLICY_H
#define PXED_BOOT_POLICY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp/codec.h"
#include "tftp/mtftp_files.h"

enum boot_class {
	BOOT_CLASS_NONE = -1,           /* not a network-boot client */
	BOOT_CLASS_BIOS = 0,
	BOOT_CLASS_EFI32,
	BOOT_CLASS_EFI64,
	BOOT_CLASS_ARM32,
	BOOT_CLASS_ARM64,
	BOOT_CLASS_EFI32_HTTP,
	BOOT_CLASS_EFI64_HTTP,
	BOOT_CLASS_ARM32_HTTP,
	BOOT_CLASS_ARM64_HTTP,
	BOOT_CLASS_IPXE,
	BOOT_CLASS_COUNT,
};

/* What we know about a client from its request. */
struct boot_client {
	uint8_t mac[16];
	uint8_t mac_len;
	bool has_arch;
	uint16_t arch;                  /* option 93, first value (IANA) */
	bool pxe_client;                /* option 60 starts with "PXEClient" */
	bool http_client;               /* option 60 starts with "HTTPClient" */
	bool ipxe;                      /* option 77 "iPXE" or option 175 present */
	bool has_uuid;
	uint8_t uuid[16];               /* option 97 GUID (without the type byte) */
	char vendor_class[64];          /* option 60, printable, for logs */
	enum boot_class cls;            /* what boot_classify concluded */
};

/* Classify a DHCP request.  Tolerates what firmware gets wrong (missing 93,
 * a 60 without 93, arch 9 for x64); see quirks.c.  Pure. */
void boot_classify(const struct dhcp_message *m, struct boot_client *c);

/* Name of a class ("efi64"), and the class for a name (-1 if unknown). */
const char *boot_class_name(enum boot_class cls);
enum boot_class boot_class_parse(const char *name);

#define BOOT_TARGET_MAX 256

struct boot_rule {
	enum boot_class cls;
	char target[BOOT_TARGET_MAX];
};

#define BOOT_RULES_MAX 32

/* A set of rules (global, one subnet's, or one host's). */
struct boot_rules {
	struct boot_rule rule[BOOT_RULES_MAX];
	size_t count;
	/* Global and subnet rules: PXE MTFTP is advertised to clients of this
	 * scope (the subnet's, else the global rules') when not NULL. */
	const struct mtftp_files *mtftp;
	/* Global rules: pxed's HTTP port (0: no HTTP).  A UEFI HTTP boot
	 * client with no *-http rule is then offered its architecture's TFTP
	 * file over HTTP: http://NEXT-SERVER[:PORT]/FILE. */
	unsigned http_port;
};

/* Parse "CLASS TARGET" (also "CLASS=TARGET", the --boot flag form) and add
 * it, replacing an earlier rule for the same class.  Returns 0, or -EINVAL
 * with a message in err (unknown class, missing target, an -http class
 * without an http:// URL, a target with spaces or control bytes). */
int boot_rules_add(struct boot_rules *r, const char *spec, char *err, size_t err_size);
/* The "boot" setting's validator (config_validator_register): 0 when spec
 * parses as one rule, else -EINVAL with the reason in err. */
int boot_rule_check(const char *spec, char *err, size_t err_size);

enum boot_kind {
	BOOT_NOTHING,                   /* no rule: do not answer as a boot server */
	BOOT_LOCAL,                     /* rule says "local" */
	BOOT_TFTP,                      /* file on the TFTP server */
	BOOT_HTTP,                      /* URL (HTTP boot or iPXE script) */
};

struct boot_decision {
	enum boot_kind kind;
	char file[BOOT_TARGET_MAX];     /* file name or expanded URL */
	bool vendor_http_client;        /* reply must carry 60 "HTTPClient" */
	bool vendor_pxe_client;         /* reply must carry 60 "PXEClient" */
	const char *matched;            /* "host", "subnet", "global": for logs */
	enum boot_class cls;
	/* the TFTP file is also served by PXE MTFTP (43.1-5): a BIOS PXE ROM
	 * in a scope with MTFTP on; both NULL otherwise */
	const struct mtftp_files *mtftp_table;
	const struct mtftp_file *mtftp;
};

/* Decide for client c.  host and subnet may be NULL (subnet's mtftp, else
 * global's, says whether MTFTP is advertised).  next_server is the
 * server's address on the client's subnet (for ${next-server}).  Pure. */
void boot_decide(const struct boot_rules *global, const struct boot_rules *subnet,
    const struct boot_rules *host, const struct boot_client *c,
    struct in_addr next_server, struct boot_decision *d);

#endif

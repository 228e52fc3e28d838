/* Firmware quirks: every "real clients do not quite follow the spec"
 * workaround of the boot policy lives in quirks.c, each named after the
 * firmware it is for, so there is one place to read when a client
 * misbehaves.  Pure functions: no sockets, no clock, no logging.
 *
 * The last section declares helpers shared by classify.c and policy.c;
 * they are not part of the public boot API (see boot/policy.h). */
#ifndef PXED_BOOT_QUIRKS_H
#define PXED_BOOT_QUIRKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/policy.h"

/* Option 93 values used by the quirks (IANA "Processor Architecture Types"). */
#define BOOT_ARCH_X64_UEFI 0x0007u
#define BOOT_ARCH_EBC_OLD_X64 0x0009u

/* (a) Old x64 firmware sends arch 9 (RFC 4578 as first printed, before
 * erratum 4624 swapped 7 and 9) for x64 UEFI.  Returns the arch with 9
 * mapped to 7; every other value unchanged. */
uint16_t quirk_arch_normalize(uint16_t arch);

/* (b) Some Intel/HP PXE ROMs send option 60 "PXEClient:Arch:NNNNN:..." but
 * no option 93.  Parse the Arch: field of a vendor class string (option 60,
 * "PXEClient:Arch:" or "HTTPClient:Arch:" followed by 1-5 decimal digits,
 * ending at ':' or the end).  Returns true and sets *arch when found. */
bool quirk_arch_from_vendor_class(const char *vendor_class, uint16_t *arch);

/* (c) Boot file names with trailing junk: some ROMs (and hand-edited
 * configs) pad the 128-byte BOOTP file field or a name with 0xFF bytes,
 * NULs or blanks.  Copy src (src_len bytes, not necessarily NUL-terminated;
 * the name ends at the first NUL) into dst with trailing NUL/0xFF bytes and
 * whitespace removed, always NUL-terminated when dst_size > 0.  Returns the
 * cleaned length; a result >= dst_size means it was cut (as str_copy). */
size_t boot_name_clean(char *dst, size_t dst_size, const uint8_t *src, size_t src_len);

/* (d) Legacy PXE 2.0/2.1 BIOS ROMs (and BOOTP-era clients) read only the
 * BOOTP header fields siaddr and file; EDK2 reads 67 first, then file;
 * iPXE builds tftp://siaddr/file.  So the DHCP server fills the header
 * siaddr/file as well as options 66/67 for every boot reply.  Always true
 * today; c is there so a firmware that chokes on it can be excluded here. */
bool boot_file_needs_header(const struct boot_client *c);

/* (e) iPXE (including QEMU's iPXE option ROM, whose *first* DHCP already
 * carries user class "iPXE" and option 60 PXEClient:Arch:00000) identifies
 * itself by option 77 or option 175.  iPXE sends 77 raw ("iPXE", not the
 * RFC 3004 length-prefixed form); accept both, and any instance of an RFC
 * 3004 list.  boot_classify checks this before the architecture, so an
 * "ipxe" rule outranks the "bios"/"efi64" one: otherwise the ROM would be
 * handed undionly.kpxe again and again (a chain-load loop). */
bool quirk_user_class_is_ipxe(const uint8_t *user_class, size_t len);

/* ---- shared by classify.c and policy.c ---- */

/* The class for c's architecture, ignoring iPXE: the -http class when c is
 * an HTTPClient, else the PXE class.  The arch is option 93, else (b),
 * normalised by (a); a PXE client with neither is BIOS, an HTTP client
 * with neither is efi64-http.  BOOT_CLASS_NONE for an unknown arch.
 * Defined in classify.c. */
enum boot_class boot_arch_class(const struct boot_client *c);

#endif

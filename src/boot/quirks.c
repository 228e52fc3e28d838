/* Firmware quirks of the boot policy, one function per quirk; see quirks.h
 * for which firmware each is for. */
#include "boot/quirks.h"

#include <string.h>

#include "core/util.h"

#define ARCH_DIGITS_MAX 5               /* "Arch:AAAAA" */

/* (a) Old x64 UEFI firmware, written against RFC 4578 before erratum 4624,
 * sends 9 ("EFI x86-64" in the RFC's first table) for x64.  The IANA
 * registry says 9 is EBC, but no EBC client netboots, so 9 means x64. */
uint16_t
quirk_arch_normalize(uint16_t arch)
{
	return arch == BOOT_ARCH_EBC_OLD_X64 ? BOOT_ARCH_X64_UEFI : arch;
}

/* (b) Some Intel and HP PXE ROMs send no option 93; their option 60
 * "PXEClient:Arch:00007:UNDI:003016" still names the architecture. */
bool
quirk_arch_from_vendor_class(const char *vendor_class, uint16_t *arch)
{
	static const char *const prefix[] = { "PXEClient:Arch:", "HTTPClient:Arch:" };
	const char *digits = NULL;
	uint64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(prefix) && !digits; i++) {
		size_t n = strlen(prefix[i]);
		if (strncmp(vendor_class, prefix[i], n) == 0)
			digits = vendor_class + n;
	}
	if (!digits)
		return false;
	size_t len = strcspn(digits, ":");
	if (len == 0 || len > ARCH_DIGITS_MAX)
		return false;
	if (parse_u64(digits, len, 0, UINT16_MAX, &v) != 0)
		return false;
	*arch = (uint16_t)v;
	return true;
}

static bool
is_name_junk(uint8_t b)
{
	return b == 0xFF || b == ' ' || b == '\t' || b == '\r' || b == '\n' ||
	    b == '\v' || b == '\f';
}

/* (c) PXE ROMs that pad the BOOTP file field with 0xFF instead of NULs,
 * and configuration lines with trailing blanks or CRs (files edited on
 * Windows): a name must never carry them to the TFTP server. */
size_t
boot_name_clean(char *dst, size_t dst_size, const uint8_t *src, size_t src_len)
{
	const uint8_t *nul = memchr(src, '\0', src_len);
	size_t len = nul ? (size_t)(nul - src) : src_len;

	while (len > 0 && is_name_junk(src[len - 1]))
		len--;
	if (dst_size > 0) {
		size_t n = MIN(len, dst_size - 1);
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* (d) Legacy BIOS PXE ROMs (PXE 2.0/2.1, Intel Boot Agent era) and BOOTP
 * clients read only the BOOTP header: siaddr and file, never 66/67.  EDK2
 * takes 67, else file, and its server from siaddr (it never uses 66); iPXE
 * fetches tftp://siaddr/file.  Filling both costs nothing, so the DHCP
 * server always does. */
bool
boot_file_needs_header(const struct boot_client *c)
{
	(void)c;
	return true;
}

/* (e) iPXE, and QEMU's iPXE option ROM in particular (its very first
 * DHCPDISCOVER already carries user class "iPXE"), sends option 77 as the
 * raw bytes "iPXE" instead of RFC 3004's length-prefixed list.  Accept the
 * raw form and any "iPXE" instance of a well-formed RFC 3004 list. */
bool
quirk_user_class_is_ipxe(const uint8_t *user_class, size_t len)
{
	static const char ipxe[] = "iPXE";
	const size_t n = sizeof ipxe - 1;

	if (len == n && memcmp(user_class, ipxe, n) == 0)
		return true;
	for (size_t i = 0; i < len;) {
		size_t item = user_class[i];
		if (item == 0 || item > len - i - 1)
			return false;
		if (item == n && memcmp(user_class + i + 1, ipxe, n) == 0)
			return true;
		i += 1 + item;
	}
	return false;
}

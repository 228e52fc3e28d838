/* Classification of a DHCP request into a boot class (boot/policy.h).
 * Pure: reads the parsed message, writes struct boot_client, logs nothing.
 * The workarounds for firmware that gets things wrong are in quirks.c. */
#include "boot/policy.h"

#include <string.h>
#include <strings.h>

#include "boot/quirks.h"
#include "core/util.h"

static const char *const class_names[BOOT_CLASS_COUNT] = {
	[BOOT_CLASS_BIOS] = "bios",
	[BOOT_CLASS_EFI32] = "efi32",
	[BOOT_CLASS_EFI64] = "efi64",
	[BOOT_CLASS_ARM32] = "arm32",
	[BOOT_CLASS_ARM64] = "arm64",
	[BOOT_CLASS_EFI32_HTTP] = "efi32-http",
	[BOOT_CLASS_EFI64_HTTP] = "efi64-http",
	[BOOT_CLASS_ARM32_HTTP] = "arm32-http",
	[BOOT_CLASS_ARM64_HTTP] = "arm64-http",
	[BOOT_CLASS_IPXE] = "ipxe",
};

/* Option 93 value (after quirk_arch_normalize) -> class for a PXEClient
 * and for an HTTPClient.  A PXE arch sent with HTTPClient maps to the
 * -http class of the same machine; an HTTP arch sent with PXEClient, or
 * any other value, is not something we can boot. */
static const struct {
	uint16_t arch;
	enum boot_class pxe;
	enum boot_class http;
} arch_map[] = {
	{ 0x00, BOOT_CLASS_BIOS, BOOT_CLASS_NONE },
	{ 0x06, BOOT_CLASS_EFI32, BOOT_CLASS_EFI32_HTTP },
	{ 0x07, BOOT_CLASS_EFI64, BOOT_CLASS_EFI64_HTTP },
	{ 0x0a, BOOT_CLASS_ARM32, BOOT_CLASS_ARM32_HTTP },
	{ 0x0b, BOOT_CLASS_ARM64, BOOT_CLASS_ARM64_HTTP },
	{ 0x0f, BOOT_CLASS_NONE, BOOT_CLASS_EFI32_HTTP },
	{ 0x10, BOOT_CLASS_NONE, BOOT_CLASS_EFI64_HTTP },
	{ 0x12, BOOT_CLASS_NONE, BOOT_CLASS_ARM32_HTTP },
	{ 0x13, BOOT_CLASS_NONE, BOOT_CLASS_ARM64_HTTP },
};

#define PXE_PREFIX "PXEClient"
#define HTTP_PREFIX "HTTPClient"
#define UUID_OPTION_LEN 17              /* type byte 0 + 16-byte GUID */

const char *
boot_class_name(enum boot_class cls)
{
	if (cls < 0 || cls >= BOOT_CLASS_COUNT)
		return "none";
	return class_names[cls];
}

enum boot_class
boot_class_parse(const char *name)
{
	if (!name)
		return BOOT_CLASS_NONE;
	for (int i = 0; i < BOOT_CLASS_COUNT; i++) {
		if (strcasecmp(name, class_names[i]) == 0)
			return (enum boot_class)i;
	}
	return BOOT_CLASS_NONE;
}

enum boot_class
boot_arch_class(const struct boot_client *c)
{
	uint16_t arch = c->arch;
	bool known = c->has_arch || quirk_arch_from_vendor_class(c->vendor_class, &arch);

	if (!known)
		return c->http_client ? BOOT_CLASS_EFI64_HTTP : BOOT_CLASS_BIOS;
	arch = quirk_arch_normalize(arch);
	for (size_t i = 0; i < ARRAY_SIZE(arch_map); i++) {
		if (arch_map[i].arch == arch)
			return c->http_client ? arch_map[i].http : arch_map[i].pxe;
	}
	return BOOT_CLASS_NONE;
}

static bool
has_prefix(const uint8_t *v, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return v && len >= n && memcmp(v, prefix, n) == 0;
}

/* Option 60 as text for logs (and for quirk (b)): non-printable bytes
 * become '.', cut to the field. */
static void
copy_printable(char *dst, size_t size, const uint8_t *v, size_t len)
{
	size_t n = v ? MIN(len, size - 1) : 0;

	for (size_t i = 0; i < n; i++)
		dst[i] = v[i] >= 0x20 && v[i] < 0x7f ? (char)v[i] : '.';
	dst[n] = '\0';
}

static void
read_options(const struct dhcp_message *m, struct boot_client *c)
{
	const uint8_t *v;
	size_t len = 0;

	v = dhcp_option(m, DHCP_OPT_CLIENT_ARCH, &len);
	if (v && len >= 2 && len % 2 == 0) {
		c->has_arch = true;
		c->arch = (uint16_t)(v[0] << 8 | v[1]);
	}
	v = dhcp_option(m, DHCP_OPT_VENDOR_CLASS, &len);
	c->pxe_client = has_prefix(v, len, PXE_PREFIX);
	c->http_client = has_prefix(v, len, HTTP_PREFIX);
	copy_printable(c->vendor_class, sizeof c->vendor_class, v, len);
	v = dhcp_option(m, DHCP_OPT_USER_CLASS, &len);
	c->ipxe = (v && quirk_user_class_is_ipxe(v, len)) || m->opt_present[DHCP_OPT_IPXE];
	v = dhcp_option(m, DHCP_OPT_UUID, &len);
	if (v && len == UUID_OPTION_LEN && v[0] == 0) {
		c->has_uuid = true;
		memcpy(c->uuid, v + 1, sizeof c->uuid);
	}
}

void
boot_classify(const struct dhcp_message *m, struct boot_client *c)
{
	memset(c, 0, sizeof *c);
	c->mac_len = (uint8_t)MIN((size_t)m->hlen, sizeof c->mac);
	memcpy(c->mac, m->chaddr, c->mac_len);
	read_options(m, c);
	if (!c->pxe_client && !c->http_client && !c->ipxe)
		c->cls = BOOT_CLASS_NONE;
	else if (c->ipxe)
		c->cls = BOOT_CLASS_IPXE;       /* quirk (e): before the arch */
	else
		c->cls = boot_arch_class(c);
}

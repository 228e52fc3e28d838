/* RFC 3074 buckets and their owners (dhcp/split.h). */
#include "dhcp/split.h"

#include <stdio.h>
#include <string.h>

/* RFC 3074 section 6, the permutation of 0..255 of its hash */
static const uint8_t pearson[256] = {
	251, 175, 119, 215, 81, 14, 79, 191, 103, 49, 181, 143, 186, 157, 0,
	232, 31, 32, 55, 60, 152, 58, 17, 237, 174, 70, 160, 144, 220, 90, 57,
	223, 59, 3, 18, 140, 111, 166, 203, 196, 134, 243, 124, 95, 222, 179,
	197, 65, 180, 48, 36, 15, 107, 46, 233, 130, 165, 30, 123, 161, 209, 23,
	97, 16, 40, 91, 219, 61, 100, 10, 210, 109, 250, 127, 22, 138, 29, 108,
	244, 67, 207, 9, 178, 204, 74, 98, 126, 249, 167, 116, 34, 77, 193,
	200, 121, 5, 20, 113, 71, 35, 128, 13, 182, 94, 25, 226, 227, 199, 75,
	27, 41, 245, 230, 224, 43, 225, 177, 26, 155, 150, 212, 142, 218, 115,
	241, 73, 88, 105, 39, 114, 62, 255, 192, 201, 145, 214, 168, 158, 221,
	148, 154, 122, 12, 84, 82, 163, 44, 139, 228, 236, 205, 242, 217, 11,
	187, 146, 159, 64, 86, 239, 195, 42, 106, 198, 118, 112, 184, 172, 87,
	2, 173, 117, 176, 229, 247, 253, 137, 185, 99, 164, 102, 147, 45, 66,
	231, 52, 141, 211, 194, 206, 246, 238, 56, 110, 78, 248, 63, 240, 189,
	93, 92, 51, 53, 183, 19, 171, 72, 50, 33, 104, 101, 69, 8, 252, 83, 120,
	76, 135, 85, 54, 202, 125, 188, 213, 96, 235, 136, 208, 162, 129, 190,
	132, 156, 38, 47, 1, 7, 254, 24, 4, 216, 131, 89, 21, 28, 133, 37, 153,
	149, 80, 170, 68, 6, 169, 234, 151,
};

/* The key is taken from its last byte to its first, as the RFC's code
 * does. */
uint8_t
split_hash(const uint8_t *key, size_t len)
{
	uint8_t h = (uint8_t)len;

	for (size_t i = len; i > 0; i--)
		h = pearson[h ^ key[i - 1]];
	return h;
}

uint8_t
split_addr_bucket(uint32_t host_order)
{
	const uint8_t b[4] = { (uint8_t)(host_order >> 24), (uint8_t)(host_order >> 16),
		(uint8_t)(host_order >> 8), (uint8_t)host_order };

	return split_hash(b, sizeof b);
}

/* A server's weight for a bucket: FNV-1a of its name and the bucket,
 * finished with a multiply-xorshift so that close names spread. */
static uint64_t
weight(const char *name, unsigned bucket)
{
	uint64_t h = 14695981039346656037u;

	for (const char *p = name; *p != '\0'; p++) {
		h ^= (uint8_t)*p;
		h *= 1099511628211u;
	}
	h ^= bucket;
	h *= 1099511628211u;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	return h;
}

void
split_owners(const char (*names)[SPLIT_NAME_MAX], size_t n, uint8_t owner[SPLIT_BUCKETS])
{
	n = n > SPLIT_SERVERS_MAX ? SPLIT_SERVERS_MAX : n;
	for (unsigned b = 0; b < SPLIT_BUCKETS; b++) {
		size_t best = 0;
		uint64_t best_w = 0;
		for (size_t i = 0; i < n; i++) {
			uint64_t w = weight(names[i], b);
			if (i == 0 || w > best_w ||
			    (w == best_w && strcmp(names[i], names[best]) < 0)) {
				best = i;
				best_w = w;
			}
		}
		owner[b] = (uint8_t)best;
	}
}

void
split_subnet_key(uint32_t network, uint32_t netmask, char key[SPLIT_KEY_MAX])
{
	unsigned prefix = 0;

	while (prefix < 32 && (netmask & (0x80000000u >> prefix)) != 0)
		prefix++;
	snprintf(key, SPLIT_KEY_MAX, "%u.%u.%u.%u/%u", network >> 24, (network >> 16) & 255,
	    (network >> 8) & 255, network & 255, prefix);
}

bool
split_lists(const char *list, const char *key)
{
	size_t len = strlen(key);

	if (len == 0)
		return false;
	for (const char *p = list; (p = strstr(p, key)) != NULL; p++)
		if ((p == list || p[-1] == ' ') && (p[len] == '\0' || p[len] == ' '))
			return true;
	return false;
}

size_t
split_subnet_mine(const char (*names)[SPLIT_NAME_MAX], const char *const *lists, size_t n,
    const char *self, const char *key, bool mine[SPLIT_BUCKETS])
{
	char with[SPLIT_SERVERS_MAX][SPLIT_NAME_MAX];
	uint8_t owner[SPLIT_BUCKETS];
	size_t m = 0, me = 0;
	bool self_in = false;

	for (size_t i = 0; i < n && m < SPLIT_SERVERS_MAX; i++) {
		bool is_self = strcmp(names[i], self) == 0;
		if (!is_self && !split_lists(lists[i], key))
			continue;
		if (is_self) {
			me = m;
			self_in = true;
		}
		memcpy(with[m++], names[i], SPLIT_NAME_MAX);
	}
	if (!self_in) {                 /* self's heartbeat not read: counted anyway */
		if (m == SPLIT_SERVERS_MAX)
			m--;
		me = m;
		snprintf(with[m++], SPLIT_NAME_MAX, "%s", self);
	}
	split_owners((const char (*)[SPLIT_NAME_MAX])with, m, owner);
	for (unsigned b = 0; b < SPLIT_BUCKETS; b++)
		mine[b] = owner[b] == me;
	return m;
}

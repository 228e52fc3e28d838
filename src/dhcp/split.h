/* The load-balancing split of clients between servers sharing one
 * database, in the spirit of RFC 3074: a client's hardware address
 * (chaddr) hashes into one of 256 buckets, and each bucket belongs to one
 * live server.  Pure functions: every server computes the same split from
 * the same list of live servers. */
#ifndef PXED_DHCP_SPLIT_H
#define PXED_DHCP_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPLIT_BUCKETS 256
#define SPLIT_SERVERS_MAX 32
#define SPLIT_NAME_MAX 64

/* RFC 3074 section 6's hash: Pearson's, its table, seeded with len. */
uint8_t split_hash(const uint8_t *key, size_t len);

/* The bucket of an IPv4 address (network order bytes): the pool picks
 * free addresses from its own buckets first, so servers offering at the
 * same time rarely pick the same one. */
uint8_t split_addr_bucket(uint32_t host_order);

/* owner[b]: the index in names[] (n live servers, any order, distinct)
 * of bucket b's server: the highest of a hash of (name, b) -- rendezvous
 * hashing, so when a server leaves only its buckets move, spread over the
 * others, and when it comes back it takes the same ones back.  Ties go to
 * the name first in byte order.  n == 0: every owner is 0. */
void split_owners(const char (*names)[SPLIT_NAME_MAX], size_t n, uint8_t owner[SPLIT_BUCKETS]);

/* A subnet as the servers publish it: "network/prefix" (its network
 * address, dotted, and the length of its netmask), into key. */
#define SPLIT_KEY_MAX 19                /* "255.255.255.255/32" and the NUL */
void split_subnet_key(uint32_t network, uint32_t netmask, char key[SPLIT_KEY_MAX]);
/* Does list (keys separated by spaces) hold key? */
bool split_lists(const char *list, const char *key);
/* The split of one subnet: among the n live servers (names[i], each
 * publishing the subnets lists[i]), those that list key, and self
 * whatever it published, share its buckets (split_owners).  mine[b]:
 * bucket b is self's.  Returns how many servers share the subnet (1:
 * self alone, every bucket its own). */
size_t split_subnet_mine(const char (*names)[SPLIT_NAME_MAX], const char *const *lists,
    size_t n, const char *self, const char *key, bool mine[SPLIT_BUCKETS]);

#endif

/* Address pools and leases of the DHCP server: pure state, time passed in.
 *
 * One pool per subnet, up to POOL_SIZE_MAX addresses (its ranges minus
 * exclusions).  Each address has a slot; a hash table finds a client's slot
 * by its key (option 61 when sent, else the MAC).  Rules:
 *  - a client keeps its address: an existing binding or offer is reused;
 *  - a reservation (host MAC -> address) always wins for that MAC;
 *  - otherwise the address the client asks for (option 50) if free, else
 *    the least recently used free address (never used first);
 *  - an offer holds an address for POOL_OFFER_HOLD_S seconds;
 *  - a declined address is quarantined for POOL_DECLINE_HOLD_S seconds;
 *  - expired and released addresses are free again. */
#ifndef PXED_DHCP_POOL_H
#define PXED_DHCP_POOL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POOL_SIZE_MAX 65536
#define POOL_KEY_MAX 64
#define POOL_OFFER_HOLD_S 60
#define POOL_DECLINE_HOLD_S 600
#define POOL_INFINITE INT64_MAX

enum slot_state {
	SLOT_FREE = 0,
	SLOT_OFFERED,
	SLOT_BOUND,
	SLOT_DECLINED,
	SLOT_RESERVED_ELSEWHERE,        /* reserved for a host: never pooled */
};

struct pool_slot {
	enum slot_state state;
	uint8_t key[POOL_KEY_MAX];      /* client key: 61 value or MAC */
	uint8_t key_len;
	uint8_t mac[16];
	uint8_t mac_len;
	int64_t expires;                /* unix seconds; POOL_INFINITE */
	int64_t stored_expires;         /* the end of its lease as committed to the
	                                 * store (0: none stored) */
	int64_t last_used;              /* when it was last freed (LRU) */
	char hostname[64];
};

struct pool {
	uint32_t first;                 /* host order: lowest address of the ranges */
	uint32_t size;                  /* slots: first .. first + size - 1 */
	struct pool_slot *slots;        /* size entries */
	bool *in_pool;                  /* size: leasable (in a range, not excluded) */
	uint32_t *index;                /* hash: key -> slot + 1 (0 = empty) */
	uint32_t index_size;            /* power of two >= 2 * size */
	uint32_t cursor;                /* where the free-address search resumes */
	const bool *prefer;             /* servers sharing a database: free addresses
	                                 * of these buckets (split_addr_bucket) first;
	                                 * NULL: any */
};

/* FNV-1a of a client key (the index's hash; also the subnet stats'). */
uint32_t pool_key_hash(const uint8_t *key, size_t len);

/* Create a pool spanning [first, last] (host order) where nothing is
 * leasable yet; pool_add_range / pool_exclude set what is.  Returns 0,
 * -ERANGE (more than POOL_SIZE_MAX addresses) or -ENOMEM. */
int pool_init(struct pool *p, uint32_t first, uint32_t last);
void pool_free(struct pool *p);
void pool_add_range(struct pool *p, uint32_t first, uint32_t last);
void pool_exclude(struct pool *p, uint32_t first, uint32_t last);
bool pool_contains(const struct pool *p, uint32_t addr);

/* The slot of addr, or NULL when outside the pool's span. */
struct pool_slot *pool_slot(struct pool *p, uint32_t addr);
uint32_t pool_slot_addr(const struct pool *p, const struct pool_slot *s);

/* The client's current slot (offered or bound, not expired), or NULL. */
struct pool_slot *pool_find_client(struct pool *p, const uint8_t *key, size_t key_len,
    int64_t now);

/* Pick an address for a DISCOVER: existing, reserved (reserved != 0),
 * requested (requested != 0), or a free one.  Marks it offered until
 * now + POOL_OFFER_HOLD_S.  Returns the slot or NULL (pool exhausted). */
struct pool_slot *pool_offer(struct pool *p, const uint8_t *key, size_t key_len,
    const uint8_t *mac, size_t mac_len, uint32_t reserved, uint32_t requested,
    int64_t now);

/* Bind addr to the client until expires.  Fails (-EBUSY) when the address
 * is bound, offered or quarantined for another client, -EINVAL when not
 * leasable (and not the client's reservation). */
int pool_bind(struct pool *p, uint32_t addr, const uint8_t *key, size_t key_len,
    const uint8_t *mac, size_t mac_len, bool reserved, int64_t now, int64_t expires);

/* Release, decline, or forget an offer of addr by this client.  Returns 0,
 * or -ENOENT when the address is not the client's. */
int pool_release(struct pool *p, uint32_t addr, const uint8_t *key, size_t key_len,
    int64_t now);
int pool_decline(struct pool *p, uint32_t addr, const uint8_t *key, size_t key_len,
    int64_t now);

/* Has this client a slot in the pool, live or ended but not yet given to
 * anyone else (it had a lease or an offer here)? */
bool pool_knows_client(const struct pool *p, const uint8_t *key, size_t key_len);

/* True when addr is taken by someone other than this client. */
bool pool_taken_by_other(struct pool *p, uint32_t addr, const uint8_t *key, size_t key_len,
    int64_t now);

/* Another server bound addr to this client (servers sharing one
 * database): the slot becomes that binding, whoever held it here.  0 or
 * -EINVAL (addr outside the span, a bad key). */
int pool_learn(struct pool *p, uint32_t addr, const uint8_t *key, size_t key_len,
    const uint8_t *mac, size_t mac_len, int64_t expires);

/* Put a live slot of another pool (a reload's old pool) at addr: a binding
 * or offer for the same client, or a quarantine.  reserved: addr is that
 * client's reservation (leasable even when excluded).  0, -EINVAL (addr
 * outside the span or not leasable) or -EBUSY (live for someone else). */
int pool_restore(struct pool *p, uint32_t addr, const struct pool_slot *from, bool reserved,
    int64_t now);

/* Counts for status: bound, offered, declined, free (leasable). */
struct pool_counts {
	uint32_t bound, offered, declined, free_count;
};
void pool_count(const struct pool *p, int64_t now, struct pool_counts *c);

#endif

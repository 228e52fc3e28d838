#include "dhcp/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "dhcp/split.h"

uint32_t
pool_key_hash(const uint8_t *key, size_t len)
{
	uint32_t h = 2166136261u;               /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= key[i];
		h *= 16777619u;
	}
	return h;
}

static bool
slot_has_key(const struct pool_slot *s, const uint8_t *key, size_t len)
{
	return s->key_len == len && memcmp(s->key, key, len) == 0;
}

int
pool_init(struct pool *p, uint32_t first, uint32_t last)
{
	memset(p, 0, sizeof *p);
	if (last < first || last - first >= POOL_SIZE_MAX)
		return -ERANGE;
	p->first = first;
	p->size = last - first + 1;
	p->index_size = 2;
	while (p->index_size < 2 * p->size)
		p->index_size *= 2;
	p->slots = calloc(p->size, sizeof *p->slots);
	p->in_pool = calloc(p->size, sizeof *p->in_pool);
	p->index = calloc(p->index_size, sizeof *p->index);
	if (p->slots == NULL || p->in_pool == NULL || p->index == NULL) {
		pool_free(p);
		return -ENOMEM;
	}
	return 0;
}

void
pool_free(struct pool *p)
{
	free(p->slots);
	free(p->in_pool);
	free(p->index);
	memset(p, 0, sizeof *p);
}

static void
mark_range(struct pool *p, uint32_t first, uint32_t last, bool leasable)
{
	uint32_t lo = MAX(first, p->first), hi = MIN(last, p->first + p->size - 1);

	for (uint64_t a = lo; a <= hi && lo <= hi; a++)
		p->in_pool[a - p->first] = leasable;
}

void
pool_add_range(struct pool *p, uint32_t first, uint32_t last)
{
	mark_range(p, first, last, true);
}

void
pool_exclude(struct pool *p, uint32_t first, uint32_t last)
{
	mark_range(p, first, last, false);
}

bool
pool_contains(const struct pool *p, uint32_t addr)
{
	return addr >= p->first && addr - p->first < p->size && p->in_pool[addr - p->first];
}

struct pool_slot *
pool_slot(struct pool *p, uint32_t addr)
{
	if (addr < p->first || addr - p->first >= p->size)
		return NULL;
	return &p->slots[addr - p->first];
}

uint32_t
pool_slot_addr(const struct pool *p, const struct pool_slot *s)
{
	return p->first + (uint32_t)(s - p->slots);
}

/* ---- the client index: open addressing, linear probing ---- */

static uint32_t
index_find(const struct pool *p, const uint8_t *key, size_t len)
{
	uint32_t mask = p->index_size - 1;

	for (uint32_t i = pool_key_hash(key, len) & mask, n = 0; n < p->index_size;
	    i = (i + 1) & mask, n++) {
		uint32_t v = p->index[i];
		if (v == 0)
			return UINT32_MAX;
		if (slot_has_key(&p->slots[v - 1], key, len))
			return i;
	}
	return UINT32_MAX;
}

static void
index_insert(struct pool *p, uint32_t slot)
{
	const struct pool_slot *s = &p->slots[slot];
	uint32_t mask = p->index_size - 1;
	uint32_t i = pool_key_hash(s->key, s->key_len) & mask;

	while (p->index[i] != 0)
		i = (i + 1) & mask;     /* never full: index_size >= 2 * size */
	p->index[i] = slot + 1;
}

/* Remove entry i, shifting later entries of the same run back. */
static void
index_remove_at(struct pool *p, uint32_t i)
{
	uint32_t mask = p->index_size - 1;

	p->index[i] = 0;
	for (uint32_t j = (i + 1) & mask; p->index[j] != 0; j = (j + 1) & mask) {
		uint32_t v = p->index[j];
		const struct pool_slot *s = &p->slots[v - 1];
		uint32_t home = pool_key_hash(s->key, s->key_len) & mask;
		/* move v back to the hole if its home is not in (i, j] */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			p->index[i] = v;
			p->index[j] = 0;
			i = j;
		}
	}
}

static void
slot_clear(struct pool *p, struct pool_slot *s, enum slot_state state, int64_t now)
{
	if (s->key_len > 0) {
		uint32_t i = index_find(p, s->key, s->key_len);
		if (i != UINT32_MAX && p->index[i] - 1 == (uint32_t)(s - p->slots))
			index_remove_at(p, i);
	}
	memset(s, 0, sizeof *s);
	s->state = state;
	s->last_used = now;
}

static void
slot_assign(struct pool *p, struct pool_slot *s, enum slot_state state, const uint8_t *key,
    size_t key_len, const uint8_t *mac, size_t mac_len, int64_t expires)
{
	bool indexed = s->key_len > 0 && slot_has_key(s, key, key_len);

	if (!indexed) {
		uint32_t i = index_find(p, key, key_len);
		if (i != UINT32_MAX)    /* the client had another slot: let it go */
			slot_clear(p, &p->slots[p->index[i] - 1], SLOT_FREE, 0);
		if (s->key_len > 0)
			slot_clear(p, s, SLOT_FREE, 0);
		memcpy(s->key, key, key_len);
		s->key_len = (uint8_t)key_len;
		index_insert(p, (uint32_t)(s - p->slots));
	}
	s->state = state;
	memcpy(s->mac, mac, MIN(mac_len, sizeof s->mac));
	s->mac_len = (uint8_t)MIN(mac_len, sizeof s->mac);
	s->expires = expires;
}

static bool
slot_live(const struct pool_slot *s, int64_t now)
{
	return s->state != SLOT_FREE && s->expires > now;
}

struct pool_slot *
pool_find_client(struct pool *p, const uint8_t *key, size_t key_len, int64_t now)
{
	uint32_t i = index_find(p, key, key_len);

	if (i == UINT32_MAX)
		return NULL;
	struct pool_slot *s = &p->slots[p->index[i] - 1];
	if ((s->state == SLOT_OFFERED || s->state == SLOT_BOUND) && s->expires > now)
		return s;
	return NULL;
}

bool
pool_knows_client(const struct pool *p, const uint8_t *key, size_t key_len)
{
	return key_len > 0 && key_len <= POOL_KEY_MAX && p->index != NULL &&
	    index_find(p, key, key_len) != UINT32_MAX;
}

bool
pool_taken_by_other(struct pool *p, uint32_t addr, const uint8_t *key, size_t key_len,
    int64_t now)
{
	struct pool_slot *s = pool_slot(p, addr);

	return s != NULL && slot_live(s, now) && !slot_has_key(s, key, key_len);
}

static bool
slot_preferred(const struct pool *p, uint32_t i)
{
	return p->prefer == NULL || p->prefer[split_addr_bucket(p->first + i)];
}

/* A free leasable address: never used first, else the least recently
 * freed; only of the preferred buckets when asked. */
static struct pool_slot *
pick_free(struct pool *p, int64_t now, bool preferred)
{
	struct pool_slot *best = NULL;

	for (uint32_t n = 0; n < p->size; n++) {
		uint32_t i = (p->cursor + n) % p->size;
		struct pool_slot *s = &p->slots[i];
		if (!p->in_pool[i] || slot_live(s, now) || (preferred && !slot_preferred(p, i)))
			continue;
		if (s->last_used == 0 && s->key_len == 0) {
			p->cursor = (i + 1) % p->size;
			return s;
		}
		if (best == NULL || s->last_used < best->last_used)
			best = s;
	}
	return best;
}

static struct pool_slot *
pool_pick_free(struct pool *p, int64_t now)
{
	struct pool_slot *s = p->prefer != NULL ? pick_free(p, now, true) : NULL;

	return s != NULL ? s : pick_free(p, now, false);
}

struct pool_slot *
pool_offer(struct pool *p, const uint8_t *key, size_t key_len, const uint8_t *mac,
    size_t mac_len, uint32_t reserved, uint32_t requested, int64_t now)
{
	struct pool_slot *s = NULL;

	if (key_len == 0 || key_len > POOL_KEY_MAX)
		return NULL;
	if (reserved != 0) {
		s = pool_slot(p, reserved);
		if (s == NULL || pool_taken_by_other(p, reserved, key, key_len, now))
			return NULL;
	} else {
		s = pool_find_client(p, key, key_len, now);
		if (s == NULL && requested != 0 && pool_contains(p, requested) &&
		    !pool_taken_by_other(p, requested, key, key_len, now))
			s = pool_slot(p, requested);
		if (s == NULL)
			s = pool_pick_free(p, now);
		if (s == NULL)
			return NULL;
	}
	if (s->state == SLOT_BOUND && slot_has_key(s, key, key_len) && s->expires > now)
		return s;               /* already bound: offer it as it is */
	slot_assign(p, s, SLOT_OFFERED, key, key_len, mac, mac_len, now + POOL_OFFER_HOLD_S);
	return s;
}

int
pool_bind(struct pool *p, uint32_t addr, const uint8_t *key, size_t key_len,
    const uint8_t *mac, size_t mac_len, bool reserved, int64_t now, int64_t expires)
{
	struct pool_slot *s = pool_slot(p, addr);

	if (s == NULL || key_len == 0 || key_len > POOL_KEY_MAX)
		return -EINVAL;
	if (!reserved && !p->in_pool[addr - p->first])
		return -EINVAL;
	if (pool_taken_by_other(p, addr, key, key_len, now))
		return -EBUSY;
	slot_assign(p, s, SLOT_BOUND, key, key_len, mac, mac_len, expires);
	return 0;
}

int
pool_learn(struct pool *p, uint32_t addr, const uint8_t *key, size_t key_len,
    const uint8_t *mac, size_t mac_len, int64_t expires)
{
	struct pool_slot *s = pool_slot(p, addr);

	if (s == NULL || key_len == 0 || key_len > POOL_KEY_MAX)
		return -EINVAL;
	slot_assign(p, s, SLOT_BOUND, key, key_len, mac, mac_len, expires);
	return 0;
}

int
pool_restore(struct pool *p, uint32_t addr, const struct pool_slot *from, bool reserved,
    int64_t now)
{
	struct pool_slot *s = pool_slot(p, addr);

	if (s == NULL || (!reserved && !p->in_pool[addr - p->first]))
		return -EINVAL;
	if (from->state == SLOT_DECLINED) {
		if (slot_live(s, now))
			return -EBUSY;
		slot_clear(p, s, SLOT_DECLINED, from->last_used);
		s->expires = from->expires;
		return 0;
	}
	if ((from->state != SLOT_BOUND && from->state != SLOT_OFFERED) || from->key_len == 0)
		return -EINVAL;
	if (pool_taken_by_other(p, addr, from->key, from->key_len, now))
		return -EBUSY;
	slot_assign(p, s, from->state, from->key, from->key_len, from->mac, from->mac_len,
	    from->expires);
	memcpy(s->hostname, from->hostname, sizeof s->hostname);
	s->stored_expires = from->stored_expires;
	return 0;
}

static int
client_slot_end(struct pool *p, uint32_t addr, const uint8_t *key, size_t key_len,
    enum slot_state to, int64_t now)
{
	struct pool_slot *s = pool_slot(p, addr);

	if (s == NULL || s->state == SLOT_FREE || !slot_has_key(s, key, key_len))
		return -ENOENT;
	slot_clear(p, s, to, now);
	if (to == SLOT_DECLINED)
		s->expires = now + POOL_DECLINE_HOLD_S;
	return 0;
}

int
pool_release(struct pool *p, uint32_t addr, const uint8_t *key, size_t key_len, int64_t now)
{
	return client_slot_end(p, addr, key, key_len, SLOT_FREE, now);
}

int
pool_decline(struct pool *p, uint32_t addr, const uint8_t *key, size_t key_len, int64_t now)
{
	return client_slot_end(p, addr, key, key_len, SLOT_DECLINED, now);
}

void
pool_count(const struct pool *p, int64_t now, struct pool_counts *c)
{
	memset(c, 0, sizeof *c);
	for (uint32_t i = 0; i < p->size; i++) {
		const struct pool_slot *s = &p->slots[i];
		bool live = s->state != SLOT_FREE && s->expires > now;
		if (live && s->state == SLOT_BOUND)
			c->bound++;
		else if (live && s->state == SLOT_OFFERED)
			c->offered++;
		else if (live && s->state == SLOT_DECLINED)
			c->declined++;
		else if (p->in_pool[i])
			c->free_count++;
	}
}

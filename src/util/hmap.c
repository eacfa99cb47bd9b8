/* SPDX-License-Identifier: MIT */
/* The seeded hash map (see hmap.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "util/hmap.h"

struct e4_hmap {
	uint8_t *slots;		/* nslots * stride bytes: key, value */
	uint8_t *used;		/* one byte per slot */
	size_t nslots;		/* power of two, or 0 */
	size_t count;
	size_t value_size, stride;
	uint64_t seed;
};

/*
 * Fuzzing builds define E4_HMAP_FIXED_SEED so that an input behaves the
 * same on every run; everything else draws a seed per map.
 */
uint64_t e4_random_seed(void)
{
#ifdef E4_HMAP_FIXED_SEED
	return E4_HMAP_FIXED_SEED;
#else
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed)) {
		/* no entropy yet (early boot): still differ between maps */
		static uint64_t fallback = 0x9E3779B97F4A7C15ull;
		seed = (uint64_t)(uintptr_t)&seed ^
		       (fallback += 0x9E3779B97F4A7C15ull);
	}
	return seed;
#endif
}

struct e4_hmap *e4_hmap_new(size_t value_size)
{
	struct e4_hmap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->value_size = value_size;
	/* values keep the alignment of the 8-byte key */
	m->stride = sizeof(uint64_t) + ((value_size + 7) & ~(size_t)7);
	m->seed = e4_random_seed();
	return m;
}

void e4_hmap_free(struct e4_hmap *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m->used);
	free(m);
}

static size_t slot_of(const struct e4_hmap *m, uint64_t key)
{
	return (size_t)XXH3_64bits_withSeed(&key, sizeof(key), m->seed) &
	       (m->nslots - 1);
}

static uint64_t slot_key(const struct e4_hmap *m, size_t i)
{
	uint64_t key;

	memcpy(&key, m->slots + i * m->stride, sizeof(key));
	return key;
}

static void *slot_value(const struct e4_hmap *m, size_t i)
{
	return m->slots + i * m->stride + sizeof(uint64_t);
}

/* The slot holding @key, or the empty slot where it would go. */
static size_t probe(const struct e4_hmap *m, uint64_t key)
{
	size_t i = slot_of(m, key);

	while (m->used[i] && slot_key(m, i) != key)
		i = (i + 1) & (m->nslots - 1);
	return i;
}

void *e4_hmap_get(const struct e4_hmap *m, uint64_t key)
{
	size_t i;

	if (!m->nslots)
		return NULL;
	i = probe(m, key);
	return m->used[i] ? slot_value(m, i) : NULL;
}

static int grow(struct e4_hmap *m)
{
	size_t n = m->nslots ? m->nslots * 2 : 64;
	struct e4_hmap fresh = *m;

	if (n > SIZE_MAX / m->stride)
		return -ENOMEM;
	fresh.nslots = n;
	fresh.slots = malloc(n * m->stride);
	fresh.used = calloc(n, 1);
	if (!fresh.slots || !fresh.used) {
		free(fresh.slots);
		free(fresh.used);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->nslots; i++) {
		if (!m->used[i])
			continue;
		size_t j = probe(&fresh, slot_key(m, i));

		memcpy(fresh.slots + j * m->stride, m->slots + i * m->stride,
		       m->stride);
		fresh.used[j] = 1;
	}
	free(m->slots);
	free(m->used);
	*m = fresh;
	return 0;
}

void *e4_hmap_put(struct e4_hmap *m, uint64_t key, bool *added)
{
	size_t i;

	if ((m->count + 1) * 2 > m->nslots && grow(m) < 0)
		return NULL;
	i = probe(m, key);
	*added = !m->used[i];
	if (*added) {
		memcpy(m->slots + i * m->stride, &key, sizeof(key));
		memset(slot_value(m, i), 0, m->stride - sizeof(key));
		m->used[i] = 1;
		m->count++;
	}
	return slot_value(m, i);
}

void e4_hmap_remove(struct e4_hmap *m, uint64_t key)
{
	size_t mask, hole, i;

	if (!m->nslots)
		return;
	mask = m->nslots - 1;
	hole = probe(m, key);
	if (!m->used[hole])
		return;
	m->used[hole] = 0;
	m->count--;
	/* Linear probing: an entry after the hole whose home slot is not in
	 * (hole, i] would no longer be found; move it into the hole. */
	for (i = (hole + 1) & mask; m->used[i]; i = (i + 1) & mask) {
		size_t home = slot_of(m, slot_key(m, i));

		if (((i - home) & mask) >= ((i - hole) & mask)) {
			memcpy(m->slots + hole * m->stride,
			       m->slots + i * m->stride, m->stride);
			m->used[hole] = 1;
			m->used[i] = 0;
			hole = i;
		}
	}
}

size_t e4_hmap_count(const struct e4_hmap *m)
{
	return m->count;
}

size_t e4_hmap_memory(const struct e4_hmap *m)
{
	return sizeof(*m) + m->nslots * (m->stride + 1);
}

bool e4_hmap_next(const struct e4_hmap *m, size_t *pos, uint64_t *key,
		  void **value)
{
	for (; *pos < m->nslots; (*pos)++) {
		if (!m->used[*pos])
			continue;
		*key = slot_key(m, *pos);
		*value = slot_value(m, *pos);
		(*pos)++;
		return true;
	}
	return false;
}

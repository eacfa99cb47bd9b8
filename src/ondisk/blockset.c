/* SPDX-License-Identifier: MIT */
/* A set of block numbers: "each block visited once" for whole-tree walks. */
#include <stdlib.h>

#include "ondisk/ondisk.h"

struct e4_block_set {
	uint64_t *slots;	/* value + 1; 0 = empty */
	size_t nslots, used;
};

struct e4_block_set *e4_block_set_new(void)
{
	return calloc(1, sizeof(struct e4_block_set));
}

void e4_block_set_free(struct e4_block_set *s)
{
	if (s)
		free(s->slots);
	free(s);
}

static size_t slot_of(uint64_t key, size_t n)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (n - 1);
}

int e4_block_set_add(struct e4_block_set *s, uint64_t blk)
{
	uint64_t key = blk + 1;

	if ((s->used + 1) * 2 > s->nslots) {
		size_t n = s->nslots ? s->nslots * 2 : 64;
		uint64_t *fresh = calloc(n, sizeof(*fresh));
		if (!fresh)
			return -ENOMEM;
		for (size_t i = 0; i < s->nslots; i++) {
			if (!s->slots[i])
				continue;
			size_t j = slot_of(s->slots[i], n);
			while (fresh[j])
				j = (j + 1) & (n - 1);
			fresh[j] = s->slots[i];
		}
		free(s->slots);
		s->slots = fresh;
		s->nslots = n;
	}
	size_t j = slot_of(key, s->nslots);
	while (s->slots[j]) {
		if (s->slots[j] == key)
			return 1;
		j = (j + 1) & (s->nslots - 1);
	}
	s->slots[j] = key;
	s->used++;
	return 0;
}

bool e4_block_set_has(const struct e4_block_set *s, uint64_t blk)
{
	uint64_t key = blk + 1;

	if (!s->nslots)
		return false;
	for (size_t j = slot_of(key, s->nslots); s->slots[j];
	     j = (j + 1) & (s->nslots - 1))
		if (s->slots[j] == key)
			return true;
	return false;
}

size_t e4_block_set_size(const struct e4_block_set *s)
{
	return s->used;
}

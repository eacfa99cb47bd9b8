/* SPDX-License-Identifier: MIT */
/* A set of block (or inode) numbers: "each visited once" for whole-tree
 * walks.  A seeded hash map without values, so an image cannot choose
 * numbers that collide. */
#include <stdlib.h>

#include "ondisk/ondisk.h"
#include "util/hmap.h"

struct e4_block_set *e4_block_set_new(void)
{
	return (struct e4_block_set *)e4_hmap_new(0);
}

void e4_block_set_free(struct e4_block_set *s)
{
	e4_hmap_free((struct e4_hmap *)s);
}

int e4_block_set_add(struct e4_block_set *s, uint64_t blk)
{
	bool added;

	if (!e4_hmap_put((struct e4_hmap *)s, blk, &added))
		return -ENOMEM;
	return added ? 0 : 1;
}

bool e4_block_set_has(const struct e4_block_set *s, uint64_t blk)
{
	return e4_hmap_get((const struct e4_hmap *)s, blk) != NULL;
}

size_t e4_block_set_size(const struct e4_block_set *s)
{
	return e4_hmap_count((const struct e4_hmap *)s);
}

/* SPDX-License-Identifier: MIT */
/*
 * A hash map from 64-bit keys (block and inode numbers) to fixed-size
 * values, for every table whose keys come from an image.  Keys are hashed
 * with XXH3 under a seed drawn at random for each map, so an image cannot
 * choose numbers that collide into long probe chains (quadratic work).
 * Open addressing with linear probing, at most half full; removal shifts
 * the entries after it back, so no tombstones pile up.
 */
#ifndef E4_UTIL_HMAP_H
#define E4_UTIL_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct e4_hmap;

/* A fresh random 64-bit seed (fixed in fuzzing builds, see hmap.c): for
 * hashes an image must not be able to predict. */
uint64_t e4_random_seed(void);

/* A map whose values are @value_size bytes (0: a set). */
struct e4_hmap *e4_hmap_new(size_t value_size);
void e4_hmap_free(struct e4_hmap *m);

/* The value of @key, or NULL when absent. */
void *e4_hmap_get(const struct e4_hmap *m, uint64_t key);
/* The value of @key, inserted zero-filled if absent (*@added says which);
 * NULL when memory ran out.  The pointer is valid until the next put. */
void *e4_hmap_put(struct e4_hmap *m, uint64_t key, bool *added);

/* Remove @key (a no-op when absent).  Invalidates value pointers. */
void e4_hmap_remove(struct e4_hmap *m, uint64_t key);

size_t e4_hmap_count(const struct e4_hmap *m);
/* Bytes the map holds (for memory ceilings). */
size_t e4_hmap_memory(const struct e4_hmap *m);

/* Iterate: start with *@pos = 0; true while there is an entry. */
bool e4_hmap_next(const struct e4_hmap *m, size_t *pos, uint64_t *key,
		  void **value);

#endif /* E4_UTIL_HMAP_H */

/* SPDX-License-Identifier: MIT */
/* Runs of bits in a bitmap, bit i in byte i / 8 at 1 << (i % 8): the
 * order of ext4's bitmaps (§11.1).  The caller keeps indexes in range. */
#ifndef E4_UTIL_BITS_H
#define E4_UTIL_BITS_H

#include <stdbool.h>
#include <stdint.h>

static inline bool e4_bit_test(const uint8_t *bits, uint64_t i)
{
	return bits[i / 8] & (1u << (i % 8));
}
void e4_bits_set(uint8_t *bits, uint64_t first, uint64_t count);
void e4_bits_clear(uint8_t *bits, uint64_t first, uint64_t count);
/* Whether every bit of [first, first+count) is set (@set) or clear. */
bool e4_bits_all(const uint8_t *bits, uint64_t first, uint64_t count,
		 bool set);
/* Clear bits among the first @nbits. */
uint64_t e4_bits_count_clear(const uint8_t *bits, uint64_t nbits);
/* A run of clear bits among the first @nbits, looking from @from to the
 * end and then from 0: the first at least @want long (*@len is its whole
 * length), else the longest one (*@len < @want), else *@len 0. */
void e4_bits_find_run(const uint8_t *bits, uint64_t nbits, uint64_t from,
		      uint64_t want, uint64_t *start, uint64_t *len);

#endif /* E4_UTIL_BITS_H */

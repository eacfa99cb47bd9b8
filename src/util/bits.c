/* SPDX-License-Identifier: MIT */
/* Runs of bits in a bitmap (see bits.h). */
#include "util/bits.h"

void e4_bits_set(uint8_t *bits, uint64_t first, uint64_t count)
{
	for (uint64_t i = first; i < first + count; i++)
		bits[i / 8] |= (uint8_t)(1u << (i % 8));
}

void e4_bits_clear(uint8_t *bits, uint64_t first, uint64_t count)
{
	for (uint64_t i = first; i < first + count; i++)
		bits[i / 8] &= (uint8_t)~(1u << (i % 8));
}

bool e4_bits_all(const uint8_t *bits, uint64_t first, uint64_t count,
		 bool set)
{
	for (uint64_t i = first; i < first + count; i++)
		if (e4_bit_test(bits, i) != set)
			return false;
	return true;
}

uint64_t e4_bits_count_clear(const uint8_t *bits, uint64_t nbits)
{
	uint64_t n = 0, i = 0;

	for (; i + 8 <= nbits; i += 8)
		n += 8 - (uint64_t)__builtin_popcount(bits[i / 8]);
	for (; i < nbits; i++)
		n += !e4_bit_test(bits, i);
	return n;
}

/* The next clear bit at or after @i, below @end (@end if none): whole
 * bytes of ones are skipped. */
static uint64_t next_clear(const uint8_t *bits, uint64_t i, uint64_t end)
{
	while (i < end) {
		if (i % 8 == 0 && bits[i / 8] == 0xFF) {
			i += 8;
			continue;
		}
		if (!e4_bit_test(bits, i))
			return i;
		i++;
	}
	return end;
}

static uint64_t next_set(const uint8_t *bits, uint64_t i, uint64_t end)
{
	while (i < end) {
		if (i % 8 == 0 && bits[i / 8] == 0) {
			i += 8;
			continue;
		}
		if (e4_bit_test(bits, i))
			return i;
		i++;
	}
	return end;
}

/* The search in [lo, hi); true when a run of @want was found. */
static bool find_in(const uint8_t *bits, uint64_t lo, uint64_t hi,
		    uint64_t want, uint64_t *start, uint64_t *len)
{
	uint64_t i = lo;

	while (i < hi) {
		uint64_t s = next_clear(bits, i, hi);
		uint64_t e = next_set(bits, s, hi);

		if (s >= hi)
			break;
		if (e - s > *len) {
			*start = s;
			*len = e - s;
		}
		if (e - s >= want)
			return true;
		i = e;
	}
	return false;
}

void e4_bits_find_run(const uint8_t *bits, uint64_t nbits, uint64_t from,
		      uint64_t want, uint64_t *start, uint64_t *len)
{
	*start = 0;
	*len = 0;
	if (from >= nbits)
		from = 0;
	if (!find_in(bits, from, nbits, want, start, len))
		(void)find_in(bits, 0, from, want, start, len);
}

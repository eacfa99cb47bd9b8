/* SPDX-License-Identifier: MIT */
/*
 * The seeded hash map (src/util/hmap.c) against a plain model: random
 * puts, gets and removes, iteration, growth; and keys an image would pick
 * to collide under a fixed multiplicative hash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/hmap.h"

#define MODEL_KEYS 4096u

static uint64_t rng = 88172645463325252ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_against_model(void **state)
{
	struct e4_hmap *m = e4_hmap_new(sizeof(uint64_t));
	uint64_t *model = calloc(MODEL_KEYS, sizeof(*model));	/* 0 = absent */
	size_t count = 0;

	(void)state;
	assert_non_null(m);
	assert_non_null(model);
	for (unsigned step = 0; step < 200000; step++) {
		uint64_t r = next_random();
		uint64_t key = (r >> 8) % MODEL_KEYS;
		/* keys spread over the whole 64-bit range too */
		uint64_t big = key * 0x9E3779B97F4A7C15ull;

		switch (r & 3) {
		case 0:
		case 1: {
			bool added;
			uint64_t *v = e4_hmap_put(m, big, &added);

			assert_non_null(v);
			assert_int_equal(added, model[key] == 0);
			if (added) {
				assert_int_equal(*v, 0);
				count++;
			}
			*v = model[key] = step + 1;
			break;
		}
		case 2:
			if (model[key])
				count--;
			model[key] = 0;
			e4_hmap_remove(m, big);
			break;
		default: {
			uint64_t *v = e4_hmap_get(m, big);

			if (model[key]) {
				assert_non_null(v);
				assert_int_equal(*v, model[key]);
			} else {
				assert_null(v);
			}
		}
		}
		assert_int_equal(e4_hmap_count(m), count);
	}
	/* iteration sees each entry once, with its value */
	size_t pos = 0, seen = 0;
	uint64_t key;
	void *value;

	while (e4_hmap_next(m, &pos, &key, &value)) {
		uint64_t k = key * 0xF1DE83E19937733Dull;	/* inverse of the odd factor */

		assert_true(k < MODEL_KEYS);
		assert_int_equal(*(uint64_t *)value, model[k]);
		seen++;
	}
	assert_int_equal(seen, count);
	free(model);
	e4_hmap_free(m);
}

/* Keys that all land in one bucket of the old fixed hash
 * ((key * golden) >> 17) & (n - 1): a million of them stay cheap. */
static void test_adversarial_keys(void **state)
{
	struct e4_hmap *m = e4_hmap_new(0);
	const unsigned n = 1u << 20;

	(void)state;
	assert_non_null(m);
	for (unsigned i = 0; i < n; i++) {
		bool added;

		assert_non_null(e4_hmap_put(m, (uint64_t)i << 40, &added));
		assert_true(added);
	}
	assert_int_equal(e4_hmap_count(m), n);
	for (unsigned i = 0; i < n; i += 2)
		e4_hmap_remove(m, (uint64_t)i << 40);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(e4_hmap_get(m, (uint64_t)i << 40) != NULL, i & 1);
	assert_true(e4_hmap_memory(m) < 64u << 20);
	e4_hmap_free(m);
}

static void test_seeds_differ(void **state)
{
	(void)state;
#ifndef E4_HMAP_FIXED_SEED
	assert_true(e4_random_seed() != e4_random_seed());
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_model),
		cmocka_unit_test(test_adversarial_keys),
		cmocka_unit_test(test_seeds_differ),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Directory hashes against every vector of spec §18.4 (and the folded forms
 * of its casefold examples, which hash as plain bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ondisk/ondisk.h"

static const uint32_t seed_s[4] = {
	0xB28E825Fu, 0x8547FEC0u, 0x136B809Du, 0xFFB37DC4u,
};
static const uint32_t seed_zero[4];

struct vector {
	const char *name;
	unsigned version;
	const uint32_t *seed;	/* NULL: "any" (legacy) */
	uint32_t major, minor;
};

#define ALNUM "abcdefghijklmnopqrstuvwxyz0123456789"
#define ETE "\xC3\xA9t\xC3\xA9"

static const struct vector vectors[] = {
	{ "a", 0, NULL, 0xE74B53E2u, 0 },
	{ "a", 1, seed_zero, 0xD5FA7D7Au, 0xACB48187u },
	{ "a", 1, seed_s, 0x563149D8u, 0x85C0FD43u },
	{ "a", 2, seed_zero, 0x6D0EA4C0u, 0xC18922DFu },
	{ "a", 2, seed_s, 0xFD7C14ECu, 0x2B294B38u },
	{ "hello", 0, NULL, 0x32252546u, 0 },
	{ "hello", 1, seed_zero, 0x1746DA32u, 0x420013B5u },
	{ "hello", 1, seed_s, 0x0C2A3CDAu, 0x358C35E6u },
	{ "hello", 2, seed_zero, 0x6F5BB1A8u, 0x231917C2u },
	{ "hello", 2, seed_s, 0x1D652CB0u, 0xD444B6B6u },
	{ "lost+found", 0, NULL, 0x5E2ABA24u, 0 },
	{ "lost+found", 1, seed_zero, 0x591DE422u, 0x6FFC56E0u },
	{ "lost+found", 1, seed_s, 0x94EE071Eu, 0xC672EA25u },
	{ "lost+found", 2, seed_zero, 0x2DBF9E80u, 0xBFEBEE4Fu },
	{ "lost+found", 2, seed_s, 0xE14B1DB8u, 0xC2F80E07u },
	{ ALNUM, 0, NULL, 0x9015281Au, 0 },
	{ ALNUM, 1, seed_zero, 0x97C69942u, 0x2630F912u },
	{ ALNUM, 1, seed_s, 0x340DD9EAu, 0x5E758E2Du },
	{ ALNUM, 2, seed_zero, 0xE073581Cu, 0x45BE1A19u },
	{ ALNUM, 2, seed_s, 0x07484222u, 0xF1E4DF3Cu },
	{ ETE, 0, NULL, 0x70D7B7FCu, 0 },
	{ ETE, 3, NULL, 0x40D0F40Cu, 0 },
	{ ETE, 1, seed_zero, 0xA69A4D3Au, 0x22BAC128u },
	{ ETE, 4, seed_zero, 0x3EB35F16u, 0x634A9ED3u },
	{ ETE, 1, seed_s, 0x29ECDA52u, 0xFE6D7086u },
	{ ETE, 4, seed_s, 0xFA17C314u, 0x75900B44u },
	{ ETE, 2, seed_zero, 0x04D337A6u, 0x0615A017u },
	{ ETE, 5, seed_zero, 0x2ED2FEACu, 0x3A9221A3u },
	{ ETE, 2, seed_s, 0x4B557FBCu, 0xD2A98D56u },
	{ ETE, 5, seed_s, 0x2CC3FEAEu, 0xE8FF955Fu },
	/* casefold examples, already folded (half_md4, seed zero) */
	{ "hello", 1, NULL, 0x1746DA32u, 0x420013B5u },
	{ "strasse", 1, NULL, 0x7E099ECCu, 0x63E35612u },
	{ "a\xCC\x8A" "ngstro\xCC\x88m", 1, NULL, 0xDE1141A0u, 0xD49622F1u },
	{ "e\xCC\x81", 1, NULL, 0x78C49F9Eu, 0xD83401CCu },
};

static void check(const struct vector *v, const uint32_t *seed,
		  unsigned version)
{
	uint32_t major = 0x5A5A5A5Au, minor = 0x5A5A5A5Au;
	int rc = e4_dirhash(v->name, strlen(v->name), version, seed, &major,
			    &minor);

	if (rc || major != v->major || minor != v->minor)
		fail_msg("\"%s\" v%u: rc %d major 0x%08X minor 0x%08X, "
			 "expected 0x%08X 0x%08X", v->name, version, rc, major,
			 minor, v->major, v->minor);
}

static void test_spec_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];

		if (v->seed) {
			check(v, v->seed, v->version);
		} else {
			/* "any" seed: legacy ignores it; NULL = default */
			check(v, NULL, v->version);
			check(v, seed_zero, v->version);
			if (v->version % 3 == 0)
				check(v, seed_s, v->version);
		}
	}
}

/* Names without bytes >= 0x80 hash the same in both variants. */
static void test_unsigned_variants_ascii(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];

		bool ascii = true;

		for (const char *p = v->name; *p; p++)
			ascii = ascii && !(*p & 0x80);
		if (v->version > 2 || !ascii)
			continue;
		check(v, v->seed, v->version + 3);
	}
}

static void test_bad_versions(void **state)
{
	(void)state;
	uint32_t major, minor;
	char name[E4_CASEFOLD_MAX + 1];

	assert_int_equal(e4_dirhash("a", 1, 6, NULL, &major, &minor),
			 -EOPNOTSUPP);
	assert_int_equal(e4_dirhash("a", 1, 7, NULL, &major, &minor), -EINVAL);
	assert_int_equal(e4_dirhash("a", 1, 255, NULL, &major, &minor),
			 -EINVAL);
	memset(name, 'x', sizeof(name));
	/* a casefolded name is hashed folded: up to 3 bytes a byte */
	assert_int_equal(e4_dirhash(name, E4_CASEFOLD_MAX + 1, 1, NULL, &major,
				    &minor), -EINVAL);
	assert_int_equal(e4_dirhash(name, E4_CASEFOLD_MAX, 1, NULL, &major,
				    &minor), 0);
}

/* Bit 0 is the continuation flag: never set in a computed hash, and the
 * end-of-directory value 0xFFFFFFFE never produced. */
static void test_major_low_bit_clear(void **state)
{
	(void)state;
	char name[64];

	for (unsigned v = 0; v <= 5; v++)
		for (unsigned i = 0; i < 3000; i++) {
			uint32_t major;
			int n = snprintf(name, sizeof(name), "f%u-%u", i,
					 i * 7919u);

			assert_int_equal(e4_dirhash(name, (size_t)n, v, seed_s,
						    &major, NULL), 0);
			assert_int_equal(major & 1, 0);
			assert_true(major != 0xFFFFFFFEu);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_vectors),
		cmocka_unit_test(test_unsigned_variants_ascii),
		cmocka_unit_test(test_bad_versions),
		cmocka_unit_test(test_major_low_bit_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

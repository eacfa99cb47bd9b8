/* SPDX-License-Identifier: MIT */
/* The CRCs and seeds against the spec's test vectors (§18.1, §18.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ondisk/ondisk.h"

static void test_crc32c_vectors(void **state)
{
	(void)state;
	static const uint8_t zeros[32];
	assert_int_equal(e4_crc32c(0xFFFFFFFFu, "123456789", 9), 0x1CF96D7Cu);
	assert_int_equal(e4_crc32c(0xFFFFFFFFu, "123456789", 9) ^ 0xFFFFFFFFu,
			 0xE3069283u);
	assert_int_equal(e4_crc32c(0, "123456789", 9), 0x58E3FA20u);
	assert_int_equal(e4_crc32c(0xFFFFFFFFu, zeros, 32), 0x756EC955u);
}

static void test_crc32c_chains(void **state)
{
	(void)state;
	/* chaining pieces equals one pass, across the 8-byte fast path */
	uint8_t buf[1000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	uint32_t whole = e4_crc32c(0x12345678u, buf, sizeof(buf));
	for (size_t cut = 0; cut <= 17; cut++) {
		uint32_t c = e4_crc32c(0x12345678u, buf, cut);
		assert_int_equal(e4_crc32c(c, buf + cut, sizeof(buf) - cut), whole);
	}
}

static void test_crc16_vectors(void **state)
{
	(void)state;
	assert_int_equal(e4_crc16(0xFFFF, "123456789", 9), 0x4B37);
	assert_int_equal(e4_crc16(0, "123456789", 9), 0xBB3D);
}

static void test_crc32_be_vector(void **state)
{
	(void)state;
	assert_int_equal(e4_crc32_be(0xFFFFFFFFu, "123456789", 9), 0x0376E6E7u);
}

static void test_seeds(void **state)
{
	(void)state;
	struct e4_fs fs;
	uint8_t uuid[16];
	for (int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)(i * 0x11);
	memset(&fs, 0, sizeof(fs));
	fs.fs_seed = e4_crc32c(0xFFFFFFFFu, uuid, 16);
	assert_int_equal(fs.fs_seed, 0xB720167Du);
	assert_int_equal(e4_inode_csum_seed(&fs, 12, 0x12345678u), 0x1E29F3FAu);

	/* metadata_csum descriptor checksum, group 1, ds 64 */
	uint8_t desc[64];
	for (int i = 0; i < 64; i++)
		desc[i] = (uint8_t)i;
	desc[0x1E] = desc[0x1F] = 0;
	uint32_t c = e4_crc32c_le32(fs.fs_seed, 1);
	c = e4_crc32c(c, desc, 64);
	assert_int_equal(c & 0xFFFF, 0xFC01);

	/* gdt_csum crc16, group 1, ds 32 and 64 */
	for (int i = 0; i < 64; i++)
		desc[i] = (uint8_t)i;
	uint8_t g[4] = {1, 0, 0, 0};
	uint16_t d = e4_crc16(0xFFFF, uuid, 16);
	d = e4_crc16(d, g, 4);
	d = e4_crc16(d, desc, 0x1E);
	assert_int_equal(d, 0xCF47);
	d = e4_crc16(d, desc + 0x20, 32);
	assert_int_equal(d, 0x1D4D);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_vectors),
		cmocka_unit_test(test_crc32c_chains),
		cmocka_unit_test(test_crc16_vectors),
		cmocka_unit_test(test_crc32_be_vector),
		cmocka_unit_test(test_seeds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

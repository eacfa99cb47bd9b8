/* SPDX-License-Identifier: MIT */
/*
 * No-key names of encrypted directories (nokey.c) and the SHA-256 their
 * long form uses: FIPS 180-4's examples, the encoding (checked against
 * the kernel's listing in tests/mount/encrypt.sh), and what a lookup
 * accepts as a no-key name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ondisk/ondisk.h"
#include "util/sha256.h"

static void expect_sha256(const char *msg, size_t len, const char *hex)
{
	uint8_t d[E4_SHA256_SIZE];
	char got[2 * E4_SHA256_SIZE + 1];

	e4_sha256(msg, len, d);
	for (int i = 0; i < E4_SHA256_SIZE; i++)
		snprintf(got + 2 * i, 3, "%02x", d[i]);
	assert_string_equal(got, hex);
}

static void test_sha256(void **state)
{
	(void)state;
	static char million[1000000];

	expect_sha256("", 0,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect_sha256("abc", 3,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* 56 bytes: the length goes to a second padding block */
	expect_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', sizeof(million));
	expect_sha256(million, sizeof(million),
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Short form: hash, minor, ciphertext, base64url without padding. */
static void test_encode_short(void **state)
{
	(void)state;
	uint8_t ct[16], raw[E4_NOKEY_RAW_MAX];
	char out[E4_NOKEY_NAME_MAX + 1];
	size_t n, rawlen;

	memset(ct, 0xFF, sizeof(ct));
	n = e4_nokey_encode(ct, sizeof(ct), 0x04030201u, 0x08070605u, out);
	/* 24 bytes: 32 characters, '-' and '_' for 62 and 63 */
	assert_int_equal(n, 32);
	assert_string_equal(out, "AQIDBAUGBwj_____________________");
	assert_int_equal(e4_nokey_decode(out, n, raw, &rawlen), 0);
	assert_int_equal(rawlen, 24);
	assert_true(e4_nokey_match(raw, rawlen, ct, sizeof(ct)));
	ct[15] = 0xFE;
	assert_false(e4_nokey_match(raw, rawlen, ct, sizeof(ct)));
	assert_false(e4_nokey_match(raw, rawlen, ct, 15));
}

/* Long form: past 149 bytes, the first 149 and the SHA-256 of the rest;
 * always 252 characters; a name differing only in its tail does not
 * match. */
static void test_encode_long(void **state)
{
	(void)state;
	uint8_t ct[255], raw[E4_NOKEY_RAW_MAX];
	char out[E4_NOKEY_NAME_MAX + 1];
	size_t n, rawlen;

	for (size_t i = 0; i < sizeof(ct); i++)
		ct[i] = (uint8_t)(i * 7);
	n = e4_nokey_encode(ct, 149, 0, 0, out);
	assert_int_equal(n, (8 + 149) * 4 / 3 + 1);
	n = e4_nokey_encode(ct, 150, 0, 0, out);
	assert_int_equal(n, E4_NOKEY_NAME_MAX);
	n = e4_nokey_encode(ct, sizeof(ct), 1, 2, out);
	assert_int_equal(n, E4_NOKEY_NAME_MAX);
	assert_int_equal(strlen(out), E4_NOKEY_NAME_MAX);
	assert_int_equal(e4_nokey_decode(out, n, raw, &rawlen), 0);
	assert_int_equal(rawlen, E4_NOKEY_RAW_MAX);
	assert_true(e4_nokey_match(raw, rawlen, ct, sizeof(ct)));
	assert_false(e4_nokey_match(raw, rawlen, ct, sizeof(ct) - 1));
	ct[200] ^= 1;
	assert_false(e4_nokey_match(raw, rawlen, ct, sizeof(ct)));
	ct[200] ^= 1;
	ct[10] ^= 1;
	assert_false(e4_nokey_match(raw, rawlen, ct, sizeof(ct)));
	/* the long form never matches a ciphertext of 149 bytes or less */
	assert_false(e4_nokey_match(raw, rawlen, ct, 149));
}

/* What is no no-key name: no entry has it. */
static void test_decode_refuses(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"short",			/* 3 bytes: no ciphertext */
		"AAAAAAAAAAA",			/* 8 bytes: the hash alone */
		"AAAAAAAAAAAAA",		/* a length no encoding has */
		"AAAAAAAAAAAAAB",		/* bits left over that are set */
		"AAAAAAAAAAA.",			/* not in the alphabet */
		"AAAAAAAAAAA+",			/* standard base64, not url */
		"AAAAAAAAAAA=",			/* padding */
	};
	uint8_t raw[E4_NOKEY_RAW_MAX];
	char name[256];
	size_t rawlen;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (e4_nokey_decode(bad[i], strlen(bad[i]), raw, &rawlen) !=
		    -ENOENT)
			fail_msg("'%s' decoded", bad[i]);
	assert_int_equal(e4_nokey_decode("AAAAAAAAAAAA", 12, raw, &rawlen), 0);
	assert_int_equal(rawlen, 9);
	assert_int_equal(e4_nokey_decode("AAAAAAAAAAAAAQ", 14, raw, &rawlen), 0);
	assert_int_equal(rawlen, 10);
	/* between the longest short form (157 bytes) and the digest form
	 * (189), and past it */
	memset(name, 'A', sizeof(name));
	assert_int_equal(e4_nokey_decode(name, 212, raw, &rawlen), -ENOENT);
	assert_int_equal(e4_nokey_decode(name, 255, raw, &rawlen), -ENOENT);
	assert_int_equal(e4_nokey_decode(name, 252, raw, &rawlen), 0);
	assert_int_equal(rawlen, E4_NOKEY_RAW_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_encode_short),
		cmocka_unit_test(test_encode_long),
		cmocka_unit_test(test_decode_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * Case-insensitive directories (spec §7.10): the fold of known strings
 * (each expected value checked against `debugfs dx_hash -c -e utf8`,
 * whose hashes of the fold and of the expected bytes agree), the spec's
 * casefold hash examples, and lookups in casefolded directories made by
 * debugfs on mkfs.ext4 -O casefold images, linear and (e2fsck -D) htree,
 * strict and not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/write.h"
#include "ondisk/ondisk.h"
#include "testutil.h"

struct fold_case {
	const char *in, *out;	/* out NULL: not UTF-8 (-EINVAL) */
};

static const struct fold_case folds[] = {
	{ "Hello", "hello" },
	{ "Stra\xC3\x9F" "e", "strasse" },			/* Straße */
	{ "STRASSE", "strasse" },
	{ "\xE1\xBA\x9E", "ss" },				/* ẞ U+1E9E */
	{ "\xC3\x85ngstr\xC3\xB6m", "a\xCC\x8A" "ngstro\xCC\x88m" },
	{ "\xE2\x84\xAB", "a\xCC\x8A" },			/* Å ANGSTROM SIGN */
	{ "\xC3\x89", "e\xCC\x81" },				/* É */
	{ "\xC3\xA9", "e\xCC\x81" },				/* é */
	{ "E\xCC\x81", "e\xCC\x81" },
	/* Hangul: decomposed by arithmetic (LV, LVT) */
	{ "\xEA\xB0\x80", "\xE1\x84\x80\xE1\x85\xA1" },		/* 가 */
	{ "\xEA\xB0\x81", "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8" },	/* 각 */
	{ "\xED\x9E\xA3", "\xE1\x84\x92\xE1\x85\xB5\xE1\x87\x82" },	/* 힣 */
	/* Greek: capital, small and final sigma fold alike */
	{ "\xCE\xA3\xCE\x91\xCE\xA3", "\xCF\x83\xCE\xB1\xCF\x83" },	/* ΣΑΣ */
	{ "\xCF\x83\xCE\xB1\xCF\x82", "\xCF\x83\xCE\xB1\xCF\x83" },	/* σας */
	/* full folding: one character to several */
	{ "\xEF\xAC\x83", "ffi" },				/* ﬃ */
	{ "\xC4\xB0", "i\xCC\x87" },				/* İ */
	{ "\xCE\x90", "\xCE\xB9\xCC\x88\xCC\x81" },		/* ΐ */
	/* U+0345 folds to the starter U+03B9 before any reordering */
	{ "\xCE\xB1\xCD\x85\xCC\x81", "\xCE\xB1\xCE\xB9\xCC\x81" },
	/* canonical order: U+0316 (220) before U+0301 (230) */
	{ "x\xCC\x81\xCC\x96", "x\xCC\x96\xCC\x81" },
	/* default ignorables vanish (U+200B, U+00AD, reserved U+2065), but
	 * still end a run of marks: U+0591 (220) stays before U+0F72 (130) */
	{ "a\xE2\x80\x8B" "b\xC2\xAD" "c\xE2\x81\xA5", "abc" },
	{ "\xD6\x91\xE2\x80\x8B\xE0\xBD\xB2", "\xD6\x91\xE0\xBD\xB2" },
	{ "\xD6\x91\xE0\xBD\xB2", "\xE0\xBD\xB2\xD6\x91" },
	/* assigned after 12.1: itself (U+2C2F, 14.0, would fold to U+2C5F;
	 * U+1FAD0, 13.0; U+180F, 14.0, is no longer reserved-ignorable) */
	{ "\xE2\xB0\xAF", "\xE2\xB0\xAF" },
	{ "A\xF0\x9F\xAB\x90", "a\xF0\x9F\xAB\x90" },
	{ "a\xE1\xA0\x8F" "b", "a\xE1\xA0\x8F" "b" },
	/* not UTF-8: truncated, stray continuation, overlong, surrogate,
	 * past U+10FFFF, 0xFF */
	{ "a\xC3", NULL },
	{ "\x80" "a", NULL },
	{ "\xC0\xAF", NULL },
	{ "\xE0\x80\xAF", NULL },
	{ "\xED\xA0\x80", NULL },
	{ "\xF4\x90\x80\x80", NULL },
	{ "\xFF" "A", NULL },
};

static void test_fold_known(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(folds) / sizeof(folds[0]); i++) {
		const struct fold_case *c = &folds[i];
		uint8_t out[E4_CASEFOLD_MAX];
		size_t len = 0;
		int rc = e4_casefold(c->in, strlen(c->in), out, &len);

		if (!c->out) {
			if (rc != -EINVAL)
				fail_msg("case %zu: rc %d, expected -EINVAL", i,
					 rc);
			assert_false(e4_utf8_valid(c->in, strlen(c->in)));
			continue;
		}
		assert_true(e4_utf8_valid(c->in, strlen(c->in)));
		if (rc || len != strlen(c->out) || memcmp(out, c->out, len))
			fail_msg("case %zu: rc %d, fold of %zu bytes, expected "
				 "%zu", i, rc, len, strlen(c->out));
	}
}

/* The longest growth: 127 × ΐ (254 bytes) folds to 762 bytes, and the
 * hash covers all of them (debugfs dx_hash -c: 0xf16cd72a 0xf446143d). */
static void test_fold_longest(void **state)
{
	(void)state;
	char name[E4_NAME_MAX + 1];
	uint8_t out[E4_CASEFOLD_MAX];
	uint32_t major, minor;
	size_t len;

	for (int i = 0; i < 127; i++)
		memcpy(name + 2 * i, "\xCE\x90", 2);
	assert_int_equal(e4_casefold(name, 254, out, &len), 0);
	assert_int_equal(len, 762);
	assert_int_equal(e4_dirhash((char *)out, len, E4_HASH_HALF_MD4, NULL,
				    &major, &minor), 0);
	assert_int_equal(major, 0xF16CD72Au);
	assert_int_equal(minor, 0xF446143Du);
	memset(name, 'a', sizeof(name));
	assert_int_equal(e4_casefold(name, E4_NAME_MAX + 1, out, &len),
			 -ENAMETOOLONG);
}

/* §18.4: half_md4, seed zero, hash of the folded string. */
static void test_spec_hash_examples(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint32_t major, minor;
	} v[] = {
		{ "Hello", 0x1746DA32u, 0x420013B5u },
		{ "hello", 0x1746DA32u, 0x420013B5u },
		{ "HELLO", 0x1746DA32u, 0x420013B5u },
		{ "Stra\xC3\x9F" "e", 0x7E099ECCu, 0x63E35612u },
		{ "STRASSE", 0x7E099ECCu, 0x63E35612u },
		{ "\xC3\x85ngstr\xC3\xB6m", 0xDE1141A0u, 0xD49622F1u },
		{ "\xC3\x89", 0x78C49F9Eu, 0xD83401CCu },
		{ "\xC3\xA9", 0x78C49F9Eu, 0xD83401CCu },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t out[E4_CASEFOLD_MAX];
		uint32_t major, minor;
		size_t len;

		assert_int_equal(e4_casefold(v[i].name, strlen(v[i].name), out,
					     &len), 0);
		assert_int_equal(e4_dirhash((char *)out, len,
					    E4_HASH_HALF_MD4, NULL, &major,
					    &minor), 0);
		if (major != v[i].major || minor != v[i].minor)
			fail_msg("%s: 0x%08X 0x%08X", v[i].name, major, minor);
	}
}

/* Code points the oracle check tries: every one below U+3400 and in the
 * other dense ranges, one in 53 of the big ideograph and private
 * blocks (no surrogates, no C0/C1 controls). */
static bool oracle_tries(uint32_t cp)
{
	if (cp < 0xA0 || (cp >= 0xD800 && cp <= 0xDFFF))
		return false;
	if (cp < 0x3400 || (cp >= 0xA000 && cp < 0xAC00) ||
	    (cp >= 0xD7A4 && cp < 0x20000) || (cp >= 0xE0000 && cp < 0xE1010))
		return true;
	return cp % 53 == 0;
}

/* "x", the code point, U+0301 U+0316 (two marks out of canonical order)
 * and "X": its mapping, its class and its place among marks all count. */
static size_t oracle_name(uint32_t cp, char *out)
{
	size_t n = 0;

	out[n++] = 'x';
	n += e4_utf8_put(cp, (uint8_t *)out + n);
	n += e4_utf8_put(0x301, (uint8_t *)out + n);
	n += e4_utf8_put(0x316, (uint8_t *)out + n);
	out[n++] = 'X';
	out[n] = '\0';
	return n;
}

/* Every code point (most; see oracle_tries) folds and hashes as
 * `debugfs dx_hash -c -e utf8` folds and hashes it. */
static void test_every_code_point_as_debugfs(void **state)
{
	(void)state;
	char *img = tu_mkfs("oracle.img", "-O casefold", NULL, "1M");
	char cmds[4096], name[32], *out, *line, *save = NULL;
	FILE *f;
	size_t checked = 0, bad = 0;
	uint32_t cp = 0;

	snprintf(cmds, sizeof(cmds), "%s/oracle.cmds", tu_tmpdir());
	f = fopen(cmds, "w");
	assert_non_null(f);
	for (uint32_t c = 0; c <= 0x10FFFF; c++)
		if (oracle_tries(c)) {
			oracle_name(c, name);
			fprintf(f, "dx_hash -h half_md4 -c -e utf8 %s\n", name);
		}
	assert_int_equal(fclose(f), 0);
	out = tu_sh_out("debugfs -f '%s' '%s' 2>/dev/null | grep '^Hash of '",
			cmds, img);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		uint8_t fold[E4_CASEFOLD_MAX];
		uint32_t major, minor, want_major, want_minor;
		const char *is = NULL;
		size_t n, flen;

		for (const char *p = line; (p = strstr(p, " is 0x")); p++)
			is = p;	/* the last: the name may hold anything */
		while (!oracle_tries(cp))
			cp++;
		n = oracle_name(cp++, name);
		if (!is || sscanf(is, " is 0x%x (minor 0x%x)", &want_major,
				  &want_minor) != 2)
			fail_msg("debugfs said: %s", line);
		assert_int_equal(e4_casefold(name, n, fold, &flen), 0);
		assert_int_equal(e4_dirhash((char *)fold, flen, E4_HASH_HALF_MD4,
					    NULL, &major, &minor), 0);
		if (major != want_major || minor != want_minor) {
			if (bad++ < 5)
				print_message("U+%04X: 0x%08x, debugfs 0x%08x\n",
					      cp - 1, major, want_major);
		}
		checked++;
	}
	free(out);
	free(img);
	assert_true(checked > 100000);
	assert_int_equal(bad, 0);
}

/* ---- lookups on images ------------------------------------------------- */

#define NBIG 300

/* An image with casefolded directory /cf (a few names, linear), /big
 * (NBIG names: an htree after e2fsck -D) and /plain (not casefolded). */
static char *make_image(const char *name, const char *mkfs_extra)
{
	char args[256];
	char *img, *cmds;
	size_t used = 0, size = 64 * 1024;

	snprintf(args, sizeof(args), "-b 1024 -O casefold %s", mkfs_extra);
	img = tu_mkfs(name, args, NULL, "8M");
	cmds = malloc(size);
	assert_non_null(cmds);
#define ADD(...) used += (size_t)snprintf(cmds + used, size - used, __VA_ARGS__)
	ADD("mkdir cf\nset_inode_field cf flags 0x40080000\n");
	ADD("mkdir big\nset_inode_field big flags 0x40080000\n");
	ADD("mkdir plain\n");
	ADD("write /dev/null cf/Stra\xC3\x9F" "e\n");
	ADD("mkdir cf/\xC3\x85ngstr\xC3\xB6m\n");
	ADD("write /dev/null cf/\xEA\xB0\x81\n");
	ADD("write /dev/null plain/Hello\n");
	for (int i = 0; i < NBIG; i++)
		ADD("write /dev/null big/Fichier-\xC3\x89t\xC3\xA9-%d\n", i);
#undef ADD
	tu_debugfs(img, cmds);
	free(cmds);
	tu_sh("e2fsck -fyD '%s' >/dev/null 2>&1 || test $? -lt 4", img);
	tu_fsck_clean(img);
	return img;
}

static void expect_found(struct e4_fs *fs, const char *path, uint32_t want)
{
	uint32_t ino = 0;
	int rc = e4_path_lookup(fs, path, &ino);

	if (rc || ino != want)
		fail_msg("%s: rc %d ino %u, expected %u", path, rc, ino, want);
}

static void expect_absent(struct e4_fs *fs, const char *path)
{
	uint32_t ino = 0;
	int rc = e4_path_lookup(fs, path, &ino);

	if (rc != -ENOENT)
		fail_msg("%s: rc %d ino %u, expected -ENOENT", path, rc, ino);
}

static void test_lookup_linear(void **state)
{
	(void)state;
	char *img = make_image("cf.img", "");
	uint32_t strasse = tu_ino_of(img, "cf/Stra\xC3\x9F" "e");
	uint32_t angstrom = tu_ino_of(img, "cf/\xC3\x85ngstr\xC3\xB6m");
	uint32_t hangul = tu_ino_of(img, "cf/\xEA\xB0\x81");
	struct e4_fs *fs;

	assert_int_equal(tu_open(img, &fs), 0);
	expect_found(fs, "/cf/Stra\xC3\x9F" "e", strasse);
	expect_found(fs, "/cf/STRASSE", strasse);
	expect_found(fs, "/cf/strasse", strasse);
	expect_found(fs, "/cf/\xC3\x85NGSTR\xC3\x96M", angstrom);
	expect_found(fs, "/cf/a\xCC\x8A" "ngstro\xCC\x88m", angstrom);
	expect_found(fs, "/cf/\xE2\x84\xAB" "ngstr\xC3\xB6m", angstrom);
	/* the Hangul syllable by its jamo */
	expect_found(fs, "/cf/\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8", hangul);
	expect_absent(fs, "/cf/strass");
	expect_absent(fs, "/cf/Stra\xC3\x9F" "e\xFF");
	/* a directory without the flag stays case-sensitive */
	expect_found(fs, "/plain/Hello", tu_ino_of(img, "plain/Hello"));
	expect_absent(fs, "/plain/hello");
	tu_close(fs);
	free(img);
}

static void test_lookup_htree(void **state)
{
	(void)state;
	char *img = make_image("cfh.img", "");
	struct e4_inode dir;
	struct e4_fs *fs;
	char path[64];
	uint32_t ino;

	assert_int_equal(tu_open(img, &fs), 0);
	assert_int_equal(e4_path_lookup(fs, "/big", &ino), 0);
	assert_int_equal(e4_inode_read(fs, ino, &dir), 0);
	assert_true(dir.flags & E4_INDEX_FL);
	for (int i = 0; i < NBIG; i += 7) {
		uint32_t want;

		snprintf(path, sizeof(path), "big/Fichier-\xC3\x89t\xC3\xA9-%d",
			 i);
		want = tu_ino_of(img, path);
		snprintf(path, sizeof(path), "/big/FICHIER-\xC3\x89T\xC3\x89-%d",
			 i);
		expect_found(fs, path, want);
		snprintf(path, sizeof(path), "/big/fichier-e\xCC\x81te\xCC\x81-%d",
			 i);
		expect_found(fs, path, want);
	}
	expect_absent(fs, "/big/FICHIER-ETE-1");
	tu_close(fs);
	free(img);
}

/* Names that are not UTF-8 (non-strict mode): compared as bytes, so
 * "\xFF" + "A" is found only as itself. */
static void test_lookup_not_utf8(void **state)
{
	(void)state;
	char *img = make_image("cfbad.img", "");
	uint32_t want;
	struct e4_fs *fs;

	tu_debugfs(img, "write /dev/null cf/\xFF" "A\n");
	want = tu_ino_of(img, "cf/\xFF" "A");
	assert_int_equal(tu_open(img, &fs), 0);
	expect_found(fs, "/cf/\xFF" "A", want);
	expect_absent(fs, "/cf/\xFF" "a");
	tu_close(fs);
	free(img);
}

/* A strict file system opens and folds the same; an unknown encoding flag
 * is refused (test_superblock). */
static void test_lookup_strict(void **state)
{
	(void)state;
	char *img = make_image("cfstrict.img", "-E encoding_flags=strict");
	struct e4_fs *fs;

	assert_int_equal(tu_open(img, &fs), 0);
	assert_true(fs->casefold_strict);
	expect_found(fs, "/cf/STRASSE", tu_ino_of(img, "cf/Stra\xC3\x9F" "e"));
	tu_close(fs);
	free(img);
}

/* ---- writing --------------------------------------------------------- */

static const struct e4_cred root_cred = { 0, 0, 0 };

static struct e4_ino *walk(struct e4_fs *fs, const char *path)
{
	struct e4_ino *ip;
	uint32_t ino;

	assert_int_equal(e4_path_lookup(fs, path, &ino), 0);
	assert_int_equal(e4_iget(fs, ino, &ip), 0);
	return ip;
}

static int mknod_in(struct e4_fs *fs, struct e4_ino *dir, const char *name)
{
	struct e4_ino *ip;
	int rc = e4_mknod(fs, dir, name, strlen(name), 0100644, 0, 0,
			  &root_cred, &ip);

	if (!rc)
		e4_iput(fs, ip);
	return rc;
}

/* Creates, links, renames and unlinks in casefolded directories, linear
 * and indexed (the new names split leaves: their places come from the
 * folded hash), then e2fsck -fn, which checks the hash order. */
static void test_write(void **state)
{
	(void)state;
	char *img = make_image("cfw.img", "");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *cf = walk(fs, "/cf"), *big = walk(fs, "/big");
	struct e4_ino *plain = walk(fs, "/plain"), *sub, *ip;
	char name[64];
	uint32_t ino;

	/* a name differing only in case or normalisation is taken */
	assert_int_equal(mknod_in(fs, cf, "STRASSE"), -EEXIST);
	assert_int_equal(mknod_in(fs, cf, "stra\xC3\x9F" "e"), -EEXIST);
	assert_int_equal(mknod_in(fs, cf, "\xC3\xA5NGSTR\xC3\xB6M"), -EEXIST);
	assert_int_equal(mknod_in(fs, plain, "HELLO"), 0);
	/* new names are stored as given and found in any case */
	assert_int_equal(mknod_in(fs, cf, "Neu"), 0);
	assert_int_equal(e4_path_lookup(fs, "/cf/NEU", &ino), 0);
	ip = walk(fs, "/cf/neu");
	assert_int_equal(e4_link(fs, ip, cf, "NEU", 3), -EEXIST);
	assert_int_equal(e4_link(fs, ip, cf, "Zweiter", 7), 0);
	e4_iput(fs, ip);
	/* unlink and rename by any case of the name */
	assert_int_equal(e4_unlink(fs, cf, "ZWEITER", 7), 0);
	expect_absent(fs, "/cf/Zweiter");
	assert_int_equal(e4_rename(fs, cf, "NEU", 3, cf, "Anders", 6, 0), 0);
	expect_absent(fs, "/cf/Neu");
	assert_int_equal(e4_path_lookup(fs, "/cf/ANDERS", &ino), 0);
	/* onto another case of itself: the same inode, nothing to do */
	assert_int_equal(e4_rename(fs, cf, "anders", 6, cf, "ANDERS", 6, 0), 0);
	/* a subdirectory inherits the flag */
	assert_int_equal(e4_mkdir(fs, cf, "Sub", 3, 040755, &root_cred, &sub),
			 0);
	assert_true(e4_get_flags(fs, sub) & E4_CASEFOLD_FL);
	assert_int_equal(mknod_in(fs, sub, "X"), 0);
	assert_int_equal(mknod_in(fs, sub, "x"), -EEXIST);
	/* chattr -F/+F only on an empty directory */
	assert_int_equal(e4_set_flags(fs, sub, e4_get_flags(fs, sub) &
					       ~(uint32_t)E4_CASEFOLD_FL),
			 -ENOTEMPTY);
	assert_int_equal(e4_unlink(fs, sub, "X", 1), 0);
	assert_int_equal(e4_set_flags(fs, sub, e4_get_flags(fs, sub) &
					       ~(uint32_t)E4_CASEFOLD_FL), 0);
	assert_int_equal(mknod_in(fs, sub, "X"), 0);
	assert_int_equal(mknod_in(fs, sub, "x"), 0);
	e4_iput(fs, sub);
	/* not UTF-8, not strict: stored, and compared as bytes */
	assert_int_equal(mknod_in(fs, cf, "\xFF" "A"), 0);
	assert_int_equal(mknod_in(fs, cf, "\xFF" "a"), 0);
	/* the htree: new names in mixed case split its leaves */
	for (int i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "%sNeue-Datei-\xC3\x89t\xC3\xA9-%d",
			 i % 2 ? "" : "x", i);
		assert_int_equal(mknod_in(fs, big, name), 0);
	}
	for (int i = 0; i < 600; i += 5) {
		snprintf(name, sizeof(name), "%sneue-datei-e\xCC\x81te\xCC\x81-%d",
			 i % 2 ? "" : "X", i);
		assert_int_equal(mknod_in(fs, big, name), -EEXIST);
	}
	for (int i = 0; i < NBIG; i += 3) {
		snprintf(name, sizeof(name), "FICHIER-\xC3\x89T\xC3\x89-%d", i);
		assert_int_equal(e4_unlink(fs, big, name, strlen(name)), 0);
	}
	e4_iput(fs, cf);
	e4_iput(fs, big);
	e4_iput(fs, plain);
	tu_close_rw(fs);
	tu_fsck_clean(img);

	assert_int_equal(tu_open(img, &fs), 0);
	expect_found(fs, "/cf/anders", tu_ino_of(img, "cf/Anders"));
	expect_found(fs, "/big/NEUE-DATEI-\xC3\x89T\xC3\x89-599",
		     tu_ino_of(img, "big/Neue-Datei-\xC3\x89t\xC3\xA9-599"));
	expect_absent(fs, "/big/Fichier-\xC3\x89t\xC3\xA9-3");
	expect_found(fs, "/big/Fichier-\xC3\x89t\xC3\xA9-4",
		     tu_ino_of(img, "big/Fichier-\xC3\x89t\xC3\xA9-4"));
	tu_close(fs);
	free(img);
}

/* Strict: a name that is not UTF-8 is refused in a casefolded directory
 * (EINVAL, as ext4), by create and rename alike, and allowed elsewhere. */
static void test_write_strict(void **state)
{
	(void)state;
	char *img = make_image("cfws.img", "-E encoding_flags=strict");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *cf = walk(fs, "/cf"), *plain = walk(fs, "/plain");

	assert_int_equal(mknod_in(fs, cf, "bad\xFF"), -EINVAL);
	assert_int_equal(mknod_in(fs, cf, "STRASSE"), -EEXIST);
	assert_int_equal(mknod_in(fs, plain, "bad\xFF"), 0);
	assert_int_equal(e4_rename(fs, plain, "bad\xFF", 4, cf, "bad\xFE", 4,
				   0), -EINVAL);
	assert_int_equal(e4_rename(fs, plain, "bad\xFF", 4, cf, "gut", 3, 0),
			 0);
	e4_iput(fs, cf);
	e4_iput(fs, plain);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	free(img);
}

/* An inline directory (inline_data) is casefolded alike: lookups, and a
 * create that overflows it into a block, then into an index. */
static void test_inline(void **state)
{
	(void)state;
	char *img = tu_mkfs("cfi.img", "-O casefold,inline_data -I 256", NULL,
			    "8M");
	struct e4_inode dir;
	struct e4_fs *fs;
	struct e4_ino *cf;
	char name[64];
	uint32_t ino;

	tu_debugfs(img, "mkdir cf\nset_inode_field cf flags 0x50000000\n"
			"write /dev/null cf/Stra\xC3\x9F" "e\n");
	fs = tu_open_rw(img);
	assert_int_equal(e4_path_lookup(fs, "/cf", &ino), 0);
	assert_int_equal(e4_inode_read(fs, ino, &dir), 0);
	assert_true(dir.flags & E4_INLINE_DATA_FL);
	expect_found(fs, "/cf/STRASSE", tu_ino_of(img, "cf/Stra\xC3\x9F" "e"));
	cf = walk(fs, "/cf");
	assert_int_equal(mknod_in(fs, cf, "strasse"), -EEXIST);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "Datei-\xC3\x89t\xC3\xA9-%d", i);
		assert_int_equal(mknod_in(fs, cf, name), 0);
	}
	assert_int_equal(mknod_in(fs, cf, "DATEI-e\xCC\x81TE\xCC\x81-7"),
			 -EEXIST);
	e4_iput(fs, cf);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	assert_int_equal(tu_open(img, &fs), 0);
	expect_found(fs, "/cf/datei-\xC3\xA9t\xC3\xA9-199",
		     tu_ino_of(img, "cf/Datei-\xC3\x89t\xC3\xA9-199"));
	tu_close(fs);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_known),
		cmocka_unit_test(test_fold_longest),
		cmocka_unit_test(test_spec_hash_examples),
		cmocka_unit_test(test_every_code_point_as_debugfs),
		cmocka_unit_test(test_lookup_linear),
		cmocka_unit_test(test_lookup_htree),
		cmocka_unit_test(test_lookup_not_utf8),
		cmocka_unit_test(test_lookup_strict),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_write_strict),
		cmocka_unit_test(test_inline),
	};
	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}

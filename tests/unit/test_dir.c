/* SPDX-License-Identifier: MIT */
/*
 * Directories on real images made by mkfs.ext4 -d (htrees built by
 * e2fsck -D): iteration returns exactly the generated names, every name is
 * found by e4_dir_lookup, absent names are -ENOENT; then hand-broken blocks
 * give the exact error and log line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e4/write.h"
#include "ondisk/ondisk.h"
#include "testutil.h"

#define BIG_N 5000
#define LONG_N 1500
#define HASH_N 2500

struct names {
	char **v;
	size_t n;
};

static struct names small_names, big_names, long_names, mid_names, hash_names;
/* mkfs -d is slow on big linear directories, so each image gets only the
 * directories its tests need. */
static char *tree_main, *tree_long, *tree_hash, *tree_leaf;
static const char *src_dir;	/* tree being populated */

/* ---- fixture tree ------------------------------------------------------- */

static void names_add(struct names *l, const char *name)
{
	l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = strdup(name);
}

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct names){ 0 };
}

static void touch_in(const char *dir, const char *name)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", src_dir, dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		fail_msg("create %s: %s", path, strerror(errno));
	close(fd);
}

static void make_names(const char *dir, struct names *l, size_t n,
		       void (*gen)(size_t i, char *out, size_t size))
{
	char name[256];

	tu_sh("mkdir -p '%s/%s'", src_dir, dir);
	for (size_t i = 0; i < n; i++) {
		gen(i, name, sizeof(name));
		names_add(l, name);
		touch_in(dir, name);
	}
}

static void gen_small(size_t i, char *out, size_t size)
{
	static const char *const s[] = { "alpha", "beta", "gamma" };
	snprintf(out, size, "%s", s[i]);
}

/* Varied lengths, and names with bytes >= 0x80 so the signed and unsigned
 * hash variants differ. */
static void gen_big(size_t i, char *out, size_t size)
{
	switch (i % 3) {
	case 0:
		snprintf(out, size, "file-%05zu", i);
		break;
	case 1:
		snprintf(out, size, "\xC3\xA9t\xC3\xA9-%zu-%.*s", i,
			 (int)(i % 40), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		break;
	default: {
		int k = (int)(i % 120);
		int n = snprintf(out, size, "long-%zu-", i);
		memset(out + n, 'y', (size_t)k);
		out[n + k] = '\0';
	}
	}
}

/* 250-byte names: three per 1 KiB leaf, so 1500 names need two levels. */
static void gen_long(size_t i, char *out, size_t size)
{
	int n = snprintf(out, size, "L%05zu-", i);
	memset(out + n, 'z', (size_t)(250 - n));
	out[250] = '\0';
}

static void gen_mid(size_t i, char *out, size_t size)
{
	snprintf(out, size, "mid-entry-%03zu-abcdefghijklmnopqrstuvwxyz", i);
}

static char *new_tree(const char *name, bool extras)
{
	char *t;

	if (asprintf(&t, "%s/%s", tu_tmpdir(), name) < 0)
		fail_msg("oom");
	tu_sh("rm -rf '%s' && mkdir -p '%s/small'", t, t);
	for (size_t i = 0; i < small_names.n; i++)
		tu_sh("touch '%s/small/%s'", t, small_names.v[i]);
	if (extras) {
		tu_sh("mkdir -p '%s/sub/deep' '%s/empty'", t, t);
		tu_sh("touch '%s/sub/deep/file' && ln -s sub '%s/link'", t, t);
	}
	src_dir = t;
	return t;
}

static void make_names_once(const char *dir, struct names *l, size_t n,
			    void (*gen)(size_t i, char *out, size_t size))
{
	struct names discard = { 0 };

	make_names(dir, l->n ? &discard : l, n, gen);
	names_free(&discard);
}

static int setup_tree(void **state)
{
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		char name[16];
		gen_small(i, name, sizeof(name));
		names_add(&small_names, name);
	}
	tree_main = new_tree("tree_main", true);
	make_names_once("big", &big_names, BIG_N, gen_big);
	make_names_once("mid", &mid_names, 60, gen_mid);
	tree_long = new_tree("tree_long", false);
	make_names_once("long", &long_names, LONG_N, gen_long);
	tree_hash = new_tree("tree_hash", false);
	make_names_once("hash", &hash_names, HASH_N, gen_big);
	tree_leaf = new_tree("tree_leaf", true);
	make_names_once("mid", &mid_names, 60, gen_mid);
	return 0;
}

/* mkfs -d makes linear directories; e2fsck -D turns the big ones into
 * htrees. */
static char *make_image(const char *name, const char *args, const char *tree,
			const char *size, bool index)
{
	char *img = tu_mkfs(name, args, tree, size);

	if (index)
		tu_sh("e2fsck -fyD '%s' >/dev/null 2>&1; test $? -le 1", img);
	return img;
}

/* ---- collecting and checking ---------------------------------------------- */

struct entry {
	char name[256];
	uint32_t ino;
	uint8_t ftype;
	uint64_t next_pos;
	uint32_t hash, minor_hash;
};

struct collect {
	struct entry *v;
	size_t n, cap;
	size_t stop_after;	/* 0: never stop */
	size_t taken;
	bool skipped;		/* reader_listing: a block was skipped */
};

static int collect_cb(void *ctx, const struct e4_dirent *d)
{
	struct collect *c = ctx;

	assert_int_equal(strlen(d->name), d->name_len);
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
	}
	memcpy(c->v[c->n].name, d->name, d->name_len + 1u);
	c->v[c->n].ino = d->ino;
	c->v[c->n].ftype = d->ftype;
	c->v[c->n].next_pos = d->next_pos;
	c->v[c->n].hash = d->hash;
	c->v[c->n].minor_hash = d->minor_hash;
	c->n++;
	if (c->stop_after && ++c->taken == c->stop_after) {
		c->taken = 0;
		return 1;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct e4_inode read_path(struct e4_fs *fs, const char *path)
{
	struct e4_inode inode;
	uint32_t ino = 0;

	int rc = e4_path_lookup(fs, path, &ino);
	if (rc)
		fail_msg("path %s: %d\nlog:\n%s", path, rc, tu_log());
	assert_int_equal(e4_inode_read(fs, ino, &inode), 0);
	return inode;
}

/* Iterate (in one go and resumed from cookies every @step entries) and
 * compare with @expected plus "." and "..". */
static struct collect iterate_all(struct e4_fs *fs, const struct e4_inode *dir,
				  size_t step)
{
	struct collect c = { .stop_after = step };
	uint64_t pos = 0;
	int rc;

	for (;;) {
		size_t before = c.n;

		rc = e4_dir_iterate(fs, dir, pos, collect_cb, &c);
		if (rc < 0)
			fail_msg("iterate: %d\nlog:\n%s", rc, tu_log());
		if (rc == 0)
			break;
		assert_true(c.n > before);
		pos = c.v[c.n - 1].next_pos;
	}
	return c;
}

static void check_names(const struct collect *c, const struct names *want)
{
	char **got = calloc(c->n, sizeof(*got));
	char **exp = calloc(want->n + 2, sizeof(*exp));

	if (c->n != want->n + 2)
		fail_msg("iterate returned %zu entries, expected %zu", c->n,
			 want->n + 2);
	assert_string_equal(c->v[0].name, ".");
	assert_string_equal(c->v[1].name, "..");
	for (size_t i = 0; i < c->n; i++)
		got[i] = (char *)c->v[i].name;
	for (size_t i = 0; i < want->n; i++)
		exp[i] = want->v[i];
	exp[want->n] = ".";
	exp[want->n + 1] = "..";
	qsort(got, c->n, sizeof(*got), cmp_str);
	qsort(exp, c->n, sizeof(*exp), cmp_str);
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(got[i], exp[i]))
			fail_msg("entry %zu: got \"%s\", expected \"%s\"", i,
				 got[i], exp[i]);
	free(got);
	free(exp);
}

/* Full check of one directory; no fallback or corruption may be logged. */
static void check_dir(struct e4_fs *fs, const char *path,
		      const struct names *want, bool expect_index)
{
	struct e4_inode dir = read_path(fs, path);
	struct collect c, r;
	char absent[300];

	tu_log_clear();
	assert_int_equal(!!(dir.flags & E4_INDEX_FL), expect_index);
	c = iterate_all(fs, &dir, 0);
	check_names(&c, want);
	assert_int_equal(c.v[0].ino, dir.ino);

	/* resuming from cookies gives the same sequence */
	r = iterate_all(fs, &dir, 7);
	assert_int_equal(r.n, c.n);
	for (size_t i = 0; i < c.n; i++) {
		assert_string_equal(r.v[i].name, c.v[i].name);
		assert_int_equal(r.v[i].next_pos, c.v[i].next_pos);
	}

	for (size_t i = 0; i < c.n; i++) {
		uint32_t ino = 0;
		uint8_t ft = 0xFF;
		int rc = e4_dir_lookup(fs, &dir, c.v[i].name,
				       strlen(c.v[i].name), &ino, &ft);

		if (rc)
			fail_msg("%s: lookup \"%s\": %d\nlog:\n%s", path,
				 c.v[i].name, rc, tu_log());
		assert_int_equal(ino, c.v[i].ino);
		assert_int_equal(ft, c.v[i].ftype);
	}
	for (int i = 0; i < 50; i++) {
		uint32_t ino;
		int n = snprintf(absent, sizeof(absent), "absent-%d-%s", i,
				 i % 2 ? "" : "qqqqqqqqqqqqqqqqqqqqqqqqqqqqq");

		assert_int_equal(e4_dir_lookup(fs, &dir, absent, (size_t)n,
					       &ino, NULL), -ENOENT);
	}
	memset(absent, 'q', 256);
	{
		uint32_t ino;
		assert_int_equal(e4_dir_lookup(fs, &dir, absent, 255, &ino,
					       NULL), -ENOENT);
		assert_int_equal(e4_dir_lookup(fs, &dir, absent, 256, &ino,
					       NULL), -ENAMETOOLONG);
	}
	if (strstr(tu_log(), "linear search") || strstr(tu_log(), "inode"))
		fail_msg("unexpected log:\n%s", tu_log());
	free(c.v);
	free(r.v);
}

static unsigned root_levels(const char *img, const char *path)
{
	char cmd[256];
	char *out;
	const char *p;
	unsigned levels = 99;

	snprintf(cmd, sizeof(cmd), "htree %s", path);
	out = tu_debugfs_out(img, cmd);
	p = strstr(out, "Indirect levels: ");
	if (!p || sscanf(p, "Indirect levels: %u", &levels) != 1)
		fail_msg("no htree for %s:\n%s", path, out);
	free(out);
	return levels;
}

static void check_image(const char *img, const char *dir,
			const struct names *names)
{
	struct e4_fs *fs;

	assert_int_equal(tu_open(img, &fs), 0);
	check_dir(fs, "/small", &small_names, false);
	check_dir(fs, dir, names, true);
	tu_close(fs);
}

/* ---- images -------------------------------------------------------------- */

static void test_csum_4k(void **state)
{
	(void)state;
	char *img = make_image("csum4k.img", "-b 4096", tree_main, "64M",
				 true);
	struct e4_fs *fs;
	uint32_t ino;
	uint8_t ft;

	check_image(img, "/big", &big_names);
	assert_int_equal(tu_open(img, &fs), 0);
	/* inode numbers and types agree with debugfs */
	struct e4_inode small = read_path(fs, "/small");
	for (size_t i = 0; i < small_names.n; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/small/%s", small_names.v[i]);
		assert_int_equal(e4_dir_lookup(fs, &small, small_names.v[i],
					       strlen(small_names.v[i]), &ino,
					       &ft), 0);
		assert_int_equal(ino, tu_ino_of(img, p));
		assert_int_equal(ft, E4_FT_REG);
	}
	assert_int_equal(e4_dir_lookup(fs, &small, ".", 1, &ino, &ft), 0);
	assert_int_equal(ino, small.ino);
	assert_int_equal(ft, E4_FT_DIR);
	assert_int_equal(e4_dir_lookup(fs, &small, "..", 2, &ino, &ft), 0);
	assert_int_equal(ino, E4_ROOT_INO);
	assert_int_equal(e4_dir_lookup(fs, &small, "a/b", 3, &ino, &ft),
			 -ENOENT);
	assert_int_equal(e4_dir_lookup(fs, &small, "", 0, &ino, &ft), -ENOENT);
	/* ".." of an htree directory comes from its root block */
	struct e4_inode big = read_path(fs, "/big");
	assert_int_equal(e4_dir_lookup(fs, &big, "..", 2, &ino, &ft), 0);
	assert_int_equal(ino, E4_ROOT_INO);
	struct e4_inode file = read_path(fs, "/small/alpha");
	assert_int_equal(e4_dir_lookup(fs, &file, "x", 1, &ino, &ft),
			 -ENOTDIR);
	assert_int_equal(e4_dir_iterate(fs, &file, 0, collect_cb, NULL),
			 -ENOTDIR);
	tu_close(fs);
	free(img);
}

static void test_nocsum_4k(void **state)
{
	(void)state;
	char *img = make_image("nocsum4k.img", "-b 4096 -O ^metadata_csum",
			       tree_main, "64M", true);
	check_image(img, "/big", &big_names);
	free(img);
}

static void test_1k_two_levels(void **state)
{
	(void)state;
	char *img = make_image("csum1k.img", "-b 1024", tree_long, "64M", true);

	assert_int_equal(root_levels(img, "/long"), 1);
	check_image(img, "/long", &long_names);

	/* the same directories with large_dir set */
	char *ld = tu_copy(img, "largedir.img");
	tu_sh("tune2fs -O large_dir '%s' >/dev/null 2>&1", ld);
	assert_true(tu_peek_le32(ld, 1024 + E4_SB_FEATURE_INCOMPAT) &
		    E4_INCOMPAT_LARGEDIR);
	check_image(ld, "/long", &long_names);
	free(ld);
	free(img);
}

static void test_1k_two_levels_nocsum(void **state)
{
	(void)state;
	char *img = make_image("nocsum1k.img", "-b 1024 -O ^metadata_csum",
			       tree_long, "64M", true);

	assert_int_equal(root_levels(img, "/long"), 1);
	check_image(img, "/long", &long_names);
	free(img);
}

static void test_64k(void **state)
{
	(void)state;
	char *img = make_image("csum64k.img", "-b 65536 -N 8192 -O ^has_journal",
			       tree_hash, "128M", true);
	check_image(img, "/hash", &hash_names);
	free(img);
}

/* An empty 64 KiB block stores its full-block rec_len as 0xFFFF (§7.2). */
static void test_64k_full_block_rec_len(void **state)
{
	(void)state;
	char *img = make_image("lin64k.img",
			       "-b 65536 -N 8192 -O ^metadata_csum,^dir_index,"
			       "^has_journal", tree_hash, "128M", false);
	struct e4_fs *fs;
	struct collect c = { 0 };
	uint64_t blk1 = tu_bmap(img, "/hash", 1);

	/* make logical block 1 one unused full-block entry */
	tu_patch_le32(img, blk1 * 65536, 0);
	tu_patch_le16(img, blk1 * 65536 + 4, 0xFFFF);
	assert_int_equal(tu_open(img, &fs), 0);
	struct e4_inode big = read_path(fs, "/hash");
	assert_true(big.size >= 2 * 65536);
	tu_log_clear();
	assert_int_equal(e4_dir_iterate(fs, &big, 0, collect_cb, &c), 0);
	assert_true(c.n > 500 && c.n < HASH_N + 2);
	for (size_t i = 0; i < c.n; i++) {
		uint32_t ino;
		assert_int_equal(e4_dir_lookup(fs, &big, c.v[i].name,
					       strlen(c.v[i].name), &ino,
					       NULL), 0);
	}
	assert_string_equal(tu_log(), "");
	free(c.v);
	tu_close(fs);
	free(img);
}

static void test_no_filetype(void **state)
{
	(void)state;
	char *img = make_image("noft.img", "-b 4096 -O ^filetype", tree_leaf,
			       "16M", false);
	struct e4_fs *fs;

	assert_int_equal(tu_open(img, &fs), 0);
	struct e4_inode dir = read_path(fs, "/small");
	struct collect c = iterate_all(fs, &dir, 0);
	check_names(&c, &small_names);
	for (size_t i = 0; i < c.n; i++)
		assert_int_equal(c.v[i].ftype, 0);
	free(c.v);
	tu_close(fs);
	free(img);
}

static void test_no_dir_index(void **state)
{
	(void)state;
	char *img = make_image("noindex.img", "-b 4096 -O ^dir_index",
			       tree_main, "64M", true);
	struct e4_fs *fs;

	assert_int_equal(tu_open(img, &fs), 0);
	check_dir(fs, "/big", &big_names, false);
	tu_close(fs);
	free(img);
}

/* Hash variants: e2fsck -D indexes with s_def_hash_version and the signed /
 * unsigned flag of s_flags. */
static void check_hash_variant(const char *name, const char *version,
			       unsigned flags, unsigned expect_hv)
{
	char *img = tu_mkfs(name, "-b 4096", tree_hash, "32M");
	char cmd[128];
	char *out;
	struct e4_fs *fs;

	snprintf(cmd, sizeof(cmd), "ssv def_hash_version %s", version);
	tu_debugfs(img, cmd);
	snprintf(cmd, sizeof(cmd), "ssv flags %u", flags);
	tu_debugfs(img, cmd);
	tu_sh("e2fsck -fyD '%s' >/dev/null 2>&1; test $? -le 1", img);
	out = tu_debugfs_out(img, "htree /hash");
	snprintf(cmd, sizeof(cmd), "Hash Version: %u\n", expect_hv);
	if (!strstr(out, cmd))
		fail_msg("%s: expected hash version %u:\n%.300s", name,
			 expect_hv, out);
	free(out);
	assert_int_equal(tu_open(img, &fs), 0);
	check_dir(fs, "/hash", &hash_names, true);
	tu_close(fs);

	/* The other signedness misplaces names with bytes >= 0x80 (so the
	 * variant really was used): some of them are not found. */
	tu_debugfs(img, flags == 2 ? "ssv flags 1" : "ssv flags 2");
	assert_int_equal(tu_open(img, &fs), 0);
	struct e4_inode big = read_path(fs, "/hash");
	size_t missing = 0;
	for (size_t i = 1; i < hash_names.n; i += 3) {
		uint32_t ino;
		int rc = e4_dir_lookup(fs, &big, hash_names.v[i],
				       strlen(hash_names.v[i]), &ino, NULL);
		assert_true(rc == 0 || rc == -ENOENT);
		missing += rc == -ENOENT;
	}
	assert_true(missing > 0);
	tu_close(fs);
	free(img);
}

static void test_hash_tea_unsigned(void **state)
{
	(void)state;
	check_hash_variant("tea_u.img", "tea", 2, 2);
}

static void test_hash_legacy_signed(void **state)
{
	(void)state;
	check_hash_variant("legacy_s.img", "legacy", 1, 0);
}

static void test_hash_half_md4_unsigned(void **state)
{
	(void)state;
	check_hash_variant("md4_u.img", "half_md4", 2, 1);
}

static void test_hash_tea_signed(void **state)
{
	(void)state;
	check_hash_variant("tea_s.img", "tea", 1, 2);
}

/* ---- inline directories ----------------------------------------------------- */

static void test_inline(void **state)
{
	(void)state;
	char *isrc;
	if (asprintf(&isrc, "%s/isrc", tu_tmpdir()) < 0)
		fail_msg("oom");
	tu_sh("rm -rf '%s' && mkdir -p '%s/in0' '%s/in1' && touch '%s/in1/a' "
	      "'%s/in1/bbbbbbbbbbbb' '%s/f1'", isrc, isrc, isrc, isrc, isrc,
	      isrc);
	char *img = tu_mkfs("inline.img", "-O inline_data", isrc, "8M");
	uint32_t f1 = tu_ino_of(img, "/f1");
	uint32_t in1_ino = tu_ino_of(img, "/in1");
	struct e4_fs *fs;
	uint32_t ino;
	uint8_t ft;

	/* a second entry area in system.data: "more" -> f1 */
	char *val;
	uint8_t e[16] = { 0 };
	e4_put_le32(e, 16, 0, f1);
	e4_put_le16(e, 16, 4, 16);
	e[6] = 4;
	e[7] = 1;
	memcpy(e + 8, "more", 4);
	if (asprintf(&val, "%s/val.bin", tu_tmpdir()) < 0)
		fail_msg("oom");
	FILE *fp = fopen(val, "wb");
	fwrite(e, 1, 16, fp);
	fclose(fp);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "ea_set -f %s /in1 system.data", val);
	tu_debugfs(img, cmd);
	tu_debugfs(img, "sif /in1 size 76");
	tu_debugfs(img, "sif /f1 links_count 2");
	tu_sh("e2fsck -fn '%s' >/dev/null 2>&1", img);

	assert_int_equal(tu_open(img, &fs), 0);
	tu_log_clear();
	struct e4_inode in0 = read_path(fs, "/in0");
	struct e4_inode in1 = read_path(fs, "/in1");
	assert_true(in1.flags & E4_INLINE_DATA_FL);

	struct collect c = iterate_all(fs, &in0, 0);
	struct names none = { 0 };
	check_names(&c, &none);
	assert_int_equal(c.v[0].ino, in0.ino);
	assert_int_equal(c.v[1].ino, E4_ROOT_INO);
	free(c.v);

	struct names want = { 0 };
	names_add(&want, "a");
	names_add(&want, "bbbbbbbbbbbb");
	names_add(&want, "more");
	c = iterate_all(fs, &in1, 0);
	check_names(&c, &want);
	struct collect r = iterate_all(fs, &in1, 1);
	assert_int_equal(r.n, c.n);
	for (size_t i = 0; i < c.n; i++) {
		assert_string_equal(r.v[i].name, c.v[i].name);
		assert_int_equal(e4_dir_lookup(fs, &in1, c.v[i].name,
					       strlen(c.v[i].name), &ino, &ft),
				 0);
		assert_int_equal(ino, c.v[i].ino);
	}
	assert_int_equal(e4_dir_lookup(fs, &in1, "more", 4, &ino, &ft), 0);
	assert_int_equal(ino, f1);
	assert_int_equal(ft, E4_FT_REG);
	assert_int_equal(e4_dir_lookup(fs, &in1, "..", 2, &ino, &ft), 0);
	assert_int_equal(ino, E4_ROOT_INO);
	assert_int_equal(e4_dir_lookup(fs, &in1, "b", 1, &ino, &ft), -ENOENT);
	assert_int_equal(e4_dir_lookup(fs, &in0, "a", 1, &ino, &ft), -ENOENT);
	uint32_t p = 0;
	assert_int_equal(e4_path_lookup(fs, "/in1/more", &p), 0);
	assert_int_equal(p, f1);
	assert_string_equal(tu_log(), "");
	free(c.v);
	free(r.v);
	names_free(&want);
	tu_close(fs);

	/* break the first entry's rec_len inside i_block */
	char *bad = tu_copy(img, "inline_bad.img");
	uint64_t ioff = tu_inode_offset(bad, in1_ino);
	tu_patch_le16(bad, ioff + E4_I_BLOCK + 4 + 4, 13);
	tu_fix_inode_csum(bad, in1_ino);
	assert_int_equal(tu_open(bad, &fs), 0);
	struct e4_inode bin1 = read_path(fs, "/in1");
	tu_log_clear();
	assert_int_equal(e4_dir_lookup(fs, &bin1, "a", 1, &ino, &ft),
			 -EUCLEAN);
	tu_assert_rule(E4_RULE_DIR1,
		       e4_obj(E4_OBJ_INLINE_DIR, in1_ino, 0, 0));
	tu_close(fs);
	free(bad);
	free(img);
	free(val);
	free(isrc);
}

/* ---- hand-broken blocks ------------------------------------------------------ */

/* Recompute the leaf tail checksum so a structural break is what is seen
 * (the directory leaf row's setter). */
static void fix_leaf_csum(const char *img, uint32_t ino, uint64_t boff,
			  uint32_t bs)
{
	tu_fix_owned_csum(img, boff / bs, &e4_bops_dir_leaf, ino, 0);
}

/* The same for the dx root (the htree row's setter; logical block 0). */
static void fix_dx_root_csum(const char *img, uint32_t ino, uint64_t boff,
			     uint32_t bs)
{
	tu_fix_owned_csum(img, boff / bs, &e4_bops_dx_node, ino, 0);
}

static char *leaf_base;	/* 1 KiB, metadata_csum, linear directories */
static char *leaf_base_nocsum;

static char *leaf_image(const char *name, bool csum)
{
	char **base = csum ? &leaf_base : &leaf_base_nocsum;
	if (!*base)
		*base = make_image(csum ? "leafbase.img" : "leafbase_nc.img",
				   csum ? "-b 1024 -O ^dir_index"
					: "-b 1024 -O ^dir_index,^metadata_csum",
				   tree_leaf, "16M", false);
	return tu_copy(*base, name);
}

/*
 * Patch the third entry (offset 24, right after "." and "..") of /small's
 * block with @patch, fix the tail checksum, and expect -EUCLEAN and @rule
 * broken in that block from both iterate and lookup.
 */
static void break_small(const char *name, bool csum,
			void (*patch)(const char *img, uint64_t entry),
			enum e4_rule rule)
{
	char *img = leaf_image(name, csum);
	uint32_t ino = tu_ino_of(img, "/small");
	uint64_t blk = tu_bmap(img, "/small", 0);
	uint64_t boff = blk * 1024;
	struct e4_object obj = e4_obj_dir_block(ino, blk, 0);
	struct e4_fs *fs;
	uint32_t found;

	patch(img, boff + 24);
	if (csum)
		fix_leaf_csum(img, ino, boff, 1024);
	assert_int_equal(tu_open(img, &fs), 0);
	struct e4_inode dir = read_path(fs, "/small");
	tu_log_clear();
	struct collect c = { 0 };
	assert_int_equal(e4_dir_iterate(fs, &dir, 0, collect_cb, &c),
			 -EUCLEAN);
	assert_int_equal(tu_rule_reports(rule, obj), 1);
	/* the block's verdict is remembered: it fails again, unreported */
	assert_int_equal(e4_dir_lookup(fs, &dir, "gamma", 5, &found, NULL),
			 -EUCLEAN);
	assert_int_equal(tu_rule_reports(rule, obj), 1);
	/* the readers' walk gives the valid entries before the broken one
	 * ("." and ".."), as the kernel does, and a name the rest may hold
	 * is not "absent" */
	bool skipped = false;
	assert_int_equal(e4_dir_iterate_mode(fs, &dir, 0, E4_DIR_SALVAGE,
					     collect_cb, &c, &skipped), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0].name, ".");
	assert_string_equal(c.v[1].name, "..");
	assert_true(skipped);
	assert_int_equal(e4_dir_lookup_mode(fs, &dir, "gamma", 5,
					    E4_DIR_SALVAGE, &found, NULL),
			 -EUCLEAN);
	assert_int_equal(e4_dir_lookup_mode(fs, &dir, "..", 2,
					    E4_DIR_SALVAGE, &found, NULL),
			 -EUCLEAN);
	assert_int_equal(tu_rule_reports(rule, obj), 1);
	free(c.v);
	tu_close(fs);
	free(img);
}

static void patch_rec_len_odd(const char *img, uint64_t e)
{
	tu_patch_le16(img, e + 4, (uint16_t)(tu_peek_le16(img, e + 4) + 2));
}
static void patch_rec_len_8(const char *img, uint64_t e)
{
	tu_patch_le16(img, e + 4, 8);
}
static void patch_rec_len_past(const char *img, uint64_t e)
{
	tu_patch_le16(img, e + 4, 1024);
}
static void patch_name_len(const char *img, uint64_t e)
{
	tu_patch_u8(img, e + 6, 200);
}
static void patch_inode_range(const char *img, uint64_t e)
{
	tu_patch_le32(img, e, 0x7FFFFFFF);
}
static void patch_slash(const char *img, uint64_t e)
{
	tu_patch_u8(img, e + 8, '/');
}
static void patch_ftype(const char *img, uint64_t e)
{
	tu_patch_u8(img, e + 7, 9);
}
static void patch_dot(const char *img, uint64_t e)
{
	tu_patch_u8(img, e + 6, 1);
	tu_patch_u8(img, e + 8, '.');
}

static void test_leaf_rec_len_not_multiple_of_4(void **state)
{
	(void)state;
	break_small("odd.img", true, patch_rec_len_odd, E4_RULE_DIR1);
	break_small("odd_nc.img", false, patch_rec_len_odd, E4_RULE_DIR1);
	/* the message says where, so it can be found in a hex dump */
	tu_assert_log("not a multiple of 4 at offset 24 [DIR1]");
}

static void test_leaf_rec_len_too_short(void **state)
{
	(void)state;
	break_small("short.img", true, patch_rec_len_8, E4_RULE_DIR1);
	break_small("short_nc.img", false, patch_rec_len_8, E4_RULE_DIR1);
}

static void test_leaf_rec_len_past_end(void **state)
{
	(void)state;
	break_small("past.img", true, patch_rec_len_past, E4_RULE_DIR1);
}

static void test_leaf_name_len(void **state)
{
	(void)state;
	break_small("namelen.img", true, patch_name_len, E4_RULE_DIR1);
}

static void test_leaf_bad_entries(void **state)
{
	(void)state;
	break_small("ino.img", true, patch_inode_range, E4_RULE_DIR3);
	break_small("slash.img", true, patch_slash, E4_RULE_DIR2);
	break_small("ftype.img", true, patch_ftype, E4_RULE_DIR4);
	break_small("dot.img", true, patch_dot, E4_RULE_DIR2);
}

static void test_leaf_bad_checksum(void **state)
{
	(void)state;
	char *img = leaf_image("badcsum.img", true);
	uint32_t ino = tu_ino_of(img, "/small");
	uint64_t blk = tu_bmap(img, "/small", 0);
	struct e4_object obj = e4_obj_dir_block(ino, blk, 0);
	struct e4_fs *fs;
	uint32_t found;

	tu_patch_le32(img, blk * 1024 + 1020,
		      ~tu_peek_le32(img, blk * 1024 + 1020));
	assert_int_equal(tu_open(img, &fs), 0);
	struct e4_inode dir = read_path(fs, "/small");
	tu_log_clear();
	assert_int_equal(e4_dir_lookup(fs, &dir, "beta", 4, &found, NULL),
			 -EUCLEAN);
	tu_assert_rule(E4_RULE_DIR4, obj);
	tu_close(fs);

	/* the checksum covers the entries */
	tu_patch_le32(img, blk * 1024 + 1020,
		      ~tu_peek_le32(img, blk * 1024 + 1020));
	tu_patch_u8(img, blk * 1024 + 32, 'Q');
	assert_int_equal(tu_open(img, &fs), 0);
	dir = read_path(fs, "/small");
	tu_log_clear();
	assert_int_equal(e4_dir_lookup(fs, &dir, "beta", 4, &found, NULL),
			 -EUCLEAN);
	tu_assert_rule(E4_RULE_DIR4, obj);
	tu_close(fs);

	/* no tail at all */
	tu_patch_u8(img, blk * 1024 + 1024 - 12 + 7, 0);
	fix_leaf_csum(img, ino, blk * 1024, 1024);
	assert_int_equal(tu_open(img, &fs), 0);
	dir = read_path(fs, "/small");
	tu_log_clear();
	assert_int_equal(e4_dir_lookup(fs, &dir, "beta", 4, &found, NULL),
			 -EUCLEAN);
	tu_assert_rule(E4_RULE_DIR4, obj);
	tu_assert_log("missing checksum tail");
	tu_close(fs);
	free(img);
}

static void test_dir_hole(void **state)
{
	(void)state;
	char *img = leaf_image("hole.img", true);
	uint32_t ino = tu_ino_of(img, "/mid");
	uint64_t ioff = tu_inode_offset(img, ino);
	uint64_t ext = ioff + E4_I_BLOCK + 12;	/* first extent of the root */
	struct e4_fs *fs;
	uint32_t found;

	assert_int_equal(tu_peek_le16(img, ioff + E4_I_BLOCK + 2), 1);
	uint16_t len = tu_peek_le16(img, ext + 4);
	assert_true(len >= 2);
	assert_int_equal(tu_peek_le32(img, ext), 0);
	/* the last block of the directory becomes a hole */
	tu_patch_le16(img, ext + 4, (uint16_t)(len - 1));
	tu_fix_inode_csum(img, ino);
	assert_int_equal(tu_open(img, &fs), 0);
	struct e4_inode dir = read_path(fs, "/mid");
	assert_int_equal(dir.size, (uint64_t)len * 1024);
	tu_log_clear();
	struct collect c = { 0 };
	assert_int_equal(e4_dir_iterate(fs, &dir, 0, collect_cb, &c),
			 -EUCLEAN);
	assert_true(c.n > 2);	/* the blocks before were delivered */
	tu_assert_rule(E4_RULE_DIR_MAPPED,
		       e4_obj_dir_block(ino, 0, len - 1u));
	assert_int_equal(e4_dir_lookup(fs, &dir, "none", 4, &found, NULL),
			 -EUCLEAN);
	/* the readers' walk lists the same and ends normally */
	struct collect sc = { 0 };
	bool skipped = false;
	assert_int_equal(e4_dir_iterate_mode(fs, &dir, 0, E4_DIR_SALVAGE,
					     collect_cb, &sc, &skipped), 0);
	assert_true(skipped);
	assert_int_equal(sc.n, c.n);
	for (size_t i = 2; i < sc.n; i++)
		assert_int_equal(e4_dir_lookup_mode(fs, &dir, sc.v[i].name,
						    strlen(sc.v[i].name),
						    E4_DIR_SALVAGE, &found,
						    NULL), 0);
	assert_int_equal(e4_dir_lookup_mode(fs, &dir, "none", 4,
					    E4_DIR_SALVAGE, &found, NULL),
			 -EUCLEAN);
	free(sc.v);
	free(c.v);
	tu_close(fs);
	free(img);
}

/* ---- broken htree index ------------------------------------------------------- */

static char *dx_base, *dx_base_csum;

static char *dx_image(const char *name, bool csum)
{
	char **base = csum ? &dx_base_csum : &dx_base;
	if (!*base)
		*base = make_image(csum ? "dxbase.img" : "dxbase_nc.img",
				   csum ? "-b 4096" : "-b 4096 -O ^metadata_csum",
				   tree_main, "64M", true);
	return tu_copy(*base, name);
}

/* Every 7th big name is still found (by the linear fallback), and the log
 * says why the index was not used: @rule, broken in the dx root. */
static void expect_fallback(const char *img, enum e4_rule rule)
{
	struct e4_fs *fs;
	uint32_t ino = tu_ino_of(img, "/big");
	uint64_t blk = tu_bmap(img, "/big", 0);

	assert_int_equal(tu_open(img, &fs), 0);
	struct e4_inode dir = read_path(fs, "/big");
	tu_log_clear();
	for (size_t i = 0; i < big_names.n; i += 7) {
		uint32_t found;
		int rc = e4_dir_lookup(fs, &dir, big_names.v[i],
				       strlen(big_names.v[i]), &found, NULL);
		if (rc)
			fail_msg("lookup %s: %d\n%s", big_names.v[i], rc,
				 tu_log());
	}
	tu_assert_rule(rule, e4_obj_dx_node(ino, blk, 0));
	tu_assert_log("; using linear search");
	/* iteration does not depend on the index */
	struct collect c = iterate_all(fs, &dir, 0);
	check_names(&c, &big_names);
	free(c.v);
	tu_close(fs);
}

static void test_dx_info_length(void **state)
{
	(void)state;
	char *img = dx_image("dx_info.img", false);
	tu_patch_u8(img, tu_bmap(img, "/big", 0) * 4096 + 0x1D, 9);
	expect_fallback(img, E4_RULE_DIR5);
	free(img);

	/* with metadata_csum: checksum first (fixed here), then structure */
	img = dx_image("dx_info_c.img", true);
	uint64_t boff = tu_bmap(img, "/big", 0) * 4096;
	tu_patch_u8(img, boff + 0x1D, 9);
	fix_dx_root_csum(img, tu_ino_of(img, "/big"), boff, 4096);
	expect_fallback(img, E4_RULE_DIR5);
	free(img);
}

static void test_dx_levels(void **state)
{
	(void)state;
	char *img = dx_image("dx_levels.img", false);
	tu_patch_u8(img, tu_bmap(img, "/big", 0) * 4096 + 0x1E, 2);
	expect_fallback(img, E4_RULE_DIR5);
	free(img);
}

static void test_dx_count_over_limit(void **state)
{
	(void)state;
	char *img = dx_image("dx_count.img", false);
	uint64_t boff = tu_bmap(img, "/big", 0) * 4096;
	assert_int_equal(tu_peek_le16(img, boff + 0x20), 508);
	tu_patch_le16(img, boff + 0x22, 509);
	expect_fallback(img, E4_RULE_DIR5);
	free(img);

	img = dx_image("dx_count_c.img", true);
	boff = tu_bmap(img, "/big", 0) * 4096;
	assert_int_equal(tu_peek_le16(img, boff + 0x20), 507);
	tu_patch_le16(img, boff + 0x22, 508);
	expect_fallback(img, E4_RULE_DIR5);
	free(img);
}

static void test_dx_entry_beyond_dir(void **state)
{
	(void)state;
	char *img = dx_image("dx_beyond.img", false);
	uint64_t boff = tu_bmap(img, "/big", 0) * 4096;
	struct e4_fs *fs;

	assert_int_equal(tu_open(img, &fs), 0);
	struct e4_inode dir = read_path(fs, "/big");
	uint64_t nblocks = dir.size / 4096;
	tu_close(fs);
	tu_patch_le32(img, boff + 0x28 + 4, (uint32_t)nblocks + 5);
	expect_fallback(img, E4_RULE_DIR6);
	free(img);
}

static void test_dx_bad_checksum(void **state)
{
	(void)state;
	char *img = dx_image("dx_csum.img", true);
	uint64_t blk = tu_bmap(img, "/big", 0);
	uint32_t ino = tu_ino_of(img, "/big");
	struct e4_object root = e4_obj_dx_node(ino, blk, 0);
	struct e4_fs *fs;
	uint32_t found;

	/* a dx entry's hash: covered by the dx checksum only */
	tu_patch_le32(img, blk * 4096 + 0x28,
		      tu_peek_le32(img, blk * 4096 + 0x28) ^ 0x100);
	assert_int_equal(tu_open(img, &fs), 0);
	struct e4_inode dir = read_path(fs, "/big");
	tu_log_clear();
	assert_int_equal(e4_dir_lookup(fs, &dir, big_names.v[0],
				       strlen(big_names.v[0]), &found, NULL),
			 -EUCLEAN);
	assert_int_equal(tu_rule_reports(E4_RULE_DIR5, root), 1);
	assert_null(strstr(tu_log(), "linear search"));
	/* a listing fails on the same root, reported once */
	struct collect c = { 0 };
	assert_int_equal(e4_dir_iterate(fs, &dir, 0, collect_cb, &c),
			 -EUCLEAN);
	assert_int_equal(tu_rule_reports(E4_RULE_DIR5, root), 1);
	free(c.v);
	/* the readers skip the root: every name is found by the linear
	 * walk, and listed but "." and ".." (they are in the root) */
	for (size_t i = 0; i < big_names.n; i += 7)
		assert_int_equal(e4_dir_lookup_mode(fs, &dir, big_names.v[i],
						    strlen(big_names.v[i]),
						    E4_DIR_SALVAGE, &found,
						    NULL), 0);
	c = (struct collect){ 0 };
	assert_int_equal(e4_dir_iterate_mode(fs, &dir, 0, E4_DIR_SALVAGE,
					     collect_cb, &c, NULL), 0);
	assert_int_equal(c.n, big_names.n);
	assert_int_equal(tu_rule_reports(E4_RULE_DIR5, root), 1);
	free(c.v);
	tu_close(fs);
	free(img);
}

/*
 * Continuation (§7.6): make dx entry 1 claim the lowest hash h of its leaf
 * with bit 0 set.  A lookup of that name lands in the previous leaf, misses,
 * and must step on to the next entry because (stored & ~1) == h.
 */
static void test_dx_continuation(void **state)
{
	(void)state;
	char *img = dx_image("dx_cont.img", false);
	uint64_t boff = tu_bmap(img, "/big", 0) * 4096;
	uint32_t leaf = tu_peek_le32(img, boff + 0x28 + 4);
	uint32_t seed[4];
	struct e4_fs *fs;
	unsigned hv = tu_peek_le32(img, boff + 0x1C) & 0xFF;

	for (int i = 0; i < 4; i++)
		seed[i] = tu_peek_le32(img, 1024 + E4_SB_HASH_SEED + 4 * (uint64_t)i);
	if (tu_peek_le32(img, 1024 + E4_SB_FLAGS) & E4_SB_FLAG_UNSIGNED_HASH)
		hv += 3;
	assert_int_equal(tu_open(img, &fs), 0);
	struct e4_inode dir = read_path(fs, "/big");
	struct collect c = iterate_all(fs, &dir, 0);
	tu_close(fs);

	uint32_t hmin = 0xFFFFFFFFu;
	const char *first = NULL;
	for (size_t i = 2; i < c.n; i++) {
		uint32_t h;
		if ((c.v[i].next_pos - 1) / 4096 != leaf)
			continue;
		assert_int_equal(e4_dirhash(c.v[i].name, strlen(c.v[i].name),
					    hv, seed, &h, NULL), 0);
		if (h < hmin) {
			hmin = h;
			first = c.v[i].name;
		}
	}
	assert_non_null(first);
	assert_true(tu_peek_le32(img, boff + 0x28) <= hmin);
	tu_patch_le32(img, boff + 0x28, hmin | 1);

	assert_int_equal(tu_open(img, &fs), 0);
	dir = read_path(fs, "/big");
	tu_log_clear();
	uint32_t ino;
	assert_int_equal(e4_dir_lookup(fs, &dir, first, strlen(first), &ino,
				       NULL), 0);
	for (size_t i = 2; i < c.n; i++) {
		assert_int_equal(e4_dir_lookup(fs, &dir, c.v[i].name,
					       strlen(c.v[i].name), &ino,
					       NULL), 0);
		assert_int_equal(ino, c.v[i].ino);
	}
	assert_string_equal(tu_log(), "");
	tu_close(fs);

	/* without the continuation bit the name is (correctly) not found
	 * through the index: the htree was really used */
	tu_patch_le32(img, boff + 0x28, hmin + 2);
	assert_int_equal(tu_open(img, &fs), 0);
	dir = read_path(fs, "/big");
	assert_int_equal(e4_dir_lookup(fs, &dir, first, strlen(first), &ino,
				       NULL), -ENOENT);
	tu_close(fs);
	free(c.v);
	free(img);
}

/* The htree reads only the leaf a name hashes to: with one leaf broken, the
 * names of the other leaves are still found, and only that leaf's names
 * fail. */
static void test_htree_reads_one_leaf(void **state)
{
	(void)state;
	char *img = dx_image("dx_leaf.img", true);
	struct e4_fs *fs;

	assert_int_equal(tu_open(img, &fs), 0);
	struct e4_inode dir = read_path(fs, "/big");
	struct collect c = iterate_all(fs, &dir, 0);
	uint64_t victim = dir.size / 4096 - 1;
	tu_close(fs);

	uint64_t pblk = tu_bmap(img, "/big", victim);
	tu_patch_le32(img, pblk * 4096 + 4092,
		      ~tu_peek_le32(img, pblk * 4096 + 4092));
	assert_int_equal(tu_open(img, &fs), 0);
	dir = read_path(fs, "/big");
	size_t ok = 0, bad = 0;
	for (size_t i = 2; i < c.n; i++) {
		uint32_t found;
		uint64_t lblk = (c.v[i].next_pos - 1) / 4096;
		int rc = e4_dir_lookup(fs, &dir, c.v[i].name,
				       strlen(c.v[i].name), &found, NULL);
		/* the readers' lookup: the linear walk after the bad leaf
		 * skips it, so its names are still not "absent" */
		int src = e4_dir_lookup_mode(fs, &dir, c.v[i].name,
					     strlen(c.v[i].name),
					     E4_DIR_SALVAGE, &found, NULL);
		assert_int_equal(src, rc);
		if (lblk == victim) {
			assert_int_equal(rc, -EUCLEAN);
			bad++;
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(found, c.v[i].ino);
			ok++;
		}
	}
	assert_true(ok > 1000 && bad > 0);
	free(c.v);
	tu_close(fs);
	free(img);
}

/* ---- salvage: one damaged block, the others read ------------------------------- */

/* Fixed bytes that look random over block @pblk (the same on every run). */
static void scribble(const char *img, uint64_t pblk, uint32_t bs, uint32_t seed)
{
	uint8_t *b = malloc(bs);
	uint32_t x = seed * 2654435761u + 1;

	for (uint32_t i = 0; i < bs; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 16);
	}
	tu_patch(img, pblk * bs, b, bs);
	free(b);
}

static uint64_t entry_block(const struct entry *e, uint32_t bs)
{
	return (e->next_pos - 1) / bs;
}

/* The readers' listing (E4_DIR_SALVAGE; @kernel_order: e4_dir_readdir's),
 * in one go or resumed from its cookies every @step entries. */
static struct collect reader_listing(struct e4_fs *fs,
				     const struct e4_inode *dir, size_t step,
				     bool kernel_order)
{
	struct collect c = { .stop_after = step };
	uint64_t pos = 0;
	int rc;

	for (;;) {
		bool skipped = false;

		rc = kernel_order ?
			e4_dir_readdir(fs, dir, pos, collect_cb, &c, &skipped) :
			e4_dir_iterate_mode(fs, dir, pos, E4_DIR_SALVAGE,
					    collect_cb, &c, &skipped);
		if (rc < 0)
			fail_msg("salvage: %d\nlog:\n%s", rc, tu_log());
		c.skipped |= skipped;
		if (rc == 0 || c.n == 0)
			break;
		pos = c.v[c.n - 1].next_pos;
	}
	return c;
}

/*
 * @dir (block size @bs) with logical block @victim damaged, against
 * @clean, its listing before: the readers list every entry of the other
 * blocks, in order, also resumed, and find each of them; a name of the
 * damaged block is -EUCLEAN, not absent.  The writers' walk and lookup
 * (E4_DIR_STRICT) refuse.  The block is reported @reports times (@rule,
 * @obj) through all of it.
 */
static void expect_salvage(struct e4_fs *fs, const struct e4_inode *dir,
			   uint32_t bs, const struct collect *clean,
			   uint64_t victim, size_t keep, enum e4_rule rule,
			   struct e4_object obj, size_t reports)
{
	bool indexed = dir->flags & E4_INDEX_FL;
	struct collect want = { 0 };
	uint32_t found;
	size_t lost = 0, at = 0;
	bool *gone = calloc(clean->n, sizeof(*gone));

	tu_log_clear();
	/* at most every clean entry (sized once: growing by one entry per
	 * name cost the sanitizer build a minute of copying) */
	want.v = malloc(clean->n * sizeof(*want.v));
	for (size_t i = 0; i < clean->n; i++) {
		if (entry_block(&clean->v[i], bs) == victim && at++ >= keep) {
			gone[i] = true;
			lost++;
			continue;
		}
		want.v[want.n++] = clean->v[i];
	}
	assert_true(lost > 0);
	for (size_t step = 0; step <= 7; step += 7) {
		struct collect got = reader_listing(fs, dir, step, false);

		if (got.n != want.n)
			fail_msg("salvage listed %zu entries, expected %zu\n%s",
				 got.n, want.n, tu_log());
		assert_true(got.skipped);
		for (size_t i = 0; i < got.n; i++) {
			assert_string_equal(got.v[i].name, want.v[i].name);
			assert_int_equal(got.v[i].ino, want.v[i].ino);
		}
		free(got.v);
	}
	for (size_t i = 0; i < clean->n; i++) {
		const struct entry *e = &clean->v[i];
		int rc = e4_dir_lookup_mode(fs, dir, e->name, strlen(e->name),
					    E4_DIR_SALVAGE, &found, NULL);

		if (gone[i]) {
			assert_int_equal(rc, -EUCLEAN);
			continue;
		}
		if (rc)
			fail_msg("lookup %s: %d\n%s", e->name, rc, tu_log());
		assert_int_equal(found, e->ino);
	}
	/* the writers' walk stops at the block */
	struct collect strict = { 0 };
	assert_int_equal(e4_dir_iterate(fs, dir, 0, collect_cb, &strict),
			 -EUCLEAN);
	free(strict.v);
	if (!indexed) {
		/* a linear directory: a name missing may be in the block */
		assert_int_equal(e4_dir_lookup_mode(fs, dir, "no-such-name", 12,
						    E4_DIR_SALVAGE, &found,
						    NULL), -EUCLEAN);
		/* and the writers' lookup of a name past it refuses */
		const struct entry *last = &clean->v[clean->n - 1];
		if (entry_block(last, bs) > victim)
			assert_int_equal(e4_dir_lookup(fs, dir, last->name,
						       strlen(last->name),
						       &found, NULL),
					 -EUCLEAN);
	}
	assert_int_equal(tu_rule_reports(rule, obj), reports);
	free(want.v);
	free(gone);
}

/* The clean listing of @path in @img, and the directory's inode. */
static struct collect listing_of(const char *img, const char *path,
				 uint32_t *ino)
{
	struct e4_fs *fs;

	assert_int_equal(tu_open(img, &fs), 0);
	struct e4_inode dir = read_path(fs, path);
	struct collect c = iterate_all(fs, &dir, 0);

	*ino = dir.ino;
	tu_close(fs);
	return c;
}

/* A linear directory of 1 KiB blocks with its first, a middle and its last
 * block overwritten with random-looking bytes, with and without
 * metadata_csum. */
static void test_salvage_linear(void **state)
{
	(void)state;
	for (int csum = 0; csum <= 1; csum++) {
		char *base = leaf_image(csum ? "salv_lin.img" : "salv_lin_nc.img",
					csum);
		uint32_t ino;
		struct collect clean = listing_of(base, "/mid", &ino);
		uint64_t nblocks = entry_block(&clean.v[clean.n - 1], 1024) + 1;

		assert_true(nblocks >= 3);
		for (uint64_t victim = 0; victim < nblocks;
		     victim += nblocks - 1 > 1 ? (nblocks - 1) / 2 : 1) {
			char *img = tu_copy(base, "salv_lin_v.img");
			uint64_t pblk = tu_bmap(img, "/mid", victim);
			struct e4_fs *fs;

			scribble(img, pblk, 1024, (uint32_t)victim);
			assert_int_equal(tu_open(img, &fs), 0);
			struct e4_inode dir = read_path(fs, "/mid");
			/* random bytes: with a checksum the tail is gone
			 * first, without one rec_len is wrong */
			expect_salvage(fs, &dir, 1024, &clean, victim, 0,
				       csum ? E4_RULE_DIR4 : E4_RULE_DIR1,
				       e4_obj_dir_block(ino, pblk, victim), 1);
			tu_close(fs);
			free(img);
		}
		free(clean.v);
		free(base);
	}
}

/* One name byte changed in a checksummed block: the kernel rejects the
 * block, the readers skip it alone. */
static void test_salvage_bad_checksum(void **state)
{
	(void)state;
	char *img = leaf_image("salv_csum.img", true);
	uint32_t ino;
	struct collect clean = listing_of(img, "/mid", &ino);
	uint64_t pblk = tu_bmap(img, "/mid", 1);
	struct e4_fs *fs;

	/* the first entry of block 1: its name's first byte */
	tu_patch_u8(img, pblk * 1024 + 8, 'Q');
	assert_int_equal(tu_open(img, &fs), 0);
	struct e4_inode dir = read_path(fs, "/mid");
	expect_salvage(fs, &dir, 1024, &clean, 1, 0, E4_RULE_DIR4,
		       e4_obj_dir_block(ino, pblk, 1), 1);
	tu_close(fs);
	free(clean.v);
	free(img);
}

/* One entry broken in the middle of a block (its checksum, if any, made
 * right again): the valid entries before it are still read, as the kernel
 * lists them; a block failing its checksum is not (test above). */
static void test_salvage_valid_prefix(void **state)
{
	(void)state;
	for (int csum = 0; csum <= 1; csum++) {
		char *img = leaf_image(csum ? "salv_pre.img" : "salv_pre_nc.img",
				       csum);
		uint32_t ino;
		struct collect clean = listing_of(img, "/mid", &ino);
		uint64_t pblk = tu_bmap(img, "/mid", 1);
		size_t keep = 4, seen = 0;
		uint32_t off = 0;
		struct e4_fs *fs;

		/* the offset of the 5th entry of block 1 */
		for (size_t i = 0; i < clean.n && seen < keep; i++)
			if (entry_block(&clean.v[i], 1024) == 1 && ++seen == keep)
				off = (uint32_t)(clean.v[i].next_pos % 1024);
		assert_true(off > 0);
		patch_rec_len_odd(img, pblk * 1024 + off);
		if (csum)
			tu_fix_owned_csum(img, pblk, &e4_bops_dir_leaf, ino, 1);
		assert_int_equal(tu_open(img, &fs), 0);
		struct e4_inode dir = read_path(fs, "/mid");
		expect_salvage(fs, &dir, 1024, &clean, 1, keep, E4_RULE_DIR1,
			       e4_obj_dir_block(ino, pblk, 1), 1);
		tu_close(fs);
		free(clean.v);
		free(img);
	}
}

/* An htree directory: a leaf overwritten (its names are -EUCLEAN, the
 * others found through the index), then the root (every name found by the
 * linear walk, where the kernel gives up). */
static void expect_same_listing(const struct collect *a,
				const struct collect *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, b->v[i].name))
			fail_msg("entry %zu: \"%s\" vs \"%s\"", i, a->v[i].name,
				 b->v[i].name);
}

static int cmp_entry_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
		      ((const struct entry *)b)->name);
}

/* e4_dir_readdir over @dir with logical block @victim damaged: every name
 * of the other blocks of @clean (its block-order listing) once, and the
 * damage said.  (A damaged root sends it to block order.) */
static void expect_kernel_order_salvage(struct e4_fs *fs,
					const struct e4_inode *dir,
					const struct collect *clean,
					uint64_t victim)
{
	struct collect got = reader_listing(fs, dir, 0, true);
	struct collect want = { 0 };

	assert_true(got.skipped);
	want.v = calloc(clean->n, sizeof(*want.v));
	for (size_t i = 0; i < clean->n; i++)
		if (entry_block(&clean->v[i], 4096) != victim)
			want.v[want.n++] = clean->v[i];
	qsort(got.v, got.n, sizeof(*got.v), cmp_entry_name);
	qsort(want.v, want.n, sizeof(*want.v), cmp_entry_name);
	expect_same_listing(&want, &got);
	free(got.v);
	free(want.v);
}

static void test_salvage_htree(void **state)
{
	(void)state;
	for (int csum = 0; csum <= 1; csum++) {
		char *base = dx_image(csum ? "salv_dx.img" : "salv_dx_nc.img",
				      csum);
		uint32_t ino;
		struct collect clean = listing_of(base, "/big", &ino);
		uint64_t nblocks = entry_block(&clean.v[clean.n - 1], 4096) + 1;
		uint64_t victims[2] = { nblocks / 2, 0 };

		for (int v = 0; v < 2; v++) {
			char *img = tu_copy(base, "salv_dx_v.img");
			uint64_t pblk = tu_bmap(img, "/big", victims[v]);
			struct e4_fs *fs;
			uint32_t found;

			scribble(img, pblk, 4096, (uint32_t)v + 100);
			assert_int_equal(tu_open(img, &fs), 0);
			struct e4_inode dir = read_path(fs, "/big");
			struct e4_object obj =
				e4_obj_dir_block(ino, pblk, victims[v]);
			/* a leaf: the tail first with a checksum; the root:
			 * its "." entry */
			enum e4_rule rule = victims[v] == 0 ? E4_RULE_DIR1 :
					    csum ? E4_RULE_DIR4 : E4_RULE_DIR1;

			expect_salvage(fs, &dir, 4096, &clean, victims[v], 0,
				       rule, obj, 1);
			expect_kernel_order_salvage(fs, &dir, &clean,
						    victims[v]);
			if (victims[v] == 0)
				assert_int_equal(
					e4_dir_lookup_mode(fs, &dir, ".", 1,
							   E4_DIR_SALVAGE,
							   &found, NULL),
					-EUCLEAN);
			tu_close(fs);
			free(img);
		}
		free(clean.v);
		free(base);
	}
}

/* ---- readdir in the kernel's order ----------------------------------------- */


/* An indexed directory lists ".", "..", then its names by (hash, minor
 * hash); resumed at any step, the same; names added and removed between
 * two steps move no other name (each listed once). */
static void test_readdir_hash_order(void **state)
{
	static const struct e4_cred root_cred = { 0, 0, 0 };
	(void)state;
	char *img = dx_image("rd_order.img", true);
	struct e4_fs *fs;
	struct e4_ino *root, *ip;
	struct names grown = { calloc(3000, sizeof(char *)), 3000 };

	/* an index grown by splits (e2fsck -D's leaves are in hash order
	 * block after block, a grown index's are not) */
	fs = tu_open_rw(img);
	assert_int_equal(e4_iget(fs, E4_ROOT_INO, &root), 0);
	assert_int_equal(e4_mkdir(fs, root, "grown", 5, 0755, &root_cred, &ip), 0);
	for (size_t i = 0; i < grown.n; i++) {
		grown.v[i] = strdup(tu_msg("grown-by-splits-%zu", i));
		assert_int_equal(e4_mknod(fs, ip, grown.v[i],
					  strlen(grown.v[i]), 0100644, 0, 0,
					  &root_cred, NULL), 0);
	}
	e4_iput(fs, ip);
	e4_iput(fs, root);
	tu_close_rw(fs);

	assert_int_equal(tu_open(img, &fs), 0);
	struct e4_inode dir = read_path(fs, "/grown");
	struct collect all = reader_listing(fs, &dir, 0, true);
	struct collect blocks = iterate_all(fs, &dir, 0);

	check_names(&all, &grown);
	/* (else this test could not tell the orders apart) */
	{
		size_t same = 0;

		assert_int_equal(all.n, blocks.n);
		for (size_t i = 0; i < all.n; i++)
			same += !strcmp(all.v[i].name, blocks.v[i].name);
		assert_true(same < all.n / 2);
		assert_true(all.v[all.n - 1].hash != 0);
	}
	free(blocks.v);
	for (size_t i = 3; i < all.n; i++) {
		const struct entry *p = &all.v[i - 1], *e = &all.v[i];

		if (e->hash < p->hash ||
		    (e->hash == p->hash && e->minor_hash < p->minor_hash))
			fail_msg("entry %zu (%s) is out of hash order", i,
				 e->name);
	}
	for (size_t step = 1; step <= 101; step += 50) {
		struct collect again = reader_listing(fs, &dir, step, true);

		expect_same_listing(&all, &again);
		free(again.v);
	}
	/* a small directory (one block) is listed by hash too, "." and ".."
	 * among the names */
	struct e4_inode small = read_path(fs, "/small");
	struct collect s = reader_listing(fs, &small, 0, true);

	for (size_t i = 1; i < s.n; i++)
		assert_true(s.v[i].hash >= s.v[i - 1].hash);
	free(s.v);
	tu_close(fs);

	/* read-write: half listed, then names added and removed */
	fs = tu_open_rw(img);
	struct collect seen = { .stop_after = 25 };
	uint64_t pos = 0;
	size_t head;
	int rc;

	dir = read_path(fs, "/grown");
	while (seen.n < all.n / 2) {
		assert_true(e4_dir_readdir(fs, &dir, pos, collect_cb, &seen,
					   NULL) > 0);
		pos = seen.v[seen.n - 1].next_pos;
	}
	head = seen.n;
	for (size_t i = 0; i < head; i++)
		assert_string_equal(seen.v[i].name, all.v[i].name);
	assert_int_equal(e4_iget(fs, dir.ino, &ip), 0);
	for (int i = 0; i < 400; i++) {
		const char *n = tu_msg("added-while-listing-%d", i);

		assert_int_equal(e4_mknod(fs, ip, n, strlen(n), 0100644, 0, 0,
					  &root_cred, NULL), 0);
	}
	/* every 5th name not listed yet goes */
	for (size_t i = head; i < all.n; i += 5)
		assert_int_equal(e4_unlink(fs, ip, all.v[i].name,
					   strlen(all.v[i].name)), 0);
	e4_iput(fs, ip);
	dir = read_path(fs, "/grown");
	seen.stop_after = 0;
	while ((rc = e4_dir_readdir(fs, &dir, pos, collect_cb, &seen,
				    NULL)) > 0)
		pos = seen.v[seen.n - 1].next_pos;
	assert_int_equal(rc, 0);
	for (size_t i = 0; i < all.n; i++) {
		size_t times = 0;
		bool gone = i >= head && (i - head) % 5 == 0;

		for (size_t k = 0; k < seen.n; k++)
			times += !strcmp(seen.v[k].name, all.v[i].name);
		if (times != (gone ? 0u : 1u))
			fail_msg("%s listed %zu times", all.v[i].name, times);
	}
	tu_close_rw(fs);
	tu_fsck_clean(img);
	free(seen.v);
	free(all.v);
	for (size_t i = 0; i < grown.n; i++)
		free(grown.v[i]);
	free(grown.v);
	free(img);
}

/* The writers keep refusing: a name is neither added to nor removed from
 * a directory with a damaged block. */
static void test_salvage_writes_strict(void **state)
{
	(void)state;
	static const struct e4_cred cred = { 0, 0, 022 };
	char *img = leaf_image("salv_write.img", true);
	uint32_t ino;
	struct collect clean = listing_of(img, "/mid", &ino);
	const char *last = clean.v[clean.n - 1].name;
	struct e4_ino *dir, *made = NULL;

	assert_true(entry_block(&clean.v[clean.n - 1], 1024) > 1);
	scribble(img, tu_bmap(img, "/mid", 1), 1024, 7);
	struct e4_fs *fs = tu_open_rw(img);
	assert_int_equal(e4_iget(fs, ino, &dir), 0);
	assert_int_equal(e4_mknod(fs, dir, "new-name", 8, 0100644, 0, 0, &cred,
				  &made), -EUCLEAN);
	assert_null(made);
	assert_int_equal(e4_unlink(fs, dir, last, strlen(last)), -EUCLEAN);
	/* while the readers still see it */
	struct e4_inode snap;
	uint32_t found;
	e4_ino_snapshot(dir, &snap);
	assert_int_equal(e4_dir_lookup_mode(fs, &snap, last, strlen(last),
					    E4_DIR_SALVAGE, &found, NULL), 0);
	e4_iput(fs, dir);
	tu_close_rw(fs);
	free(clean.v);
	free(img);
}

/* ---- paths --------------------------------------------------------------------- */

static void test_path_lookup(void **state)
{
	(void)state;
	char *img = leaf_image("path.img", true);
	struct e4_fs *fs;
	uint32_t ino = 0;
	uint32_t deep_file = tu_ino_of(img, "/sub/deep/file");
	uint32_t link = tu_ino_of(img, "/link");
	uint32_t small = tu_ino_of(img, "/small");

	assert_int_equal(tu_open(img, &fs), 0);
	assert_int_equal(e4_path_lookup(fs, "/", &ino), 0);
	assert_int_equal(ino, E4_ROOT_INO);
	assert_int_equal(e4_path_lookup(fs, "", &ino), 0);
	assert_int_equal(ino, E4_ROOT_INO);
	assert_int_equal(e4_path_lookup(fs, "/sub/deep/file", &ino), 0);
	assert_int_equal(ino, deep_file);
	assert_int_equal(e4_path_lookup(fs, "sub//deep///file", &ino), 0);
	assert_int_equal(ino, deep_file);
	assert_int_equal(e4_path_lookup(fs, "/sub/../small/.", &ino), 0);
	assert_int_equal(ino, small);
	assert_int_equal(e4_path_lookup(fs, "/..", &ino), 0);
	assert_int_equal(ino, E4_ROOT_INO);
	assert_int_equal(e4_path_lookup(fs, "/link", &ino), 0);
	assert_int_equal(ino, link);
	assert_int_equal(e4_path_lookup(fs, "/link/deep", &ino), -ENOTDIR);
	assert_int_equal(e4_path_lookup(fs, "/sub/deep/file/", &ino),
			 -ENOTDIR);
	assert_int_equal(e4_path_lookup(fs, "/sub/deep/file/x", &ino),
			 -ENOTDIR);
	assert_int_equal(e4_path_lookup(fs, "/sub/nope", &ino), -ENOENT);
	char longp[300] = "/";
	memset(longp + 1, 'n', 256);
	assert_int_equal(e4_path_lookup(fs, longp, &ino), -ENAMETOOLONG);
	tu_close(fs);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_4k),
		cmocka_unit_test(test_nocsum_4k),
		cmocka_unit_test(test_1k_two_levels),
		cmocka_unit_test(test_1k_two_levels_nocsum),
		cmocka_unit_test(test_64k),
		cmocka_unit_test(test_64k_full_block_rec_len),
		cmocka_unit_test(test_no_filetype),
		cmocka_unit_test(test_no_dir_index),
		cmocka_unit_test(test_hash_tea_unsigned),
		cmocka_unit_test(test_hash_legacy_signed),
		cmocka_unit_test(test_hash_half_md4_unsigned),
		cmocka_unit_test(test_hash_tea_signed),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_readdir_hash_order),
		cmocka_unit_test(test_leaf_rec_len_not_multiple_of_4),
		cmocka_unit_test(test_leaf_rec_len_too_short),
		cmocka_unit_test(test_leaf_rec_len_past_end),
		cmocka_unit_test(test_leaf_name_len),
		cmocka_unit_test(test_leaf_bad_entries),
		cmocka_unit_test(test_leaf_bad_checksum),
		cmocka_unit_test(test_dir_hole),
		cmocka_unit_test(test_dx_info_length),
		cmocka_unit_test(test_dx_levels),
		cmocka_unit_test(test_dx_count_over_limit),
		cmocka_unit_test(test_dx_entry_beyond_dir),
		cmocka_unit_test(test_dx_bad_checksum),
		cmocka_unit_test(test_dx_continuation),
		cmocka_unit_test(test_htree_reads_one_leaf),
		cmocka_unit_test(test_salvage_linear),
		cmocka_unit_test(test_salvage_bad_checksum),
		cmocka_unit_test(test_salvage_valid_prefix),
		cmocka_unit_test(test_salvage_htree),
		cmocka_unit_test(test_salvage_writes_strict),
		cmocka_unit_test(test_path_lookup),
	};
	return cmocka_run_group_tests(tests, setup_tree, NULL);
}

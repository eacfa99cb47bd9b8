/* SPDX-License-Identifier: MIT */
/*
 * e4_unreachable_scan (src/fs/unreachable.c): the inodes in use that no
 * path from the root reaches, tops of subtrees only.  Names are taken away
 * with debugfs unlink (the inodes keep their links, as when a directory
 * block is lost), cycles made with debugfs link; then an orphan with no
 * links, an inode that fails its checksum, a bitmap that fails its own,
 * and a root that cannot be read.  (The comparison with e2fsck -fy on
 * damaged directory blocks is tests/integration/lostfound.sh.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ondisk/ondisk.h"
#include "testutil.h"

static char *base;

/* /a/b/c/file, /d/f1..f3, /e (empty), /ex (empty, an xattr), /keep/x and
 * its second name /hl, /p/q, /s */
static void make_base(void)
{
	const char *t = tu_tmpdir();

	tu_sh("set -e; cd '%s'; mkdir -p src/a/b/c src/d src/keep src/p/q src/s; "
	      "echo file > src/a/b/c/file; for i in 1 2 3; do echo $i > src/d/f$i; done; "
	      ": > src/e; : > src/ex; setfattr -n user.k -v v src/ex; "
	      "echo x > src/keep/x; ln src/keep/x src/hl", t);
	char *src = NULL;

	if (asprintf(&src, "%s/src", t) < 0)
		fail_msg("oom");
	base = tu_mkfs("base.img", "-b 1024 -I 256", src, "8M");
	free(src);
}

/* An image scanned: the open file system, the result and its counts. */
struct scanned {
	struct e4_fs *fs;
	struct e4_unreachable *u;
	struct e4_unreachable_stats st;
};

static void scan(const char *img, struct scanned *s)
{
	assert_int_equal(tu_open(img, &s->fs), 0);
	assert_int_equal(e4_unreachable_scan(s->fs, &s->u), 0);
	e4_unreachable_get_stats(s->u, &s->st);
}

static void scanned_done(struct scanned *s)
{
	e4_unreachable_free(s->u);
	tu_close(s->fs);
}

/* The tops in order, as a string "12 34 " */
static const char *tops(const struct e4_unreachable *u)
{
	static char buf[512];
	size_t n = 0;

	buf[0] = '\0';
	for (uint32_t i = e4_unreachable_next(u, 0); i && n < sizeof(buf) - 16;
	     i = e4_unreachable_next(u, i))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%u ", i);
	return buf;
}

static void test_healthy(void **state)
{
	struct scanned r;

	(void)state;
	scan(base, &r);
	assert_string_equal(tops(r.u), "");
	assert_int_equal(r.st.unreachable, 0);
	assert_int_equal(r.st.tops, 0);
	assert_int_equal(r.st.unreadable, 0);
	/* 15 inodes of the tree and lost+found; not the root, not the
	 * journal */
	assert_int_equal(r.st.in_use, 16);
	assert_int_equal(r.st.memory, e4_unreachable_memory(r.fs));
	assert_int_equal(r.st.memory, 3 * (r.fs->inodes_count / 8 + 1));
	assert_false(e4_unreachable_has(r.u, E4_ROOT_INO));
	assert_false(e4_unreachable_has(r.u, r.fs->inodes_count + 1));
	scanned_done(&r);
}

static void test_orphaned_subtree(void **state)
{
	char *img = tu_copy(base, "subtree.img");
	uint32_t a = tu_ino_of(img, "/a"), b = tu_ino_of(img, "/a/b");
	uint32_t c = tu_ino_of(img, "/a/b/c"), f1 = tu_ino_of(img, "/d/f1");
	uint32_t e = tu_ino_of(img, "/e"), ex = tu_ino_of(img, "/ex");
	uint32_t x = tu_ino_of(img, "/keep/x");
	struct scanned r;

	(void)state;
	tu_debugfs(img, "unlink /a\nunlink /d/f1\nunlink /hl\nunlink /e\nunlink /ex");
	scan(img, &r);
	/* /a's subtree comes through /a; /hl's inode is still /keep/x; the
	 * empty /e is what e2fsck deletes, /ex has an xattr */
	assert_true(e4_unreachable_has(r.u, a));
	assert_true(e4_unreachable_has(r.u, f1));
	assert_true(e4_unreachable_has(r.u, ex));
	assert_false(e4_unreachable_has(r.u, b));
	assert_false(e4_unreachable_has(r.u, c));
	assert_false(e4_unreachable_has(r.u, e));
	assert_false(e4_unreachable_has(r.u, x));
	assert_string_equal(tops(r.u), tu_msg("%u %u %u ", a < f1 ? a : f1,
					    a < f1 ? f1 : a, ex));
	assert_int_equal(r.st.unreachable, 7);	/* a b c file f1 e ex */
	assert_int_equal(r.st.tops, 3);
	assert_int_equal(r.st.empty, 1);
	scanned_done(&r);
	free(img);
}

static void test_cycles(void **state)
{
	char *img = tu_copy(base, "cycle.img");
	uint32_t p = tu_ino_of(img, "/p"), q = tu_ino_of(img, "/p/q");
	uint32_t s = tu_ino_of(img, "/s");
	struct scanned r;

	(void)state;
	/* q names p, p names q: neither is named from outside; s names
	 * itself */
	tu_debugfs(img, "link /p /p/q/up\nlink /s /s/self\nunlink /p\nunlink /s");
	scan(img, &r);
	assert_int_equal(r.st.unreachable, 3);
	/* the lowest-numbered directory of the cycle is its top */
	assert_string_equal(tops(r.u), tu_msg("%u %u ", p < q ? p : q, s));
	scanned_done(&r);
	free(img);
}

static void test_no_links(void **state)
{
	char *img = tu_copy(base, "links0.img");
	uint32_t f2 = tu_ino_of(img, "/d/f2");
	struct scanned r;

	(void)state;
	/* an orphan in the making: in use, no links, no name */
	tu_debugfs(img, tu_msg("sif <%u> links_count 0\nunlink /d/f2", f2));
	scan(img, &r);
	assert_string_equal(tops(r.u), "");
	assert_int_equal(r.st.unreachable, 0);
	assert_int_equal(tu_rule_reports(E4_RULE_IN5, e4_obj_inode(f2)), 0);
	scanned_done(&r);
	free(img);
}

static void test_unreadable_inode(void **state)
{
	char *img = tu_copy(base, "badino.img");
	uint32_t f3 = tu_ino_of(img, "/d/f3"), f1 = tu_ino_of(img, "/d/f1");
	struct scanned r;

	(void)state;
	tu_debugfs(img, "unlink /d/f3\nunlink /d/f1");
	tu_patch_le32(img, tu_inode_offset(img, f3) + E4_I_GENERATION, 0xdead);
	scan(img, &r);
	/* skipped, reported; the others found */
	assert_string_equal(tops(r.u), tu_msg("%u ", f1));
	assert_int_equal(r.st.unreadable, 1);
	tu_assert_rule(E4_RULE_IN2, e4_obj_inode(f3));
	scanned_done(&r);
	free(img);
}

static void test_bad_bitmap(void **state)
{
	char *img = tu_copy(base, "badbitmap.img");
	uint32_t f1 = tu_ino_of(img, "/d/f1");
	struct e4_group gd;
	struct e4_fs *fs;
	struct scanned r;
	uint32_t ipg;
	uint8_t last;

	(void)state;
	tu_debugfs(img, "unlink /d/f1");
	assert_int_equal(tu_open(img, &fs), 0);
	assert_int_equal(e4_group_get(fs, 0, &gd), 0);
	ipg = fs->inodes_per_group;
	uint64_t at = gd.inode_bitmap * fs->block_size + (ipg - 1) / 8;
	tu_close(fs);
	/* the group's last inode marked in use: the checksum fails */
	tu_peek(img, at, &last, 1);
	tu_patch_u8(img, at, (uint8_t)(last | 0x80));
	scan(img, &r);
	/* the records decide: the never-used ones (mode 0) are passed over
	 * without a report each */
	assert_string_equal(tops(r.u), tu_msg("%u ", f1));
	tu_assert_rule_any(E4_RULE_AL1);
	assert_int_equal(tu_rule_reports(E4_RULE_IN2,
					 e4_obj_inode(ipg)), 0);
	scanned_done(&r);
	free(img);
}

static void test_root_unreadable(void **state)
{
	char *img = tu_copy(base, "badroot.img");
	uint32_t a = tu_ino_of(img, "/a"), d = tu_ino_of(img, "/d");
	uint32_t b = tu_ino_of(img, "/a/b");
	struct scanned r;

	(void)state;
	tu_patch_le32(img, tu_inode_offset(img, E4_ROOT_INO) + E4_I_GENERATION,
		      0xdead);
	scan(img, &r);
	/* everything hangs from the root's entries, lost+found included */
	assert_int_equal(r.st.unreachable, r.st.in_use);
	assert_true(e4_unreachable_has(r.u, 11));
	assert_true(e4_unreachable_has(r.u, a));
	assert_true(e4_unreachable_has(r.u, d));
	assert_false(e4_unreachable_has(r.u, b));
	/* lost+found, a, d, keep, p, s, ex: /e is empty, /hl is /keep/x */
	assert_int_equal(r.st.tops, 7);
	tu_assert_log("the root directory cannot be read");
	scanned_done(&r);
	free(img);
}

static void test_names(void **state)
{
	char buf[E4_UNREACHABLE_NAME_MAX];
	uint32_t ino = 0;

	(void)state;
	assert_int_equal(e4_unreachable_name(4294967295u, buf), 11);
	assert_string_equal(buf, "#4294967295");
	assert_int_equal(e4_unreachable_name_parse(buf, 11, &ino), 11);
	assert_int_equal(ino, 4294967295u);
	assert_int_equal(e4_unreachable_name_parse("#4294967296", 11, &ino), 0);
	assert_int_equal(e4_unreachable_name_parse("#12/x", 5, &ino), 3);
	assert_int_equal(ino, 12);
	assert_int_equal(e4_unreachable_name_parse("#0", 2, &ino), 0);
	assert_int_equal(e4_unreachable_name_parse("#012", 4, &ino), 0);
	assert_int_equal(e4_unreachable_name_parse("#", 1, &ino), 0);
	assert_int_equal(e4_unreachable_name_parse("12", 2, &ino), 0);
	assert_int_equal(e4_unreachable_name_parse("#12", 2, &ino), 2);
	assert_int_equal(ino, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy),
		cmocka_unit_test(test_orphaned_subtree),
		cmocka_unit_test(test_cycles),
		cmocka_unit_test(test_no_links),
		cmocka_unit_test(test_unreadable_inode),
		cmocka_unit_test(test_bad_bitmap),
		cmocka_unit_test(test_root_unreadable),
		cmocka_unit_test(test_names),
	};

	make_base();
	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}

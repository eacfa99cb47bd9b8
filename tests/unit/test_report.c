/* SPDX-License-Identifier: MIT */
/*
 * Structured reports: the rule table, object names, the error state a
 * corruption leaves in the file system, and the checker's (rule, object)
 * de-duplication and its own rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e4/check.h"
#include "e4/e4.h"
#include "e4/format.h"
#include "testutil.h"

static char *base;	/* 4 KiB blocks, metadata_csum, a few files */

static int setup(void **state)
{
	char src[512];

	(void)state;
	snprintf(src, sizeof(src), "%s/src", tu_tmpdir());
	tu_sh("mkdir -p '%s/d' && echo one > '%s/a' && echo two > '%s/d/b'",
	      src, src, src);
	base = tu_mkfs("base.img", "-b 4096", src, "16M");
	return 0;
}

static void test_rule_table(void **state)
{
	(void)state;
	assert_string_equal(e4_rule_id(E4_RULE_EX3), "EX3");
	assert_string_equal(e4_rule_id(E4_RULE_DIR_TARGET), "DIR-TARGET");
	assert_string_equal(e4_rule_id(E4_RULE_NONE), "-");
	assert_string_equal(e4_rule_id(E4_RULE_COUNT), "?");
	/* ids are unique and name their rule back */
	for (unsigned r = 0; r < E4_RULE_COUNT; r++) {
		const char *id = e4_rule_id((enum e4_rule)r);

		assert_true(id[0] != '\0');
		assert_true(e4_rule_name((enum e4_rule)r)[0] != '\0');
		assert_int_equal(e4_rule_from_id(id), r);
	}
	assert_int_equal(e4_rule_from_id("EX99"), E4_RULE_COUNT);
}

static void test_object_names(void **state)
{
	char buf[128];
	const struct {
		struct e4_object obj;
		const char *name;
	} cases[] = {
		{ e4_obj_fs(), "" },
		{ e4_obj_superblock(), "superblock" },
		{ e4_obj_group(3), "group 3 descriptor" },
		{ e4_obj_inode(12), "inode 12" },
		{ e4_obj_extent(12, 0), "inode 12: extent root" },
		{ e4_obj_extent(12, 345), "inode 12: extent block 345" },
		{ e4_obj_indirect(12, 77, 2), "inode 12: double indirect block 77" },
		{ e4_obj_dir_block(12, 900, 4),
		  "inode 12: directory block 900 (logical 4)" },
		{ e4_obj_dx_node(12, 901, 0),
		  "inode 12: htree root block 901 (logical 0)" },
		{ e4_obj_xattr_block(12, 50), "inode 12: xattr block 50" },
		{ e4_obj_journal_block(9, 1234),
		  "journal block 9 (copy of block 1234)" },
		{ e4_obj(E4_OBJ_BLOCK_BITMAP, 0, 66, 1),
		  "group 1: block bitmap block 66" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e4_object_describe(&cases[i].obj, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].name);
	}
	struct e4_report r = { .rule = E4_RULE_GD1, .msg = "group 0 descriptor: x" };
	e4_report_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "group 0 descriptor: x [GD1]");
	r.rule = E4_RULE_NONE;
	e4_report_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "group 0 descriptor: x");
}

/* Break /a's inode checksum: every read of it is one corruption. */
static char *broken_inode(const char *name, uint32_t *ino)
{
	char *img = tu_copy(base, name);

	*ino = tu_ino_of(img, "/a");
	uint64_t off = tu_inode_offset(img, *ino);
	tu_patch_le16(img, off + E4_I_UID, 4242);
	return img;
}

static void test_error_state(void **state)
{
	struct e4_error_state st;
	struct e4_inode in;
	struct e4_fs *fs;
	uint32_t ino, d_ino;
	char *img = broken_inode("state.img", &ino);
	time_t before = time(NULL);

	(void)state;
	assert_int_equal(tu_open(img, &fs), 0);
	e4_fs_get_error_state(fs, &st);
	assert_int_equal(st.count, 0);
	assert_int_equal(e4_fs_error_count(fs), 0);

	assert_int_equal(e4_inode_read(fs, ino, &in), -EUCLEAN);
	e4_fs_get_error_state(fs, &st);
	assert_int_equal(st.count, 1);
	assert_int_equal(st.first.rule, E4_RULE_IN2);
	assert_true(st.first.time >= (int64_t)before);
	/* a name that holds a free inode: the last error changes */
	assert_int_equal(e4_path_lookup(fs, "/d", &d_ino), 0);
	assert_int_equal(e4_inode_read_named(fs, d_ino, "x", 20, &in),
			 -EUCLEAN);
	e4_fs_get_error_state(fs, &st);
	assert_int_equal(st.count, 2);
	assert_int_equal(st.first.rule, E4_RULE_IN2);
	struct e4_object first = e4_obj_inode(ino), last = e4_obj_dirent(d_ino, 20);
	assert_true(e4_object_equal(&st.first.obj, &first));
	assert_int_equal(st.last.rule, E4_RULE_DIR_TARGET);
	assert_true(e4_object_equal(&st.last.obj, &last));
	assert_int_equal(e4_fs_error_count(fs), 2);
	/* the inode checksum is verified once per cached buffer, and reported
	 * each time it fails */
	assert_int_equal(e4_inode_read(fs, ino, &in), -EUCLEAN);
	assert_int_equal(e4_fs_error_count(fs), 3);
	tu_close(fs);

	/* a checksum accepted (fuzzing) is no error */
	struct e4_open_opts o = { .read_only = true, .csum = E4_CSUM_ACCEPT };
	assert_int_equal(tu_open_opts(img, &o, &fs), 0);
	assert_int_equal(e4_inode_read(fs, ino, &in), 0);
	assert_int_equal(e4_fs_error_count(fs), 0);
	tu_assert_rule(E4_RULE_IN2, e4_obj_inode(ino));
	tu_close(fs);
	free(img);
}

/* ---- the checker --------------------------------------------------------- */

struct seen {
	struct e4_report r[64];
	char msg[64][256];
	size_t n;
};

static void collect(void *ctx, const struct e4_report *r)
{
	struct seen *s = ctx;

	if (s->n < 64) {
		s->r[s->n] = *r;
		snprintf(s->msg[s->n], sizeof(s->msg[0]), "%s", r->msg);
		s->r[s->n].msg = s->msg[s->n];
		s->n++;
	}
}

static void test_sink_dedupes_rule_and_object(void **state)
{
	struct seen seen = { .n = 0 };
	struct e4_check_sink sink = { .report = collect, .ctx = &seen };
	struct e4_report r = { .level = E4_LOG_ERROR, .rule = E4_RULE_EX1,
			       .obj = e4_obj_extent(12, 0), .corruption = true,
			       .msg = "inode 12: extent root: bad magic 0x0000" };

	(void)state;
	e4_check_report(&sink, &r);
	/* the same problem met again, however worded: once */
	r.msg = "inode 12: extent root: bad magic 0x0001";
	e4_check_report(&sink, &r);
	/* another rule of the same object, the same rule of another object */
	r.rule = E4_RULE_EX2;
	e4_check_report(&sink, &r);
	r.obj = e4_obj_extent(13, 0);
	e4_check_report(&sink, &r);
	/* not errors: not problems */
	r.level = E4_LOG_WARN;
	r.rule = E4_RULE_SB3;
	e4_check_report(&sink, &r);
	/* messages without a rule are told apart by their text */
	r.level = E4_LOG_ERROR;
	r.rule = E4_RULE_NONE;
	r.obj = e4_obj_fs();
	r.msg = "one";
	e4_check_report(&sink, &r);
	e4_check_report(&sink, &r);
	r.msg = "two";
	e4_check_report(&sink, &r);
	assert_int_equal(sink.problems, 5);
	assert_int_equal(seen.n, 5);
	assert_int_equal(seen.r[0].rule, E4_RULE_EX1);
	assert_string_equal(seen.msg[0], "inode 12: extent root: bad magic 0x0000");
	e4_check_sink_free(&sink);
}

/* Check @img; the problems go to @seen.  Returns the count. */
static uint64_t check_image(const char *img, struct seen *seen)
{
	struct e4_check_sink sink = { .report = collect, .ctx = seen };
	struct e4_open_opts o = { .read_only = true, .report = e4_check_report,
				  .report_ctx = &sink,
				  .log_level = E4_LOG_ERROR };
	struct e4_check_stats st;
	struct e4_dev *dev;
	struct e4_fs *fs;

	assert_int_equal(e4_dev_open_file(img, 0, 0, false, &dev), 0);
	assert_int_equal(e4_fs_open(dev, &o, &fs), 0);
	assert_int_equal(e4_check(fs, &sink, &st), 0);
	e4_fs_close(fs);
	e4_check_sink_free(&sink);
	return st.problems;
}

static bool has_problem(const struct seen *s, enum e4_rule rule,
			struct e4_object obj)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->r[i].rule == rule && e4_object_equal(&s->r[i].obj, &obj))
			return true;
	return false;
}

static void test_check_rules(void **state)
{
	struct seen seen = { .n = 0 };
	uint32_t ino;

	(void)state;
	assert_int_equal(check_image(base, &seen), 0);

	/* a link count that no entry accounts for */
	char *img = tu_copy(base, "links.img");
	ino = tu_ino_of(img, "/a");
	tu_debugfs(img, tu_msg("sif <%u> links_count 3", ino));
	seen.n = 0;
	assert_int_equal(check_image(img, &seen), 1);
	assert_true(has_problem(&seen, E4_RULE_CK_LINKS, e4_obj_inode(ino)));
	free(img);

	/* a broken inode read by every pass: one problem */
	img = broken_inode("csum.img", &ino);
	seen.n = 0;
	check_image(img, &seen);
	assert_true(has_problem(&seen, E4_RULE_IN2, e4_obj_inode(ino)));
	size_t in2 = 0;
	for (size_t i = 0; i < seen.n; i++)
		in2 += seen.r[i].rule == E4_RULE_IN2;
	assert_int_equal(in2, 1);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_table),
		cmocka_unit_test(test_object_names),
		cmocka_unit_test(test_error_state),
		cmocka_unit_test(test_sink_dedupes_rule_and_object),
		cmocka_unit_test(test_check_rules),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

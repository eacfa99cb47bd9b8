/* SPDX-License-Identifier: MIT */
/*
 * The group metadata enumerator (e4_group_metadata, §1.4-1.7) against
 * dumpe2fs on images from Debian's mkfs.ext4, one per layout: every block
 * dumpe2fs lists must be reported, as the same kind and for the same
 * group, and nothing else; each once over all groups (E4_META_OWNED), and
 * per group exactly those inside its range (E4_META_INSIDE).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ondisk/ondisk.h"
#include "testutil.h"

#define NONE 0xFF

/* What dumpe2fs says: per block, its kind and owning group. */
struct layout {
	uint64_t blocks;
	uint8_t *kind;		/* e4_meta_kind, or NONE */
	uint32_t *owner;
};

static void mark(struct layout *l, uint32_t g, enum e4_meta_kind kind,
		 uint64_t a, uint64_t b)
{
	assert_true(a <= b && b < l->blocks);
	for (uint64_t blk = a; blk <= b; blk++) {
		if (l->kind[blk] != NONE)
			fail_msg("dumpe2fs lists block %llu twice",
				 (unsigned long long)blk);
		l->kind[blk] = (uint8_t)kind;
		l->owner[blk] = g;
	}
}

/* "A-B" or "A" after @key in @line. */
static bool range_after(const char *line, const char *key,
			unsigned long long *a, unsigned long long *b)
{
	const char *p = strstr(line, key);

	if (!p)
		return false;
	p += strlen(key);
	if (sscanf(p, "%llu-%llu", a, b) == 2)
		return true;
	if (sscanf(p, "%llu", a) != 1)
		fail_msg("cannot parse: %s", line);
	*b = *a;
	return true;
}

static void parse_dumpe2fs(const char *img, struct layout *l)
{
	char *out = tu_sh_out("dumpe2fs %s 2>/dev/null", img);
	static const struct { const char *key; enum e4_meta_kind kind; } keys[] = {
		{"superblock at ", E4_META_SUPERBLOCK},
		{"Group descriptors at ", E4_META_GDT},
		{"Group descriptor at ", E4_META_GDT},
		{"Reserved GDT blocks at ", E4_META_RESERVED_GDT},
		{"Block bitmap at ", E4_META_BLOCK_BITMAP},
		{"Inode bitmap at ", E4_META_INODE_BITMAP},
		{"Inode table at ", E4_META_INODE_TABLE},
	};
	uint32_t g = UINT32_MAX;

	memset(l->kind, NONE, l->blocks);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned u, a32;
		unsigned long long a, b;

		if (sscanf(line, "Group %u: (Blocks %u", &u, &a32) == 2) {
			g = u;
			continue;
		}
		if (g == UINT32_MAX)
			continue;
		for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
			if (range_after(line, keys[i].key, &a, &b))
				mark(l, g, keys[i].kind, a, b);
	}
	assert_int_not_equal(g, UINT32_MAX);
	free(out);
}

struct collect {
	struct layout *want;
	uint8_t *seen;		/* per block: reported already */
	uint64_t lo, hi;	/* E4_META_INSIDE: the group's range */
	uint32_t group;
	enum e4_meta_scope scope;
	uint64_t reported;
};

static int collect(void *ctx, uint32_t owner, enum e4_meta_kind kind,
		   uint64_t start, uint64_t count)
{
	struct collect *c = ctx;

	if (c->scope == E4_META_OWNED && owner != c->group)
		fail_msg("group %u: run owned by group %u", c->group, owner);
	for (uint64_t blk = start; blk < start + count; blk++) {
		if (blk >= c->want->blocks || blk < c->lo || blk >= c->hi)
			fail_msg("group %u: block %llu outside", c->group,
				 (unsigned long long)blk);
		if (c->seen[blk])
			fail_msg("group %u: block %llu reported twice", c->group,
				 (unsigned long long)blk);
		c->seen[blk] = 1;
		c->reported++;
		if (c->want->kind[blk] != kind || c->want->owner[blk] != owner)
			fail_msg("group %u: block %llu reported as kind %d of group %u, dumpe2fs says kind %d of group %u",
				 c->group, (unsigned long long)blk, kind, owner,
				 c->want->kind[blk] == NONE ? -1 : c->want->kind[blk],
				 c->want->owner[blk]);
	}
	return 0;
}

/* Make @args image, compare both scopes of every group with dumpe2fs. */
static void compare(const char *name, const char *args, const char *size)
{
	char *img = tu_mkfs(name, args, NULL, size);
	struct e4_fs *fs;
	struct layout want;

	assert_int_equal(tu_open(img, &fs), 0);
	want.blocks = fs->blocks_count;
	want.kind = malloc(want.blocks);
	want.owner = calloc(want.blocks, sizeof(*want.owner));
	uint8_t *seen = calloc(want.blocks, 1);
	assert_non_null(want.kind);
	assert_non_null(want.owner);
	assert_non_null(seen);
	parse_dumpe2fs(img, &want);

	/* OWNED: over all groups, every listed block once and nothing else */
	struct collect c = { .want = &want, .seen = seen, .lo = 0,
			     .hi = UINT64_MAX, .scope = E4_META_OWNED };
	for (uint32_t g = 0; g < fs->group_count; g++) {
		c.group = g;
		assert_int_equal(e4_group_metadata(fs, g, E4_META_OWNED,
						   collect, &c), 0);
	}
	uint64_t listed = 0;
	for (uint64_t b = 0; b < want.blocks; b++)
		listed += want.kind[b] != NONE;
	assert_int_equal(c.reported, listed);

	/* INSIDE: per group, exactly the listed blocks in its range */
	c.scope = E4_META_INSIDE;
	for (uint32_t g = 0; g < fs->group_count; g++) {
		c.group = g;
		c.lo = e4_group_first_block(fs, g);
		c.hi = c.lo + fs->blocks_per_group;
		if (c.hi > want.blocks)
			c.hi = want.blocks;
		c.reported = 0;
		memset(seen, 0, want.blocks);
		assert_int_equal(e4_group_metadata(fs, g, E4_META_INSIDE,
						   collect, &c), 0);
		listed = 0;
		for (uint64_t b = c.lo; b < c.hi; b++)
			listed += want.kind[b] != NONE;
		assert_int_equal(c.reported, listed);
	}
	assert_int_equal(e4_group_metadata(fs, fs->group_count, E4_META_OWNED,
					   collect, &c), -EINVAL);
	tu_close(fs);
	free(seen);
	free(want.kind);
	free(want.owner);
	free(img);
}

/* One image per layout dumpe2fs is compared with. */
struct layout_case {
	const char *name, *mkfs_args, *size;
};

static const struct layout_case layouts[] = {
	{"plain-4k", "-b 4096 -g 4096", "128M"},
	{"flex4-1k", "-b 1024 -G 4", "128M"},
	{"no-flex", "-b 1024 -O ^flex_bg", "48M"},
	{"no-sparse-super", "-b 1024 -O ^sparse_super,^resize_inode", "48M"},
	{"sparse-super2", "-b 1024 -O sparse_super2", "96M"},
	/* 64-byte descriptors: 16 per block, 38 groups, three meta groups */
	{"meta-bg", "-b 1024 -O meta_bg,^resize_inode", "300M"},
	/* 32-byte ones: 32 per block, copies in groups 0, 1, 31, 32, 33 */
	{"meta-bg-32", "-b 1024 -O meta_bg,^resize_inode,^64bit", "300M"},
	{"bigalloc", "-b 1024 -O bigalloc -C 4096", "128M"},
	/* group 0 starts at block 0, its descriptor block is still 2 */
	{"bigalloc-meta-bg", "-b 1024 -O bigalloc,meta_bg,^resize_inode -C 4096",
	 "128M"},
};

static void test_layout(void **state)
{
	const struct layout_case *lc = *state;
	char name[64];

	snprintf(name, sizeof(name), "%s.img", lc->name);
	compare(name, lc->mkfs_args, lc->size);
}

/* Blocks reported, the first run's kind; returns @stop (non-zero: stop). */
struct tally {
	uint64_t blocks;
	int first_kind;
	int stop;
};

static int tally_runs(void *ctx, uint32_t owner, enum e4_meta_kind kind,
		      uint64_t start, uint64_t count)
{
	struct tally *t = ctx;

	(void)owner;
	(void)start;
	if (t->blocks == 0)
		t->first_kind = (int)kind;
	t->blocks += count;
	return t->stop;
}

/* A descriptor naming a bitmap outside the file system is refused (GD2),
 * never reported as a run; the fixed runs before it still are. */
static void test_hostile_descriptor(void **state)
{
	(void)state;
	char *img = tu_mkfs("hostile.img", "-b 1024 -O ^metadata_csum,^uninit_bg",
			    NULL, "32M");
	struct e4_fs *fs;
	struct tally t = {0};

	/* group 1's block bitmap (descriptor 1 in block 2) far outside */
	assert_int_equal(tu_open(img, &fs), 0);
	uint32_t ds = fs->desc_size;
	tu_close(fs);
	tu_patch_le32(img, 2 * 1024 + ds + E4_GD_BLOCK_BITMAP_LO, 0x7FFFFFF0u);
	assert_int_equal(tu_open(img, &fs), 0);
	tu_log_clear();
	assert_int_equal(e4_group_metadata(fs, 1, E4_META_OWNED, tally_runs,
					   &t), -EUCLEAN);
	tu_assert_rule(E4_RULE_GD2, e4_obj_group(1));
	/* superblock, descriptor and reserved GDT copies of group 1 */
	assert_int_equal(t.blocks, 1 + fs->gdt_blocks + fs->reserved_gdt_blocks);
	/* group 0's view of its flex group needs group 1's descriptor too */
	t = (struct tally){0};
	assert_int_equal(e4_group_metadata(fs, 0, E4_META_INSIDE, tally_runs,
					   &t), -EUCLEAN);
	/* the callback's value stops the walk and is returned */
	t = (struct tally){ .stop = 42 };
	assert_int_equal(e4_group_metadata(fs, 0, E4_META_OWNED, tally_runs,
					   &t), 42);
	assert_int_equal(t.first_kind, E4_META_SUPERBLOCK);
	assert_int_equal(t.blocks, 1);
	tu_close(fs);
	free(img);
}

/* A backup in a last group too short to hold it is clipped at the end of
 * the file system and reported. */
static void test_backup_past_end(void **state)
{
	(void)state;
	char *img = tu_mkfs("short.img",
			    "-b 1024 -O sparse_super2,^metadata_csum,^has_journal",
			    NULL, "40M");
	struct e4_fs *fs;
	struct tally t = {0};

	/* the last group (4, a sparse_super2 backup) keeps 3 blocks: its
	 * superblock and descriptor copies fit, 1 of 256 reserved ones does */
	assert_int_equal(tu_open(img, &fs), 0);
	uint32_t last = fs->group_count - 1;
	uint64_t end = e4_group_first_block(fs, last) + 3;
	assert_true(e4_group_has_super(fs, last));
	tu_close(fs);
	tu_patch_le32(img, 1024 + E4_SB_BLOCKS_COUNT_LO, (uint32_t)end);
	tu_patch_le32(img, 1024 + E4_SB_R_BLOCKS_COUNT_LO, 0);
	tu_patch_le32(img, 1024 + E4_SB_FREE_BLOCKS_COUNT_LO, 0);
	assert_int_equal(tu_open(img, &fs), 0);
	tu_log_clear();
	assert_int_equal(fs->gdt_blocks, 1);
	assert_int_equal(e4_group_metadata(fs, last, E4_META_OWNED, tally_runs,
					   &t), 0);
	tu_assert_rule(E4_RULE_FS_RANGE, e4_obj_group(last));
	/* 3 fixed, and its bitmaps and table (in group 0 by flex_bg) */
	assert_int_equal(t.blocks, 3 + 2 + fs->itable_blocks);
	tu_close(fs);
	free(img);
}

int main(void)
{
	enum { NLAYOUTS = sizeof(layouts) / sizeof(*layouts) };
	struct CMUnitTest tests[NLAYOUTS + 2] = {
		[NLAYOUTS] = cmocka_unit_test(test_hostile_descriptor),
		[NLAYOUTS + 1] = cmocka_unit_test(test_backup_past_end),
	};

	for (size_t i = 0; i < NLAYOUTS; i++)
		tests[i] = (struct CMUnitTest){ .name = layouts[i].name,
						.test_func = test_layout,
						.initial_state = (void *)&layouts[i] };
	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}

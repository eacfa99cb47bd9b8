/* SPDX-License-Identifier: MIT */
/*
 * fuse-iomap's read half, proven through the kernel model (kmodel.h) since
 * no kernel here has it: the same reads through iomap (the model reading
 * the image at the addresses e4fuse gave) and through the classic path
 * (READ requests) give the same bytes on the feature matrix (extents,
 * block maps, 1 KiB blocks, bigalloc, inline data, sparse and unwritten
 * files, a file system at an offset in its image); SEEK_DATA/HOLE agree
 * with FUSE_LSEEK; fiemap's extents hold the file's bytes; the requests
 * cost what they should (one BEGIN per extent, none for a mapping the
 * cache holds); mappings from a corrupt extent never point into the
 * metadata; the negotiation falls back to the classic path wherever iomap
 * cannot serve; and the loop device an image file needs attaches and
 * goes away for real.
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
#include <time.h>
#include <unistd.h>

#include "e4/datazone.h"
#include "e4/write.h"
#include "kmodel.h"
#include "testutil.h"

/* ---- fixtures ----------------------------------------------------------------- */

/* @len bytes of a pattern at @off of @path (created as needed): no block
 * of it is all zeros, so mkfs -d keeps every one. */
static void write_pattern(const char *path, uint64_t off, size_t len,
			  uint32_t seed)
{
	uint8_t *buf = malloc(len ? len : 1);
	uint32_t x = seed * 2654435761u + 1;
	int fd = open(path, O_WRONLY | O_CREAT, 0644);

	assert_non_null(buf);
	assert_true(fd >= 0);
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)((x >> 16) | 1);
	}
	assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
	free(buf);
}

#define SPARSE_ISLANDS 16
#define ISLAND (64u << 10)

/* The source tree every image is made of. */
static const char *source_tree(void)
{
	static char dir[512];

	if (dir[0])
		return dir;
	snprintf(dir, sizeof(dir), "%s/src", tu_tmpdir());
	tu_sh("mkdir -p '%s/sub'", dir);
	write_pattern(tu_msg("%s/tiny", dir), 0, 100, 1);
	write_pattern(tu_msg("%s/odd", dir), 0, 300001, 2);
	write_pattern(tu_msg("%s/big", dir), 0, 3u << 20, 3);
	write_pattern(tu_msg("%s/sub/nested", dir), 0, 5000, 4);
	for (unsigned i = 0; i < SPARSE_ISLANDS; i++)
		write_pattern(tu_msg("%s/sparse", dir), 2ull * i * ISLAND,
			      ISLAND, 10 + i);
	/* a hole at the end too */
	tu_sh("truncate -s %u '%s/sparse'", 2 * SPARSE_ISLANDS * ISLAND + 12345,
	      dir);
	tu_sh(": > '%s/empty'", dir);
	return dir;
}

/* Unwritten extents (debugfs fallocate) in an extent-mapped image: a file
 * all unwritten, one with data, then unwritten blocks, then a hole. */
static void add_unwritten(const char *img)
{
	uint32_t bs = tu_block_size(img);

	tu_debugfs(img, tu_msg("write /dev/null unw\nfallocate /unw 0 31\n"
			       "sif /unw size %u\n", 32 * bs));
	tu_debugfs(img, tu_msg("fallocate /odd %u %u\nsif /odd size %u\n",
			       300001 / bs + 4, 300001 / bs + 11,
			       (300001 / bs + 16) * bs));
}

static const char *const files[] = {
	"tiny", "odd", "big", "sub/nested", "sparse", "empty", "unw",
};

/* ---- comparing the paths --------------------------------------------------------- */

/* Read @ki whole through the classic path, buffered and direct iomap, and
 * compare; then a few odd ranges, and the seeks. */
static void compare_file(struct kmodel *km, struct km_inode *ki,
			 const char *name)
{
	size_t size = (size_t)ki->size, dsize = (size + 511) / 512 * 512;
	uint8_t *classic = malloc(size + 1), *buffered = malloc(size + 1);
	uint8_t *direct = malloc(dsize + 512);
	struct km_extent ext[64];
	int n;

	assert_true(classic && buffered && direct);
	assert_int_equal(km_read_classic(km, ki, 0, classic, size),
			 (ssize_t)size);
	assert_int_equal(km_read_buffered(km, ki, 0, buffered, size),
			 (ssize_t)size);
	if (memcmp(classic, buffered, size))
		fail_msg("%s: buffered iomap read differs", name);
	assert_int_equal(km_read_direct(km, ki, 0, direct, dsize),
			 (ssize_t)size);
	if (memcmp(classic, direct, size))
		fail_msg("%s: direct iomap read differs", name);

	/* unaligned ranges, fresh from the cache */
	for (uint64_t off = 1; off < size; off = off * 7 + 4093) {
		size_t len = size - off < 70000 ? size - off : 70000;

		assert_int_equal(km_read_buffered(km, ki, off, buffered, len),
				 (ssize_t)len);
		if (memcmp(classic + off, buffered, len))
			fail_msg("%s: buffered read at %llu differs", name,
				 (unsigned long long)off);
	}

	/* SEEK_DATA/HOLE as FUSE_LSEEK answers them */
	for (uint64_t off = 0; off < size + 1; off += size / 7 + 1) {
		assert_int_equal(km_seek(km, ki, off, true),
				 km_seek_classic(km, ki, off, true));
		assert_int_equal(km_seek(km, ki, off, false),
				 km_seek_classic(km, ki, off, false));
	}

	/* fiemap: each extent's device bytes are the file's */
	n = km_fiemap(km, ki, ext, 64);
	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		uint64_t end = ext[i].logical + ext[i].length;
		size_t len;

		if (end > size)
			end = size;
		len = (size_t)(end - ext[i].logical);
		if (ext[i].inline_data || ext[i].unwritten || !len)
			continue;
		assert_int_equal(pread(km->dev_fd, buffered, len,
				       (off_t)ext[i].physical), (ssize_t)len);
		if (memcmp(classic + ext[i].logical, buffered, len))
			fail_msg("%s: fiemap extent %d holds other bytes",
				 name, i);
	}
	free(classic);
	free(buffered);
	free(direct);
}

/* debugfs fallocate made /unw of unwritten extents only: fiemap says so,
 * and they read as zeros. */
static void assert_all_unwritten(struct kmodel *km, struct km_inode *ki)
{
	struct km_extent ext[8];
	uint64_t covered = 0;
	int n = km_fiemap(km, ki, ext, 8);

	assert_true(n >= 1);
	for (int i = 0; i < n; i++) {
		assert_true(ext[i].unwritten);
		covered += ext[i].length;
	}
	assert_int_equal(covered, ki->size);
}

/* Serve @img (file system at @offset in it) through the model with
 * iomap and compare every file. */
static void compare_image(const char *img, uint64_t offset, bool unwritten,
			  bool expect_inline)
{
	struct e4_dev *dev;
	struct e4_fs *fs;
	struct e4_open_opts o = { .read_only = true };
	struct kmodel km;
	unsigned inline_files = 0;

	assert_int_equal(e4_dev_open_file(img, offset, 0, false, &dev), 0);
	assert_int_equal(tu_open_dev(dev, &o, &fs), 0);
	km_start(&km, fs, img, true);
	assert_true(km.iomap);
	assert_int_equal(km.dev_id, 1);
	assert_int_equal(km.blksize, tu_block_size(img) ? km.blksize :
			 km.blksize);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int err;
		struct km_inode *ki;

		if (!unwritten && strcmp(files[i], "unw") == 0)
			continue;
		ki = km_lookup(&km, files[i], &err);
		assert_int_equal(err, 0);
		assert_true(ki->iomap);
		unsigned reads = km.st.inline_reads;

		compare_file(&km, ki, files[i]);
		if (km.st.inline_reads - reads > 0)
			inline_files++;
		if (strcmp(files[i], "unw") == 0)
			assert_all_unwritten(&km, ki);
	}
	/* directories are never iomap files */
	{
		int err;
		struct km_inode *d = km_lookup(&km, "sub", &err);

		assert_int_equal(err, 0);
		assert_false(d->iomap);
	}
	assert_int_equal(km.st.begin_errors, 0);
	assert_true(km.st.upserts > 0);
	km_stop(&km);
	/* only the inline file's flows read through READ (fh 0) */
	assert_int_equal(inline_files, expect_inline ? 1 : 0);
	tu_close(fs);
}

static char *matrix_image(const char *name, const char *args, bool unwritten)
{
	char *img = tu_mkfs(name, args, source_tree(), "32M");

	if (unwritten)
		add_unwritten(img);
	return img;
}

/* A matrix image made and compared whole. */
static void matrix(const char *name, const char *args, bool unwritten)
{
	char *img = matrix_image(name, args, unwritten);

	compare_image(img, 0, unwritten, false);
	free(img);
}

static void test_matrix_extents(void **state)
{
	(void)state;
	matrix("ext.img", "-b 4096", true);
}

static void test_matrix_blockmap(void **state)
{
	(void)state;
	matrix("bmap.img", "-b 4096 -O ^extents,^64bit", false);
}

static void test_matrix_1k(void **state)
{
	(void)state;
	matrix("1k.img", "-b 1024", true);
}

static void test_matrix_bigalloc(void **state)
{
	(void)state;
	matrix("bigalloc.img", "-b 4096 -O bigalloc -C 16384", true);
}

static void test_matrix_inline(void **state)
{
	(void)state;
	char *img = matrix_image("inline.img", "-b 4096 -O inline_data -I 256",
				 false);
	struct e4_fs *fs;
	struct kmodel km;
	struct km_inode *ki;
	struct km_extent ext[2];
	uint8_t buf[200], classic[200];
	int err;

	compare_image(img, 0, false, true);

	/* the small file's data is in its inode: BEGIN says INLINE, the
	 * bytes come by READ with fh 0 (§10.9), fiemap says inline */
	assert_int_equal(tu_open(img, &fs), 0);
	km_start(&km, fs, img, true);
	ki = km_lookup(&km, "tiny", &err);
	assert_non_null(ki);
	assert_int_equal(km_fiemap(&km, ki, ext, 2), 1);
	assert_true(ext[0].inline_data);
	assert_int_equal(km.st.inline_reads, 0);	/* reports read nothing */
	assert_int_equal(km_read_buffered(&km, ki, 0, buf, sizeof(buf)), 100);
	assert_int_equal(km.st.inline_reads, 1);
	assert_int_equal(km_read_classic(&km, ki, 0, classic,
					 sizeof(classic)), 100);
	assert_memory_equal(buf, classic, 100);
	km_stop(&km);
	tu_close(fs);
	free(img);
}

/* The file system 1 MiB into its image (a partition): every device
 * address has the offset added. */
static void test_matrix_partition(void **state)
{
	(void)state;
	char *fsimg = matrix_image("part-fs.img", "-b 4096", true);
	char *disk = NULL;

	assert_true(asprintf(&disk, "%s/disk.img", tu_tmpdir()) > 0);
	tu_sh("rm -f '%s' && truncate -s 40M '%s' && "
	      "dd if='%s' of='%s' bs=1M seek=1 conv=notrunc,sparse "
	      "status=none", disk, disk, fsimg, disk);
	compare_image(disk, 1u << 20, true, false);
	free(disk);
	free(fsimg);
}

/* ---- request counts ------------------------------------------------------------------- */

/* The runs e4_map_range gives for @ino within its size: what one BEGIN
 * each should cost. */
static unsigned count_runs(struct e4_fs *fs, uint32_t ino)
{
	struct e4_inode in;
	unsigned n = 0;

	assert_int_equal(e4_inode_read(fs, ino, &in), 0);
	for (uint64_t off = 0; off < in.size; n++) {
		struct e4_range rg;

		assert_int_equal(e4_map_range(fs, &in, off, in.size - off,
					      &rg), 0);
		off += rg.length;
	}
	return n;
}

static void test_request_counts(void **state)
{
	(void)state;
	char *img = matrix_image("counts.img", "-b 4096", false);
	struct e4_fs *fs;
	struct e4_inode inode;
	struct kmodel km;
	struct km_inode *sparse, *big;
	size_t size;
	uint8_t *buf;
	unsigned runs, before;
	int err;

	assert_int_equal(tu_open(img, &fs), 0);
	km_start(&km, fs, img, true);
	sparse = km_lookup(&km, "sparse", &err);
	big = km_lookup(&km, "big", &err);
	assert_true(sparse && big);
	size = (size_t)sparse->size;
	buf = malloc(size);
	assert_non_null(buf);

	/* one BEGIN per run (data and holes), each as long as it goes */
	runs = count_runs(fs, (uint32_t)sparse->attr_ino);
	assert_true(runs >= 2 * SPARSE_ISLANDS - 1 &&
		    runs <= 2 * SPARSE_ISLANDS + 1);
	assert_int_equal(km_read_buffered(&km, sparse, 0, buf, size),
			 (ssize_t)size);
	assert_int_equal(km.st.begins, runs);
	assert_int_equal(km.st.upserts, runs);
	assert_int_equal(km.st.inline_reads, 0);	/* no data crossed */

	/* the big contiguous file: as many BEGINs as it has extents */
	before = km.st.begins;
	runs = count_runs(fs, (uint32_t)big->attr_ino);
	assert_true(runs <= 2);
	free(buf);
	buf = malloc((size_t)big->size);
	assert_non_null(buf);
	assert_int_equal(km_read_buffered(&km, big, 0, buf, (size_t)big->size),
			 (ssize_t)big->size);
	assert_int_equal(km.st.begins - before, runs);

	/* rereads, buffered, direct and reports: no upcall at all */
	before = km.st.begins;
	assert_int_equal(km_read_buffered(&km, big, 0, buf, (size_t)big->size),
			 (ssize_t)big->size);
	assert_int_equal(km_read_direct(&km, big, 0, buf, (size_t)big->size),
			 (ssize_t)big->size);
	free(buf);
	buf = malloc(size);
	assert_non_null(buf);
	assert_int_equal(km_read_buffered(&km, sparse, 0, buf, size),
			 (ssize_t)size);
	assert_int_equal(km_seek(&km, sparse, 1, false), (int64_t)ISLAND);
	assert_int_equal(km.st.begins, before);

	/* a mapping change drops the kernel's copy: the next read asks */
	assert_int_equal(e4_inode_read(fs, (uint32_t)sparse->attr_ino,
				       &inode), 0);
	e4f_iomap_inval(&km.s, &inode, 3 * ISLAND + 1, ISLAND);
	km_poll_notifications(&km);
	assert_int_equal(km.st.invals, 1);
	before = km.st.begins;
	assert_int_equal(km_read_buffered(&km, sparse, 0, buf, size),
			 (ssize_t)size);
	/* [3 islands + 1, +1 island) rounded out to blocks: the end of a
	 * hole and the start of an island */
	assert_int_equal(km.st.begins - before, 2);
	e4f_iomap_inval(&km.s, &inode, 0, E4F_IOMAP_INVAL_TO_EOF);
	km_poll_notifications(&km);
	before = km.st.begins;
	assert_int_equal(km_read_buffered(&km, sparse, 0, buf, size),
			 (ssize_t)size);
	assert_int_equal(km.st.begins - before,
			 count_runs(fs, (uint32_t)sparse->attr_ino));
	free(buf);
	km_stop(&km);
	tu_close(fs);
	free(img);
}

/* ---- hostile images ---------------------------------------------------------------------- */

/* /odd's first block moved to @pblk (its first extent in i_block, or
 * its first direct pointer on a block-mapped image): its read must be
 * refused, never mapped there. */
static void hostile_extent(const char *base, uint64_t pblk, enum e4_rule rule)
{
	char *img = tu_copy(base, "hostile.img");
	uint32_t ino = tu_ino_of(img, "/odd");
	uint64_t at = tu_inode_offset(img, ino);
	bool extents = tu_peek_le32(img, at + 32) & 0x80000u;
	struct e4_fs *fs;
	struct kmodel km;
	struct km_inode *ki;
	uint8_t buf[8192];
	int err;

	/* i_block: the 12-byte header, then ee_block, ee_len, start_hi,
	 * start_lo; or the 12 direct pointers */
	if (extents) {
		tu_patch_le16(img, at + 40 + 12 + 6, (uint16_t)(pblk >> 32));
		tu_patch_le32(img, at + 40 + 12 + 8, (uint32_t)pblk);
	} else {
		tu_patch_le32(img, at + 40, (uint32_t)pblk);
	}
	tu_fix_inode_csum(img, ino);
	assert_int_equal(tu_open(img, &fs), 0);
	tu_log_clear();
	km_start(&km, fs, img, true);
	ki = km_lookup(&km, "odd", &err);
	assert_non_null(ki);
	assert_true(ki->iomap);
	assert_int_equal(km_read_buffered(&km, ki, 0, buf, sizeof(buf)),
			 -EUCLEAN);
	assert_int_equal(km_read_direct(&km, ki, 0, buf, sizeof(buf)),
			 -EUCLEAN);
	assert_int_equal(km_fiemap(&km, ki, NULL, 0), -EUCLEAN);
	assert_int_equal(km.st.upserts, 0);	/* nothing cached either */
	tu_assert_rule(rule, e4_obj_extent(ino, 0));
	km_stop(&km);
	tu_close(fs);
	free(img);
}

static void test_hostile_extents(void **state)
{
	(void)state;
	char *img = matrix_image("hostile-base.img", "-b 4096", false);
	uint32_t bs = tu_block_size(img);
	uint64_t itable = tu_inode_offset(img, 2) / bs;
	uint64_t journal = tu_bmap(img, "<8>", 3);
	uint32_t blocks = tu_peek_le32(img, 1024 + 4);

	hostile_extent(img, itable, E4_RULE_DATA_ZONE);	/* inode table */
	hostile_extent(img, journal, E4_RULE_DATA_ZONE);	/* the journal */
	hostile_extent(img, 1, E4_RULE_DATA_ZONE);	/* descriptors */
	hostile_extent(img, blocks + 5ull, E4_RULE_EX6);	/* outside */
	free(img);

	/* block maps: the inode table through a direct pointer */
	img = matrix_image("hostile-bmap.img", "-b 4096 -O ^extents,^64bit",
			   false);
	hostile_extent(img, tu_inode_offset(img, 2) / bs, E4_RULE_DATA_ZONE);
	free(img);
}

/* ---- negotiation and fallback ------------------------------------------------------------- */

static void test_fallback(void **state)
{
	(void)state;
	char *img = matrix_image("fallback.img", "-b 4096", false);
	struct e4_fs *fs;
	struct kmodel km;
	struct km_inode *ki;
	uint8_t buf[4096];
	int err, fd;

	/* a kernel that does not offer it: the classic path, 7.39 */
	assert_int_equal(tu_open(img, &fs), 0);
	km_start(&km, fs, img, false);
	assert_false(km.iomap);
	ki = km_lookup(&km, "odd", &err);
	assert_false(ki->iomap);
	assert_int_equal(km_read_classic(&km, ki, 0, buf, sizeof(buf)),
			 (ssize_t)sizeof(buf));
	km_stop(&km);
	tu_close(fs);

	/* a writable mount: iomap, for extent-mapped files */
	fs = tu_open_rw(img);
	km_start(&km, fs, img, true);
	assert_true(km.iomap);
	ki = km_lookup(&km, "odd", &err);
	assert_true(ki->iomap);
	km_stop(&km);
	tu_close_rw(fs);
	free(img);

	/* ... but not for block-mapped ones: their holes cannot become
	 * unwritten blocks, so the kernel writes them through WRITE */
	img = matrix_image("fallback-bmap.img", "-b 4096 -O ^extents,^64bit",
			   false);
	fs = tu_open_rw(img);
	km_start(&km, fs, img, true);
	assert_true(km.iomap);
	ki = km_lookup(&km, "odd", &err);
	assert_false(ki->iomap);
	km_stop(&km);
	tu_close_rw(fs);

	/* no kernel here has it: the ioctl says so (ENOTTY), and e4fuse's
	 * main then sets no device up */
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		bool loop = true;
		int image = open(img, O_RDONLY | O_CLOEXEC);

		assert_false(e4f_iomap_kernel_supports(fd));
		close(fd);
		assert_true(image >= 0);
		assert_int_equal(e4f_iomap_prepare_device(image, false, &loop), -1);
		assert_false(loop);
		close(image);
	}
	free(img);
}

/* On a read-only mount: END with nothing to give back succeeds, IOEND
 * for another inode is refused; freeze is ENOSYS, which the kernel
 * remembers (it then fails EOPNOTSUPP, §14); BEGIN for a write: EROFS;
 * BEGIN for a file that was not given the flags: refused. */
static void test_other_opcodes(void **state)
{
	(void)state;
	char *img = matrix_image("opcodes.img", "-b 4096", false);
	struct e4_fs *fs;
	struct kmodel km;
	struct km_inode *ki, *dir;
	uint8_t in[72] = { 0 }, out[64];
	struct e4f_iomap_begin_in b = { .pos = 0, .count = 4096 };
	int err;

	assert_int_equal(tu_open(img, &fs), 0);
	km_start(&km, fs, img, true);
	ki = km_lookup(&km, "odd", &err);
	dir = km_lookup(&km, "sub", &err);
	assert_true(ki && dir);
	assert_int_equal(km_call(&km, E4F_OP_IOMAP_END, ki->nodeid, in,
				 sizeof(struct e4f_iomap_end_in), out,
				 sizeof(out)), 0);
	assert_int_equal(km_call(&km, E4F_OP_IOMAP_IOEND, ki->nodeid, in,
				 sizeof(struct e4f_iomap_ioend_in), out,
				 sizeof(out)), -EINVAL);
	assert_int_equal(km_call(&km, E4F_OP_FREEZE_FS, 1, in, 8, out,
				 sizeof(out)), -ENOSYS);
	b.attr_ino = ki->attr_ino;
	b.opflags = E4F_IOMAP_OP_WRITE;
	assert_int_equal(km_call(&km, E4F_OP_IOMAP_BEGIN, ki->nodeid, &b,
				 sizeof(b), out, sizeof(out)), -EROFS);
	b.opflags = 0;
	b.attr_ino = ki->attr_ino + 1;		/* not the inode's */
	assert_int_equal(km_call(&km, E4F_OP_IOMAP_BEGIN, ki->nodeid, &b,
				 sizeof(b), out, sizeof(out)), -EINVAL);
	b.attr_ino = dir->attr_ino;
	assert_int_equal(km_call(&km, E4F_OP_IOMAP_BEGIN, dir->nodeid, &b,
				 sizeof(b), out, sizeof(out)), -EOPNOTSUPP);
	km_stop(&km);
	tu_close(fs);
	free(img);
}

/* A journal replayed in memory: the device holds stale copies of blocks
 * the kernel would read, so the whole mount stays classic. */
static void test_fallback_replay(void **state)
{
	(void)state;
	char *img = matrix_image("replay.img", "-b 4096", false);
	char *blk = strdup(tu_msg("%s/jblock", tu_tmpdir()));
	uint64_t target = tu_bmap(img, "/big", 5);
	struct e4_fs *fs;
	struct kmodel km;
	struct km_inode *ki;
	int err;

	/* a committed transaction, not checkpointed: /big's block 5 anew */
	write_pattern(blk, 0, 4096, 99);
	tu_debugfs(img, tu_msg("jo\njw -b %llu %s\njc",
			       (unsigned long long)target, blk));
	free(blk);
	assert_int_equal(tu_open(img, &fs), 0);
	assert_int_equal(e4_fs_replayed_blocks(fs), 1);
	km_start(&km, fs, img, true);
	assert_false(km.iomap);
	ki = km_lookup(&km, "big", &err);
	assert_false(ki->iomap);
	km_stop(&km);
	tu_close(fs);
	free(img);
}

/* The model's checks have teeth: replies the kernel rejects (§8.2). */
static void test_model_checks(void **state)
{
	(void)state;
	struct kmodel km;
	struct km_inode ki = { .size = 8192, .iomap = true };
	struct e4f_iomap_begin_out good = {
		.read = { 0, 8192, 1u << 20, E4F_IOMAP_TYPE_MAPPED, 0, 1 },
		.write = { 0, 8192, E4F_IOMAP_NULL_ADDR,
			   E4F_IOMAP_TYPE_PURE_OVERWRITE, 0, 0 },
	}, bad;

	memset(&km, 0, sizeof(km));
	km.blksize = 4096;
	km.maxbytes = INT64_MAX;
	km.dev_id = 1;
	assert_int_equal(km_check_begin(&km, &ki, 0, 4096, &good), 0);
	bad = good;
	memset(&bad.write, 0, sizeof(bad.write));	/* all-zero write */
	assert_int_equal(km_check_begin(&km, &ki, 0, 0, &bad),
			 -KM_EFSCORRUPTED);
	bad = good;
	bad.read.offset = 512;				/* misaligned */
	assert_int_equal(km_check_begin(&km, &ki, 0, 4096, &bad),
			 -KM_EFSCORRUPTED);
	bad = good;
	bad.read.dev = 0;				/* no device */
	assert_int_equal(km_check_begin(&km, &ki, 0, 0, &bad),
			 -KM_EFSCORRUPTED);
	bad = good;
	bad.read.dev = 2;				/* unregistered */
	assert_int_equal(km_check_begin(&km, &ki, 0, 0, &bad),
			 -KM_EFSCORRUPTED);
	bad = good;
	bad.read.type = E4F_IOMAP_TYPE_PURE_OVERWRITE;	/* read half */
	assert_int_equal(km_check_begin(&km, &ki, 0, 0, &bad),
			 -KM_EFSCORRUPTED);
	assert_int_equal(km_check_begin(&km, &ki, 0, 8192, &good),
			 -KM_EFSCORRUPTED);		/* pos not in it */
	bad = good;
	bad.read.type = E4F_IOMAP_TYPE_RETRY_CACHE;	/* no cache yet */
	assert_int_equal(km_check_begin(&km, &ki, 0, 0, &bad),
			 -KM_EFSCORRUPTED);
	bad = good;
	bad.read.flags = 0x100;				/* SIZE_CHANGED */
	assert_int_equal(km_check_begin(&km, &ki, 0, 0, &bad),
			 -KM_EFSCORRUPTED);
	bad = good;
	bad.read.type = E4F_IOMAP_TYPE_INLINE;		/* needs null dev */
	assert_int_equal(km_check_begin(&km, &ki, 0, 0, &bad),
			 -KM_EFSCORRUPTED);
}

/* ---- the loop device, for real ------------------------------------------------------------ */

static char *sysfs_read(const char *path)
{
	char *s = tu_sh_out("cat '%s' 2>/dev/null; true", path);
	size_t n = strlen(s);

	while (n && s[n - 1] == '\n')
		s[--n] = 0;
	return s;
}

/* A loop device over @img (opened @writable into *@fd), or false when
 * the machine has none to give (the test is then skipped). */
static bool loop_or_skip(const char *img, bool writable, int *fd, int *lfd,
			 char *path, size_t path_size)
{
	int err;

	if (geteuid() != 0 || access("/dev/loop-control", R_OK | W_OK)) {
		tu_note_skip("no loop devices (root and /dev/loop-control)");
		return false;
	}
	*fd = open(img, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	assert_true(*fd >= 0);
	err = e4f_loop_attach(*fd, writable, lfd, path, path_size);
	if (err == -ENXIO || err == -ENOENT) {
		close(*fd);
		tu_note_skip("no free loop device");
		return false;
	}
	assert_int_equal(err, 0);
	return true;
}

static void test_loop_device(void **state)
{
	(void)state;
	char *img = matrix_image("loop.img", "-b 4096", false);
	char path[64], sys[128], *s;
	uint8_t a[65536], b[65536];
	int fd, lfd = -1;
	struct stat st;

	if (!loop_or_skip(img, false, &fd, &lfd, path, sizeof(path))) {
		free(img);
		skip();
		return;
	}
	assert_int_equal(fstat(lfd, &st), 0);
	assert_true(S_ISBLK(st.st_mode));
	/* the device is the image */
	assert_int_equal(pread(lfd, a, sizeof(a), 1024), (ssize_t)sizeof(a));
	assert_int_equal(pread(fd, b, sizeof(b), 1024), (ssize_t)sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
	snprintf(sys, sizeof(sys), "/sys/block/%s", path + 5);
	s = sysfs_read(tu_msg("%s/ro", sys));
	assert_string_equal(s, "1");
	free(s);
	s = sysfs_read(tu_msg("%s/loop/autoclear", sys));
	assert_string_equal(s, "1");
	free(s);
	s = sysfs_read(tu_msg("%s/loop/backing_file", sys));
	assert_string_equal(s, img);
	free(s);
	s = sysfs_read(tu_msg("%s/loop/dio", sys));
	/* direct I/O where the image's file system can do it */
	if (strcmp(s, "1") != 0)
		print_message("note: %s: direct I/O refused by the backing "
			      "file system\n", path);
	free(s);
	close(fd);	/* the loop device keeps its own reference */

	assert_int_equal(e4f_loop_detach(lfd), 0);
	/* released: no backing file any more (autoclear may finish after
	 * the last close) */
	for (int i = 0; i < 200; i++) {
		s = sysfs_read(tu_msg("%s/loop/backing_file", sys));
		bool gone = s[0] == 0;

		free(s);
		if (gone) {
			free(img);
			return;
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	fail_msg("%s still attached after detach", path);
}

/* A writable mount's loop device: writable, and what goes through it
 * (as the kernel's iomap writes would) reaches the image. */
static void test_loop_device_writable(void **state)
{
	(void)state;
	char *img = matrix_image("loop-rw.img", "-b 4096", false);
	char path[64], *s;
	uint8_t a[4096], b[4096];
	off_t at = (32 << 20) - 4096;	/* the last block: free */
	int fd, lfd = -1;

	if (!loop_or_skip(img, true, &fd, &lfd, path, sizeof(path))) {
		free(img);
		skip();
		return;
	}
	s = sysfs_read(tu_msg("/sys/block/%s/ro", path + 5));
	assert_string_equal(s, "0");
	free(s);
	memset(a, 0x5a, sizeof(a));
	assert_int_equal(pwrite(lfd, a, sizeof(a), at), (ssize_t)sizeof(a));
	assert_int_equal(fsync(lfd), 0);
	assert_int_equal(pread(fd, b, sizeof(b), at), (ssize_t)sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(e4f_loop_detach(lfd), 0);
	close(fd);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_checks),
		cmocka_unit_test(test_matrix_extents),
		cmocka_unit_test(test_matrix_blockmap),
		cmocka_unit_test(test_matrix_1k),
		cmocka_unit_test(test_matrix_bigalloc),
		cmocka_unit_test(test_matrix_inline),
		cmocka_unit_test(test_matrix_partition),
		cmocka_unit_test(test_request_counts),
		cmocka_unit_test(test_hostile_extents),
		cmocka_unit_test(test_other_opcodes),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_fallback_replay),
		cmocka_unit_test(test_loop_device),
		cmocka_unit_test(test_loop_device_writable),
	};

	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}

/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the cmocka unit tests: make real images with Debian's
 * e2fsprogs, break them byte by byte, open them with a log sink the test can
 * inspect.  Every failure here fails the test (cmocka's fail_msg).
 *
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h> and <cmocka.h>.
 */
#ifndef E4_TESTUTIL_H
#define E4_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "e4/e4.h"

struct e4_buf_ops;
struct e4_owner;
struct e4_fs;

/* A fresh scratch directory for this test program (removed at exit unless
 * E4_KEEP_TMP is set).  Returns a path valid for the whole run. */
const char *tu_tmpdir(void);

/* Run a shell command built from @fmt; fail the test unless it exits 0. */
void tu_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a command and return its stdout (malloc'd, NUL-terminated). */
char *tu_sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Make an image file named @name in the scratch dir with
 * `mkfs.ext4 -q -F <mkfs_args> [-d <src>] <img> <size>`; @src may be NULL.
 * Returns the image path (static storage per call: copy it if needed...
 * it is malloc'd; free it or let it leak at exit).
 */
char *tu_mkfs(const char *name, const char *mkfs_args, const char *src,
	      const char *size);

/* Copy an image (before breaking it). Returns the new path (malloc'd). */
char *tu_copy(const char *img, const char *name);

/* The whole of a file, malloc'd (the caller frees it). */
char *tu_slurp(const char *path, size_t *size);

/* @iovcnt pieces one after the other into @dst (asserted to fit its
 * @size bytes); returns their length (a FUSE sink capturing a reply). */
size_t tu_gather(void *dst, size_t size, const struct iovec *iov,
		 int iovcnt);

/* Overwrite bytes of an image file. */
void tu_patch(const char *img, uint64_t off, const void *bytes, size_t n);
void tu_patch_le16(const char *img, uint64_t off, uint16_t v);
void tu_patch_le32(const char *img, uint64_t off, uint32_t v);
void tu_patch_u8(const char *img, uint64_t off, uint8_t v);
/* Read bytes of an image file. */
void tu_peek(const char *img, uint64_t off, void *bytes, size_t n);
uint32_t tu_peek_le32(const char *img, uint64_t off);
uint16_t tu_peek_le16(const char *img, uint64_t off);

/* Run debugfs -w on img with <cmd>'s lines as its commands, all in one
 * open (fails the test on error). */
void tu_debugfs(const char *img, const char *cmd);
/* Run `debugfs -R '<cmd>' img` and return its output (malloc'd). */
char *tu_debugfs_out(const char *img, const char *cmd);

/* Inode number of @path inside the image (via debugfs). */
uint32_t tu_ino_of(const char *img, const char *path);
/* Byte offset of inode @ino's record in the image (via debugfs imap). */
uint64_t tu_inode_offset(const char *img, uint32_t ino);
/* Physical block of logical block @lblk of @path (via debugfs bmap). */
uint64_t tu_bmap(const char *img, const char *path, uint64_t lblk);
/* Block size of the image. */
uint32_t tu_block_size(const char *img);

/*
 * Recompute checksums after a raw patch, so a test can break a structure
 * without tripping its checksum first: each runs the verifier row's own
 * checksum setter (ondisk/verify.h) on the block and writes it back.  No-ops
 * without metadata_csum (the setters do nothing then).
 */
void tu_fix_inode_csum(const char *img, uint32_t ino);
void tu_fix_sb_csum(const char *img);
void tu_fix_xattr_block_csum(const char *img, uint64_t blk);
/* Row @ops's setter on block @blk of @img, for @owner. */
void tu_fix_block_csum(const char *img, uint64_t blk,
		       const struct e4_buf_ops *ops,
		       const struct e4_owner *owner);
/* The same for a block of inode @ino at position @pos (the owner's
 * generation read from the raw inode). */
void tu_fix_owned_csum(const char *img, uint64_t blk,
		       const struct e4_buf_ops *ops, uint32_t ino, uint64_t pos);
/* The file system the setters see: what they use (block and inode sizes,
 * features, the checksum seed) decoded from @img's raw superblock, without
 * the validation an open does.  Nothing else in *@fs is set. */
void tu_csum_fs(const char *img, struct e4_fs *fs);

/* The log sink tu_open uses, for library calls that take a log callback
 * themselves: what it records is in tu_log(). */
void tu_log_record(void *ctx, enum e4_log_level level, const char *msg);

/* Open an image file with a log sink that records every message. */
int tu_open(const char *img, struct e4_fs **out);
/* Open @img read-write and begin writing (every step must succeed); and
 * end writing and close it. */
struct e4_fs *tu_open_rw(const char *img);
void tu_close_rw(struct e4_fs *fs);
/* e2fsck -fn must find nothing to fix in @img (its output shown if so). */
void tu_fsck_clean(const char *img);
/* The same for an image open for writing, committed: its superblock free
 * counts are not checked (they are brought up to date at unmount). */
void tu_fsck_clean_live(const char *img);
/* Open with explicit options (log fields are overridden by the recorder). */
int tu_open_opts(const char *img, struct e4_open_opts *opts,
		 struct e4_fs **out);
/* The same on a device already open (a memory device); on failure the
 * device is still the caller's. */
int tu_open_dev(struct e4_dev *dev, struct e4_open_opts *opts,
		struct e4_fs **out);
void tu_close(struct e4_fs *fs);

/* printf into a static buffer (valid until the next call): expected log
 * lines built from inode and block numbers. */
const char *tu_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The recorded log since the last tu_log_clear(). */
const char *tu_log(void);
void tu_log_clear(void);
/* Fail the test unless the log contains @needle: for messages whose
 * wording is the point (refusals, information).  A broken rule is asserted
 * with tu_assert_rule. */
void tu_assert_log(const char *needle);
/* Fail the test unless a report of @rule about @obj (any object:
 * tu_assert_rule_any) was recorded since the last tu_log_clear():
 * tu_assert_rule(E4_RULE_EX1, e4_obj_extent(ino, 0)). */
void tu_assert_rule(enum e4_rule rule, struct e4_object obj);
/* How often @rule was reported about @obj since the last tu_log_clear(). */
size_t tu_rule_reports(enum e4_rule rule, struct e4_object obj);
void tu_assert_rule_any(enum e4_rule rule);

/*
 * Skip the running test because the machine lacks what it needs (@why:
 * "no loop mounts").  A program that skipped a test ends with exit status
 * 77 through tu_result(), so make check and run-tests.sh see the skip
 * instead of a PASS that hides it.
 */
#define tu_skip(why)                  \
	do {                          \
		tu_note_skip(why);    \
		skip();               \
	} while (0)
void tu_note_skip(const char *why);
/* Whether this machine loop-mounts an ext4 image (probed once). */
bool tu_can_loop_mount(void);
/* Run shell @checks with $m the kernel's read-only loop mount of @img; the
 * test fails if they do.  Noted as skipped without loop mounts. */
void tu_kernel_expect(const char *img, const char *checks);
/* main's status: return tu_result(cmocka_run_group_tests(...)); */
int tu_result(int failed);

#endif /* E4_TESTUTIL_H */

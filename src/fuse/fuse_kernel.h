/* SPDX-License-Identifier: MIT */
/*
 * The FUSE kernel protocol: the system's <linux/fuse.h>, plus the few
 * definitions newer than the installed header that e4fuse speaks.  Layouts
 * added here are the kernel's UAPI (x86_64 natural alignment, every struct a
 * multiple of 8 bytes) and are checked with static asserts below.
 */
#ifndef E4F_FUSE_KERNEL_H
#define E4F_FUSE_KERNEL_H

#include <stdint.h>
#include <linux/fuse.h>

/*
 * The protocol minor version e4fuse answers INIT with (at most; the kernel's
 * own minor if lower).  7.39 adds FUSE_STATX, which this file defines when
 * the installed header is older.  The iomap extension will need 99.
 */
#define E4F_PROTO_MINOR 39u
/* Oldest kernel protocol accepted: 7.23 has the 64-byte fuse_init_out, and
 * every request layout used here has its final size. */
#define E4F_PROTO_MINOR_MIN 23u

#if FUSE_KERNEL_MINOR_VERSION < 39
#define FUSE_STATX 52

struct fuse_sx_time {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t __reserved;
};

struct fuse_statx {
	uint32_t mask;
	uint32_t blksize;
	uint64_t attributes;
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint16_t mode;
	uint16_t __spare0[1];
	uint64_t ino;
	uint64_t size;
	uint64_t blocks;
	uint64_t attributes_mask;
	struct fuse_sx_time atime;
	struct fuse_sx_time btime;
	struct fuse_sx_time ctime;
	struct fuse_sx_time mtime;
	uint32_t rdev_major;
	uint32_t rdev_minor;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint64_t __spare2[14];
};

struct fuse_statx_in {
	uint32_t getattr_flags;
	uint32_t reserved;
	uint64_t fh;
	uint32_t sx_flags;
	uint32_t sx_mask;
};

struct fuse_statx_out {
	uint64_t attr_valid;
	uint32_t attr_valid_nsec;
	uint32_t flags;
	uint64_t spare[2];
	struct fuse_statx stat;
};
#endif

#ifndef FUSE_COPY_FILE_RANGE_64
#define FUSE_COPY_FILE_RANGE_64 53
#endif

_Static_assert(sizeof(struct fuse_in_header) == 40, "fuse_in_header");
_Static_assert(sizeof(struct fuse_out_header) == 16, "fuse_out_header");
_Static_assert(sizeof(struct fuse_attr) == 88, "fuse_attr");
_Static_assert(sizeof(struct fuse_entry_out) == 128, "fuse_entry_out");
_Static_assert(sizeof(struct fuse_attr_out) == 104, "fuse_attr_out");
_Static_assert(sizeof(struct fuse_init_out) == 64, "fuse_init_out");
_Static_assert(sizeof(struct fuse_statx) == 256, "fuse_statx");
_Static_assert(sizeof(struct fuse_statx_in) == 24, "fuse_statx_in");
_Static_assert(sizeof(struct fuse_statx_out) == 288, "fuse_statx_out");

#endif /* E4F_FUSE_KERNEL_H */

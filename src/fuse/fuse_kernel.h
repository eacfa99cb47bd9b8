/* SPDX-License-Identifier: MIT */
/*
 * The FUSE kernel protocol: the system's <linux/fuse.h>, plus the few
 * definitions newer than the installed header that e4fuse speaks.  Layouts
 * added here are the kernel's UAPI (x86_64 natural alignment, every struct a
 * multiple of 8 bytes) and are checked with static asserts below.
 */
#ifndef E4F_FUSE_KERNEL_H
#define E4F_FUSE_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include <linux/fuse.h>

/*
 * The protocol minor version e4fuse answers INIT with (at most; the kernel's
 * own minor if lower): 7.45, Linux 6.18's.  What each minor from 7.40 on
 * added, and what e4fuse does with it (/work/shared/spec/fuse-io-uring.md
 * section 13; docs/architecture.md lists the same):
 *
 *   7.40 FUSE_PASSTHROUGH          declined: file data is in an image, not
 *                                  in backing files the kernel could open
 *        FUSE_NO_EXPORT_SUPPORT    not asked: the kernel's default (no
 *                                  FUSE_EXPORT_SUPPORT) stays as it was
 *        FUSE_HAS_RESEND           information only; e4fuse never sends
 *                                  FUSE_NOTIFY_RESEND, so no request comes
 *                                  with FUSE_UNIQUE_RESEND (the engine
 *                                  echoes any unique anyway)
 *        fuse_open_out.backing_id  zero (no passthrough)
 *   7.41 FUSE_ALLOW_IDMAP          declined: the handlers' use of the
 *                                  caller's ids with FUSE_INVALID_UIDGID
 *                                  is not audited nor tested yet
 *   7.42 FUSE_OVER_IO_URING        the io_uring transport (uring.c)
 *   7.43 FUSE_REQUEST_TIMEOUT      declined: a timeout aborts the whole
 *                                  connection; the administrator's sysctl
 *                                  (fs.fuse.default_request_timeout)
 *                                  still applies; request_timeout is 0
 *   7.44 FUSE_NOTIFY_INC_EPOCH     not sent: nothing changes the image
 *                                  behind the kernel's back
 *   7.45 FUSE_COPY_FILE_RANGE_64   served (ops_write.c), as the kernel
 *                                  sends it whatever the minor
 *        FUSE_NOTIFY_PRUNE         not sent: the node table does not
 *                                  shed nodes the kernel still caches
 *   (no minor) FUSE_DEV_IOC_SYNC_INIT  not used: INIT is answered by the
 *                                  workers while mount(2) has returned
 *
 * A kernel with an older minor gets its own (it never offers what it does
 * not know).  The iomap extension will need 99.
 */
#define E4F_PROTO_MINOR 45u
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

/* ---- 7.40 to 7.45 flags (flags2 bits as 64-bit INIT flags) ---------------- */
#if FUSE_KERNEL_MINOR_VERSION < 40
#define FUSE_PASSTHROUGH (1ULL << 37)
#define FUSE_NO_EXPORT_SUPPORT (1ULL << 38)
#define FUSE_HAS_RESEND (1ULL << 39)
#define FUSE_NOTIFY_RESEND 7
#endif
#if FUSE_KERNEL_MINOR_VERSION < 41
#define FUSE_ALLOW_IDMAP (1ULL << 40)
#endif
#if FUSE_KERNEL_MINOR_VERSION < 42
#define FUSE_OVER_IO_URING (1ULL << 41)
#endif
#if FUSE_KERNEL_MINOR_VERSION < 43
#define FUSE_REQUEST_TIMEOUT (1ULL << 42)
#endif

/* ---- FUSE over io_uring (7.42): the ring entry layout -------------------- */
#if FUSE_KERNEL_MINOR_VERSION < 42
#define FUSE_URING_IN_OUT_HEADER_SZ 128
#define FUSE_URING_OP_IN_OUT_SZ 128

/* Per-request control data, at offset 256 of an entry's header buffer. */
struct fuse_uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id;	/* to echo in COMMIT_AND_FETCH */
	uint32_t payload_sz;	/* request: bytes in the payload buffer;
				 * reply: bytes of reply payload */
	uint32_t padding;
	uint64_t reserved;
};

/* An entry's header buffer (iov[0] of REGISTER). */
struct fuse_uring_req_header {
	char in_out[FUSE_URING_IN_OUT_HEADER_SZ];  /* in / out header */
	char op_in[FUSE_URING_OP_IN_OUT_SZ];	  /* the first argument */
	struct fuse_uring_ent_in_out ring_ent_in_out;
};

enum fuse_uring_cmd {
	FUSE_IO_URING_CMD_INVALID = 0,
	FUSE_IO_URING_CMD_REGISTER = 1,
	FUSE_IO_URING_CMD_COMMIT_AND_FETCH = 2,
};

/* The command area of a 128-byte SQE (offset 48). */
struct fuse_uring_cmd_req {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};
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
_Static_assert(sizeof(struct fuse_uring_ent_in_out) == 32,
	       "fuse_uring_ent_in_out");
_Static_assert(sizeof(struct fuse_uring_req_header) == 288,
	       "fuse_uring_req_header");
_Static_assert(offsetof(struct fuse_uring_req_header, ring_ent_in_out) == 256,
	       "fuse_uring_req_header.ring_ent_in_out");
_Static_assert(sizeof(struct fuse_uring_cmd_req) == 24, "fuse_uring_cmd_req");

#endif /* E4F_FUSE_KERNEL_H */

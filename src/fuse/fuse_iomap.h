/* SPDX-License-Identifier: MIT */
/*
 * The fuse-iomap wire protocol (shared/spec/fuse-iomap.md, the kernel
 * snapshot it describes: protocol 7.99).  No installed <linux/fuse.h> has
 * it, so every name here carries e4fuse's prefix: a later system header
 * with the kernel's names cannot collide.  Layouts are checked with static
 * asserts against the sizes and offsets of spec §3.
 */
#ifndef E4F_FUSE_IOMAP_H
#define E4F_FUSE_IOMAP_H

#include <stddef.h>
#include <stdint.h>
#include <linux/ioctl.h>

/* §2.1: the minor e4fuse answers INIT with when iomap is granted */
#define E4F_IOMAP_PROTO_MINOR 99u

/* §2.2: the INIT flag (flags2 bit 11) */
#define E4F_INIT_IOMAP (1ull << 43)

/* §2.3 opcodes, at the top of the 12-bit range */
#define E4F_OP_FREEZE_FS	4089u
#define E4F_OP_UNFREEZE_FS	4090u
#define E4F_OP_SHUTDOWN_FS	4091u
#define E4F_OP_IOMAP_CONFIG	4092u
#define E4F_OP_IOMAP_IOEND	4093u
#define E4F_OP_IOMAP_BEGIN	4094u
#define E4F_OP_IOMAP_END	4095u
#define E4F_OP_IOMAP_FIRST	E4F_OP_FREEZE_FS

/* §2.4 notification codes */
#define E4F_NOTIFY_IOMAP_DEV_INVAL	 99
#define E4F_NOTIFY_IOMAP_UPSERT_MAPPINGS 100
#define E4F_NOTIFY_IOMAP_INVAL_MAPPINGS	 101

/* §2.5 fuse_attr.flags */
#define E4F_ATTR_EXCLUSIVE	(1u << 2)
#define E4F_ATTR_IOMAP		(1u << 3)
#define E4F_ATTR_SYNC		(1u << 5)
#define E4F_ATTR_IMMUTABLE	(1u << 6)
#define E4F_ATTR_APPEND		(1u << 7)

/* §2.6 mapping types */
#define E4F_IOMAP_TYPE_HOLE		0
#define E4F_IOMAP_TYPE_DELALLOC		1
#define E4F_IOMAP_TYPE_MAPPED		2
#define E4F_IOMAP_TYPE_UNWRITTEN	3
#define E4F_IOMAP_TYPE_INLINE		4
#define E4F_IOMAP_TYPE_NOCACHE		253
#define E4F_IOMAP_TYPE_RETRY_CACHE	254
#define E4F_IOMAP_TYPE_PURE_OVERWRITE	255
#define E4F_IOMAP_DEV_NULL	0u
#define E4F_IOMAP_NULL_ADDR	UINT64_MAX
#define E4F_IOMAP_INVAL_TO_EOF	UINT64_MAX

/* §2.7 mapping flags: what a server may send */
#define E4F_IOMAP_F_NEW		(1u << 0)
/* kernel -> server only (IOMAP_END) */
#define E4F_IOMAP_F_SIZE_CHANGED (1u << 8)
#define E4F_IOMAP_F_STALE	(1u << 9)
#define E4F_IOMAP_F_SERVER_MASK	0x00FFu

/* §2.8 operation flags */
#define E4F_IOMAP_OP_WRITE	(1u << 0)
#define E4F_IOMAP_OP_ZERO	(1u << 1)
#define E4F_IOMAP_OP_REPORT	(1u << 2)
#define E4F_IOMAP_OP_FAULT	(1u << 3)
#define E4F_IOMAP_OP_DIRECT	(1u << 4)
#define E4F_IOMAP_OP_NOWAIT	(1u << 5)
#define E4F_IOMAP_OP_OVERWRITE_ONLY (1u << 6)
#define E4F_IOMAP_OP_UNSHARE	(1u << 7)
#define E4F_IOMAP_OP_ATOMIC	(1u << 9)
#define E4F_IOMAP_OP_SWAPFILE	(1u << 30)
#define E4F_IOMAP_OP_WRITEBACK	(1u << 31)
/* the kernel's notion of a file write (§2.8) */
#define E4F_IOMAP_OP_FILE_WRITE (E4F_IOMAP_OP_WRITE | E4F_IOMAP_OP_ZERO | \
				 E4F_IOMAP_OP_UNSHARE | E4F_IOMAP_OP_WRITEBACK)

/* §2.9 I/O-completion flags */
#define E4F_IOMAP_IOEND_SHARED		(1u << 0)
#define E4F_IOMAP_IOEND_UNWRITTEN	(1u << 1)
#define E4F_IOMAP_IOEND_DIRECT		(1u << 3)
#define E4F_IOMAP_IOEND_APPEND		(1u << 4)
#define E4F_IOMAP_IOEND_WRITEBACK	(1u << 5)
#define E4F_IOMAP_IOEND_SWAPOFF		(1u << 6)
/* §2.10 IOMAP_CONFIG field-valid flags */
#define E4F_IOMAP_CONFIG_SID		(1ull << 0)
#define E4F_IOMAP_CONFIG_UUID		(1ull << 1)
#define E4F_IOMAP_CONFIG_BLOCKSIZE	(1ull << 2)
#define E4F_IOMAP_CONFIG_MAX_LINKS	(1ull << 3)
#define E4F_IOMAP_CONFIG_TIME		(1ull << 4)
#define E4F_IOMAP_CONFIG_MAXBYTES	(1ull << 5)
#define E4F_IOMAP_CONFIG_CACHE_MAXBYTES	(1ull << 6)
#define E4F_IOMAP_CONFIG_ALL		0x7Full

/* §2.11, §2.12 */
#define E4F_IOMAP_SUPPORT_FILEIO	(1ull << 0)
#define E4F_BACKING_TYPE_IOMAP		1u

/* §3.1 one mapping record */
struct e4f_iomap_io {
	uint64_t offset;
	uint64_t length;
	uint64_t addr;
	uint16_t type;
	uint16_t flags;
	uint32_t dev;
};

/* §3.2, §3.3 */
struct e4f_iomap_begin_in {
	uint32_t opflags;
	uint32_t reserved;
	uint64_t attr_ino;
	uint64_t pos;
	uint64_t count;
};

struct e4f_iomap_begin_out {
	struct e4f_iomap_io read;
	struct e4f_iomap_io write;
};

/* §3.4 */
struct e4f_iomap_end_in {
	uint32_t opflags;
	uint32_t reserved;
	uint64_t attr_ino;
	uint64_t pos;
	uint64_t count;
	int64_t written;
	struct e4f_iomap_io map;
};

/* §3.5, §3.6 */
struct e4f_iomap_ioend_in {
	uint32_t flags;
	int32_t error;
	uint64_t attr_ino;
	uint64_t pos;
	uint64_t new_addr;
	uint64_t written;
	uint32_t dev;
	uint32_t pad;
};

struct e4f_iomap_ioend_out {
	uint64_t newsize;
};

/* §3.7, §3.8 */
struct e4f_iomap_config_in {
	uint64_t flags;
	int64_t maxbytes;
	uint32_t cache_maxbytes;
	uint32_t zero;
	uint64_t padding[5];
};

struct e4f_iomap_config_out {
	uint64_t flags;
	char s_id[32];
	uint8_t s_uuid[16];
	uint8_t s_uuid_len;
	uint8_t s_pad[3];
	uint32_t s_blocksize;
	uint32_t s_max_links;
	uint32_t s_time_gran;
	int64_t s_time_min;
	int64_t s_time_max;
	int64_t s_maxbytes;
	uint32_t cache_maxbytes;
};

/* §3.10 notification payloads */
struct e4f_fuse_range {
	uint64_t offset;
	uint64_t length;
};

struct e4f_iomap_dev_inval_out {
	uint32_t dev;
	uint32_t reserved;
	struct e4f_fuse_range range;
};

struct e4f_iomap_upsert_mappings_out {
	uint64_t nodeid;
	uint64_t attr_ino;
	struct e4f_iomap_io read;
	struct e4f_iomap_io write;
};

struct e4f_iomap_inval_mappings_out {
	uint64_t nodeid;
	uint64_t attr_ino;
	struct e4f_fuse_range read;
	struct e4f_fuse_range write;
};

/* §3.11 ioctl arguments, §5 numbers */
struct e4f_backing_map {
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};

struct e4f_iomap_support {
	uint64_t flags;
	uint64_t padding;
};

#define E4F_DEV_IOC_MAGIC 229
#define E4F_DEV_IOC_BACKING_OPEN \
	_IOW(E4F_DEV_IOC_MAGIC, 1, struct e4f_backing_map)
#define E4F_DEV_IOC_IOMAP_SUPPORT \
	_IOR(E4F_DEV_IOC_MAGIC, 99, struct e4f_iomap_support)

_Static_assert(sizeof(struct e4f_iomap_io) == 32, "fuse_iomap_io");
_Static_assert(offsetof(struct e4f_iomap_io, type) == 24, "io.type");
_Static_assert(offsetof(struct e4f_iomap_io, dev) == 28, "io.dev");
_Static_assert(sizeof(struct e4f_iomap_begin_in) == 32, "begin_in");
_Static_assert(sizeof(struct e4f_iomap_begin_out) == 64, "begin_out");
_Static_assert(sizeof(struct e4f_iomap_end_in) == 72, "end_in");
_Static_assert(offsetof(struct e4f_iomap_end_in, map) == 40, "end_in.map");
_Static_assert(sizeof(struct e4f_iomap_ioend_in) == 48, "ioend_in");
_Static_assert(offsetof(struct e4f_iomap_ioend_in, dev) == 40, "ioend.dev");
_Static_assert(sizeof(struct e4f_iomap_ioend_out) == 8, "ioend_out");
_Static_assert(sizeof(struct e4f_iomap_config_in) == 64, "config_in");
_Static_assert(sizeof(struct e4f_iomap_config_out) == 104, "config_out");
_Static_assert(offsetof(struct e4f_iomap_config_out, s_uuid_len) == 56,
	       "config_out.s_uuid_len");
_Static_assert(offsetof(struct e4f_iomap_config_out, s_blocksize) == 60,
	       "config_out.s_blocksize");
_Static_assert(offsetof(struct e4f_iomap_config_out, s_time_min) == 72,
	       "config_out.s_time_min");
_Static_assert(offsetof(struct e4f_iomap_config_out, s_maxbytes) == 88,
	       "config_out.s_maxbytes");
_Static_assert(offsetof(struct e4f_iomap_config_out, cache_maxbytes) == 96,
	       "config_out.cache_maxbytes");
_Static_assert(sizeof(struct e4f_iomap_dev_inval_out) == 24, "dev_inval");
_Static_assert(sizeof(struct e4f_iomap_upsert_mappings_out) == 80, "upsert");
_Static_assert(sizeof(struct e4f_iomap_inval_mappings_out) == 48, "inval");
_Static_assert(sizeof(struct e4f_backing_map) == 16, "fuse_backing_map");
_Static_assert(sizeof(struct e4f_iomap_support) == 16, "iomap_support");
_Static_assert(E4F_DEV_IOC_BACKING_OPEN == 0x4010E501, "BACKING_OPEN");
_Static_assert(E4F_DEV_IOC_IOMAP_SUPPORT == 0x8010E563, "IOMAP_SUPPORT");

#endif /* E4F_FUSE_IOMAP_H */

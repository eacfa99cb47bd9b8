/* SPDX-License-Identifier: MIT */
/*
 * The kernel's checks of what a fuse-iomap server sends
 * (shared/spec/fuse-iomap.md §8.2, §12.2, §12.3), on their own: the kernel
 * model (kmodel.c) and the fuzz harness (tests/fuzz/iomap_fuzz.c) both
 * judge e4fuse's answers with them.  Each returns 0 or the errno the
 * kernel would fail with (-EUCLEAN for EFSCORRUPTED).
 */
#ifndef E4_TEST_IOMAP_RULES_H
#define E4_TEST_IOMAP_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "fuse/fuse_iomap.h"

/* What the kernel knows of the connection and the inode. */
struct iomap_rules {
	uint32_t blksize;	/* the inode's block size (IOMAP_CONFIG) */
	uint64_t maxbytes;	/* s_maxbytes */
	uint32_t dev_id;	/* the registered backing id (0: none) */
	uint64_t dev_size;	/* its size in bytes */
	bool has_cache;		/* the inode has a mapping cache */
	uint64_t size;		/* the inode's size */
};

/* Rules 1-9 for one half of a BEGIN reply. */
int iomap_rules_half(const struct iomap_rules *k,
		     const struct e4f_iomap_io *io, bool write_half);
/* A whole BEGIN reply for an operation @opflags at @pos (rules 1-12, and
 * the iomap core's inline rules). */
int iomap_rules_begin(const struct iomap_rules *k, uint32_t opflags,
		      uint64_t pos, const struct e4f_iomap_begin_out *out);
/* One half of an UPSERT notification (§12.2). */
int iomap_rules_upsert_half(const struct iomap_rules *k,
			    const struct e4f_iomap_io *io, bool write_half);
/* One half of an INVAL notification (§12.3). */
int iomap_rules_inval_half(const struct iomap_rules *k,
			   const struct e4f_fuse_range *r);

#endif /* E4_TEST_IOMAP_RULES_H */

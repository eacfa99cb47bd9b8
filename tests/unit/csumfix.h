/* SPDX-License-Identifier: MIT */
/*
 * Shared by test_xattr, test_inline and test_symlink: recompute checksums
 * after a raw patch.  tu_fix_inode_csum goes through debugfs, which silently
 * leaves the checksum alone when it cannot parse the inode (broken in-inode
 * xattrs, a NUL in a symlink); these compute §12.3/§12.4 directly.
 *
 * Include after testutil.h and ondisk/ondisk.h.
 */
#ifndef E4_TEST_CSUMFIX_H
#define E4_TEST_CSUMFIX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* fs seed as §12.2, for re-checksumming patched xattr blocks */
static inline uint32_t cf_fs_seed(const char *img)
{
	uint8_t uuid[16];

	if (tu_peek_le32(img, 1024 + E4_SB_FEATURE_INCOMPAT) & E4_INCOMPAT_CSUM_SEED)
		return tu_peek_le32(img, 1024 + E4_SB_CHECKSUM_SEED);
	tu_peek(img, 1024 + E4_SB_UUID, uuid, 16);
	return e4_crc32c(0xFFFFFFFFu, uuid, 16);
}

static inline void cf_fix_xattr_block_csum(const char *img, uint64_t blk)
{
	uint32_t bs = tu_block_size(img);
	uint8_t *b = malloc(bs), le[8];
	uint32_t crc;

	tu_peek(img, blk * bs, b, bs);
	e4_put_le32(b, bs, 0x10, 0);
	e4_put_le64(le, 8, 0, blk);
	crc = e4_crc32c(cf_fs_seed(img), le, 8);
	crc = e4_crc32c(crc, b, bs);
	tu_patch_le32(img, blk * bs + 0x10, crc);
	free(b);
}

/* debugfs refuses to recompute the checksum of an inode whose in-inode
 * xattrs it cannot parse (and says nothing), so do it here (§12.3, §12.4). */
static inline void cf_fix_inode_csum(const char *img, uint32_t ino)
{
	uint64_t off = tu_inode_offset(img, ino);
	uint32_t isz = tu_peek_le16(img, 1024 + E4_SB_INODE_SIZE);
	uint8_t rec[1024], le[4];
	uint32_t crc;
	bool hi;

	if (!(tu_peek_le32(img, 1024 + E4_SB_FEATURE_RO_COMPAT) &
	      E4_RO_COMPAT_METADATA_CSUM))
		return;
	assert_true(isz <= sizeof(rec));
	tu_peek(img, off, rec, isz);
	hi = isz > 128 && e4_le16(rec, isz, E4_I_EXTRA_ISIZE) >= 4;
	e4_put_le16(rec, isz, E4_I_CHECKSUM_LO, 0);
	if (hi)
		e4_put_le16(rec, isz, E4_I_CHECKSUM_HI, 0);
	e4_put_le32(le, 4, 0, ino);
	crc = e4_crc32c(cf_fs_seed(img), le, 4);
	crc = e4_crc32c(crc, rec + E4_I_GENERATION, 4);
	crc = e4_crc32c(crc, rec, isz);
	tu_patch_le16(img, off + E4_I_CHECKSUM_LO, (uint16_t)crc);
	if (hi)
		tu_patch_le16(img, off + E4_I_CHECKSUM_HI, (uint16_t)(crc >> 16));
}

#endif /* E4_TEST_CSUMFIX_H */

/* SPDX-License-Identifier: MIT */
/*
 * File data: read and SEEK_DATA/SEEK_HOLE, both walking e4_map_block runs.
 *
 * Reading is two layers: e4_file_read dispatches inline-data inodes to
 * inline.c (whose bytes may live in the system.data xattr), everything else
 * to e4_file_read_mapped, which never consults xattrs.  EA-inode values are
 * read with the latter, so no chain of structures can lead from an xattr
 * value back to the xattr code (the recursion a crafted image once used).
 *
 * Data does not pass through the metadata cache: each physically contiguous
 * run is one pread from the device straight into the caller's buffer, holes
 * and unwritten extents are zero-filled, inline data is copied out of the
 * inode.  Everything is clamped to i_size.
 */
#include <limits.h>
#include <string.h>

#include "ondisk/ondisk.h"

/* Clamp [off, off + len) to i_size; false when nothing is left to read. */
static bool clamp_to_size(const struct e4_inode *inode, uint64_t off,
			  size_t *len)
{
	if (off >= inode->size || *len == 0)
		return false;
	if (*len > SSIZE_MAX)
		*len = SSIZE_MAX;
	if (*len > inode->size - off)
		*len = (size_t)(inode->size - off);
	return true;
}

ssize_t e4_file_read(struct e4_fs *fs, const struct e4_inode *inode,
		     uint64_t off, void *buf, size_t len)
{
	/* ciphertext, and e4fuse never has the key: the kernel's answer
	 * without it */
	if (e4_inode_is_reg(inode) && e4_inode_is_encrypted(fs, inode))
		return -ENOKEY;
	if (!clamp_to_size(inode, off, &len))
		return 0;
	if (inode->flags & E4_INLINE_DATA_FL)
		return e4_inline_read(fs, inode, off, buf, len);
	return e4_file_read_mapped(fs, inode, off, buf, len);
}

ssize_t e4_file_read_mapped(struct e4_fs *fs, const struct e4_inode *inode,
			    uint64_t off, void *buf, size_t len)
{
	uint8_t *dst = buf;
	uint64_t end;
	size_t done = 0;

	if (!clamp_to_size(inode, off, &len))
		return 0;
	end = off + len;	/* <= i_size: no overflow */
	while (off < end) {
		struct e4_mapping m;
		uint64_t lblk = off >> fs->log_block_size;
		uint64_t run_end, n;
		int ret;

		ret = e4_map_block(fs, inode, lblk, &m);
		if (ret < 0)
			return ret;
		if (m.lblk != lblk || m.len == 0)
			return -EIO;	/* a mapping bug: never spin */
		/* lblk + len <= 2^32 and B <= 2^16: no overflow in bytes */
		run_end = (m.lblk + m.len) << fs->log_block_size;
		n = (run_end < end ? run_end : end) - off;

		switch (m.kind) {
		case E4_MAP_MAPPED: {
			uint64_t in_run = off - (m.lblk << fs->log_block_size);

			ret = e4_read_data(fs, dst + done, (size_t)n,
					   (m.pblk << fs->log_block_size) +
						   in_run);
			if (ret < 0) {
				e4_log_rule(fs, E4_LOG_ERROR, E4_RULE_IO_READ,
					    e4_obj_inode(inode->ino),
					    "reading %llu bytes of data at block %llu failed (%d)",
					    (unsigned long long)n,
					    (unsigned long long)m.pblk, ret);
				return ret;
			}
			break;
		}
		case E4_MAP_INLINE:
			/* only inline-data inodes map inline, and those are
			 * read by e4_inline_read: never reached from an EA
			 * inode, whose value must not lead back to xattrs */
			return e4_corrupt(fs, E4_RULE_IN7,
					  e4_obj_inode(inode->ino),
					  "inline mapping where block-mapped data is required");
		case E4_MAP_HOLE:
		case E4_MAP_UNWRITTEN:
		default:
			memset(dst + done, 0, (size_t)n);
			break;
		}
		done += (size_t)n;
		off += n;
	}
	return (ssize_t)done;
}

/*
 * SEEK_DATA/SEEK_HOLE walk the mapping run by run, and a block map whose
 * indirect blocks all point at one block makes every run one block long
 * over terabytes of i_size.  Past this many runs the rest of the file is
 * reported as data, which POSIX allows (a file system may treat holes as
 * data); no file the kernel writes comes near it.
 */
#define SEEK_MAX_RUNS 65536u

int e4_file_seek(struct e4_fs *fs, const struct e4_inode *inode, uint64_t off,
		 enum e4_seek_whence whence, uint64_t *result)
{
	uint64_t size = inode->size;
	uint64_t lblk, last;
	unsigned runs = 0;

	if (off >= size)
		return -ENXIO;
	if (whence != E4_SEEK_DATA && whence != E4_SEEK_HOLE)
		return -EINVAL;
	if (inode->flags & E4_INLINE_DATA_FL) {
		*result = whence == E4_SEEK_DATA ? off : size;
		return 0;
	}

	/* Blocks [lblk, last] hold bytes [off, size); every step advances
	 * by a whole mapping run, so this ends after at most one step per
	 * run in the file. */
	lblk = off >> fs->log_block_size;
	last = (size - 1) >> fs->log_block_size;
	while (lblk <= last) {
		struct e4_mapping m;
		bool is_data;
		int ret;

		if (++runs > SEEK_MAX_RUNS) {
			uint64_t pos = lblk << fs->log_block_size;

			*result = whence == E4_SEEK_HOLE ? size :
				  pos > off ? pos : off;
			return 0;
		}
		ret = e4_map_block(fs, inode, lblk, &m);

		if (ret < 0)
			return ret;
		if (m.lblk != lblk || m.len == 0)
			return -EIO;
		is_data = m.kind == E4_MAP_MAPPED || m.kind == E4_MAP_INLINE;
		if (is_data == (whence == E4_SEEK_DATA)) {
			uint64_t pos = lblk << fs->log_block_size;

			*result = pos > off ? pos : off;
			return 0;
		}
		lblk += m.len;
	}
	if (whence == E4_SEEK_DATA)
		return -ENXIO;
	*result = size;	/* the implicit hole at EOF */
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Inline data (§8): the first 60 bytes of the data in i_block, the rest in
 * the value of the in-inode attribute system.data.
 *
 * ID1 (the attribute exists, in the inode) and ID2 (i_size fits in what is
 * stored) are checked on every call: the inode code does not parse xattrs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ondisk/ondisk.h"

static const char inline_data_name[] = "data";

/* Size of the system.data value, or -EUCLEAN (reported) when it is missing. */
static ssize_t inline_value_size(struct e4_fs *fs, const struct e4_inode *inode)
{
	ssize_t n;

	n = e4_xattr_get_raw(fs, inode, E4_XATTR_INDEX_SYSTEM, inline_data_name,
			     sizeof(inline_data_name) - 1, NULL, 0);
	if (n == -ENODATA)
		return e4_corrupt(fs, E4_RULE_ID1, e4_obj_inode(inode->ino),
				  "inline data without a system.data attribute in the inode");
	return n;
}

/*
 * ID2, for directories and symlinks.  A regular file may be longer than its
 * inline data: mkfs.ext4 -d stores all-zero files that way, e2fsck calls
 * them clean and the kernel reads the rest as zeros, so e4fuse does too.
 */
static int inline_check_size(struct e4_fs *fs, const struct e4_inode *inode,
			     size_t value_size)
{
	if (!e4_inode_is_reg(inode) &&
	    inode->size > E4_I_BLOCK_SIZE + (uint64_t)value_size)
		return e4_corrupt(fs, E4_RULE_ID2, e4_obj_inode(inode->ino),
				  "size %llu exceeds the %zu bytes of inline data",
				  (unsigned long long)inode->size,
				  E4_I_BLOCK_SIZE + value_size);
	return 0;
}

int e4_inline_size(struct e4_fs *fs, const struct e4_inode *inode,
		   size_t *size)
{
	ssize_t n;
	int rc;

	if (!(inode->flags & E4_INLINE_DATA_FL))
		return -EINVAL;
	n = inline_value_size(fs, inode);
	if (n < 0)
		return (int)n;
	rc = inline_check_size(fs, inode, (size_t)n);
	if (rc < 0)
		return rc;
	*size = E4_I_BLOCK_SIZE + (size_t)n;
	return 0;
}

/* Bytes [off, off + len) of the stored inline data: i_block, then the
 * system.data value of @vsize bytes (off + len <= 60 + vsize). */
static ssize_t read_stored(struct e4_fs *fs, const struct e4_inode *inode,
			   uint64_t off, uint8_t *dst, size_t len, size_t vsize)
{
	uint8_t *value;
	size_t done = 0;
	ssize_t n;

	if (off < E4_I_BLOCK_SIZE) {
		size_t chunk = E4_I_BLOCK_SIZE - (size_t)off;

		if (chunk > len)
			chunk = len;
		memcpy(dst, inode->i_block + off, chunk);
		done = chunk;
	}
	if (done == len)
		return (ssize_t)done;

	/* the rest comes from the value: read it whole (it lives in the
	 * inode, so it is smaller than an inode record) */
	value = malloc(vsize ? vsize : 1);
	if (!value)
		return -ENOMEM;
	n = e4_xattr_get_raw(fs, inode, E4_XATTR_INDEX_SYSTEM, inline_data_name,
			     sizeof(inline_data_name) - 1, value, vsize);
	if (n >= 0 && (size_t)n != vsize)
		n = -EIO;	/* changed between the calls: not on a ro image */
	if (n >= 0) {
		size_t voff = (size_t)(off + done - E4_I_BLOCK_SIZE);

		memcpy(dst + done, value + voff, len - done);
		n = (ssize_t)len;
	}
	free(value);
	return n;
}

ssize_t e4_inline_read(struct e4_fs *fs, const struct e4_inode *inode,
		       uint64_t off, void *buf, size_t len)
{
	uint8_t *dst = buf;
	ssize_t vsize, n;
	int rc;

	if (!(inode->flags & E4_INLINE_DATA_FL))
		return -EINVAL;
	vsize = inline_value_size(fs, inode);
	if (vsize < 0)
		return vsize;
	rc = inline_check_size(fs, inode, (size_t)vsize);
	if (rc < 0)
		return rc;
	if (off >= inode->size || len == 0)
		return 0;
	if (len > inode->size - off)
		len = (size_t)(inode->size - off);

	/* past what is stored (regular files only, see above): zeros */
	uint64_t stored = E4_I_BLOCK_SIZE + (uint64_t)vsize;
	size_t tail = 0;
	if (off + len > stored) {
		tail = off >= stored ? len : (size_t)(off + len - stored);
		memset(dst + len - tail, 0, tail);
	}
	if (len == tail)
		return (ssize_t)len;
	n = read_stored(fs, inode, off, dst, len - tail, (size_t)vsize);
	return n < 0 ? n : n + (ssize_t)tail;
}

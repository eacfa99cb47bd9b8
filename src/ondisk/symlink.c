/* SPDX-License-Identifier: MIT */
/*
 * Symbolic links (§10): fast (target in i_block), slow (one data block,
 * extent- or block-mapped) and inline-data targets.
 *
 * Classification follows the robust rule of §10: flags first (INLINE_DATA,
 * then EXTENTS); otherwise fast iff the target is shorter than 60 bytes and
 * the inode owns no data blocks (i_blocks minus the xattr block).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ondisk/ondisk.h"

#define SYMLINK_MAX 4095u

/* Sectors of i_blocks that are data, not the xattr block (which takes a
 * whole cluster). */
static uint64_t symlink_data_sectors(const struct e4_fs *fs,
				     const struct e4_inode *inode)
{
	uint64_t acl = 0;

	if (inode->file_acl)
		acl = ((uint64_t)fs->block_size * fs->cluster_ratio) / 512;
	return inode->blocks_512 > acl ? inode->blocks_512 - acl : 0;
}

static ssize_t symlink_read_block(struct e4_fs *fs,
				  const struct e4_inode *inode, char *buf,
				  size_t len)
{
	struct e4_mapping m;
	size_t done = 0;
	int rc;

	rc = e4_map_block(fs, inode, 0, &m);
	if (rc < 0)
		return rc;
	if (m.kind == E4_MAP_UNWRITTEN)
		return e4_corrupt(fs, E4_RULE_SL2, e4_obj_inode(inode->ino),
				  "symlink data block is unwritten");
	if (m.kind != E4_MAP_MAPPED)
		return e4_corrupt(fs, E4_RULE_SL2, e4_obj_inode(inode->ino),
				  "symlink of %zu bytes has no data block", len);
	while (done < len) {
		ssize_t n = e4_file_read(fs, inode, done, buf + done, len - done);

		if (n < 0)
			return n;
		if (n == 0)
			return e4_corrupt(fs, E4_RULE_SL2,
					  e4_obj_inode(inode->ino),
					  "symlink data ends at %zu of %zu bytes",
					  done, len);
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* The target bytes as stored: @len (i_size, checked) of them. */
static ssize_t symlink_read_raw(struct e4_fs *fs, const struct e4_inode *inode,
				char *buf, size_t len)
{
	ssize_t n;

	if (inode->flags & E4_INLINE_DATA_FL) {
		n = e4_inline_read(fs, inode, 0, buf, len);
	} else if ((inode->flags & E4_EXTENTS_FL) ||
		   symlink_data_sectors(fs, inode) > 0) {
		n = symlink_read_block(fs, inode, buf, len);
	} else if (len < E4_I_BLOCK_SIZE) {
		memcpy(buf, inode->i_block, len);
		n = (ssize_t)len;
	} else {
		return e4_corrupt(fs, E4_RULE_SL1, e4_obj_inode(inode->ino),
				  "symlink of %zu bytes has no data block", len);
	}
	if (n < 0)
		return n;
	if ((size_t)n != len)
		return e4_corrupt(fs, E4_RULE_SL2, e4_obj_inode(inode->ino),
				  "symlink data ends at %zd of %zu bytes", n, len);
	return n;
}

/*
 * An encrypted symlink stores le16 length and that much ciphertext
 * (§10); without the key the kernel shows it as a no-key name (nokey.c)
 * whose hash part is zero.
 */
static ssize_t symlink_read_nokey(struct e4_fs *fs,
				  const struct e4_inode *inode, size_t len,
				  char *buf, size_t size)
{
	char out[E4_NOKEY_NAME_MAX + 1];
	uint8_t *raw = malloc(len);
	ssize_t n;
	size_t clen;

	if (!raw)
		return -ENOMEM;
	n = symlink_read_raw(fs, inode, (char *)raw, len);
	if (n >= 0) {
		clen = len < 2 ? 0 : e4_le16(raw, len, 0);
		if (len < 2 || clen == 0 || clen > len - 2)
			n = e4_corrupt(fs, E4_RULE_SL2, e4_obj_inode(inode->ino),
				       "encrypted symlink of %zu bytes holds %zu",
				       len, clen);
		else
			n = (ssize_t)e4_nokey_encode(raw + 2, clen, 0, 0, out);
	}
	free(raw);
	if (n < 0)
		return n;
	if (size < (size_t)n)
		return -ENAMETOOLONG;
	memcpy(buf, out, (size_t)n);
	return n;
}

ssize_t e4_symlink_read(struct e4_fs *fs, const struct e4_inode *inode,
			char *buf, size_t size)
{
	uint64_t max = fs->block_size - 1;
	size_t len;
	ssize_t n;

	if (!e4_inode_is_symlink(inode))
		return -EINVAL;
	if (max > SYMLINK_MAX)
		max = SYMLINK_MAX;
	if (inode->size < 1 || inode->size > max)
		return e4_corrupt(fs, E4_RULE_SL2, e4_obj_inode(inode->ino),
				  "symlink size %llu outside 1..%llu",
				  (unsigned long long)inode->size,
				  (unsigned long long)max);
	len = (size_t)inode->size;
	if (e4_inode_is_encrypted(fs, inode))
		return symlink_read_nokey(fs, inode, len, buf, size);
	if (size < len)
		return -ENAMETOOLONG;
	n = symlink_read_raw(fs, inode, buf, len);
	if (n < 0)
		return n;
	if (memchr(buf, '\0', len))
		return e4_corrupt(fs, E4_RULE_SL1, e4_obj_inode(inode->ino),
				  "symlink target contains a NUL byte");
	return (ssize_t)len;
}

ssize_t e4_symlink_size(struct e4_fs *fs, const struct e4_inode *inode)
{
	char out[E4_NOKEY_NAME_MAX + 1];

	if (e4_inode_is_symlink(inode) && e4_inode_is_encrypted(fs, inode))
		return e4_symlink_read(fs, inode, out, sizeof(out));
	return (ssize_t)inode->size;
}

/* SPDX-License-Identifier: MIT */
/*
 * What stat shows of an inode, as the kernel's ext4 reports it: the rules
 * that are ext4's, not the FUSE protocol's, so that e4img and the mount say
 * the same.
 */
#include <linux/stat.h>
#include <string.h>

#include "ondisk/ondisk.h"

/* i_flags bits reported as statx attributes */
static const struct {
	uint32_t flag;
	uint64_t attr;
} stat_attrs[] = {
	{ E4_COMPR_FL, STATX_ATTR_COMPRESSED },
	{ E4_IMMUTABLE_FL, STATX_ATTR_IMMUTABLE },
	{ E4_APPEND_FL, STATX_ATTR_APPEND },
	{ E4_NODUMP_FL, STATX_ATTR_NODUMP },
	{ E4_ENCRYPT_FL, STATX_ATTR_ENCRYPTED },
	{ E4_VERITY_FL, STATX_ATTR_VERITY },
};

void e4_inode_stat(const struct e4_inode *in, struct e4_stat *out)
{
	uint16_t type = in->mode & E4_S_IFMT;

	memset(out, 0, sizeof(*out));
	out->ino = in->ino;
	out->generation = in->generation;
	out->mode = in->mode;
	out->nlink = in->links;
	out->uid = in->uid;
	out->gid = in->gid;
	out->size = in->size;
	out->blocks = in->blocks_512;
	/* As the kernel's ext4 does, count the bytes of an inline-data file,
	 * so that tar, cp and rsync do not take it for all holes. */
	if (type == E4_S_IFREG && (in->flags & E4_INLINE_DATA_FL))
		out->blocks += (in->size + 511) >> 9;
	out->atime = in->atime;
	out->mtime = in->mtime;
	out->ctime = in->ctime;
	out->has_btime = in->has_crtime;
	out->btime = in->crtime;
	if (type == E4_S_IFCHR || type == E4_S_IFBLK) {
		out->rdev_major = in->rdev_major;
		out->rdev_minor = in->rdev_minor;
	}
	for (size_t i = 0; i < sizeof(stat_attrs) / sizeof(stat_attrs[0]); i++) {
		out->attributes_mask |= stat_attrs[i].attr;
		if (in->flags & stat_attrs[i].flag)
			out->attributes |= stat_attrs[i].attr;
	}
}

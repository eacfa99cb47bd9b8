/* SPDX-License-Identifier: MIT */
/* The verifier table: every row (each defined with its structure). */
#include "ondisk/ondisk.h"

const struct e4_buf_ops *const e4_bops_table[] = {
	&e4_bops_superblock,
	&e4_bops_gdt,
	&e4_bops_block_bitmap,
	&e4_bops_inode_bitmap,
	&e4_bops_inode_table,
	&e4_bops_inode_new,
	&e4_bops_extent,
	&e4_bops_indirect,
	&e4_bops_dir_leaf,
	&e4_bops_dx_node,
	&e4_bops_xattr,
	&e4_bops_orphan,
	&e4_bops_jbd2_sb,
	&e4_bops_jbd2_tail,
	&e4_bops_jbd2_commit,
	NULL,
};

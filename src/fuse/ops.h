/* SPDX-License-Identifier: MIT */
/* Request handlers, grouped by the file that implements them. */
#ifndef E4F_OPS_H
#define E4F_OPS_H

#include "fuse/proto.h"

/* session.c: the connection itself */
void e4f_op_init(struct e4f_req *r);
void e4f_op_destroy(struct e4f_req *r);
void e4f_op_forget(struct e4f_req *r);
void e4f_op_batch_forget(struct e4f_req *r);
void e4f_op_interrupt(struct e4f_req *r);

/* ops_read.c: read-only operations on top of e4.h */
void e4f_op_lookup(struct e4f_req *r);
void e4f_op_getattr(struct e4f_req *r);
void e4f_op_statx(struct e4f_req *r);
void e4f_op_opendir(struct e4f_req *r);
void e4f_op_readdir(struct e4f_req *r);
void e4f_op_readdirplus(struct e4f_req *r);
void e4f_op_open(struct e4f_req *r);
void e4f_op_read(struct e4f_req *r);
void e4f_op_release(struct e4f_req *r);	/* RELEASE, RELEASEDIR, FLUSH */
void e4f_op_fsync(struct e4f_req *r);	/* FSYNC, FSYNCDIR, SYNCFS */
void e4f_op_readlink(struct e4f_req *r);
void e4f_op_getxattr(struct e4f_req *r);
void e4f_op_listxattr(struct e4f_req *r);
void e4f_op_statfs(struct e4f_req *r);
void e4f_op_access(struct e4f_req *r);
void e4f_op_lseek(struct e4f_req *r);
/* The attributes and the entry a reply carries (shared with ops_write.c). */
void e4f_fill_attr(const struct e4f_session *s, const struct e4_inode *in,
		   struct fuse_attr *a);
/* The node's inode, held still for reading until e4f_node_read_end (the
 * iomap mapping reads it as READ does). */
int e4f_node_read_begin(struct e4f_req *r, uint64_t nodeid,
			struct e4_ino **ip, struct e4_inode *out);
void e4f_node_read_end(struct e4f_req *r, struct e4_ino *ip);
/* The entry of @in in the directory the request names (r->h.nodeid). */
void e4f_fill_entry(struct e4f_req *r, const struct e4_inode *in,
		    struct fuse_entry_out *e);

/* ops_write.c: the modifying operations on top of e4/write.h (EROFS on a
 * read-only mount) */
void e4f_op_mknod(struct e4f_req *r);
void e4f_op_mkdir(struct e4f_req *r);
void e4f_op_symlink(struct e4f_req *r);
void e4f_op_link(struct e4f_req *r);
void e4f_op_unlink(struct e4f_req *r);
void e4f_op_rmdir(struct e4f_req *r);
void e4f_op_rename(struct e4f_req *r);
void e4f_op_rename2(struct e4f_req *r);
void e4f_op_create(struct e4f_req *r);
void e4f_op_tmpfile(struct e4f_req *r);
void e4f_op_write(struct e4f_req *r);
void e4f_op_setattr(struct e4f_req *r);
void e4f_op_setxattr(struct e4f_req *r);
void e4f_op_removexattr(struct e4f_req *r);
void e4f_op_fallocate(struct e4f_req *r);
void e4f_op_ioctl(struct e4f_req *r);	/* the flags, read and written */
void e4f_op_copy_file_range(struct e4f_req *r);	/* both opcodes */

#endif /* E4F_OPS_H */

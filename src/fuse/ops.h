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
void e4f_op_erofs(struct e4f_req *r);	/* every modifying request */

#endif /* E4F_OPS_H */

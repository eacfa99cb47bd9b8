/* SPDX-License-Identifier: MIT */
/*
 * The modifying operations, mapped onto the library's write side
 * (e4/write.h).  Each handler decodes its request, takes references to the
 * in-core inodes of the nodes involved, calls one library operation and
 * answers; permissions are the kernel's (default_permissions).  On a
 * read-only mount, or once the library went read-only (an aborted
 * transaction, errors=remount-ro), every one answers EROFS.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "e4/write.h"
#include "fuse/iomap.h"
#include "fuse/ops.h"
#include "fuse/proto.h"

#define E4F_NAME_MAX 255u

/* The in-core inode of @nodeid, referenced: the node table's, or (the
 * root, which the kernel holds without a lookup) read. */
static int node_ino(struct e4f_req *r, uint64_t nodeid, struct e4_ino **out)
{
	uint32_t ino;
	int ret = e4f_nodeid_to_ino(nodeid, &ino);

	if (ret < 0)
		return ret;
	if (e4f_nodes_ino(&r->s->nodes, nodeid, out))
		return 0;
	ret = e4_iget_named(r->s->fs, 0, NULL, ino, out);
	if (ret == -EINVAL || ret == -ENOENT)
		return -ESTALE;
	return ret;
}

static bool writable(struct e4f_req *r)
{
	if (e4_fs_writable(r->s->fs))
		return true;
	e4f_reply_err(r, -EROFS);
	return false;
}

/* A name at payload offset @off: NULL (and the reply sent) if missing or
 * malformed. */
static const char *req_name(struct e4f_req *r, size_t off, size_t *len)
{
	const char *name = e4f_arg_string(r, off, len);

	if (!name || *len == 0 || memchr(name, '/', *len)) {
		e4f_reply_err(r, -EINVAL);
		return NULL;
	}
	if (*len > E4F_NAME_MAX) {
		e4f_reply_err(r, -ENAMETOOLONG);
		return NULL;
	}
	return name;
}

/* Answer with the entry of @ip; the node table takes the reference. */
static void reply_entry(struct e4f_req *r, struct e4_ino *ip)
{
	struct fuse_entry_out e;
	struct e4_inode in;
	int ret;

	e4_ino_snapshot(ip, &in);
	e4f_fill_entry(r, &in, &e);
	ret = e4f_nodes_ref(&r->s->nodes, e.nodeid, ip);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	e4f_reply_buf(r, &e, sizeof(e));
}

/* The creator of a new inode; @umask the request's, which the kernel
 * left to us (FUSE_DONT_MASK) or already applied. */
static struct e4_cred req_cred(const struct e4f_req *r, uint32_t umask)
{
	bool ours = r->s->init_flags & FUSE_DONT_MASK;

	return (struct e4_cred){ r->h.uid, r->h.gid, ours ? umask : 0 };
}

/* The kernel's new_decode_dev(). */
static void decode_rdev(uint32_t dev, uint32_t *major, uint32_t *minor)
{
	*major = (dev & 0xfff00u) >> 8;
	*minor = (dev & 0xffu) | ((dev >> 12) & 0xfff00u);
}

/* ---- creating --------------------------------------------------------------- */

void e4f_op_mknod(struct e4f_req *r)
{
	struct fuse_mknod_in in;
	struct e4_cred cred;
	struct e4_ino *dir, *ip;
	uint32_t major, minor;
	size_t len;
	const char *name;
	int ret;

	if (!writable(r))
		return;
	e4f_arg_get(r, &in, sizeof(in));
	cred = req_cred(r, in.umask);
	name = req_name(r, sizeof(in), &len);
	if (!name)
		return;
	ret = node_ino(r, r->h.nodeid, &dir);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	decode_rdev(in.rdev, &major, &minor);
	ret = e4_mknod(r->s->fs, dir, name, len, in.mode, major, minor, &cred,
		       &ip);
	e4_iput(r->s->fs, dir);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	reply_entry(r, ip);
}

void e4f_op_mkdir(struct e4f_req *r)
{
	struct fuse_mkdir_in in;
	struct e4_cred cred;
	struct e4_ino *dir, *ip;
	size_t len;
	const char *name;
	int ret;

	if (!writable(r))
		return;
	e4f_arg_get(r, &in, sizeof(in));
	cred = req_cred(r, in.umask);
	name = req_name(r, sizeof(in), &len);
	if (!name)
		return;
	ret = node_ino(r, r->h.nodeid, &dir);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	ret = e4_mkdir(r->s->fs, dir, name, len, in.mode, &cred, &ip);
	e4_iput(r->s->fs, dir);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	reply_entry(r, ip);
}

void e4f_op_symlink(struct e4f_req *r)
{
	struct e4_cred cred = req_cred(r, 0);
	struct e4_ino *dir, *ip;
	size_t len, tlen;
	const char *name, *target;
	int ret;

	if (!writable(r))
		return;
	name = req_name(r, 0, &len);
	if (!name)
		return;
	target = e4f_arg_string(r, len + 1, &tlen);
	if (!target)
		return e4f_reply_err(r, -EINVAL);
	ret = node_ino(r, r->h.nodeid, &dir);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	ret = e4_symlink(r->s->fs, dir, name, len, target, tlen, &cred, &ip);
	e4_iput(r->s->fs, dir);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	reply_entry(r, ip);
}

void e4f_op_link(struct e4f_req *r)
{
	struct fuse_link_in in;
	struct e4_ino *dir, *ip;
	size_t len;
	const char *name;
	int ret;

	if (!writable(r))
		return;
	e4f_arg_get(r, &in, sizeof(in));
	name = req_name(r, sizeof(in), &len);
	if (!name)
		return;
	ret = node_ino(r, r->h.nodeid, &dir);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	ret = node_ino(r, in.oldnodeid, &ip);
	if (ret == 0) {
		ret = e4_link(r->s->fs, ip, dir, name, len);
		if (ret < 0)
			e4_iput(r->s->fs, ip);
	}
	e4_iput(r->s->fs, dir);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	reply_entry(r, ip);	/* a lookup of the new name: one more ref */
}

/* CREATE and TMPFILE: a regular file and its open reply (no name for
 * TMPFILE: the kernel sends its placeholder "/"). */
static void create_open(struct e4f_req *r, bool tmpfile)
{
	struct fuse_create_in in;
	struct e4_cred cred;
	struct {
		struct fuse_entry_out e;
		struct fuse_open_out o;
	} out;
	struct e4_ino *dir, *ip;
	struct e4_inode snap;
	size_t len = 0;
	const char *name = NULL;
	int ret;

	if (!writable(r))
		return;
	e4f_arg_get(r, &in, sizeof(in));
	cred = req_cred(r, in.umask);
	if (!tmpfile) {
		name = req_name(r, sizeof(in), &len);
		if (!name)
			return;
	}
	if ((in.mode & S_IFMT) != S_IFREG)
		in.mode = (in.mode & 07777) | S_IFREG;
	ret = node_ino(r, r->h.nodeid, &dir);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	ret = tmpfile ? e4_tmpfile(r->s->fs, dir, in.mode, &cred, &ip) :
			e4_mknod(r->s->fs, dir, name, len, in.mode, 0, 0, &cred,
				 &ip);
	e4_iput(r->s->fs, dir);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	e4_ino_snapshot(ip, &snap);
	e4f_fill_entry(r, &snap, &out.e);
	memset(&out.o, 0, sizeof(out.o));
	ret = e4f_nodes_ref(&r->s->nodes, out.e.nodeid, ip);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	e4f_reply_buf(r, &out, sizeof(out));
}

void e4f_op_create(struct e4f_req *r)
{
	create_open(r, false);
}

void e4f_op_tmpfile(struct e4f_req *r)
{
	create_open(r, true);
}

/* ---- removing and renaming ---------------------------------------------------- */

static void remove_common(struct e4f_req *r, bool dir_too)
{
	struct e4_ino *dir;
	size_t len;
	const char *name;
	int ret;

	if (!writable(r))
		return;
	name = req_name(r, 0, &len);
	if (!name)
		return;
	ret = node_ino(r, r->h.nodeid, &dir);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	ret = dir_too ? e4_rmdir(r->s->fs, dir, name, len) :
			e4_unlink(r->s->fs, dir, name, len);
	e4_iput(r->s->fs, dir);
	e4f_reply_err(r, ret);
}

void e4f_op_unlink(struct e4f_req *r)
{
	remove_common(r, false);
}

void e4f_op_rmdir(struct e4f_req *r)
{
	remove_common(r, true);
}

static void rename_common(struct e4f_req *r, uint64_t newdir, unsigned flags,
			  size_t head)
{
	struct e4_ino *odir, *ndir;
	size_t olen, nlen;
	const char *oname, *nname;
	int ret;

	oname = req_name(r, head, &olen);
	if (!oname)
		return;
	nname = req_name(r, head + olen + 1, &nlen);
	if (!nname)
		return;
	ret = node_ino(r, r->h.nodeid, &odir);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	ret = node_ino(r, newdir, &ndir);
	if (ret == 0) {
		ret = e4_rename(r->s->fs, odir, oname, olen, ndir, nname,
				nlen, flags);
		e4_iput(r->s->fs, ndir);
	}
	e4_iput(r->s->fs, odir);
	e4f_reply_err(r, ret);
}

void e4f_op_rename(struct e4f_req *r)
{
	struct fuse_rename_in in;

	if (!writable(r))
		return;
	e4f_arg_get(r, &in, sizeof(in));
	rename_common(r, in.newdir, 0, sizeof(in));
}

void e4f_op_rename2(struct e4f_req *r)
{
	struct fuse_rename2_in in;

	if (!writable(r))
		return;
	e4f_arg_get(r, &in, sizeof(in));
	rename_common(r, in.newdir, in.flags, sizeof(in));
}

/* ---- data and attributes --------------------------------------------------------- */

/* What a write, truncate or chown by the caller takes from a setuid or
 * setgid file (FUSE_HANDLE_KILLPRIV_V2 leaves it to us; the kernel asks
 * for it on writes and truncates only when the caller lacks CAP_FSETID):
 * setgid without group execute stays for members of the file's group,
 * of whom the request shows the primary group only. */
static unsigned kill_privs(const struct e4f_req *r, struct e4_ino *ip,
			   bool asked)
{
	struct e4_inode cur;

	e4_ino_snapshot(ip, &cur);
	if (r->h.uid == 0 || cur.gid == r->h.gid)
		return asked ? E4_SET_KILL_SUIDGID : 0;
	return (asked ? E4_SET_KILL_SUIDGID : 0) | E4_SET_KILL_SGID;
}

void e4f_op_write(struct e4f_req *r)
{
	struct fuse_write_in in;
	struct fuse_write_out out;
	struct e4_ino *ip;
	ssize_t n;
	int ret;

	if (!writable(r))
		return;
	e4f_arg_get(r, &in, sizeof(in));
	const uint8_t *data = e4f_arg_at(r, sizeof(in), in.size);

	if (!data)
		return e4f_reply_err(r, -EINVAL);
	ret = node_ino(r, r->h.nodeid, &ip);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	if (in.write_flags & FUSE_WRITE_KILL_SUIDGID) {
		struct e4_setattr a = { .valid = kill_privs(r, ip, true) };

		ret = e4_setattr(r->s->fs, ip, &a);
	}
	n = ret < 0 ? ret :
	    e4_write(r->s->fs, ip, in.offset, data, in.size);
	if (n > 0)
		e4f_iomap_inval_ino(r->s, ip, in.offset, (uint64_t)n);
	e4_iput(r->s->fs, ip);
	if (n < 0)
		return e4f_reply_err(r, (int)n);
	memset(&out, 0, sizeof(out));
	out.size = (uint32_t)n;
	e4f_reply_buf(r, &out, sizeof(out));
}

void e4f_op_setattr(struct e4f_req *r)
{
	struct fuse_setattr_in in;
	struct fuse_attr_out out;
	struct e4_setattr a = { 0 };
	struct e4_inode snap;
	struct e4_ino *ip;
	int ret;

	if (!writable(r))
		return;
	e4f_arg_get(r, &in, sizeof(in));
	if (in.valid & FATTR_MODE) {
		a.valid |= E4_SET_MODE;
		a.mode = in.mode & 07777;
	}
	if (in.valid & FATTR_UID) {
		a.valid |= E4_SET_UID;
		a.uid = in.uid;
	}
	if (in.valid & FATTR_GID) {
		a.valid |= E4_SET_GID;
		a.gid = in.gid;
	}
	if (in.valid & FATTR_SIZE) {
		a.valid |= E4_SET_SIZE;
		a.size = in.size;
	}
	if (in.valid & FATTR_ATIME) {
		a.valid |= E4_SET_ATIME;
		a.atime = (struct e4_time){ (int64_t)in.atime, in.atimensec };
	}
	if (in.valid & FATTR_MTIME) {
		a.valid |= E4_SET_MTIME;
		a.mtime = (struct e4_time){ (int64_t)in.mtime, in.mtimensec };
	}
	if (in.valid & FATTR_ATIME_NOW)
		a.valid |= E4_SET_ATIME_NOW;
	if (in.valid & FATTR_MTIME_NOW)
		a.valid |= E4_SET_MTIME_NOW;
	if (in.valid & FATTR_CTIME) {
		a.valid |= E4_SET_CTIME;
		a.ctime = (struct e4_time){ (int64_t)in.ctime, in.ctimensec };
	}
	/* (what a truncate or chown takes: kill_privs, below) */
	ret = node_ino(r, r->h.nodeid, &ip);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	/* with the writeback cache, and for a fuse-iomap file (§7 of the
	 * spec), the kernel keeps a regular file's mtime and ctime and
	 * sends exactly these two when it writes them back.  A utimes of
	 * mtime alone looks the same: on an append-only file one with an
	 * explicit time goes through where ext4 says EPERM (the kernel
	 * does not tell the two apart) */
	if (in.valid & (FATTR_KILL_SUIDGID | FATTR_UID | FATTR_GID))
		a.valid |= kill_privs(r, ip, in.valid & FATTR_KILL_SUIDGID);
	e4_ino_snapshot(ip, &snap);
	if (((r->s->init_flags & FUSE_WRITEBACK_CACHE) ||
	     e4f_iomap_attr_flags(r->s, &snap)) &&
	    (in.valid & ~(uint32_t)(FATTR_FH | FATTR_LOCKOWNER)) ==
	    (FATTR_MTIME | FATTR_CTIME))
		a.valid |= E4_SET_WRITE_TIMES;
	ret = e4_setattr(r->s->fs, ip, &a);
	if (ret == 0 && (a.valid & E4_SET_SIZE))
		e4f_iomap_inval_ino(r->s, ip, a.size, E4F_IOMAP_INVAL_TO_EOF);
	e4_ino_snapshot(ip, &snap);
	e4_iput(r->s->fs, ip);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	memset(&out, 0, sizeof(out));
	out.attr_valid = E4F_ATTR_TIMEOUT(r->s);
	e4f_fill_attr(r->s, &snap, &out.attr);
	e4f_reply_buf(r, &out, sizeof(out));
}

/* ---- extended attributes ------------------------------------------------------ */

void e4f_op_setxattr(struct e4f_req *r)
{
	/* without FUSE_SETXATTR_EXT (an older kernel) the head is the old
	 * 8 bytes: size, flags */
	bool ext = r->s->init_flags & FUSE_SETXATTR_EXT;
	size_t head = ext ? sizeof(struct fuse_setxattr_in) :
			    FUSE_COMPAT_SETXATTR_IN_SIZE, nlen;
	struct fuse_setxattr_in in = { 0 };
	unsigned flags;
	const char *name;
	struct e4_ino *ip;
	int ret;

	if (!writable(r))
		return;
	e4f_arg_get(r, &in, head);
	flags = in.flags & (E4_XATTR_CREATE | E4_XATTR_REPLACE);
	if (in.setxattr_flags & FUSE_SETXATTR_ACL_KILL_SGID)
		flags |= E4_XATTR_KILL_SGID;
	name = e4f_arg_string(r, head, &nlen);
	if (!name || nlen == 0)
		return e4f_reply_err(r, -EINVAL);
	const uint8_t *value = e4f_arg_at(r, head + nlen + 1, in.size);

	if (!value)
		return e4f_reply_err(r, -EINVAL);
	ret = node_ino(r, r->h.nodeid, &ip);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	ret = e4_setxattr(r->s->fs, ip, name, value, in.size, flags);
	e4_iput(r->s->fs, ip);
	e4f_reply_err(r, ret);
}

void e4f_op_removexattr(struct e4f_req *r)
{
	const char *name;
	struct e4_ino *ip;
	size_t nlen;
	int ret;

	if (!writable(r))
		return;
	name = e4f_arg_string(r, 0, &nlen);
	if (!name || nlen == 0)
		return e4f_reply_err(r, -EINVAL);
	ret = node_ino(r, r->h.nodeid, &ip);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	ret = e4_removexattr(r->s->fs, ip, name);
	e4_iput(r->s->fs, ip);
	e4f_reply_err(r, ret);
}

void e4f_op_fallocate(struct e4f_req *r)
{
	struct fuse_fallocate_in in;
	struct e4_ino *ip;
	int ret;

	if (!writable(r))
		return;
	e4f_arg_get(r, &in, sizeof(in));
	ret = node_ino(r, r->h.nodeid, &ip);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	ret = e4_fallocate(r->s->fs, ip, in.mode, in.offset, in.length);
	if (ret == 0)	/* collapse and insert move everything after */
		e4f_iomap_inval_ino(r->s, ip, in.offset,
				    (in.mode & (FALLOC_FL_COLLAPSE_RANGE |
						FALLOC_FL_INSERT_RANGE)) ?
				    E4F_IOMAP_INVAL_TO_EOF : in.length);
	e4_iput(r->s->fs, ip);
	e4f_reply_err(r, ret);
}

/* The inode flags FS_IOC_FSGETXATTR shows as xflags (the kernel's ext4
 * shows these). */
static const struct {
	uint32_t flag, xflag;
} xflag_map[] = {
	{ FS_SYNC_FL, FS_XFLAG_SYNC },
	{ FS_IMMUTABLE_FL, FS_XFLAG_IMMUTABLE },
	{ FS_APPEND_FL, FS_XFLAG_APPEND },
	{ FS_NODUMP_FL, FS_XFLAG_NODUMP },
	{ FS_NOATIME_FL, FS_XFLAG_NOATIME },
	{ FS_PROJINHERIT_FL, FS_XFLAG_PROJINHERIT },
	{ FS_DAX_FL, FS_XFLAG_DAX },
};

static uint32_t flags_to_xflags(uint32_t flags)
{
	uint32_t x = 0;

	for (size_t i = 0; i < sizeof(xflag_map) / sizeof(xflag_map[0]); i++)
		if (flags & xflag_map[i].flag)
			x |= xflag_map[i].xflag;
	return x;
}

static uint32_t flags_with_xflags(uint32_t flags, uint32_t x)
{
	for (size_t i = 0; i < sizeof(xflag_map) / sizeof(xflag_map[0]); i++) {
		flags &= ~xflag_map[i].flag;
		if (x & xflag_map[i].xflag)
			flags |= xflag_map[i].flag;
	}
	return flags;
}

/* FS_IOC_SETFLAGS' or FS_IOC_FSSETXATTR's change: the new flags, or
 * -EOPNOTSUPP for a project id this file system cannot hold (without the
 * project feature only the default 0, as ext4 answers). */
static int ioctl_new_flags(struct e4f_req *r, struct e4_ino *ip,
			   const struct fuse_ioctl_in *in, uint32_t *flags)
{
	size_t have = r->arglen - sizeof(*in);
	struct fsxattr fsx;

	if (in->cmd == (uint32_t)FS_IOC_SETFLAGS) {
		if (in->in_size < sizeof(*flags) || have < sizeof(*flags))
			return -EINVAL;
		e4f_arg_copy(r, sizeof(*in), flags, sizeof(*flags));
		return 0;
	}
	if (in->in_size < sizeof(fsx) || have < sizeof(fsx))
		return -EINVAL;
	e4f_arg_copy(r, sizeof(*in), &fsx, sizeof(fsx));
	if (fsx.fsx_projid != 0)
		return -EOPNOTSUPP;	/* project is refused for writing */
	*flags = flags_with_xflags(e4_get_flags(r->s->fs, ip), fsx.fsx_xflags);
	return 0;
}

/* FS_IOC_GETFLAGS/SETFLAGS and FS_IOC_FSGETXATTR/FSSETXATTR (chattr,
 * lsattr, xfs_io; the kernel's fileattr calls send both kinds): flags
 * come with an int, whatever the command's encoded size says. */
void e4f_op_ioctl(struct e4f_req *r)
{
	struct fuse_ioctl_in in;
	struct {
		struct fuse_ioctl_out o;
		union {
			uint32_t flags;
			struct fsxattr fsx;
		} u;
	} out;
	size_t out_len = 0;
	struct e4_ino *ip;
	uint32_t flags;
	int ret;

	e4f_arg_get(r, &in, sizeof(in));
	if (in.cmd != (uint32_t)FS_IOC_GETFLAGS &&
	    in.cmd != (uint32_t)FS_IOC_SETFLAGS &&
	    in.cmd != (uint32_t)FS_IOC_FSGETXATTR &&
	    in.cmd != (uint32_t)FS_IOC_FSSETXATTR)
		return e4f_reply_err(r, -ENOTTY);
	ret = node_ino(r, r->h.nodeid, &ip);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	memset(&out, 0, sizeof(out));
	if (in.cmd == (uint32_t)FS_IOC_GETFLAGS) {
		out.u.flags = e4_get_flags(r->s->fs, ip);
		out_len = sizeof(out.u.flags);
	} else if (in.cmd == (uint32_t)FS_IOC_FSGETXATTR) {
		struct e4_inode snap;

		e4_ino_snapshot(ip, &snap);
		out.u.fsx.fsx_xflags =
			flags_to_xflags(e4_get_flags(r->s->fs, ip));
		out.u.fsx.fsx_projid = snap.projid;
		out_len = sizeof(out.u.fsx);
	} else {
		ret = ioctl_new_flags(r, ip, &in, &flags);
		if (!ret)
			ret = e4_fs_writable(r->s->fs) ?
				      e4_set_flags(r->s->fs, ip, flags) : -EROFS;
	}
	e4_iput(r->s->fs, ip);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	if (out_len > in.out_size)
		out_len = in.out_size;
	e4f_reply_buf(r, &out, sizeof(out.o) + out_len);
}

/* COPY_FILE_RANGE (47) and COPY_FILE_RANGE_64 (53): one body, two reply
 * shapes (a 32-bit count for the old one, whose length the kernel clamps). */
void e4f_op_copy_file_range(struct e4f_req *r)
{
	struct fuse_copy_file_range_in in;
	struct e4_ino *src, *dst;
	ssize_t n;
	int ret;

	if (!writable(r))
		return;
	e4f_arg_get(r, &in, sizeof(in));
	if (r->h.opcode == FUSE_COPY_FILE_RANGE && in.len > 0xFFFFF000u)
		in.len = 0xFFFFF000u;
	ret = node_ino(r, r->h.nodeid, &src);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	ret = node_ino(r, in.nodeid_out, &dst);
	if (ret < 0) {
		e4_iput(r->s->fs, src);
		return e4f_reply_err(r, ret);
	}
	n = e4_copy_range(r->s->fs, src, in.off_in, dst, in.off_out, in.len);
	if (n > 0)
		e4f_iomap_inval_ino(r->s, dst, in.off_out, (uint64_t)n);
	e4_iput(r->s->fs, dst);
	e4_iput(r->s->fs, src);
	if (n < 0)
		return e4f_reply_err(r, (int)n);
	if (r->h.opcode == FUSE_COPY_FILE_RANGE) {
		struct fuse_write_out out = { .size = (uint32_t)n };

		return e4f_reply_buf(r, &out, sizeof(out));
	}
	uint64_t copied = (uint64_t)n;	/* fuse_copy_file_range_out */

	e4f_reply_buf(r, &copied, sizeof(copied));
}

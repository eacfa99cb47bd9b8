/* SPDX-License-Identifier: MIT */
/* Changing an inode's attributes (see e4/write.h). */
#include <errno.h>

#include "fs/writer.h"

#define OWNER_OR_MODE (E4_SET_MODE | E4_SET_UID | E4_SET_GID)
#define TIMES_SET (E4_SET_ATIME | E4_SET_MTIME)

/* The kernel's setattr_should_drop_suidgid(): setuid always, setgid when
 * the group may execute (else it marks mandatory locking) or @sgid (the
 * caller is not in the file's group). */
static uint16_t kill_suidgid(uint16_t mode, bool sgid)
{
	mode &= (uint16_t)~04000;
	if ((mode & 0010) || sgid)
		mode &= (uint16_t)~02000;
	return mode;
}

int e4_setattr(struct e4_fs *fs, struct e4_ino *ip, const struct e4_setattr *a)
{
	struct e4_writer *w = e4_writer_get(fs);
	struct e4_inode in;
	struct e4_time now = e4_now();
	int err;

	if (!w)
		return -EROFS;
	e4_ino_lock(ip);
	in = ip->inode;
	e4_ino_unlock(ip);
	if (in.flags & E4_IMMUTABLE_FL)
		return -EPERM;
	if ((in.flags & E4_APPEND_FL) &&
	    (a->valid & (OWNER_OR_MODE | E4_SET_SIZE |
			 ((a->valid & E4_SET_WRITE_TIMES) ? 0u : TIMES_SET))))
		return -EPERM;
	if (a->valid & E4_SET_SIZE) {
		err = e4_truncate(fs, ip, a->size);
		if (err)
			return err;
	}
	if (!(a->valid & ~(unsigned)E4_SET_SIZE))
		return 0;
	e4_ino_lock(ip);
	in = ip->inode;
	if (a->valid & E4_SET_MODE)
		in.mode = (uint16_t)((in.mode & E4_S_IFMT) | (a->mode & 07777));
	if (a->valid & E4_SET_UID)
		in.uid = a->uid;
	if (a->valid & E4_SET_GID)
		in.gid = a->gid;
	/* chown and chgrp drop them too (the VFS's chown_common), which
	 * the kernel leaves to e4fuse with FUSE_HANDLE_KILLPRIV_V2 */
	if ((a->valid & (E4_SET_KILL_SUIDGID | E4_SET_UID | E4_SET_GID)) &&
	    !e4_inode_is_dir(&in))
		in.mode = kill_suidgid(in.mode, a->valid & E4_SET_KILL_SGID);
	if (a->valid & E4_SET_ATIME)
		in.atime = a->atime;
	if (a->valid & E4_SET_MTIME)
		in.mtime = a->mtime;
	if (a->valid & E4_SET_ATIME_NOW)
		in.atime = now;
	if (a->valid & E4_SET_MTIME_NOW)
		in.mtime = now;
	in.ctime = (a->valid & E4_SET_CTIME) ? a->ctime : now;
	err = e4_inode_write_alone(fs, w, &in);
	if (!err)
		ip->inode = in;
	e4_ino_unlock(ip);
	/* the access ACL follows the new mode (ext4_setattr's
	 * posix_acl_chmod, after the mode is written) */
	if (!err && (a->valid & E4_SET_MODE))
		err = e4_acl_chmod(fs, ip);
	return err;
}

/* The flags chattr sees and may change (the kernel's EXT4_FL_USER_VISIBLE
 * and EXT4_FL_USER_MODIFIABLE). */
#define FL_USER_VISIBLE 0x705BDFFFu
#define FL_USER_MODIFIABLE 0x604BC0FFu

uint32_t e4_get_flags(struct e4_fs *fs, struct e4_ino *ip)
{
	struct e4_inode in;

	(void)fs;
	e4_ino_snapshot(ip, &in);
	return in.flags & FL_USER_VISIBLE;
}

/* chattr +F / -F: as ext4, only on a casefold file system, only of a
 * directory, and only while it is empty (its names would otherwise be
 * hashed and compared by the other rule). */
static int casefold_change_allowed(struct e4_fs *fs, const struct e4_inode *in)
{
	int err;

	if (!(fs->feature_incompat & E4_INCOMPAT_CASEFOLD))
		return -EOPNOTSUPP;
	if (!e4_inode_is_dir(in))
		return -ENOTDIR;
	err = e4_dir_is_empty(fs, in);
	if (err < 0)
		return err;
	return err ? 0 : -ENOTEMPTY;
}

int e4_set_flags(struct e4_fs *fs, struct e4_ino *ip, uint32_t flags)
{
	struct e4_writer *w = e4_writer_get(fs);
	struct e4_inode in;
	uint32_t changed;
	int err;

	if (!w)
		return -EROFS;
	e4_ino_lock(ip);
	in = ip->inode;
	changed = (in.flags ^ flags) & FL_USER_MODIFIABLE;
	/* what ext4 does not change through this call: the mapping kind
	 * (a migration), and the flags of features */
	if (changed & (E4_EXTENTS_FL | E4_DAX_FL | E4_JOURNAL_DATA_FL))
		err = -EOPNOTSUPP;
	else if (changed & E4_CASEFOLD_FL)
		err = casefold_change_allowed(fs, &in);
	/* an immutable or append-only inode changes only those two */
	else if ((in.flags & (E4_IMMUTABLE_FL | E4_APPEND_FL)) &&
		 (changed & ~(uint32_t)(E4_IMMUTABLE_FL | E4_APPEND_FL)))
		err = -EPERM;
	else
		err = changed ? 0 : 1;
	if (err) {
		e4_ino_unlock(ip);
		return err < 0 ? err : 0;
	}
	in.flags = (in.flags & ~FL_USER_MODIFIABLE) |
		   (flags & FL_USER_MODIFIABLE);
	in.ctime = e4_now();
	err = e4_inode_write_alone(fs, w, &in);
	if (!err)
		ip->inode = in;
	e4_ino_unlock(ip);
	return err;
}

/* ---- atime on reads ------------------------------------------------------ */

static int time_cmp(struct e4_time a, struct e4_time b)
{
	if (a.sec != b.sec)
		return a.sec < b.sec ? -1 : 1;
	return a.nsec < b.nsec ? -1 : a.nsec > b.nsec;
}

#define RELATIME_MAX_AGE (24 * 60 * 60)

/* The kernel's rule: relatime updates an atime not newer than the mtime
 * or the ctime, or a day old; none rewrites an atime that is now. */
static bool atime_wanted(const struct e4_writer *w, const struct e4_inode *in,
			 struct e4_time now)
{
	if (w->atime == E4_ATIME_NEVER || (in->flags & E4_NOATIME_FL) ||
	    (w->nodiratime && e4_inode_is_dir(in)))
		return false;
	if (!time_cmp(in->atime, now))
		return false;
	if (w->atime == E4_ATIME_STRICT)
		return true;
	return time_cmp(in->atime, in->mtime) <= 0 ||
	       time_cmp(in->atime, in->ctime) <= 0 ||
	       now.sec - in->atime.sec >= RELATIME_MAX_AGE;
}

int e4_touch_atime(struct e4_fs *fs, struct e4_ino *ip)
{
	struct e4_writer *w = e4_writer_get(fs);
	struct e4_time now = e4_now();
	struct e4_inode in;
	int err = 0;

	if (!w)
		return 0;	/* read-only: reads change nothing */
	e4_ino_snapshot(ip, &in);
	if (!atime_wanted(w, &in, now))
		return 0;	/* the common case: no lock taken */
	e4_ino_lock(ip);
	in = ip->inode;
	if (atime_wanted(w, &in, now)) {
		in.atime = now;
		err = e4_inode_write_alone(fs, w, &in);
		if (!err)
			ip->inode = in;
	}
	e4_ino_unlock(ip);
	return err;
}

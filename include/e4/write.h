/* SPDX-License-Identifier: MIT */
/*
 * libe4's write side: making a file system writable and changing it.
 *
 * Every operation changes metadata through transaction handles (every
 * block verified and checksummed before it is published), allocates with
 * e4fuse's own allocator, writes file data to newly allocated blocks before
 * the metadata pointing at them commits, and either completes or changes
 * nothing: a failure after part of a change was made aborts the
 * transaction and the file system goes read-only (-EROFS from then on),
 * with the image as the last commit left it.
 *
 * Permission checks are the caller's (the FUSE front end mounts with
 * default_permissions); the operations apply ext4's rules on what is
 * possible (names, links, emptiness, immutable and append-only files) and
 * return the kernel's errno.
 */
#ifndef E4_WRITE_H
#define E4_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "e4/e4.h"

/* When a read updates the inode's atime (the mount options of the same
 * names; relatime is the kernel's default). */
enum e4_atime_policy {
	E4_ATIME_RELATIME = 0,	/* when older than mtime/ctime or a day */
	E4_ATIME_STRICT,	/* at every read */
	E4_ATIME_NEVER,		/* noatime */
};

struct e4_write_opts {
	/* commit when this many bytes of metadata are dirty; 0: default */
	size_t dirty_limit;
	enum e4_atime_policy atime;
	bool nodiratime;	/* reading a directory leaves its atime */
};

/*
 * Make @fs writable.  Refused with -EROFS, the reason logged with the
 * feature or state named, when: the device is read-only; the open forced
 * read-only (errors recorded, unknown read-only features...); the journal
 * needs recovery; the file system was not unmounted cleanly; it uses a
 * feature e4fuse does not write yet.  Then clears the valid bit in the
 * superblock (written at once), so an interrupted session is checked, as
 * the kernel does without a journal.
 */
int e4_fs_begin_write(struct e4_fs *fs, const struct e4_write_opts *opts);
/* Whether begin_write succeeded and nothing made the file system
 * read-only since. */
bool e4_fs_writable(struct e4_fs *fs);
/* @ip was read (a file's data, a directory's names, a symlink's target):
 * set its atime to now where the policy says the kernel's ext4 would (not
 * for inodes flagged noatime; nothing on a read-only file system).  An
 * error here should not fail the read. */
int e4_touch_atime(struct e4_fs *fs, struct e4_ino *ip);
/* Make everything changed so far durable (fsync, the commit timer). */
int e4_fs_sync(struct e4_fs *fs);
/* fsync(2) of inode @ino: its data and every change to it durable (with
 * @datasync, fdatasync(2): its data and what reading it needs, not a
 * time alone); a directory's entries with it.  Commits only as far as
 * its last change needs. */
int e4_fs_fsync(struct e4_fs *fs, uint32_t ino, bool datasync);
/* Sync, write the exact free counts and set the valid bit again: a clean
 * unmount.  The file system stays open, read-only. */
int e4_fs_end_write(struct e4_fs *fs);

/* errors=remount-ro: corruption was found while writing.  What the
 * session changed and did not commit yet is dropped, nothing more is
 * written (the file system stays readable), and the error is recorded in
 * the superblock (the error bit, count, first and last error), as the
 * kernel records it. */
int e4_fs_error_remount_ro(struct e4_fs *fs);

/* Who makes a new inode: its owner, and the group it gets unless the
 * directory is setgid. */
struct e4_cred {
	uint32_t uid, gid;
	uint32_t umask;		/* applied unless a default ACL applies */
};

/* A new inode named @name in @dir: a regular file, fifo, socket or device
 * (@mode's type; @rdev for devices), a directory with e4_mkdir, a symlink
 * with e4_symlink.  -EEXIST, -ENAMETOOLONG, -EMLINK (a directory's link
 * count), -ENOSPC. */
int e4_mknod(struct e4_fs *fs, struct e4_ino *dir, const char *name,
	     size_t len, uint32_t mode, uint32_t rdev_major,
	     uint32_t rdev_minor, const struct e4_cred *cred,
	     struct e4_ino **out);
int e4_mkdir(struct e4_fs *fs, struct e4_ino *dir, const char *name,
	     size_t len, uint32_t mode, const struct e4_cred *cred,
	     struct e4_ino **out);
int e4_symlink(struct e4_fs *fs, struct e4_ino *dir, const char *name,
	       size_t len, const char *target, size_t target_len,
	       const struct e4_cred *cred, struct e4_ino **out);
/* An O_TMPFILE inode (@mode a regular file's) in @dir: no name, no links,
 * an orphan until e4_link gives it a name; it goes with its last reference
 * if none does. */
int e4_tmpfile(struct e4_fs *fs, struct e4_ino *dir, uint32_t mode,
	       const struct e4_cred *cred, struct e4_ino **out);
/* Another name for @ip (not a directory: -EPERM; no links and not an
 * O_TMPFILE inode: -ENOENT). */
int e4_link(struct e4_fs *fs, struct e4_ino *ip, struct e4_ino *dir,
	    const char *name, size_t len);
/* Remove a name; the inode goes when its last link and last reference do
 * (e4_iput).  -EISDIR / -ENOTDIR / -ENOTEMPTY as the kernel. */
int e4_unlink(struct e4_fs *fs, struct e4_ino *dir, const char *name,
	      size_t len);
int e4_rmdir(struct e4_fs *fs, struct e4_ino *dir, const char *name,
	     size_t len);

/* rename(2) and renameat2's flags (the values of <linux/fs.h>). */
#define E4_RENAME_NOREPLACE (1u << 0)
#define E4_RENAME_EXCHANGE (1u << 1)
#define E4_RENAME_WHITEOUT (1u << 2)
/* Move @oname of @odir to @nname of @ndir: replacing what is there (an
 * empty directory by a directory, a non-directory by a non-directory),
 * unless NOREPLACE (-EEXIST); EXCHANGE swaps two names; WHITEOUT leaves a
 * whiteout (a 0:0 character device) at the old name.  A directory moved
 * into itself: -EINVAL. */
int e4_rename(struct e4_fs *fs, struct e4_ino *odir, const char *oname,
	      size_t olen, struct e4_ino *ndir, const char *nname,
	      size_t nlen, unsigned flags);

/* Write @len bytes at @off; returns the bytes written: fewer where the
 * space or the largest file size ran out after some were (the next call
 * then fails), else an error: -ENOSPC, -EFBIG past the largest file. */
ssize_t e4_write(struct e4_fs *fs, struct e4_ino *ip, uint64_t off,
		 const void *buf, size_t len);
/* copy_file_range(2): @len bytes from @src at @off_in to @dst at @off_out
 * (the data read and written again); returns the bytes copied (short at
 * the source's end). */
ssize_t e4_copy_range(struct e4_fs *fs, struct e4_ino *src, uint64_t off_in,
		      struct e4_ino *dst, uint64_t off_out, uint64_t len);
/* A writer of inode @ino closed it: the free space kept ahead of its
 * writes goes back to everyone. */
void e4_file_release(struct e4_fs *fs, uint32_t ino);
/* Set the size: blocks past it are freed, a partial last block zeroed. */
int e4_truncate(struct e4_fs *fs, struct e4_ino *ip, uint64_t size);

/* fallocate(2)'s modes (the values of <linux/falloc.h>). */
#define E4_FALLOC_KEEP_SIZE 0x01u
#define E4_FALLOC_PUNCH_HOLE 0x02u
#define E4_FALLOC_COLLAPSE_RANGE 0x08u
#define E4_FALLOC_ZERO_RANGE 0x10u
#define E4_FALLOC_INSERT_RANGE 0x20u
/* fallocate(2) as ext4 does it: preallocation (unwritten extents), holes
 * punched, ranges zeroed, whole blocks collapsed or inserted; the kernel's
 * errno for each misuse. */
int e4_fallocate(struct e4_fs *fs, struct e4_ino *ip, unsigned mode,
		 uint64_t off, uint64_t len);

/* setxattr(2)'s flags (the values of <sys/xattr.h>). */
#define E4_XATTR_CREATE 0x1u
#define E4_XATTR_REPLACE 0x2u
/* Setting an access ACL clears the setgid bit (the caller is not in the
 * file's group: the kernel's FUSE_SETXATTR_ACL_KILL_SGID). */
#define E4_XATTR_KILL_SGID 0x100u
/* Set attribute @name (a full name: "user.x", "system.posix_acl_access"
 * in the xattr ABI) to @size bytes of @value; -EEXIST, -ENODATA as the
 * flags say, -EOPNOTSUPP for a namespace ext4 does not keep, -ENOSPC when
 * it does not fit, -EPERM on immutable or append-only inodes.  POSIX ACLs
 * as ext4 keeps them: an access ACL sets the permission bits of the mode
 * and is not stored when it says no more than they do; the flags CREATE
 * and REPLACE do not apply to them, and removing one that is not there
 * succeeds; a default ACL only on a directory (-EACCES). */
int e4_setxattr(struct e4_fs *fs, struct e4_ino *ip, const char *name,
		const void *value, size_t size, unsigned flags);
int e4_removexattr(struct e4_fs *fs, struct e4_ino *ip, const char *name);

/* What e4_setattr changes (struct e4_setattr.valid). */
#define E4_SET_MODE (1u << 0)
#define E4_SET_UID (1u << 1)
#define E4_SET_GID (1u << 2)
#define E4_SET_SIZE (1u << 3)
#define E4_SET_ATIME (1u << 4)		/* to .atime */
#define E4_SET_MTIME (1u << 5)
#define E4_SET_ATIME_NOW (1u << 6)
#define E4_SET_MTIME_NOW (1u << 7)
#define E4_SET_CTIME (1u << 8)
/* A write or truncate by someone who may not keep setuid and setgid
 * (without CAP_FSETID): setuid goes, setgid when the group may execute
 * (a chown or chgrp drops them the same way, by anyone). */
#define E4_SET_KILL_SUIDGID (1u << 9)
/* With it (or a chown): setgid goes whatever the group may do, the
 * caller not being in the file's group (the VFS's setattr_should_drop_sgid) */
#define E4_SET_KILL_SGID (1u << 11)
/* The times given are those writes implied (a page cache writing back),
 * not a utimes: allowed on an append-only inode. */
#define E4_SET_WRITE_TIMES (1u << 10)

struct e4_setattr {
	unsigned valid;
	uint32_t mode;		/* permission bits (07777) */
	uint32_t uid, gid;
	uint64_t size;
	struct e4_time atime, mtime, ctime;
};
/* chmod, chown, truncate, utimes, as ext4 applies them: an immutable
 * inode changes nothing (-EPERM), an append-only one neither its owner,
 * mode, times nor size; ctime is now unless given. */
int e4_setattr(struct e4_fs *fs, struct e4_ino *ip, const struct e4_setattr *a);

/* The inode flags chattr sees (FS_IOC_GETFLAGS), and setting the ones it
 * may change (FS_IOC_SETFLAGS; the caller checked the capability for
 * immutable and append-only).  -EOPNOTSUPP for a change ext4 does not do
 * this way (the mapping kind, feature flags). */
uint32_t e4_get_flags(struct e4_fs *fs, struct e4_ino *ip);
int e4_set_flags(struct e4_fs *fs, struct e4_ino *ip, uint32_t flags);

/* ---- writes the caller's device I/O does (fuse-iomap, iomap_write.c) ---- */

/* e4_map_for_write's @flags */
#define E4_MAPW_ALLOCATE 0x1u	/* a hole gets unwritten blocks */
#define E4_MAPW_KEEP_INLINE 0x2u	/* an inline file written within its
					 * first block stays inline */
/*
 * Where a write at byte @off (up to @end) of regular file @ip may put its
 * data: the run holding @off's block, as long as it goes (e4_map_range's
 * answer, from the block's start).  With E4_MAPW_ALLOCATE a hole there
 * gets unwritten blocks first, at most up to @end and one extent's worth,
 * and *@fresh says so; the space is promised before anything changes, so
 * -ENOSPC leaves nothing half done.  An inline file is converted to an
 * extent-mapped one first (unless E4_MAPW_KEEP_INLINE and @end is within
 * its first block: then the INLINE range).  -EFBIG at or past the largest
 * size, -EPERM immutable, -EOPNOTSUPP for block-mapped files (they cannot
 * hold unwritten blocks).  The caller writes the data, then calls
 * e4_unwritten_convert for it.
 */
int e4_map_for_write(struct e4_fs *fs, struct e4_ino *ip, uint64_t off,
		     uint64_t end, unsigned flags, struct e4_range *out,
		     bool *fresh);
/*
 * The data of [off, off + len) is on the device: its unwritten blocks
 * (whole blocks, rounded out) become written, and the size at least @size
 * (0: unchanged), in one handle while its credits allow (one completion,
 * one transaction), the inode written once.  *@new_size: the size after
 * (also on failure).
 */
int e4_unwritten_convert(struct e4_fs *fs, struct e4_ino *ip, uint64_t off,
			 uint64_t len, uint64_t size, uint64_t *new_size);
/* A write stopped short: the unwritten blocks wholly inside [off, off +
 * len) are unmapped and freed (written ones stay). */
int e4_unwritten_release(struct e4_fs *fs, struct e4_ino *ip, uint64_t off,
			 uint64_t len);

#endif /* E4_WRITE_H */

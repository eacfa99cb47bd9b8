/* SPDX-License-Identifier: MIT */
/*
 * Names: creating inodes, links, removing names, and deleting an inode when
 * its last link and its last reference are gone (see e4/write.h).
 *
 * Each operation locks the directory's in-core inode (then the child's),
 * changes working copies in one handle, and installs them in the in-core
 * inodes only when the handle's changes all went through.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/writer.h"
#include "util/hmap.h"

/* Flags a new inode takes from its directory (the kernel's
 * EXT4_FL_INHERITED), and what of them each kind keeps. */
#define INHERITED_FL (E4_SECRM_FL | E4_UNRM_FL | E4_COMPR_FL | E4_SYNC_FL | \
		      E4_NODUMP_FL | E4_NOATIME_FL | E4_NOCOMPR_FL |	      \
		      E4_JOURNAL_DATA_FL | E4_NOTAIL_FL | E4_DIRSYNC_FL |     \
		      E4_PROJINHERIT_FL | E4_CASEFOLD_FL | E4_DAX_FL)
#define REG_FL_MASK (~(uint32_t)(E4_DIRSYNC_FL | E4_TOPDIR_FL | \
				  E4_CASEFOLD_FL | E4_PROJINHERIT_FL))
#define OTHER_FL_MASK (E4_NODUMP_FL | E4_NOATIME_FL)

/* Credits of a new inode: its bitmap and descriptor, its record, the
 * directory's entry (perhaps a new block), the directory's inode, and for a
 * directory its first block. */
#define CREATE_CREDITS \
	(E4_ALLOC_INODE_CREDITS + 1u + E4_DIR_ADD_CREDITS + 1u + \
	 E4_ALLOC_BLOCK_CREDITS + E4_EXT_INSERT_CREDITS + 1u)
#define UNLINK_CREDITS (E4_DIR_REMOVE_CREDITS + 2u + E4_ORPHAN_CREDITS)

static uint8_t ftype_of(uint16_t mode)
{
	switch (mode & E4_S_IFMT) {
	case E4_S_IFREG: return E4_FT_REG;
	case E4_S_IFDIR: return E4_FT_DIR;
	case E4_S_IFCHR: return E4_FT_CHR;
	case E4_S_IFBLK: return E4_FT_BLK;
	case E4_S_IFIFO: return E4_FT_FIFO;
	case E4_S_IFSOCK: return E4_FT_SOCK;
	case E4_S_IFLNK: return E4_FT_SYMLINK;
	default: return E4_FT_UNKNOWN;
	}
}

static bool is_dot_or_dotdot(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') ||
	       (len == 2 && name[0] == '.' && name[1] == '.');
}

/* A name a new entry may take in @dir: -EEXIST if taken. */
static int check_new_name(struct e4_fs *fs, const struct e4_inode *dir,
			  const char *name, size_t len)
{
	uint32_t ino;
	int err;

	if (len == 0)
		return -ENOENT;
	if (len > E4_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return -EINVAL;
	if (is_dot_or_dotdot(name, len))
		return -EEXIST;
	if (!e4_inode_is_dir(dir))
		return -ENOTDIR;
	if (dir->links == 0)
		return -ENOENT;	/* removed while we held it */
	if (dir->flags & (E4_IMMUTABLE_FL | E4_APPEND_FL))
		return -EPERM;
	/* in a case-insensitive directory this is any case of the name */
	err = e4_dir_lookup(fs, dir, name, len, &ino, NULL);
	if (!err)
		return -EEXIST;
	if (err != -ENOENT)
		return err;
	/* a new name in an encrypted directory is encrypted with a key
	 * e4fuse does not have: the kernel's answer without it */
	if (e4_inode_is_encrypted(fs, dir))
		return -ENOKEY;
	return e4_dir_name_allowed(fs, dir, name, len);
}

/* A directory an O_TMPFILE inode may be made in. */
static int check_tmpfile_dir(struct e4_fs *fs, const struct e4_inode *dir)
{
	if (!e4_inode_is_dir(dir))
		return -ENOTDIR;
	if (dir->links == 0)
		return -ENOENT;
	if (dir->flags & E4_IMMUTABLE_FL)
		return -EPERM;
	if (e4_inode_is_encrypted(fs, dir))
		return -ENOKEY;
	return 0;
}

/* The fields of a new inode @ino of kind @mode in @dir. */
static void new_inode_fields(struct e4_fs *fs, const struct e4_inode *dir,
			     uint32_t ino, uint32_t mode,
			     const struct e4_cred *cred, struct e4_inode *in)
{
	uint16_t want = e4_le16(fs->sb_raw, E4_SB_SIZE, E4_SB_WANT_EXTRA_ISIZE);
	uint32_t room = fs->inode_size - E4_GOOD_OLD_INODE_SIZE;
	uint32_t flags = dir->flags & INHERITED_FL;
	struct e4_time now = e4_now();

	memset(in, 0, sizeof(*in));
	in->ino = ino;
	in->mode = (uint16_t)mode;
	in->uid = cred->uid;
	in->gid = cred->gid;
	if (dir->mode & 02000) {	/* setgid directory: its group */
		in->gid = dir->gid;
		if ((mode & E4_S_IFMT) == E4_S_IFDIR)
			in->mode |= 02000;
	}
	in->links = (mode & E4_S_IFMT) == E4_S_IFDIR ? 2 : 1;
	in->atime = in->mtime = in->ctime = in->crtime = now;
	in->generation = (uint32_t)e4_random_seed();
	if (fs->inode_size > E4_GOOD_OLD_INODE_SIZE) {
		if (want == 0 || want > room || want % 4)
			want = 32 <= room ? 32 : (uint16_t)room;
		in->extra_isize = want;
		in->has_crtime = E4_I_CRTIME + 4 <= E4_GOOD_OLD_INODE_SIZE + want;
	}
	switch (mode & E4_S_IFMT) {
	case E4_S_IFDIR:
		break;
	case E4_S_IFREG:
		flags &= REG_FL_MASK;
		break;
	default:
		flags &= OTHER_FL_MASK;
	}
	in->flags = flags;
	if ((fs->feature_incompat & E4_INCOMPAT_EXTENTS) &&
	    ((mode & E4_S_IFMT) == E4_S_IFDIR ||
	     (mode & E4_S_IFMT) == E4_S_IFREG ||
	     (mode & E4_S_IFMT) == E4_S_IFLNK))
		e4_ext_tree_init(in);
}

/* Take a directory's link for a new subdirectory (§4.7): up to 65,000
 * links; with dir_nlink an indexed directory's count that would pass it
 * becomes 1, "many", and stays 1; otherwise EMLINK. */
static int dir_link_up(struct e4_fs *fs, struct e4_inode *dir)
{
	bool many = (fs->feature_ro_compat & E4_RO_COMPAT_DIR_NLINK) &&
		    (dir->flags & E4_INDEX_FL);

	if (dir->links == 1 && (fs->feature_ro_compat & E4_RO_COMPAT_DIR_NLINK))
		return 0;
	if (dir->links >= E4_LINK_MAX) {
		if (!many)
			return -EMLINK;
		dir->links = 1;
		return 0;
	}
	dir->links++;
	return 0;
}

static void dir_link_down(struct e4_inode *dir)
{
	if (dir->links > 2)
		dir->links--;
}

/* A create that failed before its name was added: the blocks the new
 * inode got and the inode itself go back, in the same handle; if even that
 * fails, the transaction cannot stand. */
static void undo_create(struct e4_fs *fs, struct e4_writer *w,
			struct e4_handle *h, struct e4_map_change *ic,
			bool is_dir, int why)
{
	uint64_t cursor = 0;
	int err = 0;

	(void)fs;
	if (ic->inode->blocks_512)
		err = e4_map_remove(ic, &cursor, 0xFFFFFFFFull);
	if (!err)
		err = e4_free_inode(w->alloc, h, ic->inode->ino, is_dir);
	if (err)
		e4_handle_abort(h, why);
}

/*
 * The one body of mknod, mkdir, symlink and tmpfile: a new inode of @mode
 * named @name in @dir_ip (with no name, an O_TMPFILE inode: no links, an
 * orphan from the start); @fill completes it (a symlink's target) in the
 * same handle before its record is written.  The ACLs it inherits are set
 * once it exists; if that fails, its name goes again.
 */
typedef int (*fill_fn)(struct e4_fs *fs, struct e4_map_change *c, void *ctx);

static int remove_name(struct e4_fs *fs, struct e4_ino *dir_ip,
		       const char *name, size_t len, bool rmdir);

static int create(struct e4_fs *fs, struct e4_ino *dir_ip, const char *name,
		  size_t len, uint32_t mode, const struct e4_cred *cred,
		  fill_fn fill, void *ctx, uint32_t rdev_major,
		  uint32_t rdev_minor, struct e4_ino **out)
{
	struct e4_writer *w = e4_writer_get(fs);
	bool is_dir = (mode & E4_S_IFMT) == E4_S_IFDIR;
	bool tmpfile = name == NULL;
	struct e4_acl_inherit acls;
	struct e4_inode dir, in;
	struct e4_map_change dc, ic;
	struct e4_handle h;
	struct e4_ino *ip = NULL;
	uint32_t ino = 0;
	unsigned retries = 0;
	int err, e2;

	if (!w)
		return -EROFS;
	e4_ino_lock(dir_ip);
	err = e4_acl_inherit_prepare(fs, &dir_ip->inode, &mode, cred->umask,
				     &acls);
	if (err)
		goto unlock;
retry:
	dir = dir_ip->inode;
	err = tmpfile ? check_tmpfile_dir(fs, &dir) :
			check_new_name(fs, &dir, name, len);
	if (!err && is_dir)
		err = dir_link_up(fs, &dir);
	if (err)
		goto unlock;
	err = e4_handle_start(w->txm, CREATE_CREDITS + E4_ORPHAN_CREDITS, &h);
	if (err)
		goto unlock;
	err = e4_alloc_inode(w->alloc, &h, dir.ino, is_dir, &ino);
	if (err)
		goto stop;
	new_inode_fields(fs, &dir, ino, mode, cred, &in);
	if (tmpfile)
		in.links = 0;
	in.rdev_major = rdev_major;
	in.rdev_minor = rdev_minor;
	ic = e4_map_change_of(fs, w, &h, &in);
	dc = e4_map_change_of(fs, w, &h, &dir);
	/* its record first: an inline directory's attribute area is
	 * built on it */
	err = e4_inode_write(fs, &h, &in, true);
	if (!err && is_dir)
		err = e4_dir_init(&ic, dir.ino);
	if (!err && fill)
		err = fill(fs, &ic, ctx);
	/* the name last of what may run out of space: until it is there,
	 * a failure (no room for a block, a full directory) is undone */
	if (!err)
		err = tmpfile ? e4_orphan_add(fs, w, &h, ino) :
				e4_dir_add(&dc, name, len, ino,
					   ftype_of(in.mode));
	if (err && !e4_txm_aborted(w->txm))
		undo_create(fs, w, &h, &ic, is_dir, err);
	else if (!err) {
		err = e4_inode_write(fs, &h, &in, false);
		dir.mtime = dir.ctime = in.ctime;
		if (!err && !tmpfile)
			err = e4_inode_write(fs, &h, &dir, false);
		if (err)
			e4_handle_abort(&h, err);
	}
stop:
	e2 = e4_handle_stop(&h);
	if (!err)
		err = e2;
	if (!err && !tmpfile)
		dir_ip->inode = dir;
	else if (err && e4_writer_retry_alloc(w, err, &retries))
		goto retry;
unlock:
	e4_ino_unlock(dir_ip);
	if (!err && (out || acls.access || acls.def || tmpfile))
		err = e4_iget_made(fs, &in, &ip);
	if (!err && tmpfile) {
		e4_ino_lock(ip);
		ip->linkable = true;
		e4_ino_unlock(ip);
	}
	if (!err && ip) {
		err = e4_acl_inherit_apply(fs, ip, &acls);
		if (err && !tmpfile && remove_name(fs, dir_ip, name, len,
						   is_dir) < 0)
			e4_log(fs, E4_LOG_ERROR,
			       "inode %u: made, but neither its ACLs nor its removal went through",
			       ino);
	}
	e4_acl_inherit_free(&acls);
	if (!err && out)
		*out = ip;
	else
		e4_iput(fs, ip);	/* a tmpfile nobody holds goes */
	return err;
}

int e4_mknod(struct e4_fs *fs, struct e4_ino *dir, const char *name,
	     size_t len, uint32_t mode, uint32_t rdev_major,
	     uint32_t rdev_minor, const struct e4_cred *cred,
	     struct e4_ino **out)
{
	switch (mode & E4_S_IFMT) {
	case E4_S_IFREG: case E4_S_IFCHR: case E4_S_IFBLK:
	case E4_S_IFIFO: case E4_S_IFSOCK:
		break;
	default:
		return -EINVAL;
	}
	return create(fs, dir, name, len, mode, cred, NULL, NULL, rdev_major,
		      rdev_minor, out);
}

int e4_tmpfile(struct e4_fs *fs, struct e4_ino *dir, uint32_t mode,
	       const struct e4_cred *cred, struct e4_ino **out)
{
	if ((mode & E4_S_IFMT) != E4_S_IFREG)
		return -EINVAL;
	return create(fs, dir, NULL, 0, mode, cred, NULL, NULL, 0, 0, out);
}

int e4_mkdir(struct e4_fs *fs, struct e4_ino *dir, const char *name,
	     size_t len, uint32_t mode, const struct e4_cred *cred,
	     struct e4_ino **out)
{
	return create(fs, dir, name, len, E4_S_IFDIR | (mode & 07777), cred,
		      NULL, NULL, 0, 0, out);
}

struct symlink_target {
	const char *target;
	size_t len;
};

/* §10: a target shorter than i_block lives in it (a fast symlink, no
 * extents); a longer one in a data block. */
static int fill_symlink(struct e4_fs *fs, struct e4_map_change *c, void *ctx)
{
	const struct symlink_target *t = ctx;
	struct e4_inode *in = c->inode;
	uint64_t pblk, n;
	int err;

	in->size = t->len;
	if (t->len < sizeof(in->i_block)) {
		memset(in->i_block, 0, sizeof(in->i_block));
		memcpy(in->i_block, t->target, t->len);
		in->flags &= ~(uint32_t)E4_EXTENTS_FL;
		return 0;
	}
	/* one block, no reservation window (nobody writes on) */
	err = e4_alloc_for_hole(c, 0, 1, 1, 0, true, &pblk, &n);
	if (err)
		return err;
	/* the data before the mapping that points at it */
	err = e4_dev_pwrite(fs->dev, t->target, t->len,
			    pblk << fs->log_block_size);
	if (!err) {
		static const uint8_t zero[1];

		err = e4_dev_pwrite(fs->dev, zero, 1,
				    (pblk << fs->log_block_size) + t->len);
	}
	return err ? err : e4_map_insert(c, 0, 1, pblk);
}

int e4_symlink(struct e4_fs *fs, struct e4_ino *dir, const char *name,
	       size_t len, const char *target, size_t target_len,
	       const struct e4_cred *cred, struct e4_ino **out)
{
	struct symlink_target t = { target, target_len };

	if (target_len == 0)
		return -ENOENT;
	if (target_len >= fs->block_size || target_len >= 4096)
		return -ENAMETOOLONG;
	return create(fs, dir, name, len, E4_S_IFLNK | 0777, cred,
		      fill_symlink, &t, 0, 0, out);
}

int e4_link(struct e4_fs *fs, struct e4_ino *ip, struct e4_ino *dir_ip,
	    const char *name, size_t len)
{
	struct e4_writer *w = e4_writer_get(fs);
	struct e4_inode dir, in;
	struct e4_map_change dc;
	struct e4_handle h;
	unsigned retries = 0;
	int err, e2;

	if (!w)
		return -EROFS;
	if (ip == dir_ip)
		return -EPERM;
	e4_ino_lock(dir_ip);
	e4_ino_lock(ip);
retry:
	dir = dir_ip->inode;
	in = ip->inode;
	err = check_new_name(fs, &dir, name, len);
	if (!err && e4_inode_is_dir(&in))
		err = -EPERM;
	if (!err && (in.flags & (E4_IMMUTABLE_FL | E4_APPEND_FL)))
		err = -EPERM;
	/* no links: only an O_TMPFILE inode gets a first name (the
	 * kernel's I_LINKABLE); an unlinked open file does not */
	if (!err && in.links == 0 && !ip->linkable)
		err = -ENOENT;
	if (!err && in.links >= E4_LINK_MAX)
		err = -EMLINK;
	if (err)
		goto unlock;
	err = e4_handle_start(w->txm, E4_DIR_ADD_CREDITS + 2u +
				      E4_ORPHAN_CREDITS, &h);
	if (err)
		goto unlock;
	dc = e4_map_change_of(fs, w, &h, &dir);
	err = e4_dir_add(&dc, name, len, in.ino, ftype_of(in.mode));
	if (!err && in.links == 0) {
		err = e4_orphan_del(fs, w, &h, in.ino);
		in.dtime = 0;	/* it held the next orphan */
		if (err)
			e4_handle_abort(&h, err);
	}
	if (!err) {
		in.links++;
		in.ctime = e4_now();
		dir.mtime = dir.ctime = in.ctime;
		err = e4_inode_write(fs, &h, &in, false);
		if (!err)
			err = e4_inode_write(fs, &h, &dir, false);
		if (err)
			e4_handle_abort(&h, err);
	}
	e2 = e4_handle_stop(&h);
	if (!err)
		err = e2;
	if (!err) {
		dir_ip->inode = dir;
		ip->inode = in;
		ip->linkable = false;
	} else if (e4_writer_retry_alloc(w, err, &retries)) {
		goto retry;
	}
unlock:
	e4_ino_unlock(ip);
	e4_ino_unlock(dir_ip);
	return err;
}

/* The one body of unlink and rmdir. */
static int remove_name(struct e4_fs *fs, struct e4_ino *dir_ip,
		       const char *name, size_t len, bool rmdir)
{
	struct e4_writer *w = e4_writer_get(fs);
	struct e4_inode dir, in;
	struct e4_dir_slot slot;
	struct e4_ino *ip = NULL;
	struct e4_handle h;
	int err, e2;

	if (!w)
		return -EROFS;
	if (len > E4_NAME_MAX)
		return -ENAMETOOLONG;
	if (rmdir && len == 1 && name[0] == '.')
		return -EINVAL;
	if (rmdir && is_dot_or_dotdot(name, len))
		return -ENOTEMPTY;
	if (is_dot_or_dotdot(name, len))
		return -EISDIR;
	e4_ino_lock(dir_ip);
	dir = dir_ip->inode;
	err = e4_inode_is_dir(&dir) ? 0 : -ENOTDIR;
	if (!err && (dir.flags & (E4_IMMUTABLE_FL | E4_APPEND_FL)))
		err = -EPERM;
	if (!err)
		err = e4_dir_find_slot(fs, &dir, name, len, &slot);
	if (!err && slot.ino == dir.ino)	/* its lock is held: refuse */
		err = e4_name_refused(fs, dir.ino, name, slot.ino,
				      "its own directory,", E4_RULE_DIR_TARGET,
				      -EUCLEAN);
	if (!err)
		err = e4_iget_named(fs, dir.ino, name, slot.ino, &ip);
	if (err)
		goto unlock;
	e4_ino_lock(ip);
	in = ip->inode;
	if (rmdir && !e4_inode_is_dir(&in))
		err = -ENOTDIR;
	else if (!rmdir && e4_inode_is_dir(&in))
		err = -EISDIR;
	else if (in.flags & (E4_IMMUTABLE_FL | E4_APPEND_FL))
		err = -EPERM;
	else if (rmdir && (err = e4_dir_is_empty(fs, &in)) >= 0)
		err = err ? 0 : -ENOTEMPTY;
	if (err)
		goto unlock_child;
	err = e4_handle_start(w->txm, UNLINK_CREDITS, &h);
	if (err)
		goto unlock_child;
	err = e4_dir_remove(fs, &h, &dir, &slot);
	if (!err) {
		in.ctime = e4_now();
		dir.mtime = dir.ctime = in.ctime;
		if (rmdir) {
			in.links = 0;	/* its "." and its name */
			dir_link_down(&dir);
		} else if (in.links > 0) {
			in.links--;
		}
		/* until its last reference goes (e4_iput deletes it) */
		if (in.links == 0)
			err = e4_orphan_add(fs, w, &h, in.ino);
		if (!err)
			err = e4_inode_write(fs, &h, &in, false);
		if (!err)
			err = e4_inode_write(fs, &h, &dir, false);
		if (err)
			e4_handle_abort(&h, err);
	}
	e2 = e4_handle_stop(&h);
	if (!err)
		err = e2;
	if (!err) {
		dir_ip->inode = dir;
		ip->inode = in;
	}
unlock_child:
	e4_ino_unlock(ip);
unlock:
	e4_ino_unlock(dir_ip);
	e4_iput(fs, ip);	/* the last reference of an unlinked inode
				 * deletes it */
	return err;
}

int e4_unlink(struct e4_fs *fs, struct e4_ino *dir, const char *name,
	      size_t len)
{
	return remove_name(fs, dir, name, len, false);
}

int e4_rmdir(struct e4_fs *fs, struct e4_ino *dir, const char *name,
	     size_t len)
{
	return remove_name(fs, dir, name, len, true);
}

/* ---- deleting an inode ------------------------------------------------------ */

/* Free @in's blocks, its xattr block (or its share of it) and itself;
 * with @gone, one reference less to each EA inode its attributes name,
 * those left without users returned there (malloc'd) for the caller to
 * delete. */
static int delete_one(struct e4_fs *fs, struct e4_inode *in, uint32_t **gone,
		      size_t *ngone)
{
	struct e4_writer *w = e4_writer_get(fs);
	/* a fast symlink's target is its i_block (§10) */
	bool has_blocks = e4_inode_is_dir(in) || e4_inode_is_reg(in) ||
			  (e4_inode_is_symlink(in) &&
			   in->size >= sizeof(in->i_block));
	struct e4_handle h;
	uint32_t *ea = NULL;
	size_t nea = 0;
	int err = 0, e2;

	if (!w)
		return -EROFS;
	if (has_blocks)
		err = e4_file_free_from(fs, w, in, 0);
	/* the values its attributes keep in EA inodes lose a user */
	if (!err && gone)
		err = e4_xattr_ea_refs(fs, in, &ea, &nea);
	if (!err && nea && !(*gone = malloc(nea * sizeof(**gone))))
		err = -ENOMEM;
	if (err)
		goto out;
	err = e4_handle_start(w->txm, E4_ALLOC_BLOCK_CREDITS + 2u +
				      E4_ALLOC_INODE_CREDITS + E4_ORPHAN_CREDITS +
				      (unsigned)nea * E4_EA_REF_CREDITS,
			      &h);
	if (err)
		goto out;
	err = e4_orphan_del(fs, w, &h, in->ino);
	for (size_t i = 0; !err && i < nea; i++) {
		bool last = false;

		err = e4_ea_inode_ref(fs, w, &h, in->ino, ea[i], -1, &last);
		if (last)
			(*gone)[(*ngone)++] = ea[i];
	}
	if (!err)
		err = e4_xattr_block_release(fs, w, &h, in);
	if (!err) {
		in->dtime = (uint32_t)e4_now().sec;
		in->size = 0;
		err = e4_inode_write(fs, &h, in, false);
	}
	if (!err)
		err = e4_free_inode(w->alloc, &h, in->ino, e4_inode_is_dir(in));
	if (err)
		e4_handle_abort(&h, err);
	e2 = e4_handle_stop(&h);
	if (!err)
		err = e2;
out:
	free(ea);
	return err;
}

int e4_inode_delete(struct e4_fs *fs, struct e4_inode *in)
{
	uint32_t *gone = NULL;
	size_t ngone = 0;
	/* an EA inode's own attributes name nothing (a hostile one's are
	 * not followed: no chain of EA inodes) */
	int err = delete_one(fs, in, (in->flags & E4_EA_INODE_FL) ? NULL : &gone,
			     &ngone);

	for (size_t i = 0; !err && i < ngone; i++)
		e4_ea_inode_delete(fs, gone[i]);
	free(gone);
	return err;
}

int e4_inode_delete_alone(struct e4_fs *fs, struct e4_inode *in)
{
	return delete_one(fs, in, NULL, NULL);
}

/* ---- rename ----------------------------------------------------------------- */

#define RENAME_CREDITS \
	(2u * E4_DIR_ADD_CREDITS + 4u * E4_DIR_REMOVE_CREDITS + 6u + \
	 E4_ALLOC_INODE_CREDITS + E4_ORPHAN_CREDITS)
/* How far up ".." a rename looks for its source among the target's
 * ancestors: the deepest tree a path can name (PATH_MAX / 2). */
#define ANCESTRY_MAX 2048u

/* Whether directory @anc is @dir or one of its ancestors. */
static int is_ancestor(struct e4_fs *fs, uint32_t anc, uint32_t dir)
{
	uint32_t ino = dir;

	for (unsigned depth = 0; depth < ANCESTRY_MAX; depth++) {
		struct e4_inode in;
		uint32_t parent;
		int err;

		if (ino == anc)
			return 1;
		if (ino == E4_ROOT_INO)
			return 0;
		err = e4_inode_read(fs, ino, &in);
		if (!err)
			err = e4_dir_lookup(fs, &in, "..", 2, &parent, NULL);
		if (err)
			return err;
		if (parent == ino)
			return 0;
		ino = parent;
	}
	return -ELOOP;
}

/* What the checks of rename(2) say of moving @src over @dst (NULL: no
 * target) with @flags. */
static int rename_allowed(struct e4_fs *fs, const struct e4_inode *odir,
			  const struct e4_inode *ndir,
			  const struct e4_inode *src, const struct e4_inode *dst,
			  unsigned flags)
{
	bool src_dir = e4_inode_is_dir(src);
	int err;

	if ((odir->flags | ndir->flags) & (E4_IMMUTABLE_FL | E4_APPEND_FL))
		return -EPERM;
	if (src->flags & (E4_IMMUTABLE_FL | E4_APPEND_FL))
		return -EPERM;
	if (dst && (dst->flags & (E4_IMMUTABLE_FL | E4_APPEND_FL)))
		return -EPERM;
	if (ndir->links == 0)
		return -ENOENT;
	if (flags & E4_RENAME_EXCHANGE)
		return dst ? 0 : -ENOENT;
	if (dst && (flags & E4_RENAME_NOREPLACE))
		return -EEXIST;
	if (dst && src_dir && !e4_inode_is_dir(dst))
		return -ENOTDIR;
	if (dst && !src_dir && e4_inode_is_dir(dst))
		return -EISDIR;
	if (dst && e4_inode_is_dir(dst)) {
		err = e4_dir_is_empty(fs, dst);
		if (err <= 0)
			return err ? err : -ENOTEMPTY;
	}
	return 0;
}

/* The link counts of the directories after the move (checked before
 * anything changes: -EMLINK without dir_nlink). */
static int rename_links(struct e4_fs *fs, struct e4_inode *od,
			struct e4_inode *nd, const struct e4_inode *src,
			const struct e4_inode *dst, bool cross, unsigned flags)
{
	int err = 0;

	if (cross && e4_inode_is_dir(src)) {
		dir_link_down(od);
		err = dir_link_up(fs, nd);
	}
	if (!err && dst && e4_inode_is_dir(dst)) {
		if (!(flags & E4_RENAME_EXCHANGE)) {
			dir_link_down(nd);	/* the replaced directory */
		} else if (cross) {
			dir_link_down(nd);
			err = dir_link_up(fs, od);
		}
	}
	return err;
}

/* Point directory @dir's ".." at @parent. */
static int set_dotdot(struct e4_fs *fs, struct e4_handle *h,
		      struct e4_inode *dir, uint32_t parent)
{
	struct e4_dir_slot slot;
	int err = e4_dir_find_slot(fs, dir, "..", 2, &slot);

	return err ? err : e4_dir_retarget(fs, h, dir, &slot, parent,
					   E4_FT_DIR);
}

/* The old name after the move: removed, or a whiteout (a 0:0 character
 * device).  The slot is found again: an entry added to the same block
 * may now sit before it. */
static int old_name_goes(struct e4_fs *fs, struct e4_writer *w,
			 struct e4_handle *h, struct e4_inode *od,
			 const char *name, size_t len,
			 const struct e4_inode *src, bool whiteout)
{
	struct e4_dir_slot slot;
	struct e4_inode wh;
	uint32_t ino;
	int err = e4_dir_find_slot(fs, od, name, len, &slot);

	if (err || !whiteout)
		return err ? err : e4_dir_remove(fs, h, od, &slot);
	err = e4_alloc_inode(w->alloc, h, od->ino, false, &ino);
	if (!err) {
		struct e4_cred c = { src->uid, src->gid, 0 };

		new_inode_fields(fs, od, ino, E4_S_IFCHR, &c, &wh);
		err = e4_inode_write(fs, h, &wh, true);
	}
	return err ? err : e4_dir_retarget(fs, h, od, &slot, ino, E4_FT_CHR);
}

static void lock_pair(struct e4_ino *a, struct e4_ino *b)
{
	if (a && b && e4_ino_number(b) < e4_ino_number(a)) {
		struct e4_ino *t = a;
		a = b;
		b = t;
	}
	if (a)
		e4_ino_lock(a);
	if (b && b != a)
		e4_ino_lock(b);
}

static void unlock_pair(struct e4_ino *a, struct e4_ino *b)
{
	if (a)
		e4_ino_unlock(a);
	if (b && b != a)
		e4_ino_unlock(b);
}

/*
 * rename(2) with RENAME_NOREPLACE, RENAME_EXCHANGE and RENAME_WHITEOUT.
 * Renames are serialised (as the kernel serialises cross-directory ones);
 * the two directories are locked ancestor first, then the two inodes by
 * number: directory before child, as every other operation locks.
 */
int e4_rename(struct e4_fs *fs, struct e4_ino *odir_ip, const char *oname,
	      size_t olen, struct e4_ino *ndir_ip, const char *nname,
	      size_t nlen, unsigned flags)
{
	struct e4_writer *w = e4_writer_get(fs);
	struct e4_ino *src_ip = NULL, *dst_ip = NULL, *first, *second;
	struct e4_inode odir, ndir, src, dst = { 0 };
	struct e4_inode *od = &odir, *nd;
	struct e4_dir_slot oslot, nslot;
	bool cross = odir_ip != ndir_ip, exchange;
	struct e4_map_change nc;
	struct e4_handle h;
	struct e4_time now;
	unsigned retries = 0;
	bool untouched;
	int err, e2;

	if (!w)
		return -EROFS;
	if (flags & ~(unsigned)(E4_RENAME_NOREPLACE | E4_RENAME_EXCHANGE |
				E4_RENAME_WHITEOUT))
		return -EINVAL;
	exchange = flags & E4_RENAME_EXCHANGE;
	if (exchange && (flags & (E4_RENAME_NOREPLACE | E4_RENAME_WHITEOUT)))
		return -EINVAL;
	if (olen > E4_NAME_MAX || nlen > E4_NAME_MAX)
		return -ENAMETOOLONG;
	if (!olen || !nlen || memchr(nname, '/', nlen) || memchr(nname, '\0', nlen))
		return -EINVAL;
	if (is_dot_or_dotdot(oname, olen) || is_dot_or_dotdot(nname, nlen))
		return -EBUSY;
	pthread_mutex_lock(&w->rename_lock);
	first = odir_ip;
	second = cross ? ndir_ip : NULL;
	if (cross && is_ancestor(fs, e4_ino_number(ndir_ip),
				 e4_ino_number(odir_ip)) == 1) {
		first = ndir_ip;
		second = odir_ip;
	}
	e4_ino_lock(first);
	if (second)
		e4_ino_lock(second);
	odir = odir_ip->inode;
	ndir = ndir_ip->inode;
	nd = cross ? &ndir : &odir;	/* one directory: one copy */

	err = e4_inode_is_dir(od) && e4_inode_is_dir(nd) ? 0 : -ENOTDIR;
	if (!err)
		err = e4_dir_find_slot(fs, od, oname, olen, &oslot);
	/* a name moved out of or into an encrypted directory needs its key
	 * (the kernel's answer without it) */
	if (!err && (e4_inode_is_encrypted(fs, od) ||
		     e4_inode_is_encrypted(fs, nd)))
		err = -ENOKEY;
	/* before an inode is taken whose lock is held already: a directory
	 * into itself, over its own parent (the kernel's answers; its VFS
	 * never sends these), or an entry naming its own directory */
	if (!err && oslot.ino == nd->ino)
		err = -EINVAL;
	if (!err && oslot.ino == od->ino)
		err = e4_name_refused(fs, od->ino, oname, oslot.ino,
				      "its own directory,", E4_RULE_DIR_TARGET,
				      -EUCLEAN);
	if (!err)
		err = e4_iget_named(fs, od->ino, oname, oslot.ino, &src_ip);
	if (!err) {
		err = e4_dir_find_slot(fs, nd, nname, nlen, &nslot);
		if (!err && nslot.ino == od->ino)
			err = -ENOTEMPTY;
		else if (!err && nslot.ino == nd->ino)
			err = e4_name_refused(fs, nd->ino, nname, nslot.ino,
					      "its own directory,",
					      E4_RULE_DIR_TARGET, -EUCLEAN);
		else if (!err)
			err = e4_iget_named(fs, nd->ino, nname, nslot.ino,
					    &dst_ip);
		else if (err == -ENOENT)
			err = e4_dir_name_allowed(fs, nd, nname, nlen);
	}
	if (err || src_ip == dst_ip)	/* two names of one inode: done */
		goto unlock_dirs;
	lock_pair(src_ip, dst_ip);
again:
	/* (again: the working copies afresh, after a commit) */
	odir = odir_ip->inode;
	ndir = ndir_ip->inode;
	src = src_ip->inode;
	if (dst_ip)
		dst = dst_ip->inode;
	err = rename_allowed(fs, od, nd, &src, dst_ip ? &dst : NULL, flags);
	/* a directory may not go inside itself */
	if (!err && cross && e4_inode_is_dir(&src)) {
		err = is_ancestor(fs, src.ino, nd->ino);
		err = err == 1 ? -EINVAL : err;
	}
	if (!err && cross && exchange && e4_inode_is_dir(&dst)) {
		err = is_ancestor(fs, dst.ino, od->ino);
		err = err == 1 ? -EINVAL : err;
	}
	if (!err)
		err = rename_links(fs, od, nd, &src, dst_ip ? &dst : NULL,
				   cross, flags);
	if (err)
		goto unlock;

	err = e4_handle_start(w->txm, RENAME_CREDITS, &h);
	if (err)
		goto unlock;
	now = e4_now();
	nc = e4_map_change_of(fs, w, &h, nd);
	if (dst_ip)
		err = e4_dir_retarget(fs, &h, nd, &nslot, src.ino,
				      ftype_of(src.mode));
	else
		err = e4_dir_add(&nc, nname, nlen, src.ino, ftype_of(src.mode));
	if (!err && exchange)
		err = e4_dir_retarget(fs, &h, od, &oslot, dst.ino,
				      ftype_of(dst.mode));
	else if (!err)
		err = old_name_goes(fs, w, &h, od, oname, olen, &src,
				    flags & E4_RENAME_WHITEOUT);
	if (!err && cross && e4_inode_is_dir(&src))
		err = set_dotdot(fs, &h, &src, nd->ino);
	if (!err && cross && exchange && e4_inode_is_dir(&dst))
		err = set_dotdot(fs, &h, &dst, od->ino);
	if (!err && dst_ip && !exchange) {
		if (e4_inode_is_dir(&dst))
			dst.links = 0;	/* its "." and its name */
		else if (dst.links)
			dst.links--;
		if (dst.links == 0)
			err = e4_orphan_add(fs, w, &h, dst.ino);
	}
	if (!err) {
		src.ctime = now;
		dst.ctime = now;
		od->mtime = od->ctime = now;
		nd->mtime = nd->ctime = now;
		err = e4_inode_write(fs, &h, &src, false);
		if (!err && dst_ip)
			err = e4_inode_write(fs, &h, &dst, false);
		if (!err)
			err = e4_inode_write(fs, &h, od, false);
		if (!err && cross)
			err = e4_inode_write(fs, &h, nd, false);
	}
	/* a failure before anything changed (the new name needing a block
	 * while the free ones wait for a commit) has nothing to undo: it
	 * may be tried again once they are free */
	untouched = h.used == 0;
	if (err && !untouched)
		e4_handle_abort(&h, err);
	e2 = e4_handle_stop(&h);
	if (!err)
		err = e2;
	if (err && untouched && e4_writer_retry_alloc(w, err, &retries))
		goto again;
	if (!err) {
		src_ip->inode = src;
		if (dst_ip)
			dst_ip->inode = dst;
		odir_ip->inode = *od;
		if (cross)
			ndir_ip->inode = *nd;
	}
unlock:
	unlock_pair(src_ip, dst_ip);
unlock_dirs:
	if (second)
		e4_ino_unlock(second);
	e4_ino_unlock(first);
	pthread_mutex_unlock(&w->rename_lock);
	e4_iput(fs, dst_ip);	/* a replaced target's last reference */
	e4_iput(fs, src_ip);
	return err;
}

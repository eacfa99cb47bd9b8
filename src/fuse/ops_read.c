/* SPDX-License-Identifier: MIT */
/*
 * The operations that read, mapped onto the on-disk library (e4/e4.h; the
 * write side only to sync and to end a writer's reservation).
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "e4/format.h"
#include "e4/write.h"
#include "fuse/iomap.h"
#include "fuse/ops.h"
#include "fuse/proto.h"

/* The kernel's readlink buffer is one page less its NUL. */
#define E4F_READLINK_MAX 4095u
#define E4F_NAME_MAX 255u
#define E4F_XATTR_NAME_MAX 255u
/* Directory entries decoded per pass of e4_dir_iterate. */
#define E4F_DIR_BATCH 32u


/* ---- READDIRPLUS: with attributes or without ------------------------------ */

/*
 * The kernel is asked for READDIRPLUS always, and e4fuse decides whether
 * the entries carry attributes.  With them, each entry costs an inode read
 * here and an inode in the kernel, which a plain `find` never uses; without
 * them, each entry that is then stat'ed, opened or read costs a LOOKUP
 * round trip (`ls -l`, `find | xargs stat`, `du`, `cp -r`).  The kernel's
 * own choice (FUSE_READDIRPLUS_AUTO) goes by what happened in the same
 * directory, and misses every walker that lists a whole directory before
 * it stats: find does, and so `find | xargs stat` cost a LOOKUP per file.
 *
 * So attributes go with a directory's first reply, as the kernel's would,
 * and with every reply while the kernel is seen to use them: a file that
 * came with attributes is asked about (GETATTR, STATX, GETXATTR, OPEN,
 * READ...), or a name listed without them is looked up.  Each such sign
 * holds attributes on for E4F_PLUS_HOLD_MS, whatever the directory: the
 * lookups of `xargs stat` come while find lists the next one.
 * Directories entered do not count: every walker enters them.
 */
#define E4F_PLUS_HOLD_MS 2000

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void plus_used(struct e4f_session *s)
{
	atomic_store(&s->plus_until_ms, monotonic_ms() + E4F_PLUS_HOLD_MS);
}

static bool plus_with_attributes(struct e4f_session *s, uint64_t offset)
{
	return offset == 0 || monotonic_ms() < atomic_load(&s->plus_until_ms);
}

/* A request about a node the kernel holds: the first about a file that
 * came with READDIRPLUS says its attributes were wanted. */
static void node_used(struct e4f_req *r, uint64_t nodeid,
		      const struct e4_inode *in)
{
	if (!e4_inode_is_dir(in) &&
	    (e4f_nodes_flags(&r->s->nodes, nodeid, 0, E4F_NODE_FRESH) &
	     E4F_NODE_FRESH))
		plus_used(r->s);
}

/* ---- inodes and attributes ---------------------------------------------- */

/* The inode behind a node id the kernel sent: the node table's copy, or the
 * disk's for nodes the kernel holds without a counted lookup (the root).
 * Node ids are handed out only for inodes a name may hold, so one that is
 * free, reserved, internal or an EA inode is stale, not a file to serve. */
static int node_inode(struct e4f_req *r, uint64_t nodeid, struct e4_inode *out)
{
	uint32_t ino;
	int ret = e4f_nodeid_to_ino(nodeid, &ino);

	if (e4f_lost_found_is_node(r->s, nodeid)) {
		e4f_lost_found_inode(r->s, out);
		return 0;
	}
	if (ret < 0)
		return ret;
	if (e4f_nodes_get(&r->s->nodes, nodeid, out)) {
		node_used(r, nodeid, out);
		return 0;
	}
	ret = e4_inode_read_named(r->s->fs, 0, NULL, ino, out);
	if (ret == -EINVAL || ret == -ENOENT)
		return -ESTALE;
	return ret;
}

/* The node's in-core inode, referenced and held still for reading: a
 * snapshot in *@out whose blocks stay its own until node_read_end (a read
 * beside a truncate of the same file on a writable mount).  The root,
 * which the kernel holds without a lookup, is taken from the in-core
 * inode cache too. */
static int node_read_begin(struct e4f_req *r, uint64_t nodeid,
			   struct e4_ino **ip, struct e4_inode *out)
{
	uint32_t ino;
	int ret = e4f_nodeid_to_ino(nodeid, &ino);

	if (e4f_lost_found_is_node(r->s, nodeid))
		return -EISDIR;	/* no data, no attributes */
	if (ret < 0)
		return ret;
	if (!e4f_nodes_ino(&r->s->nodes, nodeid, ip)) {
		ret = e4_iget_named(r->s->fs, 0, NULL, ino, ip);
		if (ret == -EINVAL || ret == -ENOENT)
			return -ESTALE;
		if (ret < 0)
			return ret;
	}
	e4_ino_read_begin(*ip, out);
	node_used(r, nodeid, out);
	return 0;
}

static void node_read_end(struct e4f_req *r, struct e4_ino *ip)
{
	e4_ino_read_end(ip);
	e4_iput(r->s->fs, ip);
}

int e4f_node_read_begin(struct e4f_req *r, uint64_t nodeid,
			struct e4_ino **ip, struct e4_inode *out)
{
	return node_read_begin(r, nodeid, ip, out);
}

void e4f_node_read_end(struct e4f_req *r, struct e4_ino *ip)
{
	node_read_end(r, ip);
}

/*
 * The node was read: its atime moves as the kernel's ext4 moves it (the
 * FUSE kernel leaves that to the server), before the reply, after which
 * the kernel asks for the attributes again.  A failure does not fail the
 * read, as it does not under the kernel.
 */
static void node_accessed(struct e4f_req *r, uint64_t nodeid)
{
	struct e4_fs *fs = r->s->fs;
	struct e4_ino *ip;
	uint32_t ino;

	if (!e4_fs_writable(fs) || e4f_nodeid_to_ino(nodeid, &ino) < 0)
		return;
	if (!e4f_nodes_ino(&r->s->nodes, nodeid, &ip) &&
	    e4_iget_named(fs, 0, NULL, ino, &ip) < 0)
		return;
	(void)e4_touch_atime(fs, ip);
	e4_iput(fs, ip);
}

static uint32_t encode_rdev(uint32_t major, uint32_t minor)
{
	/* the kernel's new_decode_dev() layout */
	return (minor & 0xffu) | ((major & 0xfffu) << 8) |
	       ((minor & ~0xffu) << 12);
}

/* uid= and gid= show every file as owned by one user and group */
static uint32_t shown_uid(const struct e4f_session *s, const struct e4_stat *st)
{
	return s->cfg.uid_set ? s->cfg.uid : st->uid;
}

static uint32_t shown_gid(const struct e4f_session *s, const struct e4_stat *st)
{
	return s->cfg.gid_set ? s->cfg.gid : st->gid;
}

void e4f_fill_attr(const struct e4f_session *s, const struct e4_inode *in,
		      struct fuse_attr *a)
{
	struct e4_stat st;

	e4_inode_stat(in, &st);
	memset(a, 0, sizeof(*a));
	a->ino = st.ino;
	a->size = st.size;
	a->blocks = st.blocks;
	/* signed seconds travel as two's complement in the u64 fields */
	a->atime = (uint64_t)st.atime.sec;
	a->mtime = (uint64_t)st.mtime.sec;
	a->ctime = (uint64_t)st.ctime.sec;
	a->atimensec = st.atime.nsec;
	a->mtimensec = st.mtime.nsec;
	a->ctimensec = st.ctime.nsec;
	a->mode = st.mode & ~(s->cfg.umask & 07777u);
	a->nlink = st.nlink;
	a->uid = shown_uid(s, &st);
	a->gid = shown_gid(s, &st);
	a->rdev = encode_rdev(st.rdev_major, st.rdev_minor);
	a->blksize = s->block_size;
	a->flags = e4f_iomap_attr_flags(s, in);
	/* an encrypted symlink's size is its no-key target's, as readlink
	 * gives it (the kernel's answer without the key) */
	if (e4_inode_is_symlink(in) && e4_inode_is_encrypted(s->fs, in)) {
		ssize_t n = e4_symlink_size(s->fs, in);

		if (n > 0)
			a->size = (uint64_t)n;
	}
}

/*
 * How long the kernel may keep a name of the request's directory
 * (r->h.nodeid).  Its dentry cache compares names byte for byte, so in a
 * case-insensitive directory, where another case of a name can be created
 * or removed behind an entry it holds, nothing is kept: every name is
 * looked up again.
 */
static uint64_t entry_timeout(struct e4f_req *r)
{
	struct e4_inode dir;

	if (node_inode(r, r->h.nodeid, &dir) == 0 &&
	    e4_dir_is_casefold(r->s->fs, &dir))
		return 0;
	return E4F_ENTRY_TIMEOUT(r->s);
}

void e4f_fill_entry(struct e4f_req *r, const struct e4_inode *in,
		    struct fuse_entry_out *e)
{
	memset(e, 0, sizeof(*e));
	e->nodeid = e4f_ino_to_nodeid(in->ino);
	e->generation = in->generation;
	e->entry_valid = entry_timeout(r);
	e->attr_valid = E4F_ATTR_TIMEOUT(r->s);
	e4f_fill_attr(r->s, in, &e->attr);
}

/* ---- lookup and attributes ------------------------------------------------ */

void e4f_op_lookup(struct e4f_req *r)
{
	struct e4_inode dir, in;
	struct e4_ino *ip;
	struct fuse_entry_out e;
	size_t len;
	const char *name = e4f_arg_string(r, 0, &len);
	int ret;

	if (!name || len == 0 || memchr(name, '/', len))
		return e4f_reply_err(r, -EINVAL);
	if (len > E4F_NAME_MAX)
		return e4f_reply_err(r, -ENAMETOOLONG);
	if (e4f_lost_found_named(r->s, r->h.nodeid, name, len)) {
		e4f_lost_found_inode(r->s, &in);
		e4f_fill_entry(r, &in, &e);
		e.nodeid = E4F_LOST_NODEID;	/* not counted: it stays */
		return e4f_reply_buf(r, &e, sizeof(e));
	}
	ret = node_inode(r, r->h.nodeid, &dir);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	if (e4f_lost_found_is_node(r->s, r->h.nodeid)) {
		uint32_t ino;

		ret = e4f_lost_found_lookup(r->s, name, len, &ino);
		if (ret == 0)
			ret = e4_iget(r->s->fs, ino, &ip);
	} else {
		ret = e4_lookup(r->s->fs, &dir, name, len, &ip);
	}
	if (ret == -ENOENT) {
		/* a negative entry (negative_timeout=) */
		memset(&e, 0, sizeof(e));
		e.entry_valid = entry_timeout(r) ? E4F_NEGATIVE_TIMEOUT(r->s)
						 : 0;
		return e4f_reply_buf(r, &e, sizeof(e));
	}
	if (ret < 0)
		return e4f_reply_err(r, ret);
	e4_ino_snapshot(ip, &in);
	e4f_fill_entry(r, &in, &e);
	if (e4f_nodes_flags(&r->s->nodes, r->h.nodeid, 0, 0) &
	    E4F_NODE_LISTED_BARE)
		plus_used(r->s);
	ret = e4f_nodes_ref(&r->s->nodes, e.nodeid, ip);	/* takes ip */
	if (ret < 0)
		return e4f_reply_err(r, ret);
	e4f_reply_buf(r, &e, sizeof(e));
}

void e4f_op_getattr(struct e4f_req *r)
{
	struct e4_inode in;
	struct fuse_attr_out out;
	int ret = node_inode(r, r->h.nodeid, &in);

	if (ret < 0)
		return e4f_reply_err(r, ret);
	memset(&out, 0, sizeof(out));
	out.attr_valid = E4F_ATTR_TIMEOUT(r->s);
	e4f_fill_attr(r->s, &in, &out.attr);
	e4f_reply_buf(r, &out, sizeof(out));
}

static void sx_time(struct fuse_sx_time *t, const struct e4_time *e)
{
	t->tv_sec = e->sec;
	t->tv_nsec = e->nsec;
}

void e4f_op_statx(struct e4f_req *r)
{
	struct e4_inode in;
	struct e4_stat st;
	struct fuse_statx_out out;
	struct fuse_statx *sx = &out.stat;
	int ret;

	/* declined once, the kernel stops asking and answers statx from
	 * the attributes it has (GETATTR's, READDIRPLUS's) */
	if (r->s->cfg.nobtime)
		return e4f_reply_err(r, -ENOSYS);
	ret = node_inode(r, r->h.nodeid, &in);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	e4_inode_stat(&in, &st);
	memset(&out, 0, sizeof(out));
	out.attr_valid = E4F_ATTR_TIMEOUT(r->s);
	sx->mask = STATX_BASIC_STATS | (st.has_btime ? STATX_BTIME : 0);
	sx->blksize = r->s->block_size;
	sx->nlink = st.nlink;
	sx->uid = shown_uid(r->s, &st);
	sx->gid = shown_gid(r->s, &st);
	sx->mode = st.mode;
	sx->ino = st.ino;
	sx->size = st.size;
	sx->blocks = st.blocks;
	sx_time(&sx->atime, &st.atime);
	sx_time(&sx->mtime, &st.mtime);
	sx_time(&sx->ctime, &st.ctime);
	if (st.has_btime)
		sx_time(&sx->btime, &st.btime);
	sx->rdev_major = st.rdev_major;
	sx->rdev_minor = st.rdev_minor;
	sx->attributes = st.attributes;
	sx->attributes_mask = st.attributes_mask;
	e4f_reply_buf(r, &out, sizeof(out));
}

/* ---- open and close ------------------------------------------------------- */

/*
 * Whether an open may go without a request at all from now on: the kernel
 * takes an OPEN (OPENDIR) answered ENOSYS as a success with
 * FOPEN_KEEP_CACHE (and FOPEN_CACHE_DIR), what e4fuse answers anyway, and
 * sends neither OPEN nor RELEASE again.  Only read-only: a writer's open
 * and release carry its reservation of free space, and the VFS refuses
 * every open for writing on a read-only mount before FUSE sees it.  Not
 * where a file may be encrypted: its open fails (-ENOKEY), and after the
 * first ENOSYS no open would come to fail.
 */
static bool open_declined(struct e4f_req *r, uint64_t init_flag)
{
	struct e4_fs_info info;

	if (!(r->s->init_flags & init_flag) || e4_fs_writable(r->s->fs))
		return false;
	e4_fs_get_info(r->s->fs, &info);
	return !(info.feature_incompat & E4_INCOMPAT_ENCRYPT);
}

void e4f_op_release(struct e4f_req *r)
{
	uint32_t ino;

	/* FLUSH has nothing to do: written data is in the file system when
	 * WRITE is answered, and with writeback_cache the kernel writes the
	 * dirty pages back at close before it looks at whether FLUSH is
	 * wanted (and reports their errors from close).  After one ENOSYS
	 * the kernel sends no more: one round trip less per close(2). */
	if (r->h.opcode == FUSE_FLUSH)
		return e4f_reply_err(r, -ENOSYS);
	/* the file's reservation of free space goes with its writer (FLUSH
	 * and RELEASEDIR keep nothing) */
	if (r->h.opcode == FUSE_RELEASE &&
	    e4f_nodeid_to_ino(r->h.nodeid, &ino) == 0)
		e4_file_release(r->s->fs, ino);
	e4f_reply_err(r, 0);
}

/* ---- directories ----------------------------------------------------------- */

void e4f_op_opendir(struct e4f_req *r)
{
	struct e4_inode in;
	struct fuse_open_out out;
	int ret = node_inode(r, r->h.nodeid, &in);

	if (ret < 0)
		return e4f_reply_err(r, ret);
	if (!e4_inode_is_dir(&in))
		return e4f_reply_err(r, -ENOTDIR);
	if (open_declined(r, FUSE_NO_OPENDIR_SUPPORT))
		return e4f_reply_err(r, -ENOSYS);
	memset(&out, 0, sizeof(out));
	/* listings never change: let the kernel cache them */
	out.open_flags = FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR;
	e4f_reply_buf(r, &out, sizeof(out));
}

struct dir_batch {
	struct e4_dirent ent[E4F_DIR_BATCH];
	unsigned n;
	bool skipped;		/* set by the walk as it skips one */
};

static int collect_entry(void *ctx, const struct e4_dirent *d)
{
	struct dir_batch *b = ctx;

	b->ent[b->n++] = *d;
	return b->n == E4F_DIR_BATCH ? 1 : 0;
}

static uint32_t ftype_to_dt(uint8_t ftype)
{
	static const uint8_t dt[] = {
		[E4_FT_UNKNOWN] = DT_UNKNOWN, [E4_FT_REG] = DT_REG,
		[E4_FT_DIR] = DT_DIR, [E4_FT_CHR] = DT_CHR,
		[E4_FT_BLK] = DT_BLK, [E4_FT_FIFO] = DT_FIFO,
		[E4_FT_SOCK] = DT_SOCK, [E4_FT_SYMLINK] = DT_LNK,
	};

	return ftype < sizeof(dt) ? dt[ftype] : DT_UNKNOWN;
}

static bool is_dot_or_dotdot(const struct e4_dirent *d)
{
	return (d->name_len == 1 && d->name[0] == '.') ||
	       (d->name_len == 2 && d->name[0] == '.' && d->name[1] == '.');
}

/*
 * Append one entry to a READDIR(PLUS) reply; false if it does not fit.
 * READDIRPLUS entries carry the inode's attributes and count as a lookup;
 * "." and ".." and entries whose inode cannot be read go without (node id 0),
 * which the kernel takes as a plain dirent, and so do those asked
 * @bare (the virtual directory of -o lost_found).  @dir 0: the entries of
 * that directory, whose inodes no directory names.
 */
static bool append_entry(struct e4f_req *r, uint32_t dir,
			 const struct e4_dirent *d, bool plus, bool bare,
			 uint8_t *buf, size_t size, size_t *used)
{
	size_t namelen = d->name_len;
	size_t head = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
	size_t reclen = FUSE_DIRENT_ALIGN(head + namelen);
	struct fuse_entry_out e;
	struct fuse_dirent de;
	struct e4_inode in;

	if (namelen == 0 || namelen > E4F_NAME_MAX || reclen > size - *used)
		return false;

	memset(&de, 0, sizeof(de));
	de.ino = d->ino;
	de.off = d->next_pos;
	de.namelen = (uint32_t)namelen;
	de.type = ftype_to_dt(d->ftype);

	uint8_t *p = buf + *used;

	memset(p, 0, reclen);
	if (plus) {
		memset(&e, 0, sizeof(e));
		struct e4_ino *ip;

		if (!bare && !is_dot_or_dotdot(d) &&
		    e4_iget_named(r->s->fs, dir, d->name, d->ino, &ip) == 0) {
			e4_ino_snapshot(ip, &in);
			/* the table takes ip */
			if (e4f_nodes_ref_flags(&r->s->nodes,
						e4f_ino_to_nodeid(in.ino), ip,
						E4F_NODE_FRESH) == 0) {
				e4f_fill_entry(r, &in, &e);
				de.type = (in.mode >> 12) & 0xf;	/* IFTODT */
			}
		}
		memcpy(p, &e, sizeof(e));
		p += sizeof(e);
	}
	memcpy(p, &de, FUSE_NAME_OFFSET);
	memcpy(p + FUSE_NAME_OFFSET, d->name, namelen);
	*used += reclen;
	return true;
}

static void readdir_common(struct e4f_req *r, bool plus)
{
	struct fuse_read_in in;
	struct e4_inode dir;
	struct dir_batch batch;
	size_t used = 0;
	int ret;

	e4f_arg_get(r, &in, sizeof(in));
	ret = node_inode(r, r->h.nodeid, &dir);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	if (!e4_inode_is_dir(&dir))
		return e4f_reply_err(r, -ENOTDIR);

	size_t size = in.size < E4F_REPLY_BUFSIZE ? in.size : E4F_REPLY_BUFSIZE;
	uint64_t pos = in.offset;
	bool full = false, skipped = false;
	bool lost = e4f_lost_found_is_node(r->s, r->h.nodeid);
	bool bare = plus && !plus_with_attributes(r->s, in.offset);
	/* the root lists lost_found's virtual directory after its entries */
	bool lost_entry = r->h.nodeid == 1 && r->s->lost.name;

	if (lost_entry && pos == E4F_LOST_ROOT_POS)
		return e4f_reply_buf(r, NULL, 0);	/* listed last */
	/* a listing starts (the open itself may not come: open_declined) */
	if (pos == 0 && !lost)
		e4_dir_prefetch(r->s->fs, &dir);
	/* Not interruptible: the kernel's ext4 never fails getdents with
	 * EINTR (a program with a timer signal would see it), and the walk of
	 * one request is bounded (docs/limits.md). */
	while (!full) {
		batch.n = 0;
		batch.skipped = false;
		ret = lost ? e4f_lost_found_iterate(r->s, pos, collect_entry,
						    &batch) :
			e4_dir_readdir(r->s->fs, &dir, pos, collect_entry,
				       &batch, &batch.skipped);
		skipped |= batch.skipped;
		for (unsigned i = 0; i < batch.n && !full; i++) {
			if (!append_entry(r, lost ? 0 : dir.ino, &batch.ent[i],
					  plus, bare, r->scratch, size,
					  &used))
				full = true;
			else
				pos = batch.ent[i].next_pos;
		}
		if (ret <= 0)
			break;	/* end of directory, or an error */
	}
	if (lost_entry && ret == 0 && !full) {
		struct e4_dirent d;

		e4f_lost_found_root_entry(r->s, &d);
		(void)append_entry(r, dir.ino, &d, plus, true, r->scratch,
				   size, &used);
	}
	/* A damaged block is skipped (reported by the library, counted
	 * for errors=) and the entries of the others listed, with no error
	 * at the end, as the kernel's ext4 lists them: cp -r and tar give
	 * up a whole directory whose listing fails, and they are how
	 * files are got back from a damaged stick.  Only a directory with
	 * nothing readable at all fails.  What fails a listing otherwise
	 * (no memory, the walk limit) fails it after the entries before it
	 * went out: the next call reports the error. */
	if (ret == 0 && skipped && used == 0 && in.offset == 0)
		ret = -EUCLEAN;
	if (ret < 0 && used == 0)
		return e4f_reply_err(r, ret);
	if (bare && used > 0)
		(void)e4f_nodes_flags(&r->s->nodes, r->h.nodeid,
				      E4F_NODE_LISTED_BARE, 0);
	node_accessed(r, r->h.nodeid);
	e4f_reply_buf(r, r->scratch, used);
}

void e4f_op_readdir(struct e4f_req *r)
{
	readdir_common(r, false);
}

void e4f_op_readdirplus(struct e4f_req *r)
{
	readdir_common(r, true);
}

/* ---- files ------------------------------------------------------------------ */

void e4f_op_open(struct e4f_req *r)
{
	struct fuse_open_in in;
	struct fuse_open_out out;
	struct e4_inode inode;
	int ret;

	bool wr;

	e4f_arg_get(r, &in, sizeof(in));
	wr = (in.flags & O_ACCMODE) != O_RDONLY || (in.flags & O_TRUNC);
	if (wr && !e4_fs_writable(r->s->fs))
		return e4f_reply_err(r, -EROFS);
	ret = node_inode(r, r->h.nodeid, &inode);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	if (e4_inode_is_dir(&inode))
		return e4f_reply_err(r, -EISDIR);
	/* contents are ciphertext and there is no key: the kernel's answer */
	if (e4_inode_is_reg(&inode) && e4_inode_is_encrypted(r->s->fs, &inode))
		return e4f_reply_err(r, -ENOKEY);
	/* ext4's rules: an immutable file is not written, an append-only one
	 * only appended to */
	if (wr && (inode.flags & E4_IMMUTABLE_FL))
		return e4f_reply_err(r, -EPERM);
	if (wr && (inode.flags & E4_APPEND_FL) &&
	    (!(in.flags & O_APPEND) || (in.flags & O_TRUNC)))
		return e4f_reply_err(r, -EPERM);
	if (open_declined(r, FUSE_NO_OPEN_SUPPORT))
		return e4f_reply_err(r, -ENOSYS);
	memset(&out, 0, sizeof(out));
	/* only this mount changes the image, through the kernel: keep the
	 * page cache across opens; nothing is kept per open file, so close()
	 * need not wait for a FLUSH */
	out.open_flags = FOPEN_KEEP_CACHE | FOPEN_NOFLUSH;
	e4f_reply_buf(r, &out, sizeof(out));
}

void e4f_op_read(struct e4f_req *r)
{
	struct fuse_read_in in;
	struct e4_inode inode;
	struct e4_ino *ip;
	ssize_t n;
	size_t size;
	int ret;

	e4f_arg_get(r, &in, sizeof(in));
	ret = node_read_begin(r, r->h.nodeid, &ip, &inode);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	size = in.size < E4F_MAX_IO ? in.size : E4F_MAX_IO;
	/* zero-copy on the /dev/fuse loop (splice.h); under the read lock
	 * like the copy, so no write changes the blocks meanwhile */
	n = e4f_splice_read(r, &inode, in.offset, size);
	if (n != 0) {
		node_read_end(r, ip);
		if (n < 0)
			return e4f_reply_err(r, (int)n);
		return node_accessed(r, r->h.nodeid);
	}
	if (!e4_inode_is_reg(&inode))
		n = e4_inode_is_dir(&inode) ? -EISDIR : -EINVAL;
	else
		n = e4_file_read(r->s->fs, &inode, in.offset, r->scratch,
				 size);
	node_read_end(r, ip);
	if (n < 0)
		return e4f_reply_err(r, (int)n);
	if ((size_t)n > size)
		return e4f_reply_err(r, -EIO);
	node_accessed(r, r->h.nodeid);
	e4f_reply_buf(r, r->scratch, (size_t)n);
}

void e4f_op_fsync(struct e4f_req *r)
{
	struct fuse_fsync_in in;
	uint32_t ino;

	/* read-only: nothing is ever dirty */
	if (!e4_fs_writable(r->s->fs))
		return e4f_reply_err(r, 0);
	if (r->h.opcode == FUSE_SYNCFS ||
	    e4f_nodeid_to_ino(r->h.nodeid, &ino) < 0)
		return e4f_reply_err(r, e4_fs_sync(r->s->fs));
	e4f_arg_get(r, &in, sizeof(in));
	/* a directory's entries are not data: FSYNCDIR syncs it whole */
	e4f_reply_err(r, e4_fs_fsync(r->s->fs, ino,
				     r->h.opcode == FUSE_FSYNC &&
				     (in.fsync_flags & FUSE_FSYNC_FDATASYNC)));
}

void e4f_op_lseek(struct e4f_req *r)
{
	struct e4_ino *ip;
	struct fuse_lseek_in in;
	struct fuse_lseek_out out;
	struct e4_inode inode;
	enum e4_seek_whence whence;
	uint64_t result;
	int ret;

	e4f_arg_get(r, &in, sizeof(in));
	/* the kernel does SEEK_SET/CUR/END itself */
	if (in.whence == SEEK_DATA)
		whence = E4_SEEK_DATA;
	else if (in.whence == SEEK_HOLE)
		whence = E4_SEEK_HOLE;
	else
		return e4f_reply_err(r, -EINVAL);
	if ((int64_t)in.offset < 0)
		return e4f_reply_err(r, -ENXIO);
	ret = node_read_begin(r, r->h.nodeid, &ip, &inode);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	ret = e4_inode_is_reg(&inode) ?
		e4_file_seek(r->s->fs, &inode, in.offset, whence, &result) :
		-EINVAL;
	node_read_end(r, ip);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	out.offset = result;
	e4f_reply_buf(r, &out, sizeof(out));
}

void e4f_op_readlink(struct e4f_req *r)
{
	struct e4_inode inode;
	int ret = node_inode(r, r->h.nodeid, &inode);

	if (ret < 0)
		return e4f_reply_err(r, ret);
	if (!e4_inode_is_symlink(&inode))
		return e4f_reply_err(r, -EINVAL);
	ssize_t n = e4_symlink_read(r->s->fs, &inode, (char *)r->scratch,
				    E4F_READLINK_MAX);

	/* never 0 or more than asked: an empty or too long target is
	 * corruption the library reported (SL2) or -ENAMETOOLONG */
	if (n <= 0 || (size_t)n > E4F_READLINK_MAX)
		return e4f_reply_err(r, n < 0 ? (int)n : -EIO);
	node_accessed(r, r->h.nodeid);
	e4f_reply_buf(r, r->scratch, (size_t)n);
}

/* ---- extended attributes ------------------------------------------------- */

void e4f_op_getxattr(struct e4f_req *r)
{
	struct e4_ino *ip;
	struct fuse_getxattr_in in;
	struct e4_inode inode;
	size_t len;
	const char *name;
	ssize_t n;
	int ret;

	e4f_arg_get(r, &in, sizeof(in));
	name = e4f_arg_string(r, sizeof(in), &len);
	if (!name || len == 0)
		return e4f_reply_err(r, -EINVAL);
	if (len > E4F_XATTR_NAME_MAX)
		return e4f_reply_err(r, -ERANGE);
	if (e4f_lost_found_is_node(r->s, r->h.nodeid))
		return e4f_reply_err(r, -ENODATA);	/* it has none */
	ret = node_read_begin(r, r->h.nodeid, &ip, &inode);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	size_t cap = in.size < E4F_REPLY_BUFSIZE ? in.size : E4F_REPLY_BUFSIZE;

	n = e4_xattr_get(r->s->fs, &inode, name, in.size ? r->scratch : NULL,
			 in.size ? cap : 0);
	node_read_end(r, ip);
	if (in.size == 0) {
		struct fuse_getxattr_out out = { 0 };

		if (n < 0)
			return e4f_reply_err(r, (int)n);
		out.size = (uint32_t)n;
		return e4f_reply_buf(r, &out, sizeof(out));
	}
	if (n < 0)
		return e4f_reply_err(r, (int)n);
	if ((size_t)n > cap)
		return e4f_reply_err(r, -ERANGE);
	e4f_reply_buf(r, r->scratch, (size_t)n);
}

struct xattr_list {
	uint8_t *buf;
	size_t cap, used;
	bool privileged;
	int err;
};

static bool has_prefix(const char *name, size_t len, const char *prefix)
{
	size_t plen = strlen(prefix);

	return len >= plen && memcmp(name, prefix, plen) == 0;
}

static int list_one(void *ctx, const char *name, size_t len)
{
	struct xattr_list *l = ctx;

	if (len == 0 || len > E4F_XATTR_NAME_MAX)
		return 0;
	/* as ext4 does: trusted.* only for the privileged, and the inline
	 * data attribute is not an attribute users see */
	if (!l->privileged && has_prefix(name, len, "trusted."))
		return 0;
	if (len == 11 && memcmp(name, "system.data", 11) == 0)
		return 0;
	if (len + 1 > l->cap - l->used) {
		l->err = -E2BIG;
		return 1;
	}
	memcpy(l->buf + l->used, name, len);
	l->buf[l->used + len] = '\0';
	l->used += len + 1;
	return 0;
}

void e4f_op_listxattr(struct e4f_req *r)
{
	struct e4_ino *ip;
	struct fuse_getxattr_in in;
	struct e4_inode inode;
	struct xattr_list l = {
		.buf = r->scratch, .cap = E4F_REPLY_BUFSIZE,
		.privileged = r->h.uid == 0,
	};
	int ret;

	e4f_arg_get(r, &in, sizeof(in));
	if (e4f_lost_found_is_node(r->s, r->h.nodeid)) {
		ret = 0;	/* no attributes: an empty list */
	} else {
		ret = node_read_begin(r, r->h.nodeid, &ip, &inode);
		if (ret < 0)
			return e4f_reply_err(r, ret);
		ret = e4_xattr_list(r->s->fs, &inode, list_one, &l);
		node_read_end(r, ip);
	}
	if (ret < 0)
		return e4f_reply_err(r, ret);
	if (l.err < 0)
		return e4f_reply_err(r, l.err);
	if (in.size == 0) {
		struct fuse_getxattr_out out = { .size = (uint32_t)l.used };

		return e4f_reply_buf(r, &out, sizeof(out));
	}
	if (l.used > in.size)
		return e4f_reply_err(r, -ERANGE);
	e4f_reply_buf(r, r->scratch, l.used);
}

/* ---- file system ---------------------------------------------------------- */

void e4f_op_statfs(struct e4f_req *r)
{
	struct e4_statfs st;
	struct fuse_statfs_out out;
	int ret = e4_fs_statfs(r->s->fs, &st);

	if (ret < 0)
		return e4f_reply_err(r, ret);
	memset(&out, 0, sizeof(out));
	out.st.blocks = r->s->cfg.minixdf ? st.blocks + st.overhead : st.blocks;
	out.st.bfree = st.bfree;
	out.st.bavail = st.bavail;
	out.st.files = st.files;
	out.st.ffree = st.ffree;
	out.st.bsize = st.block_size;
	out.st.frsize = st.block_size;
	out.st.namelen = st.name_max;
	e4f_reply_buf(r, &out, sizeof(out));
}

/*
 * ACCESS only comes without default_permissions.  Mode bits against the
 * caller's uid and primary gid (the protocol does not carry supplementary
 * groups), or as root for everyone with fakeroot; writing is refused on
 * a read-only mount.
 */
void e4f_op_access(struct e4f_req *r)
{
	struct fuse_access_in in;
	struct e4_inode inode;
	struct fuse_attr a;
	int ret;

	e4f_arg_get(r, &in, sizeof(in));
	ret = node_inode(r, r->h.nodeid, &inode);
	if (ret < 0)
		return e4f_reply_err(r, ret);
	if ((in.mask & W_OK) && !e4_fs_writable(r->s->fs))
		return e4f_reply_err(r, -EROFS);
	if ((in.mask & W_OK) && (inode.flags & E4_IMMUTABLE_FL))
		return e4f_reply_err(r, -EPERM);
	uint32_t want = in.mask & (R_OK | W_OK | X_OK);

	if (want == 0)
		return e4f_reply_err(r, 0);
	e4f_fill_attr(r->s, &inode, &a);
	uint32_t mode = a.mode;

	if (r->h.uid == 0 || r->s->cfg.fakeroot) {
		bool exec_ok = S_ISDIR(mode) || (mode & 0111);

		return e4f_reply_err(r, (want & X_OK) && !exec_ok ? -EACCES
								    : 0);
	}
	uint32_t bits;

	if (r->h.uid == a.uid)
		bits = (mode >> 6) & 7;
	else if (r->h.gid == a.gid)
		bits = (mode >> 3) & 7;
	else
		bits = mode & 7;
	e4f_reply_err(r, (bits & want) == want ? 0 : -EACCES);
}

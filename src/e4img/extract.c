/* SPDX-License-Identifier: MIT */
/*
 * e4img extract: copy a tree out of an untrusted image onto the host.
 *
 * Nothing the image says decides where a byte lands.  Every file is made
 * relative to a directory descriptor reached from DEST with openat2 and
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, one name
 * at a time; names holding '/' or NUL, or "." / "..", are refused; nothing
 * that exists is replaced (O_EXCL, mkdirat, symlinkat and mknodat fail on
 * EEXIST); symlinks are made as symlinks and never followed.  Device nodes
 * and setuid/setgid bits come only when asked, owners only as root and
 * when asked, and of the extended attributes only user.* and POSIX ACLs,
 * when asked (never security.*: a file capability from an image would be
 * a privilege).  Holes stay holes.  The walk is the library's tree walker,
 * so a directory cycle or a second link to a directory is refused once and
 * not followed.  A summary says what was made and what was skipped, and
 * why.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "e4/format.h"
#include "e4/tree.h"
#include "e4img/e4img.h"
#include "util/hmap.h"

#define COPY_CHUNK (1u << 20)
#define RESOLVE_SAFE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | \
		      RESOLVE_NO_MAGICLINKS)

/* What is skipped, counted for the summary. */
enum skip_reason {
	SKIP_NAME,		/* a name no file may have */
	SKIP_EXISTS,		/* something is there already */
	SKIP_DEVICE,		/* a device node, without --devices */
	SKIP_UNREADABLE,	/* the image would not give it (corruption) */
	SKIP_REFUSED,		/* a directory cycle, or too deep */
	SKIP_FAILED,		/* the host would not take it */
	SKIP_XATTR,		/* an attribute not copied (namespace) */
	SKIP_REASONS
};

static const char *const skip_words[SKIP_REASONS] = {
	[SKIP_NAME] = "names no file may have",
	[SKIP_EXISTS] = "already present in DEST",
	[SKIP_DEVICE] = "device nodes (--devices)",
	[SKIP_UNREADABLE] = "unreadable in the image",
	[SKIP_REFUSED] = "directory cycles or too deep",
	[SKIP_FAILED] = "refused by the host",
	[SKIP_XATTR] = "extended attributes outside user.* and ACLs",
};

/* A directory whose mode and times are set last (its contents first). */
struct dir_fixup {
	char *rel;
	struct e4_inode in;
};

struct extract {
	struct e4_fs *fs;
	const struct e4img_io *io;
	unsigned flags;
	int dest;		/* DEST */
	int dirfd;		/* the directory being filled, or -1 */
	bool as_root;
	struct e4_hmap *links;	/* ino -> char *: where its first name went */
	struct dir_fixup *dirs;
	size_t ndirs, dirs_cap;
	uint64_t made, bytes, skipped[SKIP_REASONS];
	time_t last_progress;
	int status;
	uint8_t *buf;
};

static int openat2_beneath(int dirfd, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
		.resolve = RESOLVE_SAFE,
	};
	long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/* "/a/b" as DEST sees it: "a/b"; the start itself: "." */
static const char *rel_of(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

static void skip(struct extract *c, enum skip_reason why, const char *path,
		 const char *detail)
{
	c->skipped[why]++;
	if (why != SKIP_DEVICE && why != SKIP_XATTR)
		c->status = 1;
	fprintf(c->io->err, "%s: %s: %s%s%s\n", c->io->prog, path,
		skip_words[why], detail ? ": " : "", detail ? detail : "");
}

static void progress(struct extract *c)
{
	time_t now = time(NULL);

	if (!(c->flags & E4IMG_X_PROGRESS) || now == c->last_progress)
		return;
	c->last_progress = now;
	fprintf(c->io->err, "\r%" PRIu64 " made, %" PRIu64 " MiB", c->made,
		c->bytes >> 20);
	fflush(c->io->err);
}

/* A name a file on the host may take. */
static bool name_ok(const char *name, size_t len)
{
	if (len == 0 || memchr(name, '/', len) || memchr(name, '\0', len))
		return false;
	return !(len == 1 && name[0] == '.') &&
	       !(len == 2 && name[0] == '.' && name[1] == '.');
}

static mode_t perms_of(const struct extract *c, const struct e4_inode *in)
{
	mode_t keep = (c->flags & E4IMG_X_SETID) ? 07777 : 01777;

	return in->mode & keep;
}

/* Owner, attributes, times of the file open at @fd (or, for a symlink,
 * @name in the current directory, without following it). */
static void set_meta(struct extract *c, int fd, const char *name,
		     const struct e4_inode *in, const char *path);

/* ---- extended attributes ------------------------------------------------ */

struct xattr_copy {
	struct extract *c;
	const struct e4_inode *in;
	int fd;
	const char *path;
};

static int copy_one_xattr(void *ctx, const char *name, size_t len)
{
	struct xattr_copy *x = ctx;
	char full[256];
	uint8_t value[65536];
	ssize_t n;

	if (len >= sizeof(full))
		return 0;
	memcpy(full, name, len);
	full[len] = '\0';
	if (strncmp(full, "user.", 5) != 0 &&
	    strcmp(full, "system.posix_acl_access") != 0 &&
	    strcmp(full, "system.posix_acl_default") != 0) {
		skip(x->c, SKIP_XATTR, x->path, full);
		return 0;
	}
	n = e4_xattr_get(x->c->fs, x->in, full, value, sizeof(value));
	if (n < 0) {
		skip(x->c, SKIP_UNREADABLE, x->path, full);
		return 0;
	}
	if (fsetxattr(x->fd, full, value, (size_t)n, 0) < 0)
		skip(x->c, SKIP_FAILED, x->path, strerror(errno));
	return 0;
}

static void copy_xattrs(struct extract *c, int fd, const struct e4_inode *in,
			const char *path)
{
	struct xattr_copy x = { c, in, fd, path };
	int err = e4_xattr_list(c->fs, in, copy_one_xattr, &x);

	if (err < 0)
		skip(c, SKIP_UNREADABLE, path, "its extended attributes");
}

static void set_meta(struct extract *c, int fd, const char *name,
		     const struct e4_inode *in, const char *path)
{
	struct timespec ts[2] = {
		{ .tv_sec = in->atime.sec, .tv_nsec = in->atime.nsec },
		{ .tv_sec = in->mtime.sec, .tv_nsec = in->mtime.nsec },
	};
	int rc;

	if ((c->flags & E4IMG_X_OWNERS) && c->as_root) {
		rc = fd >= 0 ? fchown(fd, in->uid, in->gid) :
			       fchownat(c->dirfd, name, in->uid, in->gid,
					AT_SYMLINK_NOFOLLOW);
		if (rc < 0)
			skip(c, SKIP_FAILED, path, "its owner");
	}
	if (fd >= 0 && (c->flags & E4IMG_X_XATTRS))
		copy_xattrs(c, fd, in, path);
	/* after chown, which clears setuid and setgid */
	if (fd >= 0 && fchmod(fd, perms_of(c, in)) < 0)
		skip(c, SKIP_FAILED, path, "its mode");
	rc = fd >= 0 ? futimens(fd, ts) :
		       utimensat(c->dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
	if (rc < 0)
		skip(c, SKIP_FAILED, path, "its times");
}

/* ---- the kinds of file --------------------------------------------------- */

/* The data of @in into @fd: data ranges only, so holes stay holes. */
static int copy_data(struct extract *c, int fd, const struct e4_inode *in)
{
	uint64_t off = 0, end;
	int err;

	while (off < in->size) {
		err = e4_file_seek(c->fs, in, off, E4_SEEK_DATA, &off);
		if (err == -ENXIO)
			break;
		if (err)
			return err;
		err = e4_file_seek(c->fs, in, off, E4_SEEK_HOLE, &end);
		if (err)
			return err;
		while (off < end) {
			size_t want = end - off < COPY_CHUNK ?
				      (size_t)(end - off) : COPY_CHUNK;
			ssize_t n = e4_file_read(c->fs, in, off, c->buf, want);

			if (n < 0)
				return (int)n;
			if (n == 0)
				return -EIO;	/* short of its size */
			if (pwrite(fd, c->buf, (size_t)n, (off_t)off) != n)
				return -errno;
			off += (uint64_t)n;
			c->bytes += (uint64_t)n;
			progress(c);
		}
	}
	return ftruncate(fd, (off_t)in->size) < 0 ? -errno : 0;
}

/* A second name of an inode already made: a hard link to the first. */
static bool link_again(struct extract *c, const struct e4_inode *in,
		       const char *name, const char *path)
{
	char **first = in->links > 1 ? e4_hmap_get(c->links, in->ino) : NULL;
	char proc[64];
	int fd;

	if (!first)
		return false;
	fd = openat2_beneath(c->dest, *first, O_PATH | O_NOFOLLOW);
	if (fd < 0) {
		skip(c, SKIP_FAILED, path, strerror(-fd));
		return true;
	}
	/* (AT_EMPTY_PATH needs a capability; the descriptor's magic link
	 * does not, and names exactly the file opened beneath DEST) */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, c->dirfd, name, AT_SYMLINK_FOLLOW) < 0)
		skip(c, errno == EEXIST ? SKIP_EXISTS : SKIP_FAILED, path,
		     strerror(errno));
	else
		c->made++;
	close(fd);
	return true;
}

static void remember_first(struct extract *c, const struct e4_inode *in,
			   const char *path)
{
	bool added;
	char **slot;

	if (in->links < 2)
		return;
	slot = e4_hmap_put(c->links, in->ino, &added);
	if (slot && added)
		*slot = strdup(rel_of(path));
}

static void make_file(struct extract *c, const struct e4_inode *in,
		      const char *name, const char *path)
{
	int fd, err;

	if (link_again(c, in, name, path))
		return;
	fd = openat(c->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				    O_CLOEXEC, 0600);
	if (fd < 0) {
		skip(c, errno == EEXIST ? SKIP_EXISTS : SKIP_FAILED, path,
		     strerror(errno));
		return;
	}
	err = copy_data(c, fd, in);
	if (err)
		skip(c, err == -EUCLEAN || err == -EIO ? SKIP_UNREADABLE :
							 SKIP_FAILED,
		     path, strerror(-err));
	set_meta(c, fd, name, in, path);
	close(fd);
	c->made++;
	remember_first(c, in, path);
}

static void make_symlink(struct extract *c, const struct e4_inode *in,
			 const char *name, const char *path)
{
	char target[4097];
	ssize_t n = e4_symlink_read(c->fs, in, target, sizeof(target) - 1);

	if (n < 0) {
		skip(c, SKIP_UNREADABLE, path, strerror((int)-n));
		return;
	}
	target[n] = '\0';
	if (n == 0 || memchr(target, '\0', (size_t)n)) {
		skip(c, SKIP_NAME, path, "a symlink target no symlink may have");
		return;
	}
	if (symlinkat(target, c->dirfd, name) < 0) {
		skip(c, errno == EEXIST ? SKIP_EXISTS : SKIP_FAILED, path,
		     strerror(errno));
		return;
	}
	set_meta(c, -1, name, in, path);
	c->made++;
}

/* Fifos and sockets always (they hold nothing), devices when asked. */
static void make_node(struct extract *c, const struct e4_inode *in,
		      const char *name, const char *path)
{
	uint16_t type = in->mode & E4_S_IFMT;
	dev_t dev = 0;
	int fd;

	if (type == E4_S_IFCHR || type == E4_S_IFBLK) {
		if (!(c->flags & E4IMG_X_DEVICES)) {
			skip(c, SKIP_DEVICE, path, NULL);
			return;
		}
		dev = makedev(in->rdev_major, in->rdev_minor);
	}
	if (link_again(c, in, name, path))
		return;
	if (mknodat(c->dirfd, name, (mode_t)(type | 0600), dev) < 0) {
		skip(c, errno == EEXIST ? SKIP_EXISTS : SKIP_FAILED, path,
		     strerror(errno));
		return;
	}
	set_meta(c, -1, name, in, path);
	/* a node is not opened (a fifo would wait for a writer): its mode
	 * through a descriptor of it, found beneath its directory without
	 * following anything */
	fd = openat2_beneath(c->dirfd, name, O_PATH | O_NOFOLLOW);
	if (fd >= 0) {
		char proc[64];

		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (chmod(proc, perms_of(c, in)) < 0)
			skip(c, SKIP_FAILED, path, "its mode");
		close(fd);
	}
	c->made++;
	remember_first(c, in, path);
}

/* A directory, made empty here (one that was there already is not
 * merged into): whether to walk into it. */
static bool make_dir(struct extract *c, const struct e4_inode *in,
		     const char *name, const char *path)
{
	struct dir_fixup *d;

	if (mkdirat(c->dirfd, name, 0700) < 0) {
		skip(c, errno == EEXIST ? SKIP_EXISTS : SKIP_FAILED, path,
		     strerror(errno));
		return false;
	}
	c->made++;
	if (c->ndirs == c->dirs_cap) {
		size_t cap = c->dirs_cap ? c->dirs_cap * 2 : 64;

		d = realloc(c->dirs, cap * sizeof(*d));
		if (!d)
			return true;	/* its mode stays 0700 */
		c->dirs = d;
		c->dirs_cap = cap;
	}
	d = &c->dirs[c->ndirs];
	d->rel = strdup(rel_of(path));
	if (d->rel) {
		d->in = *in;
		c->ndirs++;
	}
	return true;
}

/* ---- the walk ------------------------------------------------------------ */

static int x_dir_begin(void *ctx, const char *path, const struct e4_inode *dir,
		       uint32_t parent)
{
	struct extract *c = ctx;
	int fd;

	(void)dir;
	(void)parent;
	fd = openat2_beneath(c->dest, rel_of(path), O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		/* not made (skipped above): its entries are not wanted */
		return 1;
	}
	c->dirfd = fd;
	return 0;
}

static int x_entry(void *ctx, const struct e4_tree_entry *e, bool *descend)
{
	struct extract *c = ctx;
	struct e4_inode in;
	int err;

	*descend = false;
	if (!name_ok(e->name, e->name_len)) {
		skip(c, SKIP_NAME, e->path, NULL);
		return 0;
	}
	err = e4_inode_read_named(c->fs, e->dir, e->name, e->ino, &in);
	if (err) {
		skip(c, SKIP_UNREADABLE, e->path, strerror(-err));
		return err == -ENOMEM ? err : 0;
	}
	switch (in.mode & E4_S_IFMT) {
	case E4_S_IFREG:
		make_file(c, &in, e->name, e->path);
		break;
	case E4_S_IFDIR:
		*descend = make_dir(c, &in, e->name, e->path);
		break;
	case E4_S_IFLNK:
		make_symlink(c, &in, e->name, e->path);
		break;
	default:
		make_node(c, &in, e->name, e->path);
		break;
	}
	progress(c);
	return 0;
}

static int x_dir_end(void *ctx, const char *path, const struct e4_inode *dir,
		     int err)
{
	struct extract *c = ctx;

	(void)dir;
	if (err)
		skip(c, SKIP_UNREADABLE, path, strerror(-err));
	if (c->dirfd >= 0)
		close(c->dirfd);
	c->dirfd = -1;
	return err == -ENOMEM ? err : 0;
}

static void x_refused(void *ctx, const struct e4_tree_entry *e,
		      enum e4_tree_refusal why)
{
	skip(ctx, SKIP_REFUSED, e->path,
	     why == E4_TREE_WALKED_BEFORE ? "a directory already extracted" :
					    "too deep");
}

/* Modes and times of the directories, deepest first: their contents are
 * all there, and a mode without write or search no longer stands in the
 * way. */
static void fix_dirs(struct extract *c)
{
	for (size_t i = c->ndirs; i-- > 0;) {
		struct dir_fixup *d = &c->dirs[i];
		int fd = openat2_beneath(c->dest, d->rel, O_RDONLY | O_DIRECTORY);

		if (fd >= 0) {
			c->dirfd = -1;
			set_meta(c, fd, NULL, &d->in, d->rel);
			close(fd);
		}
		free(d->rel);
	}
	free(c->dirs);
}

static void summary(struct extract *c)
{
	FILE *f = c->io->err;

	if (c->flags & E4IMG_X_PROGRESS)
		fputc('\n', f);
	fprintf(f, "%s: extract: %" PRIu64 " made, %" PRIu64 " bytes of data",
		c->io->prog, c->made, c->bytes);
	for (int i = 0; i < SKIP_REASONS; i++)
		if (c->skipped[i])
			fprintf(f, "; skipped %" PRIu64 " (%s)", c->skipped[i],
				skip_words[i]);
	fputc('\n', f);
}

int e4img_extract(struct e4_fs *fs, const char *path, const char *dest,
		  unsigned flags, const struct e4img_io *io)
{
	static const struct e4_tree_ops ops = {
		.dir_begin = x_dir_begin, .entry = x_entry,
		.dir_end = x_dir_end, .refused = x_refused,
	};
	struct e4_tree_opts opts = { .flags = E4_TREE_SALVAGE };
	struct extract c = {
		.fs = fs, .io = io, .flags = flags, .dirfd = -1,
		.as_root = geteuid() == 0,
	};
	struct e4_inode in;
	size_t pos = 0;
	uint64_t key;
	void *val;
	int err = 0;

	if (e4img_resolve(fs, path, &in, io))
		return 1;
	c.dest = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c.dest < 0) {
		fprintf(io->err, "%s: %s: %s\n", io->prog, dest,
			strerror(errno));
		return 2;
	}
	c.links = e4_hmap_new(sizeof(char *));
	c.buf = malloc(COPY_CHUNK);
	if (!c.links || !c.buf) {
		fprintf(io->err, "%s: out of memory\n", io->prog);
		err = -ENOMEM;
		goto out;
	}
	if (!e4_inode_is_dir(&in)) {
		/* one file: into DEST under its own name */
		const char *base = strrchr(path, '/');

		base = base ? base + 1 : path;
		c.dirfd = c.dest;
		if (!name_ok(base, strlen(base)))
			skip(&c, SKIP_NAME, path, NULL);
		else if (e4_inode_is_reg(&in))
			make_file(&c, &in, base, path);
		else if (e4_inode_is_symlink(&in))
			make_symlink(&c, &in, base, path);
		else
			make_node(&c, &in, base, path);
		c.dirfd = -1;
	} else {
		err = e4_tree_walk(fs, in.ino, "", &opts, &ops, &c);
		if (c.dirfd >= 0)
			close(c.dirfd);
		c.dirfd = -1;
		/* the start directory is DEST itself: its mode stays */
		fix_dirs(&c);
		c.dirs = NULL;
		if (err < 0)
			fprintf(io->err, "%s: %s: %s\n", io->prog, path,
				strerror(-err));
	}
	summary(&c);
out:
	if (c.links) {
		while (e4_hmap_next(c.links, &pos, &key, &val))
			free(*(char **)val);
		e4_hmap_free(c.links);
	}
	free(c.buf);
	close(c.dest);
	if (err < 0)
		return 2;
	return c.status;
}

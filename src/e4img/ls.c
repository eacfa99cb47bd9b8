/* SPDX-License-Identifier: MIT */
/*
 * e4img ls [-lR]: a listing in `ls -R` order, through the library's tree
 * walker, so a directory that names itself or an ancestor is reported once
 * and not followed; a damaged directory block is skipped (reported, exit
 * status 1) and the entries of the others listed.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "e4/format.h"
#include "e4/tree.h"
#include "e4img/e4img.h"

struct ls {
	struct e4_fs *fs;
	const struct e4img_io *io;
	unsigned flags;
	const char *start;
	int status;
};

static void print_long(struct ls *c, const struct e4_inode *in,
		       const char *name)
{
	FILE *out = c->io->out;
	char mode[11], when[64];
	uint16_t type = in->mode & E4_S_IFMT;

	e4img_mode_string(in->mode, mode);
	e4img_format_time(&in->mtime, when, sizeof(when));
	if (type == E4_S_IFCHR || type == E4_S_IFBLK)
		fprintf(out, "%s %5u %6u %6u %5u,%5u %s %s", mode, in->links,
			in->uid, in->gid, in->rdev_major, in->rdev_minor, when,
			name);
	else
		fprintf(out, "%s %5u %6u %6u %12" PRIu64 " %s %s", mode,
			in->links, in->uid, in->gid, in->size, when, name);
	if (e4_inode_is_symlink(in)) {
		char target[4096];
		ssize_t n = e4_symlink_read(c->fs, in, target, sizeof(target));

		if (n >= 0)
			fprintf(out, " -> %.*s", (int)n, target);
	}
	fputc('\n', out);
}

static int ls_dir_begin(void *ctx, const char *path,
			const struct e4_inode *dir, uint32_t parent)
{
	struct ls *c = ctx;

	(void)dir;
	(void)parent;
	if (!(c->flags & E4IMG_LS_RECURSIVE))
		return 0;
	if (strcmp(path, c->start) != 0)
		fputc('\n', c->io->out);
	fprintf(c->io->out, "%s:\n", path);
	return 0;
}

static int ls_entry(void *ctx, const struct e4_tree_entry *e, bool *descend)
{
	struct ls *c = ctx;
	struct e4_inode in;
	int err = e4_inode_read_named(c->fs, e->dir, e->name, e->ino, &in);

	if (err) {
		fprintf(c->io->err, "%s: %s: inode %u: %s\n", c->io->prog,
			e->path, e->ino, strerror(-err));
		c->status = 1;
		return err == -ENOMEM ? err : 0;
	}
	if (c->flags & E4IMG_LS_LONG)
		print_long(c, &in, e->name);
	else
		fprintf(c->io->out, "%s\n", e->name);
	*descend = (c->flags & E4IMG_LS_RECURSIVE) && e4_inode_is_dir(&in);
	return 0;
}

static int ls_dir_end(void *ctx, const char *path, const struct e4_inode *dir,
		      int err)
{
	struct ls *c = ctx;

	(void)dir;
	if (err) {
		fprintf(c->io->err, "%s: %s: %s\n", c->io->prog, path,
			strerror(-err));
		c->status = 1;
	}
	return err == -ENOMEM ? err : 0;
}

static void ls_refused(void *ctx, const struct e4_tree_entry *e,
		       enum e4_tree_refusal why)
{
	struct ls *c = ctx;

	fprintf(c->io->err, "%s: %s: %s\n", c->io->prog, e->path,
		why == E4_TREE_WALKED_BEFORE ?
			"directory already listed (a directory cycle or a second link to a directory): not followed" :
			"too deep: not followed");
	c->status = 1;
}

int e4img_ls(struct e4_fs *fs, const char *path, unsigned flags,
	     const struct e4img_io *io)
{
	static const struct e4_tree_ops ops = {
		.dir_begin = ls_dir_begin, .entry = ls_entry,
		.dir_end = ls_dir_end, .refused = ls_refused,
	};
	struct e4_tree_opts opts = { .flags = E4_TREE_SORTED | E4_TREE_SALVAGE };
	struct ls c = { .fs = fs, .io = io, .flags = flags, .start = path };
	struct e4_inode in;
	int err;

	if (e4img_resolve(fs, path, &in, io))
		return 1;
	if (!e4_inode_is_dir(&in)) {
		if (flags & E4IMG_LS_LONG)
			print_long(&c, &in, path);
		else
			fprintf(io->out, "%s\n", path);
		return 0;
	}
	err = e4_tree_walk(fs, in.ino, path, &opts, &ops, &c);
	if (err < 0) {
		fprintf(io->err, "%s: %s: %s\n", io->prog, path, strerror(-err));
		return 2;
	}
	return c.status;
}

int e4img_lost(struct e4_fs *fs, unsigned flags, const struct e4img_io *io)
{
	struct ls c = { .fs = fs, .io = io, .flags = flags };
	struct e4_unreachable_stats st;
	struct e4_unreachable *u;
	int err = e4_unreachable_scan(fs, &u);

	if (err) {
		fprintf(io->err, "%s: cannot find the unreachable inodes: %s\n",
			io->prog, strerror(-err));
		return 2;
	}
	for (uint32_t ino = e4_unreachable_next(u, 0); ino;
	     ino = e4_unreachable_next(u, ino)) {
		char name[E4_UNREACHABLE_NAME_MAX];
		struct e4_inode in;

		e4_unreachable_name(ino, name);
		if (!(flags & E4IMG_LS_LONG))
			fprintf(io->out, "%s\n", name);
		else if (e4_inode_read(fs, ino, &in) == 0)
			print_long(&c, &in, name);
	}
	e4_unreachable_get_stats(u, &st);
	e4_unreachable_free(u);
	if (st.unreadable) {
		fprintf(io->err,
			"%s: %" PRIu64 " inode%s in use could not be read (reported above): not listed\n",
			io->prog, st.unreadable, st.unreadable == 1 ? "" : "s");
		return 1;
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * e4img: read an ext2/3/4 image with the on-disk library alone: no mount,
 * no FUSE.  It is both a forensic tool and the proof that the library
 * stands on its own.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "e4/check.h"
#include "e4/e4.h"

static const char *progname = "e4img";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s ls [-lR] IMAGE [PATH]\n"
		"       %s cat IMAGE PATH\n"
		"       %s stat IMAGE PATH\n"
		"       %s info IMAGE\n"
		"       %s check IMAGE      (exit 0 clean, 1 problems found, 2 unreadable)\n"
		"options for every command:\n"
		"       --offset=BYTES   file system starts at BYTES in IMAGE\n"
		"       --norecovery     do not replay the journal\n",
		progname, progname, progname, progname, progname);
}

struct ctx {
	struct e4_fs *fs;
	bool long_fmt, recursive;
	int status;
};

static struct {
	uint64_t offset;
	bool norecovery;
} gopts;

/* Open IMAGE with the global options; @o carries the log settings. */
static int open_image_opts(const char *path, struct e4_open_opts *o,
			   struct e4_fs **fs)
{
	struct e4_dev *dev;
	int err = e4_dev_open_file(path, gopts.offset, 0, false, &dev);

	if (err) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(-err));
		return err;
	}
	o->read_only = true;
	o->norecovery = gopts.norecovery;
	err = e4_fs_open(dev, o, fs);
	if (err) {
		fprintf(stderr, "%s: %s: cannot open: %s\n", progname, path,
			strerror(-err));
		e4_dev_close(dev);
	}
	return err;
}

static int open_image(const char *path, struct e4_fs **fs)
{
	struct e4_open_opts o = {.log_level = E4_LOG_WARN};

	return open_image_opts(path, &o, fs);
}

static char type_char(uint16_t mode)
{
	switch (mode & 0xF000) {
	case 0x4000: return 'd';
	case 0xA000: return 'l';
	case 0x2000: return 'c';
	case 0x6000: return 'b';
	case 0x1000: return 'p';
	case 0xC000: return 's';
	default: return '-';
	}
}

static void mode_string(uint16_t mode, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";
	out[0] = type_char(mode);
	for (int i = 0; i < 9; i++)
		out[i + 1] = (mode & (1u << (8 - i))) ? rwx[i] : '-';
	if (mode & 04000) out[3] = (mode & 0100) ? 's' : 'S';
	if (mode & 02000) out[6] = (mode & 0010) ? 's' : 'S';
	if (mode & 01000) out[9] = (mode & 0001) ? 't' : 'T';
	out[10] = '\0';
}

static void format_time(const struct e4_time *t, char *buf, size_t size)
{
	time_t s = (time_t)t->sec;
	struct tm tm;
	if (!gmtime_r(&s, &tm)) {
		snprintf(buf, size, "%" PRId64, t->sec);
		return;
	}
	size_t n = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%09u", t->nsec);
}

static void print_long(struct ctx *c, const struct e4_inode *in, const char *name)
{
	char mode[11], when[64];
	mode_string(in->mode, mode);
	format_time(&in->mtime, when, sizeof(when));
	if ((in->mode & 0xF000) == 0x2000 || (in->mode & 0xF000) == 0x6000)
		printf("%s %5u %6u %6u %5u,%5u %s %s", mode, in->links, in->uid,
		       in->gid, in->rdev_major, in->rdev_minor, when, name);
	else
		printf("%s %5u %6u %6u %12" PRIu64 " %s %s", mode, in->links,
		       in->uid, in->gid, in->size, when, name);
	if (e4_inode_is_symlink(in)) {
		char target[4096];
		ssize_t n = e4_symlink_read(c->fs, in, target, sizeof(target));
		if (n >= 0)
			printf(" -> %.*s", (int)n, target);
	}
	putchar('\n');
}

struct name_list {
	char **names;
	uint32_t *inos;
	size_t n, cap;
};

static int collect(void *vctx, const struct e4_dirent *d)
{
	struct name_list *l = vctx;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **nn = realloc(l->names, cap * sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		l->names = nn;
		uint32_t *ni = realloc(l->inos, cap * sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		l->inos = ni;
		l->cap = cap;
	}
	l->names[l->n] = strdup(d->name);
	if (!l->names[l->n])
		return -ENOMEM;
	l->inos[l->n++] = d->ino;
	return 0;
}

static void free_list(struct name_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->inos);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_dir(struct ctx *c, const struct e4_inode *dir, const char *path)
{
	struct name_list l = {0};
	int err = e4_dir_iterate(c->fs, dir, 0, collect, &l);

	if (err < 0) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(-err));
		c->status = 1;
	}
	/* sort names and inode numbers together */
	size_t *order = calloc(l.n ? l.n : 1, sizeof(*order));
	char **sorted = calloc(l.n ? l.n : 1, sizeof(*sorted));
	if (!order || !sorted) {
		free(order);
		free(sorted);
		free_list(&l);
		c->status = 2;
		return;
	}
	memcpy(sorted, l.names, l.n * sizeof(*sorted));
	qsort(sorted, l.n, sizeof(*sorted), by_name);
	for (size_t i = 0; i < l.n; i++)
		for (size_t j = 0; j < l.n; j++)
			if (sorted[i] == l.names[j])
				order[i] = j;

	if (c->recursive)
		printf("%s:\n", path);
	for (size_t i = 0; i < l.n; i++) {
		const char *name = l.names[order[i]];
		struct e4_inode in;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		err = e4_inode_read(c->fs, l.inos[order[i]], &in);
		if (err) {
			fprintf(stderr, "%s: %s/%s: inode %u: %s\n", progname, path,
				name, l.inos[order[i]], strerror(-err));
			c->status = 1;
			continue;
		}
		if (c->long_fmt)
			print_long(c, &in, name);
		else
			printf("%s\n", name);
	}
	if (c->recursive) {
		for (size_t i = 0; i < l.n; i++) {
			const char *name = l.names[order[i]];
			struct e4_inode in;
			if (!strcmp(name, ".") || !strcmp(name, ".."))
				continue;
			if (e4_inode_read(c->fs, l.inos[order[i]], &in) || !e4_inode_is_dir(&in))
				continue;
			char *sub = NULL;
			if (asprintf(&sub, "%s%s%s", path,
				     path[strlen(path) - 1] == '/' ? "" : "/", name) < 0)
				break;
			putchar('\n');
			list_dir(c, &in, sub);
			free(sub);
		}
	}
	free(order);
	free(sorted);
	free_list(&l);
}

static int resolve(struct e4_fs *fs, const char *path, struct e4_inode *in)
{
	uint32_t ino;
	int err = e4_path_lookup(fs, path, &ino);
	if (!err)
		err = e4_inode_read(fs, ino, in);
	if (err)
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(-err));
	return err;
}

static int cmd_ls(int argc, char **argv)
{
	struct ctx c = {0};
	int opt;

	optind = 1;
	while ((opt = getopt(argc, argv, "lR")) != -1) {
		if (opt == 'l')
			c.long_fmt = true;
		else if (opt == 'R')
			c.recursive = true;
		else
			return 2;
	}
	if (optind >= argc || argc - optind > 2) {
		usage(stderr);
		return 2;
	}
	const char *path = optind + 1 < argc ? argv[optind + 1] : "/";
	if (open_image(argv[optind], &c.fs))
		return 2;
	struct e4_inode in;
	if (resolve(c.fs, path, &in)) {
		e4_fs_close(c.fs);
		return 1;
	}
	if (e4_inode_is_dir(&in))
		list_dir(&c, &in, path);
	else if (c.long_fmt)
		print_long(&c, &in, path);
	else
		printf("%s\n", path);
	e4_fs_close(c.fs);
	return c.status;
}

/* `CMD IMAGE PATH`: open IMAGE and read PATH's inode.  0 with the fs open,
 * else the exit status (2 usage or unreadable image, 1 no such path). */
static int open_path_command(int argc, char **argv, struct e4_fs **fs,
			     struct e4_inode *in)
{
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	if (open_image(argv[1], fs))
		return 2;
	if (resolve(*fs, argv[2], in)) {
		e4_fs_close(*fs);
		return 1;
	}
	return 0;
}

static int cmd_cat(int argc, char **argv)
{
	struct e4_fs *fs;
	struct e4_inode in;
	int status = open_path_command(argc, argv, &fs, &in);

	if (status)
		return status;
	if (!e4_inode_is_reg(&in)) {
		fprintf(stderr, "%s: %s: not a regular file\n", progname, argv[2]);
		e4_fs_close(fs);
		return 1;
	}
	size_t bufsize = 1u << 20;
	char *buf = malloc(bufsize);
	uint64_t off = 0;
	while (buf) {
		ssize_t n = e4_file_read(fs, &in, off, buf, bufsize);
		if (n < 0) {
			fprintf(stderr, "%s: %s: read at %" PRIu64 ": %s\n", progname,
				argv[2], off, strerror((int)-n));
			status = 1;
			break;
		}
		if (n == 0)
			break;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			status = 1;
			break;
		}
		off += (uint64_t)n;
	}
	free(buf);
	e4_fs_close(fs);
	return status;
}

static int print_xattr_name(void *ctx, const char *name, size_t len)
{
	struct e4_fs *fs = ((void **)ctx)[0];
	const struct e4_inode *in = ((void **)ctx)[1];
	char full[300];
	unsigned char value[256];

	snprintf(full, sizeof(full), "%.*s", (int)len, name);
	ssize_t n = e4_xattr_get(fs, in, full, NULL, 0);
	printf("  xattr %s (%zd bytes)", full, n);
	if (n > 0 && (size_t)n <= sizeof(value) &&
	    e4_xattr_get(fs, in, full, value, sizeof(value)) == n) {
		printf(" = ");
		for (ssize_t i = 0; i < n; i++)
			printf(value[i] >= 32 && value[i] < 127 && value[i] != '\\' ? "%c" : "\\x%02x",
			       value[i]);
	}
	putchar('\n');
	return 0;
}

static int cmd_stat(int argc, char **argv)
{
	struct e4_fs *fs;
	struct e4_inode in;
	char mode[11], t[64];
	int status = open_path_command(argc, argv, &fs, &in);

	if (status)
		return status;
	mode_string(in.mode, mode);
	printf("  path %s\n  inode %u  generation %u\n  mode %s (0%o)\n", argv[2],
	       in.ino, in.generation, mode, in.mode);
	printf("  uid %u  gid %u  links %u\n  size %" PRIu64 "  blocks(512) %" PRIu64 "\n",
	       in.uid, in.gid, in.links, in.size, in.blocks_512);
	printf("  flags 0x%08x  xattr block %" PRIu64 "\n", in.flags, in.file_acl);
	if ((in.mode & 0xF000) == 0x2000 || (in.mode & 0xF000) == 0x6000)
		printf("  device %u:%u\n", in.rdev_major, in.rdev_minor);
	format_time(&in.atime, t, sizeof(t));
	printf("  atime %s\n", t);
	format_time(&in.mtime, t, sizeof(t));
	printf("  mtime %s\n", t);
	format_time(&in.ctime, t, sizeof(t));
	printf("  ctime %s\n", t);
	if (in.has_crtime) {
		format_time(&in.crtime, t, sizeof(t));
		printf("  crtime %s\n", t);
	}
	if (e4_inode_is_symlink(&in)) {
		char target[4096];
		ssize_t n = e4_symlink_read(fs, &in, target, sizeof(target));
		if (n >= 0)
			printf("  target %.*s\n", (int)n, target);
	}
	if (e4_inode_is_reg(&in) || e4_inode_is_dir(&in)) {
		uint64_t bs = 0;
		struct e4_fs_info info;
		e4_fs_get_info(fs, &info);
		bs = info.block_size;
		uint64_t nblocks = (in.size + bs - 1) / bs;
		for (uint64_t l = 0; l < nblocks;) {
			struct e4_mapping m;
			if (e4_map_block(fs, &in, l, &m) < 0)
				break;
			if (m.kind == E4_MAP_INLINE) {
				printf("  inline data\n");
				break;
			}
			if (m.kind != E4_MAP_HOLE)
				printf("  blocks %" PRIu64 "-%" PRIu64 " -> %" PRIu64 "%s\n",
				       l, l + m.len - 1, m.pblk,
				       m.kind == E4_MAP_UNWRITTEN ? " (unwritten)" : "");
			l += m.len ? m.len : 1;
		}
	}
	void *ctx[2] = {fs, &in};
	e4_xattr_list(fs, &in, print_xattr_name, ctx);
	e4_fs_close(fs);
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	struct e4_fs *fs;
	struct e4_fs_info i;
	char features[1024];

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (open_image(argv[1], &fs))
		return 2;
	e4_fs_get_info(fs, &i);
	e4_fs_describe_features(fs, features, sizeof(features));
	printf("volume name:   %s\n", i.volume_name);
	printf("block size:    %u\ncluster size:  %u\nblocks:        %" PRIu64 "\n",
	       i.block_size, i.cluster_size, i.blocks_count);
	printf("inodes:        %u (inode size %u)\ngroups:        %u\n",
	       i.inodes_count, i.inode_size, i.group_count);
	printf("features:      %s\n", features);
	e4_fs_close(fs);
	return 0;
}

static void print_problem(void *ctx, const char *problem)
{
	(void)ctx;
	printf("%s\n", problem);
}

static int cmd_check(int argc, char **argv)
{
	struct e4_check_sink sink = {.report = print_problem};
	struct e4_check_stats st;
	struct e4_fs *fs;
	int err;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	struct e4_open_opts o = {.log = e4_check_log, .log_ctx = &sink,
				 .log_level = E4_LOG_ERROR};
	if (open_image_opts(argv[1], &o, &fs)) {
		e4_check_sink_free(&sink);
		return 2;
	}
	err = e4_check(fs, &sink, &st);
	e4_fs_close(fs);
	e4_check_sink_free(&sink);
	if (err) {
		fprintf(stderr, "%s: %s: cannot check: %s\n", progname, argv[1],
			strerror(-err));
		return 2;
	}
	printf("%s: %u groups, %llu inodes, %llu directories, %llu entries: %llu problem%s\n",
	       argv[1], st.groups, (unsigned long long)st.inodes_checked,
	       (unsigned long long)st.directories, (unsigned long long)st.entries,
	       (unsigned long long)st.problems, st.problems == 1 ? "" : "s");
	return st.problems ? 1 : 0;
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && !strncmp(argv[i], "--", 2)) {
		if (!strncmp(argv[i], "--offset=", 9))
			gopts.offset = strtoull(argv[i] + 9, NULL, 0);
		else if (!strcmp(argv[i], "--norecovery"))
			gopts.norecovery = true;
		else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "%s: unknown option %s\n", progname, argv[i]);
			usage(stderr);
			return 2;
		}
		i++;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[i];
	argc -= i;
	argv += i;
	if (!strcmp(cmd, "ls"))
		return cmd_ls(argc, argv);
	if (!strcmp(cmd, "cat"))
		return cmd_cat(argc, argv);
	if (!strcmp(cmd, "stat"))
		return cmd_stat(argc, argv);
	if (!strcmp(cmd, "info"))
		return cmd_info(argc, argv);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc, argv);
	fprintf(stderr, "%s: unknown command '%s'\n", progname, cmd);
	usage(stderr);
	return 2;
}

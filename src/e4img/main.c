/* SPDX-License-Identifier: MIT */
/*
 * e4img: read an ext2/3/4 image with the on-disk library alone: no mount,
 * no FUSE.  It is both a forensic tool and the proof that the library
 * stands on its own.  This file holds the command line; the commands are
 * in ls.c, show.c and extract.c, the checker in the library.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e4/check.h"
#include "e4/partition.h"
#include "e4img/e4img.h"
#include "util/number.h"

#define PROG "e4img"

/* stdout and stderr, set by main() */
static struct e4img_io std_io = { NULL, NULL, PROG };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s ls [-lR] IMAGE [PATH]\n"
		"       %s lost [-l] IMAGE\n"
		"                           the inodes in use no path reaches (what\n"
		"                           e2fsck would put in lost+found), as #INO;\n"
		"                           a PATH #INO[/...] names one for the other\n"
		"                           commands (exit 1: some could not be read)\n"
		"       %s cat IMAGE PATH\n"
		"       %s stat IMAGE PATH\n"
		"       %s info IMAGE\n"
		"       %s check [-v] [--json] IMAGE\n"
		"                           (exit 0 clean, 1 problems found, 2 unreadable);\n"
		"                           many problems of one kind are one line with\n"
		"                           a sample unless -v; --json: one JSON document\n"
		"       %s extract [--devices] [--setid] [--xattrs] [--owners]\n"
		"                     [--progress|--no-progress] IMAGE [PATH] DEST\n"
		"                           copy PATH (default /) into the existing\n"
		"                           directory DEST, never outside it; device\n"
		"                           nodes, setuid/setgid bits, user.* xattrs\n"
		"                           and ACLs, and owners (as root) only when\n"
		"                           asked (exit 0, 1 something skipped, 2 failed)\n"
		"       %s --help | --version | -V\n"
		"options for every command (before or after the command word):\n"
		"       --offset=BYTES      file system starts at BYTES in IMAGE\n"
		"                           (suffixes K, M, G, T, s: 512-byte sectors)\n"
		"       --partition=N       file system is partition N of an MBR or GPT\n"
		"                           disk image (without either option, the one\n"
		"                           ext2/3/4 partition of a disk image is found)\n"
		"       --norecovery        do not replay the journal\n"
		"       --replay-mem=SIZE   memory the in-memory journal replay may use\n"
		"                           (K, M, G suffixes; default %lluM)\n",
		PROG, PROG, PROG, PROG, PROG, PROG, PROG, PROG,
		(unsigned long long)(E4_REPLAY_MEM_DEFAULT >> 20));
}

static struct {
	bool offset_set;
	uint64_t offset;
	unsigned partition;
	uint64_t replay_mem;
	bool norecovery;
} gopts;

static int number_option(const char *arg, const char *name, bool suffixes,
			 uint64_t *out)
{
	int err = e4_parse_u64(arg + strlen(name) + 1, suffixes, out);

	if (err)
		fprintf(stderr, "%s: %s: %s\n", PROG, arg,
			err == -ERANGE ? "number too large" :
			suffixes ? "expected a decimal number with an optional K, M, G, T or s suffix" :
				   "expected a decimal number");
	return err;
}

static int partition_option(const char *arg)
{
	uint64_t n;
	int err = number_option(arg, "--partition", false, &n);

	if (err)
		return err;
	if (n < 1 || n > E4_PART_NUMBER_MAX) {
		fprintf(stderr, "%s: %s: not between 1 and %u\n", PROG, arg,
			E4_PART_NUMBER_MAX);
		return -ERANGE;
	}
	gopts.partition = (unsigned)n;
	return 0;
}

/* Why the file system was not found in the image. */
static void locate_log(void *ctx, enum e4_log_level level, const char *msg)
{
	(void)level;
	fprintf(stderr, "%s: %s: %s\n", PROG, (const char *)ctx, msg);
}

/* Open IMAGE with the global options; @o carries the log settings. */
static int open_image_opts(const char *path, struct e4_open_opts *o,
			   struct e4_fs **fs)
{
	struct e4_locate_opts lo = {
		.offset_set = gopts.offset_set,
		.offset = gopts.offset,
		.partition = gopts.partition,
		.choose_hint = "--partition=N",
		.log = locate_log,
		.log_ctx = (void *)path,
	};
	struct e4_dev *image, *dev;
	int err = e4_dev_open_file(path, 0, 0, false, &image);

	if (err) {
		fprintf(stderr, "%s: %s: %s\n", PROG, path, strerror(-err));
		return err;
	}
	err = e4_dev_open_located(image, &lo, NULL, &dev);
	if (err) {
		e4_dev_close(image);
		return err;
	}
	o->read_only = true;
	if (!o->log && !o->report) {
		/* the library's warnings under e4img's name */
		o->log = e4_log_to_stderr;
		o->log_ctx = (void *)PROG;
	}
	o->norecovery = gopts.norecovery;
	o->replay_mem_max = gopts.replay_mem;
	err = e4_fs_open(dev, o, fs);
	if (err) {
		fprintf(stderr, "%s: %s: cannot open: %s\n", PROG, path,
			strerror(-err));
		e4_dev_close(dev);
	}
	return err;
}

static int open_image(const char *path, struct e4_fs **fs)
{
	struct e4_open_opts o = { .log_level = E4_LOG_WARN };

	return open_image_opts(path, &o, fs);
}

/* `ls [-lR] IMAGE [PATH]` and `lost [-l] IMAGE` (@lost) */
static int cmd_ls(int argc, char **argv, bool lost)
{
	unsigned flags = 0;
	struct e4_fs *fs;
	int i = 1, status;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		for (const char *o = argv[i] + 1; *o; o++) {
			if (*o == 'l')
				flags |= E4IMG_LS_LONG;
			else if (*o == 'R' && !lost)
				flags |= E4IMG_LS_RECURSIVE;
			else {
				fprintf(stderr, "%s: %s: unknown option -%c\n",
					PROG, argv[0], *o);
				return 2;
			}
		}
	}
	if (i >= argc || argc - i > (lost ? 1 : 2)) {
		usage(stderr);
		return 2;
	}
	if (open_image(argv[i], &fs))
		return 2;
	if (lost)
		status = e4img_lost(fs, flags, &std_io);
	else
		status = e4img_ls(fs, i + 1 < argc ? argv[i + 1] : "/", flags,
				  &std_io);
	e4_fs_close(fs);
	return status;
}

/* `CMD IMAGE PATH` */
static int path_command(int argc, char **argv,
			int (*cmd)(struct e4_fs *, const char *,
				   const struct e4img_io *))
{
	struct e4_fs *fs;
	int status;

	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	if (open_image(argv[1], &fs))
		return 2;
	status = cmd(fs, argv[2], &std_io);
	e4_fs_close(fs);
	return status;
}

static int cmd_info(int argc, char **argv)
{
	struct e4_fs *fs;
	int status;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (open_image(argv[1], &fs))
		return 2;
	status = e4img_info(fs, &std_io);
	e4_fs_close(fs);
	return status;
}

static int cmd_extract(int argc, char **argv)
{
	unsigned flags = isatty(STDERR_FILENO) ? E4IMG_X_PROGRESS : 0;
	struct e4_fs *fs;
	int i = 1, status;

	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--devices"))
			flags |= E4IMG_X_DEVICES;
		else if (!strcmp(argv[i], "--setid"))
			flags |= E4IMG_X_SETID;
		else if (!strcmp(argv[i], "--xattrs"))
			flags |= E4IMG_X_XATTRS;
		else if (!strcmp(argv[i], "--owners"))
			flags |= E4IMG_X_OWNERS;
		else if (!strcmp(argv[i], "--progress"))
			flags |= E4IMG_X_PROGRESS;
		else if (!strcmp(argv[i], "--no-progress"))
			flags &= ~(unsigned)E4IMG_X_PROGRESS;
		else {
			fprintf(stderr, "%s: extract: unknown option %s\n",
				PROG, argv[i]);
			return 2;
		}
	}
	if (argc - i != 2 && argc - i != 3) {
		usage(stderr);
		return 2;
	}
	if (open_image(argv[i], &fs))
		return 2;
	status = e4img_extract(fs, argc - i == 3 ? argv[i + 1] : "/",
			       argv[argc - 1], flags, &std_io);
	e4_fs_close(fs);
	return status;
}

static int cmd_check(int argc, char **argv)
{
	unsigned flags = 0;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			flags |= E4IMG_CHECK_VERBOSE;
		else if (!strcmp(argv[i], "--json"))
			flags |= E4IMG_CHECK_JSON;
		else {
			fprintf(stderr, "%s: check: unknown option %s\n", PROG,
				argv[i]);
			return 2;
		}
	}
	if (argc - i != 1) {
		usage(stderr);
		return 2;
	}
	return e4img_check(argv[i], flags, open_image_opts, &std_io);
}

/* A global option at argv[i]: 1 it was one (and is taken), 0 it is not,
 * <0 it was wrong (the message printed), 2 it asked to exit 0. */
static int global_option(const char *arg)
{
	if (!strncmp(arg, "--offset=", 9)) {
		/* e4fuse's offset= parser: K, M, G, T and s suffixes */
		if (number_option(arg, "--offset", true, &gopts.offset))
			return -EINVAL;
		gopts.offset_set = true;
	} else if (!strncmp(arg, "--partition=", 12)) {
		if (partition_option(arg))
			return -EINVAL;
	} else if (!strncmp(arg, "--replay-mem=", 13)) {
		if (number_option(arg, "--replay-mem", true, &gopts.replay_mem))
			return -EINVAL;
	} else if (!strcmp(arg, "--norecovery")) {
		gopts.norecovery = true;
	} else if (!strcmp(arg, "--help")) {
		usage(stdout);
		return 2;
	} else if (!strcmp(arg, "--version") || !strcmp(arg, "-V")) {
		printf("%s %s\n", PROG, PACKAGE_VERSION);
		return 2;
	} else {
		return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	int i = 1, n = 1;

	std_io.out = stdout;
	std_io.err = stderr;
	/* The global options go before or after the command word: take them
	 * out wherever they are (up to "--"), the rest is the command's. */
	bool dashdash = false;
	for (; i < argc; i++) {
		int r = dashdash ? 0 : global_option(argv[i]);

		if (r < 0)
			return 2;
		if (r == 2)
			return 0;
		if (r == 1)
			continue;
		if (!dashdash && !strcmp(argv[i], "--")) {
			dashdash = true;
			continue;
		}
		if (n == 1 && argv[i][0] == '-' && !dashdash) {
			fprintf(stderr, "%s: unknown option %s\n", PROG, argv[i]);
			usage(stderr);
			return 2;
		}
		argv[n++] = argv[i];
	}
	argc = n;
	i = 1;
	if (gopts.offset_set && gopts.partition) {
		fprintf(stderr, "%s: --offset and --partition exclude each other\n",
			PROG);
		return 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[i];
	argc -= i;
	argv += i;
	if (!strcmp(cmd, "ls"))
		return cmd_ls(argc, argv, false);
	if (!strcmp(cmd, "lost"))
		return cmd_ls(argc, argv, true);
	if (!strcmp(cmd, "cat"))
		return path_command(argc, argv, e4img_cat);
	if (!strcmp(cmd, "stat"))
		return path_command(argc, argv, e4img_stat);
	if (!strcmp(cmd, "info"))
		return cmd_info(argc, argv);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc, argv);
	if (!strcmp(cmd, "extract"))
		return cmd_extract(argc, argv);
	fprintf(stderr, "%s: unknown command '%s'\n", PROG, cmd);
	usage(stderr);
	return 2;
}

/* SPDX-License-Identifier: MIT */
/*
 * e4img's commands, each working on an open file system and writing to the
 * streams it is given, so the fuzz harness can run them on a mutated image
 * without a process per input.  Every command returns the exit status:
 * 0 success, 1 problems (missing path, unreadable entries), 2 unusable.
 */
#ifndef E4IMG_E4IMG_H
#define E4IMG_E4IMG_H

#include <stdbool.h>
#include <stdio.h>

#include "e4/e4.h"

struct e4img_io {
	FILE *out;
	FILE *err;
	const char *prog;	/* prefix of error messages */
};

enum e4img_ls_flags {
	E4IMG_LS_LONG = 1u << 0,	/* -l */
	E4IMG_LS_RECURSIVE = 1u << 1,	/* -R */
};

int e4img_ls(struct e4_fs *fs, const char *path, unsigned flags,
	     const struct e4img_io *io);
/* The inodes in use no path reaches, as #INO (e4_unreachable_scan);
 * E4IMG_LS_LONG: as ls -l shows them. */
int e4img_lost(struct e4_fs *fs, unsigned flags, const struct e4img_io *io);
int e4img_cat(struct e4_fs *fs, const char *path, const struct e4img_io *io);
int e4img_stat(struct e4_fs *fs, const char *path, const struct e4img_io *io);
int e4img_info(struct e4_fs *fs, const struct e4img_io *io);

enum e4img_extract_flags {
	E4IMG_X_DEVICES = 1u << 0,	/* make device nodes (needs root) */
	E4IMG_X_SETID = 1u << 1,	/* keep setuid and setgid bits */
	E4IMG_X_XATTRS = 1u << 2,	/* user.* attributes and POSIX ACLs */
	E4IMG_X_OWNERS = 1u << 3,	/* owners and groups (as root) */
	E4IMG_X_PROGRESS = 1u << 4,	/* a progress line on io->err */
};
/* Copy @path of the image (a directory's contents, or one file) into the
 * existing directory @dest, never writing outside it (extract.c). */
int e4img_extract(struct e4_fs *fs, const char *path, const char *dest,
		  unsigned flags, const struct e4img_io *io);

enum e4img_check_flags {
	E4IMG_CHECK_VERBOSE = 1u << 0,	/* -v: every problem on its own line */
	E4IMG_CHECK_JSON = 1u << 1,	/* --json: one JSON document */
};
/* Check @image, opened with @open (which adds e4img's global options to
 * @o), and print the problems with the paths that reach them (check.c).
 * Exit status 0 clean, 1 problems, 2 unreadable. */
int e4img_check(const char *image, unsigned flags,
		int (*open)(const char *image, struct e4_open_opts *o,
			    struct e4_fs **fs),
		const struct e4img_io *io);

/* Resolve @path to its inode, printing why not (exit status 1). */
int e4img_resolve(struct e4_fs *fs, const char *path, struct e4_inode *in,
		  const struct e4img_io *io);

/* "drwxr-xr-x" and "2026-12-04 19:13:25.000000000" */
void e4img_mode_string(uint16_t mode, char out[11]);
void e4img_format_time(const struct e4_time *t, char *buf, size_t size);

#endif /* E4IMG_E4IMG_H */

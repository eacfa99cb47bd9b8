/* SPDX-License-Identifier: MIT */
/* Command line and -o options of e4fuse (also as mount.fuse.e4fuse). */
#ifndef E4F_OPTIONS_H
#define E4F_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e4/write.h"
#include "fuse/session.h"

struct e4f_options {
	const char *image;
	const char *mountpoint;
	bool foreground;
	bool debug;
	bool help, version;
	bool rw;			/* the default; -o ro turns it off */
	unsigned commit_seconds;	/* commit=: metadata durable within */
	bool allow_other;
	bool allow_root;		/* allow_other, then only root and us */
	bool fakeroot;			/* permission checks as root */
	bool nobtime;			/* -o nobtime: decline STATX */
	bool minixdf;			/* statfs f_blocks: whole size */
	bool auto_unmount;		/* unmount if the server is killed */
	uint32_t umask;			/* umask=, octal */
	char *logfile;			/* logfile=: once detached */
	bool timeouts_set;		/* entry_timeout= ... given */
	uint64_t entry_timeout, attr_timeout, negative_timeout;
	char *subtype;			/* fuse.SUBTYPE; NULL: e4fuse */
	bool default_permissions;	/* on unless no_default_permissions */
	bool writeback_cache;		/* -o writeback_cache: off by default */
	bool uid_set, gid_set;
	uint32_t uid, gid;
	char *fsname;			/* NULL: the image path */
	bool offset_set;
	uint64_t offset;
	unsigned partition;		/* 0: none asked */
	enum e4f_errors_policy errors;
	bool norecovery;
	uint64_t replay_mem;		/* 0: the library's default */
	unsigned long mount_flags;	/* MS_NOSUID, MS_NODEV, MS_NOEXEC... */
	enum e4_atime_policy atime;	/* noatime, relatime, strictatime */
	bool nodiratime;
	unsigned threads;		/* 0: default */
	enum e4f_transport transport;	/* uring, nouring: uring.h */
	bool nosplice;			/* READ replies copied (splice.h) */
	/* the serving process's confinement (sandbox.h) */
	bool sandbox;			/* on unless -o nosandbox */
	bool sandbox_user_set;		/* sandbox_user= given */
	uint32_t sandbox_uid, sandbox_gid;
	uint64_t sandbox_memory;	/* sandbox_memory=: bytes, 0: no limit */
	char *lost_found;		/* lost_found[=NAME]: the name, or NULL */
};

/* The default sandbox_memory: room for the journal replay's default
 * ceiling, the block cache and eight workers' buffers and stacks. */
#define E4F_SANDBOX_MEMORY_DEFAULT (2ull << 30)
/* The user the serving process runs as when started as root. */
#define E4F_SANDBOX_USER_DEFAULT "nobody"
/* Its ids where no user database names it (a container holding e4fuse
 * alone: contrib/container): nobody's customary ids, the kernel's
 * overflow uid and gid. */
#define E4F_SANDBOX_ID_FALLBACK 65534u

/* The uid and primary gid of user @name (a name, or a decimal id: its
 * passwd entry's group if it has one, else the same number).  -ENOENT for
 * no such user, -EPERM for root, -EINVAL after printing why. */
int e4f_sandbox_user(const char *name, uint32_t *uid, uint32_t *gid);

/* Parse argv.  Returns 0, or -EINVAL after printing what is wrong. */
int e4f_parse_args(int argc, char **argv, struct e4f_options *o);
void e4f_options_free(struct e4f_options *o);
void e4f_print_usage(const char *prog);

#endif /* E4F_OPTIONS_H */

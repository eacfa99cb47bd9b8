/* SPDX-License-Identifier: MIT */
/*
 * The confinement of the process that parses the image (the serving
 * process): no privilege, no file system, no system calls beyond what
 * serving needs, no core dumps, bounded memory.  The supervisor
 * (supervisor.c) forks that process and calls e4f_sandbox_enter in it
 * before it reads the first byte of the image.  docs/security.md.
 */
#ifndef E4F_SANDBOX_H
#define E4F_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define E4F_SANDBOX_KEEP_MAX 8

struct e4f_sandbox {
	bool enabled;			/* off: -o nosandbox */
	uint32_t uid, gid;		/* run as these when started as root */
	uint64_t memory;		/* RLIMIT_DATA in bytes; 0: none */
	/* an existing directory the empty root is mounted on in the
	 * process's own mount namespace (e4fuse uses the mount point: it
	 * exists and is a directory; nothing outside sees this) */
	const char *empty_dir;
	/* descriptors that stay open (the image, the supervisor's channel,
	 * stdin/stdout/stderr); every other one is closed */
	int keep[E4F_SANDBOX_KEEP_MAX];
	size_t nkeep;
};

/*
 * Confine the calling process, which must be single-threaded: after this
 * it can only use the descriptors it kept and the system calls of
 * syscall_filter.c.  Prints what failed and returns -errno; the caller
 * must then not go on.
 */
int e4f_sandbox_enter(const struct e4f_sandbox *sb);

#ifdef E4F_TEST_HOOKS
/* Test builds only (tests/mount/sandbox_probe.c, linked into the test
 * binary tests/mount/e4fuse-probe, never into e4fuse): once the mount is
 * live, try what $E4F_SANDBOX_PROBE names. */
void e4f_sandbox_probe(bool sandboxed);
#endif

/* Step 3 where a mount namespace cannot be had (a user's mount): a
 * Landlock domain handling every file-system right, granting none.
 * -EOPNOTSUPP when the kernel has no Landlock.  (Public for its test.) */
int e4f_sandbox_landlock_nothing(void);

#endif /* E4F_SANDBOX_H */

/* SPDX-License-Identifier: MIT */
/*
 * The serving process's sandbox.  In order, each step while the next one
 * still has the privilege it needs:
 *
 *   1. no core dumps (they would hold image data);
 *   2. every descriptor closed but those kept;
 *   3. no file system: a mount namespace of its own whose root is an empty
 *      read-only tmpfs (pivot_root, the old root detached); where the
 *      process may not do that (not root), Landlock with no access right;
 *   4. no privilege: the unprivileged user, no capabilities (nor in the
 *      bounding set), no_new_privs;
 *   5. a memory limit (RLIMIT_DATA);
 *   6. the system call allow-list (syscall_filter.c), last: the steps
 *      before need calls it forbids.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <grp.h>
#include <unistd.h>

#include "fuse/sandbox.h"
#include "fuse/syscall_filter.h"

static int fail(const char *what, int err)
{
	fprintf(stderr, "e4fuse: sandbox: %s: %s\n", what, strerror(err));
	return -err;
}

/* ---- 1. core dumps ------------------------------------------------------ */

static int no_core_dumps(void)
{
	struct rlimit zero = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &zero) < 0)
		return fail("RLIMIT_CORE", errno);
	/* also keeps other processes of the sandbox user from reading its
	 * memory through /proc or ptrace */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return fail("PR_SET_DUMPABLE", errno);
	return 0;
}

/* ---- 2. descriptors --------------------------------------------------- */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int close_others(const struct e4f_sandbox *sb)
{
	int keep[E4F_SANDBOX_KEEP_MAX];
	unsigned from = 0;

	memcpy(keep, sb->keep, sb->nkeep * sizeof(*keep));
	qsort(keep, sb->nkeep, sizeof(*keep), cmp_int);
	/* close_range through syscall(): musl (1.2.3) has no wrapper */
	for (size_t i = 0; i <= sb->nkeep; i++) {
		unsigned to = i < sb->nkeep ? (unsigned)keep[i] : ~0u;

		if (to > from && syscall(SYS_close_range, from, to - 1, 0) < 0)
			return fail("close_range", errno);
		if (i < sb->nkeep)
			from = (unsigned)keep[i] + 1;
	}
	return 0;
}

/* ---- 3. the file system ------------------------------------------------- */

/* An empty, read-only tmpfs as the root of a mount namespace of our own.
 * -EPERM where we may not (no CAP_SYS_ADMIN). */
static int empty_root(const char *dir)
{
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	/* nothing we do here propagates back to the host's mounts */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail("making / private", errno);
#ifdef E4_SANITIZER
	/* the sandbox user must reach /proc (below) */
	const char *opts = "size=16k,nr_inodes=8,mode=0111";
#else
	const char *opts = "size=16k,nr_inodes=8,mode=0";
#endif
	if (mount("e4fuse-sandbox", dir, "tmpfs",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
		return fail("mounting the empty root", errno);
	/* pivot_root(".", ".") stacks the old root on the new one; detaching
	 * it leaves only the tmpfs, with no directory for the old root */
	if (chdir(dir) < 0)
		return fail("chdir to the empty root", errno);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail("pivot_root", errno);
	if (umount2(".", MNT_DETACH) < 0)
		return fail("detaching the old root", errno);
	if (chdir("/") < 0)
		return fail("chdir /", errno);
#ifdef E4_SANITIZER
	/* LeakSanitizer lists /proc/self/task at exit (docs/security.md) */
	if (mkdir("/proc", 0555) < 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return fail("/proc for the sanitizers", errno);
#endif
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return fail("making the empty root read-only", errno);
	return 0;
}

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ull << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ull << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ull << 15)
#endif

/* Landlock handling every file system right it knows, granting none: no
 * path can be opened, made or removed.  -EOPNOTSUPP without Landlock. */
int e4f_sandbox_landlock_nothing(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
			   LANDLOCK_CREATE_RULESET_VERSION);

	if (abi < 1)
		return -EOPNOTSUPP;
	struct landlock_ruleset_attr attr = {
		.handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1,
	};

	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	long fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);

	if (fd < 0)
		return fail("landlock_create_ruleset", errno);
	/* an unprivileged process restricts itself only with no_new_privs */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_landlock_restrict_self, fd, 0) < 0) {
		int err = errno;

		close((int)fd);
		return fail("landlock_restrict_self", err);
	}
	close((int)fd);
	return 0;
}

static int no_file_system(const char *dir)
{
	int ret = empty_root(dir);

	if (ret != -EPERM)
		return ret;
	ret = e4f_sandbox_landlock_nothing();
	if (ret == -EOPNOTSUPP) {
		/* the filter still forbids every call that takes a path */
		fprintf(stderr, "e4fuse: sandbox: warning: neither a mount "
			"namespace (not privileged) nor Landlock (kernel): "
			"the serving process keeps its view of the file "
			"system\n");
		return 0;
	}
	return ret;
}

/* ---- 4. privilege ----------------------------------------------------- */

static int drop_privileges(const struct e4f_sandbox *sb)
{
	int pdeath = 0;

	/* a change of credentials clears the parent-death signal */
	if (prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0) < 0)
		return fail("PR_GET_PDEATHSIG", errno);
	if (geteuid() == 0) {
		for (unsigned long cap = 0;
		     prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
				return fail("dropping the bounding set", errno);
		if (setgroups(0, NULL) < 0)
			return fail("setgroups", errno);
		if (setresgid(sb->gid, sb->gid, sb->gid) < 0)
			return fail("setresgid", errno);
		if (setresuid(sb->uid, sb->uid, sb->uid) < 0)
			return fail("setresuid", errno);
		if (setresuid(0, 0, 0) == 0)
			return fail("root could be regained", EPERM);
	}
	/* whatever is left (a non-root start with file capabilities) */
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct none[2];

	memset(none, 0, sizeof(none));
	if (syscall(SYS_capset, &hdr, none) < 0)
		return fail("capset", errno);
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail("PR_SET_NO_NEW_PRIVS", errno);
	if (prctl(PR_SET_PDEATHSIG, pdeath, 0, 0, 0) < 0)
		return fail("PR_SET_PDEATHSIG", errno);
	/* the credential change reset it to the system's suid_dumpable */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return fail("PR_SET_DUMPABLE", errno);
	return 0;
}

/* ---- 5. memory -------------------------------------------------------- */

static int limit_memory(uint64_t bytes)
{
#ifdef E4_SANITIZER
	/* ASan's shadow memory is terabytes of reserved private mappings,
	 * which RLIMIT_AS and RLIMIT_DATA both count: under the sanitizers
	 * no limit is set (docs/security.md) */
	(void)bytes;
	return 0;
#else
	if (bytes == 0)
		return 0;
	/* RLIMIT_DATA counts private writable memory (heap, mmap'd buffers,
	 * thread stacks), not the binary's text or reserved address space */
	struct rlimit lim = { (rlim_t)bytes, (rlim_t)bytes };

	if (setrlimit(RLIMIT_DATA, &lim) < 0)
		return fail("RLIMIT_DATA", errno);
	return 0;
#endif
}

/* ---- 6. the system call filter --------------------------------------- */

static void *nothing(void *arg)
{
	return arg;
}

/* glibc installs its cancellation and setxid signal handlers at the
 * first pthread_create (rt_sigaction, which the filter forbids): have
 * that done now, by one thread that starts and ends at once. */
static int threads_ready(void)
{
	pthread_t t;
	int err = pthread_create(&t, NULL, nothing, NULL);

	if (err)
		return fail("pthread_create", err);
	pthread_join(t, NULL);
	return 0;
}

int e4f_sandbox_enter(const struct e4f_sandbox *sb)
{
	int ret;

	if (sb->nkeep > E4F_SANDBOX_KEEP_MAX)
		return fail("descriptors to keep", E2BIG);
	if ((ret = no_core_dumps()) < 0 || (ret = close_others(sb)) < 0 ||
	    (ret = no_file_system(sb->empty_dir)) < 0 ||
	    (ret = drop_privileges(sb)) < 0 ||
	    (ret = limit_memory(sb->memory)) < 0 ||
	    (ret = threads_ready()) < 0)
		return ret;
	ret = e4f_syscall_filter_install();
	if (ret < 0)
		return fail("installing the system call filter", -ret);
	return 0;
}

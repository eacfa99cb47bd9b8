/* SPDX-License-Identifier: MIT */
/*
 * statx(2) for the test helpers that compare with the kernel
 * (tests/mount/fsdiff.c, tests/integration/tree_compare.c) where the C
 * library has none (musl before 1.2.5: the static build): the kernel's
 * structure, and the call made directly.  Include after <sys/stat.h>.
 */
#ifndef E4_TESTS_STATX_COMPAT_H
#define E4_TESTS_STATX_COMPAT_H

#ifndef HAVE_STATX
#include <linux/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef AT_STATX_FORCE_SYNC
#define AT_STATX_FORCE_SYNC 0x2000
#endif
static inline int statx(int dirfd, const char *path, int flags,
			unsigned mask, struct statx *st)
{
	return (int)syscall(SYS_statx, dirfd, path, flags, mask, st);
}
#endif

#endif /* E4_TESTS_STATX_COMPAT_H */

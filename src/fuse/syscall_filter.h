/* SPDX-License-Identifier: MIT */
/*
 * The seccomp allow-list of the serving process: the system calls its
 * request loop makes, and nothing else.  See docs/security.md.
 */
#ifndef E4F_SYSCALL_FILTER_H
#define E4F_SYSCALL_FILTER_H

/* Exit status of a serving process stopped for a forbidden system call
 * (128 + SIGSYS, as a shell reports a death by that signal). */
#define E4F_SANDBOX_EXIT_FORBIDDEN 159

/*
 * Install the filter on the calling process (single-threaded: threads made
 * later inherit it).  A call outside the list is not made: SIGSYS's handler
 * writes one line naming it to stderr and the process exits with
 * E4F_SANDBOX_EXIT_FORBIDDEN; another architecture's calls kill it at
 * once.  Needs no_new_privs set.  Returns 0 or -errno.
 */
int e4f_syscall_filter_install(void);

#endif /* E4F_SYSCALL_FILTER_H */

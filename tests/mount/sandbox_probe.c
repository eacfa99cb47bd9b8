/* SPDX-License-Identifier: MIT */
/*
 * The sandbox test hook (sandbox.h), linked into tests/mount/e4fuse-probe
 * only.  Once the mount is live, the serving process tries what
 * $E4F_SANDBOX_PROBE names, as code an image had taken over would:
 *
 *   open     read /etc/passwd          socket   make a TCP socket
 *   execve   run /bin/true             ptrace   attach to the supervisor
 *   mount    mount a tmpfs             kill     signal the supervisor
 *   fork     make a process            write    create a file in /tmp
 *   ioctl    FIONREAD on stdin         backing  fuse-iomap's BACKING_OPEN
 *                                               on stdin (let through:
 *                                               the kernel says ENOTTY)
 *
 * Each either stops the process (the filter's SIGSYS line), or fails and
 * says "sandbox probe: NAME: refused: ERROR", or says "sandbox probe:
 * NAME: ALLOWED" (a hole: tests/mount/sandbox.sh fails on it).  Then the
 * process goes on serving.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuse/fuse_iomap.h"
#include "fuse/sandbox.h"
#include "fuse/session.h"

/* The supervisor: with -f, as the test runs it, the process that started
 * (getppid() itself is not on the allow-list). */
static pid_t supervisor;

__attribute__((constructor)) static void remember_supervisor(void)
{
	supervisor = getpid();
}

static void outcome(const char *name, int ret)
{
	if (ret < 0)
		e4f_log(E4_LOG_INFO, "sandbox probe: %s: refused: %s", name,
			strerror(errno));
	else
		e4f_log(E4_LOG_INFO, "sandbox probe: %s: ALLOWED", name);
}

void e4f_sandbox_probe(bool sandboxed)
{
	const char *what = getenv("E4F_SANDBOX_PROBE");
	int ret;

	if (!what)
		return;
	/* unsandboxed, these would really act on the host (a tmpfs over
	 * its root, a stopped supervisor): only open is for that case */
	if (!sandboxed && strcmp(what, "open") != 0) {
		e4f_log(E4_LOG_ERROR, "sandbox probe: %s: not tried without "
			"the sandbox", what);
		return;
	}
	e4f_log(E4_LOG_INFO, "sandbox probe: %s: trying", what);
	if (strcmp(what, "open") == 0) {
		ret = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	} else if (strcmp(what, "write") == 0) {
		ret = open("/tmp/e4fuse-sandbox-probe",
			   O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	} else if (strcmp(what, "socket") == 0) {
		ret = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	} else if (strcmp(what, "execve") == 0) {
		char *argv[] = { "/bin/true", NULL };
		char *envp[] = { NULL };

		ret = execve(argv[0], argv, envp);
	} else if (strcmp(what, "ptrace") == 0) {
		ret = (int)ptrace(PTRACE_SEIZE, supervisor, NULL, NULL);
		if (ret == 0)
			ptrace(PTRACE_DETACH, supervisor, NULL, NULL);
	} else if (strcmp(what, "mount") == 0) {
		ret = mount("probe", "/", "tmpfs", 0, NULL);
	} else if (strcmp(what, "kill") == 0) {
		/* signal 0: the permission check alone, harmless if it got
		 * through */
		ret = kill(supervisor, 0);
	} else if (strcmp(what, "ioctl") == 0) {
		int n;

		/* syscall(): musl's ioctl() takes an int request */
		ret = (int)syscall(SYS_ioctl, 0, (unsigned long)FIONREAD, &n);
	} else if (strcmp(what, "backing") == 0) {
		struct e4f_backing_map map = { .fd = 0, .flags = 1 };

		ret = (int)syscall(SYS_ioctl, 0,
				   (unsigned long)E4F_DEV_IOC_BACKING_OPEN,
				   &map);
	} else if (strcmp(what, "fork") == 0) {
		ret = fork();
		if (ret == 0)
			_exit(0);
		if (ret > 0)
			waitpid(ret, NULL, 0);
	} else {
		e4f_log(E4_LOG_ERROR, "sandbox probe: unknown probe %s", what);
		return;
	}
	outcome(what, ret);
	if (ret >= 0 && strcmp(what, "fork") != 0 && strcmp(what, "kill") != 0 &&
	    strcmp(what, "ptrace") != 0 && strcmp(what, "mount") != 0 &&
	    strcmp(what, "ioctl") != 0 && strcmp(what, "backing") != 0)
		close(ret);
}

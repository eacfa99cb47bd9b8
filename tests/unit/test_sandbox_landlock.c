/* SPDX-License-Identifier: MIT */
/*
 * The Landlock step of the sandbox (e4f_sandbox_landlock_nothing), the one
 * a user's mount relies on to keep the serving process out of the file
 * system (it cannot make a mount namespace).  /proc does not show a
 * Landlock domain, and in the server the system call filter refuses path
 * calls before Landlock would, so the step is checked here alone: in a
 * child process, as a user who is not root where the test runs as root,
 * after the step no path can be opened for reading or writing, made,
 * removed or renamed, and what was open before still works.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuse/sandbox.h"

/* In the child: 0 when @ok, else the line number, as its exit status. */
#define EXPECT(ok) do { if (!(ok)) { \
	fprintf(stderr, "line %d: %s (errno %d)\n", __LINE__, #ok, errno); \
	_exit(__LINE__ & 0x7f ? __LINE__ & 0x7f : 1); } } while (0)

static void confined_child(const char *dir, int kept_fd)
{
	char path[512], buf[8];
	int fd;

	/* a user's mount: not root (where the test runs as root) */
	if (geteuid() == 0) {
		EXPECT(setgid(65534) == 0);
		EXPECT(setuid(65534) == 0);
	}
	EXPECT(e4f_sandbox_landlock_nothing() == 0);
	errno = 0;
	EXPECT(open("/etc/passwd", O_RDONLY) < 0 && errno == EACCES);
	snprintf(path, sizeof(path), "%s/readable", dir);
	EXPECT(open(path, O_RDONLY) < 0 && errno == EACCES);
	EXPECT(open(path, O_WRONLY) < 0 && errno == EACCES);
	snprintf(path, sizeof(path), "%s/new", dir);
	EXPECT(open(path, O_CREAT | O_WRONLY, 0644) < 0 && errno == EACCES);
	EXPECT(mkdir(path, 0755) < 0 && errno == EACCES);
	snprintf(path, sizeof(path), "%s/readable", dir);
	EXPECT(unlink(path) < 0 && errno == EACCES);
	{
		char to[512];

		snprintf(to, sizeof(to), "%s/renamed", dir);
		EXPECT(rename(path, to) < 0 && errno == EACCES);
	}
	/* nor listed */
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	EXPECT(fd < 0 && errno == EACCES);
	/* the descriptor kept from before: still read */
	EXPECT(pread(kept_fd, buf, 5, 0) == 5 && memcmp(buf, "hello", 5) == 0);
	_exit(0);
}

static void test_no_path_after_landlock(void **state)
{
	char dir[] = "/tmp/e4landlock.XXXXXX", path[512];
	int fd, status;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0777), 0);
	snprintf(path, sizeof(path), "%s/readable", dir);
	fd = open(path, O_CREAT | O_RDWR, 0666);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello", 5), 5);
	assert_int_equal(fchmod(fd, 0666), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		confined_child(dir, fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("the confined child failed a check (see its line above)");
	/* nothing happened to the directory */
	snprintf(path, sizeof(path), "%s/new", dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/readable", dir);
	assert_int_equal(access(path, F_OK), 0);
	close(fd);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_path_after_landlock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

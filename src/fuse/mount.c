/* SPDX-License-Identifier: MIT */
/*
 * mount(2) of a fuse.e4fuse file system when we may (root, or CAP_SYS_ADMIN),
 * fusermount3 otherwise.  fusermount3 mounts with our options and passes the
 * /dev/fuse descriptor back over a socket (_FUSE_COMMFD).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuse/mount.h"
#include "fuse/session.h"

#define FUSERMOUNT "fusermount3"

/* Comma-separated options both paths share. */
static void common_opts(char *buf, size_t size, const struct e4f_mount_params *p)
{
	snprintf(buf, size, "%s%s", p->default_permissions ?
		 ",default_permissions" : "", p->allow_other ?
		 ",allow_other" : "");
}

static int mount_syscall(struct e4f_mount *m, const struct e4f_mount_params *p)
{
	char data[512], common[128];
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		fprintf(stderr, "e4fuse: cannot open /dev/fuse: %s%s\n",
			strerror(e), e == ENOENT ?
			" (is the fuse module loaded?)" : "");
		return -e;
	}
	common_opts(common, sizeof(common), p);
	snprintf(data, sizeof(data), "fd=%d,rootmode=%o,user_id=%u,"
		 "group_id=%u%s", fd, p->rootmode & S_IFMT, (unsigned)getuid(),
		 (unsigned)getgid(), common);
	unsigned long flags = p->flags | (p->read_only ? MS_RDONLY : 0);

	char fstype[80];

	snprintf(fstype, sizeof(fstype), "fuse.%s", p->subtype);
	if (mount(p->fsname, p->mountpoint, fstype, flags, data) < 0) {
		int e = errno;

		close(fd);
		/* EPERM: the caller tries fusermount3, which says why */
		if (e != EPERM)
			fprintf(stderr, "e4fuse: cannot mount on %s: %s\n",
				p->mountpoint, strerror(e));
		return -e;
	}
	m->fd = fd;
	return 0;
}

/* fsname for fusermount's option string: ',' and '\' escaped. */
static void escape_opt(char *dst, size_t size, const char *src)
{
	size_t j = 0;

	for (size_t i = 0; src[i] && j + 2 < size; i++) {
		if (src[i] == ',' || src[i] == '\\')
			dst[j++] = '\\';
		dst[j++] = src[i];
	}
	dst[j] = '\0';
}

int e4f_receive_fd(int sock)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cm.buf, .msg_controllen = sizeof(cm.buf),
	};
	ssize_t n;

	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	/* the buffer holds one message: no CMSG_NXTHDR (musl's trips
	 * -Wsign-conversion) */
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int))) {
		int fd;

		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
		return fd;
	}
	return -1;
}

static int run_fusermount(char *const argv[], int commfd)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (commfd >= 0) {
			char env[16];

			snprintf(env, sizeof(env), "%d", commfd);
			setenv("_FUSE_COMMFD", env, 1);
			/* the child must inherit this end */
			fcntl(commfd, F_SETFD, 0);
		}
		execvp(FUSERMOUNT, argv);
		fprintf(stderr, "e4fuse: cannot run %s: %s\n", FUSERMOUNT,
			strerror(errno));
		_exit(127);
	}
	return pid;
}

static int wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128;
}

static int mount_fusermount(struct e4f_mount *m,
			    const struct e4f_mount_params *p)
{
	char opts[4400], common[128], esc[4096];
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	common_opts(common, sizeof(common), p);
	escape_opt(esc, sizeof(esc), p->fsname);
	snprintf(opts, sizeof(opts), "%s%s%s%s,subtype=%s,fsname=%s%s",
		 p->read_only ? "ro" : "rw",
		 (p->flags & MS_NOSUID) ? ",nosuid" : "",
		 (p->flags & MS_NODEV) ? ",nodev" : "",
		 (p->flags & MS_NOEXEC) ? ",noexec" : "", p->subtype, esc,
		 common);

	char *argv[] = { FUSERMOUNT, "-o", opts, "--",
			 (char *)p->mountpoint, NULL };
	int pid = run_fusermount(argv, sv[1]);

	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return pid;
	}
	int fd = e4f_receive_fd(sv[0]);

	close(sv[0]);
	int status = wait_child(pid);

	if (fd < 0 || status != 0) {
		if (fd >= 0)
			close(fd);
		/* fusermount3 printed why */
		return -EPERM;
	}
	m->fd = fd;
	m->via_fusermount = true;
	return 0;
}

/* Undo mountinfo's octal escapes (\040 for a space, ...) in place. */
static void unescape_mountinfo(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
					(s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

int e4f_mount_find_dev(const char *mountpoint, dev_t *dev)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int ret = -ENOENT;

	if (!f)
		return -errno;
	/* the last match is the newest mount, the one on top */
	while (getline(&line, &cap, f) > 0) {
		unsigned maj, min;
		char mp[4096], fstype[256];

		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mp) != 3)
			continue;
		char *sep = strstr(line, " - ");

		if (!sep || sscanf(sep, " - %255s", fstype) != 1)
			continue;
		unescape_mountinfo(mp);
		if (strcmp(mp, mountpoint) == 0 &&
		    strncmp(fstype, "fuse", 4) == 0) {
			*dev = makedev(maj, min);
			ret = 0;
		}
	}
	free(line);
	fclose(f);
	return ret;
}

int e4f_mount(struct e4f_mount *m, const struct e4f_mount_params *p)
{
	int ret;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->mountpoint = strdup(p->mountpoint);
	if (!m->mountpoint)
		return -ENOMEM;
	if (geteuid() == 0) {
		ret = mount_syscall(m, p);
		/* root without CAP_SYS_ADMIN (a container): try the helper */
		if (ret == -EPERM)
			ret = mount_fusermount(m, p);
	} else {
		ret = mount_fusermount(m, p);
	}
	if (ret < 0)
		return ret;
	m->mounted = true;
	return 0;
}

int e4f_unmount(struct e4f_mount *m, bool lazy)
{
	if (!m->mounted)
		return 0;
	if (m->via_fusermount) {
		char *argv[] = { FUSERMOUNT, "-u", "-q", "-z", "--",
				 m->mountpoint, NULL };
		int pid = run_fusermount(argv, -1);

		if (pid < 0)
			return pid;
		if (wait_child(pid) != 0)
			return -EBUSY;
		m->mounted = false;
		return 0;
	}
	if (!lazy && umount2(m->mountpoint, UMOUNT_NOFOLLOW) == 0) {
		m->mounted = false;
		return 0;
	}
	if (umount2(m->mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
		m->mounted = false;
		return 0;
	}
	int e = errno;

	e4f_log(E4_LOG_ERROR, "cannot unmount %s: %s", m->mountpoint,
		strerror(e));
	return -e;
}

void e4f_mount_abort(struct e4f_mount *m)
{
	char path[64];

	if (!m->dev)
		return;
	snprintf(path, sizeof(path), "/sys/fs/fuse/connections/%u/abort",
		 minor(m->dev));
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			e4f_log(E4_LOG_WARN, "%s: %s", path, strerror(errno));
		close(fd);
	}
}

void e4f_mount_free(struct e4f_mount *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	free(m->mountpoint);
	m->mountpoint = NULL;
}

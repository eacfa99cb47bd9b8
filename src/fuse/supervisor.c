/* SPDX-License-Identifier: MIT */
/*
 * The supervisor and its channel to the serving process (supervisor.h).
 *
 * The channel is a SOCK_SEQPACKET pair, one byte a message:
 *
 *   serving -> supervisor   'M' mount now, 'L' live (INIT done),
 *                           'U' detach the mount, 'P' detach and abort
 *   supervisor -> serving   'M' with the /dev/fuse descriptor, 'F' failed
 *
 * The serving process's stdout and stderr are a pipe the supervisor reads
 * line by line and passes on (to its stderr, or syslog once detached).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuse/session.h"
#include "fuse/supervisor.h"
#include "fuse/syscall_filter.h"

/* ---- the serving process's side -------------------------------------- */

static void link_send(struct e4f_link *l, char msg)
{
	while (write(l->fd, &msg, 1) < 0 && errno == EINTR)
		;
}

int e4f_link_mount(struct e4f_link *l)
{
	link_send(l, 'M');
	int fd = e4f_receive_fd(l->fd);

	return fd < 0 ? -EIO : fd;
}

void e4f_link_live(struct e4f_link *l)
{
	link_send(l, 'L');
}

void e4f_link_unmount(struct e4f_link *l, bool abort)
{
	link_send(l, abort ? 'P' : 'U');
}

/* ---- the supervisor ---------------------------------------------------- */

struct supervisor {
	const struct e4f_supervisor_params *p;
	struct e4f_mount m;
	pid_t child;
	int ctl, log, sig;		/* -1 once closed */
	int status_fd;
	bool mount_asked;		/* once only, whatever it says later */
	bool live;
	char line[4096];
	size_t linelen;
};

static void report(struct supervisor *s, unsigned char status)
{
	if (s->status_fd < 0)
		return;
	while (write(s->status_fd, &status, 1) < 0 && errno == EINTR)
		;
	close(s->status_fd);
	s->status_fd = -1;
}

/* Detached: stdio to /dev/null, the log to syslog or to @log_fd. */
static void quiet_stdio(int log_fd)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(log_fd >= 0 ? log_fd : fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	e4f_log_to(log_fd >= 0 ? E4F_LOG_STDERR : E4F_LOG_SYSLOG);
}

/*
 * The kernel offers FUSE mounts 128 KiB of readahead, which caps buffered
 * READs at that size although 1 MiB was negotiated.  Raise the mount's bdi
 * to one full request (root only; harmless if it fails).
 */
static void raise_readahead(dev_t dev)
{
	char path[96];

	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb",
		 major(dev), minor(dev));
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, "1024", 4) < 0)
		e4f_log(E4_LOG_DEBUG, "%s: %s", path, strerror(errno));
	close(fd);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Mount, and hand the descriptor to the serving process ('F' without one
 * if the mount failed: e4f_mount printed why). */
static void do_mount(struct supervisor *s)
{
	char msg = 'F';
	struct iovec iov = { .iov_base = &msg, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (!s->mount_asked && e4f_mount(&s->m, &s->p->mount) == 0) {
		msg = 'M';
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &s->m.fd, sizeof(int));
	}
	s->mount_asked = true;
	while (sendmsg(s->ctl, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
	/* the serving process must hold the only one: when it dies, the
	 * connection ends and the mount fails with ENOTCONN, not a hang */
	close_fd(&s->m.fd);
}

static void went_live(struct supervisor *s)
{
	s->live = true;
	/* the connection number, for errors=panic aborts */
	if (e4f_mount_find_dev(s->m.mountpoint, &s->m.dev) == 0)
		raise_readahead(s->m.dev);
	report(s, 0);
	if (s->p->daemon) {
		quiet_stdio(s->p->log_fd);
		if (chdir("/") < 0)
			e4f_log(E4_LOG_WARN, "chdir /: %s", strerror(errno));
	}
}

static void on_message(struct supervisor *s)
{
	char msg;
	ssize_t n = read(s->ctl, &msg, 1);

	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		close_fd(&s->ctl);
		return;
	}
	switch (msg) {
	case 'M':
		do_mount(s);
		break;
	case 'L':
		if (!s->live && s->m.mounted)
			went_live(s);
		break;
	case 'P':
		/* like ext4's errors=panic, stop at once: detach the mount
		 * and cut the connection so nothing more is served */
		e4f_unmount(&s->m, true);
		e4f_mount_abort(&s->m);
		break;
	case 'U':
		e4f_unmount(&s->m, true);
		break;
	}
}

/* Pass complete lines on; a line longer than the buffer goes in pieces. */
static void on_log(struct supervisor *s)
{
	ssize_t n = read(s->log, s->line + s->linelen,
			 sizeof(s->line) - 1 - s->linelen);

	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		if (s->linelen) {
			s->line[s->linelen] = '\0';
			e4f_log_relay(s->line);
			s->linelen = 0;
		}
		close_fd(&s->log);
		return;
	}
	s->linelen += (size_t)n;
	char *start = s->line, *nl;

	while ((nl = memchr(start, '\n', s->linelen -
			    (size_t)(start - s->line)))) {
		*nl = '\0';
		e4f_log_relay(start);
		start = nl + 1;
	}
	s->linelen -= (size_t)(start - s->line);
	memmove(s->line, start, s->linelen);
	if (s->linelen == sizeof(s->line) - 1) {
		s->line[s->linelen] = '\0';
		e4f_log_relay(s->line);
		s->linelen = 0;
	}
}

/* A signal; true once the serving process has been reaped (*status). */
static bool on_signal(struct supervisor *s, int *status)
{
	struct signalfd_siginfo si;

	if (read(s->sig, &si, sizeof(si)) != sizeof(si))
		return false;
	if (si.ssi_signo != SIGCHLD) {
		int sig = (int)si.ssi_signo;

		if (!s->mount_asked) {
			/* nothing mounted yet: stop the serving process (once
			 * mounted, it must be left to write everything back) */
			kill(s->child, SIGKILL);
			return false;
		}
		e4f_log(E4_LOG_INFO, "%s: unmounting %s", strsignal(sig),
			s->m.mountpoint);
		/* busy (open files): detach, served until closed */
		e4f_unmount(&s->m, false);
		return false;
	}
	/* the SIGCHLD may be fusermount3's, reaped where it was run */
	return waitpid(s->child, status, WNOHANG) == s->child;
}

/* Why the serving process ended, for the exit status and the log. */
static int child_outcome(struct supervisor *s, int status)
{
	if (WIFEXITED(status) &&
	    WEXITSTATUS(status) != E4F_SANDBOX_EXIT_FORBIDDEN)
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		/* the filter's SIGSYS arrived blocked, so its handler could
		 * not name the call: musl blocks every signal around the
		 * clone of fork() and posix_spawn() */
		e4f_log(E4_LOG_ERROR, "the serving process was stopped by "
			"its sandbox: a forbidden system call made with "
			"signals blocked (SIGSYS)");
	else if (WIFSIGNALED(status))
		e4f_log(E4_LOG_ERROR, "the serving process was killed by "
			"signal %d (%s)", WTERMSIG(status),
			strsignal(WTERMSIG(status)));
	else
		e4f_log(E4_LOG_ERROR, "the serving process was stopped by "
			"its sandbox");
	if (s->live && s->p->auto_unmount && s->m.mounted &&
	    e4f_unmount(&s->m, true) == 0)
		e4f_log(E4_LOG_ERROR, "auto_unmount: %s unmounted",
			s->m.mountpoint);
	else if (s->live)
		e4f_log(E4_LOG_ERROR, "%s fails with ENOTCONN until it is "
			"unmounted", s->m.mountpoint);
	return 1;
}

static int supervise(struct supervisor *s)
{
	int status = 0;
	bool reaped = false;

	while (!reaped || s->log >= 0) {
		struct pollfd pfd[3] = {
			{ .fd = s->sig, .events = POLLIN },
			{ .fd = s->ctl, .events = POLLIN },
			{ .fd = s->log, .events = POLLIN },
		};

		if (reaped)
			pfd[0].fd = -1;	/* only the log's end is awaited */
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			e4f_log(E4_LOG_ERROR, "poll: %s", strerror(errno));
			break;
		}
		if (pfd[2].revents)
			on_log(s);
		if (pfd[1].revents)
			on_message(s);
		if (pfd[0].revents && on_signal(s, &status))
			reaped = true;
	}
	if (!reaped)
		while (waitpid(s->child, &status, 0) < 0 && errno == EINTR)
			;
	int code = child_outcome(s, status);

	if (!s->live) {
		/* the kernel never got its INIT answered */
		if (s->m.mounted)
			e4f_unmount(&s->m, true);
		if (code == 0)
			code = 1;
	}
	report(s, code ? 1 : 0);
	return code;
}

/* The serving process: stdio to the log pipe, signals left to the
 * supervisor, dies with it, sandboxed, then serves. */
/* A descriptor that reads end-of-file: /dev/null, or where there is none
 * (a root holding e4fuse alone: contrib/container) an empty pipe with its
 * write end closed.  -1 on failure. */
static int eof_reader(void)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int pfd[2];

	if (null >= 0 || pipe2(pfd, O_CLOEXEC) < 0)
		return null;
	close(pfd[1]);
	return pfd[0];
}

static void serving_process(const struct e4f_supervisor_params *p, int ctl,
			    int log, pid_t supervisor, e4f_serve_fn *serve,
			    void *arg)
{
	int null = eof_reader();
	sigset_t none;

	if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
	    dup2(log, STDOUT_FILENO) < 0 || dup2(log, STDERR_FILENO) < 0) {
		perror("e4fuse: serving process stdio");
		_exit(1);
	}
	close(null);
	close(log);
	/* a SIGTERM to every e4fuse process (pkill, a service manager) has
	 * the supervisor unmount; the serving process must live on to write
	 * everything back */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* no controlling terminal, and out of the supervisor's session
	 * (whose processes may send each other SIGCONT whatever their
	 * users) */
	if (setsid() < 0) {
		perror("e4fuse: setsid");
		_exit(1);
	}
	/* killed with its supervisor (kill -9 e4fuse): nobody would unmount */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
	    getppid() != supervisor)
		_exit(1);
	e4f_log_to(E4F_LOG_TAGGED);

	if (p->sandbox.enabled) {
		struct e4f_sandbox sb = p->sandbox;

		if (sb.nkeep + 4 > E4F_SANDBOX_KEEP_MAX) {
			fprintf(stderr, "e4fuse: sandbox: too many "
				"descriptors to keep\n");
			_exit(1);
		}
		sb.keep[sb.nkeep++] = STDIN_FILENO;
		sb.keep[sb.nkeep++] = STDOUT_FILENO;
		sb.keep[sb.nkeep++] = STDERR_FILENO;
		sb.keep[sb.nkeep++] = ctl;
		if (e4f_sandbox_enter(&sb) < 0)
			_exit(1);
	}
	struct e4f_link link = { .fd = ctl };

	exit(serve(&link, arg));
}

int e4f_supervise(const struct e4f_supervisor_params *p, e4f_serve_fn *serve,
		  void (*in_supervisor)(void *arg), void *arg)
{
	struct supervisor s = {
		.p = p, .ctl = -1, .log = -1, .sig = -1,
		.status_fd = p->status_fd,
	};
	int sv[2], lp[2];
	sigset_t sigs;

	s.m.fd = -1;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	s.sig = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (s.sig < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(lp, O_CLOEXEC) < 0) {
		perror("e4fuse: supervisor");
		report(&s, 1);
		return 1;
	}
	pid_t supervisor = getpid();

	s.child = fork();
	if (s.child < 0) {
		perror("e4fuse: fork");
		report(&s, 1);
		return 1;
	}
	if (s.child == 0) {
		close(sv[0]);
		close(lp[0]);
		close(s.sig);
		if (s.status_fd >= 0)
			close(s.status_fd);
		serving_process(p, sv[1], lp[1], supervisor, serve, arg);
	}
	close(sv[1]);
	close(lp[1]);
	s.ctl = sv[0];
	s.log = lp[0];
	if (in_supervisor)
		in_supervisor(arg);

	int code = supervise(&s);

	close_fd(&s.ctl);
	close_fd(&s.log);
	close_fd(&s.sig);
	e4f_mount_free(&s.m);
	return code;
}

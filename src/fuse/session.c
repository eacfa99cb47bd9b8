/* SPDX-License-Identifier: MIT */
/*
 * The connection: INIT negotiation, DESTROY, FORGET, the worker threads
 * reading /dev/fuse, notifications, and the log sink.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "e4/write.h"
#include "fuse/iomap.h"
#include "fuse/ops.h"
#include "fuse/proto.h"
#include "fuse/session.h"
#include "fuse/uring.h"

/* ---- logging ------------------------------------------------------------ */

static _Atomic enum e4f_log_target log_target;

void e4f_log_to(enum e4f_log_target target)
{
	if (target == E4F_LOG_SYSLOG)
		openlog("e4fuse", LOG_PID, LOG_DAEMON);
	atomic_store(&log_target, target);
}

static int syslog_priority(enum e4_log_level level)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

	return prio[level <= E4_LOG_DEBUG ? level : E4_LOG_DEBUG];
}

static void log_line(enum e4_log_level level, const char *msg)
{
	char line[1100];
	int n;

	switch (atomic_load(&log_target)) {
	case E4F_LOG_SYSLOG:
		syslog(syslog_priority(level), "%s", msg);
		break;
	case E4F_LOG_TAGGED:
		/* one write: lines of several threads do not mix in the pipe */
		n = snprintf(line, sizeof(line), "<%d>e4fuse: %s\n",
			     (int)level, msg);
		if (n > (int)sizeof(line) - 1) {
			n = (int)sizeof(line) - 1;
			line[n - 1] = '\n';
		}
		if (write(STDERR_FILENO, line, (size_t)n) < 0) {
			/* the supervisor is gone: nowhere to say it */
		}
		break;
	default:
		fprintf(stderr, "e4fuse: %s\n", msg);
	}
}

void e4f_log_relay(const char *line)
{
	enum e4_log_level level = E4_LOG_ERROR;	/* untagged: sanitizers... */

	if (line[0] == '<' && line[1] >= '0' && line[1] <= '3' &&
	    line[2] == '>') {
		level = (enum e4_log_level)(line[1] - '0');
		line += 3;
	}
	if (atomic_load(&log_target) == E4F_LOG_SYSLOG) {
		if (strncmp(line, "e4fuse: ", 8) == 0)
			line += 8;
		syslog(syslog_priority(level), "%s", line);
	} else {
		fprintf(stderr, "%s\n", line);
	}
}

void e4f_log(enum e4_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_line(level, msg);
}

void e4f_lib_log(void *ctx, enum e4_log_level level, const char *msg)
{
	(void)ctx;
	log_line(level, msg);
}

/* ---- setup ---------------------------------------------------------------- */

int e4f_session_init(struct e4f_session *s, struct e4_fs *fs, int fd,
		     const struct e4f_session_config *cfg)
{
	struct e4_fs_info info;

	memset(s, 0, sizeof(*s));
	s->fs = fs;
	s->fd = fd;
	s->cfg = *cfg;
	e4_fs_get_info(fs, &info);
	s->block_size = info.block_size;
	atomic_init(&s->initialized, false);
	atomic_init(&s->panic, false);
	atomic_init(&s->dev_requests, 0);
	s->splice_src.fd = -1;		/* main.c gives the image's */
	atomic_init(&s->splice.broken, false);
	atomic_init(&s->splice.warned, false);
	atomic_init(&s->splice.spliced, 0);
	atomic_init(&s->splice.copied, 0);
	s->errors_before = e4_fs_error_count(fs);
	int ret = e4f_nodes_init(&s->nodes, fs);

	if (ret < 0)
		return ret;
	pthread_mutex_init(&s->inflight_lock, NULL);
	pthread_mutex_init(&s->state_lock, NULL);
	pthread_cond_init(&s->state_cond, NULL);
	e4f_lost_found_init(&s->lost, fs, cfg->lost_found);
	return 0;
}

void e4f_session_destroy(struct e4f_session *s)
{
	e4f_uring_destroy(s);
	e4f_iomap_destroy(s);
	e4f_nodes_destroy(&s->nodes);
	e4f_lost_found_destroy(&s->lost);
	pthread_mutex_destroy(&s->inflight_lock);
	pthread_mutex_destroy(&s->state_lock);
	pthread_cond_destroy(&s->state_cond);
	free(s->workers);
	s->workers = NULL;
}

static void session_end(struct e4f_session *s, int err)
{
	pthread_mutex_lock(&s->state_lock);
	if (!s->ended) {
		s->ended = true;
		s->end_error = err;
	}
	pthread_cond_broadcast(&s->state_cond);
	pthread_mutex_unlock(&s->state_lock);
}

int e4f_session_wait_init(struct e4f_session *s, int timeout_ms)
{
	struct timespec deadline;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->state_lock);
	while (!atomic_load(&s->initialized) && !s->ended && ret == 0)
		ret = -pthread_cond_timedwait(&s->state_cond, &s->state_lock,
					      &deadline);
	if (atomic_load(&s->initialized))
		ret = 0;
	else if (s->ended)
		ret = s->end_error ? s->end_error : -ENODEV;
	pthread_mutex_unlock(&s->state_lock);
	return ret;
}

/* ---- INIT, DESTROY, FORGET -------------------------------------------------- */

/* What e4fuse asks of the kernel (each only if offered). */
static uint64_t wanted_init_flags(const struct e4f_session *s)
{
	/* READDIRPLUS always, without FUSE_READDIRPLUS_AUTO: whether its
	 * entries carry attributes is decided in ops_read.c, which sees the
	 * lookups the kernel's own choice cannot foresee */
	uint64_t want = FUSE_ASYNC_READ | FUSE_DO_READDIRPLUS |
			FUSE_PARALLEL_DIROPS |
			FUSE_MAX_PAGES | FUSE_CACHE_SYMLINKS | FUSE_ASYNC_DIO |
			FUSE_INIT_EXT;

	/* without it the kernel sends a buffered write(2) one page per
	 * WRITE, whatever max_write says (1 GiB took 262,144 round trips:
	 * 94 MiB/s against 698 for the kernel's ext4) */
	want |= FUSE_BIG_WRITES;

	/* the umask ours to apply (a default ACL replaces it), and the
	 * setgid kill of setting an ACL the kernel's to decide */
	want |= FUSE_DONT_MASK | FUSE_SETXATTR_EXT;

	/* the kernel keeps written data (and the size and times it
	 * implies) in its page cache and writes back later: only while
	 * e4fuse writes (a read-only mount has nothing to cache) */
	if (s->cfg.writeback_cache && s->fs && e4_fs_writable(s->fs))
		want |= FUSE_WRITEBACK_CACHE;
	/* setuid, setgid killed here, on WRITE (FUSE_WRITE_KILL_SUIDGID),
	 * truncate (FATTR_KILL_SUIDGID) and chown (e4_setattr): the kernel
	 * then marks files without them or a capability S_NOSEC once and
	 * stops sending a GETXATTR of security.capability before every
	 * WRITE (half the requests of small writes).  Not with fuse-iomap,
	 * whose writes never reach us (INIT takes it back). */
	if (s->fs && e4_fs_writable(s->fs))
		want |= FUSE_HANDLE_KILLPRIV_V2;
	/* (informational: the kernel offers them to say that an OPEN or
	 * OPENDIR answered ENOSYS is taken as success, for good) */
	want |= FUSE_NO_OPEN_SUPPORT | FUSE_NO_OPENDIR_SUPPORT;
	/* The kernel turns default_permissions on with POSIX ACLs. */
	if (s->cfg.default_permissions)
		want |= FUSE_POSIX_ACL;
	return want;
}

void e4f_op_init(struct e4f_req *r)
{
	struct e4f_session *s = r->s;
	struct fuse_init_in in;
	struct fuse_init_out out;

	e4f_arg_get(r, &in, sizeof(in));
	memset(&out, 0, sizeof(out));
	if (in.major > FUSE_KERNEL_VERSION) {
		/* The kernel retries INIT with our major. */
		out.major = FUSE_KERNEL_VERSION;
		out.minor = E4F_PROTO_MINOR;
		e4f_reply_buf(r, &out, FUSE_COMPAT_INIT_OUT_SIZE);
		return;
	}
	if (in.major < FUSE_KERNEL_VERSION || in.minor < E4F_PROTO_MINOR_MIN) {
		e4f_log(E4_LOG_ERROR, "kernel FUSE protocol %u.%u is too old "
			"(7.%u needed)", in.major, in.minor,
			E4F_PROTO_MINOR_MIN);
		e4f_reply_err(r, -EPROTO);
		session_end(s, -EPROTO);
		return;
	}

	uint64_t offered = in.flags;

	if ((in.flags & FUSE_INIT_EXT) &&
	    r->arglen >= offsetof(struct fuse_init_in, flags2) + 4)
		offered |= (uint64_t)in.flags2 << 32;
	uint64_t granted = offered & wanted_init_flags(s);
	/* FUSE over io_uring when offered, unless -o nouring; the rings
	 * are made before the flag is granted (uring.h) */
	const char *no_ring = s->cfg.transport == E4F_TRANSPORT_DEVICE ?
			      "-o nouring" :
			      !(offered & FUSE_OVER_IO_URING) ?
			      "the kernel does not offer io_uring" :
			      e4f_uring_prepare(s) < 0 ?
			      "io_uring could not be set up" : NULL;

	if (!no_ring)
		granted |= FUSE_OVER_IO_URING;
	else if (s->cfg.transport == E4F_TRANSPORT_URING &&
		 !(offered & FUSE_OVER_IO_URING))
		e4f_log(E4_LOG_WARN, "-o uring: the kernel does not offer "
			"FUSE over io_uring (/sys/module/fuse/parameters/"
			"enable_uring is N?): falling back to /dev/fuse");

	out.major = FUSE_KERNEL_VERSION;
	out.minor = in.minor < E4F_PROTO_MINOR ? in.minor : E4F_PROTO_MINOR;
	/* fuse-iomap: its minor only with it (the kernel honours the
	 * exclusive attribute flag from 7.99 on) */
	if (in.minor >= E4F_IOMAP_PROTO_MINOR &&
	    e4f_iomap_negotiate(s, offered)) {
		granted |= E4F_INIT_IOMAP;
		granted &= ~(uint64_t)FUSE_HANDLE_KILLPRIV_V2;
		out.minor = E4F_IOMAP_PROTO_MINOR;
	}
	out.max_readahead = in.max_readahead;
	out.flags = (uint32_t)granted;
	out.flags2 = (uint32_t)(granted >> 32);
	out.max_background = 64;
	out.congestion_threshold = 48;
	out.max_write = E4F_MAX_IO;
	out.time_gran = 1;
	out.max_pages = E4F_MAX_PAGES;
	if (no_ring)	/* zero-copy READ replies: what a pipe holds */
		out.max_pages = (uint16_t)e4f_splice_init(s, E4F_MAX_PAGES);

	s->proto_minor = out.minor;
	s->init_flags = granted;
	if (s->cfg.debug)
		e4f_log(E4_LOG_INFO, "INIT: kernel 7.%u flags 0x%" PRIx64
			", answering 7.%u flags 0x%" PRIx64 ", max_readahead %u",
			in.minor, offered, out.minor, granted,
			in.max_readahead);
	atomic_store(&s->initialized, true);
	e4f_reply_buf(r, &out, sizeof(out));
	/* the kernel has taken the reply: entries may register now (§7.1) */
	s->no_ring = no_ring;
	if (!no_ring)
		e4f_uring_start(s, true);
	else if (!s->cfg.detaching)
		e4f_log(E4_LOG_INFO, "transport: /dev/fuse read/write loop "
			"(%s)", no_ring);

	pthread_mutex_lock(&s->state_lock);
	pthread_cond_broadcast(&s->state_cond);
	pthread_mutex_unlock(&s->state_lock);
}

void e4f_op_destroy(struct e4f_req *r)
{
	e4f_reply_err(r, 0);
}

void e4f_op_forget(struct e4f_req *r)
{
	struct fuse_forget_in in;

	e4f_arg_get(r, &in, sizeof(in));
	e4f_nodes_forget(&r->s->nodes, r->h.nodeid, in.nlookup);
	e4f_reply_none(r);
}

void e4f_op_batch_forget(struct e4f_req *r)
{
	struct fuse_batch_forget_in in;
	size_t each = sizeof(struct fuse_forget_one);

	e4f_arg_get(r, &in, sizeof(in));
	size_t room = (r->arglen - sizeof(in)) / each;

	if (in.count > room) {
		e4f_log(E4_LOG_WARN, "BATCH_FORGET: %u entries announced, "
			"room for %zu", in.count, room);
		in.count = (uint32_t)room;
	}
	for (uint32_t i = 0; i < in.count; i++) {
		struct fuse_forget_one one;

		e4f_arg_copy(r, sizeof(in) + (size_t)i * each, &one, each);
		e4f_nodes_forget(&r->s->nodes, one.nodeid, one.nlookup);
	}
	e4f_reply_none(r);
}

/* ---- notifications -------------------------------------------------------- */

static int notify(struct e4f_session *s, int code, struct iovec *iov, int n)
{
	struct fuse_out_header oh = { .error = code, .unique = 0 };
	size_t total = sizeof(oh);

	iov[0].iov_base = &oh;
	iov[0].iov_len = sizeof(oh);
	for (int i = 1; i < n; i++)
		total += iov[i].iov_len;
	oh.len = (uint32_t)total;
	if (s->fd < 0)
		return -ENOTCONN;
	ssize_t w = writev(s->fd, iov, n);

	if (w < 0)
		return -errno;
	return (size_t)w == total ? 0 : -EIO;
}

int e4f_notify_inval_inode(struct e4f_session *s, uint64_t nodeid,
			   int64_t off, int64_t len)
{
	struct fuse_notify_inval_inode_out out = {
		.ino = nodeid, .off = off, .len = len,
	};
	struct iovec iov[2] = { { 0 }, { &out, sizeof(out) } };

	return notify(s, FUSE_NOTIFY_INVAL_INODE, iov, 2);
}

int e4f_notify_buf(struct e4f_session *s, int code, const void *data,
		   size_t len)
{
	struct iovec iov[2] = { { 0 }, { (void *)data, len } };

	return notify(s, code, iov, 2);
}

int e4f_notify_inval_entry(struct e4f_session *s, uint64_t parent,
			   const char *name, size_t name_len)
{
	struct fuse_notify_inval_entry_out out = {
		.parent = parent, .namelen = (uint32_t)name_len,
	};
	struct iovec iov[3] = {
		{ 0 }, { &out, sizeof(out) },
		{ (void *)name, name_len + 1 },	/* with its NUL */
	};

	if (name_len > 255)
		return -ENAMETOOLONG;
	return notify(s, FUSE_NOTIFY_INVAL_ENTRY, iov, 3);
}

/* ---- the /dev/fuse loop ----------------------------------------------------- */

static int dev_send(void *ctx, const struct iovec *iov, int iovcnt)
{
	struct e4f_session *s = ctx;
	size_t total = 0;

	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	for (;;) {
		ssize_t w = writev(s->fd, iov, iovcnt);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		/* /dev/fuse takes a reply whole or not at all */
		return (size_t)w == total ? 0 : -EIO;
	}
}

static void *worker_main(void *arg)
{
	struct e4f_session *s = arg;
	struct e4f_sink sink = { .send = dev_send, .ctx = s };
	void *buf = malloc(E4F_REQ_BUFSIZE);
	void *scratch = malloc(E4F_REPLY_BUFSIZE);

	sink.splice = e4f_splice_open(s);	/* NULL: this worker copies */
	if (!buf || !scratch) {
		e4f_log(E4_LOG_ERROR, "worker: out of memory");
		session_end(s, -ENOMEM);
		free(buf);
		free(scratch);
		e4f_splice_close(sink.splice);
		return NULL;
	}
	for (;;) {
		ssize_t n = read(s->fd, buf, E4F_REQ_BUFSIZE);

		if (n < 0) {
			int e = errno;

			/* ENOENT: the request was interrupted before we
			 * got it */
			if (e == EINTR || e == EAGAIN || e == ENOENT)
				continue;
			if (e == ENODEV || e == ECONNABORTED) {
				session_end(s, 0);
			} else {
				e4f_log(E4_LOG_ERROR, "reading /dev/fuse: %s",
					strerror(e));
				session_end(s, -e);
			}
			break;
		}
		if (n == 0) {
			session_end(s, 0);
			break;
		}
		atomic_fetch_add(&s->dev_requests, 1);
		e4f_process_request(s, buf, (size_t)n, &sink, scratch);
		pthread_mutex_lock(&s->state_lock);
		bool ended = s->ended;

		pthread_mutex_unlock(&s->state_lock);
		if (ended)
			break;
	}
	free(buf);
	free(scratch);
	e4f_splice_close(sink.splice);
	return NULL;
}

int e4f_session_start(struct e4f_session *s, unsigned nthreads)
{
	if (nthreads == 0)
		nthreads = 1;
	e4f_splice_setup(s);
	s->workers = calloc(nthreads, sizeof(*s->workers));
	if (!s->workers)
		return -ENOMEM;
	for (unsigned i = 0; i < nthreads; i++) {
		int ret = pthread_create(&s->workers[i], NULL, worker_main, s);

		if (ret) {
			if (i == 0)
				return -ret;
			break;	/* fewer workers still serve */
		}
		s->nworkers = i + 1;
	}
	return 0;
}

int e4f_session_join(struct e4f_session *s)
{
	for (unsigned i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	s->nworkers = 0;
	if (s->uring)
		e4f_uring_stop(s);
	else if (s->no_ring) {
		e4f_log(E4_LOG_INFO, "transport: /dev/fuse read/write loop "
			"served %lu requests (%s)",
			atomic_load(&s->dev_requests), s->no_ring);
		e4f_splice_report(s);
	}
	pthread_mutex_lock(&s->state_lock);
	int err = s->end_error;

	pthread_mutex_unlock(&s->state_lock);
	return err;
}

/* SPDX-License-Identifier: MIT */
/*
 * e4fuse: mount an ext2/3/4 image through FUSE.
 *
 * Order of events: check the options and the mount point and open the
 * image (no byte of it read); detach (unless -f); fork the serving process
 * (supervisor.h), which sandboxes itself before it reads the image, checks
 * everything that can be checked before mounting (file system, root inode)
 * so that failures are plain messages and a non-zero exit with nothing
 * mounted, asks the supervisor to mount, and serves.  The parent exits 0
 * only once INIT has been negotiated, i.e. the mount is live.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "e4/partition.h"
#include "e4/write.h"
#include "fuse/fuse_kernel.h"
#include "fuse/iomap.h"
#include "fuse/mount.h"
#include "fuse/options.h"
#include "fuse/sandbox.h"
#include "fuse/session.h"
#include "fuse/supervisor.h"
#include "fuse/uring.h"

#define INIT_TIMEOUT_MS 30000

/* ---- opening the file system ----------------------------------------------- */

/* Why the file system was not found in the image, on stderr. */
static void locate_log(void *ctx, enum e4_log_level level, const char *msg)
{
	(void)level;
	fprintf(stderr, "e4fuse: %s: %s\n", (const char *)ctx, msg);
}

/* The image file or device, opened only: the supervisor never reads it. */
static int open_image(const struct e4f_options *o, struct e4_dev **image)
{
	int ret = e4_dev_open_file(o->image, 0, 0, o->rw, image);

	if (o->rw && (ret == -EACCES || ret == -EROFS || ret == -EPERM)) {
		fprintf(stderr, "e4fuse: %s: cannot be written (%s): mount it "
			"with -o ro\n", o->image, strerror(-ret));
		return ret;
	}

	if (ret == -ENOTBLK) {
		fprintf(stderr, "e4fuse: %s: not a regular file or block "
			"device\n", o->image);
		return ret;
	}
	if (ret < 0) {
		fprintf(stderr, "e4fuse: cannot open %s: %s\n", o->image,
			strerror(-ret));
		return ret;
	}
	return 0;
}

/*
 * Where the file system is in @image (which this takes): offset= as
 * given; partition=N from the table; otherwise the start of the image if
 * it holds a superblock there, else the one partition that does.
 */
static int open_fs(const struct e4f_options *o, struct e4_dev *image,
		   struct e4_location *where, struct e4_fs **fsp)
{
	struct e4_locate_opts lo = {
		.offset_set = o->offset_set,
		.offset = o->offset,
		.partition = o->partition,
		.choose_hint = "-o partition=N",
		.log = locate_log,
		.log_ctx = (void *)o->image,
	};
	struct e4_dev *dev;
	int ret = e4_dev_open_located(image, &lo, where, &dev);

	if (ret < 0) {
		e4_dev_close(image);
		return ret;
	}

	struct e4_open_opts oo = {
		.read_only = !o->rw,
		.csum = E4_CSUM_VERIFY,
		.log = e4f_lib_log,
		.log_level = o->debug ? E4_LOG_DEBUG : E4_LOG_INFO,
		.norecovery = o->norecovery,
		.replay_mem_max = o->replay_mem,
	};

	ret = e4_fs_open(dev, &oo, fsp);
	if (ret < 0) {
		/* the library has said why; say what it is if we can tell */
		const char *other = ret == -EUCLEAN || ret == -EINVAL ?
				    e4_other_fs_guess(dev) : NULL;

		if (other)
			fprintf(stderr, "e4fuse: %s: cannot mount: looks like "
				"%s, not ext2/3/4\n", o->image, other);
		else
			fprintf(stderr, "e4fuse: %s: cannot mount: %s\n",
				o->image, ret == -EUCLEAN || ret == -EINVAL ?
				"not a valid ext2/3/4 file system" :
				strerror(-ret));
		e4_dev_close(dev);
		return ret;
	}
	if (o->rw) {
		struct e4_write_opts wo = { .atime = o->atime,
					    .nodiratime = o->nodiratime };

		ret = e4_fs_begin_write(*fsp, &wo);
		if (ret < 0) {
			/* the library has said why */
			fprintf(stderr, "e4fuse: %s: cannot mount read-write; "
				"-o ro mounts it read-only\n", o->image);
			e4_fs_close(*fsp);
			return ret;
		}
	}
	return 0;
}

/* ---- the commit timer ------------------------------------------------------------ */

/* Metadata written within commit= seconds, as the kernel's journal commits
 * (file data is written at once: it does not wait for this). */
struct committer {
	struct e4_fs *fs;
	unsigned seconds;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

static void *commit_thread(void *arg)
{
	struct committer *c = arg;

	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += c->seconds;
		if (pthread_cond_timedwait(&c->cond, &c->lock, &until) ==
		    ETIMEDOUT && !c->stop) {
			pthread_mutex_unlock(&c->lock);
			int ret = e4_fs_sync(c->fs);

			if (ret < 0 && ret != -EROFS)
				e4f_log(E4_LOG_ERROR, "commit: %s",
					strerror(-ret));
			pthread_mutex_lock(&c->lock);
		}
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static void commit_stop(struct committer *c, pthread_t thr)
{
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(thr, NULL);
}

/* ---- detaching ----------------------------------------------------------------- */

/* Fork; the parent waits for one status byte and exits with it.  Returns
 * the descriptor the child reports through. */
static int detach(void)
{
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		perror("e4fuse: pipe");
		exit(1);
	}
	pid_t pid = fork();

	if (pid < 0) {
		perror("e4fuse: fork");
		exit(1);
	}
	if (pid > 0) {
		unsigned char status = 1;

		close(pfd[1]);
		while (read(pfd[0], &status, 1) < 0 && errno == EINTR)
			;
		/* no byte: the child died before the mount was live */
		_exit(status);
	}
	close(pfd[0]);
	setsid();
	return pfd[1];
}

static unsigned default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 2 ? 2 : n > 8 ? 8 : (unsigned)n;
}

/* ---- the serving process --------------------------------------------------------- */

struct server {
	struct e4f_options *o;
	struct e4_dev *image;
	int iomap_dev;		/* fuse-iomap's block device, or -1 */
	bool iomap_loop;	/* a loop device of ours over the image */
	unsigned threads;
	uint32_t owner_uid;	/* who ran e4fuse, before the sandbox */
	unsigned uring_queues;	/* read before the sandbox hides /sys */
};

static struct e4f_link *the_link;

static void on_panic(struct e4f_session *s)
{
	(void)s;
	e4f_link_unmount(the_link, true);
}

/* In the sandbox: open the file system, have it mounted, serve it. */
static int serve(struct e4f_link *link, void *arg)
{
	struct server *srv = arg;
	struct e4f_options *o = srv->o;
	struct e4_fs *fs;
	int ret;

	the_link = link;
	/* what READ replies are spliced from (splice.h): the file system's
	 * part of the image */
	struct e4_location where = { 0 };
	struct e4f_splice_source splice_src = {
		.fd = e4_dev_fd(srv->image), .hi = e4_dev_size(srv->image),
	};

	if (open_fs(o, srv->image, &where, &fs) < 0)
		return 1;
	splice_src.lo = where.offset;
	if (where.length && where.length < splice_src.hi - where.offset)
		splice_src.hi = where.offset + where.length;

	struct e4_inode root;

	ret = e4_inode_read(fs, E4_ROOT_INO, &root);
	if (ret < 0 || !e4_inode_is_dir(&root)) {
		fprintf(stderr, "e4fuse: %s: root directory unreadable: %s\n",
			o->image, ret < 0 ? strerror(-ret) : "not a directory");
		e4_fs_close(fs);
		return 1;
	}
	if (o->lost_found &&
	    e4f_lost_found_check(fs, &root, o->lost_found) < 0) {
		e4_fs_close(fs);
		return 1;
	}
	int fd = e4f_link_mount(link);

	if (fd < 0) {
		e4_fs_close(fs);
		return 1;
	}

	struct e4f_session_config cfg = {
		.debug = o->debug,
		.default_permissions = o->default_permissions,
		.writeback_cache = o->writeback_cache,
		.uid_set = o->uid_set, .uid = o->uid,
		.gid_set = o->gid_set, .gid = o->gid,
		.errors = o->errors,
		.lost_found = o->lost_found,
		.allow_root = o->allow_root,
		.fakeroot = o->fakeroot,
		.minixdf = o->minixdf,
		.nobtime = o->nobtime,
		.umask = o->umask,
		.owner_uid = srv->owner_uid,
		.timeouts_set = o->timeouts_set,
		.entry_timeout = o->entry_timeout,
		.attr_timeout = o->attr_timeout,
		.negative_timeout = o->negative_timeout,
		.transport = o->transport,
		.detaching = !o->foreground,
		.uring_queues = srv->uring_queues,
		.splice = !o->nosplice,
	};
	struct e4f_session s;

	/* fuse-iomap: offered to the kernel only with a device to give */
	struct e4f_iomap_backing iomap_backing = {
		e4f_iomap_backing_ioctl, &srv->iomap_dev,
	};

	ret = e4f_session_init(&s, fs, fd, &cfg);
	if (ret == 0) {
		if (srv->iomap_dev >= 0)
			s.iomap_backing = &iomap_backing;
		s.splice_src = splice_src;
		s.on_panic = on_panic;
		ret = e4f_session_start(&s, srv->threads);
	}
	if (ret == 0)
		ret = e4f_session_wait_init(&s, INIT_TIMEOUT_MS);
	if (ret < 0) {
		fprintf(stderr, "e4fuse: %s: the kernel did not complete the "
			"mount: %s\n", o->mountpoint, strerror(-ret));
		_exit(1);	/* workers may still be blocked in read(); the
				 * supervisor unmounts */
	}
	e4f_link_live(link);
#ifdef E4F_TEST_HOOKS
	e4f_sandbox_probe(o->sandbox);
#endif

	struct committer committer = {
		.fs = fs, .seconds = o->commit_seconds,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};
	pthread_t committhr;
	bool have_committer = o->rw && o->commit_seconds &&
		pthread_create(&committhr, NULL, commit_thread,
			       &committer) == 0;

	ret = e4f_session_join(&s);
	if (ret < 0) {
		e4f_log(E4_LOG_ERROR, "session ended: %s", strerror(-ret));
		e4f_link_unmount(link, false);
	}
	int code = (ret < 0 || atomic_load(&s.panic)) ? 1 : 0;

	if (have_committer)
		commit_stop(&committer, committhr);
	/* the nodes' last references first: unlinked open files go now */
	e4f_session_destroy(&s);
	close(fd);
	if (o->rw) {
		ret = e4_fs_end_write(fs);
		if (ret < 0) {
			e4f_log(E4_LOG_ERROR, "%s: not unmounted cleanly: %s "
				"(run e2fsck)", o->image, strerror(-ret));
			code = 1;
		}
	}
	e4_fs_close(fs);
	e4f_options_free(o);
	return code;
}

/* In the supervisor: the image is the serving process's alone. */
static void release_image(void *arg)
{
	struct server *srv = arg;

	e4_dev_close(srv->image);
	srv->image = NULL;
	if (srv->iomap_loop)
		close(srv->iomap_dev);
	srv->iomap_dev = -1;
}

/* ---- main ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	struct e4f_options o;
	char mp[PATH_MAX];
	struct stat st;
	int status_fd = -1;

	if (e4f_parse_args(argc, argv, &o) < 0)
		return 1;
	if (o.help) {
		e4f_print_usage("e4fuse");
		return 0;
	}
	if (o.version) {
		printf("e4fuse %s (FUSE protocol 7.%u)\n", PACKAGE_VERSION,
		       E4F_PROTO_MINOR);
		return 0;
	}
	if (!realpath(o.mountpoint, mp) || stat(mp, &st) < 0) {
		int e = errno;

		/* stacking a mount on it would hide the dead one, which
		 * still needs unmounting */
		if (e == ENOTCONN)
			fprintf(stderr, "e4fuse: mount point %s is a FUSE "
				"mount whose server is gone; unmount it first "
				"(umount -l %s)\n", o.mountpoint, o.mountpoint);
		else
			fprintf(stderr, "e4fuse: mount point %s: %s\n",
				o.mountpoint, strerror(e));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "e4fuse: mount point %s: %s\n", mp,
			strerror(ENOTDIR));
		return 1;
	}
	/* a sandbox_user= given must exist; the default need not */
	if (o.sandbox && geteuid() == 0 && !o.sandbox_user_set &&
	    e4f_sandbox_user(E4F_SANDBOX_USER_DEFAULT, &o.sandbox_uid,
			     &o.sandbox_gid) < 0)
		o.sandbox_uid = o.sandbox_gid = E4F_SANDBOX_ID_FALLBACK;
	if (!o.sandbox)
		fprintf(stderr, "e4fuse: warning: -o nosandbox: the process "
			"that reads %s keeps every privilege e4fuse has and "
			"sees the whole file system; use it for debugging "
			"only\n", o.image);

	struct server srv = {
		.o = &o,
		.threads = o.threads ? o.threads : default_threads(),
		.owner_uid = (uint32_t)getuid(),
		.uring_queues = o.transport == E4F_TRANSPORT_DEVICE ? 0 :
				e4f_uring_possible_cpus(),
	};

	if (open_image(&o, &srv.image) < 0)
		return 1;
	/* fuse-iomap: the kernel writes file data there too on a
	 * read-write mount */
	srv.iomap_dev = e4f_iomap_prepare_device(e4_dev_fd(srv.image), o.rw,
						 &srv.iomap_loop);
	char *image_abs = realpath(o.image, NULL);
	const char *fsname = o.fsname ? o.fsname :
			     image_abs ? image_abs : o.image;

	int log_fd = -1;

	if (o.logfile) {
		log_fd = open(o.logfile, O_WRONLY | O_APPEND | O_CREAT |
			      O_CLOEXEC | O_NOCTTY, 0600);
		if (log_fd < 0) {
			fprintf(stderr, "e4fuse: logfile %s: %s\n", o.logfile,
				strerror(errno));
			e4_dev_close(srv.image);
			if (srv.iomap_loop)
				close(srv.iomap_dev);
			free(image_abs);
			return 1;
		}
	}
	if (!o.foreground)
		status_fd = detach();
	signal(SIGPIPE, SIG_IGN);

	struct e4f_supervisor_params sp = {
		.mount = {
			.mountpoint = mp,
			.fsname = fsname,
			.subtype = o.subtype ? o.subtype : "e4fuse",
			/* the serving process has checked the root is one
			 * before it asks for the mount */
			.rootmode = S_IFDIR,
			.flags = o.mount_flags,
			.read_only = !o.rw,
			.allow_other = o.allow_other,
			.default_permissions = o.default_permissions,
		},
		.sandbox = {
			.enabled = o.sandbox,
			.uid = o.sandbox_uid,
			.gid = o.sandbox_gid,
			.memory = o.sandbox_memory,
			.empty_dir = mp,
			.keep = { e4_dev_fd(srv.image), srv.iomap_dev },
			.nkeep = srv.iomap_loop ? 2 : 1,
		},
		.daemon = !o.foreground,
		.log_fd = log_fd,
		.auto_unmount = o.auto_unmount,
		.status_fd = status_fd,
	};
	int code = e4f_supervise(&sp, serve, release_image, &srv);

	free(image_abs);
	e4f_options_free(&o);
	return code;
}

/* SPDX-License-Identifier: MIT */
/*
 * The split of e4fuse into two processes (docs/security.md):
 *
 * - the supervisor keeps the privilege and never reads the image: it
 *   mounts, hands the /dev/fuse descriptor over, passes the serving
 *   process's log lines on, turns SIGTERM/SIGINT/SIGHUP into an unmount,
 *   cuts the connection for errors=panic, and waits;
 * - the serving process is forked before anything of the image is read,
 *   sandboxes itself (sandbox.h) and then opens the file system, asks for
 *   the mount and serves it until it is unmounted.
 */
#ifndef E4F_SUPERVISOR_H
#define E4F_SUPERVISOR_H

#include <stdbool.h>

#include "fuse/mount.h"
#include "fuse/sandbox.h"

struct e4f_supervisor_params {
	struct e4f_mount_params mount;
	struct e4f_sandbox sandbox;	/* keep: the supervisor adds its own */
	bool daemon;			/* once live: stdio to /dev/null, log
					 * to syslog (or log_fd) */
	int log_fd;			/* logfile=, appended to; -1: none */
	bool auto_unmount;		/* unmount when the serving process
					 * is killed (else ENOTCONN stays) */
	int status_fd;			/* one byte to the waiting parent: 0
					 * once the mount is live, else 1; -1 */
};

/* The serving process's end of its channel to the supervisor. */
struct e4f_link {
	int fd;
};

typedef int e4f_serve_fn(struct e4f_link *link, void *arg);

/*
 * Fork the serving process, which runs @serve(link, @arg) sandboxed and
 * exits with what it returns; in the supervisor, call @in_supervisor(@arg)
 * (release what only the serving process needs), supervise until the
 * serving process has exited and return e4fuse's exit status.
 */
int e4f_supervise(const struct e4f_supervisor_params *p, e4f_serve_fn *serve,
		  void (*in_supervisor)(void *arg), void *arg);

/* ---- the serving process's side -------------------------------------- */

/* The image is a file system we can serve: have it mounted.  The /dev/fuse
 * descriptor, or -errno (the supervisor printed why). */
int e4f_link_mount(struct e4f_link *l);
/* INIT is done: the mount is live. */
void e4f_link_live(struct e4f_link *l);
/* Have the mount detached (lazily: open files stay served); @abort also
 * cuts the connection (errors=panic). */
void e4f_link_unmount(struct e4f_link *l, bool abort);

#endif /* E4F_SUPERVISOR_H */

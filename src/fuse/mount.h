/* SPDX-License-Identifier: MIT */
/* Mounting and unmounting: mount(2) when privileged, fusermount3 otherwise. */
#ifndef E4F_MOUNT_H
#define E4F_MOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct e4f_mount_params {
	const char *mountpoint;		/* absolute */
	const char *fsname;
	const char *subtype;		/* fuse.SUBTYPE in /proc/mounts */
	uint32_t rootmode;		/* S_IFDIR | permissions */
	unsigned long flags;		/* MS_* besides MS_RDONLY */
	bool read_only;
	bool allow_other;
	bool default_permissions;
};

struct e4f_mount {
	char *mountpoint;
	int fd;				/* /dev/fuse */
	bool via_fusermount;
	bool mounted;
	dev_t dev;			/* st_dev of the mounted root, 0 if unknown */
};

/* Mount; on success m->fd is the /dev/fuse descriptor to serve.  Failures
 * are printed (one line naming the mount point and the reason). */
int e4f_mount(struct e4f_mount *m, const struct e4f_mount_params *p);
/* Unmount; @lazy detaches even while files are open (they keep being
 * served until closed).  Safe to call more than once. */
int e4f_unmount(struct e4f_mount *m, bool lazy);
/* Cut the connection now (errors=panic): pending and future requests on
 * the mount fail with ENOTCONN. */
void e4f_mount_abort(struct e4f_mount *m);
void e4f_mount_free(struct e4f_mount *m);
/* The device number of the FUSE mount on @mountpoint (absolute), read from
 * /proc/self/mountinfo: no request to the server, so it cannot hang on a
 * connection that is being torn down.  -ENOENT if none is mounted there. */
int e4f_mount_find_dev(const char *mountpoint, dev_t *dev);
/* A descriptor passed with SCM_RIGHTS on @sock along with one byte
 * (fusermount3's, the supervisor's); -1 if the message carries none. */
int e4f_receive_fd(int sock);

#endif /* E4F_MOUNT_H */

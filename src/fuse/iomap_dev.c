/* SPDX-License-Identifier: MIT */
/*
 * fuse-iomap's devices (iomap.h): asking the kernel whether it can do
 * iomap, registering the block device under the file system with the
 * connection, and the loop device an image file needs to be one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/loop.h>

#include "fuse/iomap.h"
#include "fuse/session.h"

bool e4f_iomap_kernel_supports(int fuse_fd)
{
	struct e4f_iomap_support sup;

	memset(&sup, 0, sizeof(sup));
	/* ENOTTY: a kernel without fuse-iomap (every one here) */
	if (ioctl(fuse_fd, E4F_DEV_IOC_IOMAP_SUPPORT, &sup) < 0)
		return false;
	return (sup.flags & E4F_IOMAP_SUPPORT_FILEIO) != 0;
}

int e4f_iomap_backing_ioctl(void *ctx, struct e4f_session *s)
{
	const int *blockdev = ctx;
	struct e4f_backing_map map = {
		.fd = *blockdev, .flags = E4F_BACKING_TYPE_IOMAP,
	};
	int id = ioctl(s->fd, E4F_DEV_IOC_BACKING_OPEN, &map);

	return id < 0 ? -errno : id;
}

/* ---- loop devices --------------------------------------------------------- */

/* Bind @loop_fd to @image_fd: LOOP_CONFIGURE in one step (5.8 and later),
 * else the old two. */
static int loop_bind(int loop_fd, int image_fd, uint32_t flags)
{
	struct loop_config cfg;
	struct loop_info64 info;

	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = (uint32_t)image_fd;
	cfg.info.lo_flags = flags;
	if (ioctl(loop_fd, LOOP_CONFIGURE, &cfg) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOTTY)
		return -errno;
	if (ioctl(loop_fd, LOOP_SET_FD, image_fd) < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	info.lo_flags = flags & ~(uint32_t)LO_FLAGS_DIRECT_IO;
	if (ioctl(loop_fd, LOOP_SET_STATUS64, &info) < 0) {
		int err = -errno;

		(void)ioctl(loop_fd, LOOP_CLR_FD, 0);
		return err;
	}
	/* direct I/O is an optimisation: a backing file system without it
	 * still serves */
	(void)ioctl(loop_fd, LOOP_SET_DIRECT_IO, 1ul);
	return 0;
}

int e4f_loop_attach(int image_fd, bool writable, int *loop_fd, char *path,
		    size_t path_size)
{
	uint32_t flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO |
			 (writable ? 0u : (uint32_t)LO_FLAGS_READ_ONLY);
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	int err = -EBUSY;

	if (ctl < 0)
		return -errno;
	/* another process may take the free device between the two calls */
	for (int tries = 0; tries < 16 && err == -EBUSY; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (n < 0) {
			err = -errno;
			break;
		}
		snprintf(path, path_size, "/dev/loop%d", n);
		int fd = open(path, (writable ? O_RDWR : O_RDONLY) |
			      O_CLOEXEC);

		if (fd < 0) {
			err = -errno;
			break;
		}
		err = loop_bind(fd, image_fd, flags);
		if (err == 0)
			*loop_fd = fd;
		else
			close(fd);
	}
	close(ctl);
	return err;
}

int e4f_loop_detach(int loop_fd)
{
	/* autoclear: the kernel releases it once this was the last user */
	int err = ioctl(loop_fd, LOOP_CLR_FD, 0) < 0 ? -errno : 0;

	close(loop_fd);
	/* ENXIO: already released (autoclear on an earlier close) */
	return err == -ENXIO ? 0 : err;
}

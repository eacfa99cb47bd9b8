/* SPDX-License-Identifier: MIT */
/*
 * fuse-iomap's devices (iomap.h): asking the kernel whether it can do
 * iomap, registering the block device under the file system with the
 * connection, and the loop device an image file needs to be one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/loop.h>

#include "fuse/iomap.h"
#include "fuse/session.h"

/* through syscall(): musl's ioctl() takes an int request, glibc's an
 * unsigned long (src/io/dev.c) */
static int dev_ioctl(int fd, unsigned long req, unsigned long arg)
{
	return (int)syscall(SYS_ioctl, fd, req, arg);
}

#define PTR_ARG(p) ((unsigned long)(uintptr_t)(p))

bool e4f_iomap_kernel_supports(int fuse_fd)
{
	struct e4f_iomap_support sup;

	memset(&sup, 0, sizeof(sup));
	/* ENOTTY: a kernel without fuse-iomap (every one here) */
	if (dev_ioctl(fuse_fd, E4F_DEV_IOC_IOMAP_SUPPORT, PTR_ARG(&sup)) < 0)
		return false;
	return (sup.flags & E4F_IOMAP_SUPPORT_FILEIO) != 0;
}

int e4f_iomap_backing_ioctl(void *ctx, struct e4f_session *s)
{
	const int *blockdev = ctx;
	struct e4f_backing_map map = {
		.fd = *blockdev, .flags = E4F_BACKING_TYPE_IOMAP,
	};
	int id = dev_ioctl(s->fd, E4F_DEV_IOC_BACKING_OPEN, PTR_ARG(&map));

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
	if (dev_ioctl(loop_fd, LOOP_CONFIGURE, PTR_ARG(&cfg)) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOTTY)
		return -errno;
	if (dev_ioctl(loop_fd, LOOP_SET_FD, (unsigned long)image_fd) < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	info.lo_flags = flags & ~(uint32_t)LO_FLAGS_DIRECT_IO;
	if (dev_ioctl(loop_fd, LOOP_SET_STATUS64, PTR_ARG(&info)) < 0) {
		int err = -errno;

		(void)dev_ioctl(loop_fd, LOOP_CLR_FD, 0);
		return err;
	}
	/* direct I/O is an optimisation: a backing file system without it
	 * still serves */
	(void)dev_ioctl(loop_fd, LOOP_SET_DIRECT_IO, 1ul);
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
		int n = dev_ioctl(ctl, LOOP_CTL_GET_FREE, 0);

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
	int err = dev_ioctl(loop_fd, LOOP_CLR_FD, 0) < 0 ? -errno : 0;

	close(loop_fd);
	/* ENXIO: already released (autoclear on an earlier close) */
	return err == -ENXIO ? 0 : err;
}

/* ---- before the sandbox ------------------------------------------------------ */

int e4f_iomap_prepare_device(int image_fd, bool writable, bool *loop)
{
	char path[32];
	struct stat st;
	int fuse_fd, loop_fd;
	bool supported;

	*loop = false;
	if (image_fd < 0 || fstat(image_fd, &st) < 0)
		return -1;
	/* asked on a descriptor of its own: the mount's comes later, from
	 * the supervisor, to the sandboxed process */
	fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fuse_fd < 0)
		return -1;
	supported = e4f_iomap_kernel_supports(fuse_fd);
	close(fuse_fd);
	if (!supported)
		return -1;	/* every kernel without fuse-iomap */
	if (S_ISBLK(st.st_mode))
		return image_fd;
	if (!S_ISREG(st.st_mode) ||
	    e4f_loop_attach(image_fd, writable, &loop_fd, path,
			    sizeof(path)))
		return -1;	/* the classic path serves it */
	*loop = true;
	return loop_fd;
}

/* SPDX-License-Identifier: MIT */
/*
 * The block device under a file system: an image file, a block device, or
 * an image in memory (fuzzers).  Every access is checked against the
 * device's size, so a truncated image gives -EIO, never a short buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e4/bytes.h"
#include "io/cache.h"

struct e4_dev {
	int fd;			/* -1 for memory devices */
	const uint8_t *mem;
	uint64_t offset;	/* start of the file system in the file */
	uint64_t size;		/* bytes usable from offset */
	bool writable;
	/* work done, for the harnesses' resource oracle (e4_fs_get_counters) */
	atomic_uint_least64_t reads, read_bytes;
};

int e4_dev_open_file(const char *path, uint64_t offset, uint64_t length,
		     bool writable, struct e4_dev **out)
{
	struct stat st;
	uint64_t total;
	int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &total) < 0) {
			int err = -errno;
			close(fd);
			return err;
		}
	} else if (S_ISREG(st.st_mode)) {
		total = (uint64_t)st.st_size;
	} else {
		close(fd);
		return -ENOTBLK;
	}
	if (offset > total) {
		close(fd);
		return -EINVAL;
	}
	if (length == 0 || length > total - offset)
		length = total - offset;

	struct e4_dev *dev = calloc(1, sizeof(*dev));
	if (!dev) {
		close(fd);
		return -ENOMEM;
	}
	dev->fd = fd;
	dev->offset = offset;
	dev->size = length;
	dev->writable = writable;
	*out = dev;
	return 0;
}

int e4_dev_open_mem(const void *data, size_t size, struct e4_dev **out)
{
	struct e4_dev *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return -ENOMEM;
	dev->fd = -1;
	dev->mem = data;
	dev->size = size;
	*out = dev;
	return 0;
}

void e4_dev_close(struct e4_dev *dev)
{
	if (!dev)
		return;
	if (dev->fd >= 0)
		close(dev->fd);
	free(dev);
}

uint64_t e4_dev_size(const struct e4_dev *dev)
{
	return dev->size;
}

void e4_dev_get_counters(struct e4_dev *dev, uint64_t *reads,
			 uint64_t *read_bytes)
{
	*reads = atomic_load_explicit(&dev->reads, memory_order_relaxed);
	*read_bytes = atomic_load_explicit(&dev->read_bytes, memory_order_relaxed);
}

bool e4_dev_writable(const struct e4_dev *dev)
{
	return dev->writable;
}

int e4_dev_pread(struct e4_dev *dev, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	if (!e4_in_bounds(dev->size, off, len) || off > dev->size)
		return -EIO;
	atomic_fetch_add_explicit(&dev->reads, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&dev->read_bytes, len, memory_order_relaxed);
	if (dev->mem) {
		memcpy(buf, dev->mem + off, len);
		return 0;
	}
	while (len > 0) {
		ssize_t n = pread(dev->fd, p, len, (off_t)(dev->offset + off));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -EIO;
		}
		if (n == 0)
			return -EIO;	/* shrank under us */
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int e4_dev_pwrite(struct e4_dev *dev, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	if (!dev->writable || dev->mem)
		return -EROFS;
	if (!e4_in_bounds(dev->size, off, len))
		return -EIO;
	while (len > 0) {
		ssize_t n = pwrite(dev->fd, p, len, (off_t)(dev->offset + off));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -EIO;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The block device under a file system: an image file or block device, or
 * an image in memory (fuzzers).  The checks every access goes through, then
 * those two kinds; the third, the logging memory device for crash tests, is
 * memdev.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "e4/bytes.h"
#include "io/dev.h"

/* ---- checked entry points -------------------------------------------- */

int e4_dev_pread(struct e4_dev *dev, void *buf, size_t len, uint64_t off)
{
	if (!e4_in_bounds(dev->size, off, len) || off > dev->size)
		return -EIO;
	atomic_fetch_add_explicit(&dev->reads, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&dev->read_bytes, len, memory_order_relaxed);
	return dev->ops->pread(dev, buf, len, off);
}

int e4_dev_pwrite(struct e4_dev *dev, const void *buf, size_t len, uint64_t off)
{
	if (!dev->writable || !dev->ops->pwrite)
		return -EROFS;
	if (!e4_in_bounds(dev->size, off, len) || off > dev->size)
		return -EIO;
	return dev->ops->pwrite(dev, buf, len, off);
}

void e4_dev_willneed(struct e4_dev *dev, uint64_t off, uint64_t len)
{
	if (!dev->ops->willneed || off >= dev->size || len == 0)
		return;
	dev->ops->willneed(dev, off, len < dev->size - off ? len
							    : dev->size - off);
}

int e4_dev_flush(struct e4_dev *dev)
{
	if (!dev->writable || !dev->ops->flush)
		return 0;
	return dev->ops->flush(dev);
}

void e4_dev_close(struct e4_dev *dev)
{
	if (dev)
		dev->ops->destroy(dev);
}

uint64_t e4_dev_size(const struct e4_dev *dev)
{
	return dev->size;
}

uint64_t e4_dev_base_offset(const struct e4_dev *dev)
{
	return dev->base;
}

bool e4_dev_writable(const struct e4_dev *dev)
{
	return dev->writable;
}

void e4_dev_get_counters(struct e4_dev *dev, struct e4_fs_counters *out)
{
	memset(out, 0, sizeof(*out));
	out->meta_gets = atomic_load_explicit(&dev->meta_gets, memory_order_relaxed);
	out->dev_reads = atomic_load_explicit(&dev->reads, memory_order_relaxed);
	out->dev_read_bytes = atomic_load_explicit(&dev->read_bytes, memory_order_relaxed);
}

/* ---- image files and block devices ------------------------------------ */

struct file_dev {
	struct e4_dev dev;
	int fd;
	uint64_t offset;	/* start of the file system in the file */
};

static int file_pread(struct e4_dev *dev, void *buf, size_t len, uint64_t off)
{
	struct file_dev *f = (struct file_dev *)dev;
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(f->fd, p, len, (off_t)(f->offset + off));
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

static int file_pwrite(struct e4_dev *dev, const void *buf, size_t len,
		       uint64_t off)
{
	struct file_dev *f = (struct file_dev *)dev;
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(f->fd, p, len, (off_t)(f->offset + off));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == ENOSPC ? -ENOSPC : -EIO;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int file_flush(struct e4_dev *dev)
{
	struct file_dev *f = (struct file_dev *)dev;

	/* fdatasync on a block device also flushes its volatile cache */
	return fdatasync(f->fd) < 0 ? -EIO : 0;
}

static void file_willneed(struct e4_dev *dev, uint64_t off, uint64_t len)
{
	struct file_dev *f = (struct file_dev *)dev;

	/* the kernel reads it in the background; a failure costs nothing
	 * but the reads it would have saved */
	(void)posix_fadvise(f->fd, (off_t)(f->offset + off), (off_t)len,
			    POSIX_FADV_WILLNEED);
}

static void file_destroy(struct e4_dev *dev)
{
	struct file_dev *f = (struct file_dev *)dev;

	close(f->fd);
	free(f);
}

static const struct e4_dev_ops file_ops = {
	.name = "file",
	.pread = file_pread,
	.pwrite = file_pwrite,
	.flush = file_flush,
	.willneed = file_willneed,
	.destroy = file_destroy,
};

int e4_dev_open_file(const char *path, uint64_t offset, uint64_t length,
		     bool writable, struct e4_dev **out)
{
	struct stat st;
	uint64_t total;
	int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);

	if (fd < 0)	/* a directory fails a writable open by its kind */
		return errno == EISDIR ? -ENOTBLK : -errno;
	if (fstat(fd, &st) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	if (S_ISBLK(st.st_mode)) {
		/* through syscall(): musl's ioctl() takes an int request,
		 * glibc's an unsigned long, and BLKGETSIZE64 converts
		 * cleanly (-Wsign-conversion) to only one of them */
		if (syscall(SYS_ioctl, fd, BLKGETSIZE64, &total) < 0) {
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

	struct file_dev *f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	f->dev.ops = &file_ops;
	f->dev.size = length;
	f->dev.writable = writable;
	f->fd = fd;
	f->offset = offset;
	f->dev.base = offset;
	*out = &f->dev;
	return 0;
}

int e4_dev_fd(const struct e4_dev *dev)
{
	return dev->ops == &file_ops ? ((const struct file_dev *)dev)->fd : -1;
}

/* ---- an image in memory (read-only) ------------------------------------ */

struct mem_dev {
	struct e4_dev dev;
	const uint8_t *mem;
};

static int mem_pread(struct e4_dev *dev, void *buf, size_t len, uint64_t off)
{
	memcpy(buf, ((struct mem_dev *)dev)->mem + off, len);
	return 0;
}

static void mem_destroy(struct e4_dev *dev)
{
	free(dev);
}

static const struct e4_dev_ops mem_ops = {
	.name = "memory",
	.pread = mem_pread,
	.destroy = mem_destroy,
};

int e4_dev_open_mem(const void *data, size_t size, struct e4_dev **out)
{
	struct mem_dev *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->dev.ops = &mem_ops;
	m->dev.size = size;
	m->mem = data;
	*out = &m->dev;
	return 0;
}

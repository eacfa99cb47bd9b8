/* SPDX-License-Identifier: MIT */
/*
 * Block devices: what every kind of device provides (an image file or a
 * block device, an image in memory, and the tests' logging memory device),
 * and the checked entry points the rest of the library uses.  Every access
 * is checked against the device's size, so a truncated image gives -EIO,
 * never a short buffer.
 */
#ifndef E4_IO_DEV_H
#define E4_IO_DEV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e4/e4.h"

struct e4_dev_ops {
	const char *name;
	/* exactly @len bytes at @off, inside the device (checked before) */
	int (*pread)(struct e4_dev *dev, void *buf, size_t len, uint64_t off);
	int (*pwrite)(struct e4_dev *dev, const void *buf, size_t len,
		      uint64_t off);
	/* make every completed write durable (a cache flush) */
	int (*flush)(struct e4_dev *dev);
	/* optional: start reading @len bytes at @off, to be read soon */
	void (*willneed)(struct e4_dev *dev, uint64_t off, uint64_t len);
	void (*destroy)(struct e4_dev *dev);
};

/* The part every device shares; a kind of device embeds it first. */
struct e4_dev {
	const struct e4_dev_ops *ops;
	uint64_t size;		/* bytes usable */
	uint64_t base;		/* where they start in the file or device
				 * underneath (a partition's offset) */
	bool writable;
	/* work done on the device, for the harnesses' resource oracle
	 * (e4_dev_get_counters): readable before and during an open */
	atomic_uint_least64_t reads, read_bytes, meta_gets;
};

/* Read exactly @len bytes at byte @off of the device.  -EIO if the range is
 * beyond the device (a truncated image) or the read fails. */
int e4_dev_pread(struct e4_dev *dev, void *buf, size_t len, uint64_t off);
/* -EROFS on a read-only device, -EIO beyond its end or on failure. */
int e4_dev_pwrite(struct e4_dev *dev, const void *buf, size_t len, uint64_t off);
bool e4_dev_writable(const struct e4_dev *dev);
/* A hint: @len bytes at @off will be read soon (the part inside the
 * device); nothing is read into the cache, no error is reported. */
void e4_dev_willneed(struct e4_dev *dev, uint64_t off, uint64_t len);
/* One metadata block lookup (cache hits included) on this device. */
static inline void e4_dev_count_meta_get(struct e4_dev *dev)
{
	atomic_fetch_add_explicit(&dev->meta_gets, 1, memory_order_relaxed);
}

#endif /* E4_IO_DEV_H */

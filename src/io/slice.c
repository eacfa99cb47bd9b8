/* SPDX-License-Identifier: MIT */
/*
 * A device over part of another: the file system inside a partition of a
 * whole-disk image, read through the image's own device.
 */
#include <errno.h>
#include <stdlib.h>

#include "io/dev.h"
#include "e4/partition.h"

struct slice_dev {
	struct e4_dev dev;
	struct e4_dev *parent;
	uint64_t offset;	/* of the slice in the parent */
};

/* e4_dev_pread has checked the range against the slice, which lies inside
 * the parent, so the parent's own check cannot fail on the sum. */
static int slice_pread(struct e4_dev *dev, void *buf, size_t len, uint64_t off)
{
	struct slice_dev *s = (struct slice_dev *)dev;

	return e4_dev_pread(s->parent, buf, len, s->offset + off);
}

static int slice_pwrite(struct e4_dev *dev, const void *buf, size_t len,
			uint64_t off)
{
	struct slice_dev *s = (struct slice_dev *)dev;

	return e4_dev_pwrite(s->parent, buf, len, s->offset + off);
}

static int slice_flush(struct e4_dev *dev)
{
	return e4_dev_flush(((struct slice_dev *)dev)->parent);
}

static void slice_destroy(struct e4_dev *dev)
{
	struct slice_dev *s = (struct slice_dev *)dev;

	e4_dev_close(s->parent);
	free(s);
}

static const struct e4_dev_ops slice_ops = {
	.name = "slice",
	.pread = slice_pread,
	.pwrite = slice_pwrite,
	.flush = slice_flush,
	.destroy = slice_destroy,
};

int e4_dev_open_slice(struct e4_dev *parent, uint64_t offset, uint64_t length,
		      struct e4_dev **out)
{
	if (offset > parent->size)
		return -EINVAL;
	if (length == 0 || length > parent->size - offset)
		length = parent->size - offset;
	if (offset == 0 && length == parent->size) {
		*out = parent;
		return 0;
	}

	struct slice_dev *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->dev.ops = &slice_ops;
	s->dev.size = length;
	s->dev.base = parent->base + offset;	/* device addresses (iomap) */
	s->dev.writable = parent->writable;
	s->parent = parent;
	s->offset = offset;
	*out = &s->dev;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Where the file system is in an image: at the offset asked for, in the
 * partition asked for, at the start of the image if a superblock is there,
 * else in the one partition that holds one.  Only the magic number is
 * looked at; e4_fs_open judges the rest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/format.h"
#include "io/dev.h"
#include "io/partition.h"

#define report(o, err, ...) e4_part_report((o)->log, (o)->log_ctx, err, \
					   __VA_ARGS__)

static bool part_has_ext_magic(struct e4_dev *dev, const struct e4_part *p)
{
	/* the magic must lie inside the partition, not just the image */
	return p->length >= E4_SB_OFFSET + E4_SB_SIZE &&
	       e4_has_ext_magic(dev, p->offset);
}

static void take_part(struct e4_location *out, const struct e4_part_table *t,
		      const struct e4_part *p)
{
	out->offset = p->offset;
	out->length = p->length;
	out->partition = p->number;
	out->scheme = t->scheme;
}

static int locate_partition(const struct e4_locate_opts *o,
			    const struct e4_part_table *t,
			    struct e4_location *out)
{
	for (unsigned i = 0; i < t->count; i++) {
		if (t->part[i].number == o->partition) {
			take_part(out, t, &t->part[i]);
			return 0;
		}
	}
	if (t->scheme == E4_PART_NONE)
		return report(o, -ENOENT, "no partition %u (no partition table)",
			      o->partition);
	/* the numbers there are: "1, 2, 5" */
	char list[E4_PART_MAX * 5 + 1] = "";
	size_t used = 0;
	for (unsigned i = 0; i < t->count && used < sizeof(list); i++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%u",
				 i ? ", " : "", t->part[i].number);
		used += n > 0 ? (size_t)n : 0;
	}
	return report(o, -ENOENT, "no partition %u (%s partition table with "
		      "%u partition%s%s%s)", o->partition,
		      e4_part_scheme_name(t->scheme), t->count,
		      t->count == 1 ? "" : "s", t->count ? ": " : "", list);
}

static int locate_only_ext(struct e4_dev *dev, const struct e4_locate_opts *o,
			   const struct e4_part_table *t,
			   struct e4_location *out)
{
	unsigned found = 0;

	/* a bare image, or a boot sector's 0x55AA with no partition in it
	 * (FAT, NTFS): e4_fs_open says what it is */
	if (t->scheme == E4_PART_NONE || t->count == 0)
		return 0;
	for (unsigned i = 0; i < t->count; i++) {
		if (!part_has_ext_magic(dev, &t->part[i]))
			continue;
		if (found++ == 0)
			take_part(out, t, &t->part[i]);
	}
	if (found == 0)
		return report(o, -EINVAL, "%s partition table with %u "
			      "partition%s, none holds an ext2/3/4 file system",
			      e4_part_scheme_name(t->scheme), t->count,
			      t->count == 1 ? "" : "s");
	if (found > 1)
		return report(o, -EINVAL, "%u partitions hold an ext2/3/4 "
			      "file system; choose one with %s", found,
			      o->choose_hint ? o->choose_hint :
			      "a partition number");
	return 0;
}

int e4_locate_fs(struct e4_dev *dev, const struct e4_locate_opts *o,
		 struct e4_location *out)
{
	memset(out, 0, sizeof(*out));
	if (o->offset_set && o->partition)
		return report(o, -EINVAL, "offset and partition exclude each "
			      "other");
	if (o->offset_set) {
		if (o->offset >= dev->size)
			return report(o, -EINVAL, "offset %llu is past the end "
				      "of the %llu-byte image",
				      (unsigned long long)o->offset,
				      (unsigned long long)dev->size);
		out->offset = o->offset;
		return 0;
	}
	if (!o->partition && e4_has_ext_magic(dev, 0))
		return 0;

	struct e4_part_table *t = malloc(sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	ret = e4_part_read(dev, t, o->log, o->log_ctx);
	if (ret == 0)
		ret = o->partition ? locate_partition(o, t, out)
				   : locate_only_ext(dev, o, t, out);
	free(t);
	return ret;
}

int e4_dev_open_located(struct e4_dev *image, const struct e4_locate_opts *o,
			struct e4_location *where, struct e4_dev **out)
{
	struct e4_location loc;
	int ret = e4_locate_fs(image, o, &loc);

	if (ret < 0)
		return ret;
	if (where)
		*where = loc;
	return e4_dev_open_slice(image, loc.offset, loc.length, out);
}

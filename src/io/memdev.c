/* SPDX-License-Identifier: MIT */
/*
 * The logging memory device (include/e4/memdev.h): a copy of an image that
 * records every write and flush, and rebuilds from that log the image a
 * power cut would leave.  Crash images are built the plain way, from the
 * initial image forward through the log, so that they are obviously right;
 * the tests hold them against a model of their own.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "e4/memdev.h"
#include "io/dev.h"

struct log_entry {
	bool flush;
	uint64_t off;
	size_t len;
	uint8_t *data;		/* writes: a copy of the bytes */
};

struct e4_memdev {
	struct e4_dev dev;	/* first: the device the library sees */
	atomic_int holds;	/* the memdev handle and the device handle */
	pthread_mutex_t lock;	/* everything below */
	uint8_t *initial;
	uint8_t *contents;
	struct log_entry *log;
	size_t nlog, cap;
	size_t log_bytes, log_max;
	uint32_t flushes;
	struct e4_memdev_faults faults;
	uint64_t writes_since_faults, flushes_since_faults;
};

static struct e4_memdev *md_of(struct e4_dev *dev)
{
	return (struct e4_memdev *)dev;
}

static void release(struct e4_memdev *md)
{
	if (atomic_fetch_sub(&md->holds, 1) != 1)
		return;
	for (size_t i = 0; i < md->nlog; i++)
		free(md->log[i].data);
	free(md->log);
	free(md->initial);
	free(md->contents);
	pthread_mutex_destroy(&md->lock);
	free(md);
}

/* ---- the device: reads, recorded writes and flushes -------------------- */

/* Room in the log for one more entry holding @len bytes, or -ENOBUFS. */
static int log_reserve(struct e4_memdev *md, size_t len)
{
	size_t need = sizeof(struct log_entry) + len;

	if (need < len || need > md->log_max - md->log_bytes)
		return -ENOBUFS;
	if (md->nlog == md->cap) {
		size_t cap = md->cap ? md->cap * 2 : 64;
		struct log_entry *log = realloc(md->log, cap * sizeof(*log));
		if (!log)
			return -ENOMEM;
		md->log = log;
		md->cap = cap;
	}
	return 0;
}

static int memdev_pread(struct e4_dev *dev, void *buf, size_t len,
			uint64_t off)
{
	struct e4_memdev *md = md_of(dev);

	pthread_mutex_lock(&md->lock);
	memcpy(buf, md->contents + off, len);
	pthread_mutex_unlock(&md->lock);
	return 0;
}

static int write_locked(struct e4_memdev *md, const void *buf, size_t len,
			uint64_t off)
{
	uint64_t n = ++md->writes_since_faults;

	if (md->faults.fail_write == n)	/* n only grows: once */
		return -EIO;
	if (md->faults.enospc_from && off + len > md->faults.enospc_from)
		return -ENOSPC;
	int err = log_reserve(md, len);
	if (err)
		return err;
	uint8_t *copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	memcpy(md->contents + off, buf, len);
	md->log[md->nlog++] = (struct log_entry){
		.off = off, .len = len, .data = copy,
	};
	md->log_bytes += sizeof(struct log_entry) + len;
	return 0;
}

static int memdev_pwrite(struct e4_dev *dev, const void *buf, size_t len,
			 uint64_t off)
{
	struct e4_memdev *md = md_of(dev);

	if (len == 0)
		return 0;
	pthread_mutex_lock(&md->lock);
	int err = write_locked(md, buf, len, off);
	pthread_mutex_unlock(&md->lock);
	return err;
}

static int flush_locked(struct e4_memdev *md)
{
	uint64_t n = ++md->flushes_since_faults;

	if (md->faults.fail_flush == n)
		return -EIO;
	if (md->flushes == UINT32_MAX)
		return -ENOBUFS;
	int err = log_reserve(md, 0);
	if (err)
		return err;
	md->log[md->nlog++] = (struct log_entry){ .flush = true };
	md->log_bytes += sizeof(struct log_entry);
	md->flushes++;
	return 0;
}

static int memdev_flush(struct e4_dev *dev)
{
	struct e4_memdev *md = md_of(dev);

	pthread_mutex_lock(&md->lock);
	int err = flush_locked(md);
	pthread_mutex_unlock(&md->lock);
	return err;
}

static void memdev_destroy(struct e4_dev *dev)
{
	release(md_of(dev));
}

static const struct e4_dev_ops memdev_ops = {
	.name = "logging memory",
	.pread = memdev_pread,
	.pwrite = memdev_pwrite,
	.flush = memdev_flush,
	.destroy = memdev_destroy,
};

int e4_memdev_create(const void *image, size_t size,
		     const struct e4_memdev_opts *opts,
		     struct e4_memdev **out_md, struct e4_dev **out_dev)
{
	if (!image && size)
		return -EINVAL;
	struct e4_memdev *md = calloc(1, sizeof(*md));
	if (!md)
		return -ENOMEM;
	/* malloc(0) may return NULL: keep one byte for an empty device */
	md->initial = malloc(size ? size : 1);
	md->contents = malloc(size ? size : 1);
	if (!md->initial || !md->contents) {
		free(md->initial);
		free(md->contents);
		free(md);
		return -ENOMEM;
	}
	if (size) {
		memcpy(md->initial, image, size);
		memcpy(md->contents, image, size);
	}
	md->dev.ops = &memdev_ops;
	md->dev.size = size;
	md->dev.writable = true;
	atomic_init(&md->holds, 2);
	pthread_mutex_init(&md->lock, NULL);
	md->log_max = opts && opts->log_max ? opts->log_max
					    : E4_MEMDEV_LOG_DEFAULT;
	*out_md = md;
	*out_dev = &md->dev;
	return 0;
}

void e4_memdev_free(struct e4_memdev *md)
{
	if (md)
		release(md);
}

size_t e4_memdev_size(struct e4_memdev *md)
{
	return (size_t)md->dev.size;	/* set once, at creation */
}

void e4_memdev_set_faults(struct e4_memdev *md,
			  const struct e4_memdev_faults *faults)
{
	pthread_mutex_lock(&md->lock);
	if (faults)
		md->faults = *faults;
	else
		memset(&md->faults, 0, sizeof(md->faults));
	md->writes_since_faults = 0;
	md->flushes_since_faults = 0;
	pthread_mutex_unlock(&md->lock);
}

/* ---- the log -------------------------------------------------------------- */

size_t e4_memdev_log_length(struct e4_memdev *md)
{
	pthread_mutex_lock(&md->lock);
	size_t n = md->nlog;
	pthread_mutex_unlock(&md->lock);
	return n;
}

int e4_memdev_log_entry(struct e4_memdev *md, size_t i,
			struct e4_memdev_entry *out)
{
	int err = 0;

	pthread_mutex_lock(&md->lock);
	if (i < md->nlog) {
		const struct log_entry *e = &md->log[i];
		*out = (struct e4_memdev_entry){
			.op = e->flush ? E4_MEMDEV_FLUSH : E4_MEMDEV_WRITE,
			.off = e->off, .len = e->len, .data = e->data,
		};
	} else {
		err = -EINVAL;
	}
	pthread_mutex_unlock(&md->lock);
	return err;
}

size_t e4_memdev_log_bytes(struct e4_memdev *md)
{
	pthread_mutex_lock(&md->lock);
	size_t n = md->log_bytes;
	pthread_mutex_unlock(&md->lock);
	return n;
}

/* ---- crash points and images ---------------------------------------------- */

uint32_t e4_memdev_flushes(struct e4_memdev *md)
{
	pthread_mutex_lock(&md->lock);
	uint32_t n = md->flushes;
	pthread_mutex_unlock(&md->lock);
	return n;
}

/* The sectors write @e touches: its pieces when torn. */
static size_t sector_pieces(const struct log_entry *e)
{
	return (size_t)((e->off + e->len - 1) / E4_MEMDEV_SECTOR -
			e->off / E4_MEMDEV_SECTOR + 1);
}

/* Writes (or with @torn sector pieces) between flush @flush and the next. */
static size_t units_locked(const struct e4_memdev *md, uint32_t flush,
			   bool torn, size_t *writes)
{
	uint32_t flushes_seen = 0;
	size_t units = 0, n = 0;

	for (size_t i = 0; i < md->nlog && flushes_seen <= flush; i++) {
		const struct log_entry *e = &md->log[i];
		if (e->flush) {
			flushes_seen++;
		} else if (flushes_seen == flush) {
			n++;
			units += torn ? sector_pieces(e) : 1;
		}
	}
	if (writes)
		*writes = n;
	return units;
}

size_t e4_memdev_writes_after(struct e4_memdev *md, uint32_t flush)
{
	size_t writes;

	pthread_mutex_lock(&md->lock);
	units_locked(md, flush, false, &writes);
	pthread_mutex_unlock(&md->lock);
	return writes;
}

size_t e4_memdev_crash_units(struct e4_memdev *md, uint32_t flush, bool torn)
{
	pthread_mutex_lock(&md->lock);
	size_t units = units_locked(md, flush, torn, NULL);
	pthread_mutex_unlock(&md->lock);
	return units;
}

/*
 * The image after a power cut following flush @flush: the initial image,
 * then every write before flush @flush, then of the writes after it those
 * units that @keep keeps (none if @keep is NULL), all in log order.
 */
static void build_image(const struct e4_memdev *md, uint32_t flush,
			bool torn, const uint8_t *keep, uint8_t *image)
{
	uint32_t flushes_seen = 0;
	size_t unit = 0;

	memcpy(image, md->initial, (size_t)md->dev.size);
	for (size_t i = 0; i < md->nlog && flushes_seen <= flush; i++) {
		const struct log_entry *e = &md->log[i];
		uint64_t end = e->off + e->len;

		if (e->flush) {
			flushes_seen++;
		} else if (flushes_seen < flush) {
			memcpy(image + e->off, e->data, e->len);
		} else if (!torn) {
			if (keep && keep[unit])
				memcpy(image + e->off, e->data, e->len);
			unit++;
		} else {
			for (uint64_t from = e->off; from < end; unit++) {
				uint64_t to = (from / E4_MEMDEV_SECTOR + 1) *
					      E4_MEMDEV_SECTOR;
				if (to > end)
					to = end;
				if (keep && keep[unit])
					memcpy(image + from,
					       e->data + (from - e->off),
					       (size_t)(to - from));
				from = to;
			}
		}
	}
}

/* -EINVAL unless @flush is a crash point and @size the device's size */
static int check_crash_point(const struct e4_memdev *md, uint32_t flush,
			     size_t size)
{
	return flush <= md->flushes && size == md->dev.size ? 0 : -EINVAL;
}

int e4_memdev_image_at_flush(struct e4_memdev *md, uint32_t flush,
			     void *image, size_t size)
{
	pthread_mutex_lock(&md->lock);
	int err = check_crash_point(md, flush, size);
	if (!err)
		build_image(md, flush, false, NULL, image);
	pthread_mutex_unlock(&md->lock);
	return err;
}

int e4_memdev_image_keeping(struct e4_memdev *md, uint32_t flush, bool torn,
			    const uint8_t *keep, size_t nkeep,
			    void *image, size_t size)
{
	pthread_mutex_lock(&md->lock);
	int err = check_crash_point(md, flush, size);
	if (!err && ((!keep && nkeep) ||
		     nkeep != units_locked(md, flush, torn, NULL)))
		err = -EINVAL;
	if (!err)
		build_image(md, flush, torn, keep, image);
	pthread_mutex_unlock(&md->lock);
	return err;
}

int e4_memdev_image_random(struct e4_memdev *md, uint32_t flush, bool torn,
			   uint64_t seed, void *image, size_t size)
{
	pthread_mutex_lock(&md->lock);
	int err = check_crash_point(md, flush, size);
	if (!err) {
		size_t n = units_locked(md, flush, torn, NULL);
		uint8_t *keep = malloc(n ? n : 1);
		if (keep) {
			e4_memdev_pick(seed, keep, n);
			build_image(md, flush, torn, keep, image);
			free(keep);
		} else {
			err = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&md->lock);
	return err;
}

int e4_memdev_contents(struct e4_memdev *md, void *image, size_t size)
{
	if (size != md->dev.size)
		return -EINVAL;
	pthread_mutex_lock(&md->lock);
	memcpy(image, md->contents, size);
	pthread_mutex_unlock(&md->lock);
	return 0;
}

/* splitmix64: small, fixed, and the same everywhere */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

void e4_memdev_pick(uint64_t seed, uint8_t *keep, size_t n)
{
	uint64_t state = seed;

	for (size_t i = 0; i < n; i++)
		keep[i] = (uint8_t)(next_random(&state) >> 63);
}

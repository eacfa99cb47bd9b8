/* SPDX-License-Identifier: MIT */
/*
 * The kernel model's write flows (kmodel.h; shared/spec/fuse-iomap.md
 * §10.2-10.10): a page cache of block-sized pages, buffered writes and
 * mmap write faults dirtying it, writeback putting it on the device at
 * the addresses BEGIN gave and completing with IOEND as the kernel merges
 * completions, direct I/O writes, zeroing, truncate, fallocate and fsync
 * in the kernel's order, and inline data written back with WRITE.  What
 * the kernel would refuse or lose (a hole as a writeback or direct I/O
 * target, inline data under writeback) fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e4/write.h"
#include "kmodel.h"

#define KM_MAX_PAGES (1u << 18)

static uint64_t io_end(const struct e4f_iomap_io *io)
{
	return io->offset + io->length;
}

static bool is_space(uint16_t type)
{
	return type == E4F_IOMAP_TYPE_MAPPED ||
	       type == E4F_IOMAP_TYPE_UNWRITTEN;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* ---- the page cache ---------------------------------------------------------- */

static uint8_t *page_get(struct kmodel *km, struct km_inode *ki, uint64_t blk)
{
	struct km_pages *pc = &ki->pc;

	assert_true(blk < KM_MAX_PAGES);
	if (blk >= pc->n) {
		size_t n = pc->n ? pc->n : 64;

		while (n <= blk)
			n *= 2;
		pc->page = realloc(pc->page, n * sizeof(*pc->page));
		pc->dirty = realloc(pc->dirty, n * sizeof(*pc->dirty));
		assert_true(pc->page && pc->dirty);
		memset(pc->page + pc->n, 0, (n - pc->n) * sizeof(*pc->page));
		memset(pc->dirty + pc->n, 0, (n - pc->n) * sizeof(*pc->dirty));
		pc->n = n;
	}
	if (!pc->page[blk]) {
		pc->page[blk] = calloc(1, km->blksize);
		assert_non_null(pc->page[blk]);
	}
	return pc->page[blk];
}

static bool page_cached(const struct km_inode *ki, uint64_t blk)
{
	return blk < ki->pc.n && ki->pc.page[blk];
}

void km_pages_drop(struct km_inode *ki, uint64_t from_block)
{
	for (size_t i = from_block; i < ki->pc.n; i++) {
		free(ki->pc.page[i]);
		ki->pc.page[i] = NULL;
		ki->pc.dirty[i] = false;
	}
}

/*
 * Page @blk ready to be changed by a write through @src: read from the
 * source mapping unless it is cached already or the write covers it
 * whole (@whole); past EOF a page is zeros.
 */
static int page_for_write(struct kmodel *km, struct km_inode *ki,
			  const struct e4f_iomap_io *src, uint64_t blk,
			  bool whole, uint8_t **out)
{
	uint64_t bs = km->blksize, pos = blk * bs;
	bool cached = page_cached(ki, blk);
	uint8_t *p = page_get(km, ki, blk);
	int err = 0;

	if (!cached && !whole && pos < ki->size)
		err = km_fill(km, ki, src, pos, bs, pos + bs, p, false);
	if (!cached && !err && pos + bs > ki->size)	/* EOF zeroed */
		memset(p + (ki->size > pos ? ki->size - pos : 0), 0,
		       (size_t)(pos + bs - (ki->size > pos ? ki->size : pos)));
	*out = p;
	return err;
}

/* ---- inline data (§10.9) --------------------------------------------------------- */

/* A file write through an INLINE mapping: the old bytes by READ (fh 0),
 * the new ones into the buffer, WRITE (fh 0) of exactly what was
 * written; the sizes move and the kernel drops the range from its
 * cache.  NULL @buf: zeros. */
static int write_inline(struct kmodel *km, struct km_inode *ki,
			const struct e4f_iomap_io *map, uint64_t pos,
			uint64_t end, const uint8_t *buf)
{
	uint8_t *ibuf = calloc(1, map->length);
	struct fuse_read_in rin = {
		.offset = pos, .size = (uint32_t)(end - pos),
	};
	struct fuse_write_in win = {
		.offset = pos, .size = (uint32_t)(end - pos),
	};
	struct fuse_write_out wout;
	size_t n = 0;
	int err;

	assert_non_null(ibuf);
	assert_true(end <= io_end(map) && map->length <= 4096);
	km->st.inline_reads++;
	err = km_call2(km, FUSE_READ, ki->nodeid, &rin, sizeof(rin), NULL, 0,
		       ibuf + (pos - map->offset), map->length -
		       (pos - map->offset), &n);
	if (!err && n == 0 && pos < ki->size)
		err = -EIO;
	if (!err) {
		if (buf)
			memcpy(ibuf + (pos - map->offset), buf, end - pos);
		else
			memset(ibuf + (pos - map->offset), 0, end - pos);
		km->st.inline_writes++;
		err = km_call2(km, FUSE_WRITE, ki->nodeid, &win, sizeof(win),
			       ibuf + (pos - map->offset), end - pos, &wout,
			       sizeof(wout), NULL);
	}
	if (!err && wout.size != end - pos)
		err = -EIO;	/* a short inline WRITE (§14) */
	free(ibuf);
	if (err)
		return err;
	if (end > ki->disk_size)
		ki->disk_size = end;
	if (end > ki->size)
		ki->size = end;
	km_cache_inval(km, ki, pos, end - pos);
	return 0;
}

/* ---- END, IOEND ------------------------------------------------------------------ */

/* IOMAP_END for a file write that changed the size or was short (§9.1). */
static int send_end(struct kmodel *km, struct km_inode *ki, uint32_t opflags,
		    uint64_t pos, uint64_t count, uint64_t written,
		    const struct e4f_iomap_io *map, bool size_changed)
{
	struct e4f_iomap_end_in in = {
		.opflags = opflags, .attr_ino = ki->attr_ino, .pos = pos,
		.count = count, .written = (int64_t)written, .map = *map,
	};

	if (!size_changed && written == count)
		return 0;
	if (size_changed)
		in.map.flags |= E4F_IOMAP_F_SIZE_CHANGED;
	km->st.ends++;
	return km_call(km, E4F_OP_IOMAP_END, ki->nodeid, &in, sizeof(in),
		       NULL, 0);
}

/* A completed write of [pos, pos + written) (§9.2): IOEND when it wrote
 * unwritten blocks or past the disk size (or failed); then the disk size
 * is the server's answer and the range leaves the mapping cache. */
static int complete(struct kmodel *km, struct km_inode *ki, uint32_t flags,
		    uint64_t pos, uint64_t written, int error)
{
	struct e4f_iomap_ioend_in in = {
		.flags = flags, .error = error, .attr_ino = ki->attr_ino,
		.pos = pos, .written = written, .new_addr = E4F_IOMAP_NULL_ADDR,
		.dev = (flags & E4F_IOMAP_IOEND_WRITEBACK) ? km->dev_id : 0,
	};
	struct e4f_iomap_ioend_out out = { 0 };
	size_t n = 0;
	int err;

	if (pos + written > ki->disk_size)
		in.flags |= E4F_IOMAP_IOEND_APPEND;
	if (!error && !(written && (in.flags & (E4F_IOMAP_IOEND_UNWRITTEN |
						E4F_IOMAP_IOEND_APPEND |
						E4F_IOMAP_IOEND_SHARED))))
		return 0;	/* a pure overwrite inside the disk size */
	km->st.ioends++;
	err = km_call2(km, E4F_OP_IOMAP_IOEND, ki->nodeid, &in, sizeof(in),
		       NULL, 0, &out, sizeof(out), &n);
	if (err)
		return error ? error : err;
	assert_int_equal(n, sizeof(out));
	/* the server's answer replaces the kernel's guess; i_size moves
	 * only for what this write did past it (a direct write) */
	ki->disk_size = out.newsize;
	if (pos + written > ki->size)
		ki->size = pos + written;
	if (written)
		km_cache_inval(km, ki, pos, written);
	return error;
}

/* ---- writeback (§10.4) ------------------------------------------------------------- */

/* One completion being gathered: file- and device-contiguous blocks of
 * one kind (the kernel merges no others). */
struct ioend {
	uint64_t pos, len, addr_end;
	bool unwritten;
};

static int ioend_flush(struct kmodel *km, struct km_inode *ki,
		       struct ioend *e)
{
	uint64_t written = e->len;
	int err;

	if (!e->len)
		return 0;
	/* the completion stops at i_size (the EOF folio's tail) */
	if (e->pos + written > ki->size)
		written = ki->size > e->pos ? ki->size - e->pos : 0;
	err = complete(km, ki, E4F_IOMAP_IOEND_WRITEBACK |
		       (e->unwritten ? E4F_IOMAP_IOEND_UNWRITTEN : 0),
		       e->pos, written, 0);
	e->len = 0;
	return err;
}

int km_writeback(struct kmodel *km, struct km_inode *ki, uint64_t from,
		 uint64_t to)
{
	uint64_t bs = km->blksize, blk = from / bs;
	uint64_t last = to == UINT64_MAX ? ki->pc.n : (to + bs - 1) / bs;
	struct ioend e = { 0 };
	int err = 0;

	if (last > ki->pc.n)
		last = ki->pc.n;
	while (!err && blk < last) {
		struct e4f_iomap_io src, dst;
		uint64_t pos = blk * bs, run = 0, end;

		if (!ki->pc.dirty[blk]) {
			blk++;
			continue;
		}
		while (blk + run < last && ki->pc.dirty[blk + run])
			run++;
		err = km_begin(km, ki, E4F_IOMAP_OP_WRITEBACK, pos, run * bs,
			       &src, &dst);
		if (err)
			break;
		/* real space only: a hole here drops the data, inline data
		 * is never dirty in the page cache (-EIO) */
		if (!is_space(dst.type))
			fail_msg("writeback at %llu: mapping type %u",
				 (unsigned long long)pos, dst.type);
		end = min64(io_end(&dst), pos + run * bs);
		for (; pos < end; pos += bs, blk++) {
			uint64_t addr = dst.addr + (pos - dst.offset);
			bool unw = dst.type == E4F_IOMAP_TYPE_UNWRITTEN;

			assert_int_equal(pwrite(km->dev_fd, ki->pc.page[blk], bs,
						(off_t)addr), (ssize_t)bs);
			ki->pc.dirty[blk] = false;
			if (e.len && (e.pos + e.len != pos ||
				      e.addr_end != addr ||
				      e.unwritten != unw))
				err = ioend_flush(km, ki, &e);
			if (err)
				break;
			if (!e.len) {
				e.pos = pos;
				e.unwritten = unw;
			}
			e.len += bs;
			e.addr_end = addr + bs;
		}
	}
	if (!err)
		err = ioend_flush(km, ki, &e);
	return err;
}

/* ---- buffered writes, faults, zeroing (§10.2, §10.3, §10.8) --------------------------- */

/*
 * [off, off + len) of @ki through the page cache with BEGIN @opflags:
 * @buf's bytes (NULL: zeros), the copy stopping at @stop as if the user's
 * buffer faulted there (the write is short: END says so).  Zeroing (ZERO)
 * leaves holes and unwritten blocks alone unless the page cache holds
 * them.  Returns the bytes done or -errno.
 */
static ssize_t through_pages(struct kmodel *km, struct km_inode *ki,
			     uint32_t opflags, uint64_t off,
			     const uint8_t *buf, size_t len, uint64_t stop)
{
	uint64_t bs = km->blksize, pos = off, end = off + len;
	bool zeroing = opflags & E4F_IOMAP_OP_ZERO;
	int err = 0;

	while (pos < end) {
		struct e4f_iomap_io src, dst;
		uint64_t seg, copied, old_size = ki->size;

		err = km_begin(km, ki, opflags, pos, end - pos, &src, &dst);
		if (err)
			break;
		seg = min64(io_end(&dst), end);
		copied = min64(seg, stop > pos ? stop : pos);
		if (dst.type == E4F_IOMAP_TYPE_INLINE) {
			err = write_inline(km, ki, &dst, pos, seg,
					   buf ? buf + (pos - off) : NULL);
			if (err)
				break;
			pos = seg;
			continue;
		}
		for (uint64_t p = pos; p < copied;) {
			uint64_t blk = p / bs, in = p - blk * bs;
			uint64_t n = min64(bs - in, copied - p);
			uint8_t *page;

			/* zeros need writing only over data */
			if (zeroing && !page_cached(ki, blk) &&
			    (src.type != E4F_IOMAP_TYPE_MAPPED ||
			     (src.flags & E4F_IOMAP_F_NEW))) {
				p += n;
				continue;
			}
			err = page_for_write(km, ki, &src, blk, n == bs,
					     &page);
			if (err)
				break;
			if (buf)
				memcpy(page + in, buf + (p - off), n);
			else
				memset(page + in, 0, n);
			ki->pc.dirty[blk] = true;
			p += n;
		}
		if (err)
			break;
		if (!zeroing && copied > ki->size)
			ki->size = copied;
		err = send_end(km, ki, opflags, pos, seg - pos, copied - pos,
			       &dst, ki->size != old_size);
		if (err)
			break;
		pos = copied;
		if (copied < seg)
			break;	/* the fault: the write returns short */
	}
	return pos > off ? (ssize_t)(pos - off) : err;
}

static int zero_range(struct kmodel *km, struct km_inode *ki, uint64_t off,
		      uint64_t len)
{
	ssize_t n = len ? through_pages(km, ki, E4F_IOMAP_OP_ZERO, off, NULL,
					(size_t)len, UINT64_MAX) : 0;

	return n < 0 ? (int)n : 0;
}

ssize_t km_write_buffered(struct kmodel *km, struct km_inode *ki,
			  uint64_t off, const void *buf, size_t len)
{
	return km_write_buffered_short(km, ki, off, buf, len, len);
}

ssize_t km_write_buffered_short(struct kmodel *km, struct km_inode *ki,
				uint64_t off, const void *buf, size_t len,
				size_t copied)
{
	int err;

	/* past EOF: the old EOF's block is zeroed from EOF first */
	if (off > ki->size) {
		err = zero_range(km, ki, ki->size, off - ki->size);
		if (err)
			return err;
	}
	return through_pages(km, ki, E4F_IOMAP_OP_WRITE, off, buf, len,
			     off + copied);
}

ssize_t km_mmap_write(struct kmodel *km, struct km_inode *ki, uint64_t off,
		      const void *buf, size_t len)
{
	uint64_t bs = km->blksize, pos = off, end = off + len;

	/* a store past EOF is SIGBUS */
	if (end > (ki->size + bs - 1) / bs * bs)
		return -EFAULT;
	while (pos < end) {
		uint64_t blk = pos / bs;
		uint64_t n = min64((blk + 1) * bs, end) - pos;
		ssize_t r;

		/* the fault maps the whole page, then the store lands */
		if (!page_cached(ki, blk)) {
			struct e4f_iomap_io src, dst;
			uint8_t *page;
			int err = km_begin(km, ki, E4F_IOMAP_OP_WRITE |
					   E4F_IOMAP_OP_FAULT, blk * bs, bs,
					   &src, &dst);

			if (!err && dst.type == E4F_IOMAP_TYPE_INLINE)
				err = -EOPNOTSUPP;	/* not modelled */
			if (!err)
				err = page_for_write(km, ki, &src, blk, false,
						     &page);
			if (err)
				return pos > off ? (ssize_t)(pos - off) : err;
		}
		r = (ssize_t)n;
		memcpy(ki->pc.page[blk] + (pos - blk * bs),
		       (const uint8_t *)buf + (pos - off), n);
		ki->pc.dirty[blk] = true;
		pos += (uint64_t)r;
	}
	return (ssize_t)len;
}

/* ---- direct I/O (§10.6) ------------------------------------------------------------ */

ssize_t km_write_direct(struct kmodel *km, struct km_inode *ki, uint64_t off,
			const void *buf, size_t len)
{
	uint64_t bs = km->blksize, pos = off, end = off + len;
	bool unwritten = false;
	int err;

	if (off % 512 || len % 512)
		return -EINVAL;
	/* the page cache over the range written back and dropped */
	err = km_writeback(km, ki, off, end);
	if (err)
		return err;
	for (uint64_t b = off / bs; b < (end + bs - 1) / bs; b++)
		if (page_cached(ki, b)) {
			free(ki->pc.page[b]);
			ki->pc.page[b] = NULL;
		}
	while (!err && pos < end) {
		struct e4f_iomap_io src, dst;
		uint64_t seg, addr;

		err = km_begin(km, ki, E4F_IOMAP_OP_WRITE | E4F_IOMAP_OP_DIRECT,
			       pos, end - pos, &src, &dst);
		if (err)
			break;
		if (!is_space(dst.type))	/* HOLE, DELALLOC: -EIO */
			fail_msg("direct write at %llu: mapping type %u",
				 (unsigned long long)pos, dst.type);
		seg = min64(io_end(&dst), end);
		addr = dst.addr + (pos - dst.offset);
		/* sub-block zeroing of fresh or unwritten blocks */
		if ((dst.flags & E4F_IOMAP_F_NEW) ||
		    dst.type == E4F_IOMAP_TYPE_UNWRITTEN) {
			uint64_t head = pos % bs, tail = seg % bs;
			static const uint8_t zeros[65536];

			assert_true(bs <= sizeof(zeros));
			if (head)
				assert_int_equal(pwrite(km->dev_fd, zeros, head,
							(off_t)(addr - head)),
						 (ssize_t)head);
			if (tail && seg < io_end(&dst))
				assert_int_equal(pwrite(km->dev_fd, zeros,
							bs - tail,
							(off_t)(addr + seg -
								pos)),
						 (ssize_t)(bs - tail));
			unwritten |= dst.type == E4F_IOMAP_TYPE_UNWRITTEN;
		}
		assert_int_equal(pwrite(km->dev_fd,
					(const uint8_t *)buf + (pos - off),
					seg - pos, (off_t)addr),
				 (ssize_t)(seg - pos));
		pos = seg;
	}
	if (pos > off) {
		int e2 = complete(km, ki, E4F_IOMAP_IOEND_DIRECT |
				  (unwritten ? E4F_IOMAP_IOEND_UNWRITTEN : 0),
				  off, pos - off, 0);

		if (pos > ki->size)
			ki->size = pos;
		return e2 ? e2 : (ssize_t)(pos - off);
	}
	return err;
}

/* ---- truncate, fallocate, fsync (§10.8, §10.10) ----------------------------------------- */

int km_truncate(struct kmodel *km, struct km_inode *ki, uint64_t size)
{
	uint64_t bs = km->blksize;
	struct fuse_setattr_in in = { .valid = FATTR_SIZE, .size = size };
	struct fuse_attr_out out;
	int err;

	if (size < ki->size && size % bs)	/* the new EOF's block */
		err = zero_range(km, ki, size,
				 min64((size / bs + 1) * bs, ki->size) - size);
	else if (size > ki->size)		/* the gap to the new EOF */
		err = zero_range(km, ki, ki->size, size - ki->size);
	else
		err = 0;
	if (err)
		return err;
	ki->size = size;
	km_pages_drop(ki, (size + bs - 1) / bs);
	err = km_writeback(km, ki, 0, UINT64_MAX);
	if (!err)
		err = km_call(km, FUSE_SETATTR, ki->nodeid, &in, sizeof(in),
			      &out, sizeof(out));
	if (err)
		return err;
	ki->disk_size = out.attr.size;
	km_cache_inval(km, ki, size, UINT64_MAX);
	return 0;
}

int km_fallocate(struct kmodel *km, struct km_inode *ki, unsigned mode,
		 uint64_t off, uint64_t len)
{
	uint64_t bs = km->blksize, end = off + len;
	struct fuse_fallocate_in in = {
		.offset = off, .length = len, .mode = mode,
	};
	int err = 0;

	assert_int_equal(mode & (E4_FALLOC_COLLAPSE_RANGE |
				 E4_FALLOC_INSERT_RANGE), 0);
	if (mode & (E4_FALLOC_PUNCH_HOLE | E4_FALLOC_ZERO_RANGE))
		err = km_writeback(km, ki, off, end);
	if (!err)
		err = km_call(km, FUSE_FALLOCATE, ki->nodeid, &in, sizeof(in),
			      NULL, 0);
	if (err)
		return err;
	km_cache_inval(km, ki, off, len);
	if (mode & (E4_FALLOC_PUNCH_HOLE | E4_FALLOC_ZERO_RANGE)) {
		/* the page cache over the range zeroed (clean: the server
		 * zeroed the disk) */
		for (uint64_t b = off / bs; b < (end + bs - 1) / bs; b++) {
			uint64_t s = b * bs > off ? b * bs : off;
			uint64_t e = min64((b + 1) * bs, end);

			if (page_cached(ki, b))
				memset(ki->pc.page[b] + (s - b * bs), 0, e - s);
		}
	}
	if (!(mode & E4_FALLOC_KEEP_SIZE) && end > ki->size)
		ki->size = ki->disk_size = end;
	return 0;
}

int km_fsync(struct kmodel *km, struct km_inode *ki)
{
	struct fuse_fsync_in in = { 0 };
	int err = km_writeback(km, ki, 0, UINT64_MAX);

	if (!err)
		err = km_call(km, FUSE_FSYNC, ki->nodeid, &in, sizeof(in),
			      NULL, 0);
	return err;
}

/* ---- the classic path, and new files ------------------------------------------------------ */

ssize_t km_write_classic(struct kmodel *km, struct km_inode *ki,
			 uint64_t off, const void *buf, size_t len)
{
	struct fuse_open_in oin = { .flags = O_WRONLY };
	struct fuse_open_out oout;
	struct fuse_release_in rin = { .flags = O_WRONLY };
	size_t done = 0;
	int err = km_call(km, FUSE_OPEN, ki->nodeid, &oin, sizeof(oin), &oout,
			  sizeof(oout));

	if (err)
		return err;
	while (done < len) {
		size_t want = len - done < 65536 ? len - done : 65536;
		struct fuse_write_in in = {
			.fh = oout.fh, .offset = off + done,
			.size = (uint32_t)want,
		};
		struct fuse_write_out out;

		err = km_call2(km, FUSE_WRITE, ki->nodeid, &in, sizeof(in),
			       (const uint8_t *)buf + done, want, &out,
			       sizeof(out), NULL);
		if (err || out.size == 0)
			break;
		done += out.size;
	}
	rin.fh = oout.fh;
	assert_int_equal(km_call(km, FUSE_RELEASE, ki->nodeid, &rin,
				 sizeof(rin), NULL, 0), 0);
	if (off + done > ki->size)
		ki->size = ki->disk_size = off + done;
	return done ? (ssize_t)done : err;
}

struct km_inode *km_create(struct kmodel *km, const char *name, int *err)
{
	struct fuse_create_in in = { .flags = O_RDWR | O_CREAT, .mode = 0100644,
				     .umask = 022 };
	struct {
		struct fuse_entry_out e;
		struct fuse_open_out o;
	} out;
	struct fuse_release_in rin = { .flags = O_RDWR };

	*err = km_call2(km, FUSE_CREATE, 1, &in, sizeof(in), name,
			strlen(name) + 1, &out, sizeof(out), NULL);
	if (*err)
		return NULL;
	rin.fh = out.o.fh;
	assert_int_equal(km_call(km, FUSE_RELEASE, out.e.nodeid, &rin,
				 sizeof(rin), NULL, 0), 0);
	return km_lookup(km, name, err);
}

/* SPDX-License-Identifier: MIT */
/*
 * Zero-copy READ replies through a pipe (splice.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "e4/datazone.h"
#include "e4/format.h"
#include "e4/write.h"	/* e4_fs_writable */
#include "fuse/proto.h"
#include "fuse/splice.h"

/* The pipe asked for: the largest reply (E4F_MAX_IO of data, page
 * aligned or not, and the header) in 4 KiB slots, rounded up to the power
 * of two the kernel makes it anyway. */
#define SPLICE_PIPE_BYTES (2u * E4F_MAX_IO)

struct e4f_splice {
	int rd, wr;			/* the pipe (both ends O_NONBLOCK) */
	unsigned slots;			/* what it holds */
	size_t page;
	uint8_t *zeros;			/* one page, for holes */
	struct splice_run *runs;	/* a reply's pieces, @slots at most */
};

/* One piece of a reply: @len bytes of the image at @dev, or zeros. */
struct splice_run {
	uint64_t dev;
	size_t len;
	bool zero;
};

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : 4096u;
}

/* A pipe as large as allowed, up to SPLICE_PIPE_BYTES; its slots in
 * *slots.  -errno when none could be made. */
static int make_pipe(int fds[2], unsigned *slots)
{
	int sz;

	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	/* beyond fs.pipe-max-size only with CAP_SYS_RESOURCE: then the
	 * most an unprivileged process may have */
	sz = fcntl(fds[1], F_SETPIPE_SZ, (int)SPLICE_PIPE_BYTES);
	if (sz < 0)
		sz = fcntl(fds[1], F_SETPIPE_SZ, (int)E4F_MAX_IO);
	if (sz < 0)
		sz = fcntl(fds[1], F_GETPIPE_SZ);
	if (sz < 0) {
		int e = -errno;

		close(fds[0]);
		close(fds[1]);
		return e;
	}
	*slots = (unsigned)((size_t)sz / page_size());
	return 0;
}

void e4f_splice_setup(struct e4f_session *s)
{
	int fds[2];
	unsigned slots = 0;
	int ret;

	s->splice.on = false;
	if (!s->cfg.splice || s->splice_src.fd < 0 || !s->fs)
		return;
	/* (said nowhere: this runs before the mount detaches, and a line
	 * on stderr of every read-write mount would be noise) */
	if (e4_fs_writable(s->fs))
		return;
	if (e4_fs_replayed_blocks(s->fs)) {
		/* the device's copies of those blocks are stale, and which
		 * ones a file's data are is not told cheaply: as iomap */
		e4f_log(E4_LOG_INFO, "splice: not used while the journal "
			"replay holds %zu blocks in memory",
			e4_fs_replayed_blocks(s->fs));
		return;
	}
	ret = make_pipe(fds, &slots);
	if (ret < 0) {
		e4f_log(E4_LOG_INFO, "splice: not used: no pipe: %s",
			strerror(-ret));
		return;
	}
	close(fds[0]);
	close(fds[1]);
	/* the header and a page of data at least */
	if (slots < 2)
		return;
	s->splice.pipe_pages = slots;
	s->splice.on = true;
}

unsigned e4f_splice_init(struct e4f_session *s, unsigned want)
{
	if (!s->splice.on)
		return want;
	/* one slot is the header's, and a READ the kernel sends is page
	 * aligned in the file, which blocks of a page or more keep page
	 * aligned in the image: one slot per page */
	if (s->splice.pipe_pages - 1 < want)
		want = s->splice.pipe_pages - 1;
	if (!s->cfg.detaching)
		e4f_log(E4_LOG_INFO, "splice: READ replies of %u KiB or more "
			"spliced from the image (pipes of %u pages, max_pages "
			"%u)", E4F_SPLICE_MIN / 1024u, s->splice.pipe_pages,
			want);
	return want;
}

struct e4f_splice *e4f_splice_open(struct e4f_session *s)
{
	struct e4f_splice *sp;
	int fds[2];

	if (!s->splice.on)
		return NULL;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return NULL;
	sp->page = page_size();
	if (make_pipe(fds, &sp->slots) < 0)
		goto fail;
	sp->rd = fds[0];
	sp->wr = fds[1];
	sp->runs = calloc(sp->slots, sizeof(*sp->runs));
	if (!sp->runs || posix_memalign((void **)&sp->zeros, sp->page,
					sp->page)) {
		sp->zeros = NULL;
		close(sp->rd);
		close(sp->wr);
		goto fail;
	}
	memset(sp->zeros, 0, sp->page);
	return sp;
fail:
	free(sp->runs);
	free(sp);
	return NULL;
}

void e4f_splice_close(struct e4f_splice *sp)
{
	if (!sp)
		return;
	close(sp->rd);
	close(sp->wr);
	free(sp->zeros);
	free(sp->runs);
	free(sp);
}

void e4f_splice_report(struct e4f_session *s)
{
	if (!s->splice.on)
		return;
	e4f_log(E4_LOG_INFO, "splice: %lu READ replies spliced, %lu copied",
		atomic_load(&s->splice.spliced),
		atomic_load(&s->splice.copied));
}

/* Pipe slots @run takes: one per page it touches. */
static size_t run_slots(const struct splice_run *run, size_t page)
{
	uint64_t first = run->zero ? 0 : run->dev / page;
	uint64_t end = run->zero ? run->len : run->dev + run->len;

	return (size_t)((end + page - 1) / page - first);
}

/*
 * The pieces of [off, off + len) of @inode, in sp->runs; returns how many,
 * 0 when the range does not qualify (a piece outside the file system's
 * part of the image, inline data, more slots than the pipe has), or the
 * mapping's -errno.
 */
static int map_runs(struct e4f_session *s, struct e4f_splice *sp,
		    const struct e4_inode *inode, uint64_t off, size_t len)
{
	size_t slots = 1;	/* the header */
	unsigned n = 0;
	uint64_t end = off + len;

	while (off < end) {
		struct e4_range rg;
		int ret = e4_map_range(s->fs, inode, off, end - off, &rg);

		if (ret < 0)
			return ret;
		if (rg.offset != off || rg.length == 0)
			return -EIO;	/* a mapping bug: never spin */
		if (rg.length > end - off)
			rg.length = end - off;
		if (rg.kind == E4_MAP_INLINE || n == sp->slots)
			return 0;
		struct splice_run *run = &sp->runs[n++];

		run->zero = rg.kind != E4_MAP_MAPPED;
		run->dev = rg.dev_offset;
		run->len = (size_t)rg.length;
		if (!run->zero &&
		    (rg.dev_offset < s->splice_src.lo ||
		     rg.dev_offset > s->splice_src.hi ||
		     rg.length > s->splice_src.hi - rg.dev_offset))
			return 0;	/* the copying path reports it */
		slots += run_slots(run, sp->page);
		if (slots > sp->slots)
			return 0;
		off += rg.length;
	}
	return (int)n;
}

/* A reply that could not be spliced: said once per session. */
static void splice_failed(struct e4f_session *s, const char *what, int err)
{
	if (!atomic_exchange(&s->splice.warned, true))
		e4f_log(E4_LOG_WARN, "splice: %s failed (%s): that reply, "
			"and any other that fails, copied", what,
			strerror(err));
}

/* Empty the pipe after a reply that did not go out whole. */
static void drain(struct e4f_splice *sp, uint8_t *buf, size_t size)
{
	while (read(sp->rd, buf, size) > 0)
		;
}

/* Fill the pipe with @run; false on any failure (short: the image ends). */
static bool fill_run(struct e4f_session *s, struct e4f_splice *sp,
		     const struct splice_run *run)
{
	size_t left = run->len;
	loff_t at = (loff_t)run->dev;

	while (left) {
		ssize_t n;

		if (run->zero) {
			struct iovec iov[64];
			int cnt = 0;

			for (size_t q = left; q && cnt < 64; cnt++) {
				iov[cnt].iov_base = sp->zeros;
				iov[cnt].iov_len = q < sp->page ? q : sp->page;
				q -= iov[cnt].iov_len;
			}
			n = vmsplice(sp->wr, iov, (unsigned long)cnt, 0);
		} else {
			n = splice(s->splice_src.fd, &at, sp->wr, NULL, left,
				   0);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = EIO;	/* the image ends there */
		if (n <= 0)
			return false;
		left -= (size_t)n;
	}
	return true;
}

int e4f_splice_read(struct e4f_req *r, const struct e4_inode *inode,
		    uint64_t off, size_t size)
{
	struct e4f_session *s = r->s;
	struct e4f_splice *sp = r->sink->splice;
	struct fuse_out_header oh;
	size_t len;
	int n;

	/* (read-only, no replay in memory: e4f_splice_setup) */
	if (!sp || atomic_load(&s->splice.broken) ||
	    !e4_inode_is_reg(inode) ||
	    (inode->flags & E4_INLINE_DATA_FL) ||
	    e4_inode_is_encrypted(s->fs, inode) || off >= inode->size)
		goto copy;
	len = inode->size - off < size ? (size_t)(inode->size - off) : size;
	if (len < E4F_SPLICE_MIN)
		goto copy;
	n = map_runs(s, sp, inode, off, len);
	if (n < 0)
		return n;
	if (n == 0)
		goto copy;

	oh.len = (uint32_t)(sizeof(oh) + len);
	oh.error = 0;
	oh.unique = r->h.unique;
	if (write(sp->wr, &oh, sizeof(oh)) != (ssize_t)sizeof(oh)) {
		splice_failed(s, "writing the header to the pipe", errno);
		goto fail;
	}
	for (int i = 0; i < n; i++)
		if (!fill_run(s, sp, &sp->runs[i])) {
			splice_failed(s, sp->runs[i].zero ? "vmsplice" :
				      "splicing from the image", errno);
			goto fail;
		}
	for (;;) {
		/* no SPLICE_F_MOVE: the kernel copies into the reader's
		 * pages either way for O_DIRECT, and moving would take the
		 * pages out of the image's cache for buffered reads (no gain
		 * measured: bench/results/2026-12-06-splice.md) */
		ssize_t w = splice(sp->rd, NULL, s->fd, NULL, oh.len, 0);

		if (w < 0 && errno == EINTR)
			continue;
		if (w == (ssize_t)oh.len)
			break;
		/* ENOENT: the request was interrupted, nobody waits; what
		 * the kernel left in the pipe must not lead the next reply */
		if (w < 0 && errno == ENOENT) {
			drain(sp, r->scratch, E4F_REPLY_BUFSIZE);
			break;
		}
		int e = w < 0 ? errno : EIO;

		if (!atomic_exchange(&s->splice.broken, true))
			e4f_log(E4_LOG_WARN, "splice: /dev/fuse refused a "
				"spliced reply (%s): copying from now on",
				strerror(e));
		goto fail;
	}
	r->replied = true;
	r->error = 0;
	r->outlen = len;
	atomic_fetch_add(&s->splice.spliced, 1);
	return 1;
fail:
	drain(sp, r->scratch, E4F_REPLY_BUFSIZE);
copy:
	if (s->splice.on)
		atomic_fetch_add(&s->splice.copied, 1);
	return 0;
}

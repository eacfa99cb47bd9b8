/* SPDX-License-Identifier: MIT */
/* The kernel model of fuse-iomap: see kmodel.h.  Section numbers are
 * shared/spec/fuse-iomap.md's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e4/write.h"
#include "iomap_rules.h"
#include "kmodel.h"

#define KM_PAGE_SIZE 4096u
#ifndef FOPEN_PASSTHROUGH	/* 7.40, newer than some installed headers */
#define FOPEN_PASSTHROUGH (1u << 7)
#endif
/* one READ at a time: a socket message stays well under its buffer */
#define KM_READ_CHUNK 65536u
#define KM_MSG_MAX (KM_READ_CHUNK + 4096u)

/* ---- transport ------------------------------------------------------------ */

static uint64_t send_request(struct kmodel *km, uint32_t opcode,
			     uint64_t nodeid, const void *a, size_t alen,
			     const void *b, size_t blen)
{
	struct fuse_in_header h = {
		.len = (uint32_t)(sizeof(h) + alen + blen), .opcode = opcode,
		.unique = km->next_unique += 2, .nodeid = nodeid,
	};
	struct iovec iov[3] = {
		{ &h, sizeof(h) }, { (void *)a, alen }, { (void *)b, blen },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 3 };

	assert_int_equal(sendmsg(km->kfd, &msg, 0), (ssize_t)h.len);
	km->st.requests++;
	km->st.reads += opcode == FUSE_READ;
	km->st.writes += opcode == FUSE_WRITE;
	return h.unique;
}

static struct km_inode *inode_by_nodeid(struct kmodel *km, uint64_t nodeid)
{
	for (unsigned i = 0; i < km->ninodes; i++)
		if (km->inodes[i].nodeid == nodeid)
			return &km->inodes[i];
	return NULL;
}

/* ---- the mapping cache (§12) ------------------------------------------------ */

static uint64_t io_end(const struct e4f_iomap_io *io)
{
	return io->offset + io->length;
}

static bool is_space(uint16_t type)
{
	return type == E4F_IOMAP_TYPE_MAPPED ||
	       type == E4F_IOMAP_TYPE_UNWRITTEN;
}

static void cache_bump(struct km_cache *c)
{
	if (++c->seq == 0)
		c->seq = 1;
}

static void cache_insert_at(struct km_cache *c, size_t i,
			    const struct e4f_iomap_io *io)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->rec = realloc(c->rec, c->cap * sizeof(*c->rec));
		assert_non_null(c->rec);
	}
	memmove(&c->rec[i + 1], &c->rec[i], (c->n - i) * sizeof(*c->rec));
	c->rec[i] = *io;
	c->n++;
}

/* Remove [off, end) from the half, splitting records that straddle it. */
static void cache_punch(struct km_cache *c, uint64_t off, uint64_t end)
{
	for (size_t i = 0; i < c->n;) {
		struct e4f_iomap_io *r = &c->rec[i];
		uint64_t rend = io_end(r);

		if (rend <= off || r->offset >= end) {
			i++;
			continue;
		}
		cache_bump(c);
		if (r->offset < off && rend > end) {	/* split in two */
			struct e4f_iomap_io tail = *r;

			tail.offset = end;
			tail.length = rend - end;
			if (is_space(tail.type))
				tail.addr += end - r->offset;
			r->length = off - r->offset;
			cache_insert_at(c, i + 1, &tail);
			return;
		}
		if (r->offset < off) {
			r->length = off - r->offset;
			i++;
		} else if (rend > end) {
			if (is_space(r->type))
				r->addr += end - r->offset;
			r->length = rend - end;
			r->offset = end;
			i++;
		} else {
			memmove(r, r + 1, (c->n - i - 1) * sizeof(*r));
			c->n--;
		}
	}
}

static bool mergeable(const struct e4f_iomap_io *a,
		      const struct e4f_iomap_io *b)
{
	if (a->dev != b->dev || a->type != b->type || a->flags != b->flags ||
	    io_end(a) != b->offset || a->length + b->length > (1ull << 63))
		return false;
	return !is_space(a->type) || a->addr + a->length == b->addr;
}

static void cache_upsert(struct kmodel *km, struct km_cache *c,
			 const struct e4f_iomap_io *io)
{
	size_t i = 0;

	/* over its size limit, the whole half goes (§12.2) */
	if (c->n * sizeof(*c->rec) > km->cache_maxbytes)
		c->n = 0;
	cache_punch(c, io->offset, io_end(io));
	while (i < c->n && c->rec[i].offset < io->offset)
		i++;
	cache_insert_at(c, i, io);
	cache_bump(c);
	if (i + 1 < c->n && mergeable(&c->rec[i], &c->rec[i + 1])) {
		c->rec[i].length += c->rec[i + 1].length;
		memmove(&c->rec[i + 1], &c->rec[i + 2],
			(c->n - i - 2) * sizeof(*c->rec));
		c->n--;
	}
	if (i > 0 && mergeable(&c->rec[i - 1], &c->rec[i])) {
		c->rec[i - 1].length += c->rec[i].length;
		memmove(&c->rec[i], &c->rec[i + 1],
			(c->n - i - 1) * sizeof(*c->rec));
		c->n--;
	}
}

/* A record containing @pos (one starting after it is a miss, §12.4). */
static const struct e4f_iomap_io *cache_find(const struct km_cache *c,
					     uint64_t pos)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->rec[i].offset <= pos && pos < io_end(&c->rec[i]))
			return &c->rec[i];
	return NULL;
}

/* ---- the kernel's checks (iomap_rules.c) ------------------------------------ */

static struct iomap_rules rules_of(const struct kmodel *km,
				   const struct km_inode *ki)
{
	return (struct iomap_rules){
		.blksize = km->blksize, .maxbytes = km->maxbytes,
		.dev_id = km->dev_id, .dev_size = km->dev_size,
		.has_cache = ki->has_cache, .size = ki->size,
	};
}

int km_check_begin(const struct kmodel *km, const struct km_inode *ki,
		   uint32_t opflags, uint64_t pos,
		   const struct e4f_iomap_begin_out *out)
{
	struct iomap_rules k = rules_of(km, ki);

	return iomap_rules_begin(&k, opflags, pos, out);
}

/* ---- notifications (§12.2, §12.3) ------------------------------------------- */

static int notify_upsert(struct kmodel *km, const void *p, size_t len)
{
	struct e4f_iomap_upsert_mappings_out u;
	struct iomap_rules k;
	struct km_inode *ki;
	int err;

	if (len != sizeof(u) || !km->iomap)
		return -EINVAL;
	memcpy(&u, p, sizeof(u));
	ki = inode_by_nodeid(km, u.nodeid);
	if (!ki)
		return -ESTALE;
	if (u.attr_ino != ki->attr_ino)
		return -EINVAL;
	/* the cache shares storage with the page-cache bookkeeping of
	 * non-iomap files (§12.2): an upsert there is a server bug */
	assert_true(ki->iomap);
	k = rules_of(km, ki);
	err = iomap_rules_upsert_half(&k, &u.read, false);
	if (!err)
		err = iomap_rules_upsert_half(&k, &u.write, true);
	if (err)
		return err;
	/* e4fuse keeps the write half absent (pure overwrites) */
	assert_int_equal(u.write.type, E4F_IOMAP_TYPE_NOCACHE);
	ki->has_cache = true;
	if (u.read.type != E4F_IOMAP_TYPE_NOCACHE)
		cache_upsert(km, &ki->read, &u.read);
	km->st.upserts++;
	return 0;
}

static int inval_half(struct kmodel *km, struct km_inode *ki,
		      struct km_cache *c, const struct e4f_fuse_range *r)
{
	struct iomap_rules k = rules_of(km, ki);
	int err = iomap_rules_inval_half(&k, r);

	if (err || r->length == 0)
		return err;
	cache_punch(c, r->offset, r->length == E4F_IOMAP_INVAL_TO_EOF ?
		    UINT64_MAX : r->offset + r->length);
	return 0;
}

static int notify_inval(struct kmodel *km, const void *p, size_t len)
{
	struct e4f_iomap_inval_mappings_out v;
	struct km_cache scratch = { 0 };
	struct km_inode *ki;
	int err;

	if (len != sizeof(v) || !km->iomap)
		return -EINVAL;
	memcpy(&v, p, sizeof(v));
	ki = inode_by_nodeid(km, v.nodeid);
	if (!ki)
		return -ESTALE;
	if (v.attr_ino != ki->attr_ino)
		return -EINVAL;
	assert_true(ki->iomap);
	err = inval_half(km, ki, &ki->read, &v.read);
	if (!err)	/* the write half is absent: checked, nothing held */
		err = inval_half(km, ki, &scratch, &v.write);
	free(scratch.rec);
	if (!err)
		km->st.invals++;
	return err;
}

static void handle_notification(struct kmodel *km, int code, const void *p,
				size_t len)
{
	int err;

	switch (code) {
	case E4F_NOTIFY_IOMAP_UPSERT_MAPPINGS:
		err = notify_upsert(km, p, len);
		break;
	case E4F_NOTIFY_IOMAP_INVAL_MAPPINGS:
		err = notify_inval(km, p, len);
		break;
	default:
		err = 0;	/* the classic ones: nothing modelled */
	}
	km->last_error = err;
	/* the kernel returns these to the server's write(2); -ESTALE (an
	 * inode it no longer holds) is the only one a correct server meets */
	if (err && err != -ESTALE)
		fail_msg("notification %d rejected: %s", code, strerror(-err));
}

/* Read one message; notifications are handled and 0 returned, a reply's
 * total length otherwise. */
static size_t recv_one(struct kmodel *km, uint8_t *buf, size_t cap,
		       int flags)
{
	struct fuse_out_header oh;
	ssize_t n = recv(km->kfd, buf, cap, flags);

	if (n < 0 && (flags & MSG_DONTWAIT) &&
	    (errno == EAGAIN || errno == EWOULDBLOCK))
		return SIZE_MAX;
	assert_true(n >= (ssize_t)sizeof(oh));
	memcpy(&oh, buf, sizeof(oh));
	assert_int_equal(oh.len, (uint32_t)n);	/* the whole message */
	if (oh.unique == 0) {
		handle_notification(km, oh.error, buf + sizeof(oh),
				    (size_t)n - sizeof(oh));
		return 0;
	}
	return (size_t)n;
}

void km_poll_notifications(struct kmodel *km)
{
	uint8_t buf[512];

	while (recv_one(km, buf, sizeof(buf), MSG_DONTWAIT) != SIZE_MAX) {
	}
}

/* Send a request and wait for its reply (notifications handled on the
 * way).  The reply's payload goes to @out (at most @cap bytes), its length
 * to *@outlen; returns the reply's error. */
int km_call2(struct kmodel *km, uint32_t opcode, uint64_t nodeid,
	     const void *a, size_t alen, const void *b, size_t blen,
	     void *out, size_t cap, size_t *outlen)
{
	static uint8_t buf[KM_MSG_MAX];
	struct fuse_out_header oh;
	uint64_t unique = send_request(km, opcode, nodeid, a, alen, b, blen);
	size_t n;

	while ((n = recv_one(km, buf, sizeof(buf), 0)) == 0) {
	}
	memcpy(&oh, buf, sizeof(oh));
	assert_int_equal(oh.unique, unique);
	assert_true(oh.error <= 0 && oh.error > -512);
	if (oh.error) {
		assert_int_equal(n, sizeof(oh));	/* dev.c's rule */
		return oh.error;
	}
	n -= sizeof(oh);
	assert_true(n <= cap);	/* longer than the reply's room: -EINVAL */
	if (n)
		memcpy(out, buf + sizeof(oh), n);
	if (outlen)
		*outlen = n;
	return 0;
}

static int call(struct kmodel *km, uint32_t opcode, uint64_t nodeid,
		const void *arg, size_t arglen, void *out, size_t cap,
		size_t *outlen)
{
	return km_call2(km, opcode, nodeid, arg, arglen, NULL, 0, out, cap,
			outlen);
}

int km_call(struct kmodel *km, uint32_t opcode, uint64_t nodeid,
	    const void *arg, size_t arglen, void *out, size_t cap)
{
	return call(km, opcode, nodeid, arg, arglen, out, cap, NULL);
}

/* ---- start, stop ------------------------------------------------------------- */

static int backing_open(void *ctx, struct e4f_session *s)
{
	struct kmodel *km = ctx;

	(void)s;
	/* BACKING_OPEN: only after INIT granted iomap (§5.1) */
	if (!km->iomap)
		return -EPERM;
	km->dev_id = 1;
	return (int)km->dev_id;
}

static void do_config(struct kmodel *km)
{
	struct e4f_iomap_config_in in = {
		.flags = E4F_IOMAP_CONFIG_ALL, .maxbytes = INT64_MAX,
		.cache_maxbytes = 262144,
	};
	struct e4f_iomap_config_out out;
	size_t n = 0;

	memset(&out, 0, sizeof(out));
	assert_int_equal(call(km, E4F_OP_IOMAP_CONFIG, 0, &in, sizeof(in),
			      &out, sizeof(out), &n), 0);
	assert_true(n <= sizeof(out));
	assert_int_equal(out.flags & ~E4F_IOMAP_CONFIG_ALL, 0);
	assert_true(out.s_uuid_len <= 16);
	assert_true(!out.s_pad[0] && !out.s_pad[1] && !out.s_pad[2]);
	if (out.flags & E4F_IOMAP_CONFIG_SID)
		assert_non_null(memchr(out.s_id, 0, sizeof(out.s_id)));
	if (out.flags & E4F_IOMAP_CONFIG_BLOCKSIZE) {
		assert_true(out.s_blocksize >= 512 &&
			    !(out.s_blocksize & (out.s_blocksize - 1)));
		km->blksize = out.s_blocksize;
	}
	if (out.flags & E4F_IOMAP_CONFIG_TIME)
		assert_true(out.s_time_gran >= 1 &&
			    out.s_time_gran <= 1000000000u &&
			    out.s_time_min < out.s_time_max);
	if (out.flags & E4F_IOMAP_CONFIG_MAXBYTES) {
		assert_true(out.s_maxbytes > 0);
		km->maxbytes = (uint64_t)out.s_maxbytes;
	}
	if ((out.flags & E4F_IOMAP_CONFIG_CACHE_MAXBYTES) &&
	    out.cache_maxbytes) {
		uint32_t c = out.cache_maxbytes;

		km->cache_maxbytes = c < 256 ? 256 : c > (2u << 20) ?
				     2u << 20 : c;
	}
}

void km_start(struct kmodel *km, struct e4_fs *fs, const char *image,
	      bool offer_iomap)
{
	struct e4f_session_config cfg = { .errors = E4F_ERRORS_CONTINUE };
	struct fuse_init_in in = {
		.major = FUSE_KERNEL_VERSION, .minor = E4F_IOMAP_PROTO_MINOR,
		.max_readahead = 131072,
		.flags = FUSE_ASYNC_READ | FUSE_INIT_EXT | FUSE_MAX_PAGES,
		.flags2 = offer_iomap ? (uint32_t)(E4F_INIT_IOMAP >> 32) : 0,
	};
	struct fuse_init_out out;
	struct stat st;
	int sv[2];

	memset(km, 0, sizeof(*km));
	km->offer_iomap = offer_iomap;
	km->blksize = KM_PAGE_SIZE;	/* a plain fuse mount's default */
	km->maxbytes = INT64_MAX;
	km->cache_maxbytes = 262144;
	km->backing = (struct e4f_iomap_backing){ backing_open, km };
	km->dev_fd = open(image, (e4_fs_writable(fs) ? O_RDWR : O_RDONLY) |
			  O_CLOEXEC);
	assert_true(km->dev_fd >= 0);
	assert_int_equal(fstat(km->dev_fd, &st), 0);
	km->dev_size = (uint64_t)st.st_size;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
				    sv), 0);
	km->kfd = sv[1];
	assert_int_equal(e4f_session_init(&km->s, fs, sv[0], &cfg), 0);
	km->s.iomap_backing = &km->backing;
	assert_int_equal(e4f_session_start(&km->s, 1), 0);

	memset(&out, 0, sizeof(out));
	assert_int_equal(call(km, FUSE_INIT, 0, &in, sizeof(in), &out,
			      sizeof(out), NULL), 0);
	assert_int_equal(out.major, FUSE_KERNEL_VERSION);
	km->minor = out.minor;
	km->iomap = offer_iomap && (out.flags & FUSE_INIT_EXT) &&
		    (out.flags2 & (uint32_t)(E4F_INIT_IOMAP >> 32));
	/* asked for only when offered; 7.99 only with it (§2.1) */
	if (!offer_iomap)
		assert_int_equal(out.flags2 & (E4F_INIT_IOMAP >> 32), 0);
	if (km->iomap)
		assert_int_equal(out.minor, E4F_IOMAP_PROTO_MINOR);
	else
		assert_true(out.minor < E4F_IOMAP_PROTO_MINOR);
	if (km->iomap)
		do_config(km);
}

void km_stop(struct kmodel *km)
{
	close(km->kfd);		/* the worker reads end of file: unmounted */
	assert_int_equal(e4f_session_join(&km->s), 0);
	e4f_session_destroy(&km->s);
	close(km->s.fd);
	close(km->dev_fd);
	for (unsigned i = 0; i < km->ninodes; i++) {
		km_pages_drop(&km->inodes[i], 0);
		free(km->inodes[i].pc.page);
		free(km->inodes[i].pc.dirty);
		free(km->inodes[i].read.rec);
	}
}

/* ---- inodes (§7) ---------------------------------------------------------------- */

struct km_inode *km_lookup(struct kmodel *km, const char *path, int *err)
{
	char name[256];
	uint64_t parent = 1;
	struct fuse_entry_out e;
	struct km_inode *ki;

	while (*path) {
		const char *slash = strchr(path, '/');
		size_t len = slash ? (size_t)(slash - path) : strlen(path);

		assert_true(len > 0 && len < sizeof(name));
		memcpy(name, path, len);
		name[len] = 0;
		*err = call(km, FUSE_LOOKUP, parent, name, len + 1, &e,
			    sizeof(e), NULL);
		if (*err)
			return NULL;
		parent = e.nodeid;
		path += len + (slash ? 1 : 0);
	}
	ki = inode_by_nodeid(km, parent);
	if (ki)
		return ki;	/* instantiated once: later flags change
				 * nothing */
	assert_true(km->ninodes < KM_MAX_INODES);
	ki = &km->inodes[km->ninodes++];
	memset(ki, 0, sizeof(*ki));
	ki->nodeid = parent;
	ki->attr_ino = e.attr.ino;
	ki->size = ki->disk_size = e.attr.size;
	ki->mode = e.attr.mode;
	ki->iomap = km->iomap && km->minor >= E4F_IOMAP_PROTO_MINOR &&
		    S_ISREG(e.attr.mode) &&
		    (e.attr.flags & (E4F_ATTR_EXCLUSIVE | E4F_ATTR_IOMAP)) ==
		    (E4F_ATTR_EXCLUSIVE | E4F_ATTR_IOMAP);
	/* the flags only ever come with the protocol that gives them */
	if (!km->iomap)
		assert_int_equal(e.attr.flags &
				 (E4F_ATTR_EXCLUSIVE | E4F_ATTR_IOMAP), 0);
	*err = 0;
	return ki;
}

/* ---- BEGIN, through the cache (§8.1, §12.4) -------------------------------------- */

/* A cached record an operation may use (§12.4): a file write takes no
 * hole unless it zeroes, direct and writeback I/O no delayed allocation. */
static bool cache_usable(uint32_t opflags, const struct e4f_iomap_io *hit)
{
	if (!(opflags & E4F_IOMAP_OP_FILE_WRITE))
		return true;
	if (hit->type == E4F_IOMAP_TYPE_HOLE)
		return opflags & (E4F_IOMAP_OP_ZERO | E4F_IOMAP_OP_UNSHARE);
	if (hit->type == E4F_IOMAP_TYPE_DELALLOC)
		return !(opflags & (E4F_IOMAP_OP_DIRECT |
				    E4F_IOMAP_OP_WRITEBACK));
	return true;
}

int km_begin(struct kmodel *km, struct km_inode *ki, uint32_t opflags,
	     uint64_t pos, uint64_t count, struct e4f_iomap_io *src,
	     struct e4f_iomap_io *dst)
{
	bool use_cache = !(opflags & (E4F_IOMAP_OP_ATOMIC |
				      E4F_IOMAP_OP_SWAPFILE));
	struct e4f_iomap_begin_in in = {
		.opflags = opflags, .attr_ino = ki->attr_ino, .pos = pos,
		.count = count,
	};
	const struct e4f_iomap_io *hit;

	assert_true(ki->iomap);
	for (int tries = 0; tries < 8; tries++) {
		struct e4f_iomap_begin_out out;
		size_t n = 0;
		int err;

		if (use_cache) {
			km_poll_notifications(km);
			/* the write half is always absent (e4fuse upserts
			 * none): writes are pure overwrites of the read
			 * half */
			hit = cache_find(&ki->read, pos);
			if (hit && cache_usable(opflags, hit)) {
				/* the iomap core's rule holds for cached
				 * records too: inline data is the tail */
				if (hit->type == E4F_IOMAP_TYPE_INLINE &&
				    io_end(hit) < ki->size)
					fail_msg("a cached inline mapping "
						 "[%llu, +%llu) short of EOF "
						 "%llu", (unsigned long long)
						 hit->offset,
						 (unsigned long long)
						 hit->length,
						 (unsigned long long)ki->size);
				km->st.cache_hits++;
				*src = *hit;
				if (dst)
					*dst = *hit;
				return 0;
			}
		}
		km->st.begins++;
		err = call(km, E4F_OP_IOMAP_BEGIN, ki->nodeid, &in, sizeof(in),
			   &out, sizeof(out), &n);
		if (err) {
			km->st.begin_errors++;
			km->last_error = err;
			return err;
		}
		assert_int_equal(n, sizeof(out));	/* fixed size */
		err = km_check_begin(km, ki, opflags, pos, &out);
		if (err)
			fail_msg("BEGIN reply at %llu rejected by the kernel's "
				 "checks (read type %u [%llu, +%llu) dev %u)",
				 (unsigned long long)pos, out.read.type,
				 (unsigned long long)out.read.offset,
				 (unsigned long long)out.read.length,
				 out.read.dev);
		if (out.read.type != E4F_IOMAP_TYPE_RETRY_CACHE) {
			*src = out.read;
			if (dst)
				*dst = (opflags & E4F_IOMAP_OP_FILE_WRITE) &&
				       out.write.type !=
				       E4F_IOMAP_TYPE_PURE_OVERWRITE ?
				       out.write : out.read;
			return 0;
		}
	}
	fail_msg("BEGIN: RETRY_CACHE without a cached mapping, 8 times");
	return -EIO;
}

static int begin(struct kmodel *km, struct km_inode *ki, uint32_t opflags,
		 uint64_t pos, uint64_t count, struct e4f_iomap_io *map)
{
	return km_begin(km, ki, opflags, pos, count, map, NULL);
}

void km_cache_inval(struct kmodel *km, struct km_inode *ki, uint64_t off,
		    uint64_t len)
{
	uint64_t b = km->blksize, start = off / b * b, end;

	km_poll_notifications(km);
	end = len == UINT64_MAX || len > UINT64_MAX - off - b ? UINT64_MAX :
	      (off + len + b - 1) / b * b;
	cache_punch(&ki->read, start, end);
}

/* ---- data ------------------------------------------------------------------------ */

/* FUSE_READ with fh 0 into the inline buffer (§10.9), then the bytes of
 * [pos, end) out of it. */
static int read_inline(struct kmodel *km, struct km_inode *ki,
		       const struct e4f_iomap_io *map, uint64_t pos,
		       uint64_t count, uint64_t end, uint8_t *dst)
{
	uint8_t *ibuf = calloc(1, map->length);
	struct fuse_read_in in = {
		.fh = 0, .offset = pos,
		.size = (uint32_t)(count < KM_READ_CHUNK ? count :
				   KM_READ_CHUNK),
	};
	size_t n = 0;
	int err;

	assert_non_null(ibuf);
	km->st.inline_reads++;
	err = call(km, FUSE_READ, ki->nodeid, &in, sizeof(in),
		   ibuf + (pos - map->offset), map->length - (pos - map->offset),
		   &n);
	if (!err && n == 0)
		err = -EIO;
	if (!err)
		memcpy(dst, ibuf + (pos - map->offset), end - pos);
	free(ibuf);
	return err;
}

/* Fill [pos, end) of @dst from @map as the kernel would. */
int km_fill(struct kmodel *km, struct km_inode *ki,
	    const struct e4f_iomap_io *map, uint64_t pos, uint64_t count,
	    uint64_t end, uint8_t *dst, bool direct)
{
	switch (map->type) {
	case E4F_IOMAP_TYPE_MAPPED:
		if (map->flags & E4F_IOMAP_F_NEW)
			break;
		assert_int_equal(pread(km->dev_fd, dst, end - pos,
				       (off_t)(map->addr + (pos - map->offset))),
				 (ssize_t)(end - pos));
		return 0;
	case E4F_IOMAP_TYPE_INLINE:
		return read_inline(km, ki, map, pos, count, end, dst);
	case E4F_IOMAP_TYPE_DELALLOC:
		if (direct)
			return -EIO;
		break;
	}
	memset(dst, 0, end - pos);	/* hole, unwritten, new */
	return 0;
}

static uint64_t round_up(uint64_t v, uint64_t b)
{
	return (v + b - 1) / b * b;
}

ssize_t km_read_buffered(struct kmodel *km, struct km_inode *ki,
			 uint64_t off, void *buf, size_t len)
{
	uint64_t bs = km->blksize, start, end, pos;
	uint8_t *pages;
	int err = 0;

	if (off >= ki->size)
		return 0;
	if (len > ki->size - off)
		len = (size_t)(ki->size - off);
	/* readahead reads whole blocks (folios) */
	start = off / bs * bs;
	end = round_up(off + len, bs);
	pages = malloc(end - start);
	assert_non_null(pages);
	for (pos = start; pos < end && !err;) {
		struct e4f_iomap_io map;
		uint64_t seg;

		err = begin(km, ki, 0, pos, end - pos, &map);
		if (err)
			break;
		seg = io_end(&map) < end ? io_end(&map) : end;
		err = km_fill(km, ki, &map, pos, end - pos, seg,
			   pages + (pos - start), false);
		pos = seg;
	}
	/* what the page cache holds wins (dirty data not yet written back) */
	for (pos = start; !err && pos < end; pos += bs) {
		uint64_t blk = pos / bs;

		if (blk < ki->pc.n && ki->pc.page[blk])
			memcpy(pages + (pos - start), ki->pc.page[blk], bs);
	}
	if (!err) {
		/* past EOF the page cache holds zeros */
		if (ki->size < end)
			memset(pages + (ki->size - start), 0, end - ki->size);
		memcpy(buf, pages + (off - start), len);
	}
	free(pages);
	return err ? err : (ssize_t)len;
}

ssize_t km_read_direct(struct kmodel *km, struct km_inode *ki, uint64_t off,
		       void *buf, size_t len)
{
	uint64_t pos, end;
	int err = 0;

	if (off % 512 || len % 512)
		return -EINVAL;
	if (off >= ki->size)
		return 0;
	/* dirty pages in the range are written back first */
	err = km_writeback(km, ki, off, off + len);
	if (err)
		return err;
	end = off + len < ki->size ? off + len : ki->size;
	for (pos = off; pos < end && !err;) {
		struct e4f_iomap_io map;
		uint64_t seg;

		err = begin(km, ki, E4F_IOMAP_OP_DIRECT, pos, end - pos, &map);
		if (err)
			break;
		seg = io_end(&map) < end ? io_end(&map) : end;
		err = km_fill(km, ki, &map, pos, end - pos, seg,
			   (uint8_t *)buf + (pos - off), true);
		pos = seg;
	}
	return err ? err : (ssize_t)(end - off);
}

static int open_file(struct kmodel *km, struct km_inode *ki, uint64_t *fh)
{
	struct fuse_open_in in = { .flags = O_RDONLY };
	struct fuse_open_out out;
	int err = call(km, FUSE_OPEN, ki->nodeid, &in, sizeof(in), &out,
		       sizeof(out), NULL);

	/* §7: the open of an iomap file fails with these */
	if (!err && ki->iomap)
		assert_int_equal(out.open_flags & (FOPEN_PASSTHROUGH |
						   FOPEN_STREAM |
						   FOPEN_NONSEEKABLE), 0);
	*fh = out.fh;
	return err;
}

static void release_file(struct kmodel *km, struct km_inode *ki, uint64_t fh)
{
	struct fuse_release_in in = { .fh = fh, .flags = O_RDONLY };

	assert_int_equal(call(km, FUSE_RELEASE, ki->nodeid, &in, sizeof(in),
			      NULL, 0, NULL), 0);
}

ssize_t km_read_classic(struct kmodel *km, struct km_inode *ki, uint64_t off,
			void *buf, size_t len)
{
	uint64_t fh;
	size_t done = 0;
	int err = open_file(km, ki, &fh);

	if (err)
		return err;
	while (done < len) {
		size_t want = len - done < KM_READ_CHUNK ? len - done :
			      KM_READ_CHUNK, n = 0;
		struct fuse_read_in in = {
			.fh = fh, .offset = off + done, .size = (uint32_t)want,
		};

		err = call(km, FUSE_READ, ki->nodeid, &in, sizeof(in),
			   (uint8_t *)buf + done, want, &n);
		if (err || n == 0)
			break;
		done += n;
	}
	release_file(km, ki, fh);
	return err ? err : (ssize_t)done;
}

/* ---- reports (§10.11) ------------------------------------------------------------- */

int km_fiemap(struct kmodel *km, struct km_inode *ki, struct km_extent *ext,
	      int max)
{
	uint64_t pos = 0;
	int n = 0;

	while (pos < ki->size) {
		struct e4f_iomap_io map;
		int err = begin(km, ki, E4F_IOMAP_OP_REPORT, pos,
				ki->size - pos, &map);

		if (err)
			return err;
		if (map.type != E4F_IOMAP_TYPE_HOLE) {
			if (n == max)
				return -E2BIG;
			ext[n++] = (struct km_extent){
				.logical = map.offset, .length = map.length,
				.physical = is_space(map.type) ? map.addr : 0,
				.unwritten = map.type ==
					     E4F_IOMAP_TYPE_UNWRITTEN,
				.inline_data = map.type ==
					       E4F_IOMAP_TYPE_INLINE,
			};
		}
		pos = io_end(&map);
	}
	return n;
}

int64_t km_seek(struct kmodel *km, struct km_inode *ki, uint64_t off,
		bool data)
{
	uint64_t pos = off;

	if (off >= ki->size)
		return -ENXIO;
	while (pos < ki->size) {
		struct e4f_iomap_io map;
		int err = begin(km, ki, E4F_IOMAP_OP_REPORT, pos,
				ki->size - pos, &map);
		bool is_data;

		if (err)
			return err;
		/* no page cache here: unwritten extents read as holes */
		is_data = map.type == E4F_IOMAP_TYPE_MAPPED ||
			  map.type == E4F_IOMAP_TYPE_INLINE;
		if (is_data == data)
			return (int64_t)pos;
		pos = io_end(&map);
	}
	return data ? -ENXIO : (int64_t)ki->size;
}

int64_t km_seek_classic(struct kmodel *km, struct km_inode *ki, uint64_t off,
			bool data)
{
	struct fuse_lseek_in in = {
		.offset = off, .whence = data ? SEEK_DATA : SEEK_HOLE,
	};
	struct fuse_lseek_out out;
	uint64_t fh;
	int err = open_file(km, ki, &fh);

	if (err)
		return err;
	in.fh = fh;
	err = call(km, FUSE_LSEEK, ki->nodeid, &in, sizeof(in), &out,
		   sizeof(out), NULL);
	release_file(km, ki, fh);
	return err ? err : (int64_t)out.offset;
}

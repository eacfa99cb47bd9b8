/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness body: fuse-iomap's BEGIN, END and IOEND on a mutated extent
 * tree, without a kernel.  The input is a splice (splice.h) of /frag's
 * extent root or leaf; the image is served by a session that negotiated
 * iomap (the backing device stood in for), /frag is looked up and swept
 * with IOMAP_BEGIN (buffered, direct and report operations in turn, each
 * from where the last mapping ended), then at the positions the input's
 * tail gives.  Then the same image, made writable in memory, gets the
 * write half's sequences: for each 8 bytes of the tail (a fixed few
 * without one) a BEGIN for a write (buffered, direct, writeback, zeroing
 * or a fault), the END of a write as long or as short as the input says
 * with the mapping it got, and the IOEND of what was written.  Every reply
 * and notification is judged with the kernel's rules
 * (tests/iomap/iomap_rules.c); a reply the kernel would reject, a mapping
 * outside the image, a size that went backwards at IOEND, or more than
 * one reply aborts, so the fuzzer reports it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../iomap/iomap_rules.h"
#include "e4/memdev.h"
#include "e4/write.h"
#include "fuse/fuse_iomap.h"
#include "fuse/iomap.h"
#include "fuse/proto.h"
#include "fuse/session.h"
#include "iomap_fuzz.h"
#include "resource.h"
#include "splice.h"

#define MAX_BEGINS 256
#define MAX_TAIL_BEGINS 16
#define MAX_WRITE_OPS 24
#define LOG_MAX (8u << 20)

struct reply {
	uint64_t unique;
	unsigned count;
	int error;
	uint8_t data[E4F_REPLY_BUFSIZE];
	size_t len;
};

static int capture(void *ctx, const struct iovec *iov, int iovcnt)
{
	struct reply *r = ctx;
	struct fuse_out_header oh;
	size_t total = 0;

	/* proto.c sends the header alone in the first vector */
	if (iovcnt < 1 || iov[0].iov_len != sizeof(oh))
		abort();
	memcpy(&oh, iov[0].iov_base, sizeof(oh));
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (oh.len != total || oh.error > 0 || oh.error <= -512 ||
	    (oh.error && total != sizeof(oh)) || oh.unique != r->unique ||
	    ++r->count > 1 || total - sizeof(oh) > sizeof(r->data))
		abort();
	r->error = oh.error;
	r->len = 0;
	for (int i = 1; i < iovcnt; i++) {
		memcpy(r->data + r->len, iov[i].iov_base, iov[i].iov_len);
		r->len += iov[i].iov_len;
	}
	return 0;
}

struct run {
	struct e4f_session s;
	struct e4f_iomap_backing backing;
	struct iomap_rules k;
	int kfd;			/* the kernel's end: notifications */
	uint64_t unique;
	uint64_t nodeid;
	uint8_t *scratch;
	struct reply *r;
};

static int backing_open(void *ctx, struct e4f_session *s)
{
	(void)ctx;
	(void)s;
	return 1;
}

static void quiet(void *ctx, enum e4_log_level level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

/* Judge every notification waiting (upserts and invalidations). */
static void drain(struct run *run)
{
	uint8_t buf[256];
	struct fuse_out_header oh;
	ssize_t n;

	while ((n = recv(run->kfd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if ((size_t)n < sizeof(oh))
			abort();
		memcpy(&oh, buf, sizeof(oh));
		if (oh.len != (size_t)n || oh.unique != 0)
			abort();
		if (oh.error == E4F_NOTIFY_IOMAP_UPSERT_MAPPINGS) {
			struct e4f_iomap_upsert_mappings_out u;

			if ((size_t)n != sizeof(oh) + sizeof(u))
				abort();
			memcpy(&u, buf + sizeof(oh), sizeof(u));
			if (u.nodeid != run->nodeid ||
			    iomap_rules_upsert_half(&run->k, &u.read, false) ||
			    iomap_rules_upsert_half(&run->k, &u.write, true))
				abort();
			run->k.has_cache = true;
		} else if (oh.error == E4F_NOTIFY_IOMAP_INVAL_MAPPINGS) {
			struct e4f_iomap_inval_mappings_out v;

			if ((size_t)n != sizeof(oh) + sizeof(v))
				abort();
			memcpy(&v, buf + sizeof(oh), sizeof(v));
			if (v.nodeid != run->nodeid ||
			    iomap_rules_inval_half(&run->k, &v.read) ||
			    iomap_rules_inval_half(&run->k, &v.write))
				abort();
		}
	}
}

/* Send a request; the reply lands in run->r. */
static void request(struct run *run, uint32_t opcode, uint64_t nodeid,
		    const void *arg, size_t arglen)
{
	struct fuse_in_header h = {
		.len = (uint32_t)(sizeof(h) + arglen), .opcode = opcode,
		.unique = run->unique += 2, .nodeid = nodeid,
	};
	struct e4f_sink sink = { .send = capture, .ctx = run->r };
	/* an exact-size copy: the sanitizers see any read past the end */
	uint8_t *req = malloc(h.len);

	if (!req)
		abort();
	memcpy(req, &h, sizeof(h));
	memcpy(req + sizeof(h), arg, arglen);
	run->r->unique = h.unique;
	run->r->count = 0;
	e4_res_begin(run->s.fs, NULL, "FUSE request (opcode)", opcode);
	e4f_process_request(&run->s, req, h.len, &sink, run->scratch);
	e4_res_end(NULL);
	free(req);
	if (run->r->count != 1)
		abort();
	drain(run);
}

static bool is_space(uint16_t type)
{
	return type == E4F_IOMAP_TYPE_MAPPED ||
	       type == E4F_IOMAP_TYPE_UNWRITTEN;
}

/* One BEGIN for [pos, pos + count): 0 and *@out, or the server's error.
 * A reply the kernel would reject aborts. */
static int begin_out(struct run *run, uint32_t opflags, uint64_t pos,
		     uint64_t count, struct e4f_iomap_begin_out *out)
{
	struct e4f_iomap_begin_in in = {
		.opflags = opflags, .attr_ino = run->nodeid, .pos = pos,
		.count = count,
	};
	const struct e4f_iomap_io *half[2] = { &out->read, &out->write };

	request(run, E4F_OP_IOMAP_BEGIN, run->nodeid, &in, sizeof(in));
	if (run->r->error)
		return run->r->error;
	if (run->r->len != sizeof(*out))
		abort();
	memcpy(out, run->r->data, sizeof(*out));
	if (iomap_rules_begin(&run->k, opflags, pos, out))
		abort();
	/* inside the device the kernel was given, and on a sector: the
	 * block layer drops the address's low 9 bits */
	for (int i = 0; i < 2; i++)
		if (is_space(half[i]->type) &&
		    (half[i]->addr + half[i]->length > run->k.dev_size ||
		     half[i]->addr % 512))
			abort();
	return 0;
}

/* One BEGIN at @pos; the end of the mapping, or @pos + a block after an
 * error. */
static uint64_t begin(struct run *run, uint32_t opflags, uint64_t pos)
{
	struct e4f_iomap_begin_out out;

	if (begin_out(run, opflags, pos,
		      run->k.size > pos ? run->k.size - pos : 4096, &out))
		return pos + run->k.blksize;
	return out.read.offset + out.read.length;
}

static bool setup(struct run *run, struct e4_fs *fs)
{
	struct e4f_session_config cfg = { .errors = E4F_ERRORS_CONTINUE };
	struct fuse_init_in init = {
		.major = FUSE_KERNEL_VERSION, .minor = E4F_IOMAP_PROTO_MINOR,
		.max_readahead = 131072, .flags = FUSE_INIT_EXT,
		.flags2 = (uint32_t)(E4F_INIT_IOMAP >> 32),
	};
	struct e4f_iomap_config_in config = {
		.flags = E4F_IOMAP_CONFIG_ALL, .maxbytes = INT64_MAX,
		.cache_maxbytes = 262144,
	};
	struct e4f_iomap_config_out cout;
	struct fuse_entry_out e;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return false;
	run->kfd = sv[1];
	if (e4f_session_init(&run->s, fs, sv[0], &cfg) < 0) {
		close(sv[0]);
		close(sv[1]);
		run->kfd = -1;
		return false;
	}
	run->backing = (struct e4f_iomap_backing){ backing_open, NULL };
	run->s.iomap_backing = &run->backing;
	request(run, FUSE_INIT, 0, &init, sizeof(init));
	if (!run->s.iomap)
		return false;	/* e.g. a replayed journal in the image */
	request(run, E4F_OP_IOMAP_CONFIG, 0, &config, sizeof(config));
	if (run->r->error || run->r->len > sizeof(cout))
		abort();
	memset(&cout, 0, sizeof(cout));
	memcpy(&cout, run->r->data, run->r->len);
	if (cout.flags & ~E4F_IOMAP_CONFIG_ALL || cout.s_uuid_len > 16 ||
	    !cout.s_blocksize || (cout.s_blocksize & (cout.s_blocksize - 1)))
		abort();
	run->k.blksize = cout.s_blocksize;
	run->k.maxbytes = (uint64_t)cout.s_maxbytes;
	run->k.dev_id = 1;
	request(run, FUSE_LOOKUP, 1, "frag", 5);
	if (run->r->error)
		return false;
	if (run->r->len != sizeof(e))
		abort();
	memcpy(&e, run->r->data, sizeof(e));
	run->nodeid = e.nodeid;
	run->k.size = e.attr.size;
	return true;
}

/*
 * One write of the sequence, from 8 input bytes: the operation (byte 0),
 * its length in blocks (byte 1's low 6 bits) and how much of it was
 * written (its top 2: none, a third, two thirds, all), the position
 * (bytes 2-7, within the file and 4 MiB past it); BEGIN, END, IOEND as
 * the kernel would send them.
 */
static void write_one(struct run *run, uint64_t v)
{
	static const uint32_t ops[] = {
		E4F_IOMAP_OP_WRITE, E4F_IOMAP_OP_WRITE | E4F_IOMAP_OP_DIRECT,
		E4F_IOMAP_OP_WRITEBACK, E4F_IOMAP_OP_ZERO,
		E4F_IOMAP_OP_WRITE | E4F_IOMAP_OP_FAULT,
	};
	uint32_t opflags = ops[(v & 0xff) % 5];
	uint64_t count = (((v >> 8) & 0x3f) + 1) * run->k.blksize;
	uint64_t pos = (v >> 16) % (run->k.size + (4u << 20));
	struct e4f_iomap_begin_out out;
	const struct e4f_iomap_io *map;
	struct e4f_iomap_end_in end;
	struct e4f_iomap_ioend_in ioend;
	struct e4f_iomap_ioend_out newsize;
	uint64_t written;

	if (begin_out(run, opflags, pos, count, &out))
		return;
	map = out.write.type == E4F_IOMAP_TYPE_PURE_OVERWRITE ? &out.read :
	      &out.write;
	if (map->offset + map->length - pos < count)
		count = map->offset + map->length - pos;
	written = count * ((v >> 14) & 3) / 3;
	memset(&end, 0, sizeof(end));
	end.opflags = opflags;
	end.attr_ino = run->nodeid;
	end.pos = pos;
	end.count = count;
	end.written = (int64_t)written;
	end.map = *map;
	if (pos + written > run->k.size)
		end.map.flags |= E4F_IOMAP_F_SIZE_CHANGED;
	request(run, E4F_OP_IOMAP_END, run->nodeid, &end, sizeof(end));
	if (!written || map->type == E4F_IOMAP_TYPE_INLINE ||
	    (opflags & E4F_IOMAP_OP_ZERO))
		return;
	memset(&ioend, 0, sizeof(ioend));
	ioend.flags = (opflags & E4F_IOMAP_OP_DIRECT) ?
		      E4F_IOMAP_IOEND_DIRECT : E4F_IOMAP_IOEND_WRITEBACK;
	if (map->type == E4F_IOMAP_TYPE_UNWRITTEN)
		ioend.flags |= E4F_IOMAP_IOEND_UNWRITTEN;
	if (pos + written > run->k.size)
		ioend.flags |= E4F_IOMAP_IOEND_APPEND;
	ioend.attr_ino = run->nodeid;
	ioend.pos = pos;
	ioend.written = written;
	ioend.new_addr = E4F_IOMAP_NULL_ADDR;
	request(run, E4F_OP_IOMAP_IOEND, run->nodeid, &ioend, sizeof(ioend));
	if (run->r->error)
		return;
	if (run->r->len != sizeof(newsize))
		abort();
	memcpy(&newsize, run->r->data, sizeof(newsize));
	/* the size persisted covers the write, and never shrinks */
	if (((ioend.flags & E4F_IOMAP_IOEND_APPEND) &&
	     newsize.newsize < pos + written) || newsize.newsize < run->k.size)
		abort();
	run->k.size = newsize.newsize;
}

static void run_close(struct run *run)
{
	if (run->kfd >= 0) {
		e4f_session_destroy(&run->s);
		close(run->s.fd);
		close(run->kfd);
		run->kfd = -1;
	}
}

/* The write half on the image made writable in memory. */
static void write_sequences(struct run *run, const uint8_t *img,
			    size_t img_size, const uint8_t *tail, size_t len)
{
	static const uint64_t fixed[] = {
		0x0000000000004000ull, 0x0000000001001f01ull,
		0x0000100000008702ull, 0x000000000000c003ull,
		0x0000000000ffc004ull,
	};
	struct e4_memdev_opts mo = { .log_max = LOG_MAX };
	struct e4_open_opts o = { .log = quiet, .cache_bytes = 256u << 10 };
	struct e4_memdev *md;
	struct e4_dev *dev;
	struct e4_fs *fs;
	int err;

	if (e4_memdev_create(img, img_size, &mo, &md, &dev) < 0)
		return;
	e4_res_begin(NULL, dev, "open", 0);
	err = e4_fs_open(dev, &o, &fs);
	e4_res_end(err < 0 ? NULL : fs);
	if (err < 0) {
		e4_dev_close(dev);
		e4_memdev_free(md);
		return;
	}
	e4_res_begin(fs, NULL, "begin_write", 0);
	err = e4_fs_begin_write(fs, NULL);
	e4_res_end(NULL);
	memset(&run->s, 0, sizeof(run->s));
	memset(&run->k, 0, sizeof(run->k));
	run->k.dev_size = img_size;
	run->unique = 0;
	run->kfd = -1;
	if (err == 0 && setup(run, fs)) {
		if (len < 8) {
			for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]);
			     i++)
				write_one(run, fixed[i]);
		}
		for (unsigned i = 0; i < MAX_WRITE_OPS && len >= 8;
		     i++, tail += 8, len -= 8) {
			uint64_t v;

			memcpy(&v, tail, 8);
			write_one(run, v);
		}
	}
	run_close(run);
	if (err == 0) {
		e4_res_begin(fs, NULL, "end_write", 0);
		(void)e4_fs_end_write(fs);
		e4_res_end(NULL);
	}
	e4_fs_close(fs);
	e4_memdev_free(md);
}

int e4_fuzz_iomap(const uint8_t *data, size_t size)
{
	static const uint32_t ops[] = {
		0, E4F_IOMAP_OP_DIRECT, E4F_IOMAP_OP_REPORT,
	};
	struct e4_open_opts o = { .read_only = true, .log = quiet,
				  .cache_bytes = 256u << 10 };
	struct run run = { .unique = 0 };
	size_t used = 0, img_size, tail;
	const uint8_t *img = e4_fuzz_splice_image(E4_SPLICE_EXTENT, data, size,
						  &used, &img_size);
	struct e4_dev *dev;
	struct e4_fs *fs;
	int err;

	if (!img || e4_dev_open_mem(img, img_size, &dev) < 0)
		return 0;
	e4_res_begin(NULL, dev, "open", 0);
	err = e4_fs_open(dev, &o, &fs);
	e4_res_end(err < 0 ? NULL : fs);
	if (err < 0) {
		e4_dev_close(dev);
		return 0;
	}
	run.scratch = malloc(E4F_REPLY_BUFSIZE);
	run.r = malloc(sizeof(*run.r));
	run.k.dev_size = img_size;
	run.kfd = -1;
	tail = used;
	if (run.scratch && run.r && setup(&run, fs)) {
		uint64_t pos = 0;

		for (unsigned i = 0; i < MAX_BEGINS && pos < run.k.size; i++)
			pos = begin(&run, ops[i % 3], pos);
		for (unsigned i = 0; i < MAX_TAIL_BEGINS &&
		     used + 8 <= size; i++, used += 8) {
			uint64_t at;

			memcpy(&at, data + used, 8);
			(void)begin(&run, ops[i % 3], at % (run.k.size + 65536));
		}
	}
	run_close(&run);
	e4_fs_close(fs);
	if (run.scratch && run.r)
		write_sequences(&run, img, img_size, data + tail, size - tail);
	free(run.scratch);
	free(run.r);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Zero-copy READ replies (src/fuse/splice.c) without a kernel: the
 * session's /dev/fuse is a pipe here, so what the engine splices into it
 * is read back and compared with the files the image was made from.
 * Checks INIT's max_pages (what the pipe holds with the header), spliced
 * replies of a many-page file (aligned and not, across the end of a file
 * whose size is not a multiple of the block) and of a sparse one (holes
 * from the page of zeros), that short READs, runs outside the file
 * system's part of the image, replies larger than the pipe and -o
 * nosplice are copied, and that a
 * descriptor refusing the splice turns splicing off with the reply
 * copied instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuse/proto.h"
#include "fuse/session.h"
#include "fuse/splice.h"
#include "testutil.h"

static char *img;
static struct e4_fs *fs;
static struct e4f_session sess;
static struct e4f_splice *worker;
static uint8_t *scratch;
static int dev[2];			/* the session's "/dev/fuse" */
static int image_fd;
static char *big, *sparse;		/* what the files hold */
static size_t big_size, sparse_size;
static uint64_t big_node, sparse_node;
static uint64_t next_unique = 2;

/* replies that came through the sink (copied) */
static uint8_t reply[E4F_REPLY_BUFSIZE + 64];
static size_t reply_len;
static int copied;

static int capture(void *ctx, const struct iovec *iov, int iovcnt)
{
	(void)ctx;
	reply_len = tu_gather(reply, sizeof(reply), iov, iovcnt);
	copied++;
	return 0;
}

static struct e4f_sink sink = { .send = capture };

static void send_req(struct e4f_session *s, uint32_t opcode, uint64_t node,
		     const void *arg, size_t arglen)
{
	uint8_t buf[512];
	struct fuse_in_header h = {
		.len = (uint32_t)(sizeof(h) + arglen), .opcode = opcode,
		.unique = next_unique += 2, .nodeid = node,
	};

	assert_true(h.len <= sizeof(buf));
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), arg, arglen);
	assert_int_equal(e4f_process_request(s, buf, h.len, &sink, scratch),
			 0);
}

static struct fuse_init_out init(struct e4f_session *s)
{
	struct fuse_init_in in = {
		.major = 7, .minor = 45, .max_readahead = 131072,
		.flags = FUSE_ASYNC_READ | FUSE_MAX_PAGES | FUSE_INIT_EXT,
	};
	struct fuse_init_out out;

	copied = 0;
	send_req(s, FUSE_INIT, 0, &in, sizeof(in));
	assert_int_equal(copied, 1);
	assert_int_equal(reply_len, sizeof(struct fuse_out_header) +
			 sizeof(out));
	memcpy(&out, reply + sizeof(struct fuse_out_header), sizeof(out));
	return out;
}

static uint64_t lookup(const char *name)
{
	struct fuse_entry_out e;

	send_req(&sess, FUSE_LOOKUP, 1, name, strlen(name) + 1);
	assert_int_equal(reply_len, sizeof(struct fuse_out_header) +
			 sizeof(e));
	memcpy(&e, reply + sizeof(struct fuse_out_header), sizeof(e));
	return e.nodeid;
}

/* Everything in the pipe, at most @max bytes (it is non-blocking). */
static size_t drain_dev(uint8_t *buf, size_t max)
{
	size_t got = 0;
	ssize_t n;

	while (got < max && (n = read(dev[0], buf + got, max - got)) > 0)
		got += (size_t)n;
	return got;
}

enum way { SPLICED, COPIED };

/* READ @size at @off of @node (bytes @want, @want_size long): the reply
 * came the way said, whole, and holds the file's bytes. */
static void read_check(uint64_t node, const char *want, size_t want_size,
		       uint64_t off, uint32_t size, enum way way)
{
	struct fuse_read_in in = { .offset = off, .size = size };
	unsigned long spliced = atomic_load(&sess.splice.spliced);
	size_t n = off >= want_size ? 0 :
		   want_size - off < size ? want_size - (size_t)off : size;
	static uint8_t got[E4F_REPLY_BUFSIZE + 64];
	struct fuse_out_header oh;
	size_t len;

	copied = 0;
	send_req(&sess, FUSE_READ, node, &in, sizeof(in));
	if (way == SPLICED) {
		assert_int_equal(copied, 0);
		assert_int_equal(atomic_load(&sess.splice.spliced),
				 spliced + 1);
		len = drain_dev(got, sizeof(got));
	} else {
		assert_int_equal(copied, 1);
		assert_int_equal(atomic_load(&sess.splice.spliced), spliced);
		assert_int_equal(drain_dev(got, sizeof(got)), 0);
		memcpy(got, reply, reply_len);
		len = reply_len;
	}
	assert_int_equal(len, sizeof(oh) + n);
	memcpy(&oh, got, sizeof(oh));
	assert_int_equal(oh.len, len);
	assert_int_equal(oh.error, 0);
	assert_int_equal(oh.unique, next_unique);
	assert_memory_equal(got + sizeof(oh), want + off, n);
}

static int setup(void **state)
{
	(void)state;
	char tree[4096];

	snprintf(tree, sizeof(tree), "%s/tree", tu_tmpdir());
	/* big: 171 blocks and a part; sparse: data, a hole, data, and a
	 * hole to the end */
	tu_sh("mkdir -p %s && head -c 700001 /dev/urandom > %s/big && "
	      "truncate -s 3M %s/sparse && "
	      "head -c 100000 /dev/urandom | dd of=%s/sparse conv=notrunc "
	      "status=none && head -c 65536 /dev/urandom | dd of=%s/sparse "
	      "bs=4096 seek=300 conv=notrunc status=none",
	      tree, tree, tree, tree, tree);
	img = tu_mkfs("splice.img", "-t ext4 -b 4096", tree, "16M");
	big = tu_slurp(tu_msg("%s/big", tree), &big_size);
	sparse = tu_slurp(tu_msg("%s/sparse", tree), &sparse_size);
	assert_int_equal(big_size, 700001);
	assert_int_equal(sparse_size, 3u << 20);
	assert_int_equal(tu_open(img, &fs), 0);

	image_fd = open(img, O_RDONLY | O_CLOEXEC);
	assert_true(image_fd >= 0);
	assert_int_equal(pipe2(dev, O_NONBLOCK | O_CLOEXEC), 0);
	/* room for the largest reply: 256 slots, as the worker's pipe */
	assert_true(fcntl(dev[1], F_SETPIPE_SZ, (int)E4F_MAX_IO) > 0);
	scratch = malloc(E4F_REPLY_BUFSIZE);
	assert_non_null(scratch);

	struct e4f_session_config cfg = { .splice = true };

	assert_int_equal(e4f_session_init(&sess, fs, dev[1], &cfg), 0);
	sess.splice_src = (struct e4f_splice_source){
		.fd = image_fd, .lo = 0, .hi = 16u << 20,
	};
	e4f_splice_setup(&sess);
	assert_true(sess.splice.on);
	worker = e4f_splice_open(&sess);
	assert_non_null(worker);
	sink.splice = worker;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	e4f_splice_close(worker);
	e4f_session_destroy(&sess);
	tu_close(fs);
	close(dev[0]);
	close(dev[1]);
	close(image_fd);
	free(scratch);
	free(big);
	free(sparse);
	free(img);
	return 0;
}

static void test_init_max_pages(void **state)
{
	(void)state;
	struct fuse_init_out out = init(&sess);

	/* the header takes one slot of the pipe */
	assert_int_equal(out.max_pages, sess.splice.pipe_pages - 1 <
			 E4F_MAX_PAGES ? sess.splice.pipe_pages - 1 :
			 E4F_MAX_PAGES);
	assert_true(out.max_pages >= 1);
	big_node = lookup("big");
	sparse_node = lookup("sparse");
}

static void test_spliced(void **state)
{
	(void)state;
	uint32_t most = (sess.splice.pipe_pages - 1) * 4096u;

	read_check(big_node, big, big_size, 0, 262144, SPLICED);
	/* not page aligned: one more page touched */
	read_check(big_node, big, big_size, 4608, 200000, SPLICED);
	/* across the end of the file: clamped to it */
	read_check(big_node, big, big_size, 600000, 262144, SPLICED);
	read_check(big_node, big, big_size, 0, most, SPLICED);
	/* as much as the pipe holds: data and a hole, page aligned */
	read_check(sparse_node, sparse, sparse_size, 4096, most, SPLICED);
	/* not aligned, it touches one page more than the pipe holds */
	read_check(sparse_node, sparse, sparse_size, 4608, most,
		   sess.splice.pipe_pages > 256 ? SPLICED : COPIED);
}

static void test_holes(void **state)
{
	(void)state;
	struct e4_inode in;
	struct e4_range rg;

	/* the image keeps the holes (else this would not test them) */
	assert_int_equal(e4_inode_read(fs, (uint32_t)sparse_node, &in), 0);
	assert_int_equal(e4_map_range(fs, &in, 200000, 4096, &rg), 0);
	assert_int_equal(rg.kind, E4_MAP_HOLE);
	read_check(sparse_node, sparse, sparse_size, 0, 524288, SPLICED);
	read_check(sparse_node, sparse, sparse_size, 1200000, 262144,
		   SPLICED);
	/* all hole */
	read_check(sparse_node, sparse, sparse_size, 2u << 20, 524288,
		   SPLICED);
}

static void test_copied(void **state)
{
	(void)state;
	struct e4f_splice_source keep = sess.splice_src;

	/* short: not worth a splice */
	read_check(big_node, big, big_size, 8192, E4F_SPLICE_MIN - 1, COPIED);
	read_check(big_node, big, big_size, 700000, 262144, COPIED);
	read_check(big_node, big, big_size, 800000, 262144, COPIED);
	/* data outside the file system's part of the image: copied (the
	 * copy path reads through the device and its own bounds) */
	sess.splice_src.hi = 4096;
	read_check(big_node, big, big_size, 0, 262144, COPIED);
	/* a run that starts inside and ends outside */
	struct e4_inode in;
	struct e4_range rg;

	assert_int_equal(e4_inode_read(fs, (uint32_t)big_node, &in), 0);
	assert_int_equal(e4_map_range(fs, &in, 0, 262144, &rg), 0);
	assert_int_equal(rg.kind, E4_MAP_MAPPED);
	assert_true(rg.length >= 262144);
	sess.splice_src.hi = rg.dev_offset + 8192;
	read_check(big_node, big, big_size, 0, 262144, COPIED);
	read_check(big_node, big, big_size, 0, 8192 + E4F_SPLICE_MIN, COPIED);
	sess.splice_src.hi = rg.dev_offset + 8192 + E4F_SPLICE_MIN;
	read_check(big_node, big, big_size, 8192, E4F_SPLICE_MIN, SPLICED);
	sess.splice_src = keep;
	read_check(big_node, big, big_size, 0, 262144, SPLICED);
}

/* Last: it turns splicing off for the session. */
static void test_refused(void **state)
{
	(void)state;

	/* a "/dev/fuse" that cannot be written */
	sess.fd = dev[0];
	read_check(big_node, big, big_size, 0, 262144, COPIED);
	assert_true(atomic_load(&sess.splice.broken));
	sess.fd = dev[1];
	read_check(big_node, big, big_size, 0, 262144, COPIED);
}

static void test_nosplice(void **state)
{
	(void)state;
	struct e4f_session s2;
	struct e4f_session_config cfg = { .splice = false };

	assert_int_equal(e4f_session_init(&s2, fs, dev[1], &cfg), 0);
	s2.splice_src = sess.splice_src;
	e4f_splice_setup(&s2);
	assert_false(s2.splice.on);
	assert_null(e4f_splice_open(&s2));
	assert_int_equal(init(&s2).max_pages, E4F_MAX_PAGES);
	e4f_session_destroy(&s2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_max_pages),
		cmocka_unit_test(test_spliced),
		cmocka_unit_test(test_holes),
		cmocka_unit_test(test_copied),
		cmocka_unit_test(test_nosplice),
		cmocka_unit_test(test_refused),
	};

	return tu_result(cmocka_run_group_tests(tests, setup, teardown));
}

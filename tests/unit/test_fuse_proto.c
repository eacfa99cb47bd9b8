/* SPDX-License-Identifier: MIT */
/*
 * The FUSE request engine without a kernel: requests built in memory go
 * through e4f_process_request and the replies are captured.  Checks the
 * header and payload validation (every length the kernel sends), INIT
 * negotiation, node id mapping (1 <-> inode 2), lookup counts and FORGET,
 * EROFS for modifying requests, the basic read-only operations, names
 * and node ids of inodes no name may hold (reserved, internal, EA inodes),
 * -o lost_found's virtual directory, and the same engine serving
 * requests laid out in a FUSE-over-io_uring ring entry.
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
#include <sys/stat.h>

#include "e4/format.h"
#include "fuse/proto.h"
#include "fuse/session.h"
#include "fuse/uring.h"
#include "testutil.h"

static char *img;
static struct e4_fs *fs;
static struct e4f_session sess;
static struct e4f_session *cur = &sess;	/* where requests go */
static uint8_t *scratch;
static uint64_t next_unique = 2;

/* the last reply */
static uint8_t reply[E4F_REPLY_BUFSIZE + 64];
static size_t reply_len;
static int replies;

static int capture(void *ctx, const struct iovec *iov, int iovcnt)
{
	(void)ctx;
	reply_len = tu_gather(reply, sizeof(reply), iov, iovcnt);
	replies++;
	return 0;
}

static const struct e4f_sink sink = { .send = capture };

/* Send opcode/nodeid with @arg as request @unique; returns the reply's
 * error (or 1 if none). */
static int send_req_as(uint64_t unique, uint32_t opcode, uint64_t nodeid,
		       const void *arg, size_t arglen)
{
	uint8_t buf[4096];
	struct fuse_in_header h = {
		.len = (uint32_t)(sizeof(h) + arglen), .opcode = opcode,
		.unique = unique, .nodeid = nodeid,
	};

	assert_true(sizeof(h) + arglen <= sizeof(buf));
	memcpy(buf, &h, sizeof(h));
	if (arglen)
		memcpy(buf + sizeof(h), arg, arglen);
	int before = replies;

	assert_int_equal(e4f_process_request(cur, buf, h.len, &sink,
					     scratch), 0);
	if (replies == before)
		return 1;
	struct fuse_out_header oh;

	memcpy(&oh, reply, sizeof(oh));
	assert_int_equal(oh.len, reply_len);
	assert_int_equal(oh.unique, h.unique);
	if (oh.error)
		assert_int_equal(reply_len, sizeof(oh));
	return oh.error;
}

static int send_req(uint32_t opcode, uint64_t nodeid, const void *arg,
		    size_t arglen)
{
	return send_req_as(next_unique += 2, opcode, nodeid, arg, arglen);
}

static const void *payload(void)
{
	return reply + sizeof(struct fuse_out_header);
}

static size_t payload_len(void)
{
	return reply_len - sizeof(struct fuse_out_header);
}

static int lookup(uint64_t parent, const char *name, struct fuse_entry_out *e)
{
	int err = send_req(FUSE_LOOKUP, parent, name, strlen(name) + 1);

	if (err == 0) {
		assert_int_equal(payload_len(), sizeof(*e));
		memcpy(e, payload(), sizeof(*e));
	}
	return err;
}

/*
 * /bad holds names no directory may hold, as a hostile image would: the
 * reserved inodes 1, 3, 7 (resize) and 8 (journal), the orphan file and an
 * EA inode (a file turned into one by its flag), next to a good file.
 */
static uint32_t orphan_ino, ea_ino, bad_ino;

static void make_reserved_names(const char *image)
{
	orphan_ino = tu_peek_le32(image, 1024 + E4_SB_ORPHAN_FILE_INUM);
	assert_true(orphan_ino >= 11);
	tu_debugfs(image, "ln <1> /bad/one");
	tu_debugfs(image, "ln <3> /bad/three");
	tu_debugfs(image, "ln <7> /bad/resize");
	tu_debugfs(image, "ln <8> /bad/journal");
	tu_debugfs(image, tu_msg("ln <%u> /bad/orphan", orphan_ino));
	tu_debugfs(image, "sif /bad/eaval flags 0x280000");
	ea_ino = tu_ino_of(image, "/bad/eaval");
	bad_ino = tu_ino_of(image, "/bad");
}

/* INTERRUPT for request @target (sent as the kernel does, target | 1):
 * never answered. */
static void interrupt(uint64_t target)
{
	struct fuse_interrupt_in ii = { .unique = target };
	int before = replies;

	assert_int_equal(send_req_as(target | 1, FUSE_INTERRUPT, 0, &ii,
				     sizeof(ii)), 1);
	assert_int_equal(replies, before);
}

/* READDIR of the root as request @unique (never interrupted: the kernel's
 * ext4 never fails getdents with EINTR): 0. */
static int readdir_as(uint64_t unique)
{
	struct fuse_read_in rd = { .offset = 0, .size = 4096 };

	return send_req_as(unique, FUSE_READDIR, 1, &rd, sizeof(rd));
}

/*
 * Walk the READDIRPLUS reply just received: the number of entries, and in
 * *with_node those that carry a node id (attributes and a reference), the
 * name of the last of them copied to @named (256 bytes) if not NULL.
 */
static size_t direntplus_count(size_t *with_node, char *named)
{
	const uint8_t *p = payload();
	size_t left = payload_len(), names = 0;

	*with_node = 0;
	while (left >= FUSE_NAME_OFFSET_DIRENTPLUS) {
		struct fuse_direntplus dp;

		memcpy(&dp, p, sizeof(dp));
		size_t rec = FUSE_DIRENTPLUS_SIZE(&dp);

		assert_true(rec <= left);
		assert_true(dp.dirent.namelen < 256);
		names++;
		if (dp.entry_out.nodeid) {
			++*with_node;
			if (named) {
				memcpy(named, p + FUSE_NAME_OFFSET_DIRENTPLUS,
				       dp.dirent.namelen);
				named[dp.dirent.namelen] = '\0';
			}
		}
		p += rec;
		left -= rec;
	}
	assert_int_equal(left, 0);
	return names;
}

static int setup(void **state)
{
	(void)state;
	char tree[4096];

	snprintf(tree, sizeof(tree), "%s/tree", tu_tmpdir());
	tu_sh("mkdir -p %s/dir && echo hello > %s/dir/file && "
	      "ln -s dir/file %s/link && truncate -s 1M %s/sparse && "
	      "echo tail >> %s/sparse && setfattr -n user.k -v val %s/dir/file",
	      tree, tree, tree, tree, tree, tree);
	tu_sh("mkdir -p %s/bad && echo ok > %s/bad/ok && echo v > %s/bad/eaval",
	      tree, tree, tree);
	img = tu_mkfs("proto.img", "-t ext4 -b 4096 -O ea_inode,orphan_file",
		      tree, "16M");
	make_reserved_names(img);
	assert_int_equal(tu_open(img, &fs), 0);
	scratch = malloc(E4F_REPLY_BUFSIZE);
	assert_non_null(scratch);
	struct e4f_session_config cfg = { .default_permissions = true };

	assert_int_equal(e4f_session_init(&sess, fs, -1, &cfg), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	e4f_session_destroy(&sess);
	tu_close(fs);
	free(scratch);
	free(img);
	return 0;
}

static void test_before_init(void **state)
{
	(void)state;
	struct fuse_getattr_in ga = { 0 };

	assert_int_equal(send_req(FUSE_GETATTR, 1, &ga, sizeof(ga)), -EIO);
}

static void test_init(void **state)
{
	(void)state;
	struct fuse_init_in in = {
		.major = 7, .minor = 45, .max_readahead = 131072,
		.flags = FUSE_ASYNC_READ | FUSE_DO_READDIRPLUS |
			 FUSE_MAX_PAGES | FUSE_INIT_EXT | FUSE_WRITEBACK_CACHE |
			 FUSE_POSIX_ACL | FUSE_PARALLEL_DIROPS,
	};
	struct fuse_init_out out;

	/* too old a kernel is refused */
	struct fuse_init_in old = { .major = 7, .minor = 8 };

	assert_int_equal(send_req(FUSE_INIT, 0, &old, sizeof(old)), -EPROTO);
	sess.ended = false;

	assert_int_equal(send_req(FUSE_INIT, 0, &in, sizeof(in)), 0);
	assert_int_equal(payload_len(), sizeof(out));
	memcpy(&out, payload(), sizeof(out));
	assert_int_equal(out.major, 7);
	assert_int_equal(out.minor, E4F_PROTO_MINOR);
	assert_int_equal(out.max_write, E4F_MAX_IO);
	assert_int_equal(out.max_pages, E4F_MAX_PAGES);
	assert_int_equal(out.max_readahead, 131072);
	assert_true(out.flags & FUSE_DO_READDIRPLUS);
	assert_true(out.flags & FUSE_POSIX_ACL);
	/* only what was offered, and never the writeback cache read-only */
	assert_false(out.flags & FUSE_WRITEBACK_CACHE);
	assert_false(out.flags & FUSE_CACHE_SYMLINKS);
	/* a second INIT is a protocol error */
	assert_int_equal(send_req(FUSE_INIT, 0, &in, sizeof(in)), -EPROTO);
}

/* What was added from 7.40 to 7.45 and is offered: only what e4fuse uses
 * is granted, io_uring only with a device to register rings on, and a
 * kernel speaking an older minor gets its own. */
static void test_init_minor(void **state)
{
	(void)state;
	struct e4f_session s2;
	struct e4f_session_config cfg = { .default_permissions = true,
					  .transport = E4F_TRANSPORT_URING,
					  .uring_queues = 2 };
	struct fuse_init_in in = {
		.major = 7, .minor = 45, .max_readahead = 131072,
		.flags = 0x73fffffbu,	/* what Linux 6.18 offers */
		.flags2 = 0x7fdu,	/* with enable_uring=Y */
	};
	struct fuse_init_out out;
	uint8_t raw[sizeof(out)];

	for (unsigned minor = 45; minor >= 38; minor -= 7) {
		assert_int_equal(e4f_session_init(&s2, fs, -1, &cfg), 0);
		cur = &s2;
		in.minor = minor;
		assert_int_equal(send_req(FUSE_INIT, 0, &in, sizeof(in)), 0);
		assert_int_equal(payload_len(), sizeof(out));
		memcpy(&out, payload(), sizeof(out));
		memcpy(raw, payload(), sizeof(raw));
		assert_int_equal(out.minor, minor);
		uint64_t granted = out.flags | (uint64_t)out.flags2 << 32;

		assert_true(granted & FUSE_INIT_EXT);
		assert_true(granted & FUSE_MAX_PAGES);
		/* declined (fuse_kernel.h says why) */
		assert_false(granted & (FUSE_PASSTHROUGH |
					FUSE_NO_EXPORT_SUPPORT |
					FUSE_HAS_RESEND | FUSE_ALLOW_IDMAP |
					FUSE_REQUEST_TIMEOUT));
		/* no /dev/fuse to register entries on: no ring */
		assert_false(granted & FUSE_OVER_IO_URING);
		assert_null(s2.uring);
		/* max_stack_depth (36) and request_timeout (40) zero */
		for (size_t i = 36; i < sizeof(raw); i++)
			assert_int_equal(raw[i], 0);
		e4f_session_destroy(&s2);
		cur = &sess;
	}
}

static void test_malformed(void **state)
{
	(void)state;
	uint8_t buf[64] = { 0 };
	struct fuse_in_header h = { .len = 40, .opcode = FUSE_GETATTR,
				    .unique = 99, .nodeid = 1 };
	int before = replies;

	/* shorter than a header, or a header lying about the length */
	assert_int_equal(e4f_process_request(&sess, buf, 10, &sink, scratch),
			 -EPROTO);
	h.len = 60;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(e4f_process_request(&sess, buf, 56, &sink, scratch),
			 -EPROTO);
	assert_int_equal(replies, before);

	/* payload shorter than the opcode's fixed part */
	assert_int_equal(send_req(FUSE_GETATTR, 1, NULL, 0), -EINVAL);
	assert_int_equal(send_req(FUSE_READ, 1, buf, 10), -EINVAL);
	/* names without their NUL, empty, with a slash, too long */
	assert_int_equal(send_req(FUSE_LOOKUP, 1, "dir", 3), -EINVAL);
	assert_int_equal(send_req(FUSE_LOOKUP, 1, "", 1), -EINVAL);
	assert_int_equal(send_req(FUSE_LOOKUP, 1, "a/b", 4), -EINVAL);
	char longname[300];

	memset(longname, 'x', 299);
	longname[299] = '\0';
	assert_int_equal(send_req(FUSE_LOOKUP, 1, longname, 300),
			 -ENAMETOOLONG);
	/* extension length beyond the request */
	h = (struct fuse_in_header){ .len = 56, .opcode = FUSE_GETATTR,
				     .unique = 101, .nodeid = 1,
				     .total_extlen = 9 };
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(e4f_process_request(&sess, buf, 56, &sink, scratch),
			 0);
	assert_int_equal(((struct fuse_out_header *)reply)->error, -EINVAL);
	/* unknown opcodes */
	assert_int_equal(send_req(4000, 1, NULL, 0), -ENOSYS);
	/* an ioctl command ext4 does not know */
	struct fuse_ioctl_in io = { .cmd = 0x12345678 };

	assert_int_equal(send_req(FUSE_IOCTL, 1, &io, sizeof(io)), -ENOTTY);
	/* node ids that map to no inode */
	struct fuse_getattr_in ga = { 0 };

	assert_int_equal(send_req(FUSE_GETATTR, 0, &ga, sizeof(ga)), -ESTALE);
	assert_int_equal(send_req(FUSE_GETATTR, 2, &ga, sizeof(ga)), -ESTALE);
	assert_int_equal(send_req(FUSE_GETATTR, 1ull << 40, &ga, sizeof(ga)),
			 -ESTALE);
	assert_int_equal(send_req(FUSE_GETATTR, 999999, &ga, sizeof(ga)),
			 -ESTALE);
	/* BATCH_FORGET announcing more than it carries: no reply, no crash */
	struct fuse_batch_forget_in bf = { .count = 1000000 };

	assert_int_equal(send_req(FUSE_BATCH_FORGET, 0, &bf, sizeof(bf)), 1);
	/* INTERRUPT of nothing in flight (no EAGAIN: test_interrupt) */
	struct fuse_interrupt_in ii = { .unique = 12344 };

	assert_int_equal(send_req(FUSE_INTERRUPT, 0, &ii, sizeof(ii)), 1);
	/* too short: dropped, no reply */
	assert_int_equal(send_req(FUSE_INTERRUPT, 0, &ii, 4), 1);
}

static void test_erofs(void **state)
{
	(void)state;
	static const uint32_t ops[] = {
		FUSE_SETATTR, FUSE_MKNOD, FUSE_MKDIR, FUSE_UNLINK, FUSE_RMDIR,
		FUSE_RENAME, FUSE_LINK, FUSE_WRITE, FUSE_SETXATTR,
		FUSE_REMOVEXATTR, FUSE_CREATE, FUSE_SYMLINK, FUSE_FALLOCATE,
		FUSE_RENAME2, FUSE_COPY_FILE_RANGE, FUSE_TMPFILE,
	};
	uint8_t arg[128] = { 0 };

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		assert_int_equal(send_req(ops[i], 1, arg, sizeof(arg)), -EROFS);
	struct fuse_open_in oi = { .flags = O_RDWR };

	assert_int_equal(send_req(FUSE_OPEN, 1, &oi, sizeof(oi)), -EROFS);
}

static void test_lookup_and_forget(void **state)
{
	(void)state;
	struct fuse_entry_out dir, file, neg;
	size_t n0 = e4f_nodes_count(&sess.nodes);

	assert_int_equal(lookup(1, "dir", &dir), 0);
	assert_true(S_ISDIR(dir.attr.mode));
	assert_int_equal(dir.nodeid, dir.attr.ino);
	assert_int_equal(dir.entry_valid, E4F_TIMEOUT_SEC);
	assert_int_equal(lookup(dir.nodeid, "file", &file), 0);
	assert_int_equal(file.attr.size, 6);
	assert_int_equal(lookup(dir.nodeid, "file", &file), 0);
	assert_int_equal(e4f_nodes_count(&sess.nodes), n0 + 2);

	/* ".." of a top-level directory is the root: node id 1 */
	struct fuse_entry_out up;

	assert_int_equal(lookup(dir.nodeid, "..", &up), 0);
	assert_int_equal(up.nodeid, 1);
	assert_int_equal(up.attr.ino, 2);

	/* absent names are cached negative entries */
	assert_int_equal(lookup(1, "nope", &neg), 0);
	assert_int_equal(neg.nodeid, 0);
	assert_int_equal(neg.entry_valid, E4F_TIMEOUT_SEC);
	/* a file is no directory */
	assert_int_equal(send_req(FUSE_LOOKUP, file.nodeid, "x", 2), -ENOTDIR);

	/* two lookups of file: forgetting one keeps it, two drop it */
	struct fuse_forget_in fi = { .nlookup = 1 };

	assert_int_equal(send_req(FUSE_FORGET, file.nodeid, &fi, sizeof(fi)),
			 1);
	/* dir, file (twice) and the root (through "..") are referenced */
	assert_int_equal(e4f_nodes_count(&sess.nodes), n0 + 3);
	struct {
		struct fuse_batch_forget_in in;
		struct fuse_forget_one one[2];
	} bf = { .in = { .count = 2 },
		 .one = { { file.nodeid, 1 }, { dir.nodeid, 5 } } };

	assert_int_equal(send_req(FUSE_BATCH_FORGET, 0, &bf, sizeof(bf)), 1);
	assert_int_equal(e4f_nodes_count(&sess.nodes), n0 + 1);
	/* a forgotten node is still served from the disk */
	struct fuse_getattr_in ga = { 0 };

	assert_int_equal(send_req(FUSE_GETATTR, file.nodeid, &ga, sizeof(ga)),
			 0);
}

static void test_read_ops(void **state)
{
	(void)state;
	struct fuse_entry_out dir, file, link, sparse;
	struct fuse_read_in ri = { .offset = 0, .size = 4096 };

	assert_int_equal(lookup(1, "dir", &dir), 0);
	assert_int_equal(lookup(dir.nodeid, "file", &file), 0);
	assert_int_equal(lookup(1, "link", &link), 0);
	assert_int_equal(lookup(1, "sparse", &sparse), 0);

	struct fuse_open_in oi = { .flags = O_RDONLY };

	assert_int_equal(send_req(FUSE_OPEN, file.nodeid, &oi, sizeof(oi)), 0);
	assert_true(((const struct fuse_open_out *)payload())->open_flags &
		    FOPEN_KEEP_CACHE);
	assert_int_equal(send_req(FUSE_READ, file.nodeid, &ri, sizeof(ri)), 0);
	assert_int_equal(payload_len(), 6);
	assert_memory_equal(payload(), "hello\n", 6);
	/* past EOF: empty; a directory is no file */
	ri.offset = 1 << 20;
	assert_int_equal(send_req(FUSE_READ, file.nodeid, &ri, sizeof(ri)), 0);
	assert_int_equal(payload_len(), 0);
	assert_int_equal(send_req(FUSE_READ, dir.nodeid, &ri, sizeof(ri)),
			 -EISDIR);

	assert_int_equal(send_req(FUSE_READLINK, link.nodeid, NULL, 0), 0);
	assert_int_equal(payload_len(), 8);
	assert_memory_equal(payload(), "dir/file", 8);
	assert_int_equal(send_req(FUSE_READLINK, file.nodeid, NULL, 0),
			 -EINVAL);

	/* xattrs: size query, value, too small a buffer, absent */
	struct {
		struct fuse_getxattr_in in;
		char name[16];
	} gx = { .in = { .size = 0 }, .name = "user.k" };
	size_t gxlen = sizeof(gx.in) + strlen(gx.name) + 1;

	assert_int_equal(send_req(FUSE_GETXATTR, file.nodeid, &gx, gxlen), 0);
	assert_int_equal(((const struct fuse_getxattr_out *)payload())->size,
			 3);
	gx.in.size = 100;
	assert_int_equal(send_req(FUSE_GETXATTR, file.nodeid, &gx, gxlen), 0);
	assert_int_equal(payload_len(), 3);
	assert_memory_equal(payload(), "val", 3);
	gx.in.size = 2;
	assert_int_equal(send_req(FUSE_GETXATTR, file.nodeid, &gx, gxlen),
			 -ERANGE);
	strcpy(gx.name, "user.none");
	gx.in.size = 100;
	assert_int_equal(send_req(FUSE_GETXATTR, file.nodeid, &gx,
				  sizeof(gx.in) + 10), -ENODATA);
	struct fuse_getxattr_in lx = { .size = 4096 };

	assert_int_equal(send_req(FUSE_LISTXATTR, file.nodeid, &lx,
				  sizeof(lx)), 0);
	assert_int_equal(payload_len(), 7);
	assert_memory_equal(payload(), "user.k", 7);

	/* SEEK_DATA / SEEK_HOLE on a file with a 1 MiB hole */
	struct fuse_lseek_in li = { .offset = 0, .whence = 3 /* DATA */ };

	assert_int_equal(send_req(FUSE_LSEEK, sparse.nodeid, &li, sizeof(li)),
			 0);
	assert_int_equal(((const struct fuse_lseek_out *)payload())->offset,
			 1 << 20);
	li.whence = 4;	/* HOLE */
	assert_int_equal(send_req(FUSE_LSEEK, sparse.nodeid, &li, sizeof(li)),
			 0);
	assert_int_equal(((const struct fuse_lseek_out *)payload())->offset,
			 0);
	li.offset = (1 << 20) + 100;
	assert_int_equal(send_req(FUSE_LSEEK, sparse.nodeid, &li, sizeof(li)),
			 -ENXIO);

	/* READDIRPLUS of the root: ".", "..", and the entries */
	struct fuse_read_in rd = { .offset = 0, .size = 4096 };
	size_t n0 = e4f_nodes_count(&sess.nodes);

	assert_int_equal(send_req(FUSE_READDIRPLUS, 1, &rd, sizeof(rd)), 0);
	size_t counted, names = direntplus_count(&counted, NULL);

	assert_int_equal(names, 7);	/* . .. lost+found bad dir link sparse */
	/* every entry but . and .. carries attributes and a reference */
	assert_int_equal(counted, names - 2);
	assert_true(e4f_nodes_count(&sess.nodes) >= n0 + 1);

	struct fuse_statfs_out sf;

	assert_int_equal(send_req(FUSE_STATFS, 1, NULL, 0), 0);
	memcpy(&sf, payload(), sizeof(sf));
	assert_int_equal(sf.st.bsize, 4096);
	assert_int_equal(sf.st.namelen, 255);
}

/* ---- the ring entry layout (FUSE over io_uring) --------------------------- */

static uint8_t ring_hdr[sizeof(struct fuse_uring_req_header)];
static uint8_t *ring_payload;	/* E4F_REPLY_BUFSIZE */
static uint8_t *ring_bounce;

/* Serve a request laid out as the kernel lays it in a ring entry: the
 * first @headlen bytes of @arg in op_in, the rest in the payload buffer.
 * Returns the reply's error; its payload is at ring_payload, *outlen
 * bytes. */
static int ring_req(uint32_t opcode, uint64_t nodeid, const void *arg,
		    size_t headlen, size_t arglen, size_t *outlen)
{
	struct fuse_uring_req_header *rh = (void *)ring_hdr;
	uint64_t unique = next_unique += 2;
	struct fuse_in_header h = {
		.len = (uint32_t)(sizeof(h) + arglen), .opcode = opcode,
		.unique = unique, .nodeid = nodeid,
	};
	struct fuse_uring_ent_in_out ent = {
		.commit_id = unique, .payload_sz = (uint32_t)(arglen - headlen),
	};
	struct fuse_out_header oh;

	assert_true(headlen <= sizeof(rh->op_in) && headlen <= arglen);
	memset(ring_hdr, 0xa5, sizeof(ring_hdr));
	memcpy(rh->in_out, &h, sizeof(h));
	memcpy(&rh->ring_ent_in_out, &ent, sizeof(ent));
	if (arglen) {
		memcpy(rh->op_in, arg, headlen);
		memcpy(ring_payload, (const uint8_t *)arg + headlen,
		       arglen - headlen);
	}
	assert_int_equal(e4f_uring_serve(&sess, ring_hdr, ring_payload,
					 E4F_REPLY_BUFSIZE, ring_bounce),
			 unique);
	memcpy(&oh, rh->in_out, sizeof(oh));
	memcpy(&ent, &rh->ring_ent_in_out, sizeof(ent));
	assert_int_equal(oh.unique, unique);
	*outlen = ent.payload_sz;
	assert_int_equal(oh.len, sizeof(oh) + ent.payload_sz);
	if (oh.error)
		assert_int_equal(ent.payload_sz, 0);
	return oh.error;
}

/* The same request over both transports gets the same answer. */
static void same_reply(uint32_t opcode, uint64_t nodeid, const void *arg,
		       size_t headlen, size_t arglen)
{
	size_t outlen;
	int err = ring_req(opcode, nodeid, arg, headlen, arglen, &outlen);

	assert_int_equal(send_req(opcode, nodeid, arg, arglen), err);
	assert_int_equal(payload_len(), outlen);
	assert_memory_equal(payload(), ring_payload, outlen);
}

/*
 * Requests split as a ring entry splits them (the opcode's fixed header in
 * op_in, names and data in the payload buffer) are served by the same
 * engine as /dev/fuse's, with the same replies, written where the kernel
 * takes them; nothing the engine cannot decode leaves an entry without a
 * reply.
 */
static void test_ring_layout(void **state)
{
	(void)state;
	struct fuse_entry_out dir, file;
	size_t outlen;

	ring_payload = malloc(E4F_REPLY_BUFSIZE);
	ring_bounce = malloc(E4F_REPLY_BUFSIZE);
	assert_non_null(ring_payload);
	assert_non_null(ring_bounce);

	/* LOOKUP: nothing in op_in, the name in the payload (§7.2) */
	assert_int_equal(ring_req(FUSE_LOOKUP, 1, "dir", 0, 4, &outlen), 0);
	assert_int_equal(outlen, sizeof(dir));
	memcpy(&dir, ring_payload, sizeof(dir));
	assert_int_equal(lookup(1, "dir", &file), 0);
	assert_int_equal(dir.nodeid, file.nodeid);
	assert_int_equal(lookup(dir.nodeid, "file", &file), 0);
	same_reply(FUSE_LOOKUP, dir.nodeid, "file", 0, 5);
	same_reply(FUSE_LOOKUP, dir.nodeid, "nothere", 0, 8);

	struct fuse_getattr_in ga = { 0 };

	same_reply(FUSE_GETATTR, file.nodeid, &ga, sizeof(ga), sizeof(ga));

	/* READ: built in the payload buffer itself */
	struct fuse_read_in ri = { .offset = 0, .size = 4096 };

	assert_int_equal(ring_req(FUSE_READ, file.nodeid, &ri, sizeof(ri),
				  sizeof(ri), &outlen), 0);
	assert_int_equal(outlen, 6);
	assert_memory_equal(ring_payload, "hello\n", 6);
	same_reply(FUSE_READ, file.nodeid, &ri, sizeof(ri), sizeof(ri));
	struct fuse_read_in rd = { .offset = 0, .size = 4096 };

	same_reply(FUSE_READDIR, 1, &rd, sizeof(rd), sizeof(rd));
	same_reply(FUSE_STATFS, 1, NULL, 0, 0);

	/* GETXATTR: fuse_getxattr_in in op_in, the name in the payload */
	struct {
		struct fuse_getxattr_in in;
		char name[8];
	} gx = { .in = { .size = 100 }, .name = "user.k" };

	assert_int_equal(ring_req(FUSE_GETXATTR, file.nodeid, &gx,
				  sizeof(gx.in), sizeof(gx.in) + 7, &outlen),
			 0);
	assert_int_equal(outlen, 3);
	assert_memory_equal(ring_payload, "val", 3);
	same_reply(FUSE_GETXATTR, file.nodeid, &gx, sizeof(gx.in),
		   sizeof(gx.in) + 7);

	/* a name cut between op_in and the payload is not joined */
	assert_int_equal(ring_req(FUSE_LOOKUP, 1, "dir", 2, 4, &outlen),
			 -EINVAL);
	/* writes are refused read-only, with the data in the payload */
	uint8_t wr[sizeof(struct fuse_write_in) + 5] = { 0 };

	assert_int_equal(ring_req(FUSE_WRITE, file.nodeid, wr,
				  sizeof(struct fuse_write_in), sizeof(wr),
				  &outlen), -EROFS);

	/* NOTIFY_REPLY gets no answer, but the entry is given back */
	assert_int_equal(ring_req(FUSE_NOTIFY_REPLY, 1, &rd, sizeof(rd),
				  sizeof(rd), &outlen), 0);
	assert_int_equal(outlen, 0);

	/* lengths that do not fit an entry: EIO, still addressed */
	struct fuse_uring_req_header *rh = (void *)ring_hdr;
	struct fuse_uring_ent_in_out ent;
	struct fuse_out_header oh;
	struct fuse_in_header h = { .len = 40 + 200, .opcode = FUSE_GETATTR,
				    .unique = 77, .nodeid = 1 };

	memset(ring_hdr, 0, sizeof(ring_hdr));
	memcpy(rh->in_out, &h, sizeof(h));
	ent = (struct fuse_uring_ent_in_out){ .commit_id = 77 };
	memcpy(&rh->ring_ent_in_out, &ent, sizeof(ent));
	/* op_in holds 128 bytes at most */
	assert_int_equal(e4f_uring_serve(&sess, ring_hdr, ring_payload,
					 E4F_REPLY_BUFSIZE, ring_bounce), 77);
	memcpy(&oh, rh->in_out, sizeof(oh));
	assert_int_equal(oh.error, -EIO);
	assert_int_equal(oh.unique, 77);
	/* a payload larger than the buffer, or than the header says */
	ent.payload_sz = 4096;
	memcpy(&rh->ring_ent_in_out, &ent, sizeof(ent));
	assert_int_equal(e4f_uring_serve(&sess, ring_hdr, ring_payload, 1024,
					 ring_bounce), 77);
	memcpy(&oh, rh->in_out, sizeof(oh));
	assert_int_equal(oh.error, -EIO);
	ent.payload_sz = 300;
	memcpy(&rh->in_out, &h, sizeof(h));
	memcpy(&rh->ring_ent_in_out, &ent, sizeof(ent));
	e4f_uring_serve(&sess, ring_hdr, ring_payload, E4F_REPLY_BUFSIZE,
			ring_bounce);
	memcpy(&oh, rh->in_out, sizeof(oh));
	assert_int_equal(oh.error, -EIO);
	memcpy(&ent, &rh->ring_ent_in_out, sizeof(ent));
	assert_int_equal(ent.payload_sz, 0);

	free(ring_payload);
	free(ring_bounce);
}

/* Names of reserved, internal and EA inodes are corruption, as the kernel
 * says (EUCLEAN, reported by the library naming directory and entry); node
 * ids no name may hold are stale; the root's node id keeps working. */
static void test_reserved_names(void **state)
{
	(void)state;
	const struct {
		const char *name;
		enum e4_rule rule;
		uint32_t ino;
	} bad_names[] = {
		{ "one", E4_RULE_IN1, 1 }, { "three", E4_RULE_IN1, 3 },
		{ "resize", E4_RULE_IN1, 7 }, { "journal", E4_RULE_IN1, 8 },
		{ "orphan", E4_RULE_IN1, orphan_ino },
		{ "eaval", E4_RULE_DIR_TARGET, ea_ino },
	};
	struct fuse_entry_out bad, e;

	assert_int_equal(lookup(1, "bad", &bad), 0);
	assert_int_equal(bad.attr.ino, bad_ino);
	assert_int_equal(lookup(bad.nodeid, "ok", &e), 0);
	assert_true(S_ISREG(e.attr.mode));
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		tu_log_clear();
		assert_int_equal(lookup(bad.nodeid, bad_names[i].name, &e),
				 -EUCLEAN);
		tu_assert_rule(bad_names[i].rule,
			       e4_obj_dirent(bad_ino, bad_names[i].ino));
	}

	/* READDIRPLUS lists them as plain entries: no attributes, no node
	 * id, no reference (the kernel then looks them up and gets EUCLEAN) */
	struct fuse_read_in rd = { .offset = 0, .size = 8192 };
	size_t n0 = e4f_nodes_count(&sess.nodes);

	tu_log_clear();
	assert_int_equal(send_req(FUSE_READDIRPLUS, bad.nodeid, &rd,
				  sizeof(rd)), 0);
	tu_assert_rule(E4_RULE_IN1, e4_obj_dirent(bad_ino, 8));
	/* the message names the directory and the entry */
	tu_assert_log(tu_msg("corrupt: inode %u: directory entry 'journal' names reserved inode 8 [IN1]",
			     bad_ino));
	char named[256];
	size_t counted, names = direntplus_count(&counted, named);

	assert_int_equal(names, 2 + 1 + 6);
	assert_int_equal(counted, 1);
	assert_string_equal(named, "ok");
	/* "ok" was looked up above: one more reference, no new node */
	assert_int_equal(e4f_nodes_count(&sess.nodes), n0);

	/* node ids of inodes no name may hold: stale, whatever the request */
	struct fuse_getattr_in ga = { 0 };
	struct fuse_open_in oi = { .flags = O_RDONLY };
	struct fuse_read_in ri = { .offset = 0, .size = 4096 };

	tu_log_clear();
	for (uint64_t id = 3; id <= 10; id++)
		assert_int_equal(send_req(FUSE_GETATTR, id, &ga, sizeof(ga)),
				 -ESTALE);
	assert_int_equal(send_req(FUSE_GETATTR, orphan_ino, &ga, sizeof(ga)),
			 -ESTALE);
	assert_int_equal(send_req(FUSE_GETATTR, ea_ino, &ga, sizeof(ga)),
			 -ESTALE);
	assert_int_equal(send_req(FUSE_OPEN, 8, &oi, sizeof(oi)), -ESTALE);
	assert_int_equal(send_req(FUSE_READ, 8, &ri, sizeof(ri)), -ESTALE);
	assert_int_equal(send_req(FUSE_READDIRPLUS, 7, &rd, sizeof(rd)),
			 -ESTALE);
	/* a node id is not a name: nothing to report */
	assert_string_equal(tu_log(), "");

	/* the root is node id 1, inode 2 */
	struct fuse_attr_out ao;

	assert_int_equal(send_req(FUSE_GETATTR, 1, &ga, sizeof(ga)), 0);
	memcpy(&ao, payload(), sizeof(ao));
	assert_int_equal(ao.attr.ino, 2);
	assert_true(S_ISDIR(ao.attr.mode));
}

/*
 * An INTERRUPT that arrives before its target is registered (another worker
 * read the target and has not started it) marks the target when it
 * registers; it gets no reply (EAGAIN made the kernel re-send it at once,
 * in a loop).  Interrupts for ids that never come are remembered in a fixed
 * table, oldest dropped first.
 */
/* Whether request @unique found an early interrupt waiting for it: the
 * table shrinks by one when it registers. */
static bool found_early_interrupt(uint64_t unique)
{
	unsigned before = e4f_early_interrupts(&sess);

	assert_int_equal(readdir_as(unique), 0);
	return e4f_early_interrupts(&sess) == before - 1;
}

static void test_interrupt(void **state)
{
	(void)state;
	uint64_t base = 1u << 30;

	/* the early interrupt marks its target, once */
	unsigned n0 = e4f_early_interrupts(&sess);

	interrupt(base);
	assert_int_equal(e4f_early_interrupts(&sess), n0 + 1);
	interrupt(base);	/* sent again: one entry */
	assert_int_equal(e4f_early_interrupts(&sess), n0 + 1);
	assert_false(found_early_interrupt(base + 2));	/* another request */
	assert_true(found_early_interrupt(base));
	assert_int_equal(e4f_early_interrupts(&sess), n0);
	assert_false(found_early_interrupt(base + 4));

	/* a flood of interrupts for requests that never come: no reply, a
	 * bounded table, the newest kept */
	const unsigned flood = 10000;
	int before = replies;

	for (unsigned i = 0; i < flood; i++)
		interrupt(base + 100 + 2 * (uint64_t)i);
	assert_int_equal(replies, before);
	assert_int_equal(e4f_early_interrupts(&sess), E4F_EARLY_INTERRUPTS);
	uint64_t last = base + 100 + 2 * (uint64_t)(flood - 1);
	uint64_t oldest_kept = last - 2 * (uint64_t)(E4F_EARLY_INTERRUPTS - 1);

	assert_false(found_early_interrupt(base + 100));	/* dropped */
	assert_false(found_early_interrupt(oldest_kept - 2));	/* dropped */
	assert_true(found_early_interrupt(oldest_kept));
	assert_true(found_early_interrupt(last));
	assert_int_equal(e4f_early_interrupts(&sess),
			 E4F_EARLY_INTERRUPTS - 2);
	/* freed slots are used before older entries are dropped */
	interrupt(base + 50000);
	interrupt(base + 50002);
	assert_int_equal(e4f_early_interrupts(&sess), E4F_EARLY_INTERRUPTS);
	assert_true(found_early_interrupt(oldest_kept + 2));
	assert_true(found_early_interrupt(base + 50000));
}

/*
 * errors=panic follows the library's error state, not reply codes: it fires
 * at the first corruption found while serving, also one a request worked
 * around (READDIRPLUS lists a name that holds a reserved inode and still
 * succeeds), and once.
 */
static int panics;

static void note_panic(struct e4f_session *s)
{
	(void)s;
	panics++;
}

static void serve_with_panic(void)
{
	sess.cfg.errors = E4F_ERRORS_PANIC;
	sess.on_panic = note_panic;
	atomic_store(&sess.panic, false);
	sess.errors_before = e4_fs_error_count(fs);
	panics = 0;
}

static void test_errors_panic(void **state)
{
	(void)state;
	struct fuse_getattr_in ga = { 0 };
	struct fuse_read_in rd = { .offset = 0, .size = 8192 };
	struct fuse_entry_out bad, e;

	/* corruption found before (the earlier tests) does not count */
	serve_with_panic();
	assert_int_equal(send_req(FUSE_GETATTR, 1, &ga, sizeof(ga)), 0);
	assert_int_equal(lookup(1, "bad", &bad), 0);
	assert_int_equal(panics, 0);

	assert_int_equal(send_req(FUSE_READDIRPLUS, bad.nodeid, &rd,
				  sizeof(rd)), 0);
	assert_int_equal(panics, 1);
	assert_int_equal(lookup(bad.nodeid, "journal", &e), -EUCLEAN);
	assert_int_equal(panics, 1);

	/* a request failing with the corruption fires it too (a fresh
	 * start: errors found before it do not count) */
	serve_with_panic();
	assert_int_equal(lookup(bad.nodeid, "one", &e), -EUCLEAN);
	assert_int_equal(panics, 1);

	sess.cfg.errors = E4F_ERRORS_CONTINUE;
	sess.on_panic = NULL;
	atomic_store(&sess.panic, false);
}

/* The READDIR reply just received as "name@off " for each entry. */
static const char *dirents(void)
{
	static char out[4096];
	const uint8_t *p = payload();
	size_t left = payload_len(), n = 0;

	out[0] = '\0';
	while (left >= FUSE_NAME_OFFSET) {
		struct fuse_dirent d;

		memcpy(&d, p, sizeof(d));
		size_t rec = FUSE_DIRENT_SIZE(&d);

		assert_true(rec <= left && d.namelen < 256);
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%.*s@%llu ",
				      (int)d.namelen, p + FUSE_NAME_OFFSET,
				      (unsigned long long)d.off);
		p += rec;
		left -= rec;
	}
	return out;
}

/*
 * -o lost_found on a copy whose /dir and /link lost their names: the
 * virtual directory (node id 2, inode 1, 0700) lists #INO of both after
 * "." and "..", resumes from each offset, leads to the inodes' own nodes;
 * the root lists it last, at an offset of its own.  A session without the
 * option knows nothing of it.
 */
static void test_lost_found(void **state)
{
	(void)state;
	char *copy = tu_copy(img, "lost.img");
	uint32_t dino = tu_ino_of(copy, "/dir"), lino = tu_ino_of(copy, "/link");
	struct e4f_session_config cfg = { .default_permissions = true,
					  .lost_found = "lost+found-e4fuse" };
	struct fuse_init_in in = { .major = 7, .minor = 45,
				   .flags = FUSE_DO_READDIRPLUS };
	struct fuse_read_in rd = { .offset = 0, .size = 4096 };
	struct fuse_getattr_in ga = { 0 };
	struct fuse_entry_out e, v, file;
	struct e4f_session lsess;
	struct e4_fs *lfs;
	char want[256];

	assert_int_equal(lookup(1, "lost+found-e4fuse", &e), 0);
	assert_int_equal(e.nodeid, 0);
	assert_int_equal(send_req(FUSE_GETATTR, 2, &ga, sizeof(ga)), -ESTALE);

	tu_debugfs(copy, "unlink /dir\nunlink /link");
	assert_int_equal(tu_open(copy, &lfs), 0);
	assert_int_equal(e4f_session_init(&lsess, lfs, -1, &cfg), 0);
	cur = &lsess;
	assert_int_equal(send_req(FUSE_INIT, 0, &in, sizeof(in)), 0);

	assert_int_equal(lookup(1, "lost+found-e4fuse", &v), 0);
	assert_int_equal(v.nodeid, E4F_LOST_NODEID);
	assert_int_equal(v.attr.ino, 1);
	assert_int_equal(v.attr.mode, S_IFDIR | 0700);
	assert_int_equal(send_req(FUSE_GETATTR, v.nodeid, &ga, sizeof(ga)), 0);
	assert_int_equal(send_req(FUSE_OPENDIR, v.nodeid, &rd, 8), 0);

	assert_int_equal(send_req(FUSE_READDIR, v.nodeid, &rd, sizeof(rd)), 0);
	snprintf(want, sizeof(want), ".@1 ..@2 #%u@%u #%u@%u ", dino, dino + 2,
		 lino, lino + 2);
	assert_string_equal(dirents(), want);
	rd.offset = 1;
	assert_int_equal(send_req(FUSE_READDIR, v.nodeid, &rd, sizeof(rd)), 0);
	assert_string_equal(dirents(), want + 4);
	rd.offset = dino + 2;
	assert_int_equal(send_req(FUSE_READDIR, v.nodeid, &rd, sizeof(rd)), 0);
	snprintf(want, sizeof(want), "#%u@%u ", lino, lino + 2);
	assert_string_equal(dirents(), want);
	rd.offset = lino + 2;
	assert_int_equal(send_req(FUSE_READDIR, v.nodeid, &rd, sizeof(rd)), 0);
	assert_int_equal(payload_len(), 0);

	/* the inodes themselves, with their own node ids */
	snprintf(want, sizeof(want), "#%u", dino);
	assert_int_equal(lookup(v.nodeid, want, &e), 0);
	assert_int_equal(e.nodeid, dino);
	assert_int_equal(lookup(e.nodeid, "file", &file), 0);
	struct fuse_read_in ri = { .offset = 0, .size = 4096 };
	assert_int_equal(send_req(FUSE_READ, file.nodeid, &ri, sizeof(ri)), 0);
	assert_memory_equal(payload(), "hello\n", 6);
	/* not a top, not a number, a leading zero, a real name: absent */
	static const char *const absent[] = { "#2", "#11", "#x", "#012", "dir" };
	for (size_t i = 0; i < sizeof(absent) / sizeof(*absent); i++) {
		assert_int_equal(lookup(v.nodeid, absent[i], &e), 0);
		assert_int_equal(e.nodeid, 0);
	}

	/* listed last in the root, with no attributes in READDIRPLUS; an
	 * offset of its own after which nothing is left */
	rd.offset = 0;
	assert_int_equal(send_req(FUSE_READDIR, 1, &rd, sizeof(rd)), 0);
	const char *all = dirents();

	snprintf(want, sizeof(want), " lost+found-e4fuse@%llu ",
		 (unsigned long long)E4F_LOST_ROOT_POS);
	assert_non_null(strstr(all, want));
	assert_string_equal(strstr(all, want) + strlen(want), "");
	rd.offset = E4F_LOST_ROOT_POS;
	assert_int_equal(send_req(FUSE_READDIR, 1, &rd, sizeof(rd)), 0);
	assert_int_equal(payload_len(), 0);
	rd.offset = 0;
	assert_int_equal(send_req(FUSE_READDIRPLUS, 1, &rd, sizeof(rd)), 0);
	size_t with_node;
	char named[256];
	size_t names = direntplus_count(&with_node, named);
	assert_true(names >= 4);
	assert_string_not_equal(named, "lost+found-e4fuse");

	/* no data, no attributes */
	struct {
		struct fuse_getxattr_in in;
		char name[16];
	} gx = { .in = { .size = 100 }, .name = "user.k" };
	assert_int_equal(send_req(FUSE_GETXATTR, v.nodeid, &gx,
				  sizeof(gx.in) + 7), -ENODATA);
	struct fuse_getxattr_in lx = { .size = 0 };
	assert_int_equal(send_req(FUSE_LISTXATTR, v.nodeid, &lx, sizeof(lx)), 0);
	assert_int_equal(((const struct fuse_getxattr_out *)payload())->size, 0);
	assert_int_equal(send_req(FUSE_READ, v.nodeid, &ri, sizeof(ri)), -EISDIR);

	cur = &sess;
	e4f_session_destroy(&lsess);
	tu_close(lfs);
	free(copy);
}

/*
 * A read-only session of its own on an image with /many (60 files, more
 * than one 4 KiB READDIRPLUS reply holds), INIT offering what a current
 * kernel offers; @mkfs_extra: more mkfs.ext4 options.
 */
static void round_trip_session(struct e4f_session *rs, struct e4_fs **rfs,
			       const char *name, const char *mkfs_extra)
{
	struct e4f_session_config cfg = { .default_permissions = true };
	struct fuse_init_in in = {
		.major = 7, .minor = 45,
		.flags = FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO |
			 FUSE_NO_OPEN_SUPPORT | FUSE_NO_OPENDIR_SUPPORT,
	};
	char tree[4096], args[256];

	snprintf(tree, sizeof(tree), "%s/many-tree", tu_tmpdir());
	tu_sh("mkdir -p %s/many && for i in $(seq 100 159); do "
	      "echo $i > %s/many/file-$i; done", tree, tree);
	snprintf(args, sizeof(args), "-t ext4 -b 4096 %s", mkfs_extra);
	char *image = tu_mkfs(name, args, tree, "16M");

	assert_int_equal(tu_open(image, rfs), 0);
	free(image);
	assert_int_equal(e4f_session_init(rs, *rfs, -1, &cfg), 0);
	cur = rs;
	assert_int_equal(send_req(FUSE_INIT, 0, &in, sizeof(in)), 0);
}

static void end_round_trip_session(struct e4f_session *rs, struct e4_fs *rfs)
{
	cur = &sess;
	e4f_session_destroy(rs);
	tu_close(rfs);
}

/* READDIRPLUS of @dir at @*off: how many entries came with attributes;
 * *@off moves past the reply, *@first gets the first such node id. */
static size_t plus_reply(uint64_t dir, uint64_t *off, uint64_t *first)
{
	struct fuse_read_in rd = { .offset = *off, .size = 4096 };
	size_t with_node = 0;

	assert_int_equal(send_req(FUSE_READDIRPLUS, dir, &rd, sizeof(rd)), 0);
	assert_true(direntplus_count(&with_node, NULL) > 0);
	const uint8_t *p = payload();
	size_t left = payload_len();

	*first = 0;
	while (left > 0) {
		struct fuse_direntplus dp;

		memcpy(&dp, p, sizeof(dp));
		if (!*first && dp.entry_out.nodeid)
			*first = dp.entry_out.nodeid;
		*off = dp.dirent.off;
		p += FUSE_DIRENTPLUS_SIZE(&dp);
		left -= FUSE_DIRENTPLUS_SIZE(&dp);
	}
	return with_node;
}

/*
 * Read-only, a current kernel: OPEN and OPENDIR are declined with ENOSYS
 * (the kernel then opens without asking, for good), and so is FLUSH;
 * READDIRPLUS is asked for without READDIRPLUS_AUTO, and its replies carry
 * attributes for a directory's first reply, and later ones only once the
 * kernel is seen to use them (a file that came with them asked about, or
 * a name that came without them looked up).
 */
static void test_round_trips(void **state)
{
	(void)state;
	struct fuse_statx_in sx = { .sx_mask = STATX_BASIC_STATS };
	struct fuse_open_in oi = { .flags = O_RDONLY };
	struct fuse_flush_in fl = { 0 };
	struct fuse_release_in rl = { 0 };
	struct fuse_entry_out many, file;
	struct fuse_init_out out;
	struct e4f_session rs;
	struct e4_fs *rfs;
	uint64_t off = 0, node, fresh, off2;

	round_trip_session(&rs, &rfs, "trips.img", "");
	memcpy(&out, payload(), sizeof(out));
	assert_true(out.flags & FUSE_NO_OPEN_SUPPORT);
	assert_true(out.flags & FUSE_DO_READDIRPLUS);
	assert_false(out.flags & FUSE_READDIRPLUS_AUTO);
	assert_int_equal(lookup(1, "many", &many), 0);
	assert_int_equal(lookup(many.nodeid, "file-100", &file), 0);
	assert_int_equal(send_req(FUSE_OPEN, file.nodeid, &oi, sizeof(oi)),
			 -ENOSYS);
	assert_int_equal(send_req(FUSE_OPENDIR, many.nodeid, &oi, sizeof(oi)),
			 -ENOSYS);
	assert_int_equal(send_req(FUSE_FLUSH, file.nodeid, &fl, sizeof(fl)),
			 -ENOSYS);
	assert_int_equal(send_req(FUSE_RELEASE, file.nodeid, &rl, sizeof(rl)),
			 0);
	/* still refused as before where it must be */
	assert_int_equal(send_req(FUSE_OPENDIR, file.nodeid, &oi, sizeof(oi)),
			 -ENOTDIR);

	/* the first reply with attributes, the next without */
	assert_true(plus_reply(many.nodeid, &off, &fresh) > 0);
	assert_true(fresh != 0);
	off2 = off;
	assert_int_equal(plus_reply(many.nodeid, &off2, &node), 0);
	/* a file of the first reply asked about: attributes again */
	assert_int_equal(send_req(FUSE_STATX, fresh, &sx, sizeof(sx)), 0);
	off2 = off;
	assert_true(plus_reply(many.nodeid, &off2, &node) > 0);
	end_round_trip_session(&rs, rfs);

	/* a name listed without attributes looked up: attributes again */
	round_trip_session(&rs, &rfs, "trips2.img", "");
	assert_int_equal(lookup(1, "many", &many), 0);
	off = 0;
	(void)plus_reply(many.nodeid, &off, &node);
	off2 = off;
	assert_int_equal(plus_reply(many.nodeid, &off2, &node), 0);
	assert_int_equal(lookup(many.nodeid, "file-159", &file), 0);
	off2 = off;
	assert_true(plus_reply(many.nodeid, &off2, &node) > 0);
	end_round_trip_session(&rs, rfs);

	/* where a file may be encrypted its OPEN must come (-ENOKEY) */
	round_trip_session(&rs, &rfs, "trips-enc.img", "-O encrypt");
	assert_int_equal(lookup(1, "many", &many), 0);
	assert_int_equal(lookup(many.nodeid, "file-100", &file), 0);
	assert_int_equal(send_req(FUSE_OPEN, file.nodeid, &oi, sizeof(oi)), 0);
	end_round_trip_session(&rs, rfs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_init),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_init_minor),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_erofs),
		cmocka_unit_test(test_lookup_and_forget),
		cmocka_unit_test(test_read_ops),
		cmocka_unit_test(test_ring_layout),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_reserved_names),
		cmocka_unit_test(test_interrupt),
		cmocka_unit_test(test_errors_panic),
		cmocka_unit_test(test_lost_found),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness: the FUSE front end without a kernel.  A valid INIT is sent
 * first, then the input is cut into requests that go through
 * e4f_process_request (header checks, the dispatch table, every read-only
 * handler) over the template image, exactly as requests read from
 * /dev/fuse do.  The sink checks what the kernel relies on: at most one
 * reply per request, addressed to it, a header whose length is the sum of
 * the reply, an error in (-512, 0] and no payload with an error.  A
 * violation aborts, so the fuzzer reports it.
 *
 * Requests can also come laid out as in a FUSE-over-io_uring ring entry
 * (uring.h), served by e4f_uring_serve: the header buffer and the payload
 * buffer, the reply written back into them, and checked the same way
 * (addressed to the request's unique, an error in (-512, 0] with no
 * payload, a payload length within the buffer, the commit id returned).
 *
 * Input: records of
 *   u8  kind       bit 0: raw: u16 length, then that many bytes given to
 *                  the decoder as the whole request (header included);
 *                  with bit 1 too: the first 288 of them are a ring
 *                  entry's header buffer as the kernel would fill it (the
 *                  lengths in it unchecked), the rest its payload buffer
 *                  bit 1 alone: a ring request: u8 head follows, the
 *                  length of the payload that goes in op_in (at most 128),
 *                  the rest of the payload goes in the payload buffer
 *   u8  opcode
 *   u8  node       0 and 1: the root; 255: a little-endian u64 follows;
 *                  otherwise that inode number
 *   u16 length     of the payload that follows (cut to what is left)
 * at most 64 requests per input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuse/fuse_kernel.h"
#include "fuse/proto.h"
#include "fuse/session.h"
#include "fuse/uring.h"
#include "fuzz_fuse.h"
#include "resource.h"
#include "template_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REQUESTS 64
#define RING_HDR sizeof(struct fuse_uring_req_header)

struct check_sink {
	uint64_t unique;
	unsigned replies;
};

static int check_send(void *ctx, const struct iovec *iov, int iovcnt)
{
	struct check_sink *c = ctx;
	struct fuse_out_header oh;
	size_t total = 0;

	if (iovcnt < 1 || iov[0].iov_len < sizeof(oh))
		abort();
	memcpy(&oh, iov[0].iov_base, sizeof(oh));
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (oh.len != total || oh.error > 0 || oh.error <= -512)
		abort();
	if (oh.error != 0 && total != sizeof(oh))
		abort();
	if (oh.unique != 0) {	/* 0: a notification */
		if (oh.unique != c->unique || ++c->replies > 1)
			abort();
	}
	return 0;
}

static void quiet(void *ctx, enum e4_log_level level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static uint8_t *tpl;
static size_t tpl_size;
static uint8_t *scratch;
static uint8_t *ring_payload;		/* E4F_REPLY_BUFSIZE */

#ifndef E4_FUZZ_TEMPLATE_PATH
#define E4_FUZZ_TEMPLATE_PATH "template.img"
#endif

static void load(void)
{
	if (tpl)
		return;
	tpl = e4_fuzz_template_read("E4_FUZZ_TEMPLATE", E4_FUZZ_TEMPLATE_PATH,
				    &tpl_size);
	scratch = malloc(E4F_REPLY_BUFSIZE);
	ring_payload = malloc(E4F_REPLY_BUFSIZE);
	if (!scratch || !ring_payload)
		abort();
	/* The front end logs to stderr; AFL++ discards it, libFuzzer takes
	 * -close_fd_mask=2.  Not silenced here: sanitizer reports go there. */
}

static void send_one(struct e4f_session *s, const uint8_t *req, size_t len,
		     uint64_t unique)
{
	struct check_sink c = { .unique = unique };
	struct e4f_sink sink = { .send = check_send, .ctx = &c };
	/* an exact-size copy: the sanitizers see any read past the end */
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		return;
	memcpy(copy, req, len);
	/* one request is one operation for the resource oracle */
	e4_res_begin(s->fs, NULL, "FUSE request (opcode)",
		     len >= 8 ? (uint64_t)(req[4] | req[5] << 8) : 0);
	e4f_process_request(s, copy, len, &sink, scratch);
	e4_res_end(NULL);
	free(copy);
}

/* A ring entry whose header buffer is @hdr (its lengths as given) and
 * whose payload buffer starts with @payload. */
static void send_ring(struct e4f_session *s, uint8_t hdr[RING_HDR],
		      const uint8_t *payload, size_t len)
{
	struct fuse_in_header h;
	struct fuse_uring_ent_in_out ent;
	struct fuse_out_header oh;
	size_t at = offsetof(struct fuse_uring_req_header, ring_ent_in_out);

	memcpy(&h, hdr, sizeof(h));
	memcpy(&ent, hdr + at, sizeof(ent));
	/* what the header claims past the input reads as zeros, not as
	 * an earlier input's bytes */
	size_t claimed = ent.payload_sz < E4F_REPLY_BUFSIZE ?
			 ent.payload_sz : E4F_REPLY_BUFSIZE;

	memcpy(ring_payload, payload, len);
	if (claimed > len)
		memset(ring_payload + len, 0, claimed - len);
	e4_res_begin(s->fs, NULL, "FUSE ring request (opcode)", h.opcode);
	uint64_t id = e4f_uring_serve(s, hdr, ring_payload, E4F_REPLY_BUFSIZE,
				      scratch);
	e4_res_end(NULL);
	uint64_t commit_id = ent.commit_id;

	memcpy(&oh, hdr, sizeof(oh));
	memcpy(&ent, hdr + at, sizeof(ent));
	if (id != commit_id || oh.unique != h.unique ||
	    ent.payload_sz > E4F_REPLY_BUFSIZE ||
	    oh.len != sizeof(oh) + ent.payload_sz ||
	    oh.error > 0 || oh.error <= -512 ||
	    (oh.error != 0 && ent.payload_sz != 0))
		abort();
}

static void send_init(struct e4f_session *s)
{
	struct {
		struct fuse_in_header h;
		struct fuse_init_in in;
	} req;

	memset(&req, 0, sizeof(req));
	req.h.len = sizeof(req);
	req.h.opcode = FUSE_INIT;
	req.h.unique = 1;
	req.in.major = FUSE_KERNEL_VERSION;
	req.in.minor = E4F_PROTO_MINOR;
	req.in.max_readahead = 128 * 1024;
	req.in.flags = 0xFFFFFFFFu;
	req.in.flags2 = 0xFFFFFFFFu;
	send_one(s, (const uint8_t *)&req, sizeof(req), 1);
}

int e4_fuzz_fuse(const uint8_t *data, size_t size)
{
	struct e4_open_opts o = { .read_only = true, .log = quiet,
				  .cache_bytes = 256u << 10 };
	struct e4f_session_config cfg = { .errors = E4F_ERRORS_CONTINUE,
		.debug = getenv("E4_FUZZ_VERBOSE") != NULL };
	struct e4f_session s;
	struct e4_dev *dev;
	struct e4_fs *fs;
	size_t pos = 0;
	uint64_t unique = 2;
	uint8_t *req = malloc(sizeof(struct fuse_in_header) + 65536);

	load();
	if (!req)
		return 0;
	if (e4_dev_open_mem(tpl, tpl_size, &dev) < 0) {
		free(req);
		return 0;
	}
	e4_res_begin(NULL, dev, "open", 0);
	int err = e4_fs_open(dev, &o, &fs);
	e4_res_end(err < 0 ? NULL : fs);
	if (err < 0) {
		e4_dev_close(dev);
		free(req);
		return 0;
	}
	e4_res_begin(fs, NULL, "FUSE session init", 0);
	err = e4f_session_init(&s, fs, -1, &cfg);
	e4_res_end(NULL);
	if (err < 0)
		goto out_fs;
	send_init(&s);

	for (unsigned n = 0; n < MAX_REQUESTS && pos + 5 <= size; n++) {
		uint8_t kind = data[pos++];
		if ((kind & 3) == 3) {
			uint8_t hdr[RING_HDR];
			size_t len = data[pos] | (size_t)data[pos + 1] << 8;
			pos += 2;
			if (len > size - pos)
				len = size - pos;
			size_t h = len < RING_HDR ? len : RING_HDR;
			memset(hdr, 0, sizeof(hdr));
			memcpy(hdr, data + pos, h);
			send_ring(&s, hdr, data + pos + h, len - h);
			pos += len;
			continue;
		}
		size_t head = 0;
		if (kind & 2)
			head = data[pos++];
		if (kind & 1) {
			size_t len = data[pos] | (size_t)data[pos + 1] << 8;
			pos += 2;
			if (len > size - pos)
				len = size - pos;
			memcpy(req, data + pos, len);
			pos += len;
			/* the unique the decoder will echo, if the header fits */
			uint64_t u = 0;
			if (len >= 16)
				memcpy(&u, req + 8, 8);
			send_one(&s, req, len, u);
			continue;
		}
		uint32_t opcode = data[pos++];
		uint64_t nodeid = data[pos++];
		if (nodeid == 0)
			nodeid = 1;
		if (nodeid == 255) {
			nodeid = 0;
			for (int i = 0; i < 8 && pos < size; i++)
				nodeid |= (uint64_t)data[pos++] << (8 * i);
		}
		if (pos + 2 > size)
			break;
		size_t len = data[pos] | (size_t)data[pos + 1] << 8;
		pos += 2;
		if (len > size - pos)
			len = size - pos;

		struct fuse_in_header h;
		memset(&h, 0, sizeof(h));
		h.len = (uint32_t)(sizeof(h) + len);
		h.opcode = opcode;
		h.unique = unique;
		h.nodeid = nodeid;
		if (kind & 2) {
			/* the kernel's split: op_in, then the payload */
			uint8_t hdr[RING_HDR];
			struct fuse_uring_ent_in_out ent = {
				.commit_id = unique,
			};
			if (head > len)
				head = len;
			if (head > FUSE_URING_OP_IN_OUT_SZ)
				head = FUSE_URING_OP_IN_OUT_SZ;
			ent.payload_sz = (uint32_t)(len - head);
			memset(hdr, 0, sizeof(hdr));
			memcpy(hdr, &h, sizeof(h));
			memcpy(hdr + offsetof(struct fuse_uring_req_header,
					      op_in), data + pos, head);
			memcpy(hdr + offsetof(struct fuse_uring_req_header,
					      ring_ent_in_out), &ent,
			       sizeof(ent));
			send_ring(&s, hdr, data + pos + head, len - head);
			pos += len;
			unique++;
			continue;
		}
		memcpy(req, &h, sizeof(h));
		memcpy(req + sizeof(h), data + pos, len);
		pos += len;
		send_one(&s, req, sizeof(h) + len, unique++);
	}
	e4f_session_destroy(&s);
out_fs:
	e4_fs_close(fs);
	free(req);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return e4_fuzz_fuse(data, size);
}

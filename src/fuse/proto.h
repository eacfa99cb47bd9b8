/* SPDX-License-Identifier: MIT */
/*
 * Request decoding and reply encoding.  A handler sees a validated request
 * (header copied out, payload at least as long as its opcode's minimum) and
 * answers it exactly once through the e4f_reply_* functions.
 */
#ifndef E4F_PROTO_H
#define E4F_PROTO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "fuse/fuse_kernel.h"
#include "fuse/session.h"

/*
 * What follows the header, in at most two pieces: /dev/fuse delivers it
 * whole (one piece), a ring entry in two (the opcode's fixed header in the
 * entry's header buffer, the rest in its payload buffer: uring.c).  The
 * handlers see one sequence of arglen bytes through the e4f_arg_*
 * accessors, so neither transport copies a request to make it contiguous.
 */
struct e4f_arg_piece {
	const uint8_t *p;
	size_t len;
};

struct e4f_req {
	struct e4f_session *s;
	struct fuse_in_header h;	/* copied out: buffers may be unaligned */
	struct e4f_arg_piece piece[2];	/* use the e4f_arg_* accessors */
	size_t arglen;			/* both pieces, extensions left out */
	const struct e4f_sink *sink;
	uint8_t *scratch;		/* E4F_REPLY_BUFSIZE bytes */
	bool replied;
	int error;			/* what was answered, for the debug log */
	size_t outlen;
	atomic_bool interrupted;	/* set by FUSE_INTERRUPT */
};

/* One entry of the dispatch table. */
struct e4f_op {
	const char *name;
	size_t min_arg;			/* shortest valid payload */
	void (*handler)(struct e4f_req *r);
	unsigned flags;
};
#define E4F_OP_NOREPLY	 0x1u	/* FORGET, BATCH_FORGET, INTERRUPT-ish */
#define E4F_OP_PRE_INIT	 0x2u	/* allowed before INIT (INIT itself) */
#define E4F_OP_MODIFIES	 0x4u	/* changes the image: EROFS while ro */

/* The table entry for @opcode, or NULL if e4fuse does not know it. */
const struct e4f_op *e4f_op_find(uint32_t opcode);
const char *e4f_op_name(uint32_t opcode);

/* Copy @n bytes at payload offset @off; what lies past the payload reads
 * as zeros. */
void e4f_arg_copy(const struct e4f_req *r, size_t off, void *dst, size_t n);

/* Copy the fixed-size head of the payload (length already validated). */
static inline void e4f_arg_get(const struct e4f_req *r, void *dst, size_t n)
{
	e4f_arg_copy(r, 0, dst, n);
}

/* The @n bytes at payload offset @off in place, or NULL if the payload is
 * shorter or they straddle its two pieces (the kernel never splits an
 * argument: only a malformed request does). */
const uint8_t *e4f_arg_at(const struct e4f_req *r, size_t off, size_t n);

/* The NUL-terminated string starting at payload offset @off, or NULL if the
 * payload has no terminator after it.  *len gets its length. */
const char *e4f_arg_string(const struct e4f_req *r, size_t off, size_t *len);

/* Replies.  @err is 0 or a negative errno; anything outside the kernel's
 * accepted range (-512, 0] becomes -EIO. */
void e4f_reply_err(struct e4f_req *r, int err);
void e4f_reply_buf(struct e4f_req *r, const void *data, size_t len);
void e4f_reply_iov(struct e4f_req *r, const struct iovec *iov, int iovcnt);
/* For requests that get no answer (FORGET). */
void e4f_reply_none(struct e4f_req *r);

/* Interrupts remembered for requests not yet registered (tests, debug). */
unsigned e4f_early_interrupts(struct e4f_session *s);

static inline bool e4f_req_interrupted(struct e4f_req *r)
{
	return atomic_load_explicit(&r->interrupted, memory_order_relaxed);
}

#endif /* E4F_PROTO_H */

/* SPDX-License-Identifier: MIT */
/*
 * The request engine: header validation, the opcode dispatch table, the
 * in-flight list INTERRUPT looks at, and reply encoding.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/write.h"
#include "fuse/iomap.h"
#include "fuse/ops.h"
#include "fuse/proto.h"

struct e4f_inflight {
	struct e4f_inflight *next, **pprev;
	struct e4f_req *req;
};

/* (each macro stringizes its own argument: FUSE_STATX may be a macro) */
/* Names in the debug log drop the "FUSE_" prefix. */
#define OP(code, fn, min, fl) \
	[code] = { .name = &(#code)[5], .min_arg = (min), .handler = (fn), \
		   .flags = (fl) }
#define RO_OP(code, fn, min) \
	[code] = { .name = &(#code)[5], .min_arg = (min), .handler = (fn) }

/*
 * Dispatch table.  min_arg is the fixed part of each request; handlers
 * validate the variable part (names, forget lists) themselves.  Opcodes that
 * are not here get ENOSYS, which the kernel remembers and stops sending.
 * The iomap opcodes (4089..4095) are in a second, offset table below.
 */
static const struct e4f_op op_table[] = {
	OP(FUSE_INIT, e4f_op_init, 16, E4F_OP_PRE_INIT),
	OP(FUSE_DESTROY, e4f_op_destroy, 0, 0),
	OP(FUSE_FORGET, e4f_op_forget, sizeof(struct fuse_forget_in),
	   E4F_OP_NOREPLY),
	OP(FUSE_BATCH_FORGET, e4f_op_batch_forget,
	   sizeof(struct fuse_batch_forget_in), E4F_OP_NOREPLY),
	OP(FUSE_INTERRUPT, e4f_op_interrupt, sizeof(struct fuse_interrupt_in),
	   E4F_OP_NOREPLY),
	RO_OP(FUSE_LOOKUP, e4f_op_lookup, 1),
	RO_OP(FUSE_GETATTR, e4f_op_getattr, sizeof(struct fuse_getattr_in)),
	RO_OP(FUSE_STATX, e4f_op_statx, sizeof(struct fuse_statx_in)),
	RO_OP(FUSE_OPENDIR, e4f_op_opendir, sizeof(struct fuse_open_in)),
	RO_OP(FUSE_READDIR, e4f_op_readdir, sizeof(struct fuse_read_in)),
	RO_OP(FUSE_READDIRPLUS, e4f_op_readdirplus,
	      sizeof(struct fuse_read_in)),
	RO_OP(FUSE_RELEASEDIR, e4f_op_release, sizeof(struct fuse_release_in)),
	RO_OP(FUSE_FSYNCDIR, e4f_op_fsync, sizeof(struct fuse_fsync_in)),
	RO_OP(FUSE_OPEN, e4f_op_open, sizeof(struct fuse_open_in)),
	RO_OP(FUSE_READ, e4f_op_read, sizeof(struct fuse_read_in)),
	RO_OP(FUSE_RELEASE, e4f_op_release, sizeof(struct fuse_release_in)),
	RO_OP(FUSE_FLUSH, e4f_op_release, sizeof(struct fuse_flush_in)),
	RO_OP(FUSE_FSYNC, e4f_op_fsync, sizeof(struct fuse_fsync_in)),
	RO_OP(FUSE_SYNCFS, e4f_op_fsync, sizeof(struct fuse_syncfs_in)),
	RO_OP(FUSE_READLINK, e4f_op_readlink, 0),
	RO_OP(FUSE_GETXATTR, e4f_op_getxattr,
	      sizeof(struct fuse_getxattr_in) + 1),
	RO_OP(FUSE_LISTXATTR, e4f_op_listxattr,
	      sizeof(struct fuse_getxattr_in)),
	RO_OP(FUSE_STATFS, e4f_op_statfs, 0),
	RO_OP(FUSE_ACCESS, e4f_op_access, sizeof(struct fuse_access_in)),
	RO_OP(FUSE_LSEEK, e4f_op_lseek, sizeof(struct fuse_lseek_in)),
	RO_OP(FUSE_IOCTL, e4f_op_ioctl, sizeof(struct fuse_ioctl_in)),
	OP(FUSE_SETATTR, e4f_op_setattr,
	   sizeof(struct fuse_setattr_in), E4F_OP_MODIFIES),
	OP(FUSE_SYMLINK, e4f_op_symlink,
	   2, E4F_OP_MODIFIES),
	OP(FUSE_MKNOD, e4f_op_mknod,
	   sizeof(struct fuse_mknod_in) + 1, E4F_OP_MODIFIES),
	OP(FUSE_MKDIR, e4f_op_mkdir,
	   sizeof(struct fuse_mkdir_in) + 1, E4F_OP_MODIFIES),
	OP(FUSE_UNLINK, e4f_op_unlink,
	   1, E4F_OP_MODIFIES),
	OP(FUSE_RMDIR, e4f_op_rmdir,
	   1, E4F_OP_MODIFIES),
	OP(FUSE_RENAME, e4f_op_rename,
	   sizeof(struct fuse_rename_in) + 2, E4F_OP_MODIFIES),
	OP(FUSE_LINK, e4f_op_link,
	   sizeof(struct fuse_link_in) + 1, E4F_OP_MODIFIES),
	OP(FUSE_WRITE, e4f_op_write,
	   sizeof(struct fuse_write_in), E4F_OP_MODIFIES),
	OP(FUSE_SETXATTR, e4f_op_setxattr,
	   FUSE_COMPAT_SETXATTR_IN_SIZE + 2, E4F_OP_MODIFIES),
	OP(FUSE_REMOVEXATTR, e4f_op_removexattr, 2, E4F_OP_MODIFIES),
	OP(FUSE_CREATE, e4f_op_create,
	   sizeof(struct fuse_create_in) + 1, E4F_OP_MODIFIES),
	OP(FUSE_FALLOCATE, e4f_op_fallocate,
	   sizeof(struct fuse_fallocate_in), E4F_OP_MODIFIES),
	OP(FUSE_RENAME2, e4f_op_rename2,
	   sizeof(struct fuse_rename2_in) + 2, E4F_OP_MODIFIES),
	OP(FUSE_COPY_FILE_RANGE, e4f_op_copy_file_range,
	   sizeof(struct fuse_copy_file_range_in), E4F_OP_MODIFIES),
	OP(FUSE_TMPFILE, e4f_op_tmpfile,
	   sizeof(struct fuse_create_in), E4F_OP_MODIFIES),
	OP(FUSE_COPY_FILE_RANGE_64, e4f_op_copy_file_range,
	   sizeof(struct fuse_copy_file_range_in), E4F_OP_MODIFIES),
};

/* fuse-iomap (iomap.h), at the top of the opcode range: indexed from
 * E4F_OP_IOMAP_FIRST */
static const struct e4f_op iomap_table[] = {
	[E4F_OP_IOMAP_CONFIG - E4F_OP_IOMAP_FIRST] = {
		.name = "IOMAP_CONFIG", .handler = e4f_op_iomap_config,
		.min_arg = sizeof(struct e4f_iomap_config_in) },
	[E4F_OP_IOMAP_BEGIN - E4F_OP_IOMAP_FIRST] = {
		.name = "IOMAP_BEGIN", .handler = e4f_op_iomap_begin,
		.min_arg = sizeof(struct e4f_iomap_begin_in) },
	/* the write half */
	[E4F_OP_IOMAP_END - E4F_OP_IOMAP_FIRST] = {
		.name = "IOMAP_END", .handler = e4f_op_iomap_end,
		.min_arg = sizeof(struct e4f_iomap_end_in) },
	[E4F_OP_IOMAP_IOEND - E4F_OP_IOMAP_FIRST] = {
		.name = "IOMAP_IOEND", .handler = e4f_op_iomap_ioend,
		.min_arg = sizeof(struct e4f_iomap_ioend_in) },
};

const struct e4f_op *e4f_op_find(uint32_t opcode)
{
	if (opcode >= E4F_OP_IOMAP_FIRST) {
		uint32_t i = opcode - E4F_OP_IOMAP_FIRST;

		if (i >= sizeof(iomap_table) / sizeof(iomap_table[0]) ||
		    !iomap_table[i].handler)
			return NULL;
		return &iomap_table[i];
	}
	if (opcode >= sizeof(op_table) / sizeof(op_table[0]))
		return NULL;
	if (!op_table[opcode].handler)
		return NULL;
	return &op_table[opcode];
}

const char *e4f_op_name(uint32_t opcode)
{
	const struct e4f_op *op = e4f_op_find(opcode);

	if (op)
		return op->name;
	switch (opcode) {
	case FUSE_GETLK: return "GETLK";
	case FUSE_SETLK: return "SETLK";
	case FUSE_SETLKW: return "SETLKW";
	case FUSE_POLL: return "POLL";
	case FUSE_NOTIFY_REPLY: return "NOTIFY_REPLY";
	case FUSE_BMAP: return "BMAP";
	default: return "UNKNOWN";
	}
}

/* The piece holding payload offset @off (< arglen), the offset in it and
 * how many bytes of the payload it holds from there. */
static const uint8_t *arg_locate(const struct e4f_req *r, size_t off,
				 size_t *avail)
{
	size_t first = r->piece[0].len < r->arglen ? r->piece[0].len :
		       r->arglen;

	if (off < first) {
		*avail = first - off;
		return r->piece[0].p + off;
	}
	*avail = r->arglen - off;
	return r->piece[1].p + (off - first);
}

void e4f_arg_copy(const struct e4f_req *r, size_t off, void *dst, size_t n)
{
	uint8_t *d = dst;

	while (n && off < r->arglen) {
		size_t avail;
		const uint8_t *src = arg_locate(r, off, &avail);
		size_t k = n < avail ? n : avail;

		memcpy(d, src, k);
		d += k;
		off += k;
		n -= k;
	}
	memset(d, 0, n);
}

const uint8_t *e4f_arg_at(const struct e4f_req *r, size_t off, size_t n)
{
	static const uint8_t nothing;
	size_t avail;

	if (off > r->arglen || n > r->arglen - off)
		return NULL;
	if (n == 0)
		return &nothing;
	const uint8_t *p = arg_locate(r, off, &avail);

	return n <= avail ? p : NULL;
}

const char *e4f_arg_string(const struct e4f_req *r, size_t off, size_t *len)
{
	size_t avail;

	if (off >= r->arglen)
		return NULL;
	const uint8_t *p = arg_locate(r, off, &avail);
	const uint8_t *nul = memchr(p, '\0', avail);

	if (!nul)
		return NULL;
	*len = (size_t)(nul - p);
	return (const char *)p;
}

/* ---- replies ------------------------------------------------------------ */

/*
 * errors=: the library counts the corruption it finds, whatever found it,
 * so the policy looks at that count, not at reply codes: corruption that a
 * request met but worked around, or found by another thread, counts too.
 * Checked before each reply goes out and after each request, like ext4
 * applying errors= where the error is found.  Corruption found before the
 * session started (the orphan scan at open) was reported when mounting;
 * remount-ro has nothing to do while e4fuse is read-only.
 */
static void apply_errors_policy(struct e4f_session *s)
{
	struct e4_error_state st;
	char what[160];

	if (!s->fs || e4_fs_error_count(s->fs) <= s->errors_before)
		return;
	/* remount-ro: stop writing, keep serving reads (read-only mounts
	 * have nothing to stop) */
	if (s->cfg.errors == E4F_ERRORS_REMOUNT_RO) {
		if (e4_fs_writable(s->fs))
			(void)e4_fs_error_remount_ro(s->fs);
		return;
	}
	if (s->cfg.errors != E4F_ERRORS_PANIC ||
	    atomic_exchange(&s->panic, true))
		return;
	e4_fs_get_error_state(s->fs, &st);
	e4_object_describe(&st.last.obj, what, sizeof(what));
	e4f_log(E4_LOG_ERROR, "errors=panic: corruption found (%s%s%s), "
		"unmounting", e4_rule_id(st.last.rule), what[0] ? " " : "",
		what);
	if (s->on_panic)
		s->on_panic(s);
}

static void send_reply(struct e4f_req *r, int err, const struct iovec *data,
		       int ndata)
{
	struct iovec iov[8];
	struct fuse_out_header oh;
	size_t total = sizeof(oh);

	apply_errors_policy(r->s);
	if (r->replied) {
		e4f_log(E4_LOG_ERROR, "bug: second reply to request %" PRIu64
			" (%s)", (uint64_t)r->h.unique,
			e4f_op_name(r->h.opcode));
		return;
	}
	r->replied = true;
	if (ndata < 0 || ndata > 7)
		ndata = 0, err = -EIO;
	for (int i = 0; i < ndata; i++)
		total += data[i].iov_len;
	if (total > UINT32_MAX) {
		ndata = 0;
		err = -EIO;
		total = sizeof(oh);
	}
	oh.len = (uint32_t)total;
	oh.error = err;
	oh.unique = r->h.unique;
	iov[0].iov_base = &oh;
	iov[0].iov_len = sizeof(oh);
	for (int i = 0; i < ndata; i++)
		iov[i + 1] = data[i];
	r->error = err;
	r->outlen = total - sizeof(oh);

	int ret = r->sink->send(r->sink->ctx, iov, ndata + 1);

	if (ret < 0 && ret != -ENOENT)
		e4f_log(E4_LOG_WARN, "reply to %s (unique %" PRIu64
			") failed: %s", e4f_op_name(r->h.opcode),
			(uint64_t)r->h.unique, strerror(-ret));
}

void e4f_reply_err(struct e4f_req *r, int err)
{
	if (err > 0 || err <= -512)
		err = -EIO;
	send_reply(r, err, NULL, 0);
}

void e4f_reply_buf(struct e4f_req *r, const void *data, size_t len)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };

	send_reply(r, 0, &iov, len ? 1 : 0);
}

void e4f_reply_iov(struct e4f_req *r, const struct iovec *iov, int iovcnt)
{
	send_reply(r, 0, iov, iovcnt);
}

void e4f_reply_none(struct e4f_req *r)
{
	r->replied = true;
}

/* ---- in-flight requests --------------------------------------------------- */

/* Forget the early interrupt for @unique; true if there was one. */
static bool early_take(struct e4f_session *s, uint64_t unique)
{
	if (s->early_count == 0)
		return false;
	for (unsigned i = 0; i < E4F_EARLY_INTERRUPTS; i++) {
		if (s->early[i].unique == unique) {
			s->early[i].unique = 0;
			s->early_count--;
			return true;
		}
	}
	return false;
}

/* Remember an interrupt for @unique, in a free slot or the oldest one. */
static void early_remember(struct e4f_session *s, uint64_t unique)
{
	struct e4f_early_interrupt *slot = NULL;

	for (unsigned i = 0; i < E4F_EARLY_INTERRUPTS; i++) {
		struct e4f_early_interrupt *e = &s->early[i];

		if (e->unique == unique)
			return;		/* sent again */
		if (!slot || (slot->unique && (!e->unique ||
					       e->seq < slot->seq)))
			slot = e;
	}
	if (!slot->unique)
		s->early_count++;
	slot->unique = unique;
	slot->seq = s->early_seq++;
}

static void inflight_add(struct e4f_session *s, struct e4f_inflight *f,
			 struct e4f_req *r)
{
	f->req = r;
	pthread_mutex_lock(&s->inflight_lock);
	f->next = s->inflight;
	f->pprev = &s->inflight;
	if (s->inflight)
		s->inflight->pprev = &f->next;
	s->inflight = f;
	if (early_take(s, r->h.unique))
		atomic_store(&r->interrupted, true);
	pthread_mutex_unlock(&s->inflight_lock);
}

static void inflight_del(struct e4f_session *s, struct e4f_inflight *f)
{
	pthread_mutex_lock(&s->inflight_lock);
	*f->pprev = f->next;
	if (f->next)
		f->next->pprev = f->pprev;
	pthread_mutex_unlock(&s->inflight_lock);
}

/*
 * INTERRUPT: mark the target if it is being served, and otherwise remember
 * it for when the target registers: another worker may have read it and
 * not started it yet.  Never answered.  EAGAIN would make the kernel queue
 * the interrupt again at once, and the worker reading it would spin with
 * the kernel for as long as the target is not registered; and on a
 * FUSE-over-io_uring connection interrupt replies fail anyway (the spec,
 * fuse-io-uring.md §8): a request is interrupted by answering it EINTR.
 * An interrupt whose target was answered already is remembered uselessly
 * until newer ones push it out: uniques are not reused.
 */
void e4f_op_interrupt(struct e4f_req *r)
{
	struct fuse_interrupt_in in;
	bool found = false;

	e4f_arg_get(r, &in, sizeof(in));
	pthread_mutex_lock(&r->s->inflight_lock);
	for (struct e4f_inflight *f = r->s->inflight; f; f = f->next) {
		if (f->req->h.unique == in.unique) {
			atomic_store(&f->req->interrupted, true);
			found = true;
			break;
		}
	}
	if (!found && in.unique != 0)
		early_remember(r->s, in.unique);
	pthread_mutex_unlock(&r->s->inflight_lock);
	e4f_reply_none(r);
}

unsigned e4f_early_interrupts(struct e4f_session *s)
{
	pthread_mutex_lock(&s->inflight_lock);
	unsigned n = s->early_count;

	pthread_mutex_unlock(&s->inflight_lock);
	return n;
}

/* ---- the engine ----------------------------------------------------------- */

/* LOOKUP's name for the debug line, taken before the request is served: a
 * ring entry's reply is written over its payload (uring.c). */
static void debug_name(const struct e4f_req *r, char name[70])
{
	size_t nlen = 0;
	const char *p = r->h.opcode == FUSE_LOOKUP ?
			e4f_arg_string(r, 0, &nlen) : NULL;

	name[0] = '\0';
	if (p)
		snprintf(name, 70, " '%.*s'", (int)(nlen < 64 ? nlen : 64), p);
}

static void debug_line(const struct e4f_req *r, const char *name)
{
	if (r->replied && r->error == 0 && r->outlen == 0 &&
	    (r->h.opcode == FUSE_FORGET || r->h.opcode == FUSE_BATCH_FORGET))
		return;
	e4f_log(E4_LOG_INFO, "req %" PRIu64 " %s node %" PRIu64
		"%s in %zu -> %s%d out %zu", (uint64_t)r->h.unique,
		e4f_op_name(r->h.opcode), (uint64_t)r->h.nodeid, name,
		r->arglen, r->error ? "error " : "", r->error, r->outlen);
}

/* The checks a header needs before anything can be answered. */
static int header_valid(const struct fuse_in_header *h, size_t len)
{
	if (len < sizeof(*h)) {
		e4f_log(E4_LOG_ERROR, "request of %zu bytes: shorter than "
			"its header", len);
		return -EPROTO;
	}
	if (h->len != len) {
		e4f_log(E4_LOG_ERROR, "request %" PRIu64 ": header says %u "
			"bytes, got %zu", (uint64_t)h->unique, h->len, len);
		return -EPROTO;
	}
	return 0;
}

int e4f_process_request(struct e4f_session *s, const void *req, size_t len,
			const struct e4f_sink *sink, void *scratch)
{
	struct fuse_in_header h;

	memset(&h, 0, sizeof(h));
	memcpy(&h, req, len < sizeof(h) ? len : sizeof(h));
	if (header_valid(&h, len) < 0)
		return -EPROTO;
	return e4f_process_parts(s, req, (const uint8_t *)req + sizeof(h),
				 len - sizeof(h), NULL, 0, sink, scratch);
}

int e4f_process_parts(struct e4f_session *s, const void *hdr,
		      const void *head, size_t headlen,
		      const void *payload, size_t payloadlen,
		      const struct e4f_sink *sink, void *scratch)
{
	struct e4f_req r;

	memset(&r, 0, sizeof(r));
	memcpy(&r.h, hdr, sizeof(r.h));
	if (headlen > SIZE_MAX / 4 || payloadlen > SIZE_MAX / 4 ||
	    header_valid(&r.h, sizeof(r.h) + headlen + payloadlen) < 0)
		return -EPROTO;
	r.s = s;
	r.sink = sink;
	r.scratch = scratch;
	r.piece[0] = (struct e4f_arg_piece){ head, headlen };
	r.piece[1] = (struct e4f_arg_piece){ payload, payloadlen };
	r.arglen = headlen + payloadlen;
	atomic_init(&r.interrupted, false);

	/* Request extensions (security context, groups) are only sent when
	 * negotiated, and e4fuse does not negotiate them: skip them. */
	size_t extlen = (size_t)r.h.total_extlen * 8;

	const struct e4f_op *op = e4f_op_find(r.h.opcode);
	bool initialized = atomic_load(&s->initialized);
	char name[70];

	if (s->cfg.debug)
		debug_name(&r, name);

	if (extlen > r.arglen) {
		e4f_reply_err(&r, -EINVAL);
	} else if (!op) {
		/* NOTIFY_REPLY answers a notification: it gets no reply */
		if (r.h.opcode == FUSE_NOTIFY_REPLY)
			e4f_reply_none(&r);
		else
			e4f_reply_err(&r, -ENOSYS);
	} else if (!initialized && !(op->flags & E4F_OP_PRE_INIT)) {
		e4f_reply_err(&r, -EIO);
	} else if (initialized && r.h.opcode == FUSE_INIT) {
		e4f_reply_err(&r, -EPROTO);
	} else if (s->cfg.allow_root && r.h.uid != 0 &&
		   r.h.uid != s->cfg.owner_uid &&
		   !(op->flags & (E4F_OP_NOREPLY | E4F_OP_PRE_INIT)) &&
		   r.h.opcode != FUSE_RELEASE &&
		   r.h.opcode != FUSE_RELEASEDIR) {
		/* allow_root: the mount is allow_other for the kernel, and
		 * only root and the user who mounted it pass here */
		e4f_reply_err(&r, -EACCES);
	} else if ((r.arglen -= extlen) < op->min_arg) {
		e4f_log(E4_LOG_WARN, "request %" PRIu64 " %s: payload of %zu "
			"bytes, at least %zu expected", (uint64_t)r.h.unique,
			op->name, r.arglen, op->min_arg);
		if (op->flags & E4F_OP_NOREPLY)
			e4f_reply_none(&r);
		else
			e4f_reply_err(&r, -EINVAL);
	} else if ((op->flags & E4F_OP_MODIFIES) && !e4_fs_writable(s->fs)) {
		e4f_reply_err(&r, -EROFS);
	} else {
		struct e4f_inflight f;
		bool track = !(op->flags & E4F_OP_NOREPLY);

		if (track)
			inflight_add(s, &f, &r);
		op->handler(&r);
		if (track)
			inflight_del(s, &f);
		if (!r.replied && !(op->flags & E4F_OP_NOREPLY)) {
			e4f_log(E4_LOG_ERROR, "bug: %s left unanswered",
				op->name);
			e4f_reply_err(&r, -EIO);
		}
		apply_errors_policy(s);
	}
	if (s->cfg.debug)
		debug_line(&r, name);
	return 0;
}

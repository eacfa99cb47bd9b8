/* SPDX-License-Identifier: MIT */
/*
 * FUSE over io_uring (uring.h): the rings, the serving threads and the
 * ring entry's request and reply layout.  The protocol is
 * /work/shared/spec/fuse-io-uring.md; section numbers below are its.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fuse/proto.h"
#include "fuse/session.h"
#include "fuse/uring.h"

/* Threads (each one ring entry) per queue, and in all: a slow request
 * (a journal commit, a cold read) holds up only its own entry, and the
 * memory (two E4F_REPLY_BUFSIZE buffers and a stack a thread) stays well
 * inside the sandbox's default limit. */
#define URING_PER_QUEUE 2u
#define URING_THREADS_MAX 64u

#define HDR_SIZE sizeof(struct fuse_uring_req_header)
#define ENT_OFF offsetof(struct fuse_uring_req_header, ring_ent_in_out)
#define OP_IN_OFF offsetof(struct fuse_uring_req_header, op_in)
#define SQE_SIZE 128u		/* IORING_SETUP_SQE128 */
#define SQE_CMD_OFF 48u		/* the command area of a 128-byte SQE */

/* user_data of the two kinds of submission */
#define TAG_ENTRY 1u
#define TAG_WAKE 2u

/* ---- the request and its reply in a ring entry (no kernel) ---------------- */

struct ring_reply {
	uint8_t *hdr, *payload;
	size_t payload_size;
	uint8_t *bounce;
	uint64_t unique;
	bool sent;
};

static void write_reply_header(struct ring_reply *rr, int32_t error,
			       size_t payload_len)
{
	struct fuse_out_header oh = {
		.len = (uint32_t)(sizeof(oh) + payload_len),
		.error = error,
		.unique = rr->unique,
	};
	struct fuse_uring_ent_in_out ent;

	memcpy(rr->hdr, &oh, sizeof(oh));
	memcpy(&ent, rr->hdr + ENT_OFF, sizeof(ent));
	ent.payload_sz = (uint32_t)payload_len;
	memcpy(rr->hdr + ENT_OFF, &ent, sizeof(ent));
	rr->sent = true;
}

static bool in_payload(const struct ring_reply *rr, const void *p)
{
	const uint8_t *b = p;

	return b >= rr->payload && b < rr->payload + rr->payload_size;
}

/*
 * The sink: the out header at the start of the header buffer (its len is
 * ignored by the kernel, set anyway), the data at the start of the payload
 * buffer.  A handler that built its reply in the payload buffer (the
 * scratch of a request that brought no payload) built it in place, and it
 * is not copied.  Several pieces some of which are in the payload buffer
 * could overwrite each other: they go through the bounce buffer.
 */
static int ring_send(void *ctx, const struct iovec *iov, int iovcnt)
{
	struct ring_reply *rr = ctx;
	struct fuse_out_header oh;
	size_t total = 0;
	bool inside = false;

	memcpy(&oh, iov[0].iov_base, sizeof(oh));
	for (int i = 1; i < iovcnt; i++) {
		total += iov[i].iov_len;
		inside |= iov[i].iov_len && in_payload(rr, iov[i].iov_base);
	}
	if (total > rr->payload_size) {
		write_reply_header(rr, -EIO, 0);
		return -EIO;
	}
	uint8_t *to = inside && iovcnt > 2 ? rr->bounce : rr->payload;
	size_t off = 0;

	for (int i = 1; i < iovcnt; i++) {
		if (iov[i].iov_len && iov[i].iov_base != to + off)
			memmove(to + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	if (to != rr->payload)
		memcpy(rr->payload, to, total);
	write_reply_header(rr, oh.error, total);
	return 0;
}

uint64_t e4f_uring_serve(struct e4f_session *s, uint8_t *hdr,
			 uint8_t *payload, size_t payload_size, void *bounce)
{
	struct fuse_in_header h;
	struct fuse_uring_ent_in_out ent;
	struct ring_reply rr = {
		.hdr = hdr, .payload = payload, .payload_size = payload_size,
		.bounce = bounce,
	};
	struct e4f_sink sink = { .send = ring_send, .ctx = &rr };

	memcpy(&h, hdr, sizeof(h));
	memcpy(&ent, hdr + ENT_OFF, sizeof(ent));
	rr.unique = h.unique;

	/* in_header.len = 40 + the fixed header in op_in + payload_sz (§7.2) */
	size_t head = h.len >= sizeof(h) + (size_t)ent.payload_sz ?
		      h.len - sizeof(h) - ent.payload_sz : SIZE_MAX;

	if (ent.payload_sz > payload_size || head > FUSE_URING_OP_IN_OUT_SZ) {
		e4f_log(E4_LOG_ERROR, "io_uring: request %" PRIu64 ": length "
			"%u with a payload of %u bytes does not fit an entry",
			(uint64_t)h.unique, h.len, ent.payload_sz);
	} else {
		/* with no payload to read, the reply is built where the
		 * kernel takes it from */
		void *scratch = ent.payload_sz == 0 ? payload : bounce;

		e4f_process_parts(s, hdr, hdr + OP_IN_OFF, head, payload,
				  ent.payload_sz, &sink, scratch);
	}
	/* requests that get no answer (NOTIFY_REPLY), and requests the
	 * engine could not read, still give the entry back (§7.5) */
	if (!rr.sent)
		write_reply_header(&rr, ent.payload_sz > payload_size ||
				   head > FUSE_URING_OP_IN_OUT_SZ ? -EIO : 0,
				   0);
	return ent.commit_id;
}

/* ---- possible CPUs ----------------------------------------------------------- */

unsigned e4f_uring_possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	char line[4096];
	unsigned n = 0;

	if (f && fgets(line, sizeof(line), f)) {
		/* "0-3,8,10-11": count them */
		for (char *p = line; *p && *p != '\n';) {
			char *end;
			unsigned long a = strtoul(p, &end, 10), b = a;

			if (end == p)
				break;
			if (*end == '-') {
				p = end + 1;
				b = strtoul(p, &end, 10);
				if (end == p || b < a)
					break;
			}
			if (b - a >= 65536 - n)
				break;
			n += (unsigned)(b - a + 1);
			p = *end == ',' ? end + 1 : end;
		}
	}
	if (f)
		fclose(f);
	if (n == 0) {
		long c = sysconf(_SC_NPROCESSORS_CONF);

		n = c > 0 && c < 65536 ? (unsigned)c : 1;
	}
	return n;
}

/* ---- one ring ----------------------------------------------------------------- */

struct ring {
	int fd;
	void *sq_map, *cq_map, *sqe_map;
	size_t sq_map_size, cq_map_size, sqe_map_size;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
	uint8_t *sqes;
	pthread_mutex_t sq_lock;	/* the thread and e4f_uring_stop */
};

static int ring_enter(int fd, unsigned submit, unsigned wait,
		      unsigned flags)
{
	long ret = syscall(SYS_io_uring_enter, fd, submit, wait, flags,
			   NULL, 0);

	return ret < 0 ? -errno : (int)ret;
}

static void ring_close(struct ring *rg)
{
	if (rg->sqe_map)
		munmap(rg->sqe_map, rg->sqe_map_size);
	if (rg->cq_map && rg->cq_map != rg->sq_map)
		munmap(rg->cq_map, rg->cq_map_size);
	if (rg->sq_map)
		munmap(rg->sq_map, rg->sq_map_size);
	if (rg->fd >= 0)
		close(rg->fd);
	rg->fd = -1;
	rg->sq_map = rg->cq_map = rg->sqe_map = NULL;
}

static void *ring_map(int fd, size_t size, off_t what)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, fd, what);

	return p == MAP_FAILED ? NULL : p;
}

/* A ring of 128-byte SQEs (the FUSE commands need them, §3): room for the
 * entry's command and a wake-up. */
static int ring_open(struct ring *rg)
{
	struct io_uring_params p;

	memset(rg, 0, sizeof(*rg));
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SQE128;
	long fd = syscall(SYS_io_uring_setup, 4, &p);

	if (fd < 0) {
		rg->fd = -1;
		return -errno;
	}
	rg->fd = (int)fd;
	rg->sq_map_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	rg->cq_map_size = p.cq_off.cqes +
			  p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (rg->cq_map_size > rg->sq_map_size)
			rg->sq_map_size = rg->cq_map_size;
		rg->cq_map_size = rg->sq_map_size;
	}
	rg->sqe_map_size = (size_t)p.sq_entries * SQE_SIZE;
	rg->sq_map = ring_map(rg->fd, rg->sq_map_size, IORING_OFF_SQ_RING);
	rg->cq_map = !rg->sq_map ? NULL :
		     (p.features & IORING_FEAT_SINGLE_MMAP) ? rg->sq_map :
		     ring_map(rg->fd, rg->cq_map_size, IORING_OFF_CQ_RING);
	rg->sqe_map = !rg->cq_map ? NULL :
		      ring_map(rg->fd, rg->sqe_map_size, IORING_OFF_SQES);
	if (!rg->sqe_map) {
		int e = errno;

		ring_close(rg);
		return -e;
	}
	uint8_t *sq = rg->sq_map, *cq = rg->cq_map;

	rg->sq_head = (unsigned *)(sq + p.sq_off.head);
	rg->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	rg->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	rg->sq_array = (unsigned *)(sq + p.sq_off.array);
	rg->cq_head = (unsigned *)(cq + p.cq_off.head);
	rg->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	rg->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	rg->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	rg->sqes = rg->sqe_map;
	pthread_mutex_init(&rg->sq_lock, NULL);
	return 0;
}

/* Queue one SQE (submitted by the next ring_enter). */
static void ring_push(struct ring *rg, const uint8_t sqe[SQE_SIZE])
{
	pthread_mutex_lock(&rg->sq_lock);
	unsigned tail = *rg->sq_tail;
	unsigned idx = tail & *rg->sq_mask;

	memcpy(rg->sqes + (size_t)idx * SQE_SIZE, sqe, SQE_SIZE);
	rg->sq_array[idx] = idx;
	__atomic_store_n(rg->sq_tail, tail + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&rg->sq_lock);
}

static unsigned ring_unsubmitted(struct ring *rg)
{
	return __atomic_load_n(rg->sq_tail, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(rg->sq_head, __ATOMIC_ACQUIRE);
}

/* The next completion, if any (the CQ head moves on). */
static bool ring_reap(struct ring *rg, struct io_uring_cqe *out)
{
	unsigned head = *rg->cq_head;

	if (head == __atomic_load_n(rg->cq_tail, __ATOMIC_ACQUIRE))
		return false;
	*out = rg->cqes[head & *rg->cq_mask];
	__atomic_store_n(rg->cq_head, head + 1, __ATOMIC_RELEASE);
	return true;
}

/* ---- the serving threads -------------------------------------------------------- */

enum uring_state { URING_WAIT, URING_GO, URING_CANCEL };

struct uring_thread {
	struct e4f_uring *u;
	uint16_t qid;
	struct ring rg;
	pthread_t thr;
	bool started;
	uint8_t *hdr, *payload, *bounce;
	struct iovec iov[2];		/* read by the kernel at REGISTER */
	atomic_ulong served;
};

struct e4f_uring {
	struct e4f_session *s;
	unsigned nqueues, per_queue, nthreads;
	struct uring_thread *t;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum uring_state state;
	atomic_bool stopping;
};

static void entry_command(struct uring_thread *t, uint32_t cmd_op,
			  uint64_t commit_id)
{
	uint8_t sqe[SQE_SIZE];
	struct io_uring_sqe *q = (struct io_uring_sqe *)sqe;
	struct fuse_uring_cmd_req req = { .commit_id = commit_id,
					  .qid = t->qid };

	memset(sqe, 0, sizeof(sqe));
	q->opcode = IORING_OP_URING_CMD;
	q->fd = t->u->s->fd;
	q->cmd_op = cmd_op;
	if (cmd_op == FUSE_IO_URING_CMD_REGISTER) {
		q->addr = (uint64_t)(uintptr_t)t->iov;
		q->len = 2;
	}
	q->user_data = TAG_ENTRY;
	memcpy(sqe + SQE_CMD_OFF, &req, sizeof(req));
	ring_push(&t->rg, sqe);
}

/*
 * One entry: register it, then serve a request per completion and commit
 * its reply with the next fetch.  Ends at teardown (ENOTCONN: unmount or
 * abort, §9), when woken by e4f_uring_stop, or on an error; a failed
 * REGISTER turns the kernel back to /dev/fuse (§2.3), which the workers
 * still read.
 */
static void *uring_thread_main(void *arg)
{
	struct uring_thread *t = arg;
	struct e4f_uring *u = t->u;
	uint32_t last_op = FUSE_IO_URING_CMD_REGISTER;
	uint64_t last_id = 0;

	pthread_mutex_lock(&u->lock);
	while (u->state == URING_WAIT)
		pthread_cond_wait(&u->cond, &u->lock);
	bool go = u->state == URING_GO;

	pthread_mutex_unlock(&u->lock);
	if (!go)
		return NULL;
	entry_command(t, last_op, 0);
	for (;;) {
		int ret = ring_enter(t->rg.fd, ring_unsubmitted(&t->rg), 1,
				     IORING_ENTER_GETEVENTS);

		if (ret < 0 && ret != -EINTR && ret != -EAGAIN &&
		    ret != -EBUSY) {
			e4f_log(E4_LOG_ERROR, "io_uring: queue %u: "
				"io_uring_enter: %s", t->qid, strerror(-ret));
			return NULL;
		}
		struct io_uring_cqe cqe;

		while (ring_reap(&t->rg, &cqe)) {
			if (cqe.user_data == TAG_WAKE) {
				if (atomic_load(&u->stopping))
					return NULL;
				continue;
			}
			if (cqe.res == -EAGAIN || cqe.res == -EINTR) {
				/* not taken: the same command again */
				entry_command(t, last_op, last_id);
				continue;
			}
			if (cqe.res == -ENOTCONN || cqe.res == -ECONNABORTED ||
			    cqe.res == -ECANCELED)
				return NULL;	/* the connection is gone */
			if (cqe.res < 0) {
				e4f_log(E4_LOG_ERROR, "io_uring: queue %u: %s "
					"failed: %s%s", t->qid,
					last_op == FUSE_IO_URING_CMD_REGISTER ?
					"registering an entry" :
					"committing a reply",
					strerror(-cqe.res),
					last_op == FUSE_IO_URING_CMD_REGISTER ?
					"; the kernel serves through /dev/fuse"
					: "");
				return NULL;
			}
			last_id = e4f_uring_serve(u->s, t->hdr, t->payload,
						  E4F_REPLY_BUFSIZE,
						  t->bounce);
			atomic_fetch_add(&t->served, 1);
			last_op = FUSE_IO_URING_CMD_COMMIT_AND_FETCH;
			entry_command(t, last_op, last_id);
		}
	}
}

static void thread_free(struct uring_thread *t)
{
	if (t->rg.sq_map) {
		ring_close(&t->rg);
		pthread_mutex_destroy(&t->rg.sq_lock);
	}
	free(t->hdr);
	free(t->payload);
	free(t->bounce);
}

static int thread_prepare(struct e4f_uring *u, struct uring_thread *t,
			  uint16_t qid)
{
	t->u = u;
	t->qid = qid;
	t->rg.fd = -1;
	atomic_init(&t->served, 0);
	int ret = ring_open(&t->rg);

	if (ret < 0)
		return ret;
	/* page-aligned, zeroed: op_in of opcodes without a fixed header
	 * keeps what was there (§7.2), never uninitialised memory */
	if (posix_memalign((void **)&t->hdr, 4096, HDR_SIZE) ||
	    posix_memalign((void **)&t->payload, 4096, E4F_REPLY_BUFSIZE) ||
	    !(t->bounce = malloc(E4F_REPLY_BUFSIZE)))
		return -ENOMEM;
	memset(t->hdr, 0, HDR_SIZE);
	t->iov[0] = (struct iovec){ t->hdr, HDR_SIZE };
	t->iov[1] = (struct iovec){ t->payload, E4F_REPLY_BUFSIZE };
	ret = pthread_create(&t->thr, NULL, uring_thread_main, t);
	if (ret)
		return -ret;
	t->started = true;
	return 0;
}

int e4f_uring_prepare(struct e4f_session *s)
{
	unsigned nq = s->cfg.uring_queues;
	const char *why = NULL;
	int ret = 0;

	if (s->fd < 0)
		return -EBADF;	/* no kernel: the tests' sessions */
	if (nq == 0 || nq > URING_THREADS_MAX)
		why = "too many CPUs for its queues", ret = -E2BIG;
	if (ret < 0) {
		e4f_log(E4_LOG_WARN, "io_uring: not used (%s)", why);
		return ret;
	}
	struct e4f_uring *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	u->s = s;
	u->nqueues = nq;
	u->per_queue = nq * URING_PER_QUEUE <= URING_THREADS_MAX ?
		       URING_PER_QUEUE : 1;
	u->nthreads = nq * u->per_queue;
	u->state = URING_WAIT;
	atomic_init(&u->stopping, false);
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->cond, NULL);
	s->uring = u;
	u->t = calloc(u->nthreads, sizeof(*u->t));
	if (!u->t)
		ret = -ENOMEM;
	for (unsigned i = 0; ret == 0 && i < u->nthreads; i++)
		ret = thread_prepare(u, &u->t[i], (uint16_t)(i % nq));
	if (ret < 0) {
		e4f_log(E4_LOG_WARN, "io_uring: cannot be set up (%s)",
			strerror(-ret));
		e4f_uring_start(s, false);	/* and gone */
	}
	return ret;
}

void e4f_uring_start(struct e4f_session *s, bool go)
{
	struct e4f_uring *u = s->uring;

	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	u->state = go ? URING_GO : URING_CANCEL;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
	if (!go)
		e4f_uring_destroy(s);
	else if (!s->cfg.detaching)
		e4f_log(E4_LOG_INFO, "transport: io_uring, %u queues of %u "
			"entries", u->nqueues, u->per_queue);
}

void e4f_uring_stop(struct e4f_session *s)
{
	struct e4f_uring *u = s->uring;
	uint8_t sqe[SQE_SIZE];
	unsigned long served = 0;

	if (!u)
		return;
	atomic_store(&u->stopping, true);
	memset(sqe, 0, sizeof(sqe));
	((struct io_uring_sqe *)sqe)->opcode = IORING_OP_NOP;
	((struct io_uring_sqe *)sqe)->user_data = TAG_WAKE;
	for (unsigned i = 0; i < u->nthreads; i++) {
		struct uring_thread *t = &u->t[i];

		if (!t->started)
			continue;
		/* a thread still waiting for a request wakes up (one that
		 * has ended leaves the NOP unread) */
		ring_push(&t->rg, sqe);
		(void)ring_enter(t->rg.fd, 1, 0, 0);
		pthread_join(t->thr, NULL);
		t->started = false;
		served += atomic_load(&t->served);
	}
	e4f_log(E4_LOG_INFO, "transport: io_uring, %u queues of %u entries, "
		"served %lu requests, /dev/fuse %lu", u->nqueues, u->per_queue,
		served, atomic_load(&s->dev_requests));
}

void e4f_uring_destroy(struct e4f_session *s)
{
	struct e4f_uring *u = s->uring;

	if (!u)
		return;
	for (unsigned i = 0; u->t && i < u->nthreads; i++) {
		if (u->t[i].started)
			pthread_join(u->t[i].thr, NULL);
		thread_free(&u->t[i]);
	}
	free(u->t);
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->cond);
	free(u);
	s->uring = NULL;
}

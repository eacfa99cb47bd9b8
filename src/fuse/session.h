/* SPDX-License-Identifier: MIT */
/*
 * The FUSE session: one connection to the kernel (a /dev/fuse descriptor),
 * the file system it serves, and the request engine.
 *
 * The engine is a function of (session, request bytes) -> reply bytes handed
 * to a sink, so it runs the same on requests read from /dev/fuse and on
 * buffers a fuzz harness or unit test makes up without a kernel.
 */
#ifndef E4F_SESSION_H
#define E4F_SESSION_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "e4/e4.h"
#include "fuse/lost_found.h"
#include "fuse/nodes.h"
#include "fuse/splice.h"

/* Largest READ/WRITE payload negotiated: 256 pages of 4 KiB. */
#define E4F_MAX_PAGES 256u
#define E4F_MAX_IO (E4F_MAX_PAGES * 4096u)
/* /dev/fuse read buffer: one WRITE request (header + fuse_write_in + data)
 * plus slack; the kernel demands at least 8 KiB. */
#define E4F_REQ_BUFSIZE (E4F_MAX_IO + 4096u)
/* Reply scratch space: the largest payload any handler builds. */
#define E4F_REPLY_BUFSIZE (E4F_MAX_IO + 4096u)

/* Entry and attribute validity: nothing changes the image behind our back. */
#define E4F_TIMEOUT_SEC 86400u
/* The validity e4fuse gives names, attributes and absent names. */
#define E4F_ENTRY_TIMEOUT(s) ((s)->cfg.timeouts_set ? \
			      (s)->cfg.entry_timeout : E4F_TIMEOUT_SEC)
#define E4F_ATTR_TIMEOUT(s) ((s)->cfg.timeouts_set ? \
			     (s)->cfg.attr_timeout : E4F_TIMEOUT_SEC)
#define E4F_NEGATIVE_TIMEOUT(s) ((s)->cfg.timeouts_set ? \
				 (s)->cfg.negative_timeout : E4F_TIMEOUT_SEC)

/* What to do when the library reports corruption (its error state, see
 * e4_fs_get_error_state), applied in proto.c. */
enum e4f_errors_policy {
	E4F_ERRORS_CONTINUE,	/* report EUCLEAN to the caller, keep serving */
	E4F_ERRORS_REMOUNT_RO,	/* same while read-only (the only mode yet) */
	E4F_ERRORS_PANIC,	/* stop serving and unmount at the first one */
};

/* How requests reach the server (uring.c): -o uring / -o nouring. */
enum e4f_transport {
	E4F_TRANSPORT_AUTO,	/* io_uring when the kernel offers it */
	E4F_TRANSPORT_URING,	/* the same, and say so when it cannot */
	E4F_TRANSPORT_DEVICE,	/* the /dev/fuse read/write loop only */
};

struct e4f_uring;

/* What the session needs from the options; main.c fills it. */
struct e4f_session_config {
	bool debug;			/* one log line per request */
	bool default_permissions;	/* kernel checks permissions */
	bool writeback_cache;		/* asked for when writable */
	bool uid_set, gid_set;
	uint32_t uid, gid;		/* ownership override */
	enum e4f_errors_policy errors;
	const char *lost_found;		/* the virtual directory's name, or
					 * NULL (lost_found.h) */
	bool allow_root;		/* only root and owner_uid */
	bool fakeroot;			/* every caller is root for ACCESS */
	bool minixdf;			/* statfs: f_blocks with overhead */
	bool nobtime;			/* STATX declined: no birth time */
	uint32_t umask;			/* cleared from the modes shown */
	uint32_t owner_uid;		/* who mounted it */
	bool timeouts_set;		/* else E4F_TIMEOUT_SEC for all */
	uint64_t entry_timeout, attr_timeout, negative_timeout; /* seconds */
	enum e4f_transport transport;
	unsigned uring_queues;		/* the kernel's: possible CPUs */
	bool splice;			/* READ replies spliced (splice.h) */
	bool detaching;			/* the mount goes to the background:
					 * the transport is said at unmount
					 * only (a mount that works prints
					 * nothing before it detaches) */
};

/*
 * Where replies go.  @iov[0] always starts with a complete fuse_out_header
 * whose len is the sum of all iov lengths.  Returns 0 or -errno; -ENOENT
 * means the kernel dropped the request (interrupted), which is not an error.
 */
struct e4f_sink {
	int (*send)(void *ctx, const struct iovec *iov, int iovcnt);
	void *ctx;
	/* a /dev/fuse worker's pipe: READ may reply by splice (splice.h) */
	struct e4f_splice *splice;
};

struct e4f_inflight;
struct e4f_iomap;
struct e4f_iomap_backing;

/*
 * INTERRUPTs that came before their target was registered (another worker
 * has read it and not yet started it): remembered so that the target is
 * marked when it registers.  The target has been read by some worker
 * (interrupts were seen only after their request was), so about one per
 * worker can be waiting at once: the table is fixed at the most workers
 * threads= allows, and the oldest entry goes first, so whatever the kernel
 * sends cannot make it grow.
 */
#define E4F_EARLY_INTERRUPTS 64u

struct e4f_early_interrupt {
	uint64_t unique;		/* the target; 0: free slot */
	uint64_t seq;			/* arrival order, for dropping */
};

struct e4f_session {
	struct e4_fs *fs;
	struct e4f_session_config cfg;
	uint32_t block_size;
	int fd;				/* /dev/fuse, -1 without a kernel */

	/* negotiated at INIT */
	atomic_bool initialized;
	uint32_t proto_minor;
	uint64_t init_flags;		/* what the kernel granted and we use */
	/* fuse-iomap (iomap.h): offered only when a backing device is
	 * given; the state exists once negotiated */
	const struct e4f_iomap_backing *iomap_backing;
	struct e4f_iomap *iomap;

	struct e4f_nodes nodes;
	/* READDIRPLUS replies carry attributes until then (CLOCK_MONOTONIC,
	 * ms; ops_read.c) */
	_Atomic int64_t plus_until_ms;
	struct e4f_lost_found lost;	/* -o lost_found */

	/* requests being served, for INTERRUPT, and interrupts that came
	 * first (all under inflight_lock) */
	pthread_mutex_t inflight_lock;
	struct e4f_inflight *inflight;
	struct e4f_early_interrupt early[E4F_EARLY_INTERRUPTS];
	uint64_t early_seq;
	unsigned early_count;

	/* INIT / end of session signalling for main.c */
	pthread_mutex_t state_lock;
	pthread_cond_t state_cond;
	bool ended;
	int end_error;			/* why the session ended, 0 = unmounted */
	atomic_bool panic;		/* errors=panic fired */
	uint64_t errors_before;		/* corruption found before serving */
	pthread_t *workers;
	unsigned nworkers;
	struct e4f_uring *uring;	/* the ring transport, if in use */
	const char *no_ring;		/* why not, if INIT chose /dev/fuse */
	atomic_ulong dev_requests;	/* served from /dev/fuse reads */
	/* zero-copy READ replies on the /dev/fuse loop (splice.h) */
	struct e4f_splice_source splice_src;
	struct e4f_splice_state splice;
	void (*on_panic)(struct e4f_session *s);	/* main.c: unmount */
};

int e4f_session_init(struct e4f_session *s, struct e4_fs *fs, int fd,
		     const struct e4f_session_config *cfg);
void e4f_session_destroy(struct e4f_session *s);

/*
 * Decode, validate and serve one request of @len bytes at @req.  Every reply
 * (at most one per request) goes to @sink; @scratch (E4F_REPLY_BUFSIZE
 * bytes, per thread) is where handlers build it.  Returns 0 when the request
 * was handled (even with an error reply), -EPROTO when the header itself is
 * malformed so that no reply could be addressed.
 */
int e4f_process_request(struct e4f_session *s, const void *req, size_t len,
			const struct e4f_sink *sink, void *scratch);

/*
 * The same for a request that comes in pieces (a ring entry, uring.c):
 * @hdr its fuse_in_header, then the opcode's fixed header (@head) and the
 * rest (@payload); h.len must be the sum.  One engine for both transports.
 */
int e4f_process_parts(struct e4f_session *s, const void *hdr,
		      const void *head, size_t headlen,
		      const void *payload, size_t payloadlen,
		      const struct e4f_sink *sink, void *scratch);

/* Start @nthreads workers serving s->fd until the kernel ends the
 * connection; e4f_session_join waits for them and returns 0 on a clean
 * unmount, -errno otherwise. */
int e4f_session_start(struct e4f_session *s, unsigned nthreads);
int e4f_session_join(struct e4f_session *s);

/* Wait up to @timeout_ms for INIT: 0 when negotiated, -ETIMEDOUT, or the
 * error that ended the session first. */
int e4f_session_wait_init(struct e4f_session *s, int timeout_ms);

/* Notifications (server -> kernel, unique 0). */
int e4f_notify_inval_inode(struct e4f_session *s, uint64_t nodeid,
			   int64_t off, int64_t len);
int e4f_notify_inval_entry(struct e4f_session *s, uint64_t parent,
			   const char *name, size_t name_len);
/* Notification @code with the fixed payload @data (the iomap ones). */
int e4f_notify_buf(struct e4f_session *s, int code, const void *data,
		   size_t len);

/* ---- node ids <-> inode numbers ----------------------------------------- */

static inline uint64_t e4f_ino_to_nodeid(uint32_t ino)
{
	return ino == E4_ROOT_INO ? 1u : ino;
}

/* -ESTALE for node ids no inode maps to (0, 2: ino 1 is never exposed,
 * anything past 32 bits; 2 is -o lost_found's virtual directory). */
static inline int e4f_nodeid_to_ino(uint64_t nodeid, uint32_t *ino)
{
	if (nodeid == 1) {
		*ino = E4_ROOT_INO;
		return 0;
	}
	if (nodeid <= 2 || nodeid > UINT32_MAX)
		return -ESTALE;
	*ino = (uint32_t)nodeid;
	return 0;
}

/* ---- logging ------------------------------------------------------------ */

/* Log sink used by the front end and handed to the library. */
enum e4f_log_target {
	E4F_LOG_STDERR,		/* "e4fuse: message" */
	E4F_LOG_SYSLOG,		/* a detached supervisor */
	/* the serving process: "<level>e4fuse: message" to stderr, a pipe
	 * its supervisor reads (it can reach neither a terminal nor syslog
	 * from its sandbox) */
	E4F_LOG_TAGGED,
};
void e4f_log_to(enum e4f_log_target target);
/* The supervisor: pass on one line the serving process wrote (tagged or
 * not: sanitizer reports, the sandbox's last words) to its own target. */
void e4f_log_relay(const char *line);
void e4f_log(enum e4_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void e4f_lib_log(void *ctx, enum e4_log_level level, const char *msg);

#endif /* E4F_SESSION_H */

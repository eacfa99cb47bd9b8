/* SPDX-License-Identifier: MIT */
/*
 * FUSE over io_uring (protocol 7.42): a transport beside the /dev/fuse
 * read/write loop, for the same request engine (e4f_process_parts).
 *
 * The kernel has one queue per possible CPU and sends a request to the
 * queue of the CPU its caller runs on.  Each queue gets a few serving
 * threads; each thread owns one io_uring and one ring entry (a 288-byte
 * header buffer and a payload buffer of E4F_REPLY_BUFSIZE bytes), and
 * after each request one io_uring_enter both commits the reply and waits
 * for the next request (COMMIT_AND_FETCH): one system call a request,
 * against a write and a read on /dev/fuse.  FORGET, INTERRUPT and
 * requests sent before the ring is ready still come through /dev/fuse,
 * whose workers keep reading.
 *
 * Raw system calls, not liburing: the static build (musl) cannot link
 * Debian's glibc liburing, and the three calls and two ring structures
 * needed are little code (docs/architecture.md).
 */
#ifndef E4F_URING_H
#define E4F_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuse/session.h"

/* Queues the kernel will want: the possible CPUs
 * (/sys/devices/system/cpu/possible), read before the sandbox. */
unsigned e4f_uring_possible_cpus(void);

/*
 * At INIT, when the kernel offers FUSE_OVER_IO_URING: make the rings, the
 * buffers and the threads (which wait), so that what can fail fails
 * before the flag is granted.  0, or -errno after logging why.
 */
int e4f_uring_prepare(struct e4f_session *s);

/* After the INIT reply: @go lets the threads register their entries;
 * false (INIT not granted after all) ends them. */
void e4f_uring_start(struct e4f_session *s, bool go);

/* The session is over: wake and join the threads (unmount and abort
 * have ended their entries already), and say what went where. */
void e4f_uring_stop(struct e4f_session *s);
void e4f_uring_destroy(struct e4f_session *s);

/*
 * One ring entry's request, as the kernel left it: @hdr (288 bytes:
 * fuse_in_header at 0, the opcode's fixed header at 128,
 * fuse_uring_ent_in_out at 256) and @payload (@payload_size bytes, at
 * least E4F_REPLY_BUFSIZE; ent_in_out.payload_sz of them valid).  Serves
 * it and writes the reply in place for COMMIT_AND_FETCH: fuse_out_header
 * at 0 of @hdr, the reply payload at the start of @payload and its length
 * in payload_sz.  Always leaves a reply (a request that cannot be decoded
 * gets EIO: the entry must be committed to be used again).  @bounce is
 * E4F_REPLY_BUFSIZE bytes of the thread's.  Returns the commit id.
 * Without a kernel for tests and the fuzz harness.
 */
uint64_t e4f_uring_serve(struct e4f_session *s, uint8_t *hdr,
			 uint8_t *payload, size_t payload_size, void *bounce);

#endif /* E4F_URING_H */

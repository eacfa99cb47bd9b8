/* SPDX-License-Identifier: MIT */
/*
 * Zero-copy READ replies on the /dev/fuse loop: the out header is written
 * into a pipe, the file's bytes are spliced into it from the image's page
 * cache (and holes from a page of zeros with vmsplice), and the pipe is
 * spliced into /dev/fuse, so the data is copied once, by the kernel, from
 * the image's page cache to the reader's pages: no pread into a buffer of
 * ours, no writev out of it.
 *
 * Only what the copying path would read straight from the device is
 * spliced, on read-only mounts (a writable one updates atime before each
 * reply, which the splice, holding the inode's read lock from the first
 * byte in the pipe to the last one out, cannot wait for): block-mapped
 * data of a regular file and its holes, while the journal replay
 * holds nothing in memory (its blocks are newer than the device's: the
 * whole mount then copies, as fuse-iomap steps aside for the same
 * reason), inside the file system's part of the image.  Inline data, short
 * reads and anything that would not fit the pipe take the copying path;
 * so does a reply whose splice fails, and a failure on /dev/fuse's side
 * turns splicing off for the session (said once in the log).
 *
 * The pipe must hold the whole reply (the kernel takes it in one splice):
 * one slot for the header and one per page the data touches.  An
 * unprivileged process gets pipes of at most fs.pipe-max-size (1 MiB:
 * 256 slots), so INIT caps max_pages to what the pipe holds with the
 * header (splice_max_pages).  One pipe per worker thread.
 */
#ifndef E4F_SPLICE_H
#define E4F_SPLICE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "e4/e4.h"

struct e4f_session;
struct e4f_req;

/* READs shorter than this are copied: a splice costs three system calls
 * and a pipe's bookkeeping, which a few pages' memcpy does not. */
#define E4F_SPLICE_MIN (32u * 1024u)

/* Where spliced bytes come from, set before the session starts (main.c):
 * the image's descriptor and the device byte range the file system owns
 * in it (e4_map_range's addresses); fd -1: nothing to splice from. */
struct e4f_splice_source {
	int fd;
	uint64_t lo, hi;
};

/* The session's splice state (struct e4f_session.splice). */
struct e4f_splice_state {
	bool on;			/* -o nosplice not given, a source */
	unsigned pipe_pages;		/* slots of the pipes made (probe) */
	atomic_bool broken;		/* /dev/fuse refused one: copy */
	atomic_bool warned;		/* a failure was said */
	atomic_ulong spliced, copied;	/* READ replies, for the log */
};

/* A worker's pipe (and its page of zeros). */
struct e4f_splice;

/* Before the workers start: check the pipes can be had and how big;
 * logs why not if not.  Sets s->splice.on. */
void e4f_splice_setup(struct e4f_session *s);
/* INIT chose the /dev/fuse loop: what it answers max_pages with (@want
 * or what a pipe holds with the header); says whether READs are spliced. */
unsigned e4f_splice_init(struct e4f_session *s, unsigned want);
/* A worker's pipe; NULL when splicing is off or no pipe could be had
 * (that worker copies). */
struct e4f_splice *e4f_splice_open(struct e4f_session *s);
void e4f_splice_close(struct e4f_splice *sp);
/* The unmount line: how many READ replies were spliced and copied. */
void e4f_splice_report(struct e4f_session *s);

/*
 * Answer READ request @r with up to @size bytes of regular file @inode at
 * @off by splicing, if it qualifies.  Returns 1 when it was answered, 0
 * when the caller must answer it by copying, or -errno the caller answers
 * with (the mapping is corrupt: reported once, here).
 */
int e4f_splice_read(struct e4f_req *r, const struct e4_inode *inode,
		    uint64_t off, size_t size);

#endif /* E4F_SPLICE_H */

/* SPDX-License-Identifier: MIT */
/*
 * fuse-iomap, the server's side (shared/spec/fuse-iomap.md): the kernel
 * asks where a file's bytes are (IOMAP_BEGIN) and does the data I/O
 * itself, straight to the device under the file system.  e4fuse offers it
 * when the kernel does (INIT flag), registers the device as a backing
 * device (IOMAP_CONFIG), marks the regular files it can serve that way
 * (attribute flags) and answers BEGIN with one extent at a time from the
 * one mapping function (e4_map_range), checked against the metadata
 * (e4/datazone.h), upserting each answer into the kernel's mapping cache.
 *
 * Writes (writable mounts): BEGIN for a write maps what is there (an
 * overwrite needs nothing more) or allocates the hole as unwritten blocks
 * (e4_map_for_write); END gives back what a short write did not use;
 * IOEND, once the data is on the device, marks it written and persists
 * the size (e4_unwritten_convert), one handle per completion.  The
 * invalidation hook below is called where a mapping changes otherwise.
 */
#ifndef E4F_IOMAP_H
#define E4F_IOMAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "e4/e4.h"
#include "fuse/fuse_iomap.h"

struct e4f_session;
struct e4f_req;
struct e4_datazone;

/*
 * How the device under the file system becomes a backing device of the
 * connection: @open returns the backing id (> 0) or -errno.  e4fuse's own
 * is FUSE_DEV_IOC_BACKING_OPEN on /dev/fuse (iomap_dev.c); the kernel
 * model in tests/iomap/ stands in for it.
 */
struct e4f_iomap_backing {
	int (*open)(void *ctx, struct e4f_session *s);
	void *ctx;
};

/* The per-connection state, when iomap was negotiated. */
struct e4f_iomap {
	struct e4_datazone *zone;
	/* backing id, 0: none (no file uses iomap then); set by
	 * IOMAP_CONFIG, which the kernel answers before it sends anything
	 * that reads it, but workers may differ */
	_Atomic uint32_t dev_id;
	uint32_t cache_maxbytes;	/* what IOMAP_CONFIG asked for */
	bool extents_fs;		/* new and converted files get extents */
	/* what was sent, for tests and the debug log */
	atomic_ulong begins, upserts, invals;
	/* the write half's work: blocks allocated at BEGIN (runs), given
	 * back at END (runs), IOENDs that changed the file */
	atomic_ulong allocs, releases, conversions;
};

/* INIT: true when iomap is granted (the state is set up then).  Offered
 * by the kernel, a backing device given, no journal replay in memory (the
 * kernel would read the device's stale copies), blocks no larger than a
 * page. */
bool e4f_iomap_negotiate(struct e4f_session *s, uint64_t offered);
void e4f_iomap_destroy(struct e4f_session *s);

/* The fuse_attr.flags for @in: EXCLUSIVE|IOMAP for a regular file the
 * kernel may read and write through iomap (on a writable mount: extent
 * mapped, or inline on a file system with extents), with SYNC, IMMUTABLE
 * and APPEND as its flags say (the kernel enforces them then); 0
 * otherwise (the classic READ and WRITE path). */
uint32_t e4f_iomap_attr_flags(const struct e4f_session *s,
			      const struct e4_inode *in);

/*
 * A mapping of inode @ino changed in [off, off + len) (len
 * E4F_IOMAP_INVAL_TO_EOF: to the end): drop what the kernel cached of it.
 * A no-op for files that do not use iomap.  Called by truncate, punch,
 * fallocate, writes and copies (ops_write.c).
 */
void e4f_iomap_inval(struct e4f_session *s, const struct e4_inode *in,
		     uint64_t off, uint64_t len);
/* The same for an in-core inode (its current version). */
void e4f_iomap_inval_ino(struct e4f_session *s, struct e4_ino *ip,
			 uint64_t off, uint64_t len);

/* The opcodes (proto.c's iomap table) */
void e4f_op_iomap_config(struct e4f_req *r);
void e4f_op_iomap_begin(struct e4f_req *r);
void e4f_op_iomap_end(struct e4f_req *r);
void e4f_op_iomap_ioend(struct e4f_req *r);

/* /dev/fuse side (iomap_dev.c) */
/* Whether the kernel behind @fuse_fd can do iomap (IOMAP_SUPPORT; ENOTTY
 * on every kernel without it). */
bool e4f_iomap_kernel_supports(int fuse_fd);
/* e4f_iomap_backing.open for the block device @ctx points at (an int fd):
 * BACKING_OPEN on the session's /dev/fuse. */
int e4f_iomap_backing_ioctl(void *ctx, struct e4f_session *s);

/*
 * A loop device for an image file, so the kernel has a block device to
 * do iomap I/O on: attached read-only (unless @writable), direct I/O on
 * (no second page cache over the image), released when the last
 * descriptor closes (autoclear) or by e4f_loop_detach.  *@loop_fd is the
 * loop device opened; @path (at least 32 bytes) its name.
 */
int e4f_loop_attach(int image_fd, bool writable, int *loop_fd, char *path,
		    size_t path_size);
int e4f_loop_detach(int loop_fd);

/*
 * In main, before the sandbox (which cannot open devices): when the
 * kernel can do iomap, the block device the serving process will register
 * (e4f_iomap_backing_ioctl): the image's own descriptor if it is a block
 * device, else a loop device over it, read-only unless @writable (*@loop
 * set; only the serving process keeps it, so the loop device goes away
 * with it and the connection: autoclear).  -1 otherwise: the classic path
 * serves.
 */
int e4f_iomap_prepare_device(int image_fd, bool writable, bool *loop);

#endif /* E4F_IOMAP_H */

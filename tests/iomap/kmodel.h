/* SPDX-License-Identifier: MIT */
/*
 * A user-space model of the kernel's side of fuse-iomap
 * (shared/spec/fuse-iomap.md), for kernels that do not have it (none here
 * does).  It talks to e4fuse's request engine through the transport the
 * real /dev/fuse path uses: a session worker reading requests from a
 * descriptor (a SOCK_SEQPACKET socketpair: one message per read, as
 * /dev/fuse) and writing replies and notifications to it.  It negotiates
 * as the kernel does (INIT, IOMAP_CONFIG, the backing device), instantiates
 * inodes from LOOKUP replies (§7), plays the read flows of §10 (buffered
 * read and readahead, direct I/O, FIEMAP and SEEK_DATA/HOLE, inline data
 * through READ) and the write flows (buffered write and writeback, direct
 * I/O write, mmap write faults, zeroing, truncate, fallocate, fsync,
 * inline data through WRITE: kmodel_write.c), validates every BEGIN reply
 * and notification with the kernel's rules (§8.2, §12.2, §12.3: a reply
 * the kernel would reject is an error here), keeps the mapping cache (§12)
 * and a page cache, and reads and writes the data itself on the image at
 * the device addresses it was given.
 */
#ifndef E4_TEST_KMODEL_H
#define E4_TEST_KMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuse/fuse_kernel.h"
#include "fuse/fuse_iomap.h"
#include "fuse/iomap.h"
#include "fuse/session.h"

/* The kernel's EFSCORRUPTED */
#define KM_EFSCORRUPTED EUCLEAN

/* One half of an inode's mapping cache: sorted, non-overlapping. */
struct km_cache {
	struct e4f_iomap_io *rec;
	size_t n, cap;
	uint64_t seq;
};

/* The page cache of one inode, a block per page (the iomap inode's block
 * size): what buffered writes and faults dirtied, until writeback. */
struct km_pages {
	uint8_t **page;		/* indexed by block; NULL: not cached */
	bool *dirty;
	size_t n;
};

struct km_inode {
	uint64_t nodeid;
	uint64_t attr_ino;
	uint64_t size;		/* i_size: the kernel owns it (§7) */
	uint64_t disk_size;	/* what it believes is on disk */
	uint32_t mode;
	bool iomap;		/* EXCLUSIVE|IOMAP at instantiation */
	bool has_cache;		/* created by the first upsert */
	struct km_cache read;
	struct km_pages pc;
};

#define KM_MAX_INODES 64

struct km_stats {
	unsigned begins, begin_errors, inline_reads, upserts, invals;
	unsigned cache_hits;
	unsigned ends, ioends, inline_writes;
	unsigned requests, reads, writes;	/* every one sent; READ; WRITE */
};

struct kmodel {
	struct e4f_session s;
	int kfd;			/* the kernel's end */
	int dev_fd;			/* the "block device": the image */
	uint64_t dev_size;
	bool offer_iomap;
	bool iomap;			/* negotiated */
	uint32_t minor;
	uint32_t blksize;		/* the iomap inodes' block size */
	uint64_t maxbytes;
	uint32_t cache_maxbytes;
	uint32_t dev_id;		/* registered by the server (0: none) */
	struct e4f_iomap_backing backing;
	uint64_t next_unique;
	struct km_inode inodes[KM_MAX_INODES];
	unsigned ninodes;
	struct km_stats st;
	int last_error;			/* of the last BEGIN or notification */
};

/* Start e4fuse's engine on @fs (read-only, or writable: the model then
 * writes file data to the image too) with one worker, and do INIT
 * (offering iomap when @offer_iomap) and IOMAP_CONFIG as the kernel does.
 * @image: the file holding the file system (device addresses are offsets
 * in it).  Assertions fail the calling test on any protocol violation. */
void km_start(struct kmodel *km, struct e4_fs *fs, const char *image,
	      bool offer_iomap);
void km_stop(struct kmodel *km);

/* LOOKUP of a path from the root; the instantiated inode (or NULL and
 * *@err the error). */
struct km_inode *km_lookup(struct kmodel *km, const char *path, int *err);

/* Handle any notifications waiting (the kernel does so as they come). */
void km_poll_notifications(struct kmodel *km);

/* The flows.  Each returns bytes read or -errno as the syscall would. */
/* read(2) through the page cache: block-granular readahead */
ssize_t km_read_buffered(struct kmodel *km, struct km_inode *ki,
			 uint64_t off, void *buf, size_t len);
/* O_DIRECT read (@off, @len multiples of 512) */
ssize_t km_read_direct(struct kmodel *km, struct km_inode *ki, uint64_t off,
		       void *buf, size_t len);
/* read(2) on a classic FUSE file: OPEN, READ requests, RELEASE */
ssize_t km_read_classic(struct kmodel *km, struct km_inode *ki, uint64_t off,
			void *buf, size_t len);

struct km_extent {
	uint64_t logical, physical, length;
	bool unwritten, inline_data;
};
/* FIEMAP over [0, size): up to @max extents, their count or -errno */
int km_fiemap(struct kmodel *km, struct km_inode *ki, struct km_extent *ext,
	      int max);
/* lseek SEEK_DATA (@data) or SEEK_HOLE: the offset or -errno */
int64_t km_seek(struct kmodel *km, struct km_inode *ki, uint64_t off,
		bool data);
/* The same through the classic path: FUSE_LSEEK */
int64_t km_seek_classic(struct kmodel *km, struct km_inode *ki, uint64_t off,
			bool data);

/* Any request, its reply's payload to @out (at most @cap bytes): the
 * reply's error. */
int km_call(struct kmodel *km, uint32_t opcode, uint64_t nodeid,
	    const void *arg, size_t arglen, void *out, size_t cap);

/* ---- the write flows (kmodel_write.c); each returns bytes or -errno as
 * the system call would ---- */
/* write(2) through the page cache (zeroing from EOF first when past it);
 * the data reaches the device at writeback */
ssize_t km_write_buffered(struct kmodel *km, struct km_inode *ki,
			  uint64_t off, const void *buf, size_t len);
/* The same, the user's buffer faulting after @copied bytes: a short
 * write (END tells the server) */
ssize_t km_write_buffered_short(struct kmodel *km, struct km_inode *ki,
				uint64_t off, const void *buf, size_t len,
				size_t copied);
/* O_DIRECT write (@off, @len multiples of 512) */
ssize_t km_write_direct(struct kmodel *km, struct km_inode *ki, uint64_t off,
			const void *buf, size_t len);
/* stores into a shared mapping within the size (write faults) */
ssize_t km_mmap_write(struct kmodel *km, struct km_inode *ki, uint64_t off,
		      const void *buf, size_t len);
/* write back the dirty pages of [from, to): BEGIN(WRITEBACK), the device
 * writes, IOEND per completed range; 0 or -errno */
int km_writeback(struct kmodel *km, struct km_inode *ki, uint64_t from,
		 uint64_t to);
/* truncate(2): zeroing, writeback, SETATTR */
int km_truncate(struct kmodel *km, struct km_inode *ki, uint64_t size);
/* fallocate(2) (E4_FALLOC_* modes, not collapse or insert) */
int km_fallocate(struct kmodel *km, struct km_inode *ki, unsigned mode,
		 uint64_t off, uint64_t len);
/* fsync(2): writeback, then FSYNC */
int km_fsync(struct kmodel *km, struct km_inode *ki);
/* write(2) on a classic FUSE file: OPEN, WRITE requests, RELEASE */
ssize_t km_write_classic(struct kmodel *km, struct km_inode *ki,
			 uint64_t off, const void *buf, size_t len);
/* CREATE of @name in the root: the instantiated inode, or NULL (*@err) */
struct km_inode *km_create(struct kmodel *km, const char *name, int *err);
/* Drop what the page cache holds of @ki (after writeback) */
void km_pages_drop(struct km_inode *ki, uint64_t from_block);

/* ---- shared by kmodel.c and kmodel_write.c ---- */
/* One mapping for an operation at @pos, through the cache (§8.1, §12.4):
 * *@src the read half, *@dst where a file write goes (the read half for
 * pure overwrites and for everything else).  The BEGIN reply is checked
 * (§8.2); 0 or the server's error. */
int km_begin(struct kmodel *km, struct km_inode *ki, uint32_t opflags,
	     uint64_t pos, uint64_t count, struct e4f_iomap_io *src,
	     struct e4f_iomap_io *dst);
/* The kernel's own invalidation of [off, off + len) (len UINT64_MAX: to
 * EOF), rounded out to blocks (§12.6). */
void km_cache_inval(struct kmodel *km, struct km_inode *ki, uint64_t off,
		    uint64_t len);
/* The bytes [pos, end) of @map as reads see them (§10.1, §10.5) */
int km_fill(struct kmodel *km, struct km_inode *ki,
	    const struct e4f_iomap_io *map, uint64_t pos, uint64_t count,
	    uint64_t end, uint8_t *dst, bool direct);
/* Any request with a payload of two parts (a head and data) */
int km_call2(struct kmodel *km, uint32_t opcode, uint64_t nodeid,
	     const void *a, size_t alen, const void *b, size_t blen,
	     void *out, size_t cap, size_t *outlen);

/* The kernel's BEGIN reply check (§8.2) on its own, for the model's own
 * tests: 0 or -EFSCORRUPTED. */
int km_check_begin(const struct kmodel *km, const struct km_inode *ki,
		   uint32_t opflags, uint64_t pos,
		   const struct e4f_iomap_begin_out *out);

#endif /* E4_TEST_KMODEL_H */

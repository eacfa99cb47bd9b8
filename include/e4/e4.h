/* SPDX-License-Identifier: MIT */
/*
 * libe4: the public interface of the e4fuse on-disk library.
 *
 * This is everything the FUSE front end, e4img, the tests and the fuzz
 * harnesses may use.  Nothing here knows about FUSE.  Every function that can
 * fail returns a negative errno; corruption is -EUCLEAN and has already been
 * reported once through the file system's log and report sinks, naming the
 * object and the broken rule (include/e4/rules.h).
 *
 * All functions taking a struct e4_fs are safe to call from several threads
 * at once (the metadata cache is the only shared mutable state).
 */
#ifndef E4_E4_H
#define E4_E4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "e4/rules.h"

struct e4_fs;
struct e4_dev;

/* ---- logging and reports ------------------------------------------- */

enum e4_log_level { E4_LOG_ERROR, E4_LOG_WARN, E4_LOG_INFO, E4_LOG_DEBUG };

/* One complete line, without trailing newline: "corrupt: inode 12: extent
 * block 345: bad magic 0x0000 [EX1]" (e4_report_format, with "corrupt: "
 * before a corruption and "checksum accepted: " before an accepted
 * checksum mismatch). */
typedef void (*e4_log_fn)(void *ctx, enum e4_log_level level, const char *msg);
/* The default log: "PROG: warning: msg" on stderr, PROG being @ctx (a
 * string; NULL: "e4fuse"). */
void e4_log_to_stderr(void *ctx, enum e4_log_level level, const char *msg);

/*
 * Every message as a structure.  A corruption (@corruption: the operation
 * failed with -EUCLEAN, or the library worked around the damage) always
 * has a rule; refusals at open, I/O errors and limits have one too; plain
 * information has E4_RULE_NONE and E4_OBJ_FS.
 */
struct e4_report {
	enum e4_log_level level;
	enum e4_rule rule;
	struct e4_object obj;
	bool corruption;	/* counted in the error state (e4_fs_get_error_state) */
	const char *msg;	/* "inode 12: extent block 345: bad magic 0x0000":
				 * the object, then what is wrong with it */
};
typedef void (*e4_report_fn)(void *ctx, const struct e4_report *r);

/* @msg followed by " [RULE]" when there is a rule.  Returns what snprintf
 * returns. */
int e4_report_format(const struct e4_report *r, char *buf, size_t size);

/* ---- block device ----------------------------------------------------- */

/*
 * Open an image file or block device.  @offset is the byte offset of the file
 * system inside it (partitioned disk images); @length 0 means "to the end".
 * The device is opened read-only unless @writable.
 */
int e4_dev_open_file(const char *path, uint64_t offset, uint64_t length,
		     bool writable, struct e4_dev **out);
/* An image held in memory (fuzzers, tests).  The memory is not copied and
 * must outlive the device; it is read-only.  (A writable copy that records
 * its writes for crash tests: e4/memdev.h.) */
int e4_dev_open_mem(const void *data, size_t size, struct e4_dev **out);
void e4_dev_close(struct e4_dev *dev);
uint64_t e4_dev_size(const struct e4_dev *dev);
/* Where the file system starts in the image file or block device under
 * the device (the @offset it was opened with): device addresses given to
 * the kernel (iomap) include it. */
uint64_t e4_dev_base_offset(const struct e4_dev *dev);
/* The open descriptor of an image file or block device (e4fuse keeps it
 * open across its sandbox), -1 for the other kinds. */
int e4_dev_fd(const struct e4_dev *dev);
/* Make every completed write durable (fdatasync, or a cache flush on a
 * block device); a no-op on a read-only device. */
int e4_dev_flush(struct e4_dev *dev);

/* ---- opening ---------------------------------------------------------- */

enum e4_csum_policy {
	E4_CSUM_VERIFY = 0,	/* mismatch is -EUCLEAN (the default) */
	E4_CSUM_ACCEPT,		/* compute but accept: fuzzing builds only */
};

struct e4_open_opts {
	bool read_only;			/* false: may be made writable
					 * (e4/write.h) on a writable device */
	enum e4_csum_policy csum;
	size_t cache_bytes;		/* metadata cache bound; 0 = default */
	e4_log_fn log;			/* NULL = stderr (unless @report is set) */
	void *log_ctx;
	enum e4_log_level log_level;	/* messages above this are dropped */
	bool norecovery;		/* do not replay the journal */
	/* Ceiling on the memory the in-memory journal replay may hold; an
	 * image whose replay needs more is refused with a message rather
	 * than risking the OOM killer.  0 = E4_REPLAY_MEM_DEFAULT. */
	uint64_t replay_mem_max;
	/* Every message also as a struct e4_report (the same level filter);
	 * with @log NULL, the text goes nowhere else. */
	e4_report_fn report;
	void *report_ctx;
};

#define E4_REPLAY_MEM_DEFAULT (512ull << 20)

/*
 * Open the file system on @dev.  On success the fs owns @dev.  On failure the
 * reason has been logged (e.g. "unsupported feature: casefold") and @dev is
 * still the caller's.  Opening reads the superblock only: no descriptors,
 * bitmaps or inodes, so it costs the same on any image size.
 */
int e4_fs_open(struct e4_dev *dev, const struct e4_open_opts *opts,
	       struct e4_fs **out);
void e4_fs_close(struct e4_fs *fs);

struct e4_fs_info {
	uint32_t block_size;
	uint32_t cluster_size;
	uint64_t blocks_count;
	uint64_t free_blocks;		/* from the superblock (advisory) */
	uint64_t reserved_blocks;
	uint32_t inodes_count;
	uint32_t free_inodes;
	uint32_t group_count;
	uint32_t inode_size;
	uint32_t first_ino;
	uint32_t feature_compat, feature_incompat, feature_ro_compat;
	uint8_t uuid[16];
	char volume_name[17];		/* NUL-terminated */
	uint64_t max_file_size;		/* s_maxbytes */
	bool read_only_forced;		/* unknown ro_compat bit, error state... */
};
void e4_fs_get_info(const struct e4_fs *fs, struct e4_fs_info *out);
/* The primary superblock's 1024 bytes as read at open (E4_SB_* offsets),
 * for fields no one else needs parsed: e4img info's times and error
 * fields. */
void e4_fs_get_superblock(const struct e4_fs *fs, uint8_t out[1024]);

/*
 * Work done on @fs since it was opened, so fuzz harnesses can bound what one
 * operation costs (a hostile image must not buy unbounded work with a few
 * bytes).  The counters only grow; take differences.
 */
struct e4_fs_counters {
	uint64_t meta_gets;	/* metadata block lookups, cache hits included */
	uint64_t dev_reads;	/* reads issued to the device */
	uint64_t dev_read_bytes;
	uint64_t replay_bytes;	/* memory held by the journal replay */
};
void e4_fs_get_counters(struct e4_fs *fs, struct e4_fs_counters *out);
/* The same, from the device: the work of an open in progress can be
 * watched from another thread (replay_bytes is 0 here). */
void e4_dev_get_counters(struct e4_dev *dev, struct e4_fs_counters *out);

/*
 * The corruption found since the file system was opened: how often, and
 * the first and last time (rule, object, when), as ext4 keeps them in its
 * superblock.  Every report with @corruption set counts, whatever found it
 * (a request, a walk, the orphan scan at open), so a policy such as
 * errors=panic is applied to what the library found, not to reply codes.
 */
struct e4_error_record {
	enum e4_rule rule;
	struct e4_object obj;
	int64_t time;		/* seconds since the epoch */
};
struct e4_error_state {
	uint64_t count;
	struct e4_error_record first, last;	/* valid when count > 0 */
};
void e4_fs_get_error_state(struct e4_fs *fs, struct e4_error_state *out);
/* Just the count, without a lock: cheap enough to ask after every request. */
uint64_t e4_fs_error_count(const struct e4_fs *fs);

/* Human-readable list of the features set, for e4img and logs. */
void e4_fs_describe_features(const struct e4_fs *fs, char *buf, size_t size);

/* ---- inodes ----------------------------------------------------------- */

#define E4_ROOT_INO 2u

struct e4_time {
	int64_t sec;
	uint32_t nsec;
};

struct e4_inode {
	uint32_t ino;
	uint16_t mode;		/* type and permission bits, as S_IF* */
	uint32_t uid, gid;
	uint64_t size;
	uint32_t links;
	uint64_t blocks_512;	/* allocated space in 512-byte units */
	uint32_t flags;		/* i_flags */
	uint32_t generation;
	uint64_t file_acl;	/* xattr block, 0 if none */
	struct e4_time atime, mtime, ctime, crtime;
	bool has_crtime;
	uint32_t dtime;
	uint64_t version;
	uint32_t projid;
	uint16_t extra_isize;
	uint32_t rdev_major, rdev_minor;
	uint8_t i_block[60];	/* raw, interpreted by the mapping code */
	/* seeded digest of the raw record this was decoded from: the xattr
	 * code reads the record again and must find the same bytes */
	uint64_t record_digest;
};

/*
 * Read and validate inode @ino (IN1-IN10: checksum, extra_isize, mode, flags
 * against features, size).  -EINVAL if @ino is 0 or beyond s_inodes_count,
 * -ENOENT if the inode is free (bitmap bit clear, or in an uninit range),
 * -EUCLEAN if it is corrupt.
 */
int e4_inode_read(struct e4_fs *fs, uint32_t ino, struct e4_inode *out);

/*
 * Read the inode a directory entry names (or a node id handed out for one).
 * Names may only refer to the root and to inodes from s_first_ino on, as the
 * kernel requires; neither to the file system's internal inodes (journal,
 * orphan file, quota files) nor to EA inodes.  With @dir nonzero a violation
 * is corruption, reported naming the directory and @name: -EUCLEAN.  With
 * @dir 0 (a node id) it is silent: -EINVAL for a number no name can hold,
 * -ENOENT for a free inode, -EUCLEAN (reported) for a damaged one.
 */
int e4_inode_read_named(struct e4_fs *fs, uint32_t dir, const char *name,
			uint32_t ino, struct e4_inode *out);

/*
 * In-core inodes (src/fs/icache.c): one shared, authoritative copy per
 * inode someone holds.  e4_iget reads it on first use with the checks of
 * e4_inode_read (e4_iget_named: of e4_inode_read_named), later gets share
 * it; e4_ino_snapshot copies it out consistently, so callers keep working
 * on a struct e4_inode.  Hold a reference (the FUSE node table does, per
 * node) instead of keeping a copy, which would go stale once writes exist.
 */
struct e4_ino;
int e4_iget(struct e4_fs *fs, uint32_t ino, struct e4_ino **out);
int e4_iget_named(struct e4_fs *fs, uint32_t dir, const char *name,
		  uint32_t ino, struct e4_ino **out);
void e4_iput(struct e4_fs *fs, struct e4_ino *ip);
/* Another reference to an inode already held. */
struct e4_ino *e4_ino_ref(struct e4_fs *fs, struct e4_ino *ip);
void e4_ino_snapshot(struct e4_ino *ip, struct e4_inode *out);
/* A snapshot of @ip held still: writers of the inode wait until
 * e4_ino_read_end, so the blocks the snapshot maps stay its own while
 * they are read (a read beside a truncate on a writable mount). */
void e4_ino_read_begin(struct e4_ino *ip, struct e4_inode *out);
void e4_ino_read_end(struct e4_ino *ip);
uint32_t e4_ino_number(const struct e4_ino *ip);

/* What stat shows of an inode, as the kernel's ext4 reports it. */
struct e4_stat {
	uint32_t ino, generation;
	uint16_t mode;
	uint32_t nlink, uid, gid;
	uint64_t size;
	uint64_t blocks;	/* 512-byte units, as st_blocks */
	struct e4_time atime, mtime, ctime, btime;
	bool has_btime;
	uint32_t rdev_major, rdev_minor;
	uint64_t attributes, attributes_mask;	/* STATX_ATTR_* */
};
void e4_inode_stat(const struct e4_inode *in, struct e4_stat *out);

static inline bool e4_inode_is_dir(const struct e4_inode *i)
{
	return (i->mode & 0xF000) == 0x4000;
}
static inline bool e4_inode_is_reg(const struct e4_inode *i)
{
	return (i->mode & 0xF000) == 0x8000;
}
static inline bool e4_inode_is_symlink(const struct e4_inode *i)
{
	return (i->mode & 0xF000) == 0xA000;
}

/* ---- block mapping: the one mapping function ---------------------------- */

enum e4_map_kind {
	E4_MAP_HOLE,		/* reads as zeros, nothing allocated */
	E4_MAP_MAPPED,		/* data at pblk */
	E4_MAP_UNWRITTEN,	/* allocated at pblk, reads as zeros */
	E4_MAP_INLINE,		/* data lives in the inode (inline_data) */
};

struct e4_mapping {
	uint64_t lblk;		/* first logical block of this run (= asked) */
	uint64_t len;		/* blocks in the run, >= 1 */
	uint64_t pblk;		/* MAPPED/UNWRITTEN: physical block of lblk */
	enum e4_map_kind kind;
};

/*
 * Map logical block @lblk of @inode to the longest run starting there that
 * has one kind (and, for MAPPED/UNWRITTEN, is physically contiguous).  For a
 * hole, len reaches to the next mapped block (or to the last addressable
 * block), so SEEK_DATA and readers skip holes in one step.  Extent trees and
 * legacy block maps both answer through here; read, SEEK_HOLE/SEEK_DATA,
 * fiemap and iomap all use it.
 */
int e4_map_block(struct e4_fs *fs, const struct e4_inode *inode, uint64_t lblk,
		 struct e4_mapping *out);

/*
 * The same in bytes, as iomap wants it: the longest range from file byte
 * @off, at most @len bytes, of one kind (and physically contiguous), with
 * its byte address on the device underneath (partition offset included).
 * Like e4_map_block it knows nothing of i_size; callers clamp.
 */
struct e4_range {
	uint64_t offset;	/* file byte offset (= @off) */
	uint64_t length;	/* bytes, >= 1 */
	uint64_t dev_offset;	/* MAPPED/UNWRITTEN: device byte address */
	enum e4_map_kind kind;
};
int e4_map_range(struct e4_fs *fs, const struct e4_inode *inode, uint64_t off,
		 uint64_t len, struct e4_range *out);

/*
 * Every physical block @inode owns through its mapping: data runs (also
 * unwritten ones and those past i_size) with @map_block false, and the
 * extent-tree or indirect blocks with @map_block true.  The xattr block is
 * not included.  Each tree block is visited once (a block referenced twice
 * is corruption).  A nonzero return from @cb stops the walk and is returned.
 */
typedef int (*e4_owned_cb)(void *ctx, uint64_t pblk, uint64_t count,
			   bool map_block);
int e4_map_for_each_owned(struct e4_fs *fs, const struct e4_inode *inode,
			  e4_owned_cb cb, void *ctx);

/* ---- file data -------------------------------------------------------- */

/* Read up to @len bytes at @off; returns bytes read (0 at EOF) or -errno. */
ssize_t e4_file_read(struct e4_fs *fs, const struct e4_inode *inode,
		     uint64_t off, void *buf, size_t len);

enum e4_seek_whence { E4_SEEK_DATA, E4_SEEK_HOLE };
/* lseek(SEEK_DATA/SEEK_HOLE) semantics, -ENXIO at or past EOF.  Like the
 * kernel's ext4, unwritten extents count as holes. */
int e4_file_seek(struct e4_fs *fs, const struct e4_inode *inode, uint64_t off,
		 enum e4_seek_whence whence, uint64_t *result);

/* ---- directories -------------------------------------------------------- */

/* dirent file types (§7.3); not the DT_* values of <dirent.h> */
enum e4_ftype {
	E4_FT_UNKNOWN = 0, E4_FT_REG = 1, E4_FT_DIR = 2, E4_FT_CHR = 3,
	E4_FT_BLK = 4, E4_FT_FIFO = 5, E4_FT_SOCK = 6, E4_FT_SYMLINK = 7,
};

struct e4_dirent {
	uint32_t ino;
	uint8_t ftype;		/* enum e4_ftype, from the dirent (0 if none) */
	uint8_t name_len;
	char name[256];		/* NUL-terminated copy */
	uint64_t next_pos;	/* position to resume after this entry */
	/* the name's hash as ext4 orders the directory (e4_dir_readdir's
	 * order), where it does; else 0 */
	uint32_t hash, minor_hash;
};

/* Return 0 to continue, >0 to stop the walk without error (that value is
 * returned by e4_dir_iterate), <0 to abort with that error. */
typedef int (*e4_dir_cb)(void *ctx, const struct e4_dirent *d);

/*
 * What a directory walk does with a block it cannot use (corrupt: reported
 * once where it was found; or unreadable).
 */
enum e4_dir_mode {
	/* The walk fails with the block's error: a directory about to be
	 * changed must be whole (a name missed could be created twice, a
	 * directory seen as empty removed). */
	E4_DIR_STRICT,
	/* The block is skipped and the walk goes on with the next one:
	 * readers see every entry of the other blocks (errors=continue). */
	E4_DIR_SALVAGE,
};

/*
 * Walk the entries of directory @dir starting at position @pos (0 = start).
 * Positions are stable cookies for readdir: "." and ".." are reported first
 * (synthesised for inline directories).  Unused entries and checksum tails
 * are skipped.  A corrupt block is reported and, with E4_DIR_STRICT, ends
 * the walk with -EUCLEAN after the entries before it were delivered; with
 * E4_DIR_SALVAGE the walk skips it (and so "." and ".." are missing when
 * block 0 is damaged) and sets *@skipped (@skipped may be NULL) at once,
 * so @cb knows which entries come after a skipped block.  Of a block whose
 * checksum holds but whose entries break a rule midway, the valid entries
 * before the broken one are delivered (as the kernel lists them).
 * e4_dir_iterate is E4_DIR_STRICT.
 */
int e4_dir_iterate_mode(struct e4_fs *fs, const struct e4_inode *dir,
			uint64_t pos, enum e4_dir_mode mode, e4_dir_cb cb,
			void *ctx, bool *skipped);
int e4_dir_iterate(struct e4_fs *fs, const struct e4_inode *dir, uint64_t pos,
		   e4_dir_cb cb, void *ctx);

/*
 * The entries of @dir as the kernel's ext4 lists them (readdir, getdents):
 * in hash order where ext4 lists by hash (dir_index, and an index, inline
 * data or a single block: "." and ".." first where there is an index), in
 * block order elsewhere and where the index is unusable (reported).
 * Positions are stable cookies in either order: a hash position still
 * holds when names are added or removed meanwhile.  E4_DIR_SALVAGE: bad
 * blocks are skipped, *@skipped set.
 */
int e4_dir_readdir(struct e4_fs *fs, const struct e4_inode *dir, uint64_t pos,
		   e4_dir_cb cb, void *ctx, bool *skipped);
/* A hint as a listing of @dir starts: its blocks are read from the device
 * in the background (a listing by hash visits them out of order, one
 * waited-for read at a time otherwise).  Nothing is read into the block
 * cache, and nothing is reported: the listing checks what it reads. */
void e4_dir_prefetch(struct e4_fs *fs, const struct e4_inode *dir);

/* Find @name in @dir: htree lookup where the directory is indexed (falling
 * back to a linear scan when the index is damaged), linear otherwise.
 * -ENOENT if absent.  With E4_DIR_SALVAGE a damaged index block or leaf on
 * the name's path also falls back to the linear scan, which skips damaged
 * blocks; a name it does not find where it skipped one fails with -EUCLEAN
 * (it may be in that block).  "." and ".." come from block 0 alone in
 * either mode.  e4_dir_lookup is E4_DIR_STRICT. */
int e4_dir_lookup_mode(struct e4_fs *fs, const struct e4_inode *dir,
		       const char *name, size_t name_len, enum e4_dir_mode mode,
		       uint32_t *ino, uint8_t *ftype);
int e4_dir_lookup(struct e4_fs *fs, const struct e4_inode *dir,
		  const char *name, size_t name_len, uint32_t *ino,
		  uint8_t *ftype);

/* Whether @dir is a case-insensitive directory (casefold, §7.10): its
 * names match in any case and normalisation. */
bool e4_dir_is_casefold(const struct e4_fs *fs, const struct e4_inode *dir);
/* Whether @inode is encrypted (fscrypt, ENCRYPT_FL).  e4fuse never has
 * the key: an encrypted directory's names are listed and looked up as the
 * kernel's "no-key" names, a symlink's target is shown in that form, and
 * a file's contents cannot be read (-ENOKEY), as under the kernel without
 * the key. */
bool e4_inode_is_encrypted(const struct e4_fs *fs,
			   const struct e4_inode *inode);

/* Look @name up in @dir (E4_DIR_SALVAGE: this is the readers' lookup) and
 * take the inode it names, with the rule of e4_inode_read_named (a name of
 * a reserved inode is corruption). */
int e4_lookup(struct e4_fs *fs, const struct e4_inode *dir, const char *name,
	      size_t len, struct e4_ino **out);

/* Resolve an absolute or root-relative path.  Symlinks are never followed:
 * a symlink as the last component is returned itself, one in the middle
 * gives -ENOTDIR.  Used by e4img and tests. */
int e4_path_lookup(struct e4_fs *fs, const char *path, uint32_t *ino);
/* The same from directory @start instead of the root. */
int e4_path_lookup_at(struct e4_fs *fs, uint32_t start, const char *path,
		      uint32_t *ino);

/* ---- symlinks --------------------------------------------------------- */

/* Copy the target (not NUL-terminated) into @buf; returns its length or
 * -errno (-ENAMETOOLONG if @size is too small). */
ssize_t e4_symlink_read(struct e4_fs *fs, const struct e4_inode *inode,
			char *buf, size_t size);
/* The length of the target e4_symlink_read gives: i_size, but for an
 * encrypted symlink the length of its no-key form (what the kernel shows
 * as its size without the key). */
ssize_t e4_symlink_size(struct e4_fs *fs, const struct e4_inode *inode);

/* ---- extended attributes ---------------------------------------------- */

/* Called with each attribute's full name ("user.foo", "system.posix_acl_access"
 * ...), not NUL-terminated. Return 0 to continue, nonzero to stop. */
typedef int (*e4_xattr_name_cb)(void *ctx, const char *name, size_t name_len);

int e4_xattr_list(struct e4_fs *fs, const struct e4_inode *inode,
		  e4_xattr_name_cb cb, void *ctx);

/*
 * Get the value of attribute @name (full name).  With @size 0 returns the
 * value's size.  Returns the size, -ENODATA if absent, -ERANGE if @size is
 * too small.  POSIX ACLs come back in the Linux xattr ABI (version 2) format.
 */
ssize_t e4_xattr_get(struct e4_fs *fs, const struct e4_inode *inode,
		     const char *name, void *buf, size_t size);

/* ---- statfs ------------------------------------------------------------- */

struct e4_statfs {
	uint32_t block_size;
	uint64_t blocks, bfree, bavail;	/* blocks: without overhead */
	uint64_t files, ffree;
	uint32_t name_max;
	uint64_t overhead;		/* blocks of fixed metadata and the
					 * journal (ext4's bsddf subtracts
					 * them, minixdf does not) */
};
int e4_fs_statfs(struct e4_fs *fs, struct e4_statfs *out);

/* ---- what no directory names (src/fs/unreachable.c) -------------------- */

/*
 * The inodes in use that no path from the root reaches (orphaned by a
 * damaged directory): what e2fsck -fy would reconnect into /lost+found,
 * found without writing.  "In use": the inode bitmap says so (honouring
 * INODE_UNINIT and itable_unused; under a bitmap failing its checksum,
 * each record with a mode and links), it has links (an orphan-list inode
 * has none), it is not reserved (below s_first_ino), internal (journal,
 * orphan file, quota files) or an EA inode, and it decodes (one that
 * does not is reported and skipped).  "Reached": named by an entry of a
 * directory walked from the root, every readable directory walked in
 * salvage mode (a damaged block skipped; each directory once, so a cycle
 * is not followed).  Only the top of each unreachable subtree is kept:
 * an orphaned directory's children are reached through it; in a cycle of
 * orphaned directories naming each other, the lowest-numbered one is the
 * top.  A regular file with nothing in it (no blocks, no inline data, no
 * xattrs) is left out, as e2fsck deletes it rather than reconnecting it.
 *
 * Memory: three bitmaps of inodes_count / 8 bytes while scanning
 * (e4_unreachable_memory), one kept for the result; -ENOMEM (logged with
 * the size) if they cannot be had.  Work: every inode-table block once,
 * each directory listed at most twice, the listings bounded by the file
 * system's size (-EUCLEAN, reported, past it).  The result is a snapshot:
 * for read-only use.
 */
struct e4_unreachable;
struct e4_unreachable_stats {
	uint64_t in_use;	/* inodes in use a name may hold, read */
	uint64_t unreadable;	/* in use but failed to decode: skipped */
	uint64_t unreachable;	/* of in_use, not reached from the root */
	uint64_t tops;		/* the tops of the unreachable subtrees */
	uint64_t empty;		/* tops holding nothing: left out */
	uint64_t memory;	/* bytes the scan's bitmaps took */
};
int e4_unreachable_scan(struct e4_fs *fs, struct e4_unreachable **out);
void e4_unreachable_free(struct e4_unreachable *u);
uint64_t e4_unreachable_memory(const struct e4_fs *fs);
/* Is @ino one of the tops? */
bool e4_unreachable_has(const struct e4_unreachable *u, uint32_t ino);
/* The first top above @after (0 for the first), 0 when none is left. */
uint32_t e4_unreachable_next(const struct e4_unreachable *u, uint32_t after);
void e4_unreachable_get_stats(const struct e4_unreachable *u,
			      struct e4_unreachable_stats *out);
/* The name of top @ino, "#INO" as e2fsck names it in lost+found (@buf at
 * least E4_UNREACHABLE_NAME_MAX bytes); returns its length. */
#define E4_UNREACHABLE_NAME_MAX 12u
size_t e4_unreachable_name(uint32_t ino, char *buf);
/* The length of the "#INO" that @s (@len bytes) starts with (INO decimal,
 * from 1, no leading zero), 0 if it does not; *@ino gets INO. */
size_t e4_unreachable_name_parse(const char *s, size_t len, uint32_t *ino);

#endif /* E4_E4_H */

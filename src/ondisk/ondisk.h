/* SPDX-License-Identifier: MIT */
/*
 * Internal interface of the on-disk layer: the file-system handle, and what
 * each src/ondisk/ file provides to the others.  Not for src/fuse/.
 */
#ifndef E4_ONDISK_H
#define E4_ONDISK_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e4/bytes.h"
#include "e4/e4.h"
#include "e4/format.h"
#include "io/cache.h"
#include "ondisk/casefold.h"
#include "ondisk/verify.h"

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

struct e4_fs {
	struct e4_dev *dev;
	struct e4_cache *cache;
	struct e4_open_opts opts;

	uint8_t sb_raw[E4_SB_SIZE];	/* primary superblock as read */

	/* geometry, validated at open (superblock.c) */
	uint32_t block_size;
	uint32_t log_block_size;	/* log2(block_size) */
	uint32_t cluster_ratio;		/* blocks per cluster */
	uint64_t blocks_count;
	uint64_t r_blocks_count;
	uint64_t free_blocks_count;
	uint32_t first_data_block;
	uint32_t blocks_per_group;
	uint32_t clusters_per_group;
	uint32_t inodes_per_group;
	uint32_t inodes_count;
	uint32_t free_inodes_count;
	uint32_t group_count;
	uint32_t inode_size;
	uint32_t first_ino;
	uint32_t desc_size;
	uint32_t descs_per_block;
	uint32_t gdt_blocks;		/* classic GDT length in blocks */
	uint32_t first_meta_bg;
	uint32_t reserved_gdt_blocks;
	uint32_t itable_blocks;		/* inode-table blocks per group */
	uint32_t rev_level;
	uint32_t log_groups_per_flex;
	uint32_t backup_bgs[2];

	uint32_t feature_compat, feature_incompat, feature_ro_compat;
	bool metadata_csum;		/* crc32c everywhere */
	bool gdt_csum;			/* crc16 descriptors (not with csum) */
	bool uninit_flags_valid;	/* bg_flags meaningful */
	uint32_t fs_seed;		/* §12.2 */

	uint32_t hash_seed[4];
	uint8_t def_hash_version;
	bool hash_unsigned;		/* s_flags & 0x2 */
	bool casefold_strict;		/* s_encoding_flags: refuse non-UTF-8 */

	uint64_t max_file_size;		/* s_maxbytes (§16), extent files */
	uint64_t max_file_size_blockmap; /* s_maxbytes for block-mapped files */
	uint32_t journal_inum;
	uint32_t last_orphan;
	uint32_t orphan_file_inum;
	uint32_t lpf_ino;
	bool read_only_forced;

	struct e4_journal *journal;	/* replayed journal overlay, or NULL */
	struct e4_icache *icache;	/* in-core inodes (src/fs/icache.c) */
	struct e4_writer *writer;	/* while writable (src/fs/writer.c) */
	uint64_t record_seed;		/* of e4_inode.record_digest */
	struct e4_block_set *orphans;	/* deleted orphans, hidden (orphan.c) */
	/* statfs's metadata overhead in blocks plus one; 0: not counted */
	atomic_uint_least64_t overhead_plus1;

	/* the error state (report.c): the count alone is read lock-free */
	pthread_mutex_t error_lock;
	atomic_uint_least64_t error_count;
	struct e4_error_record first_error, last_error;
};

/* ---- report.c: reporting ---------------------------------------------- */

/*
 * Every message names its object first; the functions below write that
 * part from @obj ("inode 12: extent block 345"), so @fmt says only what is
 * wrong with it ("bad magic 0x%04x").
 */
/* A message that breaks no rule (information, warnings). */
void e4_log(struct e4_fs *fs, enum e4_log_level level, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
/* A message naming a rule that is not corruption: a refusal at open, an
 * I/O error, a limit.  The caller returns its own error. */
void e4_log_rule(struct e4_fs *fs, enum e4_log_level level,
		 enum e4_rule rule, struct e4_object obj, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Report a corruption once, count it in the error state, return -EUCLEAN. */
int e4_corrupt(struct e4_fs *fs, enum e4_rule rule, struct e4_object obj,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int e4_vcorrupt(struct e4_fs *fs, enum e4_rule rule, struct e4_object obj,
		const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
/* A checksum mismatch ("<object>: checksum 0x%08x, computed 0x%08x"):
 * -EUCLEAN (a corruption) under E4_CSUM_VERIFY, 0 under E4_CSUM_ACCEPT
 * (logged at debug level, not counted). */
int e4_csum_mismatch(struct e4_fs *fs, enum e4_rule rule, struct e4_object obj,
		     uint32_t stored, uint32_t computed);
/* "<object>: <what @fmt says>" into @buf, as every report words it. */
void e4_message_vformat(char *buf, size_t size, const struct e4_object *obj,
			const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
/* The default log sink. */

/* ---- checksum.c ------------------------------------------------------- */

/* Raw CRC-32C register update, no final inversion (§12.1). */
uint32_t e4_crc32c(uint32_t crc, const void *buf, size_t len);
static inline uint32_t e4_crc32c_le32(uint32_t crc, uint32_t v)
{
	uint8_t b[4];
	e4_put_le32(b, 4, 0, v);
	return e4_crc32c(crc, b, 4);
}
/* Reflected CRC-16 poly 0x8005, no final xor (gdt_csum, §3.4). */
uint16_t e4_crc16(uint16_t crc, const void *buf, size_t len);
/* MSB-first CRC-32 poly 0x04C11DB7, no final xor (jbd2 v1 commit, §13.7). */
uint32_t e4_crc32_be(uint32_t crc, const void *buf, size_t len);
/* §12.3 */
uint32_t e4_inode_csum_seed(const struct e4_fs *fs, uint32_t ino,
			    uint32_t generation);

/* ---- superblock.c ----------------------------------------------------- */

/* Validate and decode the primary superblock into @fs (SB1-SB16, L1-L10)
 * and apply the feature policy (§2.4).  Logs why on refusal. */
int e4_sb_load(struct e4_fs *fs, const uint8_t *sb, size_t size);
static inline uint64_t e4_group_first_block(const struct e4_fs *fs, uint32_t g)
{
	return (uint64_t)fs->first_data_block +
	       (uint64_t)g * fs->blocks_per_group;
}

/* ---- group.c ---------------------------------------------------------- */

struct e4_group {
	uint64_t block_bitmap;
	uint64_t inode_bitmap;
	uint64_t inode_table;
	uint32_t free_blocks;	/* clusters */
	uint32_t free_inodes;
	uint32_t used_dirs;
	uint32_t itable_unused;
	uint16_t flags;		/* 0 when uninit flags are not meaningful */
	uint32_t block_bitmap_csum;
	uint32_t inode_bitmap_csum;
};

/* Block holding the descriptor of group @g (§1.6). */
uint64_t e4_group_desc_block(const struct e4_fs *fs, uint32_t g);

/* True if group @g holds a superblock copy: the primary for group 0,
 * else a backup by sparse_super / sparse_super2 (§1.5). */
bool e4_group_has_super(const struct e4_fs *fs, uint32_t g);
/* The block of group @g's superblock copy if it has one: the group's
 * first block, but the primary's (1024 / B) for group 0 (§1.2: 1 KiB
 * bigalloc starts group 0 at block 0, the superblock still in block 1). */
uint64_t e4_group_super_block(const struct e4_fs *fs, uint32_t g);
/*
 * The descriptor blocks group @g holds (§1.4-1.6), from *@start: the
 * classic table's copy after its superblock copy (without meta_bg, or
 * the first s_first_meta_bg blocks of it when g's meta group is below
 * s_first_meta_bg), or under meta_bg the one copy of its meta group's
 * block (g first, second or last of its meta group).  0 if none.
 * *@reserved: the reserved GDT blocks that follow (classic copies only).
 * Fixed positions: not clipped to the file system (e4_group_metadata is).
 */
uint32_t e4_group_gdt_blocks(const struct e4_fs *fs, uint32_t g,
			     uint64_t *start, uint32_t *reserved);

/* What a run of fixed metadata blocks is. */
enum e4_meta_kind {
	E4_META_SUPERBLOCK,	/* the primary superblock's block or a backup */
	E4_META_GDT,		/* descriptor blocks (a copy of them) */
	E4_META_RESERVED_GDT,	/* reserved for descriptor growth */
	E4_META_BLOCK_BITMAP,
	E4_META_INODE_BITMAP,
	E4_META_INODE_TABLE,
};

/* Which runs e4_group_metadata reports for group g. */
enum e4_meta_scope {
	/* The metadata *of* g: its superblock and descriptor copies and
	 * reserved GDT blocks (fixed, inside g), and the bitmaps and inode
	 * table g's descriptor names, wherever flex_bg put them.  Over all
	 * groups each block is reported once on a sound image: the
	 * checker's view ("claim each metadata block once"). */
	E4_META_OWNED,
	/* The metadata physically *inside* g's block range: g's fixed runs,
	 * and the bitmaps and inode tables of every group of g's flex group
	 * (g alone without flex_bg: GD2 keeps them inside), each clipped to
	 * g's range: the allocator's view.  A group's tables placed outside
	 * its flex group are not seen (mkfs and the kernel never do that);
	 * the block bitmap still marks them in use. */
	E4_META_INSIDE,
};

/* Called per run: @owner is the group whose metadata it is (differs from
 * g under flex_bg).  Non-zero stops the walk and is returned. */
typedef int (*e4_meta_cb)(void *ctx, uint32_t owner, enum e4_meta_kind kind,
			  uint64_t start, uint64_t count);
/*
 * Enumerate the fixed metadata of group @g (@scope), in the order
 * superblock, descriptors, reserved GDT, then per group block bitmap,
 * inode bitmap, inode table; runs are not sorted by block.  Fixed runs
 * past the end of the file system are reported (FS-RANGE) and clipped;
 * bitmaps and tables come from the validated descriptors (GD2: inside the
 * file system).  Work is bounded by the group count (bounded by the
 * device at open).  Returns 0, the callback's non-zero value, -EINVAL for
 * @g out of range, or a descriptor read error (after the fixed runs; the
 * runs of groups read before it were reported).  Not the journal or the
 * MMP block: those are per file system.
 */
int e4_group_metadata(struct e4_fs *fs, uint32_t g, enum e4_meta_scope scope,
		      e4_meta_cb cb, void *ctx);
/* Read, checksum and validate the descriptor of group @g (GD1-GD5). */
int e4_group_get(struct e4_fs *fs, uint32_t g, struct e4_group *out);
/* Where group @g's descriptor sits in its descriptor block. */
size_t e4_group_desc_offset(const struct e4_fs *fs, uint32_t g);
/* Write @gd's counters, flags (when meaningful) and bitmap checksums (with
 * metadata_csum) into the raw descriptor @d; the rest of it is kept.  The
 * gdt row's setter sets its checksum. */
void e4_group_encode(const struct e4_fs *fs, const struct e4_group *gd,
		     uint8_t *d);

/* ---- bitmap.c --------------------------------------------------------- */

/* Is inode @ino allocated?  Honours INODE_UNINIT and itable_unused;
 * verifies the inode bitmap checksum. */
int e4_inode_bitmap_test(struct e4_fs *fs, uint32_t ino, bool *allocated);
/* Inodes at @index of a group that are free by its uninit flags (§3.2). */
bool e4_inode_in_uninit_range(const struct e4_fs *fs, const struct e4_group *gd,
			      uint32_t index);
/* Whole bitmaps of group @g, checksum verified; caller puts the buffer.
 * (No bitmap block exists for BLOCK_UNINIT / INODE_UNINIT groups: check
 * gd->flags first.) */
int e4_inode_bitmap_get(struct e4_fs *fs, uint32_t g, const struct e4_group *gd,
			struct e4_buf **out);
int e4_block_bitmap_get(struct e4_fs *fs, uint32_t g, const struct e4_group *gd,
			struct e4_buf **out);
/* A fresh inode bitmap for an INODE_UNINIT group: all free, padded. */
void e4_inode_bitmap_init(const struct e4_fs *fs, uint8_t *data);
/* The block bitmap a BLOCK_UNINIT group @g stands for (§11.3): its fixed
 * metadata (e4_group_metadata's INSIDE view) and the clusters past the end
 * of the file system in use, the rest free, padded.  @data is block_size
 * bytes.  Fails only as reading descriptors fails. */
int e4_block_bitmap_synth(struct e4_fs *fs, uint32_t g, uint8_t *data);
/* The checksum of bitmap @data of kind E4_BUF_BLOCK_BITMAP or
 * E4_BUF_INODE_BITMAP, as its group descriptor stores it (§11.2). */
uint32_t e4_bitmap_csum(const struct e4_fs *fs, enum e4_buf_kind kind,
			const uint8_t *data);

/* ---- inode.c ---------------------------------------------------------- */

/* Locate the raw record of @ino: the cached inode-table block holding it and
 * the byte offset inside.  Caller puts the buffer.  Does not validate the
 * inode (for the xattr code, which runs after e4_inode_read validated it). */
int e4_inode_raw_get(struct e4_fs *fs, uint32_t ino, struct e4_buf **buf,
		     size_t *off);
/* The seeded digest of raw record @r (e4_inode.record_digest): every byte
 * but i_dtime and the checksum. */
uint64_t e4_inode_record_digest(const struct e4_fs *fs, const uint8_t *r);
/* The raw record @inode was decoded from, as e4_inode_raw_get; -EIO
 * (logged) when the device now holds different bytes there. */
int e4_inode_record_get(struct e4_fs *fs, const struct e4_inode *inode,
			struct e4_buf **buf, size_t *off);
/* e4_inode_read, optionally accepting an in-use inode with no links (an
 * orphan, for the checker). */
int e4_inode_load(struct e4_fs *fs, uint32_t ino, struct e4_inode *out,
		  bool unlinked_ok);
/* True for the inodes the file system keeps for itself past s_first_ino
 * (journal, orphan file, quota files): no directory entry names them. */
bool e4_inode_is_internal(const struct e4_fs *fs, uint32_t ino);
/* e4_inode_read_named in parts, for the in-core inode cache: why a name
 * may not refer to inode number @ino (NULL: it may), why not to the inode
 * read (@read_err, @in), and the report (or silent errno, @dir 0). */
const char *e4_name_number_refusal(const struct e4_fs *fs, uint32_t ino,
				   enum e4_rule *rule);
const char *e4_name_inode_refusal(int read_err, const struct e4_inode *in,
				  enum e4_rule *rule);
int e4_name_refused(struct e4_fs *fs, uint32_t dir, const char *name,
		    uint32_t ino, const char *what, enum e4_rule rule,
		    int read_err);
/* Decode a timestamp pair (§4.9). */
struct e4_time e4_time_decode(uint32_t base, uint32_t extra, bool has_extra);
/* Encode one, clamped to what the fields can hold (@extra 0 without the
 * extra field). */
void e4_time_encode(struct e4_time t, bool has_extra, uint32_t *base,
		    uint32_t *extra);
/* Write @in into its raw record @r (inode_size bytes): every field struct
 * e4_inode holds, devices in the kernel's encoding; the rest of the record
 * (osd fields, in-inode xattrs) is kept.  The inode-table row's setter
 * does the checksum.  -EFBIG when i_blocks cannot be stored, -EINVAL for
 * an extra_isize that does not fit or a 48-bit xattr block without 64bit. */
int e4_inode_encode(const struct e4_fs *fs, const struct e4_inode *in,
		    uint8_t *r);

/* ---- block reads -------------------------------------------------------- */

/* Get a metadata block after checking 0 < blk < blocks_count... blocks before
 * first_data_block are allowed only for the superblock itself. */
int e4_meta_get(struct e4_fs *fs, uint64_t blk, struct e4_buf **out);
static inline void e4_meta_put(struct e4_fs *fs, struct e4_buf *buf)
{
	e4_cache_put(fs->cache, buf);
}
/* Read @len bytes of file data at byte @off of the device: one pread, then
 * any blocks the journal replay holds newer copies of are patched in. */
int e4_read_data(struct e4_fs *fs, void *buf, size_t len, uint64_t off);
/* True if [blk, blk+count) lies inside [first_data_block, blocks_count). */
bool e4_blocks_valid(const struct e4_fs *fs, uint64_t blk, uint64_t count);

/* ---- extent.c / blockmap.c (called by e4_map_block in map.c) ---------- */

/* Extent tree nodes, decoded and encoded entry by entry (§5.1); @node is a
 * tree block or i_block, @size its bytes.  The writer of trees
 * (src/fs/extent_tree.c) keeps to these. */
struct e4_extent {
	uint32_t lblk;
	uint32_t len;		/* blocks, without the unwritten flag */
	uint64_t pblk;
	bool unwritten;
};
struct e4_ext_header {
	uint16_t entries, max, depth;
};
void e4_ext_header_get(const uint8_t *node, size_t size,
		       struct e4_ext_header *h);
/* With the magic; eh_generation is left as it is. */
void e4_ext_header_put(uint8_t *node, size_t size,
		       const struct e4_ext_header *h);
uint32_t e4_ext_key(const uint8_t *node, size_t size, unsigned i);
uint64_t e4_ext_index_child(const uint8_t *node, size_t size, unsigned i);
void e4_ext_index_put(uint8_t *node, size_t size, unsigned i, uint32_t key,
		      uint64_t child);
void e4_ext_leaf_get(const uint8_t *node, size_t size, unsigned i,
		     struct e4_extent *out);
void e4_ext_leaf_put(uint8_t *node, size_t size, unsigned i,
		     const struct e4_extent *e);
void e4_ext_move(uint8_t *node, size_t size, unsigned to, unsigned from,
		 unsigned n);
/* Entries a tree block holds (its eh_max), leaving room for the tail. */
unsigned e4_ext_block_capacity(const struct e4_fs *fs);
/*
 * The path from the root to the leaf where @lblk is or would go, every node
 * validated as a lookup validates it: level 0 is the root (in i_block),
 * level path->depth the leaf.  At each level the entry whose key is the
 * last <= @lblk (-1: @lblk is below the first key; the path then goes
 * through the first child), and the end of the key range the level's node
 * may cover.
 */
struct e4_ext_path {
	unsigned depth;
	uint64_t blk[E4_EXT_MAX_DEPTH + 1];	/* [0] unused: the root */
	int idx[E4_EXT_MAX_DEPTH + 1];
	uint64_t hi[E4_EXT_MAX_DEPTH + 1];
};
int e4_ext_path_find(struct e4_fs *fs, const struct e4_inode *inode,
		     uint64_t lblk, struct e4_ext_path *path);

int e4_extent_map(struct e4_fs *fs, const struct e4_inode *inode,
		  uint64_t lblk, struct e4_mapping *out);
int e4_extent_for_each_owned(struct e4_fs *fs, const struct e4_inode *inode,
			     e4_owned_cb cb, void *ctx);
int e4_blockmap_for_each_owned(struct e4_fs *fs, const struct e4_inode *inode,
			       e4_owned_cb cb, void *ctx);

/* ---- blockset.c: "visited once" sets for whole-tree walks ------------- */

struct e4_block_set;
struct e4_block_set *e4_block_set_new(void);
void e4_block_set_free(struct e4_block_set *s);
/* 0 added, 1 already present, -ENOMEM. */
int e4_block_set_add(struct e4_block_set *s, uint64_t blk);
bool e4_block_set_has(const struct e4_block_set *s, uint64_t blk);
size_t e4_block_set_size(const struct e4_block_set *s);

/* ---- orphan.c ----------------------------------------------------------- */

/* Walk the orphan list and orphan file (§14) and remember the orphans the
 * kernel would delete; only -ENOMEM fails (damage is reported, and what was
 * found before it is kept). */
int e4_orphans_load(struct e4_fs *fs);
bool e4_inode_is_deleted_orphan(const struct e4_fs *fs, uint32_t ino);
int e4_blockmap_map(struct e4_fs *fs, const struct e4_inode *inode,
		    uint64_t lblk, struct e4_mapping *out);

/* ---- file.c ------------------------------------------------------------- */

/* e4_file_read for a file whose data is mapped (extents or block map): an
 * inline mapping is corruption.  Never touches xattrs (EA-inode values). */
ssize_t e4_file_read_mapped(struct e4_fs *fs, const struct e4_inode *inode,
			    uint64_t off, void *buf, size_t len);

/* ---- inline.c ----------------------------------------------------------- */

/* Read inline data bytes [off, off+len) of @inode (i_block then the
 * system.data xattr value).  Returns bytes copied. */
ssize_t e4_inline_read(struct e4_fs *fs, const struct e4_inode *inode,
		       uint64_t off, void *buf, size_t len);
/* Total inline capacity in use: 60 + size of system.data value. */
int e4_inline_size(struct e4_fs *fs, const struct e4_inode *inode,
		   size_t *size);

/* ---- xattr.c (raw access used by inline.c and acl.c) ------------------ */

/* Look up attribute (@index, @name) and copy its raw on-disk value.
 * Semantics of the return value as e4_xattr_get. */
ssize_t e4_xattr_get_raw(struct e4_fs *fs, const struct e4_inode *inode,
			 uint8_t index, const char *name, size_t name_len,
			 void *buf, size_t size);

/* ---- dirhash.c ---------------------------------------------------------- */

/* Directory hash of @name with effective version @version (0..5, §7.7),
 * seed @seed (four words, all zero = default). */
int e4_dirhash(const char *name, size_t len, unsigned version,
	       const uint32_t seed[4], uint32_t *major, uint32_t *minor);

/* ---- dirname.c: a name looked for in a directory ------------------------- */

/*
 * How entries of a directory are compared with a name: byte for byte; or
 * in a casefolded directory (§7.10) by their folds, when the name and the
 * entry are both UTF-8 (a name that is not is compared as its bytes, and
 * hashed so, as ext4 does).  Built once per lookup (the fold is done once).
 */
struct e4_dir_name {
	const char *name;
	size_t len;
	bool folded;			/* compare and hash the fold */
	/* an encrypted directory without its key (nokey.c): @fold holds
	 * the decoded no-key name, @flen 0 when @name is none (it matches
	 * nothing) */
	bool nokey;
	size_t flen;
	uint8_t fold[E4_CASEFOLD_MAX];
};
void e4_dir_name_init(const struct e4_fs *fs, const struct e4_inode *dir,
		      const char *name, size_t len, struct e4_dir_name *n);
/* Whether entry name @entry (@elen bytes, from the image) is @n. */
bool e4_dir_name_match(const struct e4_dir_name *n, const uint8_t *entry,
		       size_t elen);
/* The hash of @n as the htree orders it (effective @version, §7.7). */
int e4_dir_name_hash(const struct e4_fs *fs, const struct e4_dir_name *n,
		     unsigned version, uint32_t *major, uint32_t *minor);
/* Whether a new entry of @dir may be named @name: -EINVAL for a name that
 * is not UTF-8 in a casefolded directory of a strict file system (ext4's
 * answer), else 0. */
int e4_dir_name_allowed(const struct e4_fs *fs, const struct e4_inode *dir,
			const char *name, size_t len);
/* The same for an entry name of directory @dir (the writer's splits). */
int e4_dir_entry_hash(const struct e4_fs *fs, const struct e4_inode *dir,
		      const char *name, size_t len, unsigned version,
		      uint32_t *major, uint32_t *minor);

/* ---- nokey.c: names of encrypted directories without the key -------- */

#define E4_NOKEY_HASH_SIZE 8	/* le32 hash, le32 minor hash */
#define E4_NOKEY_BYTES 149	/* ciphertext kept whole up to this */
#define E4_NOKEY_RAW_MAX (E4_NOKEY_HASH_SIZE + E4_NOKEY_BYTES + 32)
#define E4_NOKEY_NAME_MAX 252	/* E4_NOKEY_RAW_MAX in base64url */

/* The no-key name of ciphertext @ct (@len bytes) with hash (@hash,
 * @minor) into @out (E4_NOKEY_NAME_MAX + 1 bytes, NUL-terminated); its
 * length. */
size_t e4_nokey_encode(const uint8_t *ct, size_t len, uint32_t hash,
		       uint32_t minor, char *out);
/* Decode no-key name @name into @raw (E4_NOKEY_RAW_MAX bytes): -ENOENT
 * when it is none (no entry has it). */
int e4_nokey_decode(const char *name, size_t len, uint8_t *raw,
		    size_t *rawlen);
/* Whether entry ciphertext @ct is the decoded no-key name @raw. */
bool e4_nokey_match(const uint8_t *raw, size_t rawlen, const uint8_t *ct,
		    size_t len);

/* ---- dir.c / htree.c ----------------------------------------------------- */

/* §7.2: decode an on-disk rec_len (64 KiB blocks cannot store 65536). */
static inline uint32_t e4_rec_len_decode(uint16_t v, uint32_t block_size)
{
	if (block_size < 65536)
		return v;
	if (v == 0 || v == 0xFFFF)
		return block_size;
	return (uint32_t)(v & 0xFFFC) | ((uint32_t)(v & 3) << 16);
}

/* Directory entries for the writer (src/fs/dir_write.c).  Offsets are
 * inside one leaf block (block_size bytes); the caller keeps entries
 * inside it. */
struct e4_dirent_rec {
	uint32_t ino;
	uint32_t rec_len;	/* decoded */
	uint8_t name_len;
	uint8_t ftype;		/* 0 without the filetype feature */
	const char *name;	/* in the block, not NUL-terminated */
};
/* The bytes an entry with a @name_len-byte name needs (§7.1). */
static inline uint32_t e4_dirent_size(uint32_t name_len)
{
	return (E4_DIRENT_HEADER + name_len + 3u) & ~3u;
}
uint16_t e4_rec_len_encode(uint32_t len, uint32_t block_size);
/* Where a leaf's entries end: its checksum tail, or the block's end. */
uint32_t e4_dir_leaf_end(const struct e4_fs *fs);
void e4_dirent_get(const struct e4_fs *fs, const uint8_t *blk, uint32_t off,
		   struct e4_dirent_rec *e);
void e4_dirent_put(const struct e4_fs *fs, uint8_t *blk, uint32_t off,
		   uint32_t ino, uint32_t rec_len, const char *name,
		   uint8_t name_len, uint8_t ftype);
void e4_dirent_set_rec_len(const struct e4_fs *fs, uint8_t *blk, uint32_t off,
			   uint32_t rec_len);
/* An empty leaf: one unused entry over the area, and the tail. */
void e4_dir_leaf_init(const struct e4_fs *fs, uint8_t *blk);
/* Where entry @name is in block directory @dir: its logical block, its
 * offset, and the offset of the entry before it in the block (UINT32_MAX
 * when it is the first).  -ENOENT.  The same walk as a linear lookup (every
 * block verified).  In an inline directory the offsets are into its inline
 * bytes (i_block, then the system.data value from 60) and ".." is the
 * parent field at offset 0. */
struct e4_dir_slot {
	uint64_t lblk;
	uint32_t off, prev;
	uint32_t ino;
	uint8_t ftype;
};
int e4_dir_find_slot(struct e4_fs *fs, const struct e4_inode *dir,
		     const char *name, size_t len, struct e4_dir_slot *slot);

/* Blocks of a block-mapped directory: i_size / B (i_size_high counts only with
 * large_dir).  -EUCLEAN if the size is not a whole number of blocks. */
int e4_dir_nblocks(struct e4_fs *fs, const struct e4_inode *dir,
		   uint64_t *nblocks);
/* Get logical block @lblk of directory @dir; a hole or an unwritten block is
 * corruption.  Caller puts the buffer. */
int e4_dir_block_get(struct e4_fs *fs, const struct e4_inode *dir,
		     uint64_t lblk, struct e4_buf **out);
/* Verify htree leaf @lblk and search it for @name: 0 found, -ENOENT,
 * -EUCLEAN, or -EAGAIN (not logged) when the block is an index block (or
 * not a directory block at all). */
int e4_dir_leaf_find(struct e4_fs *fs, const struct e4_inode *dir,
		     uint64_t lblk, const struct e4_dir_name *name,
		     uint32_t *ino, uint8_t *ftype);
/* Verify dx root (@lblk 0) or interior node @buf of @dir: checksum first,
 * then structure (DIR5, DIR6).  0 valid; -EUCLEAN checksum mismatch
 * (reported); -EAGAIN structurally unusable (reported unless @quiet), the
 * caller falls back to a linear scan. */
int e4_dx_verify(struct e4_fs *fs, const struct e4_inode *dir, uint64_t lblk,
		 struct e4_buf *buf, uint64_t nblocks, bool quiet);
/* The "." and ".." entries of dx root @buf of directory @ino (DIR1-DIR4,
 * and ".." covering the index: DIR5); -EUCLEAN, reported. */
int e4_dx_root_dots_verify(struct e4_fs *fs, uint32_t ino,
			   const struct e4_buf *buf);
/* Lookup through the htree of an indexed directory.  0 found, -ENOENT,
 * -EUCLEAN, or -EAGAIN: the index is unusable (reported) or the directory is
 * not indexed (silent): do a linear scan. */
int e4_htree_lookup(struct e4_fs *fs, const struct e4_inode *dir,
		    const struct e4_dir_name *name, uint32_t *ino,
		    uint8_t *ftype);
/* The path through indexed directory @dir's index to the leaf where @name
 * belongs (the writer adds it there), every index block verified: the
 * index blocks from the root (lblk 0) down, the entry followed in each,
 * their counts and limits, the name's hash and the effective hash
 * version.  -EAGAIN when the directory is not indexed or its index is
 * unusable (reported). */
struct e4_dx_path {
	unsigned levels;	/* indirect_levels: lblk[0..levels] */
	uint64_t lblk[E4_DX_LEVELS_MAX_LARGEDIR];
	uint32_t at[E4_DX_LEVELS_MAX_LARGEDIR];
	uint32_t count[E4_DX_LEVELS_MAX_LARGEDIR];
	uint32_t limit[E4_DX_LEVELS_MAX_LARGEDIR];
	uint64_t leaf;
	uint64_t nblocks;	/* the directory's blocks */
	uint32_t hash;
	unsigned version;
};
int e4_htree_find_path(struct e4_fs *fs, const struct e4_inode *dir,
		       const char *name, size_t len, struct e4_dx_path *p);
/* Whether the kernel lists @dir in hash order (e4_dir_readdir). */
bool e4_dir_lists_by_hash(struct e4_fs *fs, const struct e4_inode *dir);
/* How a listing reads a directory's entries, settled once per listing
 * (the index root's hash version is read here, not per block). */
struct e4_dir_listing {
	const struct e4_inode *dir;
	bool nokey;	/* encrypted, no key: no-key names */
	bool stored;	/* (no-key) the hash follows the name */
	bool by_hash;	/* ext4 lists the directory in hash order */
	bool hashes;	/* each entry's hash delivered (e4_dirent.hash) */
	unsigned version;	/* effective hash version, when by_hash */
};
void e4_dir_listing_init(struct e4_fs *fs, const struct e4_inode *dir,
			 struct e4_dir_listing *l);
/* The entries of logical block @lblk of the listing's directory (of an
 * inline directory: all of them) in block order, each with its hash
 * (e4_dirent.hash). */
int e4_dir_block_list(struct e4_fs *fs, const struct e4_dir_listing *l,
		      uint64_t lblk, enum e4_dir_mode mode, e4_dir_cb cb,
		      void *ctx, bool *skipped);
/* The leaves of @dir's index in hash order, from the one hash @start
 * belongs in (the first of a run of equal hashes): @leaf(@ctx, lblk) for
 * each until it returns non-zero, which is returned; 0 after the last.
 * With @leaf NULL, only the index is walked (and so checked whole).
 * -EAGAIN when the directory has no usable index (reported).  Reads no
 * more blocks than the directory has, whatever its index says. */
int e4_htree_leaves(struct e4_fs *fs, const struct e4_inode *dir,
		    uint32_t start, int (*leaf)(void *ctx, uint64_t lblk),
		    void *ctx);
/* dx entries of the index block at logical block @lblk (the root at 0):
 * entry 0's hash is 0 (its slot holds limit and count). */
uint32_t e4_dx_count_offset(uint64_t lblk);
uint32_t e4_dx_limit(const struct e4_fs *fs, uint64_t lblk);
void e4_dx_entry_get(const uint8_t *blk, size_t size, uint64_t lblk,
		     uint32_t i, uint32_t *hash, uint32_t *block);
void e4_dx_entry_put(uint8_t *blk, size_t size, uint64_t lblk, uint32_t i,
		     uint32_t hash, uint32_t block);
void e4_dx_set_counts(uint8_t *blk, size_t size, uint64_t lblk,
		      uint16_t limit, uint16_t count);

/* ---- acl.c -------------------------------------------------------------- */

/* Convert an on-disk ACL (§9.7) to the xattr ABI v2 format.  With @size 0
 * returns the needed size.  A malformed ACL is -EUCLEAN, not reported, with
 * *@why saying what is wrong. */
ssize_t e4_acl_to_xattr(const uint8_t *disk, size_t disk_len, void *buf,
			size_t size, const char **why);
/* The other way (setxattr): -EINVAL for a value that is not a valid ACL
 * (the kernel's answer), -ERANGE if @size is too small (it needs at most
 * @len bytes). */
ssize_t e4_acl_from_xattr(const uint8_t *x, size_t len, uint8_t *disk,
			  size_t size);

/* ---- xattr.c: the writer's side ------------------------------------------ */

/* One attribute as the writer keeps it. */
struct e4_xattr_item {
	uint8_t index;
	uint8_t name_len;
	char name[E4_NAME_MAX];
	uint32_t value_len;
	uint8_t *value;		/* malloc'd (NULL when empty) */
	uint32_t value_inum;	/* an EA inode holds the value */
	uint32_t ea_hash;	/* ... and this is its value hash (§9.6) */
	bool in_block;		/* where it was read from */
};
struct e4_xattr_items {
	struct e4_xattr_item *v;
	size_t n, cap;
	bool ibody_has_room;	/* the inode has an in-inode area */
};
/* Every attribute of @inode, both areas (system.data too), values copied,
 * each area validated as a read validates it. */
int e4_xattr_collect(struct e4_fs *fs, const struct e4_inode *inode,
		     struct e4_xattr_items *out);
void e4_xattr_items_free(struct e4_xattr_items *it);
/* Split a full name into (index, suffix) as getxattr does. */
int e4_xattr_name_parse(const char *name, uint8_t *index,
			const char **suffix, size_t *suffix_len);
/* The value hash an EA inode holding @len bytes of @value carries in
 * i_atime (§9.6). */
uint32_t e4_xattr_ea_value_hash(const struct e4_fs *fs, const void *value,
				size_t len);
/* Bytes @it takes in an area: its entry and its padded value. */
size_t e4_xattr_item_size(const struct e4_xattr_item *it);
/* Bytes of @inode's in-inode attribute area: from 128 + i_extra_isize to
 * the record's end (0 when the record has no room past its fixed part). */
size_t e4_xattr_ibody_size(const struct e4_fs *fs, const struct e4_inode *inode);
/* Lay @n items out in the in-inode area @area (@size bytes: from 128 +
 * extra_isize to the record's end): magic, entries, values from the end.
 * -ENOSPC if they do not fit. */
int e4_xattr_ibody_encode(const struct e4_fs *fs,
			  struct e4_xattr_item *const *items, size_t n,
			  uint8_t *area, size_t size);
/* Lay @n items out in xattr block @blk (refcount 1), sorted as the
 * format wants, with entry and block hashes; the row's setter does the
 * checksum.  -ENOSPC if they do not fit. */
int e4_xattr_block_encode(const struct e4_fs *fs,
			  struct e4_xattr_item **items, size_t n,
			  uint8_t *blk);

#endif /* E4_ONDISK_H */

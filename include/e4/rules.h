/* SPDX-License-Identifier: MIT */
/*
 * What a report names: the rule that is broken and the object that breaks
 * it.  Every corruption libe4 finds, and every problem the checker adds, is
 * reported with both (struct e4_report in e4.h), so that callers, tests and
 * golden files match on "EX3 in the extent block 345 of inode 12", not on
 * the wording of a message.
 *
 * Rule ids are the spec's (../shared/spec/ext4-format.md §0: L1.., SB1..,
 * GD1.., IN1.., EX1.., BM1.., DIR1.., ID1.., XA1.., SL1.., AL1.., CS1..,
 * J1.., OR1..) for the rules the code enforces; rules the code enforces that
 * the spec has no id for are named after their family (DIR-TARGET,
 * J-SELF...); the checker's rules across structures start with CK-; IO- and
 * LIM- name what is not the image's fault but still stops an operation.
 */
#ifndef E4_RULES_H
#define E4_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* X(enumerator suffix, id, short name) */
#define E4_RULES(X)                                                            \
	X(NONE, "-", "no rule: a message")                                     \
	/* §1 layout */                                                        \
	X(L1, "L1", "block size at most 64 KiB")                               \
	X(L2, "L2", "cluster size matches block size and bigalloc")            \
	X(L3, "L3", "first data block is 1 for 1 KiB blocks, else 0")          \
	X(L4, "L4", "clusters and inodes per group in range")                  \
	X(L5, "L5", "group count and inode count agree")                       \
	X(L6, "L6", "descriptor table fits in group 0")                        \
	X(L7, "L7", "reserved GDT blocks at most B/4")                         \
	X(L8, "L8", "first_meta_bg within the descriptor table")               \
	X(L10, "L10", "the device holds every block")                          \
	/* §2 superblock */                                                    \
	X(SB1, "SB1", "superblock magic")                                      \
	X(SB2, "SB2", "superblock checksum")                                   \
	X(SB3, "SB3", "feature policy")                                        \
	X(SB4, "SB4", "revision at most 1")                                    \
	X(SB5, "SB5", "inode size and first inode")                            \
	X(SB6, "SB6", "descriptor size")                                       \
	X(SB7, "SB7", "block counts")                                          \
	X(SB10, "SB10", "casefold encoding known")                             \
	X(SB11, "SB11", "orphan file feature")                                 \
	X(SB12, "SB12", "journal inode and device")                            \
	X(SB14, "SB14", "error state recorded")                                \
	X(SB16, "SB16", "log groups per flex")                                 \
	X(SB_64BIT, "SB-64BIT", "64-bit block count needs the 64bit feature")  \
	/* §3 group descriptors */                                             \
	X(GD1, "GD1", "descriptor checksum")                                   \
	X(GD2, "GD2", "bitmaps and inode table inside the file system")        \
	X(GD4, "GD4", "descriptor counters in range")                          \
	/* §4 inodes */                                                        \
	X(IN1, "IN1", "a name holds the root or an inode from s_first_ino")    \
	X(IN2, "IN2", "inode checksum")                                        \
	X(IN3, "IN3", "extra inode size")                                      \
	X(IN4, "IN4", "file type")                                             \
	X(IN5, "IN5", "link count of an inode in use")                         \
	X(IN6, "IN6", "size")                                                  \
	X(IN7, "IN7", "flags against features")                                \
	X(IN8, "IN8", "xattr block inside the file system")                    \
	/* §5 extents */                                                       \
	X(EX1, "EX1", "extent header magic")                                   \
	X(EX2, "EX2", "extent entries, max and capacity")                      \
	X(EX3, "EX3", "extent tree depth")                                     \
	X(EX4, "EX4", "extent keys sorted, not overlapping, below 2^32-1")     \
	X(EX5, "EX5", "extent length not 0")                                   \
	X(EX6, "EX6", "extent blocks inside the file system")                  \
	X(EX7, "EX7", "extent tree blocks: inside, once, checksummed")         \
	X(EX8, "EX8", "child keys inside the parent's range")                  \
	/* §6 block maps */                                                    \
	X(BM1, "BM1", "block pointers inside the file system")                 \
	X(BM2, "BM2", "indirect blocks referenced once")                       \
	/* §7 directories */                                                   \
	X(DIR1, "DIR1", "directory entries tile the block")                    \
	X(DIR2, "DIR2", "names, \".\" and \"..\"")                             \
	X(DIR3, "DIR3", "entry inode number in range")                         \
	X(DIR4, "DIR4", "leaf checksum tail and file types")                   \
	X(DIR5, "DIR5", "htree root and node headers, dx checksum")            \
	X(DIR6, "DIR6", "htree entries sorted, inside, visited once")          \
	X(DIR_MAPPED, "DIR-MAPPED", "every directory block mapped and written") \
	X(DIR_TARGET, "DIR-TARGET", "a name holds an allocated, ordinary inode") \
	/* §8 inline data */                                                   \
	X(ID1, "ID1", "inline data has its system.data attribute")             \
	X(ID2, "ID2", "inline data size and layout")                           \
	/* §9 extended attributes */                                           \
	X(XA2, "XA2", "xattr block header and checksum")                       \
	X(XA3, "XA3", "xattr entry table inside its area")                     \
	X(XA4, "XA4", "xattr values inside their area, apart")                 \
	X(XA5, "XA5", "xattr values in EA inodes")                             \
	X(XA6, "XA6", "xattr names")                                           \
	X(XA_DUP, "XA-DUP", "xattr names unique in an area")                   \
	X(XA_ACL, "XA-ACL", "POSIX ACL value well formed (§9.7)")              \
	/* §10 symlinks */                                                     \
	X(SL1, "SL1", "fast symlink")                                          \
	X(SL2, "SL2", "slow symlink")                                          \
	/* §11, §12 allocation and checksums */                                \
	X(AL1, "AL1", "bitmap checksum")                                       \
	X(AL2, "AL2", "free counts agree with the bitmaps")                    \
	X(AL3, "AL3", "metadata in use, each block claimed once")              \
	X(CS1, "CS1", "checksum")                                              \
	/* §13 journal */                                                      \
	X(J1, "J1", "journal superblock geometry")                             \
	X(J2, "J2", "journal features and checksum type")                      \
	X(J3, "J3", "journal scan bounded by the log")                         \
	X(J4, "J4", "journal tags and replay targets inside")                  \
	X(J5, "J5", "journal revoke count")                                    \
	X(J6, "J6", "journal fast commits")                                    \
	X(J_MAP, "J-MAP", "journal file mapped, each block once")              \
	X(J_SELF, "J-SELF", "replay never overwrites the journal")             \
	X(J_SB, "J-SB", "a replayed superblock keeps the block size")          \
	/* §14 orphans */                                                      \
	X(OR1, "OR1", "orphan list")                                           \
	X(OR2, "OR2", "orphan file")                                           \
	/* not the image's format, but an operation stops */                   \
	X(FS_RANGE, "FS-RANGE", "metadata block inside the file system")       \
	X(IO_READ, "IO-READ", "the device reads")                              \
	X(IO_CHANGED, "IO-CHANGED", "a verified block reads back the same")    \
	X(LIM_WORK, "LIM-WORK", "work per request bounded")                    \
	X(LIM_REPLAY, "LIM-REPLAY", "journal replay memory bounded")           \
	X(DATA_ZONE, "DATA-ZONE", "file data clear of the metadata (iomap)")   \
	/* the checker, across structures */                                   \
	X(CK_ROOT, "CK-ROOT", "the root is an allocated directory")            \
	X(CK_DOTS, "CK-DOTS", "\".\" names the directory, \"..\" its parent")  \
	X(CK_FTYPE, "CK-FTYPE", "entry type matches the inode")                \
	X(CK_LOOKUP, "CK-LOOKUP", "lookup finds what the listing shows")       \
	X(CK_DIRLINK, "CK-DIRLINK", "a directory is linked once")              \
	X(CK_UNLINKED, "CK-UNLINKED", "an inode in use is named")              \
	X(CK_LINKS, "CK-LINKS", "link count matches the names")                \
	X(CK_UNINIT, "CK-UNINIT", "no inode in use in the never-used range")   \
	X(CK_ORPHAN, "CK-ORPHAN", "no deleted orphan awaits cleanup")          \
	X(CK_FREE, "CK-FREE", "free counts match the bitmaps")                 \
	X(CK_BMAP_USED, "CK-BMAP-USED", "blocks in use are marked in use")     \
	X(CK_BMAP_UNOWNED, "CK-BMAP-UNOWNED", "blocks marked in use are owned") \
	X(CK_WALK, "CK-WALK", "the directory tree walk completes")

enum e4_rule {
#define E4_RULE_ENUM(sym, id, name) E4_RULE_##sym,
	E4_RULES(E4_RULE_ENUM)
#undef E4_RULE_ENUM
	E4_RULE_COUNT
};

/* "EX3" (the id as written in the spec, "-" for E4_RULE_NONE), and what the
 * rule asks, in a few words.  Out-of-range values give "?". */
const char *e4_rule_id(enum e4_rule rule);
const char *e4_rule_name(enum e4_rule rule);
/* The rule whose id is @id ("EX3"), or E4_RULE_COUNT if none is. */
enum e4_rule e4_rule_from_id(const char *id);

/*
 * The object a report is about.  Which numbers matter depends on the kind;
 * the others are 0, so two objects are the same object when all their
 * fields are equal.
 */
enum e4_object_kind {
	E4_OBJ_FS,		/* the file system as a whole: no number */
	E4_OBJ_SUPERBLOCK,	/* the primary superblock */
	E4_OBJ_GROUP,		/* the descriptor of group .idx */
	E4_OBJ_BLOCK_BITMAP,	/* of group .idx, at block .blk */
	E4_OBJ_INODE_BITMAP,	/* of group .idx, at block .blk */
	E4_OBJ_INODE,		/* inode .ino */
	E4_OBJ_EXTENT,		/* extent tree node of inode .ino at block .blk
				 * (0: the root, in the inode) */
	E4_OBJ_INDIRECT,	/* block map of inode .ino: indirect block .blk
				 * of level .idx (1 single .. 3 triple), or
				 * i_block itself (.blk 0, .idx 0) */
	E4_OBJ_DIR_BLOCK,	/* directory inode .ino, block .blk, logical .idx */
	E4_OBJ_DX_NODE,		/* htree root or node of directory inode .ino:
				 * block .blk, logical .idx (0: the root) */
	E4_OBJ_INLINE_DIR,	/* the inline entries of directory inode .ino */
	E4_OBJ_DIRENT,		/* an entry of directory .ino naming inode .idx */
	E4_OBJ_XATTR_IBODY,	/* the in-inode xattr area of inode .ino */
	E4_OBJ_XATTR_BLOCK,	/* xattr block .blk, reached from inode .ino */
	E4_OBJ_EA_INODE,	/* EA inode .idx holding a value of inode .ino */
	E4_OBJ_JOURNAL,		/* the journal as a whole (inode .ino) */
	E4_OBJ_JOURNAL_SB,	/* the journal's superblock */
	E4_OBJ_JOURNAL_BLOCK,	/* journal block .idx, holding a copy of file
				 * system block .blk (0: none) */
	E4_OBJ_ORPHAN_LIST,	/* the orphan list from s_last_orphan */
	E4_OBJ_ORPHAN_FILE,	/* the orphan file, inode .ino */
	E4_OBJ_ORPHAN_BLOCK,	/* orphan file block at device block .blk */
	E4_OBJ_BLOCK,		/* block .blk, owner not known */
	E4_OBJ_KIND_COUNT
};

struct e4_object {
	enum e4_object_kind kind;
	uint32_t ino;		/* the inode it belongs to (0: none) */
	uint64_t blk;		/* its device block (0: none, or in the inode) */
	uint64_t idx;		/* which one: group, logical block, level... */
};

/* The object as the start of a message names it: "inode 12: extent block
 * 345", "group 3 descriptor"; "" for E4_OBJ_FS.  Returns what snprintf
 * returns. */
int e4_object_describe(const struct e4_object *obj, char *buf, size_t size);

static inline bool e4_object_equal(const struct e4_object *a,
				   const struct e4_object *b)
{
	return a->kind == b->kind && a->ino == b->ino && a->blk == b->blk &&
	       a->idx == b->idx;
}

/* Constructors, one per kind. */
static inline struct e4_object e4_obj(enum e4_object_kind kind, uint32_t ino,
				      uint64_t blk, uint64_t idx)
{
	struct e4_object o = { kind, ino, blk, idx };
	return o;
}
static inline struct e4_object e4_obj_fs(void)
{
	return e4_obj(E4_OBJ_FS, 0, 0, 0);
}
static inline struct e4_object e4_obj_superblock(void)
{
	return e4_obj(E4_OBJ_SUPERBLOCK, 0, 0, 0);
}
static inline struct e4_object e4_obj_group(uint32_t g)
{
	return e4_obj(E4_OBJ_GROUP, 0, 0, g);
}
static inline struct e4_object e4_obj_inode(uint32_t ino)
{
	return e4_obj(E4_OBJ_INODE, ino, 0, 0);
}
static inline struct e4_object e4_obj_extent(uint32_t ino, uint64_t blk)
{
	return e4_obj(E4_OBJ_EXTENT, ino, blk, 0);
}
static inline struct e4_object e4_obj_indirect(uint32_t ino, uint64_t blk,
					       unsigned level)
{
	return e4_obj(E4_OBJ_INDIRECT, ino, blk, level);
}
static inline struct e4_object e4_obj_dir_block(uint32_t ino, uint64_t blk,
						uint64_t lblk)
{
	return e4_obj(E4_OBJ_DIR_BLOCK, ino, blk, lblk);
}
static inline struct e4_object e4_obj_dx_node(uint32_t ino, uint64_t blk,
					      uint64_t lblk)
{
	return e4_obj(E4_OBJ_DX_NODE, ino, blk, lblk);
}
static inline struct e4_object e4_obj_dirent(uint32_t dir, uint32_t ino)
{
	return e4_obj(E4_OBJ_DIRENT, dir, 0, ino);
}
static inline struct e4_object e4_obj_xattr_block(uint32_t ino, uint64_t blk)
{
	return e4_obj(E4_OBJ_XATTR_BLOCK, ino, blk, 0);
}
static inline struct e4_object e4_obj_journal_block(uint32_t jblk,
						    uint64_t copy_of)
{
	return e4_obj(E4_OBJ_JOURNAL_BLOCK, 0, copy_of, jblk);
}

#endif /* E4_RULES_H */

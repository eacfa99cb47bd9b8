/* SPDX-License-Identifier: MIT */
/*
 * Cross-reference mutation: a custom mutator that, for part of the
 * mutations, finds the fields of the input that name another object (an
 * inode number, a block number) and points one of them, or all of a group
 * at once, at an interesting target: the object itself, its parent, the
 * reserved inodes, the journal and orphan file, the metadata blocks
 * (superblock, descriptors, bitmaps, inode tables, journal blocks).  Random
 * byte flips almost never produce "this directory entry names its own
 * directory" or "every indirect pointer names the same block"; these are
 * the inputs behind unbounded recursion and repeated work.
 *
 * Each harness knows the structure it splices into its template and tells
 * the mutator through a describe function (e4_xref_register); the targets
 * come from the template's own geometry, read with the library.  The same
 * code serves libFuzzer (LLVMFuzzerCustomMutator, linked into the harness)
 * and AFL++ (afl_custom_init/fuzz/deinit in a shared library built by
 * build.sh, the harness named by $E4_XREF_HARNESS).  The other mutations
 * are the fuzzer's own (LLVMFuzzerMutate; AFL++'s stages).
 */
#ifndef E4_FUZZ_XREF_H
#define E4_FUZZ_XREF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct e4_fs;

enum e4_xref_kind { E4_XREF_INODE, E4_XREF_BLOCK, E4_XREF_KINDS };

/* A reference field of the input: @bytes at @off (little-endian, or
 * big-endian for jbd2), and, for a split 48/64-bit block number, the high
 * @hi_bytes at @off_hi. */
struct e4_xref_field {
	uint32_t off, off_hi;
	uint8_t bytes, hi_bytes;
	bool be;
	uint8_t kind;		/* enum e4_xref_kind */
	uint16_t group;		/* fields of one structure (for "all at once") */
};

#define E4_XREF_FIELDS_MAX 2048
#define E4_XREF_TARGETS_MAX 96

struct e4_xref_set {
	struct e4_xref_field field[E4_XREF_FIELDS_MAX];
	size_t n_fields;
	uint64_t target[E4_XREF_KINDS][E4_XREF_TARGETS_MAX];
	size_t n_targets[E4_XREF_KINDS];
};

/* Fill @set with the fields of @data and the targets for it. */
typedef void (*e4_xref_describe_fn)(const uint8_t *data, size_t size,
				    struct e4_xref_set *set);

/* libFuzzer: the harness's describe function, from LLVMFuzzerInitialize. */
void e4_xref_register(e4_xref_describe_fn fn);
e4_xref_describe_fn e4_xref_registered(void);

/* One cross-reference mutation of @data in place (@size bytes; fields past
 * it are not touched).  Returns false when the input has no field. */
bool e4_xref_mutate(uint8_t *data, size_t size, e4_xref_describe_fn describe,
		    uint32_t seed);

/* Building the set. */
void e4_xref_add_field(struct e4_xref_set *s, size_t size, uint32_t off,
		       uint8_t bytes, bool be, enum e4_xref_kind kind,
		       uint16_t group);
void e4_xref_add_field_hi(struct e4_xref_set *s, size_t size, uint32_t off,
			  uint8_t bytes, uint32_t off_hi, uint8_t hi_bytes,
			  enum e4_xref_kind kind, uint16_t group);
void e4_xref_add_target(struct e4_xref_set *s, enum e4_xref_kind kind,
			uint64_t value);
/* The targets every image has: reserved inodes 1..11, root, lost+found,
 * journal and orphan file inodes, the first and last inode and one past
 * it; superblock, descriptor, bitmap and inode-table blocks, journal and
 * orphan file blocks, the last block and past it. */
void e4_xref_add_fs_targets(struct e4_xref_set *s, struct e4_fs *fs);

/* Structure parsers: add the reference fields of the structure found at
 * @off in @data (bounded by @size). */
void e4_xref_inode_record(struct e4_xref_set *s, const uint8_t *data,
			  size_t size, uint32_t off, uint32_t len, uint16_t group);
void e4_xref_extent_node(struct e4_xref_set *s, const uint8_t *data,
			 size_t size, uint32_t off, uint32_t len, uint16_t group);
void e4_xref_block_pointers(struct e4_xref_set *s, size_t size, uint32_t off,
			    uint32_t len, uint16_t group);
void e4_xref_dir_block(struct e4_xref_set *s, const uint8_t *data, size_t size,
		       uint32_t off, uint32_t len, uint16_t group);
void e4_xref_xattr_entries(struct e4_xref_set *s, const uint8_t *data,
			   size_t size, uint32_t off, uint32_t len,
			   uint16_t group);
void e4_xref_superblock(struct e4_xref_set *s, size_t size, uint32_t off,
			uint16_t group);
void e4_xref_group_descs(struct e4_xref_set *s, size_t size, uint32_t off,
			 uint32_t len, uint32_t desc_size, uint16_t group);
void e4_xref_orphan_block(struct e4_xref_set *s, size_t size, uint32_t off,
			  uint32_t len, uint16_t group);
/* jbd2 log blocks from @off, @block_size each: descriptor tags and revoke
 * records, in the layout the journal feature words select. */
void e4_xref_journal_log(struct e4_xref_set *s, const uint8_t *data,
			 size_t size, uint32_t off, uint32_t block_size,
			 uint32_t incompat, uint16_t group);

/* The whole-image harnesses' (walk, e4img) describe function: a whole
 * image, read raw (its superblock, group 0's descriptors, its first 64
 * inodes, the indirect blocks of the block-mapped ones and the first block
 * of the directories among them). */
void e4_xref_describe_image(const uint8_t *data, size_t size,
			    struct e4_xref_set *set);

#endif /* E4_FUZZ_XREF_H */

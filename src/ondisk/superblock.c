/* SPDX-License-Identifier: MIT */
/*
 * Superblock: validation (§0 SB1-SB16, L1-L10), feature policy (§2.4) and
 * the derived geometry every other part of the library relies on.  Nothing
 * downstream re-checks these values, so everything is checked here, in the
 * order §2.8 gives: magic, checksum, revision, features, geometry.
 */
#include <stdio.h>
#include <string.h>

#include "ondisk/ondisk.h"

#define SUPPORTED_INCOMPAT                                                   \
	(E4_INCOMPAT_FILETYPE | E4_INCOMPAT_RECOVER | E4_INCOMPAT_META_BG |  \
	 E4_INCOMPAT_EXTENTS | E4_INCOMPAT_64BIT | E4_INCOMPAT_MMP |         \
	 E4_INCOMPAT_FLEX_BG | E4_INCOMPAT_EA_INODE | E4_INCOMPAT_CSUM_SEED | \
	 E4_INCOMPAT_LARGEDIR | E4_INCOMPAT_INLINE_DATA | E4_INCOMPAT_CASEFOLD | \
	 E4_INCOMPAT_ENCRYPT)

#define KNOWN_RO_COMPAT                                                      \
	(E4_RO_COMPAT_SPARSE_SUPER | E4_RO_COMPAT_LARGE_FILE |               \
	 E4_RO_COMPAT_BTREE_DIR | E4_RO_COMPAT_HUGE_FILE |                   \
	 E4_RO_COMPAT_GDT_CSUM | E4_RO_COMPAT_DIR_NLINK |                    \
	 E4_RO_COMPAT_EXTRA_ISIZE | E4_RO_COMPAT_QUOTA |                     \
	 E4_RO_COMPAT_BIGALLOC | E4_RO_COMPAT_METADATA_CSUM |                \
	 E4_RO_COMPAT_READONLY | E4_RO_COMPAT_PROJECT |                      \
	 E4_RO_COMPAT_VERITY | E4_RO_COMPAT_ORPHAN_PRESENT)

struct feature_name {
	int word;	/* 0 compat, 1 incompat, 2 ro_compat */
	uint32_t bit;
	const char *name;
};

static const struct feature_name feature_names[] = {
	{0, E4_COMPAT_DIR_PREALLOC, "dir_prealloc"},
	{0, E4_COMPAT_IMAGIC_INODES, "imagic_inodes"},
	{0, E4_COMPAT_HAS_JOURNAL, "has_journal"},
	{0, E4_COMPAT_EXT_ATTR, "ext_attr"},
	{0, E4_COMPAT_RESIZE_INODE, "resize_inode"},
	{0, E4_COMPAT_DIR_INDEX, "dir_index"},
	{0, E4_COMPAT_LAZY_BG, "lazy_bg"},
	{0, E4_COMPAT_EXCLUDE_INODE, "exclude_inode"},
	{0, E4_COMPAT_EXCLUDE_BITMAP, "exclude_bitmap"},
	{0, E4_COMPAT_SPARSE_SUPER2, "sparse_super2"},
	{0, E4_COMPAT_FAST_COMMIT, "fast_commit"},
	{0, E4_COMPAT_STABLE_INODES, "stable_inodes"},
	{0, E4_COMPAT_ORPHAN_FILE, "orphan_file"},
	{1, E4_INCOMPAT_COMPRESSION, "compression"},
	{1, E4_INCOMPAT_FILETYPE, "filetype"},
	{1, E4_INCOMPAT_RECOVER, "needs_recovery"},
	{1, E4_INCOMPAT_JOURNAL_DEV, "journal_dev"},
	{1, E4_INCOMPAT_META_BG, "meta_bg"},
	{1, E4_INCOMPAT_EXTENTS, "extent"},
	{1, E4_INCOMPAT_64BIT, "64bit"},
	{1, E4_INCOMPAT_MMP, "mmp"},
	{1, E4_INCOMPAT_FLEX_BG, "flex_bg"},
	{1, E4_INCOMPAT_EA_INODE, "ea_inode"},
	{1, E4_INCOMPAT_DIRDATA, "dirdata"},
	{1, E4_INCOMPAT_CSUM_SEED, "metadata_csum_seed"},
	{1, E4_INCOMPAT_LARGEDIR, "large_dir"},
	{1, E4_INCOMPAT_INLINE_DATA, "inline_data"},
	{1, E4_INCOMPAT_ENCRYPT, "encrypt"},
	{1, E4_INCOMPAT_CASEFOLD, "casefold"},
	{2, E4_RO_COMPAT_SPARSE_SUPER, "sparse_super"},
	{2, E4_RO_COMPAT_LARGE_FILE, "large_file"},
	{2, E4_RO_COMPAT_BTREE_DIR, "btree_dir"},
	{2, E4_RO_COMPAT_HUGE_FILE, "huge_file"},
	{2, E4_RO_COMPAT_GDT_CSUM, "uninit_bg"},
	{2, E4_RO_COMPAT_DIR_NLINK, "dir_nlink"},
	{2, E4_RO_COMPAT_EXTRA_ISIZE, "extra_isize"},
	{2, E4_RO_COMPAT_HAS_SNAPSHOT, "snapshot"},
	{2, E4_RO_COMPAT_QUOTA, "quota"},
	{2, E4_RO_COMPAT_BIGALLOC, "bigalloc"},
	{2, E4_RO_COMPAT_METADATA_CSUM, "metadata_csum"},
	{2, E4_RO_COMPAT_REPLICA, "replica"},
	{2, E4_RO_COMPAT_READONLY, "read-only"},
	{2, E4_RO_COMPAT_PROJECT, "project"},
	{2, E4_RO_COMPAT_SHARED_BLOCKS, "shared_blocks"},
	{2, E4_RO_COMPAT_VERITY, "verity"},
	{2, E4_RO_COMPAT_ORPHAN_PRESENT, "orphan_present"},
};

/* Name the set bits of @bits in feature word @word ("casefold, 0x800000"). */
static void name_features(int word, uint32_t bits, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned b = 0; b < 32; b++) {
		uint32_t bit = 1u << b;
		const char *name = NULL;
		char hex[16];

		if (!(bits & bit))
			continue;
		for (size_t i = 0; i < sizeof(feature_names) / sizeof(*feature_names); i++)
			if (feature_names[i].word == word && feature_names[i].bit == bit)
				name = feature_names[i].name;
		if (!name) {
			snprintf(hex, sizeof(hex), "0x%x", bit);
			name = hex;
		}
		int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", name);
		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
	}
}

void e4_fs_describe_features(const struct e4_fs *fs, char *buf, size_t size)
{
	char part[3][512];
	name_features(0, fs->feature_compat, part[0], sizeof(part[0]));
	name_features(1, fs->feature_incompat, part[1], sizeof(part[1]));
	name_features(2, fs->feature_ro_compat, part[2], sizeof(part[2]));
	snprintf(buf, size, "%s%s%s%s%s", part[0],
		 part[0][0] && (part[1][0] || part[2][0]) ? ", " : "", part[1],
		 part[1][0] && part[2][0] ? ", " : "", part[2]);
}

/* s_maxbytes (§16). */
static uint64_t compute_max_file_size(const struct e4_fs *fs, bool extents)
{
	bool huge = fs->feature_ro_compat & E4_RO_COMPAT_HUGE_FILE;
	unsigned shift = fs->log_block_size - 9;
	uint64_t maxblocks;

	if (extents) {
		maxblocks = huge ? 0xFFFFFFFFull : (0xFFFFFFFFull >> shift);
	} else {
		uint64_t p = fs->block_size / 4;
		uint64_t addressable = 12 + p + p * p + p * p * p;
		uint64_t limit = (huge ? 0xFFFFFFFFFFFFull : 0xFFFFFFFFull) >> shift;
		if (addressable + (1 + (1 + p) + (1 + p + p * p)) <= limit) {
			maxblocks = addressable;
		} else {
			uint64_t u = limit - 12 - p, meta = 1;
			if (u < p * p) {
				meta += 1 + (u + p - 1) / p;
			} else {
				meta += 1 + p;
				u -= p * p;
				meta += 1 + (u + p - 1) / p + (u + p * p - 1) / (p * p);
			}
			maxblocks = limit - meta;
		}
		if (maxblocks > 0xFFFFFFFFull)
			maxblocks = 0xFFFFFFFFull;
	}
	uint64_t bytes = maxblocks << fs->log_block_size;
	return bytes > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : bytes;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static int check_features(struct e4_fs *fs)
{
	char names[512];
	uint32_t unknown = fs->feature_incompat & ~(uint32_t)SUPPORTED_INCOMPAT;

	if (fs->feature_incompat & E4_INCOMPAT_JOURNAL_DEV) {
		e4_log_rule(fs, E4_LOG_ERROR, E4_RULE_SB12, e4_obj_fs(),
			    "this is an external journal device, not a file system");
		return -EINVAL;
	}
	if (unknown) {
		name_features(1, unknown, names, sizeof(names));
		e4_log_rule(fs, E4_LOG_ERROR, E4_RULE_SB3, e4_obj_fs(),
			    "unsupported incompatible feature: %s", names);
		return -EOPNOTSUPP;
	}
	if (fs->feature_incompat & E4_INCOMPAT_CASEFOLD) {
		/* SB10: UTF-8 12.1 is the only encoding; bit 0 is strict */
		uint16_t enc = e4_le16(fs->sb_raw, E4_SB_SIZE, E4_SB_ENCODING);
		uint16_t flags = e4_le16(fs->sb_raw, E4_SB_SIZE,
					 E4_SB_ENCODING_FLAGS);

		if (enc != E4_ENCODING_UTF8_12_1 ||
		    (flags & ~(uint16_t)E4_ENCODING_FLAG_STRICT)) {
			e4_log_rule(fs, E4_LOG_ERROR, E4_RULE_SB10, e4_obj_fs(),
				    "unsupported casefold encoding %u (flags 0x%x)",
				    enc, flags);
			return -EOPNOTSUPP;
		}
		fs->casefold_strict = flags & E4_ENCODING_FLAG_STRICT;
	}
	unknown = fs->feature_ro_compat & ~(uint32_t)KNOWN_RO_COMPAT;
	if (unknown) {
		name_features(2, unknown, names, sizeof(names));
		e4_log_rule(fs, E4_LOG_WARN, E4_RULE_SB3, e4_obj_fs(),
			    "unknown read-only-compatible feature: %s: read-only",
			    names);
		fs->read_only_forced = true;
	}
	if (fs->feature_ro_compat &
	    (E4_RO_COMPAT_READONLY | E4_RO_COMPAT_HAS_SNAPSHOT |
	     E4_RO_COMPAT_REPLICA | E4_RO_COMPAT_SHARED_BLOCKS))
		fs->read_only_forced = true;
	return 0;
}

static int check_geometry(struct e4_fs *fs, const uint8_t *sb, size_t n)
{
	uint32_t log_cluster = e4_le32(sb, n, E4_SB_LOG_CLUSTER_SIZE);
	uint32_t B = fs->block_size;
	uint64_t groups;

	if (fs->feature_ro_compat & E4_RO_COMPAT_BIGALLOC) {
		if (log_cluster < fs->log_block_size - 10 || log_cluster > 20)
			return e4_corrupt(fs, E4_RULE_L2, e4_obj_superblock(),
					  "cluster size 2^%u out of range",
					  log_cluster + 10);
		fs->cluster_ratio = 1u << (log_cluster + 10 - fs->log_block_size);
	} else {
		if (log_cluster != fs->log_block_size - 10)
			return e4_corrupt(fs, E4_RULE_L2, e4_obj_superblock(),
					  "cluster size differs from block size without bigalloc");
		fs->cluster_ratio = 1;
	}
	if (fs->clusters_per_group == 0 || fs->clusters_per_group > 8 * B)
		return e4_corrupt(fs, E4_RULE_L4, e4_obj_superblock(),
				  "clusters per group %u out of range (1..%u)",
				  fs->clusters_per_group, 8 * B);
	if ((uint64_t)fs->clusters_per_group * fs->cluster_ratio != fs->blocks_per_group)
		return e4_corrupt(fs, E4_RULE_L2, e4_obj_superblock(),
				  "blocks per group %u != clusters per group %u x %u",
				  fs->blocks_per_group, fs->clusters_per_group, fs->cluster_ratio);
	if (fs->inodes_per_group < 8 || fs->inodes_per_group > 8 * B ||
	    fs->inodes_per_group % 8)
		return e4_corrupt(fs, E4_RULE_L4, e4_obj_superblock(),
				  "inodes per group %u invalid",
				  fs->inodes_per_group);

	uint32_t expect_fdb = (B == 1024 && fs->cluster_ratio == 1) ? 1 : 0;
	if (fs->first_data_block != expect_fdb)
		return e4_corrupt(fs, E4_RULE_L3, e4_obj_superblock(),
				  "first data block %u, expected %u",
				  fs->first_data_block, expect_fdb);
	if (fs->blocks_count <= fs->first_data_block)
		return e4_corrupt(fs, E4_RULE_SB7, e4_obj_superblock(),
				  "blocks count %llu too small",
				  (unsigned long long)fs->blocks_count);
	if (!(fs->feature_incompat & E4_INCOMPAT_64BIT) &&
	    fs->blocks_count > 0xFFFFFFFFull)
		return e4_corrupt(fs, E4_RULE_SB_64BIT, e4_obj_superblock(),
				  "64-bit block count without 64bit");
	if (fs->r_blocks_count > fs->blocks_count)
		return e4_corrupt(fs, E4_RULE_SB7, e4_obj_superblock(),
				  "reserved blocks exceed block count");

	groups = (fs->blocks_count - fs->first_data_block + fs->blocks_per_group - 1) /
		 fs->blocks_per_group;
	if (groups == 0 || groups > 0xFFFFFFFFull)
		return e4_corrupt(fs, E4_RULE_L5, e4_obj_superblock(),
				  "group count %llu out of range",
				  (unsigned long long)groups);
	fs->group_count = (uint32_t)groups;
	if ((uint64_t)fs->inodes_per_group * groups != fs->inodes_count)
		return e4_corrupt(fs, E4_RULE_L5, e4_obj_superblock(),
				  "inodes count %u != %u groups x %u inodes",
				  fs->inodes_count, fs->group_count, fs->inodes_per_group);

	if (fs->inodes_per_group % (B / fs->inode_size))
		return e4_corrupt(fs, E4_RULE_L4, e4_obj_superblock(),
				  "inodes per group %u not a multiple of inodes per block",
				  fs->inodes_per_group);
	fs->itable_blocks = (uint32_t)(((uint64_t)fs->inodes_per_group * fs->inode_size + B - 1) / B);

	/* descriptors */
	if (fs->feature_incompat & E4_INCOMPAT_64BIT) {
		uint32_t ds = e4_le16(sb, n, E4_SB_DESC_SIZE);
		if (ds < E4_GD_SIZE_64 || ds > 1024 || !is_pow2(ds))
			return e4_corrupt(fs, E4_RULE_SB6, e4_obj_superblock(),
					  "descriptor size %u invalid with 64bit", ds);
		fs->desc_size = ds;
	} else {
		fs->desc_size = E4_GD_SIZE_MIN;
	}
	fs->descs_per_block = B / fs->desc_size;
	fs->gdt_blocks = (uint32_t)((groups + fs->descs_per_block - 1) / fs->descs_per_block);

	if (fs->reserved_gdt_blocks > B / 4)
		return e4_corrupt(fs, E4_RULE_L7, e4_obj_superblock(),
				  "%u reserved GDT blocks exceed %u",
				  fs->reserved_gdt_blocks, B / 4);
	if ((fs->feature_incompat & E4_INCOMPAT_META_BG) &&
	    fs->first_meta_bg > fs->gdt_blocks)
		return e4_corrupt(fs, E4_RULE_L8, e4_obj_superblock(),
				  "first_meta_bg %u beyond %u descriptor blocks",
				  fs->first_meta_bg, fs->gdt_blocks);
	/* group 0's copy of what every backup holds (group.c) */
	uint64_t gdt;
	uint32_t reserved, ngdt = e4_group_gdt_blocks(fs, 0, &gdt, &reserved);
	uint64_t end = gdt + ngdt + reserved;
	if (end > fs->first_data_block + (uint64_t)fs->blocks_per_group ||
	    end > fs->blocks_count)
		return e4_corrupt(fs, E4_RULE_L6, e4_obj_superblock(),
				  "descriptor table (%u blocks + %u reserved) does not fit in group 0",
				  ngdt, reserved);
	if (fs->feature_compat & E4_COMPAT_SPARSE_SUPER2) {
		for (int i = 0; i < 2; i++) {
			fs->backup_bgs[i] = e4_le32(sb, n, E4_SB_BACKUP_BGS + 4 * (size_t)i);
			if (fs->backup_bgs[i] >= fs->group_count)
				fs->backup_bgs[i] = 0;	/* no backup (L9) */
		}
	}
	if (fs->feature_incompat & E4_INCOMPAT_FLEX_BG) {
		fs->log_groups_per_flex = e4_u8(sb, n, E4_SB_LOG_GROUPS_PER_FLEX);
		if (fs->log_groups_per_flex > 31)
			return e4_corrupt(fs, E4_RULE_SB16, e4_obj_superblock(),
					  "log groups per flex %u > 31",
					  fs->log_groups_per_flex);
	}
	return 0;
}

int e4_sb_load(struct e4_fs *fs, const uint8_t *sb, size_t n)
{
	uint16_t magic = e4_le16(sb, n, E4_SB_MAGIC_OFF);
	int err;

	if (magic != E4_SB_MAGIC) {
		e4_log_rule(fs, E4_LOG_ERROR, E4_RULE_SB1, e4_obj_fs(),
			    "not an ext2/ext3/ext4 file system (superblock magic 0x%04x, expected 0xef53)",
			    magic);
		return -EINVAL;
	}
	memcpy(fs->sb_raw, sb, E4_SB_SIZE);
	fs->rev_level = e4_le32(sb, n, E4_SB_REV_LEVEL);
	if (fs->rev_level == 0) {
		fs->inode_size = E4_GOOD_OLD_INODE_SIZE;
		fs->first_ino = E4_GOOD_OLD_FIRST_INO;
	} else {
		fs->feature_compat = e4_le32(sb, n, E4_SB_FEATURE_COMPAT);
		fs->feature_incompat = e4_le32(sb, n, E4_SB_FEATURE_INCOMPAT);
		fs->feature_ro_compat = e4_le32(sb, n, E4_SB_FEATURE_RO_COMPAT);
		fs->inode_size = e4_le16(sb, n, E4_SB_INODE_SIZE);
		fs->first_ino = e4_le32(sb, n, E4_SB_FIRST_INO);
		if (fs->rev_level > 1) {
			e4_log_rule(fs, E4_LOG_WARN, E4_RULE_SB4,
				    e4_obj_superblock(), "revision %u > 1: read-only",
				    fs->rev_level);
			fs->read_only_forced = true;
		}
	}

	/* The checksum covers the feature words: check it before using them
	 * for anything but knowing that there is a checksum. */
	fs->metadata_csum = fs->feature_ro_compat & E4_RO_COMPAT_METADATA_CSUM;
	if (fs->metadata_csum) {
		uint8_t type = e4_u8(sb, n, E4_SB_CHECKSUM_TYPE);
		if (type != 1)
			return e4_corrupt(fs, E4_RULE_SB2, e4_obj_superblock(),
					  "checksum type %u, expected 1 (crc32c)", type);
		uint32_t want = e4_le32(sb, n, E4_SB_CHECKSUM);
		uint32_t got = e4_crc32c(0xFFFFFFFFu, sb, E4_SB_CHECKSUM);
		if (want != got) {
			err = e4_csum_mismatch(fs, E4_RULE_SB2,
					       e4_obj_superblock(), want, got);
			if (err)
				return err;
		}
	}
	fs->gdt_csum = !fs->metadata_csum && (fs->feature_ro_compat & E4_RO_COMPAT_GDT_CSUM);
	fs->uninit_flags_valid = fs->metadata_csum || fs->gdt_csum;

	err = check_features(fs);
	if (err)
		return err;

	fs->log_block_size = e4_le32(sb, n, E4_SB_LOG_BLOCK_SIZE);
	if (fs->log_block_size > 6)
		return e4_corrupt(fs, E4_RULE_L1, e4_obj_superblock(),
				  "block size 2^%u too large (log_block_size %u > 6)",
				  fs->log_block_size + 10, fs->log_block_size);
	fs->log_block_size += 10;
	fs->block_size = 1u << fs->log_block_size;

	if (fs->rev_level >= 1) {
		if (fs->inode_size < E4_GOOD_OLD_INODE_SIZE ||
		    fs->inode_size > fs->block_size || !is_pow2(fs->inode_size))
			return e4_corrupt(fs, E4_RULE_SB5, e4_obj_superblock(),
					  "inode size %u invalid",
					  fs->inode_size);
	}
	fs->inodes_count = e4_le32(sb, n, E4_SB_INODES_COUNT);
	if (fs->first_ino < E4_GOOD_OLD_FIRST_INO || fs->first_ino >= fs->inodes_count)
		return e4_corrupt(fs, E4_RULE_SB5, e4_obj_superblock(),
				  "first inode %u invalid (inodes count %u)",
				  fs->first_ino, fs->inodes_count);

	bool is64 = fs->feature_incompat & E4_INCOMPAT_64BIT;
	fs->blocks_count = e4_le32(sb, n, E4_SB_BLOCKS_COUNT_LO) |
		(is64 ? (uint64_t)e4_le32(sb, n, E4_SB_BLOCKS_COUNT_HI) << 32 : 0);
	fs->r_blocks_count = e4_le32(sb, n, E4_SB_R_BLOCKS_COUNT_LO) |
		(is64 ? (uint64_t)e4_le32(sb, n, E4_SB_R_BLOCKS_COUNT_HI) << 32 : 0);
	fs->free_blocks_count = e4_le32(sb, n, E4_SB_FREE_BLOCKS_COUNT_LO) |
		(is64 ? (uint64_t)e4_le32(sb, n, E4_SB_FREE_BLOCKS_COUNT_HI) << 32 : 0);
	fs->free_inodes_count = e4_le32(sb, n, E4_SB_FREE_INODES_COUNT);
	fs->first_data_block = e4_le32(sb, n, E4_SB_FIRST_DATA_BLOCK);
	fs->blocks_per_group = e4_le32(sb, n, E4_SB_BLOCKS_PER_GROUP);
	fs->clusters_per_group = e4_le32(sb, n, E4_SB_CLUSTERS_PER_GROUP);
	fs->inodes_per_group = e4_le32(sb, n, E4_SB_INODES_PER_GROUP);
	fs->reserved_gdt_blocks = fs->rev_level ? e4_le16(sb, n, E4_SB_RESERVED_GDT_BLOCKS) : 0;
	fs->first_meta_bg = e4_le32(sb, n, E4_SB_FIRST_META_BG);

	err = check_geometry(fs, sb, n);
	if (err)
		return err;

	if (fs->metadata_csum && (fs->feature_incompat & E4_INCOMPAT_CSUM_SEED))
		fs->fs_seed = e4_le32(sb, n, E4_SB_CHECKSUM_SEED);
	else
		fs->fs_seed = e4_crc32c(0xFFFFFFFFu, sb + E4_SB_UUID, 16);

	for (int i = 0; i < 4; i++)
		fs->hash_seed[i] = e4_le32(sb, n, E4_SB_HASH_SEED + 4 * (size_t)i);
	fs->def_hash_version = e4_u8(sb, n, E4_SB_DEF_HASH_VERSION);
	fs->hash_unsigned = e4_le32(sb, n, E4_SB_FLAGS) & E4_SB_FLAG_UNSIGNED_HASH;

	fs->journal_inum = (fs->feature_compat & E4_COMPAT_HAS_JOURNAL) ?
		e4_le32(sb, n, E4_SB_JOURNAL_INUM) : 0;
	if (fs->journal_inum && fs->journal_inum > fs->inodes_count)
		return e4_corrupt(fs, E4_RULE_SB12, e4_obj_superblock(),
				  "journal inode %u out of range",
				  fs->journal_inum);
	fs->last_orphan = e4_le32(sb, n, E4_SB_LAST_ORPHAN);
	fs->orphan_file_inum = (fs->feature_compat & E4_COMPAT_ORPHAN_FILE) ?
		e4_le32(sb, n, E4_SB_ORPHAN_FILE_INUM) : 0;
	fs->lpf_ino = e4_le32(sb, n, E4_SB_LPF_INO);

	/* s_maxbytes follows the mapping a file uses; the extent limit is the
	 * larger and applies to extent files, the block-map one to others. */
	fs->max_file_size = compute_max_file_size(fs,
		fs->feature_incompat & E4_INCOMPAT_EXTENTS);
	fs->max_file_size_blockmap = compute_max_file_size(fs, false);

	if (e4_le16(sb, n, E4_SB_STATE) & E4_STATE_ERROR) {
		e4_log_rule(fs, E4_LOG_WARN, E4_RULE_SB14, e4_obj_fs(),
			    "file system has errors recorded (run e2fsck): read-only");
		fs->read_only_forced = true;
	}
	return 0;
}

/* ---- the verifier row of the superblock's block ------------------------ */

/* The superblock inside the block that holds it (block 0 at byte 1024, or
 * all of block 1 with 1 KiB blocks). */
static const uint8_t *sb_in(const struct e4_fs *fs, const struct e4_buf *buf)
{
	return buf->data + E4_SB_OFFSET % fs->block_size;
}

/*
 * A superblock written back must be the file system it was opened as: the
 * magic, the same geometry, free counts within the totals.  (e4_sb_load
 * decodes the whole of it, once, at open.)
 */
static int sb_verify_write(struct e4_fs *fs, const struct e4_buf *buf,
			   const struct e4_owner *owner)
{
	const uint8_t *sb = sb_in(fs, buf);
	size_t n = E4_SB_SIZE;
	uint64_t blocks = e4_le32(sb, n, E4_SB_BLOCKS_COUNT_LO);
	uint64_t free_blocks = e4_le32(sb, n, E4_SB_FREE_BLOCKS_COUNT_LO);

	(void)owner;
	if (fs->feature_incompat & E4_INCOMPAT_64BIT) {
		blocks |= (uint64_t)e4_le32(sb, n, E4_SB_BLOCKS_COUNT_HI) << 32;
		free_blocks |= (uint64_t)e4_le32(sb, n, E4_SB_FREE_BLOCKS_COUNT_HI) << 32;
	}
	if (e4_le16(sb, n, E4_SB_MAGIC_OFF) != E4_SB_MAGIC)
		return e4_corrupt(fs, E4_RULE_SB1, e4_obj_superblock(),
				  "bad magic 0x%04x",
				  e4_le16(sb, n, E4_SB_MAGIC_OFF));
	if (e4_le32(sb, n, E4_SB_LOG_BLOCK_SIZE) + 10 != fs->log_block_size ||
	    e4_le32(sb, n, E4_SB_BLOCKS_PER_GROUP) != fs->blocks_per_group ||
	    e4_le32(sb, n, E4_SB_INODES_PER_GROUP) != fs->inodes_per_group ||
	    e4_le32(sb, n, E4_SB_INODES_COUNT) != fs->inodes_count ||
	    blocks != fs->blocks_count)
		return e4_corrupt(fs, E4_RULE_L5, e4_obj_superblock(),
				  "geometry differs from the file system's");
	if (free_blocks > blocks ||
	    e4_le32(sb, n, E4_SB_FREE_INODES_COUNT) > fs->inodes_count)
		return e4_corrupt(fs, E4_RULE_SB7, e4_obj_superblock(),
				  "free counts exceed the totals");
	return 0;
}

static uint32_t sb_csum(const uint8_t *sb)
{
	return e4_crc32c(0xFFFFFFFFu, sb, E4_SB_CHECKSUM);
}

/* SB2 (the checksum), then the structure. */
static int sb_verify_read(struct e4_fs *fs, const struct e4_buf *buf,
			  const struct e4_owner *owner)
{
	const uint8_t *sb = sb_in(fs, buf);

	if (fs->metadata_csum) {
		uint32_t want = e4_le32(sb, E4_SB_SIZE, E4_SB_CHECKSUM);
		uint32_t got = sb_csum(sb);

		if (want != got) {
			int err = e4_csum_mismatch(fs, E4_RULE_SB2,
						   e4_obj_superblock(), want,
						   got);
			if (err)
				return err;
		}
	}
	return sb_verify_write(fs, buf, owner);
}

static void sb_csum_set(struct e4_fs *fs, struct e4_buf *buf,
			const struct e4_owner *owner)
{
	size_t off = E4_SB_OFFSET % fs->block_size;

	(void)owner;
	if (fs->metadata_csum)
		e4_put_le32(buf->data + off, E4_SB_SIZE, E4_SB_CHECKSUM,
			    sb_csum(buf->data + off));
}

const struct e4_buf_ops e4_bops_superblock = {
	.name = "superblock", .kind = E4_BUF_SUPERBLOCK,
	.verify_read = sb_verify_read, .verify_write = sb_verify_write,
	.csum_set = sb_csum_set,
};

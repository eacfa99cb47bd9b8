/* SPDX-License-Identifier: MIT */
/*
 * ext4 on-disk format constants: sizes, offsets, magics and flag bits, as in
 * ../shared/spec/ext4-format.md (section numbers in comments).
 *
 * e4fuse never casts disk buffers to structs: these offsets are fed to the
 * bounds-checked accessors of e4/bytes.h.  The structure sizes they imply
 * are pinned by static assertions at the end.
 */
#ifndef E4_FORMAT_H
#define E4_FORMAT_H

#include <assert.h>

/* ---- superblock (§2.1) ------------------------------------------------ */
#define E4_SB_OFFSET 1024
#define E4_SB_SIZE 1024
#define E4_SB_MAGIC 0xEF53

#define E4_SB_INODES_COUNT 0x000
#define E4_SB_BLOCKS_COUNT_LO 0x004
#define E4_SB_R_BLOCKS_COUNT_LO 0x008
#define E4_SB_FREE_BLOCKS_COUNT_LO 0x00C
#define E4_SB_FREE_INODES_COUNT 0x010
#define E4_SB_FIRST_DATA_BLOCK 0x014
#define E4_SB_LOG_BLOCK_SIZE 0x018
#define E4_SB_LOG_CLUSTER_SIZE 0x01C
#define E4_SB_BLOCKS_PER_GROUP 0x020
#define E4_SB_CLUSTERS_PER_GROUP 0x024
#define E4_SB_INODES_PER_GROUP 0x028
#define E4_SB_MTIME 0x02C
#define E4_SB_WTIME 0x030
#define E4_SB_MAGIC_OFF 0x038
#define E4_SB_MNT_COUNT 0x034
#define E4_SB_MAX_MNT_COUNT 0x036
#define E4_SB_STATE 0x03A
#define E4_SB_ERRORS 0x03C
#define E4_SB_CREATOR_OS 0x048
#define E4_SB_REV_LEVEL 0x04C
#define E4_SB_FIRST_INO 0x054
#define E4_SB_INODE_SIZE 0x058
#define E4_SB_BLOCK_GROUP_NR 0x05A
#define E4_SB_FEATURE_COMPAT 0x05C
#define E4_SB_FEATURE_INCOMPAT 0x060
#define E4_SB_FEATURE_RO_COMPAT 0x064
#define E4_SB_UUID 0x068
#define E4_SB_VOLUME_NAME 0x078
#define E4_SB_LAST_MOUNTED 0x088
#define E4_SB_LAST_MOUNTED_SIZE 64
#define E4_SB_RESERVED_GDT_BLOCKS 0x0CE
#define E4_SB_JOURNAL_UUID 0x0D0
#define E4_SB_JOURNAL_INUM 0x0E0
#define E4_SB_JOURNAL_DEV 0x0E4
#define E4_SB_LAST_ORPHAN 0x0E8
#define E4_SB_HASH_SEED 0x0EC
#define E4_SB_DEF_HASH_VERSION 0x0FC
#define E4_SB_DESC_SIZE 0x0FE
#define E4_SB_FIRST_META_BG 0x104
#define E4_SB_BLOCKS_COUNT_HI 0x150
#define E4_SB_R_BLOCKS_COUNT_HI 0x154
#define E4_SB_FREE_BLOCKS_COUNT_HI 0x158
#define E4_SB_MIN_EXTRA_ISIZE 0x15C
#define E4_SB_ERROR_COUNT 0x194
#define E4_SB_FIRST_ERROR_TIME 0x198
#define E4_SB_FIRST_ERROR_INO 0x19C
#define E4_SB_FIRST_ERROR_BLOCK 0x1A0
#define E4_SB_FIRST_ERROR_FUNC 0x1A8
#define E4_SB_ERROR_FUNC_SIZE 32
#define E4_SB_LAST_ERROR_TIME 0x1CC
#define E4_SB_LAST_ERROR_INO 0x1D0
#define E4_SB_LAST_ERROR_BLOCK 0x1D8
#define E4_SB_LAST_ERROR_FUNC 0x1E0
#define E4_SB_FIRST_ERROR_LINE 0x1C8
#define E4_SB_LAST_ERROR_LINE 0x1D4
#define E4_SB_WTIME_HI 0x274
#define E4_SB_MTIME_HI 0x275
#define E4_SB_FIRST_ERROR_TIME_HI 0x278
#define E4_SB_LAST_ERROR_TIME_HI 0x279
#define E4_SB_FIRST_ERROR_ERRCODE 0x27A
#define E4_SB_LAST_ERROR_ERRCODE 0x27B
#define E4_SB_ERRCODE_EFSCORRUPTED 5	/* the portable code (§2.1) */
#define E4_SB_WANT_EXTRA_ISIZE 0x15E
#define E4_SB_FLAGS 0x160
#define E4_SB_MMP_INTERVAL 0x166
#define E4_SB_MMP_BLOCK 0x168
#define E4_SB_LOG_GROUPS_PER_FLEX 0x174
#define E4_SB_CHECKSUM_TYPE 0x175
#define E4_SB_USR_QUOTA_INUM 0x240
#define E4_SB_GRP_QUOTA_INUM 0x244
#define E4_SB_OVERHEAD_CLUSTERS 0x248
#define E4_SB_BACKUP_BGS 0x24C
#define E4_SB_LPF_INO 0x268
#define E4_SB_PRJ_QUOTA_INUM 0x26C
#define E4_SB_CHECKSUM_SEED 0x270
#define E4_SB_ENCODING 0x27C
#define E4_SB_ENCODING_FLAGS 0x27E
#define E4_ENCODING_UTF8_12_1 1
/* fscrypt: names are encrypted in whole blocks of this size */
#define E4_CRYPTO_BLOCK_SIZE 16
#define E4_ENCODING_FLAG_STRICT 0x1
#define E4_SB_ORPHAN_FILE_INUM 0x280
#define E4_SB_CHECKSUM 0x3FC

#define E4_STATE_VALID 0x1
#define E4_STATE_ERROR 0x2
#define E4_STATE_ORPHAN 0x4

#define E4_SB_FLAG_SIGNED_HASH 0x1
#define E4_SB_FLAG_UNSIGNED_HASH 0x2

/* COMPAT (§2.3) */
#define E4_COMPAT_DIR_PREALLOC 0x0001
#define E4_COMPAT_IMAGIC_INODES 0x0002
#define E4_COMPAT_HAS_JOURNAL 0x0004
#define E4_COMPAT_EXT_ATTR 0x0008
#define E4_COMPAT_RESIZE_INODE 0x0010
#define E4_COMPAT_DIR_INDEX 0x0020
#define E4_COMPAT_LAZY_BG 0x0040
#define E4_COMPAT_EXCLUDE_INODE 0x0080
#define E4_COMPAT_EXCLUDE_BITMAP 0x0100
#define E4_COMPAT_SPARSE_SUPER2 0x0200
#define E4_COMPAT_FAST_COMMIT 0x0400
#define E4_COMPAT_STABLE_INODES 0x0800
#define E4_COMPAT_ORPHAN_FILE 0x1000

/* INCOMPAT */
#define E4_INCOMPAT_COMPRESSION 0x00001
#define E4_INCOMPAT_FILETYPE 0x00002
#define E4_INCOMPAT_RECOVER 0x00004
#define E4_INCOMPAT_JOURNAL_DEV 0x00008
#define E4_INCOMPAT_META_BG 0x00010
#define E4_INCOMPAT_EXTENTS 0x00040
#define E4_INCOMPAT_64BIT 0x00080
#define E4_INCOMPAT_MMP 0x00100
#define E4_INCOMPAT_FLEX_BG 0x00200
#define E4_INCOMPAT_EA_INODE 0x00400
#define E4_INCOMPAT_DIRDATA 0x01000
#define E4_INCOMPAT_CSUM_SEED 0x02000
#define E4_INCOMPAT_LARGEDIR 0x04000
#define E4_INCOMPAT_INLINE_DATA 0x08000
#define E4_INCOMPAT_ENCRYPT 0x10000
#define E4_INCOMPAT_CASEFOLD 0x20000

/* RO_COMPAT */
#define E4_RO_COMPAT_SPARSE_SUPER 0x00001
#define E4_RO_COMPAT_LARGE_FILE 0x00002
#define E4_RO_COMPAT_BTREE_DIR 0x00004
#define E4_RO_COMPAT_HUGE_FILE 0x00008
#define E4_RO_COMPAT_GDT_CSUM 0x00010
#define E4_RO_COMPAT_DIR_NLINK 0x00020
#define E4_RO_COMPAT_EXTRA_ISIZE 0x00040
#define E4_RO_COMPAT_HAS_SNAPSHOT 0x00080
#define E4_RO_COMPAT_QUOTA 0x00100
#define E4_RO_COMPAT_BIGALLOC 0x00200
#define E4_RO_COMPAT_METADATA_CSUM 0x00400
#define E4_RO_COMPAT_REPLICA 0x00800
#define E4_RO_COMPAT_READONLY 0x01000
#define E4_RO_COMPAT_PROJECT 0x02000
#define E4_RO_COMPAT_SHARED_BLOCKS 0x04000
#define E4_RO_COMPAT_VERITY 0x08000
#define E4_RO_COMPAT_ORPHAN_PRESENT 0x10000

/* ---- group descriptors (§3) ------------------------------------------- */
#define E4_GD_BLOCK_BITMAP_LO 0x00
#define E4_GD_INODE_BITMAP_LO 0x04
#define E4_GD_INODE_TABLE_LO 0x08
#define E4_GD_FREE_BLOCKS_LO 0x0C
#define E4_GD_FREE_INODES_LO 0x0E
#define E4_GD_USED_DIRS_LO 0x10
#define E4_GD_FLAGS 0x12
#define E4_GD_BLOCK_BITMAP_CSUM_LO 0x18
#define E4_GD_INODE_BITMAP_CSUM_LO 0x1A
#define E4_GD_ITABLE_UNUSED_LO 0x1C
#define E4_GD_CHECKSUM 0x1E
#define E4_GD_BLOCK_BITMAP_HI 0x20
#define E4_GD_INODE_BITMAP_HI 0x24
#define E4_GD_INODE_TABLE_HI 0x28
#define E4_GD_FREE_BLOCKS_HI 0x2C
#define E4_GD_FREE_INODES_HI 0x2E
#define E4_GD_USED_DIRS_HI 0x30
#define E4_GD_ITABLE_UNUSED_HI 0x32
#define E4_GD_BLOCK_BITMAP_CSUM_HI 0x38
#define E4_GD_INODE_BITMAP_CSUM_HI 0x3A
#define E4_GD_SIZE_MIN 32
#define E4_GD_SIZE_64 64

#define E4_BG_INODE_UNINIT 0x1
#define E4_BG_BLOCK_UNINIT 0x2
#define E4_BG_INODE_ZEROED 0x4

/* ---- inodes (§4) ------------------------------------------------------ */
#define E4_GOOD_OLD_INODE_SIZE 128
#define E4_GOOD_OLD_FIRST_INO 11
#define E4_RESIZE_INO 7	/* reserved GDT blocks (§1.8) */
#define E4_I_MODE 0x00
#define E4_I_UID 0x02
#define E4_I_SIZE_LO 0x04
#define E4_I_ATIME 0x08
#define E4_I_CTIME 0x0C
#define E4_I_MTIME 0x10
#define E4_I_DTIME 0x14
#define E4_I_GID 0x18
#define E4_I_LINKS_COUNT 0x1A
#define E4_I_BLOCKS_LO 0x1C
#define E4_I_FLAGS 0x20
#define E4_I_VERSION_LO 0x24
#define E4_I_BLOCK 0x28
#define E4_I_BLOCK_SIZE 60
#define E4_I_GENERATION 0x64
#define E4_I_FILE_ACL_LO 0x68
#define E4_I_SIZE_HIGH 0x6C
#define E4_I_BLOCKS_HIGH 0x74
#define E4_I_FILE_ACL_HIGH 0x76
#define E4_I_UID_HIGH 0x78
#define E4_I_GID_HIGH 0x7A
#define E4_I_CHECKSUM_LO 0x7C
#define E4_I_EXTRA_ISIZE 0x80
#define E4_I_CHECKSUM_HI 0x82
#define E4_I_CTIME_EXTRA 0x84
#define E4_I_MTIME_EXTRA 0x88
#define E4_I_ATIME_EXTRA 0x8C
#define E4_I_CRTIME 0x90
#define E4_I_CRTIME_EXTRA 0x94
#define E4_I_VERSION_HI 0x98
#define E4_I_PROJID 0x9C

#define E4_S_IFMT 0xF000
#define E4_S_IFIFO 0x1000
#define E4_S_IFCHR 0x2000
#define E4_S_IFDIR 0x4000
#define E4_S_IFBLK 0x6000
#define E4_S_IFREG 0x8000
#define E4_S_IFLNK 0xA000
#define E4_S_IFSOCK 0xC000

/* i_flags (§4.6) */
#define E4_SECRM_FL 0x00000001
#define E4_UNRM_FL 0x00000002
#define E4_COMPR_FL 0x00000004
#define E4_SYNC_FL 0x00000008
#define E4_IMMUTABLE_FL 0x00000010
#define E4_APPEND_FL 0x00000020
#define E4_NODUMP_FL 0x00000040
#define E4_NOATIME_FL 0x00000080
#define E4_NOCOMPR_FL 0x00000400
#define E4_ENCRYPT_FL 0x00000800
#define E4_INDEX_FL 0x00001000
#define E4_JOURNAL_DATA_FL 0x00004000
#define E4_NOTAIL_FL 0x00008000
#define E4_DIRSYNC_FL 0x00010000
#define E4_TOPDIR_FL 0x00020000
#define E4_HUGE_FILE_FL 0x00040000
#define E4_EXTENTS_FL 0x00080000
#define E4_VERITY_FL 0x00100000
#define E4_EA_INODE_FL 0x00200000
#define E4_DAX_FL 0x02000000
#define E4_INLINE_DATA_FL 0x10000000
#define E4_PROJINHERIT_FL 0x20000000
#define E4_CASEFOLD_FL 0x40000000

#define E4_LINK_MAX 65000

/* ---- extents (§5) ----------------------------------------------------- */
#define E4_EXT_MAGIC 0xF30A
#define E4_EXT_NODE_SIZE 12	/* header, index and leaf entries alike */
#define E4_EXT_MAX_DEPTH 5
#define E4_EXT_INIT_MAX_LEN 32768u
#define E4_EXT_UNWRITTEN_MAX_LEN 32767u
#define E4_EXT_ROOT_CAPACITY 4
#define E4_EXT_UNWRITTEN_FLAG 32768u	/* added to ee_len */
/* header (§5.1) */
#define E4_EH_MAGIC 0x0
#define E4_EH_ENTRIES 0x2
#define E4_EH_MAX 0x4
#define E4_EH_DEPTH 0x6
#define E4_EH_GENERATION 0x8
/* index entry (§5.2) */
#define E4_EI_BLOCK 0x0
#define E4_EI_LEAF_LO 0x4
#define E4_EI_LEAF_HI 0x8
#define E4_EI_UNUSED 0xA
/* leaf entry (§5.3) */
#define E4_EE_BLOCK 0x0
#define E4_EE_LEN 0x4
#define E4_EE_START_HI 0x6
#define E4_EE_START_LO 0x8
/* the checksum tail after eh_max entries of a tree block (§5.5) */
#define E4_EXT_TAIL_SIZE 4

/* ---- block maps (§6) -------------------------------------------------- */
#define E4_NDIR_BLOCKS 12
#define E4_IND_BLOCK 12
#define E4_DIND_BLOCK 13
#define E4_TIND_BLOCK 14

/* ---- directories (§7) ------------------------------------------------- */
#define E4_DIRENT_HEADER 8
#define E4_NAME_MAX 255
#define E4_DIR_TAIL_SIZE 12
#define E4_DIR_TAIL_FT 0xDE
#define E4_DX_ROOT_INFO_OFF 0x18
#define E4_DX_ROOT_COUNT_OFF 0x20
#define E4_DX_NODE_COUNT_OFF 0x08
#define E4_DX_TAIL_SIZE 8
/* dirent fields (§7.1) */
#define E4_DIRENT_INODE 0x0
#define E4_DIRENT_REC_LEN 0x4
#define E4_DIRENT_NAME_LEN 0x6
#define E4_DIRENT_FILE_TYPE 0x7
#define E4_DIRENT_MIN_REC_LEN 12
#define E4_FT_COUNT 8		/* live file_type values are 0..7 */
/* dx_root_info and dx entries (§7.6) */
#define E4_DX_ROOT_HASH_VERSION 0x1C
#define E4_DX_ROOT_INFO_LENGTH 0x1D
#define E4_DX_ROOT_LEVELS 0x1E
#define E4_DX_ROOT_INFO_SIZE 8
#define E4_DX_ENTRY_SIZE 8
#define E4_DX_LEVELS_MAX 2		/* indirect_levels < this ... */
#define E4_DX_LEVELS_MAX_LARGEDIR 3	/* ... or < this with large_dir */

#define E4_HASH_LEGACY 0
#define E4_HASH_HALF_MD4 1
#define E4_HASH_TEA 2
#define E4_HASH_LEGACY_UNSIGNED 3
#define E4_HASH_HALF_MD4_UNSIGNED 4
#define E4_HASH_TEA_UNSIGNED 5
#define E4_HASH_SIPHASH 6

/* ---- inline data (§8) ------------------------------------------------- */
#define E4_INLINE_DATA_DOTDOT_SIZE 4
#define E4_MIN_INLINE_DATA_SIZE 60

/* ---- xattrs (§9), little-endian --------------------------------------- */
#define E4_XATTR_MAGIC 0xEA020000u
/* external block header (§9.3); entries start after it */
#define E4_XATTR_H_MAGIC 0x00
#define E4_XATTR_H_REFCOUNT 0x04
#define E4_XATTR_H_BLOCKS 0x08
#define E4_XATTR_H_HASH 0x0C
#define E4_XATTR_H_CHECKSUM 0x10
#define E4_XATTR_H_RESERVED 0x14	/* le32[3] */
#define E4_XATTR_H_RESERVED_SIZE 12
#define E4_XATTR_BLOCK_HEADER 32
/* in-inode area (§9.2): le32 magic, then the entries */
#define E4_XATTR_IBODY_HEADER 4
/* entry (§9.1): a 16-byte header, then the name suffix */
#define E4_XATTR_E_NAME_LEN 0x0
#define E4_XATTR_E_NAME_INDEX 0x1
#define E4_XATTR_E_VALUE_OFFS 0x2
#define E4_XATTR_E_VALUE_INUM 0x4
#define E4_XATTR_E_VALUE_SIZE 0x8
#define E4_XATTR_E_HASH 0xC
#define E4_XATTR_E_NAME 0x10
#define E4_XATTR_ENTRY_HEADER 16
#define E4_XATTR_PAD 4		/* entries and values are 4-byte aligned */
#define E4_XATTR_END_SIZE 4	/* the entry list ends with a zero le32 */
/* e_name_index (§9.4) */
#define E4_XATTR_INDEX_USER 1
#define E4_XATTR_INDEX_POSIX_ACL_ACCESS 2
#define E4_XATTR_INDEX_POSIX_ACL_DEFAULT 3
#define E4_XATTR_INDEX_TRUSTED 4
#define E4_XATTR_INDEX_LUSTRE 5
#define E4_XATTR_INDEX_SECURITY 6
#define E4_XATTR_INDEX_SYSTEM 7
#define E4_XATTR_INDEX_RICHACL 8
#define E4_XATTR_INDEX_ENCRYPTION 9
#define E4_XATTR_INDEX_HURD 10

/* ---- POSIX ACLs (§9.7), little-endian ---------------------------------- */
/* on disk (the value of index 2 or 3): a header, then 4-byte entries, 8 for
 * USER and GROUP (with e_id); the xattr ABI: the same header, version 2, and
 * 8-byte entries throughout */
#define E4_ACL_H_VERSION 0x0
#define E4_ACL_HEADER 4
#define E4_ACL_DISK_VERSION 1
#define E4_ACL_XATTR_VERSION 2
#define E4_ACL_E_TAG 0x0
#define E4_ACL_E_PERM 0x2
#define E4_ACL_E_ID 0x4
#define E4_ACL_SHORT_ENTRY 4
#define E4_ACL_FULL_ENTRY 8
/* e_id of the xattr ABI's entries without a qualifier */
#define E4_ACL_UNDEFINED_ID 0xFFFFFFFFu
/* e_tag */
#define E4_ACL_USER_OBJ 0x01
#define E4_ACL_USER 0x02
#define E4_ACL_GROUP_OBJ 0x04
#define E4_ACL_GROUP 0x08
#define E4_ACL_MASK 0x10
#define E4_ACL_OTHER 0x20
/* e_perm */
#define E4_ACL_READ 0x4
#define E4_ACL_WRITE 0x2
#define E4_ACL_EXECUTE 0x1
#define E4_ACL_PERM_MASK 0x7

/* ---- journal (§13), big-endian ----------------------------------------- */
#define E4_JBD2_MAGIC 0xC03B3998u
#define E4_J_UUID_SIZE 16
/* common block header (§13.2) */
#define E4_JH_MAGIC 0x0
#define E4_JH_BLOCKTYPE 0x4
#define E4_JH_SEQUENCE 0x8
#define E4_JH_SIZE 12
/* h_blocktype */
#define E4_JT_DESCRIPTOR 1
#define E4_JT_COMMIT 2
#define E4_JT_SB_V1 3
#define E4_JT_SB_V2 4
#define E4_JT_REVOKE 5
/* journal superblock (§13.3), journal block 0; fields from
 * E4_JSB_FEATURE_COMPAT on are v2 only */
#define E4_JSB_BLOCKSIZE 0x0C
#define E4_JSB_MAXLEN 0x10
#define E4_JSB_FIRST 0x14
#define E4_JSB_SEQUENCE 0x18
#define E4_JSB_START 0x1C
#define E4_JSB_ERRNO 0x20
#define E4_JSB_FEATURE_COMPAT 0x24
#define E4_JSB_FEATURE_INCOMPAT 0x28
#define E4_JSB_FEATURE_RO_COMPAT 0x2C
#define E4_JSB_UUID 0x30
#define E4_JSB_NR_USERS 0x40
#define E4_JSB_CHECKSUM_TYPE 0x50
#define E4_JSB_NUM_FC_BLKS 0x54
#define E4_JSB_HEAD 0x58
#define E4_JSB_CHECKSUM 0xFC
#define E4_JSB_USERS 0x100	/* u8[768]: 48 UUIDs */
#define E4_JSB_USERS_SIZE 768
#define E4_JSB_SIZE 1024
#define E4_JSB_NUM_FC_BLKS_DEFAULT 256	/* s_num_fc_blks 0 with FAST_COMMIT */
/* s_checksum_type and h_chksum_type */
#define E4_JCSUM_CRC32 1
#define E4_JCSUM_MD5 2
#define E4_JCSUM_SHA1 3
#define E4_JCSUM_CRC32C 4
#define E4_JCSUM_CRC32_SIZE 4	/* h_chksum_size of a v1 commit */
/* features (§13.3) */
#define E4_JF_COMPAT_CHECKSUM 0x1
#define E4_JF_INCOMPAT_REVOKE 0x01
#define E4_JF_INCOMPAT_64BIT 0x02
#define E4_JF_INCOMPAT_ASYNC_COMMIT 0x04
#define E4_JF_INCOMPAT_CSUM_V2 0x08
#define E4_JF_INCOMPAT_CSUM_V3 0x10
#define E4_JF_INCOMPAT_FAST_COMMIT 0x20
/* descriptor block (§13.4): the header, tags, and with csum v2/v3 a
 * checksum tail in the last 4 bytes (revoke blocks too) */
#define E4_JTAIL_SIZE 4
/* csum v3 tag: all be32 */
#define E4_JTAG3_BLOCKNR 0x0
#define E4_JTAG3_FLAGS 0x4
#define E4_JTAG3_BLOCKNR_HIGH 0x8
#define E4_JTAG3_CHECKSUM 0xC
#define E4_JTAG3_SIZE 16
/* other tags: be32 blocknr, be16 checksum (v2, else 0), be16 flags, be32
 * blocknr_high with 64BIT, and 2 unused bytes with csum v2 */
#define E4_JTAG_BLOCKNR 0x0
#define E4_JTAG_CHECKSUM 0x4
#define E4_JTAG_FLAGS 0x6
#define E4_JTAG_BLOCKNR_HIGH 0x8
#define E4_JTAG_SIZE 8
#define E4_JTAG_SIZE_64 12
#define E4_JTAG_SIZE_CSUM_V2 10
#define E4_JTAG_SIZE_CSUM_V2_64 14
/* t_flags; a tag without SAME_UUID is followed by a 16-byte UUID */
#define E4_JTAG_ESCAPE 0x1
#define E4_JTAG_SAME_UUID 0x2
#define E4_JTAG_DELETED 0x4
#define E4_JTAG_LAST 0x8
/* revoke block (§13.6): r_count counts the header, be32 or be64 records */
#define E4_JREVOKE_COUNT 0x0C
#define E4_JREVOKE_HEADER 16
#define E4_JREVOKE_RECORD 4
#define E4_JREVOKE_RECORD_64 8
/* commit block (§13.7) */
#define E4_JCOMMIT_CHKSUM_TYPE 0x0C
#define E4_JCOMMIT_CHKSUM_SIZE 0x0D
#define E4_JCOMMIT_CHKSUM 0x10		/* be32[8] */
#define E4_JCOMMIT_CHKSUM_WORDS 8
#define E4_JCOMMIT_SEC 0x30		/* be64 */
#define E4_JCOMMIT_NSEC 0x38
#define E4_JCOMMIT_SIZE 0x3C

/* ---- orphan file (§14.2), little-endian --------------------------------- */
/* every block: le32 slots (0 = empty), then a tail in its last 8 bytes */
#define E4_ORPHAN_MAGIC 0x0B10CA04u
#define E4_ORPHAN_SLOT_SIZE 4
#define E4_ORPHAN_TAIL_SIZE 8
#define E4_ORPHAN_TAIL_MAGIC 0x0	/* from the tail's start, B - 8 */
#define E4_ORPHAN_TAIL_CHECKSUM 0x4

/* Pinned sizes: the offsets above imply these structure sizes. */
static_assert(E4_SB_CHECKSUM + 4 == E4_SB_SIZE, "superblock is 1024 bytes");
static_assert(E4_SB_GRP_QUOTA_INUM + 4 == E4_SB_OVERHEAD_CLUSTERS &&
	      E4_SB_OVERHEAD_CLUSTERS + 4 == E4_SB_BACKUP_BGS,
	      "s_overhead_clusters sits between the quota inodes and s_backup_bgs");
static_assert(E4_GD_INODE_BITMAP_CSUM_HI + 2 + 4 == E4_GD_SIZE_64,
	      "64-byte group descriptor");
static_assert(E4_GD_CHECKSUM + 2 == E4_GD_SIZE_MIN, "32-byte group descriptor");
static_assert(E4_I_CHECKSUM_LO + 4 == E4_GOOD_OLD_INODE_SIZE,
	      "128-byte base inode");
static_assert(E4_I_BLOCK + E4_I_BLOCK_SIZE == E4_I_GENERATION,
	      "i_block is 60 bytes");
static_assert(E4_I_PROJID + 4 == 0xA0, "extended inode fields end at 0xA0");
static_assert(E4_EH_GENERATION + 4 == E4_EXT_NODE_SIZE, "extent header is 12 bytes");
static_assert(E4_EI_UNUSED + 2 == E4_EXT_NODE_SIZE, "extent index is 12 bytes");
static_assert(E4_EI_BLOCK == E4_EE_BLOCK, "index and leaf keys share an offset");
static_assert(E4_EE_START_LO + 4 == E4_EXT_NODE_SIZE, "extent leaf is 12 bytes");
static_assert(E4_EXT_INIT_MAX_LEN == E4_EXT_UNWRITTEN_FLAG &&
	      E4_EXT_UNWRITTEN_MAX_LEN + 1 == E4_EXT_UNWRITTEN_FLAG,
	      "ee_len: up to 32768 initialised, 1..32767 unwritten");
static_assert(E4_EXT_NODE_SIZE * (E4_EXT_ROOT_CAPACITY + 1) == E4_I_BLOCK_SIZE,
	      "extent root fills i_block");

static_assert(E4_XATTR_H_RESERVED + E4_XATTR_H_RESERVED_SIZE ==
	      E4_XATTR_BLOCK_HEADER, "32-byte xattr block header");
static_assert(E4_XATTR_H_MAGIC + 4 == E4_XATTR_IBODY_HEADER,
	      "4-byte in-inode xattr header: the magic");
static_assert(E4_XATTR_E_HASH + 4 == E4_XATTR_E_NAME &&
	      E4_XATTR_E_NAME == E4_XATTR_ENTRY_HEADER,
	      "16-byte xattr entry header");
static_assert(E4_XATTR_ENTRY_HEADER % E4_XATTR_PAD == 0 &&
	      E4_XATTR_BLOCK_HEADER % E4_XATTR_PAD == 0,
	      "xattr entries start aligned");

static_assert(E4_ACL_H_VERSION + 4 == E4_ACL_HEADER, "4-byte ACL header");
static_assert(E4_ACL_E_PERM + 2 == E4_ACL_E_ID &&
	      E4_ACL_E_ID == E4_ACL_SHORT_ENTRY, "4-byte short ACL entry");
static_assert(E4_ACL_E_ID + 4 == E4_ACL_FULL_ENTRY, "8-byte full ACL entry");

static_assert(E4_JH_SEQUENCE + 4 == E4_JH_SIZE, "12-byte jbd2 block header");
static_assert(E4_JH_SIZE == E4_JSB_BLOCKSIZE &&
	      E4_JH_SIZE == E4_JREVOKE_COUNT &&
	      E4_JH_SIZE == E4_JCOMMIT_CHKSUM_TYPE,
	      "jbd2 blocks continue right after the header");
static_assert(E4_JSB_UUID + E4_J_UUID_SIZE == E4_JSB_NR_USERS,
	      "16-byte journal UUID");
static_assert(E4_JSB_USERS + E4_JSB_USERS_SIZE == E4_JSB_SIZE,
	      "journal superblock is 1024 bytes");
static_assert(E4_JTAG3_CHECKSUM + 4 == E4_JTAG3_SIZE, "16-byte v3 tag");
static_assert(E4_JTAG3_BLOCKNR == E4_JTAG_BLOCKNR &&
	      E4_JTAG3_BLOCKNR_HIGH == E4_JTAG_BLOCKNR_HIGH,
	      "every tag keeps its block number in the same place");
static_assert(E4_JTAG_FLAGS + 2 == E4_JTAG_SIZE, "8-byte tag");
static_assert(E4_JTAG_BLOCKNR_HIGH + 4 == E4_JTAG_SIZE_64,
	      "12-byte 64-bit tag");
static_assert(E4_JTAG_SIZE + 2 == E4_JTAG_SIZE_CSUM_V2 &&
	      E4_JTAG_SIZE_64 + 2 == E4_JTAG_SIZE_CSUM_V2_64,
	      "csum v2 tags end in 2 unused bytes");
static_assert(E4_JREVOKE_COUNT + 4 == E4_JREVOKE_HEADER,
	      "16-byte revoke header");
static_assert(E4_JCOMMIT_CHKSUM_SIZE + 1 + 2 == E4_JCOMMIT_CHKSUM &&
	      E4_JCOMMIT_CHKSUM + 4 * E4_JCOMMIT_CHKSUM_WORDS ==
		      E4_JCOMMIT_SEC &&
	      E4_JCOMMIT_SEC + 8 == E4_JCOMMIT_NSEC &&
	      E4_JCOMMIT_NSEC + 4 == E4_JCOMMIT_SIZE,
	      "60-byte commit header");

static_assert(E4_ORPHAN_TAIL_CHECKSUM + 4 == E4_ORPHAN_TAIL_SIZE,
	      "8-byte orphan block tail");
static_assert(E4_ORPHAN_TAIL_SIZE % E4_ORPHAN_SLOT_SIZE == 0,
	      "the orphan tail ends the slot array");

#endif /* E4_FORMAT_H */

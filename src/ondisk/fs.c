/* SPDX-License-Identifier: MIT */
/*
 * The file-system handle: open/close and the checked entry to metadata
 * blocks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/icache.h"
#include "ondisk/journal.h"
#include "ondisk/ondisk.h"
#include "util/hmap.h"

bool e4_blocks_valid(const struct e4_fs *fs, uint64_t blk, uint64_t count)
{
	uint64_t end;

	if (count == 0 || e4_add_overflow(blk, count, &end))
		return false;
	return blk >= fs->first_data_block && end <= fs->blocks_count;
}

int e4_meta_get(struct e4_fs *fs, uint64_t blk, struct e4_buf **out)
{
	/* Metadata never lives below first_data_block except the superblock
	 * block itself, which nobody reads through here. */
	if (!e4_blocks_valid(fs, blk, 1))
		return e4_corrupt(fs, E4_RULE_FS_RANGE,
				  e4_obj(E4_OBJ_BLOCK, 0, blk, 0),
				  "outside the file system (%llu..%llu)",
				  (unsigned long long)fs->first_data_block,
				  (unsigned long long)fs->blocks_count - 1);
	e4_dev_count_meta_get(fs->dev);
	int err = e4_cache_get(fs->cache, blk, out);
	if (err == -EIO)
		e4_log_rule(fs, E4_LOG_ERROR, E4_RULE_IO_READ,
			    e4_obj(E4_OBJ_BLOCK, 0, blk, 0),
			    "read error (image truncated?)");
	return err;
}

/* The device must hold every block the superblock claims: checked on the
 * superblock as read, and again on one the journal replayed. */
static int check_device_size(struct e4_fs *fs)
{
	uint64_t need;

	if (e4_mul_overflow(fs->blocks_count, (uint64_t)fs->block_size, &need) ||
	    need > e4_dev_size(fs->dev)) {
		e4_log_rule(fs, E4_LOG_ERROR, E4_RULE_L10, e4_obj_fs(),
			    "image is truncated: %llu bytes, but the file system needs %llu blocks of %u bytes",
			    (unsigned long long)e4_dev_size(fs->dev),
			    (unsigned long long)fs->blocks_count, fs->block_size);
		return -EIO;
	}
	return 0;
}

/*
 * Replay the journal into memory and make every later read see it: a fresh
 * cache (blocks read while scanning the journal may be stale) with the
 * replay map as its overlay, and the superblock re-read through it, since
 * the journal may hold a newer copy (§13.8).
 */
/* The superblock the journal replayed, if it holds one: decoded and
 * checked again as the device's was. */
static int reload_replayed_superblock(struct e4_fs *fs)
{
	uint64_t sb_block = E4_SB_OFFSET / fs->block_size;
	uint32_t old_bs = fs->block_size;
	uint8_t *b;
	int err;

	if (!e4_journal_has_block(fs->journal, sb_block))
		return 0;
	b = malloc(fs->block_size);
	if (!b)
		return -ENOMEM;
	err = e4_journal_overlay_read(fs->journal, sb_block, b);
	if (err == 1) {
		err = e4_sb_load(fs, b + E4_SB_OFFSET % fs->block_size, E4_SB_SIZE);
		if (!err && fs->block_size != old_bs)
			err = e4_corrupt(fs, E4_RULE_J_SB, e4_obj_superblock(),
					 "the journal's copy changes the block size");
		if (!err)
			err = check_device_size(fs);
	}
	free(b);
	return err;
}

static int replay_journal(struct e4_fs *fs)
{
	struct e4_journal *j;
	int err = e4_journal_replay(fs, &j);

	if (!err) {
		fs->journal = j;
		if (e4_journal_replayed_blocks(j) == 0)
			return 0;
		e4_cache_destroy(fs->cache);
		fs->cache = NULL;
		err = e4_cache_create(fs->dev, fs->block_size,
				      fs->opts.cache_bytes, &fs->cache);
		if (!err) {
			e4_cache_set_overlay(fs->cache, e4_journal_overlay_read, j);
			err = reload_replayed_superblock(fs);
		}
	}
	if (err)
		e4_log(fs, E4_LOG_ERROR,
		       "journal replay failed; the image was not changed (-o norecovery reads it without replay)");
	return err;
}

int e4_buf_verify(struct e4_fs *fs, struct e4_buf *buf,
		  const struct e4_buf_ops *ops, const struct e4_owner *owner)
{
	struct e4_memo_key key = e4_owner_key(owner);
	int err;

	if (e4_buf_memo_get(fs->cache, buf, ops, &key, &err))
		return err;
	err = ops->verify_read ? ops->verify_read(fs, buf, owner) : 0;
	/* what the image says is remembered, what the moment says is not */
	if (err != -ENOMEM && err != -EIO)
		e4_buf_memo_set(fs->cache, buf, ops, &key, err);
	return err;
}

int e4_meta_get_verified(struct e4_fs *fs, uint64_t blk,
			 const struct e4_buf_ops *ops,
			 const struct e4_owner *owner, struct e4_buf **out)
{
	int err = e4_meta_get(fs, blk, out);

	if (err)
		return err;
	err = e4_buf_verify(fs, *out, ops, owner);
	if (err) {
		e4_meta_put(fs, *out);
		*out = NULL;
	}
	return err;
}

int e4_read_data(struct e4_fs *fs, void *buf, size_t len, uint64_t off)
{
	int err = e4_dev_pread(fs->dev, buf, len, off);

	if (err || !fs->journal || !e4_journal_replayed_blocks(fs->journal))
		return err;
	/* data=journal mode logs file data too: patch in replayed blocks */
	uint64_t first = off >> fs->log_block_size;
	uint64_t last = (off + len - 1) >> fs->log_block_size;
	uint8_t *tmp = NULL;
	for (uint64_t blk = first; blk <= last; blk++) {
		if (!e4_journal_has_block(fs->journal, blk))
			continue;
		if (!tmp && !(tmp = malloc(fs->block_size)))
			return -ENOMEM;
		err = e4_journal_overlay_read(fs->journal, blk, tmp);
		if (err < 0)
			break;
		err = 0;
		uint64_t bstart = blk << fs->log_block_size;
		uint64_t from = bstart > off ? bstart : off;
		uint64_t to = bstart + fs->block_size < off + len ?
			bstart + fs->block_size : off + len;
		memcpy((uint8_t *)buf + (from - off), tmp + (from - bstart), (size_t)(to - from));
	}
	free(tmp);
	return err;
}

static void default_opts(struct e4_open_opts *o)
{
	if (!o->log && !o->report)
		o->log = e4_log_to_stderr;
#ifdef E4_FUZZ_CSUM_ACCEPT
	o->csum = E4_CSUM_ACCEPT;
#endif
}

int e4_fs_open(struct e4_dev *dev, const struct e4_open_opts *opts,
	       struct e4_fs **out)
{
	struct e4_fs *fs = calloc(1, sizeof(*fs));
	uint8_t sb[E4_SB_SIZE];
	int err;

	if (!fs)
		return -ENOMEM;
	pthread_mutex_init(&fs->error_lock, NULL);
	if (opts)
		fs->opts = *opts;
	else
		fs->opts.log_level = E4_LOG_WARN;
	default_opts(&fs->opts);
	fs->dev = dev;
	fs->record_seed = e4_random_seed();

	if (e4_dev_size(dev) < E4_SB_OFFSET + E4_SB_SIZE) {
		e4_log_rule(fs, E4_LOG_ERROR, E4_RULE_L10, e4_obj_fs(),
			    "image too small (%llu bytes) to hold an ext2/3/4 superblock",
			    (unsigned long long)e4_dev_size(dev));
		err = -EINVAL;
		goto fail;
	}
	err = e4_dev_pread(dev, sb, sizeof(sb), E4_SB_OFFSET);
	if (err) {
		e4_log_rule(fs, E4_LOG_ERROR, E4_RULE_IO_READ, e4_obj_superblock(),
			    "read error");
		goto fail;
	}
	err = e4_sb_load(fs, sb, sizeof(sb));
	if (err)
		goto fail;

	err = check_device_size(fs);
	if (err)
		goto fail;

	err = e4_cache_create(dev, fs->block_size, fs->opts.cache_bytes, &fs->cache);
	if (err)
		goto fail;

	if (fs->feature_incompat & E4_INCOMPAT_RECOVER) {
		if (!fs->journal_inum) {
			e4_log_rule(fs, E4_LOG_ERROR, E4_RULE_SB12, e4_obj_superblock(),
				    "needs_recovery is set but there is no internal journal (external journal devices are not supported)");
			err = -EOPNOTSUPP;
			goto fail;
		}
		if (fs->opts.norecovery) {
			e4_log(fs, E4_LOG_WARN,
			       "norecovery: the journal is not replayed, recent changes are missing and metadata may be inconsistent");
		} else {
			err = replay_journal(fs);
			if (err)
				goto fail;
		}
	}
	err = e4_orphans_load(fs);
	if (!err)
		err = e4_icache_create(&fs->icache);
	if (err)
		goto fail;
	*out = fs;
	return 0;
fail:
	e4_cache_destroy(fs->cache);
	e4_journal_free(fs->journal);
	e4_block_set_free(fs->orphans);
	pthread_mutex_destroy(&fs->error_lock);
	free(fs);
	return err;
}

void e4_fs_close(struct e4_fs *fs)
{
	if (!fs)
		return;
	e4_icache_destroy(fs->icache);
	e4_cache_destroy(fs->cache);
	e4_journal_free(fs->journal);
	e4_block_set_free(fs->orphans);
	e4_dev_close(fs->dev);
	pthread_mutex_destroy(&fs->error_lock);
	free(fs);
}

void e4_fs_get_counters(struct e4_fs *fs, struct e4_fs_counters *out)
{
	e4_dev_get_counters(fs->dev, out);
	out->replay_bytes = e4_journal_memory(fs->journal);
}

void e4_fs_get_superblock(const struct e4_fs *fs, uint8_t out[1024])
{
	memcpy(out, fs->sb_raw, E4_SB_SIZE);
}

void e4_fs_get_info(const struct e4_fs *fs, struct e4_fs_info *out)
{
	memset(out, 0, sizeof(*out));
	out->block_size = fs->block_size;
	out->cluster_size = fs->block_size * fs->cluster_ratio;
	out->blocks_count = fs->blocks_count;
	out->free_blocks = fs->free_blocks_count;
	out->reserved_blocks = fs->r_blocks_count;
	out->inodes_count = fs->inodes_count;
	out->free_inodes = fs->free_inodes_count;
	out->group_count = fs->group_count;
	out->inode_size = fs->inode_size;
	out->first_ino = fs->first_ino;
	out->feature_compat = fs->feature_compat;
	out->feature_incompat = fs->feature_incompat;
	out->feature_ro_compat = fs->feature_ro_compat;
	memcpy(out->uuid, fs->sb_raw + E4_SB_UUID, 16);
	memcpy(out->volume_name, fs->sb_raw + E4_SB_VOLUME_NAME, 16);
	out->volume_name[16] = '\0';
	out->max_file_size = fs->max_file_size;
	out->read_only_forced = fs->read_only_forced;
}

/* SPDX-License-Identifier: MIT */
/* Making a file system writable, and the helpers of the write side (see
 * writer.h, e4/write.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs/writer.h"
#include "ondisk/journal.h"

/* Features whose on-disk rules the writer does not keep yet: writing an
 * image that has them could break them, so it is refused (read-only
 * mounts still work).  Each goes as its support lands. */
static const struct {
	int word;		/* 0 compat, 1 incompat, 2 ro_compat */
	uint32_t mask;
	const char *name;
} unwritten_features[] = {
	{ 1, E4_INCOMPAT_MMP, "mmp" },
	{ 1, E4_INCOMPAT_JOURNAL_DEV, "journal_dev" },
	{ 2, E4_RO_COMPAT_QUOTA, "quota" },
	{ 2, E4_RO_COMPAT_PROJECT, "project" },
	{ 2, E4_RO_COMPAT_VERITY, "verity" },
};

struct e4_time e4_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (struct e4_time){ ts.tv_sec, (uint32_t)ts.tv_nsec };
}

static int refuse(struct e4_fs *fs, const char *why)
{
	e4_log(fs, E4_LOG_ERROR, "cannot write: %s (read-only mounts work)",
	       why);
	return -EROFS;
}

static int check_writable(struct e4_fs *fs)
{
	uint32_t words[3] = { fs->feature_compat, fs->feature_incompat,
			      fs->feature_ro_compat };
	uint16_t state = e4_le16(fs->sb_raw, E4_SB_SIZE, E4_SB_STATE);
	char why[128];

	if (fs->opts.read_only)
		return refuse(fs, "it was opened read-only");
	if (!e4_dev_writable(fs->dev))
		return refuse(fs, "the device is read-only");
	if (fs->read_only_forced)
		return refuse(fs, "the file system must be read-only (see above)");
	/* a journal that needs recovery was replayed in memory at open
	 * (unless norecovery): recover() writes it home */
	if ((fs->feature_incompat & E4_INCOMPAT_RECOVER) && !fs->journal)
		return refuse(fs, "the journal needs recovery, and it was not replayed (norecovery)");
	if (!(state & E4_STATE_VALID))
		return refuse(fs, "it was not unmounted cleanly (run e2fsck)");
	for (size_t i = 0; i < sizeof(unwritten_features) /
			       sizeof(unwritten_features[0]); i++) {
		if (words[unwritten_features[i].word] &
		    unwritten_features[i].mask) {
			snprintf(why, sizeof(why),
				 "e4fuse does not write the %s feature yet",
				 unwritten_features[i].name);
			return refuse(fs, why);
		}
	}
	return 0;
}

/* One error record of the superblock (§2.1): when, the inode and block,
 * the broken rule's id where the kernel puts its function name. */
static void put_error(uint8_t *sb, const struct e4_error_record *e,
		      size_t time, size_t time_hi, size_t ino, size_t blk,
		      size_t func, size_t errcode)
{
	char name[E4_SB_ERROR_FUNC_SIZE] = { 0 };

	e4_put_le32(sb, E4_SB_SIZE, time, (uint32_t)e->time);
	sb[time_hi] = (uint8_t)(e->time >> 32);
	e4_put_le32(sb, E4_SB_SIZE, ino, e->obj.ino);
	e4_put_le64(sb, E4_SB_SIZE, blk, e->obj.blk);
	snprintf(name, sizeof(name), "e4fuse %s", e4_rule_id(e->rule));
	memcpy(sb + func, name, sizeof(name));
	sb[errcode] = E4_SB_ERRCODE_EFSCORRUPTED;
}

/* The corruption found while writable, recorded as the kernel records it:
 * the error bit, the count, the first and the last error. */
static void encode_errors(struct e4_fs *fs, uint8_t *sb)
{
	struct e4_error_state st;
	uint32_t before = e4_le32(fs->sb_raw, E4_SB_SIZE, E4_SB_ERROR_COUNT);

	e4_fs_get_error_state(fs, &st);
	if (!st.count)
		return;
	e4_put_le16(sb, E4_SB_SIZE, E4_SB_STATE,
		    e4_le16(sb, E4_SB_SIZE, E4_SB_STATE) | E4_STATE_ERROR);
	e4_put_le32(sb, E4_SB_SIZE, E4_SB_ERROR_COUNT,
		    before + (uint32_t)st.count);
	if (!e4_le32(sb, E4_SB_SIZE, E4_SB_FIRST_ERROR_TIME))
		put_error(sb, &st.first, E4_SB_FIRST_ERROR_TIME,
			  E4_SB_FIRST_ERROR_TIME_HI, E4_SB_FIRST_ERROR_INO,
			  E4_SB_FIRST_ERROR_BLOCK, E4_SB_FIRST_ERROR_FUNC,
			  E4_SB_FIRST_ERROR_ERRCODE);
	put_error(sb, &st.last, E4_SB_LAST_ERROR_TIME,
		  E4_SB_LAST_ERROR_TIME_HI, E4_SB_LAST_ERROR_INO,
		  E4_SB_LAST_ERROR_BLOCK, E4_SB_LAST_ERROR_FUNC,
		  E4_SB_LAST_ERROR_ERRCODE);
}

/* Set (@valid) or clear the valid bit of s_state, with the times and
 * the mount count as the kernel keeps them (@mark_error: and the error
 * bit), and commit it. */
static int write_state(struct e4_fs *fs, struct e4_writer *w, bool valid,
		       bool mark_error)
{
	/* with a journal the kernel keeps the valid bit and marks the
	 * journal in use (needs_recovery) while mounted: a crash is
	 * recovered, not checked */
	bool journaled = w->jlog != NULL;
	uint64_t blk = E4_SB_OFFSET / fs->block_size;
	size_t off = E4_SB_OFFSET % fs->block_size;
	struct e4_owner owner = { 0 };
	struct e4_handle h;
	struct e4_buf *copy;
	uint8_t *sb;
	uint32_t now = (uint32_t)e4_now().sec;
	int err = e4_handle_start(w->txm, 1u + E4_ALLOC_SUPER_CREDITS, &h);

	if (err)
		return err;
	if (valid)	/* the exact counts, as a clean unmount leaves them */
		err = e4_alloc_sync_super(w->alloc, &h);
	if (!err)
		err = e4_handle_get_write_access(&h, blk, &e4_bops_superblock,
						 &owner, &copy);
	if (!err) {
		uint16_t state;

		sb = copy->data + off;
		state = e4_le16(sb, E4_SB_SIZE, E4_SB_STATE);
		if (fs->feature_compat & E4_COMPAT_ORPHAN_FILE) {
			/* as the kernel keeps it: set while mounted */
			uint32_t ro = e4_le32(sb, E4_SB_SIZE,
					      E4_SB_FEATURE_RO_COMPAT);

			ro = valid ? ro & ~(uint32_t)E4_RO_COMPAT_ORPHAN_PRESENT :
				     ro | E4_RO_COMPAT_ORPHAN_PRESENT;
			e4_put_le32(sb, E4_SB_SIZE, E4_SB_FEATURE_RO_COMPAT, ro);
		}
		{
			uint32_t inc = e4_le32(sb, E4_SB_SIZE,
					       E4_SB_FEATURE_INCOMPAT);

			inc = !valid && journaled ?
			      inc | E4_INCOMPAT_RECOVER :
			      inc & ~(uint32_t)E4_INCOMPAT_RECOVER;
			e4_put_le32(sb, E4_SB_SIZE, E4_SB_FEATURE_INCOMPAT, inc);
			fs->feature_incompat = inc;
		}
		if (mark_error)
			state |= E4_STATE_ERROR;
		if (valid) {
			state |= E4_STATE_VALID;
		} else {
			if (!journaled)
				state &= (uint16_t)~E4_STATE_VALID;
			e4_put_le16(sb, E4_SB_SIZE, E4_SB_MNT_COUNT,
				    (uint16_t)(e4_le16(sb, E4_SB_SIZE,
						       E4_SB_MNT_COUNT) + 1));
			e4_put_le32(sb, E4_SB_SIZE, E4_SB_MTIME, now);
		}
		e4_put_le16(sb, E4_SB_SIZE, E4_SB_STATE, state);
		e4_put_le32(sb, E4_SB_SIZE, E4_SB_WTIME, now);
		if (valid)
			encode_errors(fs, sb);
		err = e4_handle_dirty(&h, copy);
	}
	if (err) {
		e4_handle_stop(&h);
		return err;
	}
	err = e4_handle_stop(&h);
	return err ? err : e4_txm_commit(w->txm);
}

static void committed(void *ctx, uint64_t tid)
{
	e4_alloc_committed(ctx, tid);
}

static int log_commit(void *ctx, struct e4_buf *const *bufs, size_t n)
{
	return e4_jlog_commit(ctx, bufs, n);
}

/* With an internal journal, the session logs its transactions (each no
 * larger than the log holds). */
static int start_log(struct e4_fs *fs, struct e4_writer *w,
		     struct e4_txm_opts *topts)
{
	unsigned cap;
	int err;

	if (!(fs->feature_compat & E4_COMPAT_HAS_JOURNAL) || !fs->journal_inum)
		return 0;
	err = e4_jlog_open(fs, &w->jlog);
	if (err)
		return refuse(fs, "its journal cannot be written (see above)");
	cap = e4_jlog_capacity(w->jlog);
	if (cap < 64) {
		e4_jlog_close(w->jlog);
		w->jlog = NULL;
		return refuse(fs, "its journal is too small to log a transaction");
	}
	topts->max_credits = cap < 4096 ? cap : 4096;
	return 0;
}

/* The journal replayed in memory at open, written home before anything
 * else is written, as a kernel mount recovers it; then the cache reads
 * the device alone.  *@jerr: the error the journal had recorded. */
static int recover(struct e4_fs *fs, int32_t *jerr)
{
	int err;

	*jerr = 0;
	if (!(fs->feature_incompat & E4_INCOMPAT_RECOVER))
		return 0;
	*jerr = e4_journal_errno(fs->journal);
	err = e4_journal_recover(fs, fs->journal);
	if (err)
		return refuse(fs, "recovering its journal failed (see above)");
	e4_cache_set_overlay(fs->cache, NULL, NULL);
	e4_journal_free(fs->journal);
	fs->journal = NULL;
	if (*jerr)
		e4_log(fs, E4_LOG_WARN,
		       "journal: the previous session stopped on error %d: the file system is marked as having errors (run e2fsck)",
		       *jerr);
	return 0;
}

int e4_fs_begin_write(struct e4_fs *fs, const struct e4_write_opts *opts)
{
	struct e4_txm_opts topts = { 0 };
	struct e4_writer *w;
	int32_t jerr = 0;
	int err;

	if (fs->writer)
		return 0;
	err = check_writable(fs);
	if (!err)
		err = recover(fs, &jerr);
	if (err)
		return err;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	if (opts) {
		topts.dirty_limit = opts->dirty_limit;
		w->atime = opts->atime;
		w->nodiratime = opts->nodiratime;
	}
	err = start_log(fs, w, &topts);
	if (!err)
		err = e4_txm_create(fs, &topts, &w->txm);
	if (!err)
		err = e4_alloc_create(fs, NULL, &w->alloc);
	if (!err)
		err = e4_alloc_prepare(w->alloc);
	if (!err)
		err = e4_fsync_table_create(&w->fsync);
	if (!err)
		e4_txm_on_commit(w->txm, committed, w->alloc);
	/* the state in place, needs_recovery durable before the first
	 * transaction is logged; from then on the log */
	if (!err)
		err = write_state(fs, w, false, jerr != 0);
	if (!err && w->jlog)
		e4_txm_set_writer(w->txm, &(struct e4_tx_writer){ log_commit,
								   w->jlog });
	if (err) {
		/* the transactions first: their last commit tells the
		 * allocator */
		e4_txm_destroy(w->txm);
		e4_alloc_destroy(w->alloc);
		e4_jlog_close(w->jlog);
		e4_fsync_table_destroy(w->fsync);
		free(w);
		return err == -EROFS ? err : refuse(fs, "its metadata could not be prepared (see above)");
	}
	pthread_mutex_init(&w->rename_lock, NULL);
	pthread_mutex_init(&w->ea_lock, NULL);
	fs->writer = w;
	/* what a crash left to delete goes first, as at a kernel mount */
	err = e4_orphans_start(fs, w);
	if (err) {
		e4_log(fs, E4_LOG_ERROR,
		       "cleaning up orphan inodes failed (%d): not writing (run e2fsck)",
		       err);
		e4_orphans_stop(w);
		e4_txm_destroy(w->txm);
		e4_alloc_destroy(w->alloc);
		e4_jlog_close(w->jlog);
		pthread_mutex_destroy(&w->rename_lock);
		pthread_mutex_destroy(&w->ea_lock);
		e4_fsync_table_destroy(w->fsync);
		free(w);
		fs->writer = NULL;
		return -EROFS;
	}
	return 0;
}

int e4_fs_error_remount_ro(struct e4_fs *fs)
{
	struct e4_writer *w = fs->writer;
	uint64_t sb_blk = E4_SB_OFFSET / fs->block_size;
	struct e4_owner owner = { 0 };
	struct e4_buf b = { .blk = sb_blk, .size = fs->block_size };
	int err;

	if (!w || e4_txm_aborted(w->txm))
		return 0;
	/* nothing more reaches the image from this session */
	e4_txm_abort(w->txm, -EUCLEAN);
	e4_log(fs, E4_LOG_ERROR,
	       "errors=remount-ro: corruption found while writing; the file system is read-only now (run e2fsck)");
	/* the error recorded as the kernel records it, in the superblock as
	 * the image has it (what the aborted session changed stays out) */
	b.data = malloc(fs->block_size);
	if (!b.data)
		return -ENOMEM;
	err = e4_dev_pread(fs->dev, b.data, fs->block_size,
			   sb_blk << fs->log_block_size);
	if (!err) {
		encode_errors(fs, b.data + E4_SB_OFFSET % fs->block_size);
		e4_bops_superblock.csum_set(fs, &b, &owner);
		err = e4_dev_pwrite(fs->dev, b.data + E4_SB_OFFSET % fs->block_size,
				    E4_SB_SIZE, E4_SB_OFFSET);
	}
	if (!err)
		err = e4_dev_flush(fs->dev);
	free(b.data);
	return err;
}

bool e4_writer_retry_alloc(struct e4_writer *w, int err, unsigned *retries)
{
	if (err != -ENOSPC || *retries >= 3 || !e4_alloc_frees_pending(w->alloc))
		return false;
	++*retries;
	return e4_txm_commit(w->txm) == 0;
}

struct e4_writer *e4_writer_get(struct e4_fs *fs)
{
	struct e4_writer *w = fs->writer;

	return w && !e4_txm_aborted(w->txm) ? w : NULL;
}

bool e4_fs_writable(struct e4_fs *fs)
{
	return e4_writer_get(fs) != NULL;
}

int e4_fs_sync(struct e4_fs *fs)
{
	struct e4_writer *w = e4_writer_get(fs);

	return w ? e4_txm_commit(w->txm) : -EROFS;
}

int e4_fs_end_write(struct e4_fs *fs)
{
	struct e4_writer *w = fs->writer;
	int err;

	if (!w)
		return 0;
	/* an aborted session leaves the valid bit clear (or, journaled,
	 * needs_recovery set): e2fsck or the next mount sees to it.  Else
	 * everything through the log, then the clean state in place, as
	 * the last word (needs_recovery clear, the log empty) */
	if (e4_txm_aborted(w->txm)) {
		err = -EROFS;
	} else {
		err = e4_txm_commit(w->txm);
		e4_txm_set_writer(w->txm, NULL);
		/* the log empty, then needs_recovery cleared */
		if (!err) {
			err = e4_jlog_close(w->jlog);
			w->jlog = NULL;
		}
		if (!err)
			err = write_state(fs, w, true, false);
	}
	{
		int e2 = e4_txm_destroy(w->txm);

		if (!err)
			err = e2;
	}
	e4_orphans_stop(w);
	e4_alloc_destroy(w->alloc);
	{
		int e2 = e4_jlog_close(w->jlog);

		if (!err)
			err = e2;
	}
	pthread_mutex_destroy(&w->rename_lock);
	pthread_mutex_destroy(&w->ea_lock);
	e4_fsync_table_destroy(w->fsync);
	free(w);
	fs->writer = NULL;
	return err;
}

static int inode_write(struct e4_fs *fs, struct e4_handle *h,
		       struct e4_inode *in, bool fresh, const uint8_t *ibody,
		       size_t ibody_len);

int e4_inode_write(struct e4_fs *fs, struct e4_handle *h,
		   struct e4_inode *in, bool fresh)
{
	return inode_write(fs, h, in, fresh, NULL, 0);
}

int e4_inode_write_alone(struct e4_fs *fs, struct e4_writer *w,
			 struct e4_inode *in)
{
	struct e4_handle h;
	int err = e4_handle_start(w->txm, 1, &h), e2;

	if (err)
		return err;
	err = e4_inode_write(fs, &h, in, false);
	e2 = e4_handle_stop(&h);
	return err ? err : e2;
}

int e4_inode_write_ibody(struct e4_fs *fs, struct e4_handle *h,
			 struct e4_inode *in, const uint8_t *ibody,
			 size_t len)
{
	return inode_write(fs, h, in, false, ibody, len);
}

/* Whether a record changed more than its times: what fdatasync must make
 * durable (the size, the block count and map, the flags). */
static bool data_fields_changed(const uint8_t *old, const uint8_t *now)
{
	static const struct { uint16_t off, len; } fields[] = {
		{ E4_I_SIZE_LO, 4 }, { E4_I_SIZE_HIGH, 4 },
		{ E4_I_BLOCKS_LO, 4 }, { E4_I_BLOCKS_HIGH, 2 },
		{ E4_I_FLAGS, 4 }, { E4_I_BLOCK, E4_I_BLOCK_SIZE },
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (memcmp(old + fields[i].off, now + fields[i].off,
			   fields[i].len))
			return true;
	return false;
}

static int inode_write(struct e4_fs *fs, struct e4_handle *h,
		       struct e4_inode *in, bool fresh, const uint8_t *ibody,
		       size_t ibody_len)
{
	struct e4_owner owner = { .ino = in->ino };
	struct e4_buf *rec;
	struct e4_buf *copy;
	uint8_t before[E4_GOOD_OLD_INODE_SIZE];
	uint64_t digest;
	size_t off;
	bool data;
	int err;

	/* an orphan's i_dtime is the list's (taken before any copy is
	 * held: the list's lock is never taken with one); an O_TMPFILE
	 * inode is one from the start */
	if (fs->writer && in->links == 0)
		in->dtime = e4_orphan_dtime(fs->writer, in->ino, in->dtime);
	err = e4_inode_raw_get(fs, in->ino, &rec, &off);
	if (err)
		return err;
	err = e4_handle_get_write_access(h, rec->blk,
					 fresh ? &e4_bops_inode_new :
						 &e4_bops_inode_table,
					 &owner, &copy);
	e4_meta_put(fs, rec);
	if (err)
		return err;
	if (fresh)
		memset(copy->data + off, 0, fs->inode_size);
	else
		memcpy(before, copy->data + off, sizeof(before));
	err = e4_inode_encode(fs, in, copy->data + off);
	if (!err && ibody) {
		size_t start = E4_GOOD_OLD_INODE_SIZE + in->extra_isize;

		if (start + ibody_len != fs->inode_size)
			err = -EINVAL;
		else
			memcpy(copy->data + off + start, ibody, ibody_len);
	}
	if (err) {
		e4_handle_release(h, copy);
		return err;
	}
	/* before the copy is handed over: once dirty it is the
	 * transaction's, and the next handle to change a record of this
	 * block replaces (and frees) it.  The checksum the dirtying sets is
	 * not part of the digest. */
	digest = e4_inode_record_digest(fs, copy->data + off);
	/* (the in-inode xattrs hold inline data beyond i_block) */
	data = fresh || ibody || data_fields_changed(before, copy->data + off);
	err = e4_handle_dirty(h, copy);
	if (!err) {
		in->record_digest = digest;
		if (fs->writer)
			e4_fsync_note(fs->writer, in->ino, e4_handle_tid(h),
				      data);
	}
	return err;
}

/* SPDX-License-Identifier: MIT */
/* The journal's log writer (§13): a read-write session's transactions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/cache.h"
#include "ondisk/journal_int.h"

/* ---- the log writer ------------------------------------------------------ */

/*
 * A read-write session logs each transaction (§13) and checkpoints it at
 * once:
 *   1. the journal superblock pointing at the transaction (start, seq),
 *      the descriptors with the block copies (escaped where a copy begins
 *      with the jbd2 magic); a flush (the file data with them);
 *   2. the commit block; a flush: the transaction is durable;
 *   3. the blocks home; a flush.
 * The log thus never holds a committed transaction whose blocks are not
 * home, except the last one, which a replay may apply again (idempotent:
 * nothing newer went home).  So no revoke records are needed: no older
 * transaction can be replayed over a block freed and reused since.  The
 * next transaction goes after the last one, or at the log's start when
 * it does not fit there; it never overwrites the last one while the
 * superblock may still point at it (the superblock is emptied and flushed
 * first when it would).  Anything else in the log area is older, its
 * sequence older, and a scan stops at it.
 */

static void put_u64_be(uint8_t *b, size_t B, size_t off, uint64_t v)
{
	e4_put_be32(b, B, off, (uint32_t)(v >> 32));
	e4_put_be32(b, B, off + 4, (uint32_t)v);
}

static int jlog_write(struct e4_journal *j, uint32_t jblk, const uint8_t *b)
{
	uint64_t phys;
	int err = journal_phys(j, jblk, &phys);

	if (!err)
		err = e4_dev_pwrite(j->fs->dev, b, j->fs->block_size,
				    phys << j->fs->log_block_size);
	return err;
}

/* The journal superblock with log start @start and sequence @seq. */
static int jlog_set_sb(struct e4_journal *j, uint32_t start, uint32_t seq)
{
	size_t B = j->fs->block_size;

	e4_put_be32(j->jsb, B, E4_JSB_START, start);
	e4_put_be32(j->jsb, B, E4_JSB_SEQUENCE, seq);
	if (has_csum(j))
		e4_put_be32(j->jsb, B, E4_JSB_CHECKSUM, jbd2_sb_csum(j->jsb));
	return jlog_write(j, 0, j->jsb);
}

/* Tags one descriptor block holds, counting a UUID for each. */
static size_t jlog_tags_per_descriptor(const struct e4_journal *j)
{
	size_t room = j->fs->block_size - E4_JH_SIZE -
		      (has_csum(j) ? E4_JTAIL_SIZE : 0);

	return room / (j->tag_bytes + E4_J_UUID_SIZE);
}

struct jlog_overlap {
	uint64_t start, end;
	uint64_t found;		/* the first metadata block hit + 1 */
};

static int jlog_overlap_cb(void *ctx, uint32_t owner, enum e4_meta_kind kind,
			   uint64_t start, uint64_t count)
{
	struct jlog_overlap *o = ctx;

	(void)owner;
	(void)kind;
	if (start < o->end && o->start < start + count) {
		o->found = (start > o->start ? start : o->start) + 1;
		return 1;
	}
	return 0;
}

/* The log is about to be written: none of its blocks may be the file
 * system's own metadata, whatever a hostile journal inode maps (a reader
 * never cared; a writer would overwrite it). */
static int jlog_check_blocks(struct e4_journal *j)
{
	struct e4_fs *fs = j->fs;

	for (size_t i = 0; i < j->nruns; i++) {
		const struct jrun *r = &j->runs[i];
		struct jlog_overlap o = { r->pblk, r->pblk + r->len, 0 };
		uint32_t g0, g1;

		if (r->pblk < fs->first_data_block)
			o.found = r->pblk + 1;
		g0 = (uint32_t)((r->pblk - fs->first_data_block) /
				fs->blocks_per_group);
		g1 = (uint32_t)((o.end - 1 - fs->first_data_block) /
				fs->blocks_per_group);
		for (uint32_t g = g0; !o.found && g <= g1; g++) {
			int err = e4_group_metadata(fs, g, E4_META_INSIDE,
						    jlog_overlap_cb, &o);

			if (err < 0)
				return err;
		}
		if (o.found)
			return e4_corrupt(fs, E4_RULE_J_MAP,
					  e4_obj_journal_block(r->lblk + (uint32_t)(o.found - 1 - r->pblk),
							       0),
					  "device block %llu is also the file system's metadata",
					  (unsigned long long)(o.found - 1));
	}
	return 0;
}

/* The features a kernel mount gives the journal of such a file system:
 * 64-bit tags where block numbers may need them, checksums (v3) with
 * metadata_csum.  The log is empty: its format may change. */
static int jlog_features(struct e4_journal *j)
{
	struct e4_fs *fs = j->fs;
	size_t B = fs->block_size;
	uint32_t want = 0;

	if (e4_be32(j->jsb, B, E4_JH_BLOCKTYPE) != E4_JT_SB_V2)
		return 0;	/* a v1 superblock has no features */
	if (fs->feature_incompat & E4_INCOMPAT_64BIT)
		want |= E4_JF_INCOMPAT_64BIT;
	if ((fs->feature_ro_compat & E4_RO_COMPAT_METADATA_CSUM) && !has_csum(j))
		want |= E4_JF_INCOMPAT_CSUM_V3;
	if (!(want & ~j->incompat))
		return 0;
	e4_put_be32(j->jsb, B, E4_JSB_FEATURE_INCOMPAT, j->incompat | want);
	if (want & E4_JF_INCOMPAT_CSUM_V3)
		j->jsb[E4_JSB_CHECKSUM_TYPE] = E4_JCSUM_CRC32C;
	if ((j->incompat | want) & (E4_JF_INCOMPAT_CSUM_V2 | E4_JF_INCOMPAT_CSUM_V3))
		e4_put_be32(j->jsb, B, E4_JSB_CHECKSUM, jbd2_sb_csum(j->jsb));
	/* written with the first commit; decoded again for the tags */
	return load_superblock(j, j->jsb);
}

int e4_jlog_open(struct e4_fs *fs, struct e4_journal **out)
{
	struct e4_journal *j = calloc(1, sizeof(*j));
	int err;

	*out = NULL;
	if (!j)
		return -ENOMEM;
	j->fs = fs;
	j->mem_max = UINT64_MAX;	/* the mapping: bounded by maxlen */
	j->jsb = malloc(fs->block_size);
	j->blk = malloc(fs->block_size);
	j->desc = malloc(fs->block_size);
	err = j->jsb && j->blk && j->desc ? 0 : -ENOMEM;
	if (!err)
		err = e4_inode_read(fs, fs->journal_inum, &j->inode);
	if (!err && !e4_inode_is_reg(&j->inode))
		err = e4_corrupt(fs, E4_RULE_SB12, e4_obj_inode(fs->journal_inum),
				 "the journal is not a regular file");
	if (!err)
		err = journal_read(j, 0, j->jsb, NULL);
	if (!err)
		err = load_superblock(j, j->jsb);
	if (!err && j->start != 0) {
		e4_log(fs, E4_LOG_ERROR, "journal: the log is not empty (not recovered)");
		err = -EBUSY;
	}
	if (!err)
		err = jlog_features(j);
	if (!err)
		err = map_journal(j);
	if (!err)
		err = jlog_check_blocks(j);
	if (!err && jlog_tags_per_descriptor(j) == 0)
		err = -EINVAL;
	if (err) {
		e4_journal_free(j);
		return err;
	}
	j->next_seq = j->sequence;
	j->head = j->first;
	*out = j;
	return 0;
}

/* Log blocks a transaction of @n copies takes: its descriptors, the
 * copies, the commit block. */
static uint64_t jlog_blocks(const struct e4_journal *j, uint64_t n)
{
	uint64_t per = jlog_tags_per_descriptor(j);

	return (n + per - 1) / per + n + 1;
}

unsigned e4_jlog_capacity(const struct e4_journal *j)
{
	uint64_t len = j->log_end - j->first, per = jlog_tags_per_descriptor(j);
	uint64_t n = len > 2 ? (len - 2) * per / (per + 1) : 0;

	while (n && jlog_blocks(j, n) > len)
		n--;
	return n > UINT32_MAX ? UINT32_MAX : (unsigned)n;
}

/* Block @b as the log holds it, in j->blk: escaped where it begins with
 * the jbd2 magic (true). */
static bool jlog_copy(struct e4_journal *j, const struct e4_buf *b)
{
	size_t B = j->fs->block_size;

	memcpy(j->blk, b->data, B);
	if (e4_be32(j->blk, B, E4_JH_MAGIC) != E4_JBD2_MAGIC)
		return false;
	e4_put_be32(j->blk, B, E4_JH_MAGIC, 0);
	return true;
}

/* Log the copies of @bufs[*i...] under one descriptor from log block
 * *@pos on; *@i and *@pos move past them.  The descriptor is built first
 * (its tags carry the copies' checksums), then written, then the copies:
 * in log order, as v1's running checksum wants them. */
static int jlog_descriptor(struct e4_journal *j, struct e4_buf *const *bufs,
			   size_t n, size_t *i, uint32_t *pos, uint32_t seq,
			   struct v1_sums *v1)
{
	size_t B = j->fs->block_size, off = E4_JH_SIZE, k, from = *i;
	size_t end = B - (has_csum(j) ? E4_JTAIL_SIZE : 0);
	int err;

	memset(j->desc, 0, B);
	e4_put_be32(j->desc, B, E4_JH_MAGIC, E4_JBD2_MAGIC);
	e4_put_be32(j->desc, B, E4_JH_BLOCKTYPE, E4_JT_DESCRIPTOR);
	e4_put_be32(j->desc, B, E4_JH_SEQUENCE, seq);
	for (k = from; k < n && off + j->tag_bytes +
			     (k == from ? E4_J_UUID_SIZE : 0) <= end; k++) {
		uint64_t blk = bufs[k]->blk;
		uint32_t flags = k == from ? 0 : E4_JTAG_SAME_UUID, csum = 0;

		if (jlog_copy(j, bufs[k]))
			flags |= E4_JTAG_ESCAPE;
		if (k + 1 == n || off + j->tag_bytes + j->tag_bytes +
				  (k == from ? E4_J_UUID_SIZE : 0) > end)
			flags |= E4_JTAG_LAST;
		if (has_csum(j))
			csum = tag_csum_of(j, seq, j->blk);
		if (j->csum_v3) {
			e4_put_be32(j->desc, B, off + E4_JTAG3_BLOCKNR, (uint32_t)blk);
			e4_put_be32(j->desc, B, off + E4_JTAG3_FLAGS, flags);
			e4_put_be32(j->desc, B, off + E4_JTAG3_BLOCKNR_HIGH,
				    (uint32_t)(blk >> 32));
			e4_put_be32(j->desc, B, off + E4_JTAG3_CHECKSUM, csum);
		} else {
			e4_put_be32(j->desc, B, off + E4_JTAG_BLOCKNR, (uint32_t)blk);
			e4_put_be16(j->desc, B, off + E4_JTAG_CHECKSUM, (uint16_t)csum);
			e4_put_be16(j->desc, B, off + E4_JTAG_FLAGS, (uint16_t)flags);
			if (j->is64)
				e4_put_be32(j->desc, B, off + E4_JTAG_BLOCKNR_HIGH,
					    (uint32_t)(blk >> 32));
		}
		off += j->tag_bytes;
		if (k == from) {
			memcpy(j->desc + off, j->jsb + E4_JSB_UUID, E4_J_UUID_SIZE);
			off += E4_J_UUID_SIZE;
		}
	}
	if (has_csum(j))
		e4_put_be32(j->desc, B, B - E4_JTAIL_SIZE,
			    jbd2_tail_csum(j->seed, j->desc, B));
	v1_fold(v1, j->desc, B, false);
	err = jlog_write(j, *pos, j->desc);
	*pos = next_block(j, *pos);
	for (; !err && *i < k; ++*i) {
		jlog_copy(j, bufs[*i]);
		v1_fold(v1, j->blk, B, false);
		err = jlog_write(j, *pos, j->blk);
		*pos = next_block(j, *pos);
	}
	return err;
}

/* Where a transaction of @m log blocks goes: after the last one, else
 * at the start, the last one retired first if it would be overwritten. */
static int jlog_place(struct e4_journal *j, uint64_t m, uint32_t *pos)
{
	int err;

	if (j->head + m <= j->log_end) {
		*pos = j->head;
		return 0;
	}
	*pos = j->first;
	if (j->live_end > j->live_start && j->first + m > j->live_start) {
		err = jlog_set_sb(j, 0, j->next_seq);
		if (!err)
			err = e4_dev_flush(j->fs->dev);
		if (err)
			return err;
		j->live_start = j->live_end = 0;
	}
	return 0;
}

int e4_jlog_commit(struct e4_journal *j, struct e4_buf *const *bufs, size_t n)
{
	struct e4_fs *fs = j->fs;
	size_t B = fs->block_size, i = 0;
	uint32_t seq = j->next_seq, start, pos;
	uint64_t m = jlog_blocks(j, n);
	struct v1_sums v1 = { 0xFFFFFFFFu, 0xFFFFFFFFu };
	struct timespec now;
	int err;

	if (n > e4_jlog_capacity(j)) {
		e4_log(fs, E4_LOG_ERROR,
		       "journal: a transaction of %zu blocks does not fit the log (%u)",
		       n, e4_jlog_capacity(j));
		return -EFBIG;
	}
	err = jlog_place(j, m, &start);
	pos = start;
	if (!err)
		err = jlog_set_sb(j, start, seq);
	while (!err && i < n)
		err = jlog_descriptor(j, bufs, n, &i, &pos, seq, &v1);
	/* the file data and the log before the commit block */
	if (!err)
		err = e4_dev_flush(fs->dev);
	if (!err) {
		memset(j->blk, 0, B);
		e4_put_be32(j->blk, B, E4_JH_MAGIC, E4_JBD2_MAGIC);
		e4_put_be32(j->blk, B, E4_JH_BLOCKTYPE, E4_JT_COMMIT);
		e4_put_be32(j->blk, B, E4_JH_SEQUENCE, seq);
		clock_gettime(CLOCK_REALTIME, &now);
		put_u64_be(j->blk, B, E4_JCOMMIT_SEC, (uint64_t)now.tv_sec);
		e4_put_be32(j->blk, B, E4_JCOMMIT_NSEC, (uint32_t)now.tv_nsec);
		if (has_csum(j)) {
			e4_put_be32(j->blk, B, E4_JCOMMIT_CHKSUM,
				    jbd2_commit_csum(j->seed, j->blk, B));
		} else if (j->compat & E4_JF_COMPAT_CHECKSUM) {
			j->blk[E4_JCOMMIT_CHKSUM_TYPE] = E4_JCSUM_CRC32;
			j->blk[E4_JCOMMIT_CHKSUM_SIZE] = E4_JCSUM_CRC32_SIZE;
			e4_put_be32(j->blk, B, E4_JCOMMIT_CHKSUM,
				    v1.without_revokes);
		}
		err = jlog_write(j, pos, j->blk);
		pos = next_block(j, pos);
	}
	if (!err)
		err = e4_dev_flush(fs->dev);
	if (err)
		return err;
	/* durable: it is the live one now, and goes home */
	j->next_seq = seq + 1;
	j->live_start = start;
	j->live_end = start + (uint32_t)m;
	j->head = j->live_end;
	for (i = 0; !err && i < n; i++)
		err = e4_cache_write_home(fs->cache, bufs[i]);
	if (!err)
		err = e4_dev_flush(fs->dev);
	return err;
}

/* Before the session ends: the log emptied, durable. */
int e4_jlog_close(struct e4_journal *j)
{
	int err = 0;

	if (!j)
		return 0;
	if (j->live_end > j->live_start)
		err = jlog_set_sb(j, 0, j->next_seq);
	if (!err)
		err = e4_dev_flush(j->fs->dev);
	e4_journal_free(j);
	return err;
}


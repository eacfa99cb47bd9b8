/* SPDX-License-Identifier: MIT */
/*
 * The jbd2 journal (§13): superblock, descriptor, commit and revoke blocks,
 * and the three-pass replay, done without writing.
 *
 * Replay builds a map from each target block to the journal block holding
 * its newest committed copy.  The map is installed as the cache's overlay
 * (and consulted by data reads), so every read sees the replayed file
 * system while the image stays untouched.  Data stays in the journal on
 * disk: memory is one small map entry per replayed block, bounded by the
 * log length.
 *
 * Every field is validated: a hostile journal can make replay stop early or
 * refuse the mount, but not read outside the journal, loop, or grow memory
 * beyond the log length.
 */
#include <stdlib.h>
#include <string.h>

#include "ondisk/journal.h"
#include "ondisk/ondisk.h"

/* jbd2 layout (§13.2-13.7), big-endian */
#define JH_MAGIC 0x0
#define JH_BLOCKTYPE 0x4
#define JH_SEQUENCE 0x8
#define J_HEADER_SIZE 12

#define JT_DESCRIPTOR 1
#define JT_COMMIT 2
#define JT_SB_V1 3
#define JT_SB_V2 4
#define JT_REVOKE 5

#define JSB_BLOCKSIZE 0x0C
#define JSB_MAXLEN 0x10
#define JSB_FIRST 0x14
#define JSB_SEQUENCE 0x18
#define JSB_START 0x1C
#define JSB_ERRNO 0x20
#define JSB_FEATURE_COMPAT 0x24
#define JSB_FEATURE_INCOMPAT 0x28
#define JSB_FEATURE_RO_COMPAT 0x2C
#define JSB_UUID 0x30
#define JSB_CHECKSUM_TYPE 0x50
#define JSB_NUM_FC_BLKS 0x54
#define JSB_CHECKSUM 0xFC
#define JSB_SIZE 1024

#define JF_COMPAT_CHECKSUM 0x1
#define JF_INCOMPAT_REVOKE 0x01
#define JF_INCOMPAT_64BIT 0x02
#define JF_INCOMPAT_ASYNC_COMMIT 0x04
#define JF_INCOMPAT_CSUM_V2 0x08
#define JF_INCOMPAT_CSUM_V3 0x10
#define JF_INCOMPAT_FAST_COMMIT 0x20
#define JF_INCOMPAT_KNOWN 0x3F

#define JTAG_ESCAPE 0x1
#define JTAG_SAME_UUID 0x2
#define JTAG_LAST 0x8

#define JCOMMIT_CHKSUM_TYPE 0x0C
#define JCOMMIT_CHKSUM_SIZE 0x0D
#define JCOMMIT_CHKSUM 0x10
#define JREVOKE_COUNT 0x0C
#define JREVOKE_HEADER 16
#define J_CSUM_TAIL 4

/* ---- the replay map: target block -> journal block ------------------- */

struct replay_slot {
	uint64_t target;	/* valid when used (block 0 is a legal target) */
	uint64_t jphys;		/* physical block of the journal copy */
	uint32_t seq;
	bool used;
	bool escaped;
};

struct e4_journal {
	struct e4_fs *fs;
	/* journal geometry (validated) */
	uint32_t maxlen, first, log_end, start, sequence;
	uint32_t compat, incompat;
	uint32_t seed;		/* j_seed, crc32c of the journal uuid */
	bool csum_v2, csum_v3, is64;
	size_t tag_bytes;
	/* the journal file: logical -> physical, as runs */
	struct e4_inode inode;
	/* replay map (open addressing, power-of-two size) */
	struct replay_slot *slots;
	size_t nslots, nused;
	/* revokes: target -> newest revoking sequence */
	struct replay_slot *revokes;
	size_t nrevokes_slots, nrevokes;
	uint32_t replayed_transactions;
};

static size_t slot_hash(uint64_t blk, size_t n)
{
	return (size_t)((blk * 0x9E3779B97F4A7C15ull) >> 17) & (n - 1);
}

static struct replay_slot *table_find(struct replay_slot *t, size_t n,
				      uint64_t blk, bool *found)
{
	size_t i = slot_hash(blk, n);

	for (size_t probes = 0; probes < n; probes++) {
		if (!t[i].used || t[i].target == blk) {
			*found = t[i].used;
			return &t[i];
		}
		i = (i + 1) & (n - 1);
	}
	*found = false;
	return NULL;
}

static int table_grow(struct replay_slot **t, size_t *n, size_t used)
{
	if ((used + 1) * 2 <= *n)
		return 0;
	size_t nn = *n ? *n * 2 : 256;
	struct replay_slot *fresh = calloc(nn, sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++) {
		bool found;
		if ((*t)[i].used)
			*table_find(fresh, nn, (*t)[i].target, &found) = (*t)[i];
	}
	free(*t);
	*t = fresh;
	*n = nn;
	return 0;
}

/* Transaction ids wrap: a is newer than or equal to b. */
static bool tid_geq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/* ---- reading journal blocks ----------------------------------------- */

static int journal_phys(struct e4_journal *j, uint32_t jblk, uint64_t *phys)
{
	struct e4_mapping m;
	int err = e4_map_block(j->fs, &j->inode, jblk, &m);

	if (err)
		return err;
	if (m.kind != E4_MAP_MAPPED)
		return e4_corrupt(j->fs, "journal: block %u is not mapped (hole or unwritten)", jblk);
	*phys = m.pblk;
	return 0;
}

static int journal_read(struct e4_journal *j, uint32_t jblk, uint8_t *buf,
			uint64_t *phys_out)
{
	uint64_t phys = 0;
	int err = journal_phys(j, jblk, &phys);

	if (err)
		return err;
	if (phys_out)
		*phys_out = phys;
	/* straight from the device: the journal is never itself replayed */
	err = e4_dev_pread(j->fs->dev, buf, j->fs->block_size,
			   phys << j->fs->log_block_size);
	if (err)
		e4_log(j->fs, E4_LOG_ERROR, "journal: cannot read block %u (device block %llu)",
		       jblk, (unsigned long long)phys);
	return err;
}

static uint32_t next_block(const struct e4_journal *j, uint32_t b)
{
	return b + 1 >= j->log_end ? j->first : b + 1;
}

/* ---- per-block checks ------------------------------------------------ */

/* Checksum over the whole block with the last 4 bytes zeroed (descriptor and
 * revoke tails, §12.4). */
static bool tail_csum_ok(const struct e4_journal *j, const uint8_t *b)
{
	static const uint8_t zero[4];
	size_t B = j->fs->block_size;
	uint32_t c = e4_crc32c(j->seed, b, B - J_CSUM_TAIL);

	c = e4_crc32c(c, zero, 4);
	return c == e4_be32(b, B, B - J_CSUM_TAIL);
}

static bool commit_csum_ok(const struct e4_journal *j, const uint8_t *b)
{
	static const uint8_t zero[4];
	size_t B = j->fs->block_size;
	uint32_t c = e4_crc32c(j->seed, b, JCOMMIT_CHKSUM);

	c = e4_crc32c(c, zero, 4);
	c = e4_crc32c(c, b + JCOMMIT_CHKSUM + 4, B - JCOMMIT_CHKSUM - 4);
	return c == e4_be32(b, B, JCOMMIT_CHKSUM);
}

static bool has_csum(const struct e4_journal *j)
{
	return j->csum_v2 || j->csum_v3;
}

/* ---- the journal superblock (J1, J2) -------------------------------- */

static int load_superblock(struct e4_journal *j, const uint8_t *b)
{
	struct e4_fs *fs = j->fs;
	size_t B = fs->block_size;
	uint32_t type = e4_be32(b, B, JH_BLOCKTYPE);

	if (e4_be32(b, B, JH_MAGIC) != E4_JBD2_MAGIC ||
	    (type != JT_SB_V1 && type != JT_SB_V2))
		return e4_corrupt(fs, "journal superblock: bad magic 0x%08x or type %u",
				  e4_be32(b, B, JH_MAGIC), type);
	if (e4_be32(b, B, JSB_BLOCKSIZE) != B)
		return e4_corrupt(fs, "journal superblock: block size %u != file system block size %zu",
				  e4_be32(b, B, JSB_BLOCKSIZE), B);
	j->maxlen = e4_be32(b, B, JSB_MAXLEN);
	j->first = e4_be32(b, B, JSB_FIRST);
	j->sequence = e4_be32(b, B, JSB_SEQUENCE);
	j->start = e4_be32(b, B, JSB_START);
	if (type == JT_SB_V2) {
		j->compat = e4_be32(b, B, JSB_FEATURE_COMPAT);
		j->incompat = e4_be32(b, B, JSB_FEATURE_INCOMPAT);
		if (e4_be32(b, B, JSB_FEATURE_RO_COMPAT))
			return e4_corrupt(fs, "journal superblock: unknown read-only features 0x%x",
					  e4_be32(b, B, JSB_FEATURE_RO_COMPAT));
	}
	if (j->incompat & ~(uint32_t)JF_INCOMPAT_KNOWN) {
		e4_log(fs, E4_LOG_ERROR, "journal: unsupported incompatible features 0x%x",
		       j->incompat & ~(uint32_t)JF_INCOMPAT_KNOWN);
		return -EOPNOTSUPP;
	}
	j->csum_v2 = j->incompat & JF_INCOMPAT_CSUM_V2;
	j->csum_v3 = j->incompat & JF_INCOMPAT_CSUM_V3;
	j->is64 = j->incompat & JF_INCOMPAT_64BIT;
	if (j->csum_v2 && j->csum_v3)
		return e4_corrupt(fs, "journal superblock: both checksum v2 and v3 set");
	if (has_csum(j)) {
		static const uint8_t zero[4];
		uint8_t ct = e4_u8(b, B, JSB_CHECKSUM_TYPE);
		if (ct != 4)
			return e4_corrupt(fs, "journal superblock: checksum type %u, expected 4 (crc32c)", ct);
		uint32_t c = e4_crc32c(0xFFFFFFFFu, b, JSB_CHECKSUM);
		c = e4_crc32c(c, zero, 4);
		c = e4_crc32c(c, b + JSB_CHECKSUM + 4, JSB_SIZE - JSB_CHECKSUM - 4);
		if (c != e4_be32(b, B, JSB_CHECKSUM)) {
			int err = e4_csum_mismatch(fs, "journal superblock: checksum 0x%08x does not match computed 0x%08x",
						   e4_be32(b, B, JSB_CHECKSUM), c);
			if (err)
				return err;
		}
	}
	j->seed = e4_crc32c(0xFFFFFFFFu, b + JSB_UUID, 16);

	uint64_t file_blocks = j->inode.size >> fs->log_block_size;
	if (j->first < 1 || j->first >= j->maxlen || j->maxlen > file_blocks)
		return e4_corrupt(fs, "journal superblock: first %u / maxlen %u invalid for a journal of %llu blocks",
				  j->first, j->maxlen, (unsigned long long)file_blocks);
	j->log_end = j->maxlen;
	if (j->incompat & JF_INCOMPAT_FAST_COMMIT) {
		uint32_t fc = e4_be32(b, B, JSB_NUM_FC_BLKS);
		if (fc == 0)
			fc = 256;
		if (fc >= j->maxlen - j->first)
			return e4_corrupt(fs, "journal superblock: fast-commit area of %u blocks leaves no log", fc);
		j->log_end = j->maxlen - fc;
	}
	if (j->log_end - j->first < 2)
		return e4_corrupt(fs, "journal superblock: log of %u blocks too small",
				  j->log_end - j->first);
	if (j->start && (j->start < j->first || j->start >= j->log_end))
		return e4_corrupt(fs, "journal superblock: log start %u outside [%u, %u)",
				  j->start, j->first, j->log_end);

	/* §13.4 tag sizes; all but v3 share be32 nr, be16 csum, be16 flags
	 * [, be32 nr_high], and v2 adds 2 unused bytes */
	if (j->csum_v3)
		j->tag_bytes = 16;
	else if (j->csum_v2)
		j->tag_bytes = j->is64 ? 14 : 10;
	else
		j->tag_bytes = j->is64 ? 12 : 8;
	return 0;
}

/* ---- pass 1: scan ---------------------------------------------------- */

struct pending_tag {
	uint64_t target;
	uint32_t jblk;
	uint32_t seq;
	uint32_t tag_csum;
	bool escaped;
};

struct scan {
	struct pending_tag *tags;
	size_t ntags, cap;
	size_t committed;	/* tags[0..committed) belong to complete txns */
	uint64_t *revoke_targets;
	uint32_t *revoke_seqs;
	size_t nrev, revcap, rev_committed;
	uint32_t last_seq;
	uint32_t ncommitted;
};

static int push_tag(struct scan *s, const struct pending_tag *t)
{
	if (s->ntags == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct pending_tag *n = realloc(s->tags, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->tags = n;
		s->cap = cap;
	}
	s->tags[s->ntags++] = *t;
	return 0;
}

static int push_revoke(struct scan *s, uint64_t target, uint32_t seq)
{
	if (s->nrev == s->revcap) {
		size_t cap = s->revcap ? s->revcap * 2 : 256;
		uint64_t *nt = realloc(s->revoke_targets, cap * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		s->revoke_targets = nt;
		uint32_t *ns = realloc(s->revoke_seqs, cap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		s->revoke_seqs = ns;
		s->revcap = cap;
	}
	s->revoke_targets[s->nrev] = target;
	s->revoke_seqs[s->nrev++] = seq;
	return 0;
}

/* Parse a descriptor block's tags; each tag consumes the next log block. */
/* v1 (COMPAT_CHECKSUM) commit sums, §13.7: e2fsprogs folds revoke blocks
 * into the sum and the kernel is believed not to, so both are kept. */
struct v1_sums {
	uint32_t without_revokes, with_revokes;
};

static void v1_fold(struct v1_sums *v, const uint8_t *b, size_t len,
		    bool is_revoke)
{
	if (!is_revoke)
		v->without_revokes = e4_crc32_be(v->without_revokes, b, len);
	v->with_revokes = e4_crc32_be(v->with_revokes, b, len);
}

static int scan_descriptor(struct e4_journal *j, struct scan *s,
			   const uint8_t *b, uint32_t seq, uint32_t *pos,
			   uint32_t *steps, uint32_t limit, struct v1_sums *v1)
{
	size_t B = j->fs->block_size;
	size_t end = B - (has_csum(j) ? J_CSUM_TAIL : 0);
	size_t off = J_HEADER_SIZE;
	uint8_t *data = NULL;

	if (j->compat & JF_COMPAT_CHECKSUM) {
		data = malloc(B);
		if (!data)
			return -ENOMEM;
	}
	while (off + j->tag_bytes <= end) {
		struct pending_tag t = {.seq = seq};
		uint32_t flags;

		t.target = e4_be32(b, B, off);
		if (j->csum_v3) {
			flags = e4_be32(b, B, off + 4);
			t.target |= (uint64_t)e4_be32(b, B, off + 8) << 32;
			t.tag_csum = e4_be32(b, B, off + 12);
		} else {
			t.tag_csum = e4_be16(b, B, off + 4);
			flags = e4_be16(b, B, off + 6);
			if (j->is64)
				t.target |= (uint64_t)e4_be32(b, B, off + 8) << 32;
		}
		t.escaped = flags & JTAG_ESCAPE;
		off += j->tag_bytes;
		if (!(flags & JTAG_SAME_UUID)) {
			if (off + 16 > end) {
				free(data);
				return e4_corrupt(j->fs, "journal: descriptor tag UUID runs past the block end");
			}
			off += 16;
		}
		*pos = next_block(j, *pos);
		if (++*steps > limit) {
			free(data);
			return e4_corrupt(j->fs, "journal: transaction %u runs longer than the log", seq);
		}
		t.jblk = *pos;
		if (data) {
			int err = journal_read(j, t.jblk, data, NULL);
			if (err) {
				free(data);
				return err;
			}
			v1_fold(v1, data, B, false);
		}
		int err = push_tag(s, &t);
		if (err) {
			free(data);
			return err;
		}
		if (flags & JTAG_LAST)
			break;
	}
	free(data);
	*pos = next_block(j, *pos);
	return 0;
}

static int scan_revoke(struct e4_journal *j, struct scan *s, const uint8_t *b,
		       uint32_t seq)
{
	size_t B = j->fs->block_size;
	size_t rec = j->is64 ? 8 : 4;
	uint32_t count = e4_be32(b, B, JREVOKE_COUNT);
	size_t limit = B - (has_csum(j) ? J_CSUM_TAIL : 0);

	if (count < JREVOKE_HEADER || count > limit ||
	    (count - JREVOKE_HEADER) % rec)
		return e4_corrupt(j->fs, "journal: revoke block of transaction %u: r_count %u invalid",
				  seq, count);
	for (size_t off = JREVOKE_HEADER; off < count; off += rec) {
		uint64_t target = j->is64 ? e4_be64(b, B, off) : e4_be32(b, B, off);
		int err = push_revoke(s, target, seq);
		if (err)
			return err;
	}
	return 0;
}

/* PASS 1 (§13.8).  Stops at the first block that does not continue the log;
 * tags and revokes of the incomplete last transaction are dropped. */
static int scan_log(struct e4_journal *j, struct scan *s)
{
	size_t B = j->fs->block_size;
	uint8_t *b = malloc(B);
	uint32_t pos = j->start, seq = j->sequence, steps = 0;
	uint32_t limit = j->log_end - j->first;
	struct v1_sums v1 = {0xFFFFFFFFu, 0xFFFFFFFFu};
	int err = 0;

	if (!b)
		return -ENOMEM;
	while (steps++ <= limit) {
		err = journal_read(j, pos, b, NULL);
		if (err)
			break;
		if (e4_be32(b, B, JH_MAGIC) != E4_JBD2_MAGIC ||
		    e4_be32(b, B, JH_SEQUENCE) != seq)
			break;	/* end of the log */
		uint32_t type = e4_be32(b, B, JH_BLOCKTYPE);
		if (type == JT_DESCRIPTOR) {
			if (has_csum(j) && !tail_csum_ok(j, b)) {
				e4_log(j->fs, E4_LOG_WARN,
				       "journal: descriptor block %u of transaction %u fails its checksum: log ends here",
				       pos, seq);
				break;
			}
			v1_fold(&v1, b, B, false);
			err = scan_descriptor(j, s, b, seq, &pos, &steps, limit, &v1);
			if (err)
				break;
			continue;
		}
		if (type == JT_REVOKE) {
			if (has_csum(j) && !tail_csum_ok(j, b)) {
				e4_log(j->fs, E4_LOG_WARN,
				       "journal: revoke block %u of transaction %u fails its checksum: log ends here",
				       pos, seq);
				break;
			}
			err = scan_revoke(j, s, b, seq);
			if (err)
				break;
			v1_fold(&v1, b, B, true);
			pos = next_block(j, pos);
			continue;
		}
		if (type == JT_COMMIT) {
			bool ok = true;
			if (has_csum(j)) {
				ok = commit_csum_ok(j, b);
			} else if ((j->compat & JF_COMPAT_CHECKSUM) &&
				   e4_u8(b, B, JCOMMIT_CHKSUM_TYPE) == 1 &&
				   e4_u8(b, B, JCOMMIT_CHKSUM_SIZE) == 4) {
				uint32_t want = e4_be32(b, B, JCOMMIT_CHKSUM);
				ok = want == v1.without_revokes || want == v1.with_revokes;
			}
			if (!ok) {
				e4_log(j->fs, E4_LOG_WARN,
				       "journal: commit block %u of transaction %u fails its checksum: transaction not replayed",
				       pos, seq);
				break;
			}
			s->committed = s->ntags;
			s->rev_committed = s->nrev;
			s->last_seq = seq;
			s->ncommitted++;
			seq++;
			v1.without_revokes = v1.with_revokes = 0xFFFFFFFFu;
			pos = next_block(j, pos);
			continue;
		}
		break;	/* unknown block type ends the log */
	}
	free(b);
	/* drop the incomplete tail */
	s->ntags = s->committed;
	s->nrev = s->rev_committed;
	return err;
}

/* ---- passes 2 and 3 ------------------------------------------------ */

static bool in_journal(struct e4_journal *j, uint64_t target)
{
	/* the journal file's own blocks are never replay targets */
	for (uint64_t l = 0; l < j->maxlen;) {
		struct e4_mapping m;
		if (e4_map_block(j->fs, &j->inode, l, &m) || m.len == 0)
			return true;	/* cannot tell: refuse the target */
		if (m.kind == E4_MAP_MAPPED && target >= m.pblk &&
		    target - m.pblk < m.len)
			return true;
		l += m.len;
	}
	return false;
}

static int build_map(struct e4_journal *j, struct scan *s)
{
	struct e4_fs *fs = j->fs;
	uint8_t *data = NULL;
	int err = 0;

	/* PASS 2: newest revoking transaction per block */
	for (size_t i = 0; i < s->nrev; i++) {
		bool found;
		err = table_grow(&j->revokes, &j->nrevokes_slots, j->nrevokes);
		if (err)
			return err;
		struct replay_slot *r = table_find(j->revokes, j->nrevokes_slots,
						   s->revoke_targets[i], &found);
		if (!found) {
			r->used = true;
			r->target = s->revoke_targets[i];
			r->seq = s->revoke_seqs[i];
			j->nrevokes++;
		} else if (tid_geq(s->revoke_seqs[i], r->seq)) {
			r->seq = s->revoke_seqs[i];
		}
	}

	if (has_csum(j)) {
		data = malloc(fs->block_size);
		if (!data)
			return -ENOMEM;
	}
	/* PASS 3: later transactions overwrite earlier ones */
	for (size_t i = 0; i < s->ntags; i++) {
		const struct pending_tag *t = &s->tags[i];
		bool found;
		struct replay_slot *r = NULL;

		if (j->nrevokes_slots)
			r = table_find(j->revokes, j->nrevokes_slots, t->target, &found);
		if (r && found && tid_geq(r->seq, t->seq))
			continue;	/* revoked in this or a later txn */
		if (t->target >= fs->blocks_count ||
		    (t->target < fs->first_data_block && t->target != 0)) {
			err = e4_corrupt(fs, "journal: transaction %u replays block %llu outside the file system",
					 t->seq, (unsigned long long)t->target);
			break;
		}
		if (in_journal(j, t->target)) {
			err = e4_corrupt(fs, "journal: transaction %u would overwrite the journal's own block %llu",
					 t->seq, (unsigned long long)t->target);
			break;
		}
		uint64_t phys = 0;
		if (data) {
			err = journal_read(j, t->jblk, data, &phys);
			if (err)
				break;
			uint8_t seqbe[4];
			e4_put_be32(seqbe, 4, 0, t->seq);
			uint32_t c = e4_crc32c(j->seed, seqbe, 4);
			c = e4_crc32c(c, data, fs->block_size);
			uint32_t want = t->tag_csum;
			if (j->csum_v2) {
				c &= 0xFFFF;
				want &= 0xFFFF;
			}
			if (c != want) {
				err = e4_csum_mismatch(fs, "journal: data block %u for block %llu in transaction %u: checksum 0x%08x does not match computed 0x%08x",
						       t->jblk, (unsigned long long)t->target,
						       t->seq, want, c);
				if (err)
					break;
			}
		} else {
			err = journal_phys(j, t->jblk, &phys);
			if (err)
				break;
		}
		err = table_grow(&j->slots, &j->nslots, j->nused);
		if (err)
			break;
		r = table_find(j->slots, j->nslots, t->target, &found);
		if (!found) {
			r->used = true;
			r->target = t->target;
			j->nused++;
		}
		r->jphys = phys;
		r->seq = t->seq;
		r->escaped = t->escaped;
	}
	free(data);
	return err;
}

/* ---- the overlay ------------------------------------------------------ */

int e4_journal_overlay_read(void *ctx, uint64_t blk, uint8_t *buf)
{
	struct e4_journal *j = ctx;
	bool found;
	struct replay_slot *r;
	int err;

	if (!j->nslots)
		return 0;
	r = table_find(j->slots, j->nslots, blk, &found);
	if (!r || !found)
		return 0;
	err = e4_dev_pread(j->fs->dev, buf, j->fs->block_size,
			   r->jphys << j->fs->log_block_size);
	if (err)
		return err;
	if (r->escaped)
		e4_put_be32(buf, j->fs->block_size, 0, E4_JBD2_MAGIC);
	return 1;
}

bool e4_journal_has_block(const struct e4_journal *j, uint64_t blk)
{
	bool found;

	if (!j || !j->nslots)
		return false;
	struct replay_slot *r = table_find(j->slots, j->nslots, blk, &found);
	return r && found;
}

size_t e4_journal_replayed_blocks(const struct e4_journal *j)
{
	return j ? j->nused : 0;
}

uint64_t e4_journal_memory(const struct e4_journal *j)
{
	if (!j)
		return 0;
	return sizeof(*j) + (j->nslots + j->nrevokes_slots) * sizeof(struct replay_slot);
}

void e4_journal_free(struct e4_journal *j)
{
	if (!j)
		return;
	free(j->slots);
	free(j->revokes);
	free(j);
}

int e4_journal_replay(struct e4_fs *fs, struct e4_journal **out)
{
	struct e4_journal *j = calloc(1, sizeof(*j));
	struct scan s = {0};
	uint8_t *b = NULL;
	int err;

	*out = NULL;
	if (!j)
		return -ENOMEM;
	j->fs = fs;
	err = e4_inode_read(fs, fs->journal_inum, &j->inode);
	if (err)
		goto fail;
	if (!e4_inode_is_reg(&j->inode)) {
		err = e4_corrupt(fs, "journal inode %u is not a regular file", fs->journal_inum);
		goto fail;
	}
	b = malloc(fs->block_size);
	if (!b) {
		err = -ENOMEM;
		goto fail;
	}
	err = journal_read(j, 0, b, NULL);
	if (err)
		goto fail;
	err = load_superblock(j, b);
	if (err)
		goto fail;
	if (e4_be32(b, fs->block_size, JSB_ERRNO))
		e4_log(fs, E4_LOG_WARN, "journal: aborted with error %d recorded",
		       (int32_t)e4_be32(b, fs->block_size, JSB_ERRNO));
	if (j->start == 0) {
		e4_log(fs, E4_LOG_INFO, "journal: log is empty, nothing to replay");
		goto done;
	}
	if (j->incompat & JF_INCOMPAT_FAST_COMMIT) {
		e4_log(fs, E4_LOG_ERROR,
		       "journal: needs recovery with fast commits, which e4fuse cannot replay; use -o norecovery to read the unreplayed image");
		err = -EOPNOTSUPP;
		goto fail;
	}
	err = scan_log(j, &s);
	if (err)
		goto fail;
	err = build_map(j, &s);
	if (err)
		goto fail;
	j->replayed_transactions = s.ncommitted;
	e4_log(fs, E4_LOG_INFO, "journal: replayed %u transactions, %zu blocks, in memory",
	       s.ncommitted, j->nused);
done:
	free(b);
	free(s.tags);
	free(s.revoke_targets);
	free(s.revoke_seqs);
	*out = j;
	return 0;
fail:
	free(b);
	free(s.tags);
	free(s.revoke_targets);
	free(s.revoke_seqs);
	e4_journal_free(j);
	return err;
}

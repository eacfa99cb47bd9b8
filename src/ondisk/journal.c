/* SPDX-License-Identifier: MIT */
/*
 * The jbd2 journal (§13): superblock, descriptor, commit and revoke blocks,
 * and the three-pass replay, done without writing.
 *
 * Replay builds a map from each target block to the journal block holding
 * its newest committed copy.  The map is installed as the cache's overlay
 * (and consulted by data reads), so every read sees the replayed file
 * system while the image stays untouched.  Data stays in the journal on
 * disk.
 *
 * Every field is validated: a hostile journal can make replay stop early or
 * refuse the mount, but not read outside the journal, loop, or make work or
 * memory grow faster than the log's length:
 * - the journal file is mapped once into runs, sorted both ways, so finding
 *   a log block and asking "is this block the journal's own" are binary
 *   searches (one e4_map_block per run, not one walk per tag);
 * - the map holds one entry per logged target, and only the newest copy:
 *   whether a block is replayed depends only on its newest copy and the
 *   newest transaction revoking it (a revoke cancels every copy up to its
 *   transaction), so revoke records are kept nowhere: after the scan, the
 *   revoke blocks are read again and each record only updates the entry of
 *   a block that was logged.  A log full of revoke records costs nothing;
 * - all of it is counted against a ceiling (e4_open_opts.replay_mem_max)
 *   that refuses the open with a message instead of meeting the OOM killer;
 * - every block used later is checked again when used: the overlay
 *   re-verifies a replayed copy's tag checksum, the revoke pass a revoke
 *   block's, so a device that answers differently the second time gives
 *   -EIO, not unverified bytes.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ondisk/journal_int.h"
#include "ondisk/ondisk.h"
#include "util/hmap.h"

/* Every incompat feature §13.3 defines (the layout is in e4/format.h). */
#define JF_INCOMPAT_KNOWN                                                    \
	(E4_JF_INCOMPAT_REVOKE | E4_JF_INCOMPAT_64BIT |                       \
	 E4_JF_INCOMPAT_ASYNC_COMMIT | E4_JF_INCOMPAT_CSUM_V2 |               \
	 E4_JF_INCOMPAT_CSUM_V3 | E4_JF_INCOMPAT_FAST_COMMIT)

/* ---- the journal ----------------------------------------------------- */


/* What the replay knows of one target block (the map's value). */
struct replay_entry {
	uint64_t jphys;		/* device block of the newest copy */
	uint32_t seq;		/* its transaction */
	uint32_t jblk;		/* its log block */
	uint32_t tag_csum;	/* its tag checksum (csum v2/v3) */
	uint32_t pos;		/* its tag's position in the log, for
				 * reporting the first failure */
	uint32_t revoke_seq;	/* newest revoking transaction */
	uint32_t bad_seq, bad_jblk, bad_pos; /* newest copy failing its checksum */
	uint32_t bad_csum;	/* its stored and computed checksums */
	uint32_t bad_calc;
	uint8_t escaped, revoked, has_bad, replay;
};


/* Transaction ids wrap: a is newer than or equal to b. */
static bool tid_geq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/* Account @bytes more (or fewer, negative) against the ceiling. */
static int mem_charge(struct e4_journal *j, int64_t bytes)
{
	j->mem = (uint64_t)((int64_t)j->mem + bytes);
	if (bytes <= 0 || j->mem <= j->mem_max)
		return 0;
	if (!j->mem_reported) {
		bool mib = j->mem_max >= (1u << 20);

		e4_log_rule(j->fs, E4_LOG_ERROR, E4_RULE_LIM_REPLAY,
			    e4_obj(E4_OBJ_JOURNAL, 0, 0, 0),
			    "replay needs more than %llu %s of memory, the ceiling (raise it with replay_mem, or read the image without replay with norecovery)",
			    (unsigned long long)(j->mem_max >> (mib ? 20 : 10)),
			    mib ? "MiB" : "KiB");
	}
	j->mem_reported = true;
	return -ENOMEM;
}

/* Grow array *@v of *@cap elements of @size to hold @need, charged. */
static int grow_array(struct e4_journal *j, void **v, size_t *cap,
		      size_t need, size_t size)
{
	size_t n;
	void *p;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	if (mem_charge(j, (int64_t)((n - *cap) * size)))
		return -ENOMEM;
	p = realloc(*v, n * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = n;
	return 0;
}

/* ---- the journal file's mapping ---------------------------------------- */

static int by_pblk(const void *a, const void *b)
{
	const struct jrun *x = a, *y = b;

	return (x->pblk > y->pblk) - (x->pblk < y->pblk);
}

/* Map journal blocks [0, maxlen) once.  Two journal blocks on one device
 * block is corruption (it would also let the scan revisit blocks). */
int map_journal(struct e4_journal *j)
{
	struct e4_fs *fs = j->fs;
	size_t cap = 0;
	int err;

	for (uint64_t l = 0; l < j->maxlen;) {
		struct e4_mapping m;
		uint64_t len;

		err = e4_map_block(fs, &j->inode, l, &m);
		if (err)
			return err;
		if (m.lblk != l || m.len == 0)
			return -EIO;	/* a mapping bug: never spin */
		len = m.len < j->maxlen - l ? m.len : j->maxlen - l;
		if (m.kind == E4_MAP_MAPPED) {
			struct jrun *last = j->nruns ? &j->runs[j->nruns - 1] : NULL;

			if (last && last->lblk + last->len == l &&
			    last->pblk + last->len == m.pblk) {
				last->len += (uint32_t)len;
			} else {
				err = grow_array(j, (void **)&j->runs, &cap,
						 j->nruns + 1, sizeof(*j->runs));
				if (err)
					return err;
				j->runs[j->nruns++] = (struct jrun){
					m.pblk, (uint32_t)l, (uint32_t)len };
			}
		}
		l += len;
	}
	if (mem_charge(j, (int64_t)(j->nruns * sizeof(*j->runs))))
		return -ENOMEM;
	j->runs_by_pblk = malloc((j->nruns ? j->nruns : 1) * sizeof(*j->runs));
	if (!j->runs_by_pblk)
		return -ENOMEM;
	memcpy(j->runs_by_pblk, j->runs, j->nruns * sizeof(*j->runs));
	qsort(j->runs_by_pblk, j->nruns, sizeof(*j->runs), by_pblk);
	for (size_t i = 1; i < j->nruns; i++) {
		const struct jrun *a = &j->runs_by_pblk[i - 1];
		const struct jrun *b = &j->runs_by_pblk[i];

		if (a->pblk + a->len > b->pblk)
			return e4_corrupt(fs, E4_RULE_J_MAP,
					  e4_obj_journal_block(b->lblk, 0),
					  "shares device block %llu with journal block %u",
					  (unsigned long long)b->pblk,
					  a->lblk + (uint32_t)(b->pblk - a->pblk));
	}
	return 0;
}

/* The run of @runs (sorted by the key asked for, and not overlapping)
 * holding @key: a logical block, or a device block with @by_pblk. */
static const struct jrun *run_search(const struct jrun *runs, size_t n,
				     uint64_t key, bool by_pblk)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct jrun *r = &runs[mid];
		uint64_t start = by_pblk ? r->pblk : r->lblk;

		if (key < start)
			hi = mid;
		else if (key - start >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

/* Is device block @blk one of the journal's own? */
static bool in_journal(const struct e4_journal *j, uint64_t blk)
{
	return run_search(j->runs_by_pblk, j->nruns, blk, true) != NULL;
}

/* ---- reading journal blocks ----------------------------------------- */

static int journal_unmapped(struct e4_journal *j, uint32_t jblk)
{
	return e4_corrupt(j->fs, E4_RULE_J_MAP, e4_obj_journal_block(jblk, 0),
			  "not mapped (hole or unwritten)");
}

int journal_phys(struct e4_journal *j, uint32_t jblk, uint64_t *phys)
{
	const struct jrun *r;
	struct e4_mapping m;
	int err;

	if (j->runs_by_pblk) {
		r = run_search(j->runs, j->nruns, jblk, false);
		if (!r)
			return journal_unmapped(j, jblk);
		*phys = r->pblk + (jblk - r->lblk);
		return 0;
	}
	/* the superblock, read before the journal is mapped */
	err = e4_map_block(j->fs, &j->inode, jblk, &m);
	if (err)
		return err;
	if (m.kind != E4_MAP_MAPPED)
		return journal_unmapped(j, jblk);
	*phys = m.pblk;
	return 0;
}

int journal_read(struct e4_journal *j, uint32_t jblk, uint8_t *buf,
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
		e4_log_rule(j->fs, E4_LOG_ERROR, E4_RULE_IO_READ,
			    e4_obj_journal_block(jblk, 0),
			    "cannot read it (device block %llu)",
			    (unsigned long long)phys);
	return err;
}

uint32_t next_block(const struct e4_journal *j, uint32_t b)
{
	return b + 1 >= j->log_end ? j->first : b + 1;
}

/* ---- per-block checks ------------------------------------------------ */

/* §12.4: descriptor and revoke tails, crc32c(j_seed, the block with its
 * last 4 bytes zeroed). */
uint32_t jbd2_tail_csum(uint32_t seed, const uint8_t *b, size_t B)
{
	static const uint8_t zero[4];

	return e4_crc32c(e4_crc32c(seed, b, B - E4_JTAIL_SIZE), zero, 4);
}

/* §12.4: a commit block, crc32c(j_seed, the block with h_chksum[0]
 * zeroed). */
uint32_t jbd2_commit_csum(uint32_t seed, const uint8_t *b, size_t B)
{
	static const uint8_t zero[4];
	uint32_t c = e4_crc32c(seed, b, E4_JCOMMIT_CHKSUM);

	c = e4_crc32c(c, zero, 4);
	return e4_crc32c(c, b + E4_JCOMMIT_CHKSUM + 4, B - E4_JCOMMIT_CHKSUM - 4);
}

/* §13.3: the journal superblock, crc32c(~0, its 1024 bytes with the
 * checksum zeroed). */
uint32_t jbd2_sb_csum(const uint8_t *b)
{
	static const uint8_t zero[4];
	uint32_t c = e4_crc32c(0xFFFFFFFFu, b, E4_JSB_CHECKSUM);

	c = e4_crc32c(c, zero, 4);
	return e4_crc32c(c, b + E4_JSB_CHECKSUM + 4, E4_JSB_SIZE - E4_JSB_CHECKSUM - 4);
}

static bool tail_csum_ok(const struct e4_journal *j, const uint8_t *b)
{
	size_t B = j->fs->block_size;

	return jbd2_tail_csum(j->seed, b, B) == e4_be32(b, B, B - E4_JTAIL_SIZE);
}

static bool commit_csum_ok(const struct e4_journal *j, const uint8_t *b)
{
	size_t B = j->fs->block_size;

	return jbd2_commit_csum(j->seed, b, B) == e4_be32(b, B, E4_JCOMMIT_CHKSUM);
}

bool has_csum(const struct e4_journal *j)
{
	return j->csum_v2 || j->csum_v3;
}

/* ---- the journal superblock (J1, J2) -------------------------------- */

/* How every report names the journal superblock: journal block 0, as
 * other journal blocks are named by their place in the log. */
static struct e4_object jsb_object(void)
{
	return e4_obj(E4_OBJ_JOURNAL_SB, 0, 0, 0);
}

int load_superblock(struct e4_journal *j, const uint8_t *b)
{
	struct e4_fs *fs = j->fs;
	size_t B = fs->block_size;
	uint32_t type = e4_be32(b, B, E4_JH_BLOCKTYPE);
	struct e4_object jsb = jsb_object();

	if (e4_be32(b, B, E4_JH_MAGIC) != E4_JBD2_MAGIC ||
	    (type != E4_JT_SB_V1 && type != E4_JT_SB_V2))
		return e4_corrupt(fs, E4_RULE_J1, jsb,
				  "bad magic 0x%08x or type %u",
				  e4_be32(b, B, E4_JH_MAGIC), type);
	if (e4_be32(b, B, E4_JSB_BLOCKSIZE) != B)
		return e4_corrupt(fs, E4_RULE_J1, jsb,
				  "block size %u != file system block size %zu",
				  e4_be32(b, B, E4_JSB_BLOCKSIZE), B);
	j->maxlen = e4_be32(b, B, E4_JSB_MAXLEN);
	j->first = e4_be32(b, B, E4_JSB_FIRST);
	j->sequence = e4_be32(b, B, E4_JSB_SEQUENCE);
	j->start = e4_be32(b, B, E4_JSB_START);
	if (type == E4_JT_SB_V2) {
		j->compat = e4_be32(b, B, E4_JSB_FEATURE_COMPAT);
		j->incompat = e4_be32(b, B, E4_JSB_FEATURE_INCOMPAT);
		if (e4_be32(b, B, E4_JSB_FEATURE_RO_COMPAT))
			return e4_corrupt(fs, E4_RULE_J2, jsb,
					  "unknown read-only features 0x%x",
					  e4_be32(b, B, E4_JSB_FEATURE_RO_COMPAT));
	}
	if (j->incompat & ~(uint32_t)JF_INCOMPAT_KNOWN) {
		e4_log_rule(fs, E4_LOG_ERROR, E4_RULE_J2, jsb,
			    "unsupported incompatible features 0x%x",
			    j->incompat & ~(uint32_t)JF_INCOMPAT_KNOWN);
		return -EOPNOTSUPP;
	}
	j->csum_v2 = j->incompat & E4_JF_INCOMPAT_CSUM_V2;
	j->csum_v3 = j->incompat & E4_JF_INCOMPAT_CSUM_V3;
	j->is64 = j->incompat & E4_JF_INCOMPAT_64BIT;
	if (j->csum_v2 && j->csum_v3)
		return e4_corrupt(fs, E4_RULE_J2, jsb,
				  "both checksum v2 and v3 set");
	if (has_csum(j)) {
		uint8_t ct = e4_u8(b, B, E4_JSB_CHECKSUM_TYPE);
		if (ct != E4_JCSUM_CRC32C)
			return e4_corrupt(fs, E4_RULE_J2, jsb,
					  "checksum type %u, expected 4 (crc32c)",
					  ct);
		uint32_t c = jbd2_sb_csum(b);
		if (c != e4_be32(b, B, E4_JSB_CHECKSUM)) {
			int err = e4_csum_mismatch(fs, E4_RULE_CS1, jsb,
						   e4_be32(b, B, E4_JSB_CHECKSUM),
						   c);
			if (err)
				return err;
		}
	}
	j->seed = e4_crc32c(0xFFFFFFFFu, b + E4_JSB_UUID, E4_J_UUID_SIZE);

	uint64_t file_blocks = j->inode.size >> fs->log_block_size;
	if (j->first < 1 || j->first >= j->maxlen || j->maxlen > file_blocks)
		return e4_corrupt(fs, E4_RULE_J1, jsb,
				  "first %u / maxlen %u invalid for a journal of %llu blocks",
				  j->first, j->maxlen,
				  (unsigned long long)file_blocks);
	/* the journal lives inside the file system: this bounds its mapping
	 * by the device, not by a number the image chooses */
	if (j->maxlen > fs->blocks_count)
		return e4_corrupt(fs, E4_RULE_J1, jsb,
				  "maxlen %u exceeds the file system's %llu blocks",
				  j->maxlen, (unsigned long long)fs->blocks_count);
	j->log_end = j->maxlen;
	if (j->incompat & E4_JF_INCOMPAT_FAST_COMMIT) {
		uint32_t fc = e4_be32(b, B, E4_JSB_NUM_FC_BLKS);
		if (fc == 0)
			fc = E4_JSB_NUM_FC_BLKS_DEFAULT;
		if (fc >= j->maxlen - j->first)
			return e4_corrupt(fs, E4_RULE_J1, jsb,
					  "fast-commit area of %u blocks leaves no log",
					  fc);
		j->log_end = j->maxlen - fc;
	}
	if (j->log_end - j->first < 2)
		return e4_corrupt(fs, E4_RULE_J1, jsb,
				  "log of %u blocks too small",
				  j->log_end - j->first);
	if (j->start && (j->start < j->first || j->start >= j->log_end))
		return e4_corrupt(fs, E4_RULE_J1, jsb,
				  "log start %u outside [%u, %u)",
				  j->start, j->first, j->log_end);

	/* §13.4 tag sizes; all but v3 share be32 nr, be16 csum, be16 flags
	 * [, be32 nr_high], and v2 adds 2 unused bytes */
	if (j->csum_v3)
		j->tag_bytes = E4_JTAG3_SIZE;
	else if (j->csum_v2)
		j->tag_bytes = j->is64 ? E4_JTAG_SIZE_CSUM_V2_64 :
					 E4_JTAG_SIZE_CSUM_V2;
	else
		j->tag_bytes = j->is64 ? E4_JTAG_SIZE_64 : E4_JTAG_SIZE;
	return 0;
}

/* ---- pass 1: scan ---------------------------------------------------- */

/* A tag of the transaction being scanned: entered into the map when its
 * commit block is found, so an incomplete last transaction leaves nothing. */
struct pending_tag {
	uint64_t target;
	uint32_t jblk;
	uint32_t tag_csum;
	bool escaped;
};

/* A revoke block of a committed transaction, read again after the scan. */
struct revoke_block {
	uint32_t jblk, seq;
};

struct scan {
	struct pending_tag *tags;	/* of the transaction being scanned */
	size_t ntags, tagcap;
	struct revoke_block *revs;
	size_t nrevs, revcap, rev_committed;
	uint32_t positions;		/* tags committed so far */
	uint32_t ncommitted;
	uint8_t *data;			/* one block */
};


void v1_fold(struct v1_sums *v, const uint8_t *b, size_t len,
		    bool is_revoke)
{
	if (!is_revoke)
		v->without_revokes = e4_crc32_be(v->without_revokes, b, len);
	v->with_revokes = e4_crc32_be(v->with_revokes, b, len);
}

/* Parse a descriptor block's tags; each tag consumes the next log block. */
static int scan_descriptor(struct e4_journal *j, struct scan *s,
			   const uint8_t *b, uint32_t seq, uint32_t *pos,
			   uint32_t *steps, uint32_t limit, struct v1_sums *v1)
{
	size_t B = j->fs->block_size;
	size_t end = B - (has_csum(j) ? E4_JTAIL_SIZE : 0);
	size_t off = E4_JH_SIZE;
	int err;

	while (off + j->tag_bytes <= end) {
		struct pending_tag t = { 0 };
		uint32_t flags;

		if (j->csum_v3) {
			uint64_t hi = e4_be32(b, B, off + E4_JTAG3_BLOCKNR_HIGH);

			t.target = e4_be32(b, B, off + E4_JTAG3_BLOCKNR) | hi << 32;
			flags = e4_be32(b, B, off + E4_JTAG3_FLAGS);
			t.tag_csum = e4_be32(b, B, off + E4_JTAG3_CHECKSUM);
		} else {
			uint64_t hi = j->is64 ?
				e4_be32(b, B, off + E4_JTAG_BLOCKNR_HIGH) : 0;

			t.target = e4_be32(b, B, off + E4_JTAG_BLOCKNR) | hi << 32;
			t.tag_csum = e4_be16(b, B, off + E4_JTAG_CHECKSUM);
			flags = e4_be16(b, B, off + E4_JTAG_FLAGS);
		}
		t.escaped = flags & E4_JTAG_ESCAPE;
		off += j->tag_bytes;
		if (!(flags & E4_JTAG_SAME_UUID)) {
			if (off + E4_J_UUID_SIZE > end)
				return e4_corrupt(j->fs, E4_RULE_J4,
						  e4_obj_journal_block(*pos, 0),
						  "descriptor tag UUID runs past the block end");
			off += E4_J_UUID_SIZE;
		}
		*pos = next_block(j, *pos);
		if (++*steps > limit)
			return e4_corrupt(j->fs, E4_RULE_J3,
					  e4_obj(E4_OBJ_JOURNAL, 0, 0, 0),
					  "transaction %u runs longer than the log",
					  seq);
		t.jblk = *pos;
		if (j->compat & E4_JF_COMPAT_CHECKSUM) {
			err = journal_read(j, t.jblk, s->data, NULL);
			if (err)
				return err;
			v1_fold(v1, s->data, B, false);
		}
		err = grow_array(j, (void **)&s->tags, &s->tagcap, s->ntags + 1,
				 sizeof(*s->tags));
		if (err)
			return err;
		s->tags[s->ntags++] = t;
		if (flags & E4_JTAG_LAST)
			break;
	}
	*pos = next_block(j, *pos);
	return 0;
}

/* r_count of revoke block @b, validated: the end of its records. */
static int revoke_count(struct e4_journal *j, const uint8_t *b, uint32_t jblk,
			uint32_t seq, uint32_t *count)
{
	size_t B = j->fs->block_size;
	size_t rec = j->is64 ? E4_JREVOKE_RECORD_64 : E4_JREVOKE_RECORD;
	size_t limit = B - (has_csum(j) ? E4_JTAIL_SIZE : 0);

	*count = e4_be32(b, B, E4_JREVOKE_COUNT);
	if (*count < E4_JREVOKE_HEADER || *count > limit ||
	    (*count - E4_JREVOKE_HEADER) % rec)
		return e4_corrupt(j->fs, E4_RULE_J5,
				  e4_obj_journal_block(jblk, 0),
				  "revoke block of transaction %u: r_count %u invalid",
				  seq, *count);
	return 0;
}

static int scan_revoke(struct e4_journal *j, struct scan *s, const uint8_t *b,
		       uint32_t pos, uint32_t seq)
{
	uint32_t count;
	int err = revoke_count(j, b, pos, seq, &count);

	if (err)
		return err;
	err = grow_array(j, (void **)&s->revs, &s->revcap, s->nrevs + 1,
			 sizeof(*s->revs));
	if (err)
		return err;
	s->revs[s->nrevs++] = (struct revoke_block){ pos, seq };
	return 0;
}

/* Tag checksum of a logged copy (§12.4): crc32c over the sequence and the
 * block, 16 bits of it for v2. */
uint32_t tag_csum_of(const struct e4_journal *j, uint32_t seq,
			    const uint8_t *data)
{
	uint8_t seqbe[4];
	uint32_t c;

	e4_put_be32(seqbe, 4, 0, seq);
	c = e4_crc32c(j->seed, seqbe, 4);
	c = e4_crc32c(c, data, j->fs->block_size);
	return j->csum_v2 ? c & 0xFFFF : c;
}

/* The commit block of transaction @seq was found: enter its tags. */
static int commit_tags(struct e4_journal *j, struct scan *s, uint32_t seq)
{
	int err;

	for (size_t i = 0; i < s->ntags; i++) {
		const struct pending_tag *t = &s->tags[i];
		uint32_t calc = 0, want = j->csum_v2 ? t->tag_csum & 0xFFFF : t->tag_csum;
		uint64_t phys;
		size_t before = e4_hmap_memory(j->map);
		struct replay_entry *e;
		bool added;

		if (has_csum(j)) {
			err = journal_read(j, t->jblk, s->data, &phys);
			if (err)
				return err;
			calc = tag_csum_of(j, seq, s->data);
		} else {
			err = journal_phys(j, t->jblk, &phys);
			if (err)
				return err;
		}
		e = e4_hmap_put(j->map, t->target, &added);
		if (!e)
			return -ENOMEM;
		err = mem_charge(j, (int64_t)(e4_hmap_memory(j->map) - before));
		if (err)
			return err;
		e->jphys = phys;
		e->seq = seq;
		e->jblk = t->jblk;
		e->tag_csum = calc;	/* what the overlay must find again */
		e->escaped = t->escaped;
		e->pos = s->positions;
		if (calc != want) {
			e->has_bad = 1;
			e->bad_seq = seq;
			e->bad_jblk = t->jblk;
			e->bad_pos = s->positions;
			e->bad_csum = want;
			e->bad_calc = calc;
		}
		s->positions++;
	}
	s->ntags = 0;
	return 0;
}

/* PASS 1 (§13.8).  Stops at the first block that does not continue the log;
 * an incomplete last transaction leaves nothing behind. */
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
		if (e4_be32(b, B, E4_JH_MAGIC) != E4_JBD2_MAGIC ||
		    e4_be32(b, B, E4_JH_SEQUENCE) != seq)
			break;	/* end of the log */
		uint32_t type = e4_be32(b, B, E4_JH_BLOCKTYPE);
		if (type == E4_JT_DESCRIPTOR) {
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
		if (type == E4_JT_REVOKE) {
			if (has_csum(j) && !tail_csum_ok(j, b)) {
				e4_log(j->fs, E4_LOG_WARN,
				       "journal: revoke block %u of transaction %u fails its checksum: log ends here",
				       pos, seq);
				break;
			}
			err = scan_revoke(j, s, b, pos, seq);
			if (err)
				break;
			v1_fold(&v1, b, B, true);
			pos = next_block(j, pos);
			continue;
		}
		if (type == E4_JT_COMMIT) {
			bool ok = true;
			if (has_csum(j)) {
				ok = commit_csum_ok(j, b);
			} else if ((j->compat & E4_JF_COMPAT_CHECKSUM) &&
				   e4_u8(b, B, E4_JCOMMIT_CHKSUM_TYPE) ==
					   E4_JCSUM_CRC32 &&
				   e4_u8(b, B, E4_JCOMMIT_CHKSUM_SIZE) ==
					   E4_JCSUM_CRC32_SIZE) {
				uint32_t want = e4_be32(b, B, E4_JCOMMIT_CHKSUM);
				ok = want == v1.without_revokes || want == v1.with_revokes;
			}
			if (!ok) {
				e4_log(j->fs, E4_LOG_WARN,
				       "journal: commit block %u of transaction %u fails its checksum: transaction not replayed",
				       pos, seq);
				break;
			}
			err = commit_tags(j, s, seq);
			if (err)
				break;
			s->rev_committed = s->nrevs;
			s->ncommitted++;
			seq++;
			v1.without_revokes = v1.with_revokes = 0xFFFFFFFFu;
			pos = next_block(j, pos);
			continue;
		}
		break;	/* unknown block type ends the log */
	}
	free(b);
	s->nrevs = s->rev_committed;	/* revokes of the incomplete tail */
	j->next_seq = seq;
	return err;
}

/* ---- passes 2 and 3 ------------------------------------------------ */

/* PASS 2: read each committed revoke block again (its records were not
 * kept) and let each record update only a block that was logged. */
static int apply_revokes(struct e4_journal *j, struct scan *s)
{
	size_t B = j->fs->block_size;
	size_t rec = j->is64 ? E4_JREVOKE_RECORD_64 : E4_JREVOKE_RECORD;
	uint8_t *b = s->data;

	for (size_t i = 0; i < s->nrevs; i++) {
		const struct revoke_block *r = &s->revs[i];
		uint32_t count;
		int err = journal_read(j, r->jblk, b, NULL);

		if (err)
			return err;
		if (e4_be32(b, B, E4_JH_MAGIC) != E4_JBD2_MAGIC ||
		    e4_be32(b, B, E4_JH_BLOCKTYPE) != E4_JT_REVOKE ||
		    e4_be32(b, B, E4_JH_SEQUENCE) != r->seq ||
		    (has_csum(j) && !tail_csum_ok(j, b))) {
			e4_log_rule(j->fs, E4_LOG_ERROR, E4_RULE_IO_CHANGED,
				    e4_obj_journal_block(r->jblk, 0),
				    "revoke block changed on the device since it was scanned");
			return -EIO;
		}
		err = revoke_count(j, b, r->jblk, r->seq, &count);
		if (err)
			return err;
		for (size_t off = E4_JREVOKE_HEADER; off < count; off += rec) {
			uint64_t target = j->is64 ? e4_be64(b, B, off) : e4_be32(b, B, off);
			struct replay_entry *e = e4_hmap_get(j->map, target);

			if (e && (!e->revoked || tid_geq(r->seq, e->revoke_seq))) {
				e->revoked = 1;
				e->revoke_seq = r->seq;
			}
		}
	}
	return 0;
}

/* What stops the replay, if anything: the failure earliest in the log, so
 * the report does not depend on the map's order. */
struct replay_failure {
	uint32_t pos;
	const struct replay_entry *e;
	uint64_t target;
	enum { FAIL_NONE, FAIL_OUTSIDE, FAIL_JOURNAL, FAIL_CSUM } kind;
};

static void note_failure(struct replay_failure *f, uint32_t pos, int kind,
			 const struct replay_entry *e, uint64_t target)
{
	if (f->kind == FAIL_NONE || pos < f->pos) {
		f->pos = pos;
		f->kind = kind;
		f->e = e;
		f->target = target;
	}
}

/* PASS 3: decide what is replayed (the newest copy of each block not
 * revoked at or after its transaction) and check it. */
static int decide_replay(struct e4_journal *j)
{
	struct e4_fs *fs = j->fs;
	struct replay_failure f = { .kind = FAIL_NONE };
	size_t it = 0;
	uint64_t target;
	void *v;

	while (e4_hmap_next(j->map, &it, &target, &v)) {
		struct replay_entry *e = v;

		e->replay = !(e->revoked && tid_geq(e->revoke_seq, e->seq));
		if (e->has_bad && !(e->revoked && tid_geq(e->revoke_seq, e->bad_seq)))
			note_failure(&f, e->bad_pos, FAIL_CSUM, e, target);
		if (!e->replay)
			continue;
		if (target >= fs->blocks_count ||
		    (target < fs->first_data_block && target != 0))
			note_failure(&f, e->pos, FAIL_OUTSIDE, e, target);
		else if (in_journal(j, target))
			note_failure(&f, e->pos, FAIL_JOURNAL, e, target);
		j->nreplayed++;
	}
	switch (f.kind) {
	case FAIL_OUTSIDE:
		return e4_corrupt(fs, E4_RULE_J4,
				  e4_obj_journal_block(f.e->jblk, f.target),
				  "transaction %u replays it outside the file system",
				  f.e->seq);
	case FAIL_JOURNAL:
		return e4_corrupt(fs, E4_RULE_J_SELF,
				  e4_obj_journal_block(f.e->jblk, f.target),
				  "transaction %u would overwrite the journal's own block",
				  f.e->seq);
	case FAIL_CSUM:
		return e4_csum_mismatch(fs, E4_RULE_CS1,
					e4_obj_journal_block(f.e->bad_jblk,
							     f.target),
					f.e->bad_csum, f.e->bad_calc);
	case FAIL_NONE:
	default:
		return 0;
	}
}

/* ---- the overlay ------------------------------------------------------ */

static const struct replay_entry *replayed(const struct e4_journal *j,
					   uint64_t blk)
{
	const struct replay_entry *e = j && j->map ? e4_hmap_get(j->map, blk) : NULL;

	return e && e->replay ? e : NULL;
}

int e4_journal_overlay_read(void *ctx, uint64_t blk, uint8_t *buf)
{
	struct e4_journal *j = ctx;
	const struct replay_entry *e = replayed(j, blk);
	int err;

	if (!e)
		return 0;
	err = e4_dev_pread(j->fs->dev, buf, j->fs->block_size,
			   e->jphys << j->fs->log_block_size);
	if (err)
		return err;
	/* the copy must be the one whose checksum was checked at open */
	if (has_csum(j) && tag_csum_of(j, e->seq, buf) != e->tag_csum) {
		e4_log_rule(j->fs, E4_LOG_ERROR, E4_RULE_IO_CHANGED,
			    e4_obj_journal_block(e->jblk, blk),
			    "changed on the device since it was verified");
		return -EIO;
	}
	if (e->escaped)
		e4_put_be32(buf, j->fs->block_size, E4_JH_MAGIC, E4_JBD2_MAGIC);
	return 1;
}

int32_t e4_journal_errno(const struct e4_journal *j)
{
	return j ? j->jerrno : 0;
}

bool e4_journal_has_block(const struct e4_journal *j, uint64_t blk)
{
	return replayed(j, blk) != NULL;
}

size_t e4_journal_replayed_blocks(const struct e4_journal *j)
{
	return j ? j->nreplayed : 0;
}

uint64_t e4_journal_memory(const struct e4_journal *j)
{
	return j ? j->mem : 0;
}

void e4_journal_free(struct e4_journal *j)
{
	if (!j)
		return;
	free(j->runs);
	free(j->runs_by_pblk);
	e4_hmap_free(j->map);
	free(j->jsb);
	free(j->blk);
	free(j->desc);
	free(j);
}

static void scan_free(struct e4_journal *j, struct scan *s)
{
	/* the scan's arrays are gone after the open: uncharge them */
	j->mem -= (uint64_t)(s->tagcap * sizeof(*s->tags) +
			     s->revcap * sizeof(*s->revs));
	free(s->tags);
	free(s->revs);
	free(s->data);
}

int e4_journal_replay(struct e4_fs *fs, struct e4_journal **out)
{
	struct e4_journal *j = calloc(1, sizeof(*j));
	struct scan s = { 0 };
	int err;

	*out = NULL;
	if (!j)
		return -ENOMEM;
	j->fs = fs;
	j->mem_max = fs->opts.replay_mem_max ? fs->opts.replay_mem_max :
					       E4_REPLAY_MEM_DEFAULT;
	j->map = e4_hmap_new(sizeof(struct replay_entry));
	s.data = malloc(fs->block_size);
	if (!j->map || !s.data) {
		err = -ENOMEM;
		goto fail;
	}
	err = mem_charge(j, (int64_t)(sizeof(*j) + fs->block_size));
	if (err)
		goto fail;
	err = e4_inode_read(fs, fs->journal_inum, &j->inode);
	if (err)
		goto fail;
	if (!e4_inode_is_reg(&j->inode)) {
		err = e4_corrupt(fs, E4_RULE_SB12,
				 e4_obj_inode(fs->journal_inum),
				 "the journal is not a regular file");
		goto fail;
	}
	err = journal_read(j, 0, s.data, NULL);
	if (err)
		goto fail;
	err = load_superblock(j, s.data);
	if (err)
		goto fail;
	j->jerrno = (int32_t)e4_be32(s.data, fs->block_size, E4_JSB_ERRNO);
	if (j->jerrno)
		e4_log(fs, E4_LOG_WARN, "journal: aborted with error %d recorded",
		       (int32_t)e4_be32(s.data, fs->block_size, E4_JSB_ERRNO));
	j->next_seq = j->sequence;
	if (j->start == 0) {
		e4_log(fs, E4_LOG_INFO, "journal: log is empty, nothing to replay");
		goto done;
	}
	if (j->incompat & E4_JF_INCOMPAT_FAST_COMMIT) {
		e4_log_rule(fs, E4_LOG_ERROR, E4_RULE_J6,
			    e4_obj(E4_OBJ_JOURNAL, 0, 0, 0),
			    "needs recovery with fast commits, which e4fuse cannot replay; use -o norecovery to read the unreplayed image");
		err = -EOPNOTSUPP;
		goto fail;
	}
	err = map_journal(j);
	if (err)
		goto fail;
	err = scan_log(j, &s);
	if (!err)
		err = apply_revokes(j, &s);
	if (!err)
		err = decide_replay(j);
	if (err)
		goto fail;
	e4_log(fs, E4_LOG_INFO, "journal: replayed %u transactions, %zu blocks, in memory",
	       s.ncommitted, j->nreplayed);
done:
	scan_free(j, &s);
	*out = j;
	return 0;
fail:
	scan_free(j, &s);
	e4_journal_free(j);
	return err;
}

/* ---- recovery onto the image -------------------------------------------- */

int e4_journal_recover(struct e4_fs *fs, struct e4_journal *j)
{
	size_t B = fs->block_size, it = 0, written = 0;
	uint8_t *b = malloc(B);
	uint64_t target, phys = 0;
	void *v;
	int err = 0;

	if (!b)
		return -ENOMEM;
	/* every block home (decide_replay kept them inside the file system
	 * and off the journal), each read again and checked as a replayed
	 * read checks it */
	while (!err && e4_hmap_next(j->map, &it, &target, &v)) {
		if (!((struct replay_entry *)v)->replay)
			continue;
		err = e4_journal_overlay_read(j, target, b);
		if (err == 1)
			err = e4_dev_pwrite(fs->dev, b, B, target << fs->log_block_size);
		written++;
	}
	/* then, once they are durable, an empty log: the next transaction
	 * id past every one the log held, the incomplete one too */
	if (!err)
		err = e4_dev_flush(fs->dev);
	if (!err)
		err = journal_read(j, 0, b, &phys);
	if (!err) {
		e4_put_be32(b, B, E4_JSB_START, 0);
		e4_put_be32(b, B, E4_JSB_SEQUENCE, j->next_seq + 1);
		/* the error goes to the file system's superblock (the
		 * caller's), as the kernel moves it */
		e4_put_be32(b, B, E4_JSB_ERRNO, 0);
		if (has_csum(j))
			e4_put_be32(b, B, E4_JSB_CHECKSUM, jbd2_sb_csum(b));
		err = e4_dev_pwrite(fs->dev, b, B, phys << fs->log_block_size);
	}
	if (!err)
		err = e4_dev_flush(fs->dev);
	free(b);
	if (err)
		e4_log(fs, E4_LOG_ERROR,
		       "journal: recovery onto the image failed (%d) after %zu of %zu blocks; the journal still holds them",
		       err, written, j->nreplayed);
	else
		e4_log(fs, E4_LOG_INFO,
		       "journal: recovered onto the image, %zu blocks", written);
	return err;
}

/* ---- the verifier rows of journal blocks ------------------------------- */

/*
 * For the journal's writer (the log is read raw by the replay above, which
 * uses the same checksum functions).  Owner: .gen is the journal's seed
 * (j_seed), .span its incompat features (which say whether blocks carry
 * checksums), .pos the block's place in the log.
 */
static bool owner_has_csum(const struct e4_owner *o)
{
	return o->span & (E4_JF_INCOMPAT_CSUM_V2 | E4_JF_INCOMPAT_CSUM_V3);
}

static struct e4_object jblock_object(const struct e4_owner *o)
{
	return e4_obj_journal_block((uint32_t)o->pos, 0);
}

static int jbd2_check_header(struct e4_fs *fs, const struct e4_buf *buf,
			     struct e4_object obj, uint32_t t1, uint32_t t2)
{
	size_t B = buf->size;
	uint32_t type = e4_be32(buf->data, B, E4_JH_BLOCKTYPE);

	if (e4_be32(buf->data, B, E4_JH_MAGIC) != E4_JBD2_MAGIC ||
	    (type != t1 && type != t2))
		return e4_corrupt(fs, E4_RULE_J1, obj,
				  "bad magic 0x%08x or block type %u",
				  e4_be32(buf->data, B, E4_JH_MAGIC), type);
	return 0;
}

static int jsb_verify_write(struct e4_fs *fs, const struct e4_buf *buf,
			    const struct e4_owner *o)
{
	size_t B = buf->size;
	int err = jbd2_check_header(fs, buf, jsb_object(), E4_JT_SB_V1,
				    E4_JT_SB_V2);

	(void)o;

	if (!err && (e4_be32(buf->data, B, E4_JSB_BLOCKSIZE) != B ||
		     e4_be32(buf->data, B, E4_JSB_FIRST) < 1 ||
		     e4_be32(buf->data, B, E4_JSB_FIRST) >=
			     e4_be32(buf->data, B, E4_JSB_MAXLEN)))
		err = e4_corrupt(fs, E4_RULE_J1, jsb_object(),
				 "block size, first or maxlen invalid");
	return err;
}

/* Where a journal block keeps its checksum, and what it should hold. */
struct jbd2_csum_slot {
	size_t off;
	uint32_t computed;
};
typedef struct jbd2_csum_slot (*jbd2_slot_fn)(const struct e4_owner *o,
					      const struct e4_buf *buf);

static struct jbd2_csum_slot jsb_slot(const struct e4_owner *o,
				      const struct e4_buf *buf)
{
	(void)o;
	return (struct jbd2_csum_slot){ E4_JSB_CHECKSUM, jbd2_sb_csum(buf->data) };
}

static struct jbd2_csum_slot jtail_slot(const struct e4_owner *o,
					const struct e4_buf *buf)
{
	return (struct jbd2_csum_slot){
		buf->size - E4_JTAIL_SIZE,
		jbd2_tail_csum(o->gen, buf->data, buf->size) };
}

static struct jbd2_csum_slot jcommit_slot(const struct e4_owner *o,
					  const struct e4_buf *buf)
{
	return (struct jbd2_csum_slot){
		E4_JCOMMIT_CHKSUM, jbd2_commit_csum(o->gen, buf->data, buf->size) };
}

static int jbd2_csum_verify(struct e4_fs *fs, const struct e4_buf *buf,
			    const struct e4_owner *o, struct e4_object obj,
			    jbd2_slot_fn slot_of)
{
	if (!owner_has_csum(o))
		return 0;
	struct jbd2_csum_slot slot = slot_of(o, buf);
	uint32_t want = e4_be32(buf->data, buf->size, slot.off);

	return want == slot.computed ? 0 :
		e4_csum_mismatch(fs, E4_RULE_CS1, obj, want, slot.computed);
}

static void jbd2_csum_store(struct e4_buf *buf, const struct e4_owner *o,
			    jbd2_slot_fn slot_of)
{
	if (!owner_has_csum(o))
		return;
	struct jbd2_csum_slot slot = slot_of(o, buf);

	e4_put_be32(buf->data, buf->size, slot.off, slot.computed);
}

static int jsb_verify_read(struct e4_fs *fs, const struct e4_buf *buf,
			   const struct e4_owner *o)
{
	int err = jbd2_csum_verify(fs, buf, o, jsb_object(), jsb_slot);

	return err ? err : jsb_verify_write(fs, buf, o);
}

static void jsb_csum_set(struct e4_fs *fs, struct e4_buf *buf,
			 const struct e4_owner *o)
{
	(void)fs;
	jbd2_csum_store(buf, o, jsb_slot);
}

const struct e4_buf_ops e4_bops_jbd2_sb = {
	.name = "journal superblock", .kind = E4_BUF_JOURNAL,
	.verify_read = jsb_verify_read, .verify_write = jsb_verify_write,
	.csum_set = jsb_csum_set,
};

/* Descriptor and revoke blocks: the header, then what the tail covers. */
static int jtail_verify_write(struct e4_fs *fs, const struct e4_buf *buf,
			      const struct e4_owner *o)
{
	return jbd2_check_header(fs, buf, jblock_object(o), E4_JT_DESCRIPTOR,
				 E4_JT_REVOKE);
}

static int jtail_verify_read(struct e4_fs *fs, const struct e4_buf *buf,
			     const struct e4_owner *o)
{
	int err = jbd2_csum_verify(fs, buf, o,
				   jblock_object(o),
				   jtail_slot);

	return err ? err : jtail_verify_write(fs, buf, o);
}

static void jtail_csum_set(struct e4_fs *fs, struct e4_buf *buf,
			   const struct e4_owner *o)
{
	(void)fs;
	jbd2_csum_store(buf, o, jtail_slot);
}

const struct e4_buf_ops e4_bops_jbd2_tail = {
	.name = "journal descriptor or revoke block", .kind = E4_BUF_JOURNAL,
	.verify_read = jtail_verify_read, .verify_write = jtail_verify_write,
	.csum_set = jtail_csum_set,
};

static int jcommit_verify_write(struct e4_fs *fs, const struct e4_buf *buf,
				const struct e4_owner *o)
{
	return jbd2_check_header(fs, buf, jblock_object(o), E4_JT_COMMIT,
				 E4_JT_COMMIT);
}

static int jcommit_verify_read(struct e4_fs *fs, const struct e4_buf *buf,
			       const struct e4_owner *o)
{
	int err = jbd2_csum_verify(fs, buf, o,
				   jblock_object(o),
				   jcommit_slot);

	return err ? err : jcommit_verify_write(fs, buf, o);
}

static void jcommit_csum_set(struct e4_fs *fs, struct e4_buf *buf,
			     const struct e4_owner *o)
{
	(void)fs;
	jbd2_csum_store(buf, o, jcommit_slot);
}

const struct e4_buf_ops e4_bops_jbd2_commit = {
	.name = "journal commit block", .kind = E4_BUF_JOURNAL,
	.verify_read = jcommit_verify_read, .verify_write = jcommit_verify_write,
	.csum_set = jcommit_csum_set,
};

/* SPDX-License-Identifier: MIT */
/*
 * fuse-iomap's server side (iomap.h): negotiation, IOMAP_CONFIG, the
 * per-file attribute flags, IOMAP_BEGIN for reads, seeks, fiemap and
 * writes (holes allocated as unwritten blocks), IOMAP_END giving back
 * what a short write did not use, IOMAP_IOEND marking written data
 * written and persisting the size, and the kernel's mapping cache kept up
 * to date by notifications.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e4/datazone.h"
#include "e4/format.h"
#include "e4/write.h"
#include "fuse/iomap.h"
#include "fuse/ops.h"
#include "fuse/proto.h"

/* ---- negotiation ------------------------------------------------------------ */

bool e4f_iomap_negotiate(struct e4f_session *s, uint64_t offered)
{
	struct e4f_iomap *st;
	struct e4_fs_info info;
	long page = sysconf(_SC_PAGESIZE);
	int err;

	/* (no line when the kernel does not offer it: most kernels) */
	if (!(offered & E4F_INIT_IOMAP) || !s->fs)
		return false;
	if (!s->iomap_backing || !s->iomap_backing->open) {
		e4f_log(E4_LOG_INFO, "iomap: offered, not used: no block "
			"device to give the kernel");
		return false;
	}
	if (e4_fs_replayed_blocks(s->fs)) {
		/* the kernel would read the device's copies of blocks the
		 * replay holds newer ones of, and which are whose data
		 * cannot be told cheaply */
		e4f_log(E4_LOG_INFO, "iomap: not used while the journal "
			"replay holds %zu blocks in memory",
			e4_fs_replayed_blocks(s->fs));
		return false;
	}
	if (page > 0 && s->block_size > (unsigned long)page) {
		e4f_log(E4_LOG_INFO, "iomap: offered, not used: blocks of "
			"%u bytes are larger than a page", s->block_size);
		return false;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return false;
	err = e4_datazone_open(s->fs, &st->zone);
	if (err < 0) {
		e4f_log(E4_LOG_WARN, "iomap: not used: the metadata's place "
			"is unknown: %s", strerror(-err));
		free(st);
		return false;
	}
	e4_fs_get_info(s->fs, &info);
	st->extents_fs = info.feature_incompat & E4_INCOMPAT_EXTENTS;
	s->iomap = st;
	e4f_log(E4_LOG_INFO, "iomap: on: the kernel reads and writes file "
		"data on the device itself, e4fuse maps it");
	return true;
}

void e4f_iomap_destroy(struct e4f_session *s)
{
	if (!s->iomap)
		return;
	e4_datazone_close(s->iomap->zone);
	free(s->iomap);
	s->iomap = NULL;
}

/* ---- IOMAP_CONFIG ------------------------------------------------------------- */

/* ext4's link limit (dir_nlink: a directory's count past it reads 1) */
#define E4F_EXT4_LINK_MAX 65000u
/* timestamps with the extra epoch bits: seconds up to 2446 */
#define E4F_EXT4_TIME_MAX_EXTRA 0x37fffffffll

void e4f_op_iomap_config(struct e4f_req *r)
{
	struct e4f_session *s = r->s;
	struct e4f_iomap_config_in in;
	struct e4f_iomap_config_out out;
	struct e4_fs_info info;
	int id;

	if (!s->iomap)
		return e4f_reply_err(r, -ENOSYS);
	e4f_arg_get(r, &in, sizeof(in));
	e4_fs_get_info(s->fs, &info);
	memset(&out, 0, sizeof(out));

	/* the device first: without it no file is served through iomap,
	 * and the mount goes on with the classic path (an error here would
	 * fail the whole connection) */
	id = s->iomap_backing->open(s->iomap_backing->ctx, s);
	if (id > 0) {
		atomic_store(&s->iomap->dev_id, (uint32_t)id);
	} else {
		e4f_log(E4_LOG_WARN, "iomap: the device cannot be registered "
			"(%s): every file is read through READ",
			strerror(id < 0 ? -id : EINVAL));
	}

	out.flags = E4F_IOMAP_CONFIG_ALL & in.flags;
	snprintf(out.s_id, sizeof(out.s_id), "e4fuse%s%s",
		 info.volume_name[0] ? ":" : "", info.volume_name);
	memcpy(out.s_uuid, info.uuid, sizeof(out.s_uuid));
	out.s_uuid_len = sizeof(out.s_uuid);
	out.s_blocksize = s->block_size;
	out.s_max_links = E4F_EXT4_LINK_MAX;
	/* inodes larger than the old 128 bytes have nanoseconds and the
	 * epoch bits */
	if (info.inode_size > E4_GOOD_OLD_INODE_SIZE) {
		out.s_time_gran = 1;
		out.s_time_max = E4F_EXT4_TIME_MAX_EXTRA;
	} else {
		out.s_time_gran = 1000000000u;
		out.s_time_max = INT32_MAX;
	}
	out.s_time_min = INT32_MIN;
	out.s_maxbytes = (int64_t)(info.max_file_size < INT64_MAX ?
				   info.max_file_size : INT64_MAX);
	/* the kernel's default per cache half: 8192 extents */
	s->iomap->cache_maxbytes = in.cache_maxbytes ? in.cache_maxbytes :
				   262144u;
	out.cache_maxbytes = s->iomap->cache_maxbytes;
	e4f_reply_buf(r, &out, sizeof(out));
}

/* ---- which files ------------------------------------------------------------- */

uint32_t e4f_iomap_attr_flags(const struct e4f_session *s,
			      const struct e4_inode *in)
{
	uint32_t flags = E4F_ATTR_EXCLUSIVE | E4F_ATTR_IOMAP;

	if (!s->iomap || !atomic_load(&s->iomap->dev_id) ||
	    !e4_inode_is_reg(in))
		return 0;
	/* ciphertext on disk; verity checks each page it reads; data that
	 * goes through the journal may be newer there than at home */
	if (e4_inode_is_encrypted(s->fs, in) ||
	    (in->flags & (E4_VERITY_FL | E4_JOURNAL_DATA_FL)))
		return 0;
	/* written through iomap: holes become unwritten extents, which
	 * block maps cannot hold (an inline file converts to extents on
	 * a file system that has them) */
	if (e4_fs_writable(s->fs) && !(in->flags & E4_EXTENTS_FL) &&
	    !((in->flags & E4_INLINE_DATA_FL) &&
	      s->iomap->extents_fs))
		return 0;
	/* the kernel enforces these itself for exclusive inodes (§7): no
	 * write of an iomap file passes through e4fuse's checks */
	if (in->flags & E4_SYNC_FL)
		flags |= E4F_ATTR_SYNC;
	if (in->flags & E4_IMMUTABLE_FL)
		flags |= E4F_ATTR_IMMUTABLE;
	if (in->flags & E4_APPEND_FL)
		flags |= E4F_ATTR_APPEND;
	return flags;
}

/* ---- mappings ------------------------------------------------------------------- */

static uint64_t round_up(uint64_t v, uint64_t b)
{
	return v > UINT64_MAX - (b - 1) ? UINT64_MAX - (UINT64_MAX % b) :
	       (v + b - 1) / b * b;
}

static void set_null(struct e4f_iomap_io *io, uint16_t type)
{
	io->type = type;
	io->dev = E4F_IOMAP_DEV_NULL;
	io->addr = E4F_IOMAP_NULL_ADDR;
	io->flags = 0;
}

/*
 * @rg (from e4_map_range, starting at a block) as the kernel's record:
 * block aligned, data runs checked against the metadata before their
 * address leaves e4fuse.
 */
static int range_to_io(struct e4f_session *s, uint32_t ino,
		       struct e4_range *rg, struct e4f_iomap_io *io)
{
	uint64_t b = s->block_size;
	int err;

	memset(io, 0, sizeof(*io));
	io->offset = rg->offset;
	io->length = round_up(rg->length, b);
	switch (rg->kind) {
	case E4_MAP_HOLE:
		set_null(io, E4F_IOMAP_TYPE_HOLE);
		return 0;
	case E4_MAP_INLINE:
		/* the data is in the inode, at most a block (§10.9): the
		 * kernel reads it with READ, fh 0 */
		set_null(io, E4F_IOMAP_TYPE_INLINE);
		io->length = b;
		return 0;
	case E4_MAP_MAPPED:
	case E4_MAP_UNWRITTEN:
		err = e4_datazone_check(s->iomap->zone, ino, rg);
		if (err < 0)
			return err;
		io->type = rg->kind == E4_MAP_MAPPED ? E4F_IOMAP_TYPE_MAPPED :
			   E4F_IOMAP_TYPE_UNWRITTEN;
		io->dev = atomic_load(&s->iomap->dev_id);
		io->addr = rg->dev_offset;
		return 0;
	}
	return -EIO;
}

/* The end of [pos, pos + count), saturated. */
static uint64_t op_end(uint64_t pos, uint64_t count)
{
	return count > UINT64_MAX - pos ? UINT64_MAX : pos + count;
}

/*
 * The mapping that holds byte @pos of @in: one extent, as long as it goes
 * (to the end of the block holding EOF), block aligned.  Past EOF a hole
 * over the rest of the request.
 */
static int iomap_map(struct e4f_session *s, uint32_t ino,
		     const struct e4_inode *in, uint64_t pos, uint64_t count,
		     struct e4f_iomap_io *io)
{
	uint64_t b = s->block_size;
	uint64_t start = pos / b * b;
	uint64_t eof = round_up(in->size, b);
	struct e4_range rg;
	int err;

	if (start >= eof) {
		uint64_t end = round_up(op_end(pos, count), b);

		memset(io, 0, sizeof(*io));
		io->offset = start;
		io->length = end > start ? end - start : b;
		set_null(io, E4F_IOMAP_TYPE_HOLE);
		return 0;
	}
	err = e4_map_range(s->fs, in, start, eof - start, &rg);
	if (err < 0)
		return err;
	return range_to_io(s, ino, &rg, io);
}

/* Tell the kernel's mapping cache (read half; the write half stays
 * absent: writes are pure overwrites of it).  Failure costs only a later
 * BEGIN. */
static void upsert(struct e4f_session *s, uint64_t nodeid, uint32_t ino,
		   const struct e4f_iomap_io *io)
{
	struct e4f_iomap_upsert_mappings_out u = {
		.nodeid = nodeid, .attr_ino = ino, .read = *io,
	};

	set_null(&u.write, E4F_IOMAP_TYPE_NOCACHE);
	if (e4f_notify_buf(s, E4F_NOTIFY_IOMAP_UPSERT_MAPPINGS, &u,
			   sizeof(u)) == 0)
		atomic_fetch_add(&s->iomap->upserts, 1);
}

/* The in-core inode of the request's node and its number; -EOPNOTSUPP
 * for a file the kernel was not told to use iomap for. */
static int iomap_node(struct e4f_req *r, uint64_t attr_ino, uint32_t *ino,
		      struct e4_ino **ip, struct e4_inode *out)
{
	struct e4_inode snap;
	int err = e4f_nodeid_to_ino(r->h.nodeid, ino);

	if (err < 0)
		return err;
	if (attr_ino != *ino)
		return -EINVAL;
	if (!e4f_nodes_ino(&r->s->nodes, r->h.nodeid, ip)) {
		err = e4_iget_named(r->s->fs, 0, NULL, *ino, ip);
		if (err == -EINVAL || err == -ENOENT)
			return -ESTALE;
		if (err < 0)
			return err;
	}
	e4_ino_snapshot(*ip, &snap);
	if (!(e4f_iomap_attr_flags(r->s, &snap) & E4F_ATTR_IOMAP)) {
		e4_iput(r->s->fs, *ip);
		return -EOPNOTSUPP;	/* it was not offered */
	}
	if (out)
		*out = snap;
	return 0;
}

/*
 * BEGIN for a file write (§10.2-10.4, 10.6, 10.8): written blocks are
 * overwritten in place (MAPPED, nothing to do at IOEND unless the size
 * grows), unwritten ones too (IOEND converts them); a hole is allocated
 * as unwritten blocks (F_NEW: the kernel zeroes what it does not write),
 * except for zeroing and unsharing, which a hole needs none of; an inline
 * file's first block goes through READ and WRITE (§10.9: INLINE both
 * halves).
 */
static int begin_write(struct e4f_req *r, const struct e4f_iomap_begin_in *in,
		       struct e4f_iomap_begin_out *out)
{
	struct e4f_session *s = r->s;
	uint64_t b = s->block_size, end = round_up(op_end(in->pos, in->count),
						    b);
	unsigned flags = 0;
	struct e4_inode before;
	struct e4_range rg;
	struct e4_ino *ip;
	uint32_t ino;
	bool fresh;
	int err = iomap_node(r, in->attr_ino, &ino, &ip, &before);

	if (err < 0)
		return err;
	/* (unsharing needs nothing: ext4 shares no blocks) */
	if (in->opflags & (E4F_IOMAP_OP_WRITE | E4F_IOMAP_OP_WRITEBACK))
		flags |= E4_MAPW_ALLOCATE;
	/* the kernel's own I/O cannot reach inline data */
	if (!(in->opflags & (E4F_IOMAP_OP_WRITEBACK | E4F_IOMAP_OP_DIRECT)))
		flags |= E4_MAPW_KEEP_INLINE;
	err = e4_map_for_write(s->fs, ip, in->pos, end, flags, &rg, &fresh);
	/* an inline file converted (even if the allocation then failed):
	 * what the kernel holds of it (an INLINE record, maybe far from
	 * @pos) is gone */
	if (before.flags & E4_INLINE_DATA_FL) {
		struct e4_inode after;

		e4_ino_snapshot(ip, &after);
		if (!(after.flags & E4_INLINE_DATA_FL))
			e4f_iomap_inval(s, &after, 0, E4F_IOMAP_INVAL_TO_EOF);
	}
	e4_iput(s->fs, ip);
	if (err < 0)
		return err;
	err = range_to_io(s, ino, &rg, &out->read);
	if (err < 0)
		return err;
	if (fresh) {
		out->read.flags |= E4F_IOMAP_F_NEW;
		atomic_fetch_add(&s->iomap->allocs, 1);
	}
	out->write = out->read;
	/* in place, except inline data, written back with WRITE: its
	 * old bytes must be read first (§10.9) */
	if (out->read.type != E4F_IOMAP_TYPE_INLINE)
		set_null(&out->write, E4F_IOMAP_TYPE_PURE_OVERWRITE);
	return 0;
}

void e4f_op_iomap_begin(struct e4f_req *r)
{
	struct e4f_session *s = r->s;
	struct e4f_iomap_begin_in in;
	struct e4f_iomap_begin_out out;
	struct e4_inode inode;
	struct e4_ino *ip;
	uint32_t ino;
	int err;

	if (!s->iomap)
		return e4f_reply_err(r, -ENOSYS);
	e4f_arg_get(r, &in, sizeof(in));
	atomic_fetch_add(&s->iomap->begins, 1);
	err = e4f_nodeid_to_ino(r->h.nodeid, &ino);
	if (err < 0)
		return e4f_reply_err(r, err);
	if (in.opflags & E4F_IOMAP_OP_FILE_WRITE) {
		err = begin_write(r, &in, &out);
		if (err < 0)
			return e4f_reply_err(r, err);
		goto reply;
	}
	if (in.attr_ino != ino)
		return e4f_reply_err(r, -EINVAL);
	err = e4f_node_read_begin(r, r->h.nodeid, &ip, &inode);
	if (err < 0)
		return e4f_reply_err(r, err);
	if (!(e4f_iomap_attr_flags(s, &inode) & E4F_ATTR_IOMAP))
		err = -EOPNOTSUPP;	/* it was not offered */
	else
		err = iomap_map(s, ino, &inode, in.pos, in.count, &out.read);
	e4f_node_read_end(r, ip);
	if (err < 0)
		return e4f_reply_err(r, err);
	/* reads and reports use the read half only, but the write half
	 * must be valid and hold pos too: in place, over the same range */
	out.write = out.read;
	set_null(&out.write, E4F_IOMAP_TYPE_PURE_OVERWRITE);
reply:
	/* before the reply: the next BEGIN for this range never comes
	 * (swapfile and atomic operations bypass the cache) */
	if (!(in.opflags & (E4F_IOMAP_OP_SWAPFILE | E4F_IOMAP_OP_ATOMIC)))
		upsert(s, r->h.nodeid, ino, &out.read);
	e4f_reply_buf(r, &out, sizeof(out));
}

/* ---- END, IOEND ------------------------------------------------------------------ */

/*
 * A mapping was used (§9.1): for a short write into blocks this BEGIN
 * allocated (F_NEW, still unwritten), the whole blocks past what was
 * written are freed again, and dropped from the kernel's cache.  A size
 * change needs nothing here: the size is persisted at IOEND, once the
 * data is on the device.
 */
void e4f_op_iomap_end(struct e4f_req *r)
{
	struct e4f_session *s = r->s;
	struct e4f_iomap_end_in in;
	uint64_t from, to;
	struct e4_ino *ip;
	uint32_t ino;
	int err;

	if (!s->iomap)
		return e4f_reply_err(r, -ENOSYS);
	e4f_arg_get(r, &in, sizeof(in));
	if (!(in.opflags & E4F_IOMAP_OP_FILE_WRITE) || in.written < 0 ||
	    (uint64_t)in.written >= in.count ||
	    in.map.type != E4F_IOMAP_TYPE_UNWRITTEN ||
	    !(in.map.flags & E4F_IOMAP_F_NEW) ||
	    in.map.offset + in.map.length < in.map.offset)
		return e4f_reply_err(r, 0);
	from = op_end(in.pos, (uint64_t)in.written);
	to = op_end(in.pos, in.count);
	if (from < in.map.offset)
		from = in.map.offset;
	if (to > in.map.offset + in.map.length)
		to = in.map.offset + in.map.length;
	if (from >= to)
		return e4f_reply_err(r, 0);
	err = iomap_node(r, in.attr_ino, &ino, &ip, NULL);
	if (err < 0)
		return e4f_reply_err(r, err);
	e4f_iomap_inval_ino(s, ip, from, to - from);
	err = e4_unwritten_release(s->fs, ip, from, to - from);
	if (err == 0)
		atomic_fetch_add(&s->iomap->releases, 1);
	e4_iput(s->fs, ip);
	e4f_reply_err(r, err);
}

/*
 * Data reached the device (§9.2): the unwritten blocks it covers become
 * written and a write past the on-disk size moves it, in one handle; the
 * reply is the size on disk after.  A failed I/O changes nothing (its
 * blocks stay unwritten: they read as zeros).
 */
void e4f_op_iomap_ioend(struct e4f_req *r)
{
	struct e4f_session *s = r->s;
	struct e4f_iomap_ioend_in in;
	struct e4f_iomap_ioend_out out = { 0 };
	uint64_t conv = 0, size = 0;
	struct e4_ino *ip;
	uint32_t ino;
	int err;

	if (!s->iomap)
		return e4f_reply_err(r, -ENOSYS);
	e4f_arg_get(r, &in, sizeof(in));
	if (in.written > UINT64_MAX - in.pos)
		return e4f_reply_err(r, -EINVAL);
	err = iomap_node(r, in.attr_ino, &ino, &ip, NULL);
	if (err < 0)
		return e4f_reply_err(r, err);
	if (in.error == 0 && in.written) {
		if (in.flags & E4F_IOMAP_IOEND_UNWRITTEN)
			conv = in.written;
		if (in.flags & E4F_IOMAP_IOEND_APPEND)
			size = in.pos + in.written;
	}
	if (conv || size) {
		err = e4_unwritten_convert(s->fs, ip, in.pos, conv, size,
					   &out.newsize);
		if (err == 0)
			atomic_fetch_add(&s->iomap->conversions, 1);
	} else {
		struct e4_inode snap;

		e4_ino_snapshot(ip, &snap);
		out.newsize = snap.size;
	}
	e4_iput(s->fs, ip);
	if (err < 0)
		return e4f_reply_err(r, err);
	e4f_reply_buf(r, &out, sizeof(out));
}

/* ---- invalidation --------------------------------------------------------------- */

void e4f_iomap_inval(struct e4f_session *s, const struct e4_inode *in,
		     uint64_t off, uint64_t len)
{
	uint64_t b = s->block_size, start = off / b * b, end;
	struct e4f_iomap_inval_mappings_out v;

	if (!(e4f_iomap_attr_flags(s, in) & E4F_ATTR_IOMAP))
		return;
	memset(&v, 0, sizeof(v));
	v.nodeid = e4f_ino_to_nodeid(in->ino);
	v.attr_ino = in->ino;
	v.read.offset = start;
	if (len == E4F_IOMAP_INVAL_TO_EOF || len > UINT64_MAX - off) {
		v.read.length = E4F_IOMAP_INVAL_TO_EOF;
	} else {
		end = round_up(off + len, b);
		if (end <= start)	/* nothing, or rounded past 2^64 */
			v.read.length = E4F_IOMAP_INVAL_TO_EOF;
		else
			v.read.length = end - start;
	}
	v.write = v.read;
	/* -ENOENT/-ESTALE: the kernel holds no such inode, nothing cached */
	if (e4f_notify_buf(s, E4F_NOTIFY_IOMAP_INVAL_MAPPINGS, &v,
			   sizeof(v)) == 0)
		atomic_fetch_add(&s->iomap->invals, 1);
}

void e4f_iomap_inval_ino(struct e4f_session *s, struct e4_ino *ip,
			 uint64_t off, uint64_t len)
{
	struct e4_inode snap;

	if (!s->iomap)
		return;
	e4_ino_snapshot(ip, &snap);
	e4f_iomap_inval(s, &snap, off, len);
}

/* SPDX-License-Identifier: MIT */
/*
 * fuse-iomap's server side (iomap.h): negotiation, IOMAP_CONFIG, the
 * per-file attribute flags, IOMAP_BEGIN for reads, seeks and fiemap, and
 * the kernel's mapping cache kept up to date by notifications.
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
	long page = sysconf(_SC_PAGESIZE);
	int err;

	if (!(offered & E4F_INIT_IOMAP) || !s->iomap_backing ||
	    !s->iomap_backing->open || !s->fs)
		return false;
	if (e4_fs_writable(s->fs)) {
		e4f_log(E4_LOG_INFO, "iomap: offered, not used on a writable "
			"mount (reads only for now)");
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
	if (page > 0 && s->block_size > (unsigned long)page)
		return false;
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
	s->iomap = st;
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
	if (!s->iomap || !atomic_load(&s->iomap->dev_id) ||
	    !e4_inode_is_reg(in))
		return 0;
	/* ciphertext on disk; verity checks each page it reads; data that
	 * goes through the journal may be newer there than at home */
	if (e4_inode_is_encrypted(s->fs, in) ||
	    (in->flags & (E4_VERITY_FL | E4_JOURNAL_DATA_FL)))
		return 0;
	return E4F_ATTR_EXCLUSIVE | E4F_ATTR_IOMAP;
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
 * The mapping that holds byte @pos of @in: one extent, as long as it goes
 * (to the end of the block holding EOF), block aligned.  Past EOF a hole
 * over the rest of the request.  Data runs are checked against the
 * metadata before their address leaves e4fuse.
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

	memset(io, 0, sizeof(*io));
	io->offset = start;
	if (start >= eof) {
		uint64_t end = count > UINT64_MAX - pos ? UINT64_MAX :
			       pos + count;

		end = round_up(end, b);
		io->length = end > start ? end - start : b;
		set_null(io, E4F_IOMAP_TYPE_HOLE);
		return 0;
	}
	err = e4_map_range(s->fs, in, start, eof - start, &rg);
	if (err < 0)
		return err;
	io->length = round_up(rg.length, b);
	switch (rg.kind) {
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
		err = e4_datazone_check(s->iomap->zone, ino, &rg);
		if (err < 0)
			return err;
		io->type = rg.kind == E4_MAP_MAPPED ? E4F_IOMAP_TYPE_MAPPED :
			   E4F_IOMAP_TYPE_UNWRITTEN;
		io->dev = atomic_load(&s->iomap->dev_id);
		io->addr = rg.dev_offset;
		return 0;
	}
	return -EIO;
}

/* Tell the kernel's mapping cache (read half; the write half stays
 * absent: writes would be pure overwrites).  Failure costs only a later
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
	/* the write half (BEGIN for writes, END, IOEND) comes later:
	 * iomap is negotiated on read-only mounts only */
	if (in.opflags & E4F_IOMAP_OP_FILE_WRITE)
		return e4f_reply_err(r, -EROFS);
	err = e4f_nodeid_to_ino(r->h.nodeid, &ino);
	if (err < 0)
		return e4f_reply_err(r, err);
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
	/* before the reply: the next BEGIN for this range never comes
	 * (swapfile and atomic operations bypass the cache) */
	if (!(in.opflags & (E4F_IOMAP_OP_SWAPFILE | E4F_IOMAP_OP_ATOMIC)))
		upsert(s, r->h.nodeid, ino, &out.read);
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

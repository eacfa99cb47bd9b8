/* SPDX-License-Identifier: MIT */
/* The kernel's checks of a fuse-iomap server's answers: see iomap_rules.h. */
#include <errno.h>

#include "iomap_rules.h"

/* the page size of the kernels the spec describes (x86_64) */
#define IOMAP_RULES_PAGE 4096u

static bool is_space(uint16_t type)
{
	return type == E4F_IOMAP_TYPE_MAPPED ||
	       type == E4F_IOMAP_TYPE_UNWRITTEN;
}

static bool known_type(uint16_t t)
{
	return t <= E4F_IOMAP_TYPE_INLINE || t == E4F_IOMAP_TYPE_NOCACHE ||
	       t == E4F_IOMAP_TYPE_RETRY_CACHE ||
	       t == E4F_IOMAP_TYPE_PURE_OVERWRITE;
}

int iomap_rules_half(const struct iomap_rules *k,
		     const struct e4f_iomap_io *io, bool write_half)
{
	if (!known_type(io->type))
		return -EUCLEAN;				/* 1 */
	if (io->type == E4F_IOMAP_TYPE_RETRY_CACHE)
		return k->has_cache ? 0 : -EUCLEAN;		/* 2 */
	if (io->type == E4F_IOMAP_TYPE_NOCACHE)
		return 0;
	if (io->flags & ~E4F_IOMAP_F_SERVER_MASK)
		return -EUCLEAN;				/* 3 */
	if (io->length == 0)
		return -EUCLEAN;				/* 4 */
	if (io->offset % k->blksize || io->length % k->blksize)
		return -EUCLEAN;				/* 5 */
	if (io->offset + io->length < io->offset)
		return -EUCLEAN;				/* 6 */
	if (io->offset >= k->maxbytes)
		return -EUCLEAN;				/* 7 */
	switch (io->type) {					/* 8 */
	case E4F_IOMAP_TYPE_HOLE:
	case E4F_IOMAP_TYPE_DELALLOC:
	case E4F_IOMAP_TYPE_INLINE:
		if (io->dev != E4F_IOMAP_DEV_NULL ||
		    io->addr != E4F_IOMAP_NULL_ADDR)
			return -EUCLEAN;
		break;
	case E4F_IOMAP_TYPE_MAPPED:
	case E4F_IOMAP_TYPE_UNWRITTEN:
		if (io->dev == E4F_IOMAP_DEV_NULL ||
		    io->addr == E4F_IOMAP_NULL_ADDR)
			return -EUCLEAN;
		break;
	case E4F_IOMAP_TYPE_PURE_OVERWRITE:
		if (!write_half)
			return -EUCLEAN;
		break;
	}
	if (io->addr != E4F_IOMAP_NULL_ADDR &&
	    io->addr + io->length < io->addr)
		return -EUCLEAN;				/* 9 */
	return 0;
}

static bool contains(const struct e4f_iomap_io *io, uint64_t pos)
{
	return io->offset <= pos && pos - io->offset < io->length;
}

int iomap_rules_begin(const struct iomap_rules *k, uint32_t opflags,
		      uint64_t pos, const struct e4f_iomap_begin_out *out)
{
	const struct e4f_iomap_io *rd = &out->read, *wr = &out->write;

	if (iomap_rules_half(k, rd, false) || iomap_rules_half(k, wr, true))
		return -EUCLEAN;
	if (rd->type == E4F_IOMAP_TYPE_NOCACHE ||
	    wr->type == E4F_IOMAP_TYPE_NOCACHE)
		return -EUCLEAN;				/* 10 */
	if (!contains(rd, pos) || !contains(wr, pos))
		return -EUCLEAN;				/* 11 */
	if (is_space(rd->type) && rd->dev != k->dev_id)
		return -EUCLEAN;				/* 12 */
	if ((opflags & E4F_IOMAP_OP_FILE_WRITE) && is_space(wr->type) &&
	    wr->dev != k->dev_id)
		return -EUCLEAN;
	/* the iomap core's inline rules (§10.9): one page at most, the
	 * file's tail */
	if (rd->type == E4F_IOMAP_TYPE_INLINE &&
	    (rd->length > IOMAP_RULES_PAGE ||
	     rd->offset + rd->length < k->size))
		return -EUCLEAN;
	return 0;
}

int iomap_rules_upsert_half(const struct iomap_rules *k,
			    const struct e4f_iomap_io *io, bool write_half)
{
	int err;

	if (io->type == E4F_IOMAP_TYPE_NOCACHE)
		return 0;
	if (io->type == E4F_IOMAP_TYPE_RETRY_CACHE)
		return -EUCLEAN;
	err = iomap_rules_half(k, io, write_half);
	if (err)
		return err;
	if (is_space(io->type) &&
	    (io->dev != k->dev_id || io->addr + io->length > k->dev_size))
		return -EUCLEAN;
	return 0;
}

int iomap_rules_inval_half(const struct iomap_rules *k,
			   const struct e4f_fuse_range *r)
{
	if (r->length == 0 || r->length == E4F_IOMAP_INVAL_TO_EOF)
		return 0;
	if (r->offset >= k->maxbytes || r->offset % k->blksize ||
	    r->length % k->blksize || r->offset + r->length < r->offset)
		return -EUCLEAN;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* The one way to change a file's mapping, whichever kind it has (see
 * mapping.h): extent trees and block maps behind two calls. */
#include <errno.h>

#include "fs/mapping.h"

int e4_map_insert(struct e4_map_change *c, uint64_t lblk, uint64_t count,
		  uint64_t pblk)
{
	int err = 0;

	if (c->inode->flags & E4_EXTENTS_FL) {
		while (!err && count) {
			uint32_t n = count > E4_EXT_INIT_MAX_LEN ?
				E4_EXT_INIT_MAX_LEN : (uint32_t)count;

			err = e4_ext_insert(c, &(struct e4_extent){
				(uint32_t)lblk, n, pblk, false });
			lblk += n;
			pblk += n;
			count -= n;
		}
		return err;
	}
	for (uint64_t i = 0; !err && i < count; i++)
		err = e4_bmap_set(c, lblk + i, pblk + i);
	if (err)	/* part of the run is mapped: cannot stand */
		e4_handle_abort(c->h, err);
	return err;
}

int e4_map_remove(struct e4_map_change *c, uint64_t *cursor, uint64_t end)
{
	int err = 0;

	if (c->inode->flags & E4_INLINE_DATA_FL) {
		*cursor = end;	/* its data is in the inode: nothing mapped */
		return 0;
	}
	if (c->inode->flags & E4_EXTENTS_FL)
		return e4_ext_remove(c, cursor, end, true);
	while (!err && *cursor < end) {
		if (c->h->credits < c->h->used + 2u * E4_BMAP_STEP_CREDITS)
			return -EAGAIN;
		err = e4_bmap_unmap_step(c, cursor, end);
	}
	if (err)
		e4_handle_abort(c->h, err);
	return err;
}

/* SPDX-License-Identifier: MIT */
/*
 * What fsync and fdatasync wait for (#11 item 3).
 *
 * File data goes to the device at once; metadata through transactions.
 * fsync of a file makes durable the transactions up to the last one that
 * changed the file (and so everything the kernel's jbd2 would commit with
 * it); fdatasync only those up to the last one that changed what reading
 * the data needs (size, mapping, flags), not a time alone: an overwrite in
 * place followed by fdatasync costs a device flush, not a commit, as with
 * the kernel's ext4.
 *
 * The last such transaction of each inode is kept in a table of fixed
 * size, direct-mapped by inode number: memory does not grow with the files
 * written.  An inode that is not in it (never changed, or pushed out by
 * another) is answered by committing everything, and an inode taking a
 * slot takes the running transaction as its last change, since what it
 * changed before it was pushed out may be no older.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "fs/writer.h"
#include "ondisk/ondisk.h"
#include "tx/trans.h"

#define FSYNC_SLOTS 4096u

struct fsync_slot {
	uint32_t ino;		/* 0: free */
	uint64_t sync_tid;	/* the last transaction changing the inode */
	uint64_t datasync_tid;	/* ... changing what its data needs */
};

struct e4_fsync_table {
	pthread_mutex_t lock;
	struct fsync_slot slot[FSYNC_SLOTS];
};

int e4_fsync_table_create(struct e4_fsync_table **out)
{
	struct e4_fsync_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	*out = t;
	return 0;
}

void e4_fsync_table_destroy(struct e4_fsync_table *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static uint64_t running_tid(struct e4_writer *w)
{
	struct e4_txm_stats st;

	e4_txm_get_stats(w->txm, &st);
	return st.running_tid;
}

void e4_fsync_note(struct e4_writer *w, uint32_t ino, uint64_t tid, bool data)
{
	struct e4_fsync_table *t = w->fsync;
	struct fsync_slot *s;

	if (!t || !ino)
		return;
	if (!tid)
		tid = running_tid(w);
	pthread_mutex_lock(&t->lock);
	s = &t->slot[ino % FSYNC_SLOTS];
	if (s->ino != ino) {
		uint64_t r = running_tid(w);

		s->ino = ino;
		s->sync_tid = s->datasync_tid = r > tid ? r : tid;
	}
	if (tid > s->sync_tid)
		s->sync_tid = tid;
	if (data && tid > s->datasync_tid)
		s->datasync_tid = tid;
	pthread_mutex_unlock(&t->lock);
}

int e4_fs_fsync(struct e4_fs *fs, uint32_t ino, bool datasync)
{
	struct e4_writer *w = e4_writer_get(fs);
	struct e4_fsync_table *t;
	uint64_t tid = 0;
	bool known = false;
	int err;

	if (!w)
		return -EROFS;
	t = w->fsync;
	if (t && ino) {
		const struct fsync_slot *s = &t->slot[ino % FSYNC_SLOTS];

		pthread_mutex_lock(&t->lock);
		known = s->ino == ino;
		tid = datasync ? s->datasync_tid : s->sync_tid;
		pthread_mutex_unlock(&t->lock);
	}
	if (!known)
		return e4_fs_sync(fs);
	err = e4_txm_commit_tid(w->txm, tid);
	if (err < 0)
		return err;
	/* committed: the data was flushed before its commit block */
	return err ? 0 : e4_dev_flush(fs->dev);
}

/* SPDX-License-Identifier: MIT */
/* In-core inodes (see icache.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fs/icache.h"
#include "fs/writer.h"
#include "ondisk/ondisk.h"
#include "util/hmap.h"

struct e4_icache {
	pthread_mutex_t lock;
	struct e4_hmap *map;	/* ino -> struct e4_ino * */
};

int e4_icache_create(struct e4_icache **out)
{
	struct e4_icache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->map = e4_hmap_new(sizeof(struct e4_ino *));
	if (!c->map) {
		free(c);
		return -ENOMEM;
	}
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

static void ino_free(struct e4_ino *ip)
{
	pthread_rwlock_destroy(&ip->lock);
	free(ip);
}

void e4_icache_destroy(struct e4_icache *c)
{
	size_t pos = 0;
	uint64_t ino;
	void *slot;

	if (!c)
		return;
	while (e4_hmap_next(c->map, &pos, &ino, &slot))
		ino_free(*(struct e4_ino **)slot);
	e4_hmap_free(c->map);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

size_t e4_icache_count(struct e4_icache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = e4_hmap_count(c->map);
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* The in-core inode of @ino with one more reference, or NULL. */
static struct e4_ino *find_ref(struct e4_icache *c, uint32_t ino)
{
	struct e4_ino **slot, *ip = NULL;

	pthread_mutex_lock(&c->lock);
	slot = e4_hmap_get(c->map, ino);
	if (slot) {
		ip = *slot;
		ip->refs++;
	}
	pthread_mutex_unlock(&c->lock);
	return ip;
}

/* Enter @ip (refs 1, not shared yet) unless another thread entered the
 * same inode first: *@out is the one in the cache. */
static int enter(struct e4_icache *c, struct e4_ino *ip, struct e4_ino **out)
{
	struct e4_ino **slot;
	bool added;
	int err = 0;

	ip->disksize = ip->inode.size;
	ip->refs = 1;
	pthread_rwlock_init(&ip->lock, NULL);
	pthread_mutex_lock(&c->lock);
	slot = e4_hmap_put(c->map, ip->ino, &added);
	if (!slot) {
		err = -ENOMEM;
	} else if (!added) {		/* another thread read it too */
		(*slot)->refs++;
		*out = *slot;
	} else {
		*slot = ip;
		*out = ip;
		ip = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (ip)
		ino_free(ip);
	return err;
}

/* Read inode @ino and enter it. */
static int load(struct e4_fs *fs, uint32_t ino, struct e4_ino **out)
{
	struct e4_ino *ip = calloc(1, sizeof(*ip));
	int err;

	if (!ip)
		return -ENOMEM;
	err = e4_inode_read(fs, ino, &ip->inode);
	if (err) {
		free(ip);
		return err;
	}
	ip->ino = ino;
	return enter(fs->icache, ip, out);
}

int e4_iget_made(struct e4_fs *fs, const struct e4_inode *in,
		 struct e4_ino **out)
{
	struct e4_ino *ip = calloc(1, sizeof(*ip));

	if (!ip)
		return -ENOMEM;
	ip->inode = *in;
	ip->ino = in->ino;
	return enter(fs->icache, ip, out);
}

int e4_iget(struct e4_fs *fs, uint32_t ino, struct e4_ino **out)
{
	if (ino == 0 || ino > fs->inodes_count)
		return -EINVAL;
	*out = find_ref(fs->icache, ino);
	return *out ? 0 : load(fs, ino, out);
}

int e4_iget_named(struct e4_fs *fs, uint32_t dir, const char *name,
		  uint32_t ino, struct e4_ino **out)
{
	enum e4_rule rule;
	const char *what = e4_name_number_refusal(fs, ino, &rule);
	struct e4_inode snap;
	int err = -EINVAL;

	if (!what) {
		err = e4_iget(fs, ino, out);
		if (!err)
			e4_ino_snapshot(*out, &snap);
		what = e4_name_inode_refusal(err, &snap, &rule);
		if (!what)
			return err;
		if (!err)
			e4_iput(fs, *out);
	}
	return e4_name_refused(fs, dir, name, ino, what, rule, err);
}

struct e4_ino *e4_ino_ref(struct e4_fs *fs, struct e4_ino *ip)
{
	pthread_mutex_lock(&fs->icache->lock);
	ip->refs++;
	pthread_mutex_unlock(&fs->icache->lock);
	return ip;
}

void e4_iput(struct e4_fs *fs, struct e4_ino *ip)
{
	struct e4_icache *c = fs->icache;
	bool gone = false;

	if (!ip)
		return;
	pthread_mutex_lock(&c->lock);
	/* a dirty inode stays until the write path has put it back */
	if (--ip->refs == 0 && !ip->dirty) {
		e4_hmap_remove(c->map, ip->ino);
		gone = true;
	}
	pthread_mutex_unlock(&c->lock);
	if (!gone)
		return;
	/* an unlinked inode's last reference: it goes now (its name went
	 * before, so nobody can look it up again meanwhile) */
	if (ip->inode.links == 0 && fs->writer &&
	    !(ip->inode.flags & E4_EA_INODE_FL)) {
		int err = e4_inode_delete(fs, &ip->inode);

		if (err)
			e4_log(fs, E4_LOG_ERROR,
			       "inode %u: unlinked, but freeing it failed (%d): e2fsck will find it",
			       ip->ino, err);
	}
	ino_free(ip);
}

void e4_ino_snapshot(struct e4_ino *ip, struct e4_inode *out)
{
	/* EDEADLK: this thread holds it for writing (a name found in the
	 * directory being changed); unlocking would drop the writer's lock */
	bool locked = pthread_rwlock_rdlock(&ip->lock) == 0;

	*out = ip->inode;
	if (locked)
		pthread_rwlock_unlock(&ip->lock);
}

void e4_ino_read_begin(struct e4_ino *ip, struct e4_inode *out)
{
	pthread_rwlock_rdlock(&ip->lock);
	*out = ip->inode;
}

void e4_ino_read_end(struct e4_ino *ip)
{
	pthread_rwlock_unlock(&ip->lock);
}

uint32_t e4_ino_number(const struct e4_ino *ip)
{
	return ip->ino;
}

void e4_ino_lock(struct e4_ino *ip)
{
	pthread_rwlock_wrlock(&ip->lock);
}

void e4_ino_unlock(struct e4_ino *ip)
{
	pthread_rwlock_unlock(&ip->lock);
}

void e4_ino_mark_dirty(struct e4_ino *ip)
{
	ip->dirty = true;
}

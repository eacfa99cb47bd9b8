/* SPDX-License-Identifier: MIT */
/*
 * Node table: sharded (node id -> lookup count, in-core inode) maps, so
 * that concurrent workers rarely contend on one lock.  The maps are the
 * library's seeded hash map: node ids follow inode numbers an image
 * chooses, which must not be able to collide.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuse/nodes.h"
#include "util/hmap.h"

struct e4f_node {
	uint64_t nlookup;
	struct e4_ino *ip;
	uint8_t flags;		/* E4F_NODE_* */
};

static struct e4f_node_shard *shard_of(struct e4f_nodes *t, uint64_t nodeid)
{
	return &t->shard[nodeid % E4F_NODE_SHARDS];
}

int e4f_nodes_init(struct e4f_nodes *t, struct e4_fs *fs)
{
	t->fs = fs;
	for (size_t i = 0; i < E4F_NODE_SHARDS; i++) {
		struct e4f_node_shard *sh = &t->shard[i];

		pthread_mutex_init(&sh->lock, NULL);
		sh->map = e4_hmap_new(sizeof(struct e4f_node));
		if (!sh->map) {
			for (size_t j = 0; j <= i; j++) {
				e4_hmap_free(t->shard[j].map);
				pthread_mutex_destroy(&t->shard[j].lock);
			}
			return -ENOMEM;
		}
	}
	return 0;
}

void e4f_nodes_destroy(struct e4f_nodes *t)
{
	for (size_t i = 0; i < E4F_NODE_SHARDS; i++) {
		struct e4f_node_shard *sh = &t->shard[i];
		size_t pos = 0;
		uint64_t nodeid;
		void *v;

		while (e4_hmap_next(sh->map, &pos, &nodeid, &v))
			e4_iput(t->fs, ((struct e4f_node *)v)->ip);
		e4_hmap_free(sh->map);
		sh->map = NULL;
		pthread_mutex_destroy(&sh->lock);
	}
}

int e4f_nodes_ref(struct e4f_nodes *t, uint64_t nodeid, struct e4_ino *ip)
{
	return e4f_nodes_ref_flags(t, nodeid, ip, 0);
}

int e4f_nodes_ref_flags(struct e4f_nodes *t, uint64_t nodeid,
			struct e4_ino *ip, uint8_t flags)
{
	struct e4f_node_shard *sh = shard_of(t, nodeid);
	struct e4_ino *spare = NULL;
	struct e4f_node *n;
	bool added;
	int ret = 0;

	pthread_mutex_lock(&sh->lock);
	n = e4_hmap_put(sh->map, nodeid, &added);
	if (!n) {
		ret = -ENOMEM;
		spare = ip;
	} else if (added) {
		n->nlookup = 1;
		n->ip = ip;
		n->flags = flags;
	} else {
		n->nlookup++;
		spare = ip;	/* the node holds one already */
	}
	pthread_mutex_unlock(&sh->lock);
	e4_iput(t->fs, spare);
	return ret;
}

void e4f_nodes_forget(struct e4f_nodes *t, uint64_t nodeid, uint64_t n)
{
	struct e4f_node_shard *sh = shard_of(t, nodeid);
	struct e4_ino *gone = NULL;
	struct e4f_node *node;

	pthread_mutex_lock(&sh->lock);
	node = e4_hmap_get(sh->map, nodeid);
	if (node) {
		if (n >= node->nlookup) {
			gone = node->ip;
			e4_hmap_remove(sh->map, nodeid);
		} else {
			node->nlookup -= n;
		}
	}
	pthread_mutex_unlock(&sh->lock);
	e4_iput(t->fs, gone);
}

bool e4f_nodes_ino(struct e4f_nodes *t, uint64_t nodeid, struct e4_ino **out)
{
	struct e4f_node_shard *sh = shard_of(t, nodeid);
	struct e4f_node *node;

	*out = NULL;
	pthread_mutex_lock(&sh->lock);
	node = e4_hmap_get(sh->map, nodeid);
	if (node)
		*out = e4_ino_ref(t->fs, node->ip);
	pthread_mutex_unlock(&sh->lock);
	return *out != NULL;
}

bool e4f_nodes_get(struct e4f_nodes *t, uint64_t nodeid, struct e4_inode *out)
{
	struct e4_ino *ip;

	if (!e4f_nodes_ino(t, nodeid, &ip))
		return false;
	e4_ino_snapshot(ip, out);
	e4_iput(t->fs, ip);
	return true;
}

uint8_t e4f_nodes_flags(struct e4f_nodes *t, uint64_t nodeid, uint8_t set,
			uint8_t clear)
{
	struct e4f_node_shard *sh = shard_of(t, nodeid);
	struct e4f_node *node;
	uint8_t old = 0;

	pthread_mutex_lock(&sh->lock);
	node = e4_hmap_get(sh->map, nodeid);
	if (node) {
		old = node->flags;
		node->flags = (uint8_t)((old | set) & ~clear);
	}
	pthread_mutex_unlock(&sh->lock);
	return old;
}

size_t e4f_nodes_count(struct e4f_nodes *t)
{
	size_t total = 0;

	for (size_t i = 0; i < E4F_NODE_SHARDS; i++) {
		pthread_mutex_lock(&t->shard[i].lock);
		total += e4_hmap_count(t->shard[i].map);
		pthread_mutex_unlock(&t->shard[i].lock);
	}
	return total;
}

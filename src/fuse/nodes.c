/* SPDX-License-Identifier: MIT */
/*
 * Node table: sharded hash tables of (node id -> lookup count, inode), so
 * that concurrent workers rarely contend on one lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuse/nodes.h"

struct e4f_node {
	struct e4f_node *next;
	uint64_t nodeid;
	uint64_t nlookup;
	struct e4_inode inode;
};

static size_t shard_of(uint64_t nodeid)
{
	return (size_t)(nodeid % E4F_NODE_SHARDS);
}

static size_t bucket_of(const struct e4f_node_shard *sh, uint64_t nodeid)
{
	/* nodeids in one shard differ in their high part: mix it down */
	uint64_t h = (nodeid / E4F_NODE_SHARDS) * 0x9E3779B97F4A7C15ull;

	return (size_t)(h >> 32) & (sh->nbuckets - 1);
}

int e4f_nodes_init(struct e4f_nodes *t)
{
	for (size_t i = 0; i < E4F_NODE_SHARDS; i++) {
		struct e4f_node_shard *sh = &t->shard[i];

		pthread_mutex_init(&sh->lock, NULL);
		sh->nbuckets = 64;
		sh->count = 0;
		sh->buckets = calloc(sh->nbuckets, sizeof(*sh->buckets));
		if (!sh->buckets) {
			for (size_t j = 0; j <= i; j++) {
				free(t->shard[j].buckets);
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

		for (size_t b = 0; b < sh->nbuckets; b++) {
			struct e4f_node *n = sh->buckets[b];

			while (n) {
				struct e4f_node *next = n->next;

				free(n);
				n = next;
			}
		}
		free(sh->buckets);
		sh->buckets = NULL;
		pthread_mutex_destroy(&sh->lock);
	}
}

static struct e4f_node **find_slot(struct e4f_node_shard *sh, uint64_t nodeid)
{
	struct e4f_node **pp = &sh->buckets[bucket_of(sh, nodeid)];

	while (*pp && (*pp)->nodeid != nodeid)
		pp = &(*pp)->next;
	return pp;
}

/* Double the bucket array when chains get long; failure just keeps the
 * table slower. */
static void maybe_grow(struct e4f_node_shard *sh)
{
	if (sh->count < sh->nbuckets * 2 || sh->nbuckets >= ((size_t)1 << 24))
		return;

	size_t old_n = sh->nbuckets;
	struct e4f_node **old = sh->buckets;
	struct e4f_node **nb = calloc(old_n * 2, sizeof(*nb));

	if (!nb)
		return;
	sh->buckets = nb;
	sh->nbuckets = old_n * 2;
	for (size_t b = 0; b < old_n; b++) {
		struct e4f_node *n = old[b];

		while (n) {
			struct e4f_node *next = n->next;
			size_t nbk = bucket_of(sh, n->nodeid);

			n->next = nb[nbk];
			nb[nbk] = n;
			n = next;
		}
	}
	free(old);
}

int e4f_nodes_ref(struct e4f_nodes *t, uint64_t nodeid,
		  const struct e4_inode *inode)
{
	struct e4f_node_shard *sh = &t->shard[shard_of(nodeid)];
	int ret = 0;

	pthread_mutex_lock(&sh->lock);
	struct e4f_node **pp = find_slot(sh, nodeid);

	if (*pp) {
		(*pp)->nlookup++;
	} else {
		struct e4f_node *n = malloc(sizeof(*n));

		if (!n) {
			ret = -ENOMEM;
		} else {
			n->nodeid = nodeid;
			n->nlookup = 1;
			n->inode = *inode;
			n->next = NULL;
			*pp = n;
			sh->count++;
			maybe_grow(sh);
		}
	}
	pthread_mutex_unlock(&sh->lock);
	return ret;
}

void e4f_nodes_forget(struct e4f_nodes *t, uint64_t nodeid, uint64_t n)
{
	struct e4f_node_shard *sh = &t->shard[shard_of(nodeid)];

	pthread_mutex_lock(&sh->lock);
	struct e4f_node **pp = find_slot(sh, nodeid);
	struct e4f_node *node = *pp;

	if (node) {
		if (n >= node->nlookup) {
			*pp = node->next;
			sh->count--;
			free(node);
		} else {
			node->nlookup -= n;
		}
	}
	pthread_mutex_unlock(&sh->lock);
}

bool e4f_nodes_get(struct e4f_nodes *t, uint64_t nodeid, struct e4_inode *out)
{
	struct e4f_node_shard *sh = &t->shard[shard_of(nodeid)];
	bool found = false;

	pthread_mutex_lock(&sh->lock);
	struct e4f_node *node = *find_slot(sh, nodeid);

	if (node) {
		*out = node->inode;
		found = true;
	}
	pthread_mutex_unlock(&sh->lock);
	return found;
}

size_t e4f_nodes_count(struct e4f_nodes *t)
{
	size_t total = 0;

	for (size_t i = 0; i < E4F_NODE_SHARDS; i++) {
		pthread_mutex_lock(&t->shard[i].lock);
		total += t->shard[i].count;
		pthread_mutex_unlock(&t->shard[i].lock);
	}
	return total;
}

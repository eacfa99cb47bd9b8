/* SPDX-License-Identifier: MIT */
/*
 * The node table: which inodes the kernel holds references to (the lookup
 * counts of the FUSE protocol), with each node's decoded inode kept so that
 * GETATTR, OPEN and READ do not decode it again.  The image does not change
 * under a read-only mount, so a cached inode never goes stale.
 */
#ifndef E4F_NODES_H
#define E4F_NODES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e4/e4.h"

#define E4F_NODE_SHARDS 64u

struct e4f_node;

struct e4f_node_shard {
	pthread_mutex_t lock;
	struct e4f_node **buckets;
	size_t nbuckets;		/* power of two */
	size_t count;
};

struct e4f_nodes {
	struct e4f_node_shard shard[E4F_NODE_SHARDS];
};

int e4f_nodes_init(struct e4f_nodes *t);
void e4f_nodes_destroy(struct e4f_nodes *t);

/* The kernel got one more reference to @nodeid (LOOKUP, READDIRPLUS). */
int e4f_nodes_ref(struct e4f_nodes *t, uint64_t nodeid,
		  const struct e4_inode *inode);
/* FORGET: drop @n references; the node goes when none are left. */
void e4f_nodes_forget(struct e4f_nodes *t, uint64_t nodeid, uint64_t n);
/* Copy the cached inode of @nodeid; false if the node is not known. */
bool e4f_nodes_get(struct e4f_nodes *t, uint64_t nodeid, struct e4_inode *out);
/* Nodes currently referenced (for tests and debug). */
size_t e4f_nodes_count(struct e4f_nodes *t);

#endif /* E4F_NODES_H */

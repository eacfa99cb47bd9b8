/* SPDX-License-Identifier: MIT */
/*
 * The node table: which inodes the kernel holds references to (the lookup
 * counts of the FUSE protocol).  Each node holds one reference to the
 * library's in-core inode, never a copy of its own: what GETATTR, OPEN and
 * READ see is the one authoritative inode, snapshot at the time of the
 * request, current even once writes change it.
 */
#ifndef E4F_NODES_H
#define E4F_NODES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e4/e4.h"

#define E4F_NODE_SHARDS 64u

struct e4_hmap;

struct e4f_node_shard {
	pthread_mutex_t lock;
	struct e4_hmap *map;	/* node id -> struct e4f_node */
};

struct e4f_nodes {
	struct e4_fs *fs;
	struct e4f_node_shard shard[E4F_NODE_SHARDS];
};

int e4f_nodes_init(struct e4f_nodes *t, struct e4_fs *fs);
void e4f_nodes_destroy(struct e4f_nodes *t);

/* The kernel got one more reference to @nodeid (LOOKUP, READDIRPLUS).
 * The table takes the caller's reference @ip in all cases (it keeps one
 * per node and puts the others). */
int e4f_nodes_ref(struct e4f_nodes *t, uint64_t nodeid, struct e4_ino *ip);
/* Hints kept with a node (READDIRPLUS, ops_read.c), not state the kernel
 * relies on: a node's are lost with it. */
#define E4F_NODE_FRESH 0x01u	/* came with READDIRPLUS, not used yet */
#define E4F_NODE_LISTED_BARE 0x02u /* a directory listed without attributes */
/* e4f_nodes_ref, giving a node that was not known @flags. */
int e4f_nodes_ref_flags(struct e4f_nodes *t, uint64_t nodeid,
			struct e4_ino *ip, uint8_t flags);
/* Set @set and clear @clear in @nodeid's flags; the flags before, 0 if the
 * node is not known. */
uint8_t e4f_nodes_flags(struct e4f_nodes *t, uint64_t nodeid, uint8_t set,
			uint8_t clear);
/* FORGET: drop @n references; the node goes when none are left. */
void e4f_nodes_forget(struct e4f_nodes *t, uint64_t nodeid, uint64_t n);
/* A snapshot of @nodeid's inode; false if the node is not known. */
bool e4f_nodes_get(struct e4f_nodes *t, uint64_t nodeid, struct e4_inode *out);
/* A reference to @nodeid's in-core inode (put it with e4_iput); false if
 * the node is not known. */
bool e4f_nodes_ino(struct e4f_nodes *t, uint64_t nodeid, struct e4_ino **out);
/* Nodes currently referenced (for tests and debug). */
size_t e4f_nodes_count(struct e4f_nodes *t);

#endif /* E4F_NODES_H */

/* SPDX-License-Identifier: MIT */
/*
 * -o lost_found[=NAME]: a virtual directory in the root of a read-only
 * mount (NAME, default "lost+found-e4fuse") whose entries are the inodes
 * in use that no path reaches, named "#INO" as e2fsck names them in
 * lost+found (e4_unreachable_scan, run once, on the first LOOKUP in it
 * or listing of it).  Its entries are the inodes themselves, served by
 * the usual handlers with their usual node ids; the directory itself is
 * node id 2 (no inode maps to it: inode 1 is never shown) and stat
 * shows it as inode 1, mode 0700, owned by root, as e2fsck makes
 * lost+found (an orphaned file has lost the protection of its directory).
 */
#ifndef E4F_LOST_FOUND_H
#define E4F_LOST_FOUND_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e4/e4.h"

#define E4F_LOST_FOUND_DEFAULT "lost+found-e4fuse"
#define E4F_LOST_NODEID 2u
#define E4F_LOST_INO 1u
/* The readdir cookie of the virtual entry in the root, listed after the
 * real ones: above any directory position (byte offsets). */
#define E4F_LOST_ROOT_POS ((uint64_t)INT64_MAX)

struct e4f_lost_found {
	const char *name;	/* NULL: not asked for */
	size_t name_len;
	pthread_mutex_t lock;	/* over the first scan */
	bool scanned;
	int err;		/* of the scan, once done */
	struct e4_unreachable *tops;
	struct e4_time when;	/* its times: the root's at mount */
};

struct e4f_session;

/* Why NAME cannot be a directory entry's, or NULL. */
const char *e4f_lost_found_name_refusal(const char *name);
/* At mount: refuse (-EEXIST, after saying why) when the real root has an
 * entry named @name: it is never shadowed.  When the root's listing is
 * damaged the name may be in a block that cannot be read: a warning says
 * the virtual directory takes it. */
int e4f_lost_found_check(struct e4_fs *fs, const struct e4_inode *root,
			 const char *name);

/* @name NULL: the option is off. */
void e4f_lost_found_init(struct e4f_lost_found *l, struct e4_fs *fs,
			 const char *name);
void e4f_lost_found_destroy(struct e4f_lost_found *l);

/* Is @nodeid the virtual directory (with the option on)? */
bool e4f_lost_found_is_node(const struct e4f_session *s, uint64_t nodeid);
/* Is (@parent, @name) the virtual directory's entry in the root? */
bool e4f_lost_found_named(const struct e4f_session *s, uint64_t parent,
			  const char *name, size_t len);
/* What GETATTR and friends show of the virtual directory. */
void e4f_lost_found_inode(const struct e4f_session *s, struct e4_inode *out);
/* The inode the virtual directory's entry @name is: -ENOENT when none,
 * or the scan's error. */
int e4f_lost_found_lookup(struct e4f_session *s, const char *name, size_t len,
			  uint32_t *ino);
/* The virtual directory's entries from readdir position @pos, as
 * e4_dir_iterate delivers a directory's: ".", "..", then each "#INO". */
int e4f_lost_found_iterate(struct e4f_session *s, uint64_t pos, e4_dir_cb cb,
			   void *ctx);
/* The virtual directory's entry in the root listing. */
void e4f_lost_found_root_entry(const struct e4f_session *s,
			       struct e4_dirent *out);

#endif /* E4F_LOST_FOUND_H */

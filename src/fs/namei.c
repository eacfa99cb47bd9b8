/* SPDX-License-Identifier: MIT */
/*
 * Names to inodes: one lookup in a directory, and whole paths (e4img and
 * the tests).  Both apply the rule of what a name may refer to
 * (e4_inode_read_named): a path through a directory entry naming the
 * journal is as corrupt as a LOOKUP of it.
 */
#include <string.h>

#include "ondisk/ondisk.h"

int e4_lookup(struct e4_fs *fs, const struct e4_inode *dir, const char *name,
	      size_t len, struct e4_ino **out)
{
	char copy[E4_NAME_MAX + 1];
	uint32_t ino;
	int rc;

	if (len == 0 || len > E4_NAME_MAX)
		return len ? -ENAMETOOLONG : -EINVAL;
	if (!e4_inode_is_dir(dir))
		return -ENOTDIR;
	rc = e4_dir_lookup_mode(fs, dir, name, len, E4_DIR_SALVAGE, &ino, NULL);
	if (rc)
		return rc;
	memcpy(copy, name, len);
	copy[len] = '\0';
	return e4_iget_named(fs, dir->ino, copy, ino, out);
}

/*
 * Component by component from the root, never following symlinks (a
 * symlink in the middle is not a directory, so it ends the walk with
 * -ENOTDIR); "name/" must be a directory.
 */
int e4_path_lookup(struct e4_fs *fs, const char *path, uint32_t *ino)
{
	return e4_path_lookup_at(fs, E4_ROOT_INO, path, ino);
}

int e4_path_lookup_at(struct e4_fs *fs, uint32_t start, const char *path,
		      uint32_t *ino)
{
	struct e4_inode node;
	struct e4_ino *cur;
	bool must_be_dir = false;
	const char *p = path;
	int rc;

	if (!path)
		return -EINVAL;
	rc = e4_iget(fs, start, &cur);
	if (rc)
		return rc;
	while (*p) {
		const char *name;
		struct e4_ino *next;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		name = p;
		while (*p && *p != '/')
			p++;
		e4_ino_snapshot(cur, &node);
		rc = e4_lookup(fs, &node, name, (size_t)(p - name), &next);
		e4_iput(fs, cur);
		if (rc)
			return rc;
		cur = next;
		must_be_dir = *p == '/';
	}
	e4_ino_snapshot(cur, &node);
	*ino = e4_ino_number(cur);
	e4_iput(fs, cur);
	if (must_be_dir && !e4_inode_is_dir(&node))
		return -ENOTDIR;
	return 0;
}

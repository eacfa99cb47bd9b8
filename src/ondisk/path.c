/* SPDX-License-Identifier: MIT */
/*
 * Path resolution for e4img and the tests: component by component from the
 * root, never following symlinks (a symlink in the middle is not a
 * directory, so it ends the walk with -ENOTDIR).
 */
#include "ondisk.h"

int e4_path_lookup(struct e4_fs *fs, const char *path, uint32_t *ino)
{
	uint32_t cur = E4_ROOT_INO;
	bool must_be_dir = false;
	struct e4_inode node;
	const char *p = path;
	int rc;

	if (!path)
		return -EINVAL;
	while (*p) {
		const char *name;
		size_t len;
		uint32_t next;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		name = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - name);
		if (len > E4_NAME_MAX)
			return -ENAMETOOLONG;
		rc = e4_inode_read(fs, cur, &node);
		if (rc)
			return rc;
		if (!e4_inode_is_dir(&node))
			return -ENOTDIR;
		rc = e4_dir_lookup(fs, &node, name, len, &next, NULL);
		if (rc)
			return rc;
		cur = next;
		/* "name/" names a directory */
		must_be_dir = *p == '/';
	}
	if (must_be_dir) {
		rc = e4_inode_read(fs, cur, &node);
		if (rc)
			return rc;
		if (!e4_inode_is_dir(&node))
			return -ENOTDIR;
	}
	*ino = cur;
	return 0;
}

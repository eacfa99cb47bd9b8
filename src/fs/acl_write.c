/* SPDX-License-Identifier: MIT */
/*
 * POSIX ACLs and the mode kept in step, as the kernel's ext4 gets it from
 * the VFS (posix_acl_create, posix_acl_update_mode, posix_acl_chmod).  With
 * FUSE_POSIX_ACL the kernel enforces ACLs but leaves this to the server: a
 * new inode takes its directory's default ACL, which replaces the umask;
 * setting an access ACL sets the mode, and an ACL that says no more than
 * the mode is not stored; chmod rewrites the access ACL.
 *
 * ACLs here are in the xattr ABI form (version 2: a 4-byte header, then
 * 8-byte entries of tag, perm, id), as getxattr returns them and setxattr
 * takes them, already validated by whoever produced them (the reader, or
 * e4_acl_from_xattr); every access is bounds-checked all the same.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/writer.h"

#define ACL_NONE SIZE_MAX

static size_t acl_count(size_t len)
{
	return len < E4_ACL_HEADER ? 0 :
	       (len - E4_ACL_HEADER) / E4_ACL_FULL_ENTRY;
}

static size_t entry_at(size_t i)
{
	return E4_ACL_HEADER + i * E4_ACL_FULL_ENTRY;
}

static uint16_t tag_of(const uint8_t *x, size_t len, size_t i)
{
	return e4_le16(x, len, entry_at(i) + E4_ACL_E_TAG);
}

static uint32_t perm_of(const uint8_t *x, size_t len, size_t i)
{
	return e4_le16(x, len, entry_at(i) + E4_ACL_E_PERM) &
	       (uint32_t)E4_ACL_PERM_MASK;
}

static void perm_set(uint8_t *x, size_t len, size_t i, uint32_t perm)
{
	e4_put_le16(x, len, entry_at(i) + E4_ACL_E_PERM,
		    (uint16_t)(perm & E4_ACL_PERM_MASK));
}

int e4_acl_equiv_mode(const uint8_t *x, size_t len, uint32_t *mode)
{
	uint32_t m = 0;
	int not_equiv = 0;

	for (size_t i = 0; i < acl_count(len); i++) {
		uint32_t perm = perm_of(x, len, i);

		switch (tag_of(x, len, i)) {
		case E4_ACL_USER_OBJ:
			m |= perm << 6;
			break;
		case E4_ACL_GROUP_OBJ:
			m |= perm << 3;
			break;
		case E4_ACL_OTHER:
			m |= perm;
			break;
		case E4_ACL_MASK:	/* after GROUP_OBJ: the group bits */
			m = (m & ~070u) | perm << 3;
			not_equiv = 1;
			break;
		case E4_ACL_USER:
		case E4_ACL_GROUP:
			not_equiv = 1;
			break;
		default:
			return -EINVAL;
		}
	}
	*mode = (*mode & ~0777u) | m;
	return not_equiv;
}

/* The kernel's posix_acl_create_masq(): @x (a copy of a default ACL) and
 * the permission bits of *@mode, each masked by the other.  1 if @x says
 * more than the mode can, 0 if not, -EUCLEAN if it has no group entry. */
static int create_masq(uint8_t *x, size_t len, uint32_t *mode)
{
	uint32_t m = *mode & 0777u;
	size_t group_obj = ACL_NONE, mask = ACL_NONE, g;
	int not_equiv = 0;

	for (size_t i = 0; i < acl_count(len); i++) {
		uint32_t perm = perm_of(x, len, i);

		switch (tag_of(x, len, i)) {
		case E4_ACL_USER_OBJ:
			perm &= m >> 6;
			perm_set(x, len, i, perm);
			m &= perm << 6 | ~0700u;
			break;
		case E4_ACL_USER:
		case E4_ACL_GROUP:
			not_equiv = 1;
			break;
		case E4_ACL_GROUP_OBJ:
			group_obj = i;
			break;
		case E4_ACL_OTHER:
			perm &= m & 07u;
			perm_set(x, len, i, perm);
			m &= perm | ~07u;
			break;
		case E4_ACL_MASK:
			mask = i;
			not_equiv = 1;
			break;
		default:
			return -EUCLEAN;
		}
	}
	g = mask != ACL_NONE ? mask : group_obj;
	if (g == ACL_NONE)
		return -EUCLEAN;
	perm_set(x, len, g, perm_of(x, len, g) & (m >> 3));
	m &= perm_of(x, len, g) << 3 | ~070u;
	*mode = (*mode & ~0777u) | (m & 0777u);
	return not_equiv;
}

/* Attribute @name of @in, malloc'd, in *@out (*@len bytes): 0, or
 * -ENODATA when @in has none. */
static int acl_read(struct e4_fs *fs, const struct e4_inode *in,
		    const char *name, uint8_t **out, size_t *len)
{
	ssize_t n = e4_xattr_get(fs, in, name, NULL, 0);
	uint8_t *x;

	*out = NULL;
	*len = 0;
	if (n < 0)
		return (int)n;
	x = malloc(n ? (size_t)n : 1);
	if (!x)
		return -ENOMEM;
	n = e4_xattr_get(fs, in, name, x, (size_t)n);
	if (n < 0) {
		free(x);
		return (int)n;
	}
	*out = x;
	*len = (size_t)n;
	return 0;
}

int e4_acl_inherit_prepare(struct e4_fs *fs, const struct e4_inode *dir,
			   uint32_t *mode, uint32_t umask,
			   struct e4_acl_inherit *out)
{
	uint8_t *def, *access;
	size_t len;
	int err;

	memset(out, 0, sizeof(*out));
	if ((*mode & E4_S_IFMT) == E4_S_IFLNK)
		return 0;
	err = acl_read(fs, dir, E4_XATTR_NAME_ACL_DEFAULT, &def, &len);
	if (err == -ENODATA || (!err && acl_count(len) == 0)) {
		free(def);
		*mode &= ~(umask & 0777u);
		return 0;
	}
	if (err)
		return err;
	access = malloc(len);
	if (!access) {
		free(def);
		return -ENOMEM;
	}
	memcpy(access, def, len);
	err = create_masq(access, len, mode);
	if (err < 0) {
		free(access);
		free(def);
		return e4_corrupt(fs, E4_RULE_XA_ACL, e4_obj_inode(dir->ino),
				  "its default ACL has no group entry");
	}
	if (err) {
		out->access = access;
		out->access_len = len;
	} else {
		free(access);
	}
	if ((*mode & E4_S_IFMT) == E4_S_IFDIR) {
		out->def = def;
		out->def_len = len;
	} else {
		free(def);
	}
	return 0;
}

int e4_acl_inherit_apply(struct e4_fs *fs, struct e4_ino *ip,
			 const struct e4_acl_inherit *a)
{
	int err = 0;

	if (a->def)
		err = e4_setxattr(fs, ip, E4_XATTR_NAME_ACL_DEFAULT, a->def,
				  a->def_len, 0);
	if (!err && a->access)
		err = e4_setxattr(fs, ip, E4_XATTR_NAME_ACL_ACCESS,
				  a->access, a->access_len, 0);
	return err;
}

void e4_acl_inherit_free(struct e4_acl_inherit *a)
{
	free(a->access);
	free(a->def);
	memset(a, 0, sizeof(*a));
}

int e4_acl_chmod(struct e4_fs *fs, struct e4_ino *ip)
{
	size_t group_obj = ACL_NONE, mask = ACL_NONE, g, len;
	struct e4_inode in;
	uint8_t *x;
	int err;

	e4_ino_snapshot(ip, &in);
	if (e4_inode_is_symlink(&in))
		return 0;
	err = acl_read(fs, &in, E4_XATTR_NAME_ACL_ACCESS, &x, &len);
	if (err)
		return err == -ENODATA ? 0 : err;
	for (size_t i = 0; i < acl_count(len); i++) {
		switch (tag_of(x, len, i)) {
		case E4_ACL_USER_OBJ:
			perm_set(x, len, i, (in.mode >> 6) & 07u);
			break;
		case E4_ACL_GROUP_OBJ:
			group_obj = i;
			break;
		case E4_ACL_MASK:
			mask = i;
			break;
		case E4_ACL_OTHER:
			perm_set(x, len, i, in.mode & 07u);
			break;
		default:
			break;
		}
	}
	g = mask != ACL_NONE ? mask : group_obj;
	if (g == ACL_NONE)
		err = e4_corrupt(fs, E4_RULE_XA_ACL, e4_obj_inode(in.ino),
				 "its access ACL has no group entry");
	else {
		perm_set(x, len, g, (in.mode >> 3) & 07u);
		err = e4_setxattr(fs, ip, E4_XATTR_NAME_ACL_ACCESS, x, len, 0);
	}
	free(x);
	return err;
}

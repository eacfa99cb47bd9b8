/* SPDX-License-Identifier: MIT */
/*
 * POSIX ACLs on the write side, as the kernel's ext4 keeps them with the
 * mode (src/fs/acl_write.c): inheritance of a directory's default ACL in
 * place of the umask, an access ACL setting the mode and not kept when the
 * mode says it all, chmod rewriting the ACL, the setgid kill, and the
 * VFS's rules for ACL names (no CREATE/REPLACE, removing a missing one is
 * no error, default ACLs on directories only).  After each test e2fsck -fn
 * is clean and the kernel's getfacl reads what the test expects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/write.h"
#include "ondisk/ondisk.h"
#include "testutil.h"

#define ACL_ACCESS "system.posix_acl_access"
#define ACL_DEFAULT "system.posix_acl_default"
#define NO_ID 0xFFFFFFFFu

struct acl_entry {
	uint16_t tag, perm;
	uint32_t id;
};

/* @n entries in the xattr ABI form (version 2) into @out: its length. */
static size_t acl_build(uint8_t *out, const struct acl_entry *e, size_t n)
{
	e4_put_le32(out, 4, 0, 2);
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = out + 4 + 8 * i;

		e4_put_le16(p, 8, 0, e[i].tag);
		e4_put_le16(p, 8, 2, e[i].perm);
		e4_put_le32(p, 8, 4, e[i].id);
	}
	return 4 + 8 * n;
}

/* The permission of the entry with @tag (and @id for named ones) in the
 * ACL @name of @ip: -1 if the ACL or the entry is missing. */
static int acl_perm(struct e4_fs *fs, struct e4_ino *ip, const char *name,
		    uint16_t tag, uint32_t id)
{
	uint8_t v[512];
	struct e4_inode in;
	ssize_t n;

	e4_ino_snapshot(ip, &in);
	n = e4_xattr_get(fs, &in, name, v, sizeof(v));
	if (n < 0)
		return -1;
	for (size_t off = 4; off + 8 <= (size_t)n; off += 8) {
		uint16_t t = e4_le16(v, (size_t)n, off);

		if (t == tag && (id == NO_ID || e4_le32(v, (size_t)n, off + 4) == id))
			return e4_le16(v, (size_t)n, off + 2);
	}
	return -1;
}

static uint16_t mode_of(struct e4_ino *ip)
{
	struct e4_inode in;

	e4_ino_snapshot(ip, &in);
	return in.mode;
}

/* A directory's default ACL takes the umask's place: the new modes are
 * masked by it, new inodes get it as their access ACL (when it says more
 * than the mode), directories get it again as theirs; symlinks, and
 * inodes in a directory without one, see only the umask. */
static void inherit_on(const char *mkfs_args, const char *name)
{
	char *img = tu_mkfs(name, mkfs_args, NULL, "16M");
	static const struct acl_entry def[] = {
		{ E4_ACL_USER_OBJ, 7, NO_ID }, { E4_ACL_USER, 6, 1234 },
		{ E4_ACL_GROUP_OBJ, 5, NO_ID }, { E4_ACL_MASK, 7, NO_ID },
		{ E4_ACL_OTHER, 0, NO_ID },
	};
	struct e4_cred cred = { 0, 0, 077 };
	uint8_t x[128];
	size_t xlen = acl_build(x, def, 5);
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root, *d, *f, *sub, *link, *plain;

	assert_int_equal(e4_iget(fs, E4_ROOT_INO, &root), 0);
	assert_int_equal(e4_mkdir(fs, root, "d", 1, 0755, &cred, &d), 0);
	assert_int_equal(mode_of(d) & 07777, 0700);	/* the umask */
	assert_int_equal(e4_setxattr(fs, d, ACL_DEFAULT, x, xlen, 0), 0);
	assert_int_equal(e4_mknod(fs, d, "f", 1, 0100666, 0, 0, &cred, &f), 0);
	assert_int_equal(mode_of(f) & 07777, 0660);
	assert_int_equal(acl_perm(fs, f, ACL_ACCESS, E4_ACL_USER_OBJ, NO_ID), 6);
	assert_int_equal(acl_perm(fs, f, ACL_ACCESS, E4_ACL_USER, 1234), 6);
	assert_int_equal(acl_perm(fs, f, ACL_ACCESS, E4_ACL_MASK, NO_ID), 6);
	assert_int_equal(acl_perm(fs, f, ACL_ACCESS, E4_ACL_OTHER, NO_ID), 0);
	assert_int_equal(acl_perm(fs, f, ACL_DEFAULT, E4_ACL_USER, 1234), -1);
	assert_int_equal(e4_mkdir(fs, d, "sub", 3, 0777, &cred, &sub), 0);
	assert_int_equal(mode_of(sub) & 07777, 0770);
	assert_int_equal(acl_perm(fs, sub, ACL_DEFAULT, E4_ACL_USER, 1234), 6);
	assert_int_equal(acl_perm(fs, sub, ACL_ACCESS, E4_ACL_MASK, NO_ID), 7);
	assert_int_equal(e4_symlink(fs, d, "l", 1, "f", 1, &cred, &link), 0);
	assert_int_equal(mode_of(link) & 07777, 0777);
	assert_int_equal(acl_perm(fs, link, ACL_ACCESS, E4_ACL_USER_OBJ,
				  NO_ID), -1);
	cred.umask = 022;
	assert_int_equal(e4_mknod(fs, root, "plain", 5, 0100666, 0, 0, &cred,
				  &plain), 0);
	assert_int_equal(mode_of(plain) & 07777, 0644);
	assert_int_equal(acl_perm(fs, plain, ACL_ACCESS, E4_ACL_USER_OBJ,
				  NO_ID), -1);
	e4_iput(fs, plain);
	e4_iput(fs, link);
	e4_iput(fs, sub);
	e4_iput(fs, f);
	e4_iput(fs, d);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	tu_kernel_expect(img,
		"test \"$(stat -c %a \"$m/d/f\")\" = 660; "
		"getfacl -cnE \"$m/d/f\" | grep -qx 'user:1234:rw-'; "
		"getfacl -cnE \"$m/d/f\" | grep -qx 'mask::rw-'; "
		"test -z \"$(getfacl -cnE \"$m/d/f\" | grep default)\"; "
		"test \"$(stat -c %a \"$m/d/sub\")\" = 770; "
		"getfacl -cnE \"$m/d/sub\" | grep -qx 'default:user:1234:rw-'; "
		"test \"$(stat -c %a \"$m/plain\")\" = 644; "
		"test \"$(getfacl -cnE \"$m/plain\" | grep -c .)\" = 3");
	free(img);
}

static void test_inherit(void **state)
{
	(void)state;
	inherit_on("-b 4096 -I 256", "acl1.img");
}

/* 128-byte inodes: no in-inode area, every ACL in a block of its own. */
static void test_inherit_small_inodes(void **state)
{
	(void)state;
	inherit_on("-b 1024 -I 128", "acl2.img");
}

/* An access ACL sets the mode (and is not kept when the mode says it
 * all); chmod rewrites the ACL; the setgid bit goes when the kernel says
 * so; the VFS's rules for ACL names. */
static void test_set_and_chmod(void **state)
{
	char *img = tu_mkfs("acl3.img", "-b 4096 -I 256", NULL, "16M");
	static const struct acl_entry equiv[] = {
		{ E4_ACL_USER_OBJ, 6, NO_ID }, { E4_ACL_GROUP_OBJ, 4, NO_ID },
		{ E4_ACL_OTHER, 0, NO_ID },
	};
	static const struct acl_entry named[] = {
		{ E4_ACL_USER_OBJ, 6, NO_ID }, { E4_ACL_USER, 7, 42 },
		{ E4_ACL_GROUP_OBJ, 4, NO_ID }, { E4_ACL_MASK, 5, NO_ID },
		{ E4_ACL_OTHER, 0, NO_ID },
	};
	struct e4_cred cred = { 0, 0, 0 };
	struct e4_setattr sgid = { .valid = E4_SET_MODE, .mode = 02644 };
	struct e4_setattr chmod_0604 = { .valid = E4_SET_MODE, .mode = 0604 };
	uint8_t x[128];
	size_t xlen;
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root, *f, *g;
	struct e4_inode in;
	uint8_t v[64];

	(void)state;
	assert_int_equal(e4_iget(fs, E4_ROOT_INO, &root), 0);
	assert_int_equal(e4_mknod(fs, root, "f", 1, 0100644, 0, 0, &cred, &f), 0);
	assert_int_equal(e4_mknod(fs, root, "g", 1, 0100644, 0, 0, &cred, &g), 0);
	/* the mode says it all: set, not kept */
	xlen = acl_build(x, equiv, 3);
	assert_int_equal(e4_setxattr(fs, f, ACL_ACCESS, x, xlen, 0), 0);
	assert_int_equal(mode_of(f) & 07777, 0640);
	e4_ino_snapshot(f, &in);
	assert_int_equal(e4_xattr_get(fs, &in, ACL_ACCESS, v, sizeof(v)),
			 -ENODATA);
	/* named entries: kept, the mask is the group bits; CREATE ignored */
	assert_int_equal(e4_setattr(fs, f, &sgid), 0);
	xlen = acl_build(x, named, 5);
	assert_int_equal(e4_setxattr(fs, f, ACL_ACCESS, x, xlen,
				     E4_XATTR_CREATE), 0);
	assert_int_equal(mode_of(f) & 07777, 02650);
	assert_int_equal(e4_setxattr(fs, f, ACL_ACCESS, x, xlen,
				     E4_XATTR_CREATE | E4_XATTR_KILL_SGID), 0);
	assert_int_equal(mode_of(f) & 07777, 0650);
	/* chmod: the owner, mask and other entries follow */
	assert_int_equal(e4_setattr(fs, f, &chmod_0604), 0);
	assert_int_equal(mode_of(f) & 07777, 0604);
	assert_int_equal(acl_perm(fs, f, ACL_ACCESS, E4_ACL_USER_OBJ, NO_ID), 6);
	assert_int_equal(acl_perm(fs, f, ACL_ACCESS, E4_ACL_MASK, NO_ID), 0);
	assert_int_equal(acl_perm(fs, f, ACL_ACCESS, E4_ACL_GROUP_OBJ, NO_ID), 4);
	assert_int_equal(acl_perm(fs, f, ACL_ACCESS, E4_ACL_USER, 42), 7);
	assert_int_equal(acl_perm(fs, f, ACL_ACCESS, E4_ACL_OTHER, NO_ID), 4);
	/* removing ACLs that are not there; a default ACL on a file */
	assert_int_equal(e4_removexattr(fs, g, ACL_ACCESS), 0);
	assert_int_equal(e4_removexattr(fs, g, ACL_DEFAULT), 0);
	assert_int_equal(e4_removexattr(fs, g, "user.none"), -ENODATA);
	assert_int_equal(e4_setxattr(fs, g, ACL_DEFAULT, x, xlen, 0), -EACCES);
	assert_int_equal(mode_of(g) & 07777, 0644);
	e4_iput(fs, g);
	e4_iput(fs, f);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	tu_kernel_expect(img,
		"test \"$(stat -c %a \"$m/f\")\" = 604; "
		"getfacl -cnE \"$m/f\" | grep -qx 'user:42:rwx'; "
		"getfacl -cnE \"$m/f\" | grep -qx 'mask::---'; "
		"test \"$(stat -c %a \"$m/g\")\" = 644; "
		"test -z \"$(getfattr -m - -d \"$m/g\" 2>/dev/null)\"");
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inherit),
		cmocka_unit_test(test_inherit_small_inodes),
		cmocka_unit_test(test_set_and_chmod),
	};

	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}

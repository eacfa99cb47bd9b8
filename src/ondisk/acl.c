/* SPDX-License-Identifier: MIT */
/*
 * POSIX ACLs (§9.7): the compact on-disk form (version 1, the qualifier only
 * for USER and GROUP entries) converted to the Linux xattr ABI (version 2,
 * fixed 8-byte entries) that getxattr("system.posix_acl_*") returns.
 *
 * There is no fs handle here, so a malformed ACL is returned as -EUCLEAN
 * with the broken rule in words; the caller reports it with the inode it
 * came from (XA-ACL).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ondisk/ondisk.h"

#define ACL_DISK_VERSION 1
#define ACL_XATTR_VERSION 2
#define ACL_HEADER 4
#define ACL_SHORT_ENTRY 4
#define ACL_FULL_ENTRY 8
#define ACL_UNDEFINED_ID 0xFFFFFFFFu

#define ACL_USER_OBJ 0x01
#define ACL_USER 0x02
#define ACL_GROUP_OBJ 0x04
#define ACL_GROUP 0x08
#define ACL_MASK 0x10
#define ACL_OTHER 0x20

static bool acl_tag_has_id(uint16_t tag)
{
	return tag == ACL_USER || tag == ACL_GROUP;
}

/*
 * Walk the entries once, checking the rules of §9.7, and count them.
 * Entries come sorted by tag (the tag values ascend in the canonical order)
 * and, within USER and GROUP, by id without duplicates.  A broken rule is
 * -EUCLEAN with *@why saying which.
 */
static int acl_validate(const uint8_t *disk, size_t len, size_t *count_out,
			const char **why)
{
	size_t pos = ACL_HEADER, count = 0;
	unsigned seen = 0;
	uint16_t prev_tag = 0;
	uint32_t prev_id = 0;

	*why = NULL;
	if (len < ACL_HEADER || e4_le32(disk, len, 0) != ACL_DISK_VERSION)
		*why = "not version 1";
	while (!*why && pos < len) {
		uint16_t tag, perm;
		uint32_t id = 0;

		if (len - pos < ACL_SHORT_ENTRY) {
			*why = "an entry runs past the end";
			break;
		}
		tag = e4_le16(disk, len, pos);
		perm = e4_le16(disk, len, pos + 2);
		switch (tag) {
		case ACL_USER_OBJ: case ACL_USER: case ACL_GROUP_OBJ:
		case ACL_GROUP: case ACL_MASK: case ACL_OTHER:
			break;
		default:
			*why = "unknown tag";
			continue;
		}
		if (perm > 7) {
			*why = "permissions above 7";
			break;
		}
		if (acl_tag_has_id(tag)) {
			if (len - pos < ACL_FULL_ENTRY) {
				*why = "an entry runs past the end";
				break;
			}
			id = e4_le32(disk, len, pos + 4);
			pos += ACL_FULL_ENTRY;
		} else {
			pos += ACL_SHORT_ENTRY;
		}
		if (count > 0 && tag < prev_tag)
			*why = "entries out of order";
		else if (count > 0 && tag == prev_tag &&
			 (!acl_tag_has_id(tag) || id <= prev_id))
			*why = "duplicate or unsorted entry";
		prev_tag = tag;
		prev_id = id;
		seen |= tag;
		count++;
	}
	if (!*why && (!(seen & ACL_USER_OBJ) || !(seen & ACL_GROUP_OBJ) ||
		      !(seen & ACL_OTHER)))
		*why = "a required entry (owner, group, other) is missing";
	if (!*why && !!(seen & (ACL_USER | ACL_GROUP)) != !!(seen & ACL_MASK))
		*why = "named entries and the mask go together";
	if (*why)
		return -EUCLEAN;
	*count_out = count;
	return 0;
}

ssize_t e4_acl_to_xattr(const uint8_t *disk, size_t disk_len, void *buf,
			size_t size, const char **why)
{
	size_t count, need, pos = ACL_HEADER, out = ACL_HEADER;
	uint8_t *dst = buf;
	int rc;

	rc = acl_validate(disk, disk_len, &count, why);
	if (rc < 0)
		return rc;
	/* count <= disk_len / 4, so this cannot overflow */
	need = ACL_HEADER + count * ACL_FULL_ENTRY;
	if (size == 0)
		return (ssize_t)need;
	if (size < need)
		return -ERANGE;

	e4_put_le32(dst, size, 0, ACL_XATTR_VERSION);
	while (pos < disk_len) {
		uint16_t tag = e4_le16(disk, disk_len, pos);
		uint32_t id = ACL_UNDEFINED_ID;

		e4_put_le16(dst, size, out, tag);
		e4_put_le16(dst, size, out + 2, e4_le16(disk, disk_len, pos + 2));
		if (acl_tag_has_id(tag)) {
			id = e4_le32(disk, disk_len, pos + 4);
			pos += ACL_FULL_ENTRY;
		} else {
			pos += ACL_SHORT_ENTRY;
		}
		e4_put_le32(dst, size, out + 4, id);
		out += ACL_FULL_ENTRY;
	}
	return (ssize_t)need;
}

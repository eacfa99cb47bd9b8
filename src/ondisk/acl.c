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

static bool acl_tag_has_id(uint16_t tag)
{
	return tag == E4_ACL_USER || tag == E4_ACL_GROUP;
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
	size_t pos = E4_ACL_HEADER, count = 0;
	unsigned seen = 0;
	uint16_t prev_tag = 0;
	uint32_t prev_id = 0;

	*why = NULL;
	if (len < E4_ACL_HEADER ||
	    e4_le32(disk, len, E4_ACL_H_VERSION) != E4_ACL_DISK_VERSION)
		*why = "not version 1";
	while (!*why && pos < len) {
		uint16_t tag, perm;
		uint32_t id = 0;

		if (len - pos < E4_ACL_SHORT_ENTRY) {
			*why = "an entry runs past the end";
			break;
		}
		tag = e4_le16(disk, len, pos + E4_ACL_E_TAG);
		perm = e4_le16(disk, len, pos + E4_ACL_E_PERM);
		switch (tag) {
		case E4_ACL_USER_OBJ: case E4_ACL_USER: case E4_ACL_GROUP_OBJ:
		case E4_ACL_GROUP: case E4_ACL_MASK: case E4_ACL_OTHER:
			break;
		default:
			*why = "unknown tag";
			continue;
		}
		if (perm > E4_ACL_PERM_MASK) {
			*why = "permissions above 7";
			break;
		}
		if (acl_tag_has_id(tag)) {
			if (len - pos < E4_ACL_FULL_ENTRY) {
				*why = "an entry runs past the end";
				break;
			}
			id = e4_le32(disk, len, pos + E4_ACL_E_ID);
			pos += E4_ACL_FULL_ENTRY;
		} else {
			pos += E4_ACL_SHORT_ENTRY;
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
	if (!*why && (!(seen & E4_ACL_USER_OBJ) || !(seen & E4_ACL_GROUP_OBJ) ||
		      !(seen & E4_ACL_OTHER)))
		*why = "a required entry (owner, group, other) is missing";
	if (!*why &&
	    !!(seen & (E4_ACL_USER | E4_ACL_GROUP)) != !!(seen & E4_ACL_MASK))
		*why = "named entries and the mask go together";
	if (*why)
		return -EUCLEAN;
	*count_out = count;
	return 0;
}

ssize_t e4_acl_to_xattr(const uint8_t *disk, size_t disk_len, void *buf,
			size_t size, const char **why)
{
	size_t count, need, pos = E4_ACL_HEADER, out = E4_ACL_HEADER;
	uint8_t *dst = buf;
	int rc;

	rc = acl_validate(disk, disk_len, &count, why);
	if (rc < 0)
		return rc;
	/* count <= disk_len / 4, so this cannot overflow */
	need = E4_ACL_HEADER + count * E4_ACL_FULL_ENTRY;
	if (size == 0)
		return (ssize_t)need;
	if (size < need)
		return -ERANGE;

	e4_put_le32(dst, size, E4_ACL_H_VERSION, E4_ACL_XATTR_VERSION);
	while (pos < disk_len) {
		uint16_t tag = e4_le16(disk, disk_len, pos + E4_ACL_E_TAG);
		uint32_t id = E4_ACL_UNDEFINED_ID;

		e4_put_le16(dst, size, out + E4_ACL_E_TAG, tag);
		e4_put_le16(dst, size, out + E4_ACL_E_PERM,
			    e4_le16(disk, disk_len, pos + E4_ACL_E_PERM));
		if (acl_tag_has_id(tag)) {
			id = e4_le32(disk, disk_len, pos + E4_ACL_E_ID);
			pos += E4_ACL_FULL_ENTRY;
		} else {
			pos += E4_ACL_SHORT_ENTRY;
		}
		e4_put_le32(dst, size, out + E4_ACL_E_ID, id);
		out += E4_ACL_FULL_ENTRY;
	}
	return (ssize_t)need;
}

/* ---- the writer's way: the xattr ABI to the disk form -------------------- */

ssize_t e4_acl_from_xattr(const uint8_t *x, size_t len, uint8_t *disk,
			  size_t size)
{
	size_t pos = E4_ACL_HEADER, out = E4_ACL_HEADER, count;
	const char *why;
	ssize_t rc;

	if (len < E4_ACL_HEADER ||
	    e4_le32(x, len, E4_ACL_H_VERSION) != E4_ACL_XATTR_VERSION ||
	    (len - E4_ACL_HEADER) % E4_ACL_FULL_ENTRY)
		return -EINVAL;
	count = (len - E4_ACL_HEADER) / E4_ACL_FULL_ENTRY;
	if (size < E4_ACL_HEADER + count * E4_ACL_FULL_ENTRY)
		return -ERANGE;
	e4_put_le32(disk, size, E4_ACL_H_VERSION, E4_ACL_DISK_VERSION);
	for (; pos < len; pos += E4_ACL_FULL_ENTRY) {
		uint16_t tag = e4_le16(x, len, pos + E4_ACL_E_TAG);

		e4_put_le16(disk, size, out + E4_ACL_E_TAG, tag);
		e4_put_le16(disk, size, out + E4_ACL_E_PERM,
			    e4_le16(x, len, pos + E4_ACL_E_PERM));
		if (acl_tag_has_id(tag)) {
			e4_put_le32(disk, size, out + E4_ACL_E_ID,
				    e4_le32(x, len, pos + E4_ACL_E_ID));
			out += E4_ACL_FULL_ENTRY;
		} else {
			out += E4_ACL_SHORT_ENTRY;
		}
	}
	/* what is stored must read back: the rules of §9.7 */
	rc = acl_validate(disk, out, &count, &why);
	return rc < 0 ? -EINVAL : (ssize_t)out;
}

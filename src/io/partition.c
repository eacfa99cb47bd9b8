/* SPDX-License-Identifier: MIT */
/*
 * MBR and GPT parsing for whole-disk images.  512-byte logical sectors are
 * assumed for MBR; GPT is also looked for at 4096 (4Kn disks).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e4/bytes.h"
#include "io/partition.h"

#define MBR_SECTOR 512u
#define MBR_TABLE_OFF 446u
#define MBR_ENTRY_SIZE 16u
#define MBR_SIG_OFF 510u
#define MBR_TYPE_GPT_PROTECTIVE 0xEEu
/* logical partitions in one extended partition: far more than any tool
 * makes; the bound keeps a looping EBR chain finite */
#define MBR_MAX_LOGICAL 124u

#define GPT_MIN_HEADER 92u
#define GPT_MAX_ENTRIES 1024u
#define GPT_MAX_ARRAY (1024u * 1024u)

#define EXT_MAGIC_OFF 1080u
#define EXT_MAGIC 0xEF53u

const char *e4_part_scheme_name(enum e4_part_scheme s)
{
	switch (s) {
	case E4_PART_MBR: return "MBR";
	case E4_PART_GPT: return "GPT";
	default: return "none";
	}
}

static int why_fmt(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int why_fmt(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (size) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return -EUCLEAN;
}

static int read_at(int fd, uint64_t dev_size, uint64_t off, void *buf,
		   size_t len)
{
	if (off > dev_size || len > dev_size - off)
		return -ENXIO;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (uint8_t *)buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

int e4_part_has_ext_magic(int fd, uint64_t dev_size, uint64_t offset)
{
	uint8_t m[2];

	if (offset > UINT64_MAX - EXT_MAGIC_OFF)
		return 0;
	if (read_at(fd, dev_size, offset + EXT_MAGIC_OFF, m, sizeof(m)) < 0)
		return 0;
	return e4_le16(m, sizeof(m), 0) == EXT_MAGIC;
}

/* A partition in sectors -> bytes, checked against the device. */
static int add_part(struct e4_part_table *t, unsigned number, uint64_t lba,
		    uint64_t sectors, uint32_t sector, uint64_t dev_size,
		    char *why, size_t why_size)
{
	if (t->count >= E4_PART_MAX)
		return why_fmt(why, why_size, "more than %u partitions",
			       E4_PART_MAX);
	if (lba == 0 || sectors == 0 || lba > dev_size / sector ||
	    sectors > dev_size / sector - lba)
		return why_fmt(why, why_size, "%s partition %u (sectors "
			       "%llu+%llu) lies outside the %llu-byte image",
			       e4_part_scheme_name(t->scheme), number,
			       (unsigned long long)lba,
			       (unsigned long long)sectors,
			       (unsigned long long)dev_size);
	struct e4_part *p = &t->part[t->count++];

	p->number = number;
	p->offset = lba * sector;
	p->length = sectors * sector;
	return 0;
}

static bool mbr_is_extended(uint8_t type)
{
	return type == 0x05 || type == 0x0F || type == 0x85;
}

static int mbr_logical(int fd, uint64_t dev_size, uint64_t ext_start,
		       uint64_t ext_len, struct e4_part_table *t, char *why,
		       size_t why_size)
{
	uint8_t ebr[MBR_SECTOR];
	uint64_t rel = 0;	/* EBR position relative to ext_start */
	unsigned number = 5;

	for (unsigned i = 0; i < MBR_MAX_LOGICAL; i++) {
		if (rel >= ext_len)
			return why_fmt(why, why_size, "extended boot record "
				       "at sector %llu outside the extended "
				       "partition",
				       (unsigned long long)(ext_start + rel));
		uint64_t ebr_lba = ext_start + rel;
		int ret = read_at(fd, dev_size, ebr_lba * MBR_SECTOR, ebr,
				  sizeof(ebr));

		if (ret < 0)
			return why_fmt(why, why_size, "extended boot record "
				       "at sector %llu unreadable",
				       (unsigned long long)ebr_lba);
		if (e4_le16(ebr, sizeof(ebr), MBR_SIG_OFF) != 0xAA55)
			return why_fmt(why, why_size, "extended boot record "
				       "at sector %llu: no 0x55AA signature",
				       (unsigned long long)ebr_lba);
		size_t e0 = MBR_TABLE_OFF, e1 = MBR_TABLE_OFF + MBR_ENTRY_SIZE;
		uint8_t type = e4_u8(ebr, sizeof(ebr), e0 + 4);
		uint64_t start = e4_le32(ebr, sizeof(ebr), e0 + 8);
		uint64_t count = e4_le32(ebr, sizeof(ebr), e0 + 12);

		if (type != 0 && count != 0) {
			ret = add_part(t, number++, ebr_lba + start, count,
				       MBR_SECTOR, dev_size, why, why_size);
			if (ret < 0)
				return ret;
		}
		uint64_t next = e4_le32(ebr, sizeof(ebr), e1 + 8);

		if (!mbr_is_extended(e4_u8(ebr, sizeof(ebr), e1 + 4)) ||
		    next == 0)
			return 0;
		if (next <= rel)	/* chains only move forward */
			return why_fmt(why, why_size, "extended boot record "
				       "chain loops back at sector %llu",
				       (unsigned long long)ebr_lba);
		rel = next;
	}
	return why_fmt(why, why_size, "more than %u logical partitions",
		       MBR_MAX_LOGICAL);
}

static int mbr_read(int fd, uint64_t dev_size, const uint8_t *mbr,
		    struct e4_part_table *t, char *why, size_t why_size)
{
	t->scheme = E4_PART_MBR;
	for (unsigned i = 0; i < 4; i++) {
		size_t e = MBR_TABLE_OFF + i * MBR_ENTRY_SIZE;
		uint8_t type = e4_u8(mbr, MBR_SECTOR, e + 4);
		uint64_t start = e4_le32(mbr, MBR_SECTOR, e + 8);
		uint64_t count = e4_le32(mbr, MBR_SECTOR, e + 12);
		int ret;

		if (type == 0 || count == 0)
			continue;
		if (mbr_is_extended(type)) {
			if (start == 0 || start >= dev_size / MBR_SECTOR)
				return why_fmt(why, why_size, "extended "
					       "partition %u outside the image",
					       i + 1);
			ret = mbr_logical(fd, dev_size, start, count, t, why,
					  why_size);
		} else {
			ret = add_part(t, i + 1, start, count, MBR_SECTOR,
				       dev_size, why, why_size);
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* CRC-32 (IEEE 802.3, reflected), as GPT uses. */
static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xFFFFFFFFu;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* 1: a GPT was parsed, 0: none at this sector size, <0: broken. */
static int gpt_read(int fd, uint64_t dev_size, uint32_t sector,
		    struct e4_part_table *t, char *why, size_t why_size)
{
	uint8_t hdr[4096];
	int ret = read_at(fd, dev_size, sector, hdr, sector);

	if (ret < 0 || memcmp(hdr, "EFI PART", 8) != 0)
		return 0;
	t->scheme = E4_PART_GPT;

	uint32_t hsize = e4_le32(hdr, sector, 12);
	uint32_t hcrc = e4_le32(hdr, sector, 16);

	if (hsize < GPT_MIN_HEADER || hsize > sector)
		return why_fmt(why, why_size, "GPT header size %u invalid",
			       hsize);
	memset(hdr + 16, 0, 4);
	if (crc32_ieee(hdr, hsize) != hcrc)
		return why_fmt(why, why_size, "GPT header checksum mismatch");
	if (e4_le64(hdr, sector, 24) != 1)
		return why_fmt(why, why_size, "GPT header: my_lba is not 1");

	uint64_t array_lba = e4_le64(hdr, sector, 72);
	uint32_t nent = e4_le32(hdr, sector, 80);
	uint32_t esize = e4_le32(hdr, sector, 84);
	uint32_t acrc = e4_le32(hdr, sector, 88);

	if (nent > GPT_MAX_ENTRIES || esize < 128 || esize % 8 ||
	    (uint64_t)nent * esize > GPT_MAX_ARRAY)
		return why_fmt(why, why_size, "GPT: %u entries of %u bytes "
			       "not supported", nent, esize);
	if (array_lba < 2 || array_lba > dev_size / sector)
		return why_fmt(why, why_size, "GPT: entry array at LBA %llu "
			       "outside the image",
			       (unsigned long long)array_lba);

	size_t asize = (size_t)nent * esize;
	uint8_t *arr = malloc(asize ? asize : 1);

	if (!arr)
		return -ENOMEM;
	ret = read_at(fd, dev_size, array_lba * sector, arr, asize);
	if (ret < 0) {
		free(arr);
		return why_fmt(why, why_size, "GPT: entry array unreadable");
	}
	if (crc32_ieee(arr, asize) != acrc) {
		free(arr);
		return why_fmt(why, why_size, "GPT entry array checksum "
			       "mismatch");
	}
	ret = 1;
	for (uint32_t i = 0; i < nent; i++) {
		size_t e = (size_t)i * esize;
		static const uint8_t zero[16];

		if (memcmp(arr + e, zero, 16) == 0)
			continue;	/* unused entry */
		uint64_t first = e4_le64(arr, asize, e + 32);
		uint64_t last = e4_le64(arr, asize, e + 40);

		if (last < first) {
			ret = why_fmt(why, why_size, "GPT partition %u ends "
				      "before it starts", i + 1);
			break;
		}
		int r = add_part(t, i + 1, first, last - first + 1, sector,
				 dev_size, why, why_size);

		if (r < 0) {
			ret = r;
			break;
		}
	}
	free(arr);
	return ret;
}

int e4_part_read(int fd, uint64_t dev_size, struct e4_part_table *t,
		 char *why, size_t why_size)
{
	uint8_t mbr[MBR_SECTOR];
	int ret;

	memset(t, 0, sizeof(*t));
	if (why_size)
		why[0] = '\0';
	if (read_at(fd, dev_size, 0, mbr, sizeof(mbr)) < 0)
		return 0;
	if (e4_le16(mbr, sizeof(mbr), MBR_SIG_OFF) != 0xAA55)
		return 0;

	bool protective = false;

	for (unsigned i = 0; i < 4; i++)
		if (e4_u8(mbr, sizeof(mbr), MBR_TABLE_OFF +
			  i * MBR_ENTRY_SIZE + 4) == MBR_TYPE_GPT_PROTECTIVE)
			protective = true;
	if (protective) {
		ret = gpt_read(fd, dev_size, 512, t, why, why_size);
		if (ret == 0)
			ret = gpt_read(fd, dev_size, 4096, t, why, why_size);
		if (ret == 0)
			return why_fmt(why, why_size, "protective MBR "
				       "without a GPT header");
		return ret < 0 ? ret : 0;
	}
	return mbr_read(fd, dev_size, mbr, t, why, why_size);
}

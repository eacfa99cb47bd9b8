/* SPDX-License-Identifier: MIT */
/*
 * MBR and GPT parsing for whole-disk images, through the device layer.
 * 512-byte logical sectors are assumed for MBR; GPT is also looked for at
 * 4096 (4Kn disks).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/bytes.h"
#include "e4/format.h"
#include "io/dev.h"
#include "io/partition.h"

#define MBR_SECTOR 512u
#define MBR_TABLE_OFF 446u
#define MBR_ENTRY_SIZE 16u
#define MBR_SIG_OFF 510u
#define MBR_SIGNATURE 0xAA55u
#define MBR_TYPE_GPT_PROTECTIVE 0xEEu
/* logical partitions in one extended partition: far more than any tool
 * makes; the bound keeps a looping EBR chain finite */
#define MBR_MAX_LOGICAL 124u

#define GPT_MIN_HEADER 92u
#define GPT_MAX_ENTRIES E4_PART_NUMBER_MAX
#define GPT_MAX_ARRAY (1024u * 1024u)
#define GPT_MAX_SECTOR 4096u

const char *e4_part_scheme_name(enum e4_part_scheme s)
{
	switch (s) {
	case E4_PART_MBR: return "MBR";
	case E4_PART_GPT: return "GPT";
	default: return "none";
	}
}

int e4_part_report(e4_log_fn log, void *log_ctx, int err, const char *fmt,
		   ...)
{
	char msg[512];
	va_list ap;

	if (!log)
		return err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log(log_ctx, E4_LOG_ERROR, msg);
	return err;
}

uint32_t e4_crc32_ieee(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xFFFFFFFFu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

bool e4_has_ext_magic(struct e4_dev *dev, uint64_t offset)
{
	uint8_t m[2];
	uint64_t at;

	if (e4_add_overflow(offset, (uint64_t)E4_SB_OFFSET + E4_SB_MAGIC_OFF,
			    &at))
		return false;
	if (e4_dev_pread(dev, m, sizeof(m), at) < 0)
		return false;
	return e4_le16(m, sizeof(m), 0) == E4_SB_MAGIC;
}

const char *e4_other_fs_guess(struct e4_dev *dev)
{
	static const struct {
		uint32_t off;
		const char *magic, *what;
	} sig[] = {
		{ 0, "XFSB", "an XFS file system" },
		{ 3, "NTFS    ", "an NTFS file system" },
		{ 3, "EXFAT   ", "an exFAT file system" },
		{ 54, "FAT1", "a FAT file system" },
		{ 82, "FAT32   ", "a FAT file system" },
		{ 0, "LUKS\xba\xbe", "a LUKS encrypted volume" },
		{ 0, "hsqs", "a squashfs image" },
		{ 0x10040, "_BHRfS_M", "a btrfs file system" },
		{ 0x8001, "CD001", "an ISO 9660 (CD) image" },
		{ 4086, "SWAPSPACE2", "swap space" },
	};
	uint8_t buf[16];

	for (size_t i = 0; i < sizeof(sig) / sizeof(sig[0]); i++) {
		size_t len = strlen(sig[i].magic);

		if (e4_dev_pread(dev, buf, len, sig[i].off) == 0 &&
		    memcmp(buf, sig[i].magic, len) == 0)
			return sig[i].what;
	}
	return NULL;
}

/* Where one table's problems are reported. */
struct part_ctx {
	struct e4_dev *dev;
	struct e4_part_table *t;
	e4_log_fn log;
	void *log_ctx;
};

#define bad_table(c, ...) \
	e4_part_report((c)->log, (c)->log_ctx, -EUCLEAN, \
		       "bad partition table: " __VA_ARGS__)

/* A partition in sectors -> bytes, checked against the device. */
static int add_part(struct part_ctx *c, unsigned number, uint64_t lba,
		    uint64_t sectors, uint32_t sector)
{
	uint64_t dev_size = c->dev->size;
	struct e4_part_table *t = c->t;

	if (t->count >= E4_PART_MAX)
		return bad_table(c, "more than %u partitions", E4_PART_MAX);
	if (lba == 0 || sectors == 0 || lba > dev_size / sector ||
	    sectors > dev_size / sector - lba)
		return bad_table(c, "%s partition %u (sectors %llu+%llu) lies "
				 "outside the %llu-byte image",
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

/* The chain of extended boot records: partitions 5, 6, ... */
static int mbr_logical(struct part_ctx *c, uint64_t ext_start,
		       uint64_t ext_len)
{
	uint8_t ebr[MBR_SECTOR];
	uint64_t rel = 0;	/* EBR position relative to ext_start */
	unsigned number = 5;

	for (unsigned i = 0; i < MBR_MAX_LOGICAL; i++) {
		uint64_t ebr_lba = ext_start + rel;

		if (rel >= ext_len)
			return bad_table(c, "extended boot record at sector "
					 "%llu outside the extended partition",
					 (unsigned long long)ebr_lba);
		if (e4_dev_pread(c->dev, ebr, sizeof(ebr),
				 ebr_lba * MBR_SECTOR) < 0)
			return bad_table(c, "extended boot record at sector "
					 "%llu unreadable",
					 (unsigned long long)ebr_lba);
		if (e4_le16(ebr, sizeof(ebr), MBR_SIG_OFF) != MBR_SIGNATURE)
			return bad_table(c, "extended boot record at sector "
					 "%llu: no 0x55AA signature",
					 (unsigned long long)ebr_lba);

		size_t e0 = MBR_TABLE_OFF, e1 = MBR_TABLE_OFF + MBR_ENTRY_SIZE;
		uint8_t type = e4_u8(ebr, sizeof(ebr), e0 + 4);
		uint64_t start = e4_le32(ebr, sizeof(ebr), e0 + 8);
		uint64_t count = e4_le32(ebr, sizeof(ebr), e0 + 12);

		if (type != 0 && count != 0) {
			int ret = add_part(c, number++, ebr_lba + start, count,
					   MBR_SECTOR);

			if (ret < 0)
				return ret;
		}
		uint64_t next = e4_le32(ebr, sizeof(ebr), e1 + 8);

		if (!mbr_is_extended(e4_u8(ebr, sizeof(ebr), e1 + 4)) ||
		    next == 0)
			return 0;
		if (next <= rel)	/* chains only move forward */
			return bad_table(c, "extended boot record chain loops "
					 "back at sector %llu",
					 (unsigned long long)ebr_lba);
		rel = next;
	}
	return bad_table(c, "more than %u logical partitions",
			 MBR_MAX_LOGICAL);
}

static int mbr_read(struct part_ctx *c, const uint8_t *mbr)
{
	c->t->scheme = E4_PART_MBR;
	for (unsigned i = 0; i < 4; i++) {
		size_t e = MBR_TABLE_OFF + i * MBR_ENTRY_SIZE;
		uint8_t type = e4_u8(mbr, MBR_SECTOR, e + 4);
		uint64_t start = e4_le32(mbr, MBR_SECTOR, e + 8);
		uint64_t count = e4_le32(mbr, MBR_SECTOR, e + 12);
		int ret;

		if (type == 0 || count == 0)
			continue;
		if (mbr_is_extended(type)) {
			if (start == 0 || start >= c->dev->size / MBR_SECTOR)
				return bad_table(c, "extended partition %u "
						 "outside the image", i + 1);
			ret = mbr_logical(c, start, count);
		} else {
			ret = add_part(c, i + 1, start, count, MBR_SECTOR);
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int gpt_entries(struct part_ctx *c, const uint8_t *arr, size_t asize,
		       uint32_t nent, uint32_t esize, uint32_t sector)
{
	static const uint8_t unused[16];

	for (uint32_t i = 0; i < nent; i++) {
		size_t e = (size_t)i * esize;

		if (memcmp(arr + e, unused, sizeof(unused)) == 0)
			continue;	/* no partition type: unused entry */
		uint64_t first = e4_le64(arr, asize, e + 32);
		uint64_t last = e4_le64(arr, asize, e + 40);

		if (last < first)
			return bad_table(c, "GPT partition %u ends before it "
					 "starts", i + 1);
		int ret = add_part(c, i + 1, first, last - first + 1, sector);

		if (ret < 0)
			return ret;
	}
	return 0;
}

/* 1: a GPT was parsed, 0: none at this sector size, <0: broken. */
static int gpt_read(struct part_ctx *c, uint32_t sector)
{
	uint8_t hdr[GPT_MAX_SECTOR];

	if (e4_dev_pread(c->dev, hdr, sector, sector) < 0 ||
	    memcmp(hdr, "EFI PART", 8) != 0)
		return 0;
	c->t->scheme = E4_PART_GPT;

	uint32_t hsize = e4_le32(hdr, sector, 12);
	uint32_t hcrc = e4_le32(hdr, sector, 16);

	if (hsize < GPT_MIN_HEADER || hsize > sector)
		return bad_table(c, "GPT header size %u invalid", hsize);
	e4_put_le32(hdr, sector, 16, 0);
	if (e4_crc32_ieee(hdr, hsize) != hcrc)
		return bad_table(c, "GPT header checksum mismatch");
	if (e4_le64(hdr, sector, 24) != 1)
		return bad_table(c, "GPT header: my_lba is not 1");

	uint64_t array_lba = e4_le64(hdr, sector, 72);
	uint32_t nent = e4_le32(hdr, sector, 80);
	uint32_t esize = e4_le32(hdr, sector, 84);
	uint32_t acrc = e4_le32(hdr, sector, 88);

	if (nent > GPT_MAX_ENTRIES || esize < 128 || esize % 8 ||
	    (uint64_t)nent * esize > GPT_MAX_ARRAY)
		return bad_table(c, "GPT: %u entries of %u bytes not "
				 "supported", nent, esize);
	if (array_lba < 2 || array_lba > c->dev->size / sector)
		return bad_table(c, "GPT: entry array at LBA %llu outside the "
				 "image", (unsigned long long)array_lba);

	size_t asize = (size_t)nent * esize;
	uint8_t *arr = malloc(asize ? asize : 1);
	int ret;

	if (!arr)
		return -ENOMEM;
	if (e4_dev_pread(c->dev, arr, asize, array_lba * sector) < 0)
		ret = bad_table(c, "GPT: entry array unreadable");
	else if (e4_crc32_ieee(arr, asize) != acrc)
		ret = bad_table(c, "GPT entry array checksum mismatch");
	else
		ret = gpt_entries(c, arr, asize, nent, esize, sector);
	free(arr);
	return ret < 0 ? ret : 1;
}

int e4_part_read(struct e4_dev *dev, struct e4_part_table *t, e4_log_fn log,
		 void *log_ctx)
{
	struct part_ctx c = { dev, t, log, log_ctx };
	uint8_t mbr[MBR_SECTOR];
	bool protective = false;
	int ret;

	memset(t, 0, sizeof(*t));
	if (e4_dev_pread(dev, mbr, sizeof(mbr), 0) < 0 ||
	    e4_le16(mbr, sizeof(mbr), MBR_SIG_OFF) != MBR_SIGNATURE)
		return 0;	/* too small for a table, or none */
	for (unsigned i = 0; i < 4; i++)
		if (e4_u8(mbr, sizeof(mbr), MBR_TABLE_OFF +
			  i * MBR_ENTRY_SIZE + 4) == MBR_TYPE_GPT_PROTECTIVE)
			protective = true;
	if (!protective)
		return mbr_read(&c, mbr);
	ret = gpt_read(&c, MBR_SECTOR);
	if (ret == 0)
		ret = gpt_read(&c, GPT_MAX_SECTOR);
	if (ret == 0)
		return bad_table(&c, "protective MBR without a GPT header");
	return ret < 0 ? ret : 0;
}

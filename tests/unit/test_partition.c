/* SPDX-License-Identifier: MIT */
/*
 * Whole-disk images: MBR (primary and logical partitions) and GPT tables
 * are read as sfdisk and sgdisk wrote them, broken tables are refused with
 * the broken rule named, and the file system is located as e4fuse and
 * e4img need it (offset, partition N, the one ext partition).
 *
 * Tables are written here byte by byte (so any field can be broken, GPT
 * checksums recomputed with the library's CRC) on memory devices; the
 * tools' tables are read back from image files and compared with what
 * `sfdisk -d` says of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/bytes.h"
#include "e4/format.h"
#include "e4/partition.h"
#include "io/dev.h"
#include "io/partition.h"
#include "testutil.h"

#define S 512u
#define MIB (1024u * 1024u)

/* ---- disks in memory ------------------------------------------------------ */

struct disk {
	uint8_t *b;
	size_t size;
	struct e4_dev *dev;
};

static struct disk disk_new(size_t size)
{
	struct disk d = { calloc(1, size), size, NULL };

	assert_non_null(d.b);
	return d;
}

static struct e4_dev *disk_dev(struct disk *d)
{
	if (!d->dev)
		assert_int_equal(e4_dev_open_mem(d->b, d->size, &d->dev), 0);
	return d->dev;
}

static void disk_free(struct disk *d)
{
	e4_dev_close(d->dev);
	free(d->b);
}

/* Entry @i (0-3) of the MBR-style table in sector @sector. */
static void mbr_entry(struct disk *d, uint64_t sector, unsigned i,
		      uint8_t type, uint32_t start, uint32_t count)
{
	size_t o = sector * S + 446 + 16 * i;

	d->b[o + 4] = type;
	e4_put_le32(d->b, d->size, o + 8, start);
	e4_put_le32(d->b, d->size, o + 12, count);
	e4_put_le16(d->b, d->size, sector * S + 510, 0xAA55);
}

/* An ext superblock magic at byte @off (all e4_locate_fs looks at). */
static void ext_magic(struct disk *d, uint64_t off)
{
	e4_put_le16(d->b, d->size, off + E4_SB_OFFSET + E4_SB_MAGIC_OFF,
		    E4_SB_MAGIC);
}

struct gpt_part {
	unsigned number;	/* entry index + 1 */
	uint64_t first, last;	/* LBAs */
};

/* The GPT fields a test may break before the checksums are computed. */
struct gpt_opts {
	uint32_t sector;	/* 512 or 4096 */
	uint32_t nent, esize;	/* 0: 128 entries of 128 bytes */
	uint32_t hsize;		/* 0: 92 */
	uint64_t my_lba;	/* 0: 1 */
	uint64_t array_lba;	/* 0: 2 */
	bool bad_header_crc, bad_array_crc;
};

static void gpt_write(struct disk *d, const struct gpt_opts *go,
		      const struct gpt_part *p, unsigned n)
{
	uint32_t sec = go->sector ? go->sector : S;
	uint32_t nent = go->nent ? go->nent : 128;
	uint32_t esize = go->esize ? go->esize : 128;
	uint32_t hsize = go->hsize ? go->hsize : 92;
	uint64_t array_lba = go->array_lba ? go->array_lba : 2;
	uint64_t total = d->size / sec;
	size_t asize = (size_t)nent * esize;
	uint8_t *arr = calloc(1, asize);
	uint8_t *h = d->b + sec;

	assert_non_null(arr);
	mbr_entry(d, 0, 0, 0xEE, 1, (uint32_t)(d->size / S - 1));
	for (unsigned i = 0; i < n; i++) {
		size_t e = (size_t)(p[i].number - 1) * esize;

		memset(arr + e, 0xAF, 16);	/* any non-zero type GUID */
		e4_put_le64(arr, asize, e + 32, p[i].first);
		e4_put_le64(arr, asize, e + 40, p[i].last);
	}
	memcpy(h, "EFI PART", 8);
	e4_put_le32(h, sec, 8, 0x00010000);
	e4_put_le32(h, sec, 12, hsize);
	e4_put_le64(h, sec, 24, go->my_lba ? go->my_lba : 1);
	e4_put_le64(h, sec, 32, total - 1);
	e4_put_le64(h, sec, 40, 34);
	e4_put_le64(h, sec, 48, total - 34);
	e4_put_le64(h, sec, 72, array_lba);
	e4_put_le32(h, sec, 80, nent);
	e4_put_le32(h, sec, 84, esize);
	e4_put_le32(h, sec, 88, e4_crc32_ieee(arr, asize) ^
				(go->bad_array_crc ? 1u : 0u));
	if (array_lba * sec + asize <= d->size)
		memcpy(d->b + array_lba * sec, arr, asize);
	e4_put_le32(h, sec, 16, 0);
	e4_put_le32(h, sec, 16, e4_crc32_ieee(h, hsize > sec ? sec : hsize) ^
				(go->bad_header_crc ? 1u : 0u));
	free(arr);
}

/* ---- reading tables ------------------------------------------------------- */

static struct e4_part_table table;

static int read_table(struct disk *d)
{
	tu_log_clear();
	return e4_part_read(disk_dev(d), &table, tu_log_record, NULL);
}

static void assert_part(unsigned i, unsigned number, uint64_t offset,
			uint64_t length)
{
	assert_true(i < table.count);
	assert_int_equal(table.part[i].number, number);
	assert_int_equal(table.part[i].offset, offset);
	assert_int_equal(table.part[i].length, length);
}

/* A broken table: -EUCLEAN and the rule in the report. */
static void assert_bad(struct disk *d, const char *why)
{
	assert_int_equal(read_table(d), -EUCLEAN);
	tu_assert_log(tu_msg("bad partition table: %s", why));
	disk_free(d);
}

static void test_no_table(void **state)
{
	(void)state;
	struct disk d = disk_new(MIB);

	assert_int_equal(read_table(&d), 0);
	assert_int_equal(table.scheme, E4_PART_NONE);
	assert_int_equal(table.count, 0);
	disk_free(&d);

	/* smaller than one sector: no table, not an error */
	d = disk_new(100);
	assert_int_equal(read_table(&d), 0);
	assert_int_equal(table.scheme, E4_PART_NONE);
	assert_string_equal(tu_log(), "");
	disk_free(&d);
}

static void test_mbr_primary(void **state)
{
	(void)state;
	struct disk d = disk_new(16 * MIB);

	mbr_entry(&d, 0, 0, 0x83, 2048, 4096);
	mbr_entry(&d, 0, 2, 0x0C, 8192, 100);	/* entry 2 unused */
	assert_int_equal(read_table(&d), 0);
	assert_int_equal(table.scheme, E4_PART_MBR);
	assert_int_equal(table.count, 2);
	assert_part(0, 1, 2048 * S, 4096 * S);
	assert_part(1, 3, 8192ull * S, 100 * S);
	disk_free(&d);
}

/* Logical partitions: EBR starts are relative to the extended partition,
 * partition starts to their own EBR; Linux numbers them from 5. */
static void test_mbr_logical(void **state)
{
	(void)state;
	struct disk d = disk_new(16 * MIB);

	mbr_entry(&d, 0, 0, 0x83, 2048, 2048);
	mbr_entry(&d, 0, 1, 0x05, 8192, 16384);
	mbr_entry(&d, 8192, 0, 0x83, 2048, 1000);	/* -> 10240 */
	mbr_entry(&d, 8192, 1, 0x05, 4096, 4096);	/* next EBR: 12288 */
	mbr_entry(&d, 12288, 0, 0x83, 63, 2000);	/* -> 12351 */
	assert_int_equal(read_table(&d), 0);
	assert_int_equal(table.count, 3);
	assert_part(0, 1, 2048 * S, 2048 * S);
	assert_part(1, 5, 10240ull * S, 1000 * S);
	assert_part(2, 6, 12351ull * S, 2000 * S);
	disk_free(&d);
}

static void test_gpt(void **state)
{
	(void)state;
	struct disk d = disk_new(16 * MIB);
	const struct gpt_part p[] = { { 1, 2048, 4095 }, { 3, 8192, 10239 } };

	gpt_write(&d, &(struct gpt_opts){ 0 }, p, 2);
	assert_int_equal(read_table(&d), 0);
	assert_int_equal(table.scheme, E4_PART_GPT);
	assert_int_equal(table.count, 2);
	assert_part(0, 1, 2048 * S, 2048 * S);
	assert_part(1, 3, 8192ull * S, 2048 * S);
	disk_free(&d);
}

/* 4Kn disks: the header is at byte 4096, LBAs count 4 KiB sectors. */
static void test_gpt_4k_sectors(void **state)
{
	(void)state;
	struct disk d = disk_new(16 * MIB);
	const struct gpt_part p[] = { { 2, 256, 511 } };

	gpt_write(&d, &(struct gpt_opts){ .sector = 4096 }, p, 1);
	assert_int_equal(read_table(&d), 0);
	assert_int_equal(table.scheme, E4_PART_GPT);
	assert_int_equal(table.count, 1);
	assert_part(0, 2, 256ull * 4096, 256ull * 4096);
	disk_free(&d);
}

static void test_mbr_broken(void **state)
{
	(void)state;
	struct disk d = disk_new(4 * MIB);	/* 8192 sectors */

	mbr_entry(&d, 0, 0, 0x83, 2048, 8192);
	assert_bad(&d, "MBR partition 1 (sectors 2048+8192) lies outside the "
		   "4194304-byte image");

	d = disk_new(4 * MIB);
	mbr_entry(&d, 0, 1, 0x0F, 9000, 100);
	assert_bad(&d, "extended partition 2 outside the image");

	d = disk_new(4 * MIB);
	mbr_entry(&d, 0, 0, 0x05, 2048, 4096);	/* sector 2048 is all zero */
	assert_bad(&d, "extended boot record at sector 2048: no 0x55AA "
		   "signature");

	/* the second EBR points back at the first */
	d = disk_new(4 * MIB);
	mbr_entry(&d, 0, 0, 0x05, 2048, 4096);
	mbr_entry(&d, 2048, 0, 0x83, 1, 100);
	mbr_entry(&d, 2048, 1, 0x05, 200, 300);
	mbr_entry(&d, 2248, 0, 0x83, 1, 100);
	mbr_entry(&d, 2248, 1, 0x05, 200, 300);
	assert_bad(&d, "extended boot record chain loops back at sector 2248");

	/* an EBR link past the extended partition's end */
	d = disk_new(4 * MIB);
	mbr_entry(&d, 0, 0, 0x05, 2048, 100);
	mbr_entry(&d, 2048, 0, 0x83, 1, 10);
	mbr_entry(&d, 2048, 1, 0x05, 500, 10);
	assert_bad(&d, "extended boot record at sector 2548 outside the "
		   "extended partition");

	/* a forward chain longer than any tool makes ends */
	d = disk_new(4 * MIB);
	mbr_entry(&d, 0, 0, 0x05, 2048, 4096);
	for (uint32_t k = 0; k < 200; k++) {
		mbr_entry(&d, 2048 + 2 * k, 0, 0x83, 1, 1);
		mbr_entry(&d, 2048 + 2 * k, 1, 0x05, 2 * (k + 1), 2);
	}
	assert_bad(&d, "more than 124 logical partitions");
}

static void test_gpt_broken(void **state)
{
	(void)state;
	const struct gpt_part ok[] = { { 1, 2048, 4095 } };
	const struct {
		struct gpt_opts go;
		struct gpt_part p;
		const char *why;
	} cases[] = {
		{ { .bad_header_crc = true }, { 1, 2048, 4095 },
		  "GPT header checksum mismatch" },
		{ { .bad_array_crc = true }, { 1, 2048, 4095 },
		  "GPT entry array checksum mismatch" },
		{ { .hsize = 91 }, { 1, 2048, 4095 },
		  "GPT header size 91 invalid" },
		{ { .hsize = 513 }, { 1, 2048, 4095 },
		  "GPT header size 513 invalid" },
		{ { .my_lba = 2 }, { 1, 2048, 4095 },
		  "GPT header: my_lba is not 1" },
		{ { .nent = 1025 }, { 1, 2048, 4095 },
		  "GPT: 1025 entries of 128 bytes not supported" },
		{ { .esize = 100 }, { 1, 2048, 4095 },
		  "GPT: 128 entries of 100 bytes not supported" },
		{ { .array_lba = 9000 }, { 1, 2048, 4095 },
		  "GPT: entry array at LBA 9000 outside the image" },
		{ { 0 }, { 2, 4095, 2048 },
		  "GPT partition 2 ends before it starts" },
		{ { 0 }, { 1, 2048, 8192 },
		  "GPT partition 1 (sectors 2048+6145) lies outside the "
		  "4194304-byte image" },
		{ { 0 }, { 1, 0, 10 },
		  "GPT partition 1 (sectors 0+11) lies outside the "
		  "4194304-byte image" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct disk d = disk_new(4 * MIB);

		gpt_write(&d, &cases[i].go, &cases[i].p, 1);
		assert_bad(&d, cases[i].why);
	}

	/* the entry array runs past the end of the image */
	struct disk d = disk_new(4 * MIB);

	gpt_write(&d, &(struct gpt_opts){ .array_lba = 8190 }, ok, 1);
	assert_bad(&d, "GPT: entry array unreadable");

	/* a protective MBR promises a GPT that is not there */
	d = disk_new(4 * MIB);
	mbr_entry(&d, 0, 0, 0xEE, 1, 8191);
	assert_bad(&d, "protective MBR without a GPT header");
}

/* ---- locating the file system -------------------------------------------- */

static struct e4_location loc;

static int locate(struct disk *d, struct e4_locate_opts o)
{
	o.log = tu_log_record;
	o.choose_hint = "--partition=N";
	tu_log_clear();
	memset(&loc, 0xA5, sizeof(loc));
	return e4_locate_fs(disk_dev(d), &o, &loc);
}

static void assert_loc(uint64_t offset, uint64_t length, unsigned partition)
{
	assert_int_equal(loc.offset, offset);
	assert_int_equal(loc.length, length);
	assert_int_equal(loc.partition, partition);
}

static void test_locate_bare_and_offset(void **state)
{
	(void)state;
	struct disk d = disk_new(4 * MIB);

	/* a file system at the start wins over anything else */
	ext_magic(&d, 0);
	assert_int_equal(locate(&d, (struct e4_locate_opts){ 0 }), 0);
	assert_loc(0, 0, 0);
	assert_int_equal(loc.scheme, E4_PART_NONE);

	/* no superblock and no table: the start, for e4_fs_open to judge */
	memset(d.b, 0, d.size);
	assert_int_equal(locate(&d, (struct e4_locate_opts){ 0 }), 0);
	assert_loc(0, 0, 0);

	/* offset= is taken as given, checked against the image only */
	assert_int_equal(locate(&d, (struct e4_locate_opts){
		.offset_set = true, .offset = 4096 }), 0);
	assert_loc(4096, 0, 0);
	assert_int_equal(locate(&d, (struct e4_locate_opts){
		.offset_set = true, .offset = 4 * MIB }), -EINVAL);
	tu_assert_log("offset 4194304 is past the end of the 4194304-byte "
		      "image");
	assert_int_equal(locate(&d, (struct e4_locate_opts){
		.offset_set = true, .partition = 1 }), -EINVAL);
	tu_assert_log("offset and partition exclude each other");

	/* partition= on a disk without a table */
	assert_int_equal(locate(&d, (struct e4_locate_opts){
		.partition = 1 }), -ENOENT);
	tu_assert_log("no partition 1 (no partition table)");
	disk_free(&d);
}

static void test_locate_partitions(void **state)
{
	(void)state;
	struct disk d = disk_new(16 * MIB);
	const struct gpt_part p[] = { { 1, 2048, 4095 }, { 2, 4096, 8191 },
				      { 3, 8192, 8193 } };

	gpt_write(&d, &(struct gpt_opts){ 0 }, p, 3);
	/* none holds a file system; a superblock magic that does not fit in
	 * its (1 KiB) partition does not count */
	ext_magic(&d, 8192ull * S);
	assert_int_equal(locate(&d, (struct e4_locate_opts){ 0 }), -EINVAL);
	tu_assert_log("GPT partition table with 3 partitions, none holds an "
		      "ext2/3/4 file system");

	/* the one that does is found by itself */
	ext_magic(&d, 4096ull * S);
	assert_int_equal(locate(&d, (struct e4_locate_opts){ 0 }), 0);
	assert_loc(4096ull * S, 4096ull * S, 2);
	assert_int_equal(loc.scheme, E4_PART_GPT);

	/* two: the user chooses */
	ext_magic(&d, 2048ull * S);
	assert_int_equal(locate(&d, (struct e4_locate_opts){ 0 }), -EINVAL);
	tu_assert_log("2 partitions hold an ext2/3/4 file system; choose one "
		      "with --partition=N");
	assert_int_equal(locate(&d, (struct e4_locate_opts){
		.partition = 1 }), 0);
	assert_loc(2048ull * S, 2048ull * S, 1);

	/* partition=N is taken whatever it holds, if the table has it */
	assert_int_equal(locate(&d, (struct e4_locate_opts){
		.partition = 3 }), 0);
	assert_loc(8192ull * S, 2 * S, 3);
	assert_int_equal(locate(&d, (struct e4_locate_opts){
		.partition = 4 }), -ENOENT);
	tu_assert_log("no partition 4 (GPT partition table with 3 "
		      "partitions: 1, 2, 3)");

	/* a broken table is not searched */
	e4_put_le32(d.b, d.size, S + 16, 0);
	assert_int_equal(locate(&d, (struct e4_locate_opts){ 0 }), -EUCLEAN);
	tu_assert_log("bad partition table: GPT header checksum mismatch");
	disk_free(&d);
}

/* A slice reads its part of the parent and nothing outside it. */
static void test_slice(void **state)
{
	(void)state;
	struct disk d = disk_new(64 * 1024);
	struct e4_dev *slice, *whole;
	uint8_t buf[16];

	for (size_t i = 0; i < d.size; i++)
		d.b[i] = (uint8_t)(i / 4096);
	assert_int_equal(e4_dev_open_slice(disk_dev(&d), 8192, 4096, &slice),
			 0);
	assert_int_equal(e4_dev_size(slice), 4096);
	assert_int_equal(e4_dev_pread(slice, buf, sizeof(buf), 4080), 0);
	assert_int_equal(buf[0], 2);
	assert_int_equal(e4_dev_pread(slice, buf, sizeof(buf), 4090), -EIO);
	assert_int_equal(e4_dev_pwrite(slice, buf, 1, 0), -EROFS);

	/* the whole range is the parent itself; past the end is refused */
	assert_int_equal(e4_dev_open_slice(d.dev, 0, 0, &whole), 0);
	assert_ptr_equal(whole, d.dev);
	assert_int_equal(e4_dev_open_slice(d.dev, d.size + 1, 0, &whole),
			 -EINVAL);
	d.dev = NULL;		/* the slice owns it now */
	e4_dev_close(slice);
	free(d.b);
}

/* ---- tables written by sfdisk and sgdisk ------------------------------------ */

static bool have_tool(const char *tool)
{
	char *r = tu_sh_out("PATH=$PATH:/sbin:/usr/sbin command -v %s || true",
			    tool);
	bool ok = r[0] != '\0';

	free(r);
	return ok;
}

/* The partition table of @disk as `sfdisk -d` lists it ("N start size
 * type" lines, in sectors), compared with what the library read. */
static void assert_matches_sfdisk(const char *disk)
{
	char *dump = tu_sh_out("PATH=$PATH:/sbin:/usr/sbin sfdisk -d '%s' | "
			       "sed -n 's|^%s\\([0-9]*\\) *: *start= *\\([0-9]*\\), "
			       "*size= *\\([0-9]*\\), *type=\\([0-9A-Fa-f-]*\\).*|"
			       "\\1 \\2 \\3 \\4|p'", disk, disk);
	unsigned listed = 0, number;
	unsigned long long start, size;
	char type[64];
	int used;

	for (const char *p = dump; sscanf(p, "%u %llu %llu %63s\n%n", &number,
					  &start, &size, type, &used) == 4;
	     p += used) {
		if (!strcmp(type, "5") || !strcmp(type, "f") ||
		    !strcmp(type, "85"))
			continue;	/* an extended partition: a container */
		bool found = false;

		for (unsigned i = 0; i < table.count; i++) {
			if (table.part[i].number != number)
				continue;
			assert_int_equal(table.part[i].offset, start * S);
			assert_int_equal(table.part[i].length, size * S);
			found = true;
		}
		if (!found)
			fail_msg("partition %u of %s not read:\n%s", number,
				 disk, dump);
		listed++;
	}
	assert_int_equal(listed, table.count);
	free(dump);
}

/* Open the file system @o locates in @disk and read /hello from it. */
static void assert_opens(const char *disk, struct e4_locate_opts o,
			 unsigned want_partition)
{
	struct e4_dev *image, *dev;
	struct e4_location where;
	struct e4_open_opts oo = { .read_only = true };
	struct e4_fs *fs;
	struct e4_inode in;
	uint32_t ino;
	char buf[64];

	o.log = tu_log_record;
	tu_log_clear();
	assert_int_equal(e4_dev_open_file(disk, 0, 0, false, &image), 0);
	assert_int_equal(e4_dev_open_located(image, &o, &where, &dev), 0);
	assert_int_equal(where.partition, want_partition);
	assert_int_equal(tu_open_dev(dev, &oo, &fs), 0);
	assert_int_equal(e4_path_lookup(fs, "/hello", &ino), 0);
	assert_int_equal(e4_inode_read(fs, ino, &in), 0);
	assert_int_equal(e4_file_read(fs, &in, 0, buf, sizeof(buf)), 12);
	assert_memory_equal(buf, "in a slice!\n", 12);
	tu_close(fs);
}

static char *fs_image(void)
{
	static char *img;

	if (!img) {
		char *tree = strdup(tu_msg("%s/tree", tu_tmpdir()));

		tu_sh("mkdir -p '%s' && echo 'in a slice!' > '%s/hello'",
		      tree, tree);
		img = tu_mkfs("fs.img", "-b 1024", tree, "4M");
		free(tree);
	}
	return img;
}

/* Copy the file system into partition @n (sectors @start) of @disk. */
static void put_fs(const char *disk, unsigned long long start)
{
	tu_sh("dd if='%s' of='%s' bs=512 seek=%llu conv=notrunc status=none",
	      fs_image(), disk, start);
}

static void read_file_table(const char *disk)
{
	struct e4_dev *dev;

	assert_int_equal(e4_dev_open_file(disk, 0, 0, false, &dev), 0);
	tu_log_clear();
	assert_int_equal(e4_part_read(dev, &table, tu_log_record, NULL), 0);
	e4_dev_close(dev);
}

static void test_sfdisk_mbr(void **state)
{
	(void)state;
	if (!have_tool("sfdisk"))
		tu_skip("sfdisk missing (Debian package fdisk)");
	const char *disk = tu_msg("%s/mbr.img", tu_tmpdir());
	char *path = strdup(disk);

	/* a primary, then an extended partition with three logical ones
	 * (sfdisk numbers a script's lines by the names they carry) */
	tu_sh("truncate -s 40M '%s' && PATH=$PATH:/sbin:/usr/sbin sfdisk -q "
	      "'%s' >/dev/null <<EOF\n"
	      "label: dos\n"
	      "%s1 : start=2048, size=4M, type=83\n"
	      "%s2 : start=12288, type=5\n"
	      "%s5 : size=6M, type=83\n"
	      "%s6 : size=8M, type=83\n"
	      "%s7 : type=83\n"
	      "EOF", path, path, path, path, path, path, path);
	read_file_table(path);
	assert_int_equal(table.scheme, E4_PART_MBR);
	assert_int_equal(table.count, 4);
	assert_int_equal(table.part[3].number, 7);
	assert_matches_sfdisk(path);

	/* the file system in logical partition 6 is the only one */
	put_fs(path, table.part[2].offset / S);
	assert_opens(path, (struct e4_locate_opts){ 0 }, 6);
	assert_opens(path, (struct e4_locate_opts){ .partition = 6 }, 6);
	assert_opens(path, (struct e4_locate_opts){
		.offset_set = true, .offset = table.part[2].offset }, 0);
	free(path);
}

static void test_sgdisk_gpt(void **state)
{
	(void)state;
	if (!have_tool("sgdisk") || !have_tool("sfdisk"))
		tu_skip("sgdisk or sfdisk missing (Debian packages gdisk, "
			"fdisk)");
	const char *disk = tu_msg("%s/gpt.img", tu_tmpdir());
	char *path = strdup(disk);

	/* entries 2 and 5 unused: numbers are entry indexes */
	tu_sh("truncate -s 40M '%s' && PATH=$PATH:/sbin:/usr/sbin sgdisk -o "
	      "-n 1:2048:+5M -n 3:0:+6M -n 4:0:+8M -n 6:0:0 -t 6:8300 '%s' "
	      ">/dev/null", path, path);
	read_file_table(path);
	assert_int_equal(table.scheme, E4_PART_GPT);
	assert_int_equal(table.count, 4);
	assert_int_equal(table.part[0].number, 1);
	assert_int_equal(table.part[1].number, 3);
	assert_int_equal(table.part[2].number, 4);
	assert_int_equal(table.part[3].number, 6);
	assert_matches_sfdisk(path);

	put_fs(path, table.part[2].offset / S);
	assert_opens(path, (struct e4_locate_opts){ 0 }, 4);

	/* a second file system: the user must choose */
	put_fs(path, table.part[3].offset / S);
	struct e4_dev *image, *dev;

	assert_int_equal(e4_dev_open_file(path, 0, 0, false, &image), 0);
	tu_log_clear();
	assert_int_equal(e4_dev_open_located(image, &(struct e4_locate_opts){
		.log = tu_log_record }, NULL, &dev), -EINVAL);
	tu_assert_log("2 partitions hold an ext2/3/4 file system; choose one "
		      "with a partition number");
	e4_dev_close(image);
	assert_opens(path, (struct e4_locate_opts){ .partition = 6 }, 6);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_table),
		cmocka_unit_test(test_mbr_primary),
		cmocka_unit_test(test_mbr_logical),
		cmocka_unit_test(test_gpt),
		cmocka_unit_test(test_gpt_4k_sectors),
		cmocka_unit_test(test_mbr_broken),
		cmocka_unit_test(test_gpt_broken),
		cmocka_unit_test(test_locate_bare_and_offset),
		cmocka_unit_test(test_locate_partitions),
		cmocka_unit_test(test_slice),
		cmocka_unit_test(test_sfdisk_mbr),
		cmocka_unit_test(test_sgdisk_gpt),
	};
	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}

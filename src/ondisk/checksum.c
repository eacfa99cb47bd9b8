/* SPDX-License-Identifier: MIT */
/* The three CRCs of ext4 and jbd2 (§12.1, §3.4, §13.7). */
#include "ondisk/ondisk.h"

/* Tables are computed once at compile time's equivalent: a constant built by
 * a macro would be unreadable, so they are built on first use under a
 * pthread_once (read-only afterwards, so no global *mutable* state leaks). */
#include <pthread.h>

static uint32_t crc32c_table[8][256];
static uint16_t crc16_table[256];
static uint32_t crc32_be_table[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0);
		crc32c_table[0][i] = c;

		uint16_t d = (uint16_t)i;
		for (int k = 0; k < 8; k++)
			d = (uint16_t)((d >> 1) ^ ((d & 1) ? 0xA001u : 0));
		crc16_table[i] = d;

		uint32_t e = i << 24;
		for (int k = 0; k < 8; k++)
			e = (e << 1) ^ ((e & 0x80000000u) ? 0x04C11DB7u : 0);
		crc32_be_table[i] = e;
	}
	/* slicing-by-8 tables for crc32c: checksums run on every metadata
	 * block, 64 KiB blocks included */
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc32c_table[t][i] = (crc32c_table[t - 1][i] >> 8) ^
				crc32c_table[0][crc32c_table[t - 1][i] & 0xFF];
}

uint32_t e4_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&tables_once, build_tables);
	while (len >= 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
				     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		crc = crc32c_table[7][lo & 0xFF] ^
		      crc32c_table[6][(lo >> 8) & 0xFF] ^
		      crc32c_table[5][(lo >> 16) & 0xFF] ^
		      crc32c_table[4][lo >> 24] ^ crc32c_table[3][p[4]] ^
		      crc32c_table[2][p[5]] ^ crc32c_table[1][p[6]] ^
		      crc32c_table[0][p[7]];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = crc32c_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return crc;
}

uint16_t e4_crc16(uint16_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&tables_once, build_tables);
	while (len--)
		crc = (uint16_t)(crc16_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8));
	return crc;
}

uint32_t e4_crc32_be(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&tables_once, build_tables);
	while (len--)
		crc = (crc << 8) ^ crc32_be_table[((crc >> 24) ^ *p++) & 0xFF];
	return crc;
}

uint32_t e4_inode_csum_seed(const struct e4_fs *fs, uint32_t ino,
			    uint32_t generation)
{
	return e4_crc32c_le32(e4_crc32c_le32(fs->fs_seed, ino), generation);
}

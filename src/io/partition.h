/* SPDX-License-Identifier: MIT */
/*
 * Internals of the partition code (include/e4/partition.h), shared by
 * partition.c, locate.c and tests/unit/test_partition.c.
 */
#ifndef E4_IO_PARTITION_H
#define E4_IO_PARTITION_H

#include <stddef.h>
#include <stdint.h>

#include "e4/partition.h"

/* Format one line, hand it to @log (if any) at error level, return @err. */
int e4_part_report(e4_log_fn log, void *log_ctx, int err, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

/* CRC-32 (IEEE 802.3, reflected, final inversion): the GPT checksums. */
uint32_t e4_crc32_ieee(const void *buf, size_t len);

#endif /* E4_IO_PARTITION_H */

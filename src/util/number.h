/* SPDX-License-Identifier: MIT */
/* Numbers on command lines (e4fuse -o, e4img --). */
#ifndef E4_UTIL_NUMBER_H
#define E4_UTIL_NUMBER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A decimal number: strtoull's base 0 would take 0100 for 64 and 0x10 for
 * 16, and it skips blanks and accepts a sign.  Digits, then (with
 * @suffixes) one of K M G T (binary multiples) or s (512-byte sectors).
 * -EINVAL if that is not what @s is, -ERANGE if it does not fit in 64 bits.
 */
int e4_parse_u64(const char *s, bool suffixes, uint64_t *out);

#endif /* E4_UTIL_NUMBER_H */

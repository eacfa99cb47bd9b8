/* SPDX-License-Identifier: MIT */
/* SHA-256 (FIPS 180-4), for the digest in fscrypt's long no-key names. */
#ifndef E4_UTIL_SHA256_H
#define E4_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define E4_SHA256_SIZE 32

void e4_sha256(const void *data, size_t len, uint8_t out[E4_SHA256_SIZE]);

#endif /* E4_UTIL_SHA256_H */

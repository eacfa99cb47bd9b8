/* SPDX-License-Identifier: MIT */
/*
 * Bounds-checked, explicitly-endian accessors for on-disk bytes.
 *
 * Every byte e4fuse reads from an image goes through these (DESIGN.md rule 2).
 * Callers validate offsets against the structure they parse before they read;
 * the check here is the second line of defence.  An out-of-range access is a
 * bug in e4fuse, not in the image: builds with E4_STRICT_BOUNDS (sanitizer and
 * fuzz builds) trap so the fuzzer reports it, release builds read zero.
 */
#ifndef E4_BYTES_H
#define E4_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef E4_STRICT_BOUNDS
#define E4_BOUNDS_FAIL() __builtin_trap()
#else
#define E4_BOUNDS_FAIL() ((void)0)
#endif

static inline int e4_in_bounds(size_t size, size_t off, size_t n)
{
	return off <= size && n <= size - off;
}

static inline uint8_t e4_u8(const uint8_t *p, size_t size, size_t off)
{
	if (!e4_in_bounds(size, off, 1)) {
		E4_BOUNDS_FAIL();
		return 0;
	}
	return p[off];
}

static inline uint16_t e4_le16(const uint8_t *p, size_t size, size_t off)
{
	if (!e4_in_bounds(size, off, 2)) {
		E4_BOUNDS_FAIL();
		return 0;
	}
	return (uint16_t)(p[off] | (p[off + 1] << 8));
}

static inline uint32_t e4_le32(const uint8_t *p, size_t size, size_t off)
{
	if (!e4_in_bounds(size, off, 4)) {
		E4_BOUNDS_FAIL();
		return 0;
	}
	return (uint32_t)p[off] | ((uint32_t)p[off + 1] << 8) |
	       ((uint32_t)p[off + 2] << 16) | ((uint32_t)p[off + 3] << 24);
}

static inline uint64_t e4_le64(const uint8_t *p, size_t size, size_t off)
{
	return (uint64_t)e4_le32(p, size, off) |
	       ((uint64_t)e4_le32(p, size, off + 4) << 32);
}

static inline uint16_t e4_be16(const uint8_t *p, size_t size, size_t off)
{
	if (!e4_in_bounds(size, off, 2)) {
		E4_BOUNDS_FAIL();
		return 0;
	}
	return (uint16_t)((p[off] << 8) | p[off + 1]);
}

static inline uint32_t e4_be32(const uint8_t *p, size_t size, size_t off)
{
	if (!e4_in_bounds(size, off, 4)) {
		E4_BOUNDS_FAIL();
		return 0;
	}
	return ((uint32_t)p[off] << 24) | ((uint32_t)p[off + 1] << 16) |
	       ((uint32_t)p[off + 2] << 8) | (uint32_t)p[off + 3];
}

static inline uint64_t e4_be64(const uint8_t *p, size_t size, size_t off)
{
	return ((uint64_t)e4_be32(p, size, off) << 32) |
	       (uint64_t)e4_be32(p, size, off + 4);
}

/* Copy n bytes out of a region; returns 0 or -1 when out of range. */
static inline int e4_copy_out(void *dst, const uint8_t *p, size_t size,
			      size_t off, size_t n)
{
	if (!e4_in_bounds(size, off, n)) {
		E4_BOUNDS_FAIL();
		return -1;
	}
	memcpy(dst, p + off, n);
	return 0;
}

/* Writers (for the write path and for building test inputs). */
/* Copy n bytes into a region; returns 0 or -1 when out of range. */
static inline int e4_copy_in(uint8_t *p, size_t size, size_t off,
			     const void *src, size_t n)
{
	if (!e4_in_bounds(size, off, n)) {
		E4_BOUNDS_FAIL();
		return -1;
	}
	memcpy(p + off, src, n);
	return 0;
}

static inline void e4_put_le16(uint8_t *p, size_t size, size_t off, uint16_t v)
{
	if (!e4_in_bounds(size, off, 2)) {
		E4_BOUNDS_FAIL();
		return;
	}
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}

static inline void e4_put_le32(uint8_t *p, size_t size, size_t off, uint32_t v)
{
	if (!e4_in_bounds(size, off, 4)) {
		E4_BOUNDS_FAIL();
		return;
	}
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
	p[off + 2] = (uint8_t)(v >> 16);
	p[off + 3] = (uint8_t)(v >> 24);
}

static inline void e4_put_le64(uint8_t *p, size_t size, size_t off, uint64_t v)
{
	e4_put_le32(p, size, off, (uint32_t)v);
	e4_put_le32(p, size, off + 4, (uint32_t)(v >> 32));
}

static inline void e4_put_be16(uint8_t *p, size_t size, size_t off, uint16_t v)
{
	if (!e4_in_bounds(size, off, 2)) {
		E4_BOUNDS_FAIL();
		return;
	}
	p[off] = (uint8_t)(v >> 8);
	p[off + 1] = (uint8_t)v;
}

static inline void e4_put_be32(uint8_t *p, size_t size, size_t off, uint32_t v)
{
	if (!e4_in_bounds(size, off, 4)) {
		E4_BOUNDS_FAIL();
		return;
	}
	p[off] = (uint8_t)(v >> 24);
	p[off + 1] = (uint8_t)(v >> 16);
	p[off + 2] = (uint8_t)(v >> 8);
	p[off + 3] = (uint8_t)v;
}

/* Overflow-checked arithmetic: return nonzero on overflow. */
#define e4_add_overflow(a, b, res) __builtin_add_overflow(a, b, res)
#define e4_mul_overflow(a, b, res) __builtin_mul_overflow(a, b, res)

#endif /* E4_BYTES_H */

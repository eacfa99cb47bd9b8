/* SPDX-License-Identifier: MIT */
/* Fuzz harness: e4img's commands (ls -lR, stat, cat, info, check) on a
 * whole image opened from memory (e4img_fuzz.c); the input, its seeds and
 * its cross-reference mutation are fuzz_walk's. */
#include "e4img_fuzz.h"
#include "harness.h"
#include "xref.h"

E4_FUZZ_HARNESS(e4_xref_register(e4_xref_describe_image),
		e4_fuzz_e4img(data, size))

/* SPDX-License-Identifier: MIT */
/* Fuzz harness: write_fuzz.c's sequence of changes on a whole image. */
#include "harness.h"
#include "write_fuzz.h"
#include "xref.h"

E4_FUZZ_HARNESS(e4_xref_register(e4_xref_describe_image),
		e4_fuzz_write(data, size, NULL))

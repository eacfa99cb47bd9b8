/* SPDX-License-Identifier: MIT */
/* Fuzz harness: the inode structure of the template image (splice.h). */
#include "splice_harness.h"

E4_SPLICE_HARNESS(E4_SPLICE_INODE)

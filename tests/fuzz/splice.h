/* SPDX-License-Identifier: MIT */
/*
 * Per-structure fuzzing: the input replaces one on-disk structure of a small
 * valid image (template.img, made by mk-template.sh), and the result is
 * walked.  The first input byte picks which instance of the structure (which
 * inode, which directory block...), the rest overwrites it from its start;
 * bytes past the input keep the template's values, so the seeds are the
 * template's own structures and every mutation starts from a valid one.
 *
 * The template is read from $E4_FUZZ_TEMPLATE, or from the path compiled in
 * as E4_FUZZ_TEMPLATE_PATH.
 */
#ifndef E4_FUZZ_SPLICE_H
#define E4_FUZZ_SPLICE_H

#include <stddef.h>
#include <stdint.h>

enum e4_splice_kind {
	E4_SPLICE_SB,		/* the primary superblock */
	E4_SPLICE_GDT,		/* the group descriptor block */
	E4_SPLICE_INODE,	/* one inode record (selector: which inode) */
	E4_SPLICE_EXTENT,	/* i_block root or the leaf block of /frag */
	E4_SPLICE_DIRBLOCK,	/* a directory leaf block */
	E4_SPLICE_HTREE,	/* the dx root block of /htree */
	E4_SPLICE_XATTR,	/* xattr block of /medium, or in-inode area */
	E4_SPLICE_KINDS
};

/* Load the template and find its structures (done on first use anyway;
 * harnesses call it from LLVMFuzzerInitialize so that the fuzzers' first
 * run is not different from the others). */
void e4_fuzz_splice_init(void);

/* Load the template and make @kind's reference fields the ones the
 * cross-reference mutator changes (xref.h). */
void e4_fuzz_splice_xref_init(enum e4_splice_kind kind);

/* The template with @data spliced in as @kind (NULL for an input too
 * short); valid until the next call.  *@used: the input bytes taken (the
 * selector and the structure), the rest is the harness's. */
const uint8_t *e4_fuzz_splice_image(enum e4_splice_kind kind,
				    const uint8_t *data, size_t size,
				    size_t *used, size_t *image_size);

/* Splice @data into the template as @kind and walk the result. */
int e4_fuzz_splice_walk(enum e4_splice_kind kind, const uint8_t *data,
			size_t size);

/* Write one seed per instance of @kind into @dir (named <kind>-<n>).
 * Returns the number written, or -1. */
int e4_fuzz_splice_seeds(enum e4_splice_kind kind, const char *dir);
const char *e4_fuzz_splice_name(enum e4_splice_kind kind);

#endif /* E4_FUZZ_SPLICE_H */

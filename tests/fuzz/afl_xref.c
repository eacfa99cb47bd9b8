/* SPDX-License-Identifier: MIT */
/*
 * The cross-reference mutator (xref.h) as an AFL++ custom mutator library:
 *   AFL_CUSTOM_MUTATOR_LIBRARY=BUILD/xref-mutator.so E4_XREF_HARNESS=inode \
 *       afl-fuzz ... -- BUILD/fuzz_inode
 * $E4_XREF_HARNESS names the harness (walk, e4img, write, sb, gdt, inode,
 * extent, dirblock, htree, xattr, journal, orphan): its input format says
 * where the reference fields are.  AFL++ runs its own mutations as well
 * (unless AFL_CUSTOM_MUTATOR_ONLY), so every call here is a cross-reference
 * one; an input without such a field is skipped (size 0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal_fuzz.h"
#include "orphan_fuzz.h"
#include "splice.h"
#include "xref.h"

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size,
		       uint8_t **out_buf, uint8_t *add_buf, size_t add_buf_size,
		       size_t max_size);
void afl_custom_deinit(void *data);

struct xref_mutator {
	e4_xref_describe_fn describe;
	uint8_t *out;
	size_t cap;
	uint32_t rng;
};

void *afl_custom_init(void *afl, unsigned int seed)
{
	const char *h = getenv("E4_XREF_HARNESS");
	struct xref_mutator *m = calloc(1, sizeof(*m));

	(void)afl;
	if (!m || !h) {
		fprintf(stderr, "xref mutator: set E4_XREF_HARNESS to the harness name\n");
		free(m);
		return NULL;
	}
	m->rng = seed | 1;
	if (!strcmp(h, "walk") || !strcmp(h, "e4img") ||
	    !strcmp(h, "write")) {	/* whole images */
		m->describe = e4_xref_describe_image;
	} else if (!strcmp(h, "journal")) {
		e4_fuzz_journal_init();
		m->describe = e4_fuzz_journal_xref;
	} else if (!strcmp(h, "orphan")) {
		e4_fuzz_orphan_init();
		m->describe = e4_fuzz_orphan_xref;
	} else {
		for (int k = 0; k < E4_SPLICE_KINDS; k++)
			if (!strcmp(h, e4_fuzz_splice_name(k)))
				e4_fuzz_splice_xref_init(k);
		m->describe = e4_xref_registered();
	}
	if (!m->describe) {
		fprintf(stderr, "xref mutator: no reference fields known for harness %s\n", h);
		free(m);
		return NULL;
	}
	return m;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size,
		       uint8_t **out_buf, uint8_t *add_buf, size_t add_buf_size,
		       size_t max_size)
{
	struct xref_mutator *m = data;
	size_t n = buf_size < max_size ? buf_size : max_size;

	(void)add_buf;
	(void)add_buf_size;
	/* size 0 skips the mutation, but afl-fuzz (4.04c) aborts on a NULL
	 * output buffer even then ("Error in custom_fuzz") */
	*out_buf = buf;
	if (n > m->cap || !m->out) {
		uint8_t *p = realloc(m->out, n ? n : 1);
		if (!p)
			return 0;
		m->out = p;
		m->cap = n;
	}
	memcpy(m->out, buf, n);
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 17;
	m->rng ^= m->rng << 5;
	if (!e4_xref_mutate(m->out, n, m->describe, m->rng))
		return 0;	/* no reference field in this input */
	*out_buf = m->out;
	return n;
}

void afl_custom_deinit(void *data)
{
	struct xref_mutator *m = data;

	if (m)
		free(m->out);
	free(m);
}

/* SPDX-License-Identifier: MIT */
/*
 * corpus_walk [-v] [--csum-accept] [--fuzz-limits] [--check] [--peaks] IMAGE...
 *
 * Walk each image with walk.c and print one line per image:
 * "<basename>\t<outcome>", the outcome as corpus-expected.tsv records it.
 * Images are opened as files, as e4fuse opens them, with checksums
 * verified unless --csum-accept.  --check runs e4_check after the walk
 * (the fuzz limits do anyway).  --peaks prints, on stderr, the most heap
 * and work one operation took on each image (resource.h: the oracle's
 * budgets are checked either way).  Exit status 0 unless an image could
 * not be opened as a file at all.
 */
#include <stdio.h>
#include <string.h>

#include "resource.h"
#include "walk.h"

int main(int argc, char **argv)
{
	struct e4_walk_limits lim;
	int status = 0;
	bool verbose = false, accept = false, fuzz = false, check = false;
	bool peaks = false;
	int i = 1;

	if (argc == 1) {
		/* run alone as a check program: corpus-walk.sh drives it */
		puts("SKIP: run by tests/fuzz/corpus-walk.sh");
		return 77;
	}
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v"))
			verbose = true;
		else if (!strcmp(argv[i], "--csum-accept"))
			accept = true;
		else if (!strcmp(argv[i], "--fuzz-limits"))
			fuzz = true;
		else if (!strcmp(argv[i], "--check"))
			check = true;
		else if (!strcmp(argv[i], "--peaks"))
			peaks = true;
		else {
			fprintf(stderr, "usage: %s [-v] [--csum-accept] [--fuzz-limits] [--check] [--peaks] IMAGE...\n",
				argv[0]);
			return 2;
		}
	}
	if (fuzz)
		e4_walk_limits_fuzz(&lim);
	else
		e4_walk_limits_corpus(&lim);
	lim.csum_accept = accept;
	lim.verbose = verbose;
	if (check)
		lim.run_check = true;

	for (; i < argc; i++) {
		struct e4_walk_result res;
		struct e4_dev *dev;
		char outcome[512];
		const char *base = strrchr(argv[i], '/');
		size_t blen;

		base = base ? base + 1 : argv[i];
		blen = strlen(base);
		if (blen > 4 && !strcmp(base + blen - 4, ".img"))
			blen -= 4;
		int err = e4_dev_open_file(argv[i], 0, 0, false, &dev);
		if (err < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(-err));
			status = 1;
			continue;
		}
		if (verbose)
			fprintf(stderr, "%.*s:\n", (int)blen, base);
		e4_walk_dev(dev, &lim, &res);
		e4_walk_outcome(&res, outcome, sizeof(outcome));
		printf("%.*s\t%s\n", (int)blen, base, outcome);
		fflush(stdout);
		if (peaks) {
			struct e4_res_peak p;
			e4_res_take_peak(&p);
			fprintf(stderr, "peak %.*s\theap %llu\t%s\twork %llu\t%s\n",
				(int)blen, base, (unsigned long long)p.heap,
				p.heap_what ? p.heap_what : "-",
				(unsigned long long)p.work,
				p.work_what ? p.work_what : "-");
		}
	}
	return status;
}

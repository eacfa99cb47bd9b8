/* SPDX-License-Identifier: MIT */
/* mkseeds OUTDIR: write the template's structures as seeds, one directory
 * per structure harness (OUTDIR/<kind>/<kind>-<n>), and the journal and
 * orphan harnesses' seeds (OUTDIR/journal, OUTDIR/orphan). */
#include <stdio.h>
#include <sys/stat.h>

#include "journal_fuzz.h"
#include "orphan_fuzz.h"
#include "splice.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	for (int k = 0; k < E4_SPLICE_KINDS; k++) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/%s", argv[1], e4_fuzz_splice_name(k));
		mkdir(dir, 0755);
		int n = e4_fuzz_splice_seeds(k, dir);
		if (n < 0) {
			perror(dir);
			return 1;
		}
		printf("%s: %d seeds\n", dir, n);
	}
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/journal", argv[1]);
	mkdir(dir, 0755);
	if (e4_fuzz_journal_seeds(dir) < 0) {
		perror(dir);
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/orphan", argv[1]);
	mkdir(dir, 0755);
	if (e4_fuzz_orphan_seeds(dir) < 0) {
		perror(dir);
		return 1;
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* mkseeds OUTDIR: write the template's structures as seeds, one directory
 * per structure harness (OUTDIR/<kind>/<kind>-<n>). */
#include <stdio.h>
#include <sys/stat.h>

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
	return 0;
}

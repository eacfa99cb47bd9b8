/* SPDX-License-Identifier: MIT */
/*
 * corpus_write IMAGE...
 *
 * The write harness's sequence of changes (write_fuzz.c) on each image, in
 * memory, judged: one line per image, "<basename>\t<outcome>", the outcome
 * "not opened", "not writable" (refused, with the library's reason), or
 * "written"; and FAIL lines for a device write outside the file system or
 * a block of a new file on the image's metadata.  Exit status 1 on any
 * FAIL, 2 when an image cannot be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "write_fuzz.h"

static unsigned char *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*size = (size_t)n;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	int status = 0;

	if (argc == 1) {
		puts("SKIP: run by tests/fuzz/corpus-write.sh");
		return 77;
	}
	for (int i = 1; i < argc; i++) {
		struct e4_write_fuzz_result r;
		const char *base = strrchr(argv[i], '/');
		size_t size = 0;
		unsigned char *data = slurp(argv[i], &size);

		base = base ? base + 1 : argv[i];
		if (!data) {
			fprintf(stderr, "%s: cannot read\n", argv[i]);
			status = 2;
			continue;
		}
		e4_fuzz_write(data, size, &r);
		printf("%s\t%s\n", base, !r.opened ? "not opened" :
		       !r.written ? "not writable" : "written");
		if (r.outside) {
			printf("FAIL: %s: %lu writes outside the file system\n",
			       base, r.outside);
			status = status ? status : 1;
		}
		if (r.overlaps) {
			printf("FAIL: %s: %lu blocks of new files on metadata\n",
			       base, r.overlaps);
			status = status ? status : 1;
		}
		free(data);
	}
	return status;
}

/* SPDX-License-Identifier: MIT */
/*
 * fuzz_replay HARNESS INPUT...
 *
 * Run inputs through one harness, as the fuzzers do, in the ordinary build:
 * `make check` replays every saved finding (tests/fuzz/regress/<harness>/)
 * this way, under the sanitizers in the sanitizer build.  HARNESS is walk
 * or a structure (sb, gdt, inode, extent, dirblock, htree, xattr), journal
 * (the log of a dirty image, journal_fuzz.c) or fuse (request sequences,
 * fuzz_fuse.c).  `fuzz_replay journal-seed FILE` writes the journal seed.
 * Every input runs under the resource oracle (resource.h); with
 * E4_FUZZ_PEAKS set, the most heap and work one operation took is printed
 * for each input (to measure valid inputs against the budgets).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_fuse.h"
#include "journal_fuzz.h"
#include "resource.h"
#include "splice.h"
#include "walk.h"

static int read_file(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0;

	*data = NULL;
	*size = 0;
	if (!f)
		return -1;
	for (;;) {
		if (*size == cap) {
			cap = cap ? cap * 2 : 65536;
			uint8_t *p = realloc(*data, cap);
			if (!p)
				break;
			*data = p;
		}
		size_t n = fread(*data + *size, 1, cap - *size, f);
		if (n == 0)
			break;
		*size += n;
	}
	fclose(f);
	/* exact size, so the sanitizers see a read past the end */
	uint8_t *exact = malloc(*size ? *size : 1);
	if (!exact) {
		free(*data);
		return -1;
	}
	memcpy(exact, *data, *size);
	free(*data);
	*data = exact;
	return 0;
}

int main(int argc, char **argv)
{
	int kind = -1;

	if (argc == 1) {
		/* run alone as a check program: regress.sh drives it */
		puts("SKIP: run by tests/fuzz/regress.sh");
		return 77;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: %s walk|sb|gdt|inode|extent|dirblock|htree|xattr|journal|fuse INPUT...\n",
			argv[0]);
		return 2;
	}
	for (int k = 0; k < E4_SPLICE_KINDS; k++)
		if (!strcmp(argv[1], e4_fuzz_splice_name(k)))
			kind = k;
	if (!strcmp(argv[1], "journal-seed"))
		return e4_fuzz_journal_seed(argv[2]) ? 1 : 0;
	bool fuse = !strcmp(argv[1], "fuse");
	bool journal = !strcmp(argv[1], "journal");
	if (kind < 0 && !fuse && !journal && strcmp(argv[1], "walk")) {
		fprintf(stderr, "%s: unknown harness %s\n", argv[0], argv[1]);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		uint8_t *data;
		size_t size;

		if (read_file(argv[i], &data, &size) < 0) {
			perror(argv[i]);
			return 1;
		}
		if (fuse)
			e4_fuzz_fuse(data, size);
		else if (journal)
			e4_fuzz_journal(data, size);
		else if (kind < 0)
			e4_fuzz_walk(data, size);
		else
			e4_fuzz_splice_walk(kind, data, size);
		free(data);
		if (getenv("E4_FUZZ_PEAKS")) {
			struct e4_res_peak p;
			e4_res_take_peak(&p);
			printf("peak %s\theap %llu\t%s\twork %llu\t%s\n", argv[i],
			       (unsigned long long)p.heap,
			       p.heap_what ? p.heap_what : "-",
			       (unsigned long long)p.work,
			       p.work_what ? p.work_what : "-");
		}
	}
	return 0;
}

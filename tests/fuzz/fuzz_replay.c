/* SPDX-License-Identifier: MIT */
/*
 * fuzz_replay HARNESS INPUT...
 *
 * Run inputs through one harness, as the fuzzers do, in the ordinary build:
 * `make check` replays every saved finding (tests/fuzz/regress/<harness>/)
 * this way, under the sanitizers in the sanitizer build.  HARNESS is walk
 * or a structure (sb, gdt, inode, extent, dirblock, htree, xattr), journal
 * (the log of a dirty image, journal_fuzz.c), orphan (the orphan list and
 * file, orphan_fuzz.c), fuse (request sequences, fuzz_fuse.c) or e4img
 * (e4img's commands on a whole image, e4img_fuzz.c).
 * `fuzz_replay journal-seed FILE` writes the journal seed; `fuzz_replay
 * seeds DIR` writes the journal and orphan seeds into DIR/journal and
 * DIR/orphan.
 *
 * `fuzz_replay --xref N HARNESS INPUT...` runs each input and N
 * cross-reference mutations of it (xref.h, the mutator the fuzzers use),
 * each from the input: a fuzzer-free smoke test of the mutator, and a way
 * to look at what it makes (E4_FUZZ_XREF_DUMP=DIR keeps every mutant).
 *
 * `fuzz_replay oracle-test heap|work|poll|time` makes one operation go over
 * a budget on purpose, so that tests/fuzz/oracle.sh can see the oracle stop
 * it (set the budget low in the environment first).
 * Every input runs under the resource oracle (resource.h); with
 * E4_FUZZ_PEAKS set, the most heap and work one operation took is printed
 * for each input (to measure valid inputs against the budgets).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e4img_fuzz.h"
#include "fuzz_fuse.h"
#include "iomap_fuzz.h"
#include "journal_fuzz.h"
#include "orphan_fuzz.h"
#include "resource.h"
#include "splice.h"
#include "walk.h"
#include "xref.h"

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

enum harness { H_WALK, H_SPLICE, H_JOURNAL, H_ORPHAN, H_FUSE, H_E4IMG,
	       H_IOMAP };

static void run(enum harness h, int kind, const uint8_t *data, size_t size)
{
	switch (h) {
	case H_FUSE: e4_fuzz_fuse(data, size); break;
	case H_IOMAP: e4_fuzz_iomap(data, size); break;
	case H_JOURNAL: e4_fuzz_journal(data, size); break;
	case H_ORPHAN: e4_fuzz_orphan(data, size); break;
	case H_WALK: e4_fuzz_walk(data, size); break;
	case H_E4IMG: e4_fuzz_e4img(data, size); break;
	case H_SPLICE: e4_fuzz_splice_walk(kind, data, size); break;
	}
}

static e4_xref_describe_fn describer(enum harness h, int kind)
{
	switch (h) {
	case H_WALK:
	case H_E4IMG: return e4_xref_describe_image;
	case H_JOURNAL: return e4_fuzz_journal_xref;
	case H_ORPHAN: return e4_fuzz_orphan_xref;
	case H_SPLICE:
		e4_fuzz_splice_xref_init(kind);
		return e4_xref_registered();
	case H_IOMAP:
		e4_fuzz_splice_xref_init(E4_SPLICE_EXTENT);
		return e4_xref_registered();
	case H_FUSE: break;
	}
	return NULL;
}

/* One operation over a budget, whatever the library does (oracle.sh). */
static int oracle_test(const char *what)
{
	const char *path = getenv("E4_FUZZ_TEMPLATE");
	uint8_t *img;
	size_t size;
	struct e4_dev *dev;
	struct e4_fs *fs;
	struct e4_open_opts o = { .read_only = true };
	struct e4_inode in;

	if (!path || read_file(path, &img, &size) < 0 ||
	    e4_dev_open_mem(img, size, &dev) < 0 || e4_fs_open(dev, &o, &fs) < 0) {
		fprintf(stderr, "oracle-test: set E4_FUZZ_TEMPLATE to the template\n");
		return 2;
	}
	e4_res_begin(fs, NULL, what, 0);
	if (!strcmp(what, "heap")) {
		/* the hook stops this allocation */
		volatile uint8_t *p = malloc(64u << 20);
		if (p)
			p[0] = 1;
	} else if (!strcmp(what, "work")) {
		/* checked when the operation ends */
		for (int i = 0; i < 1000; i++)
			(void)e4_inode_read(fs, E4_ROOT_INO, &in);
	} else if (!strcmp(what, "poll")) {
		/* never ends by itself: the watchdog stops it */
		for (;;)
			(void)e4_inode_read(fs, E4_ROOT_INO, &in);
	} else if (!strcmp(what, "time")) {
		for (;;)
			sleep(1);
	}
	e4_res_end(NULL);
	e4_fs_close(fs);
	free(img);
	return 0;	/* the oracle did not stop it */
}

static int write_seeds(const char *dir)
{
	char sub[4096];

	snprintf(sub, sizeof(sub), "%s/journal", dir);
	mkdir(sub, 0755);
	if (e4_fuzz_journal_seeds(sub))
		return 1;
	snprintf(sub, sizeof(sub), "%s/orphan", dir);
	mkdir(sub, 0755);
	return e4_fuzz_orphan_seeds(sub) ? 1 : 0;
}

static void print_peak(const char *input)
{
	struct e4_res_peak p;

	e4_res_take_peak(&p);
	printf("peak %s\theap %llu\t%s\twork %llu\t%s\n", input,
	       (unsigned long long)p.heap, p.heap_what ? p.heap_what : "-",
	       (unsigned long long)p.work, p.work_what ? p.work_what : "-");
}

/* Run @data and @n cross-reference mutants of it. */
static void run_mutants(enum harness h, int kind, const uint8_t *data,
			size_t size, unsigned n, const char *input)
{
	e4_xref_describe_fn fn = describer(h, kind);
	const char *dump = getenv("E4_FUZZ_XREF_DUMP");
	uint8_t *m = malloc(size ? size : 1);

	if (!m || !fn) {
		free(m);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		memcpy(m, data, size);
		uint32_t seed = (uint32_t)(i + 1) * 2654435761u;
		if (!e4_xref_mutate(m, size, fn, seed))
			break;
		if (dump) {
			char path[4096];
			const char *base = strrchr(input, '/');
			snprintf(path, sizeof(path), "%s/%s.x%u", dump,
				 base ? base + 1 : input, i);
			FILE *f = fopen(path, "wb");
			if (f) {
				if (fwrite(m, 1, size, f) != size)
					perror(path);
				fclose(f);
			}
		}
		run(h, kind, m, size);
	}
	free(m);
}

int main(int argc, char **argv)
{
	int kind = -1;
	unsigned xref = 0;

	if (argc == 1) {
		/* run alone as a check program: regress.sh drives it */
		puts("SKIP: run by tests/fuzz/regress.sh");
		return 77;
	}
	if (argc > 3 && !strcmp(argv[1], "--xref")) {
		xref = (unsigned)strtoul(argv[2], NULL, 0);
		argv += 2;
		argc -= 2;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: %s [--xref N] walk|e4img|sb|gdt|inode|extent|dirblock|htree|xattr|journal|orphan|fuse|iomap INPUT...\n"
			"       %s journal-seed FILE | seeds DIR\n", argv[0], argv[0]);
		return 2;
	}
	for (int k = 0; k < E4_SPLICE_KINDS; k++)
		if (!strcmp(argv[1], e4_fuzz_splice_name(k)))
			kind = k;
	if (!strcmp(argv[1], "journal-seed"))
		return e4_fuzz_journal_seed(argv[2]) ? 1 : 0;
	if (!strcmp(argv[1], "seeds"))
		return write_seeds(argv[2]);
	if (!strcmp(argv[1], "oracle-test"))
		return oracle_test(argv[2]);
	enum harness h;
	if (kind >= 0)
		h = H_SPLICE;
	else if (!strcmp(argv[1], "fuse"))
		h = H_FUSE;
	else if (!strcmp(argv[1], "iomap"))
		h = H_IOMAP;
	else if (!strcmp(argv[1], "journal"))
		h = H_JOURNAL;
	else if (!strcmp(argv[1], "orphan"))
		h = H_ORPHAN;
	else if (!strcmp(argv[1], "walk"))
		h = H_WALK;
	else if (!strcmp(argv[1], "e4img"))
		h = H_E4IMG;
	else {
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
		run(h, kind, data, size);
		if (xref)
			run_mutants(h, kind, data, size, xref, argv[i]);
		free(data);
		if (getenv("E4_FUZZ_PEAKS"))
			print_peak(argv[i]);
	}
	return 0;
}

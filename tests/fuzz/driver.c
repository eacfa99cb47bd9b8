/* SPDX-License-Identifier: MIT */
/*
 * main() for the fuzz harnesses when they are not linked with libFuzzer:
 *
 *  - built with afl-clang-fast: AFL++ persistent mode (shared-memory test
 *    cases, __AFL_LOOP), so one process runs thousands of inputs;
 *  - built otherwise: run each file named on the command line once, which
 *    is how `make check` replays the regression inputs and how a crash found
 *    by either fuzzer is reproduced under a debugger.
 *
 * Each harness provides LLVMFuzzerTestOneInput (and, if it needs one,
 * LLVMFuzzerInitialize), exactly as libFuzzer expects.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int main(int argc, char **argv);

#ifdef __AFL_FUZZ_TESTCASE_LEN

#include <unistd.h>	/* read(), in AFL++'s macros */

__AFL_FUZZ_INIT();

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	__AFL_INIT();
	unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
	while (__AFL_LOOP(10000)) {
		size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
		/* a private copy, so ASan sees reads past the input's end */
		uint8_t *copy = malloc(len ? len : 1);
		if (!copy)
			abort();
		memcpy(copy, buf, len);
		LLVMFuzzerTestOneInput(copy, len);
		free(copy);
	}
	return 0;
}

#else

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t size = 0, cap = 0;

	if (!f) {
		perror(path);
		return 1;
	}
	for (;;) {
		if (size == cap) {
			cap = cap ? cap * 2 : 65536;
			uint8_t *p = realloc(data, cap);
			if (!p) {
				fclose(f);
				free(data);
				return 1;
			}
			data = p;
		}
		size_t n = fread(data + size, 1, cap - size, f);
		if (n == 0)
			break;
		size += n;
	}
	fclose(f);
	/* exact-size copy so ASan catches reads past the end */
	uint8_t *exact = malloc(size ? size : 1);
	if (!exact) {
		free(data);
		return 1;
	}
	memcpy(exact, data, size);
	free(data);
	LLVMFuzzerTestOneInput(exact, size);
	free(exact);
	return 0;
}

int main(int argc, char **argv)
{
	int status = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		fprintf(stderr, "usage: %s INPUT...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		status |= run_file(argv[i]);
	return status;
}

#endif

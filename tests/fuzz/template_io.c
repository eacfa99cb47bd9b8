/* SPDX-License-Identifier: MIT */
/* Template images of the harnesses (see template_io.h). */
#include <stdio.h>
#include <stdlib.h>

#include "template_io.h"

uint8_t *e4_fuzz_template_read(const char *env, const char *path, size_t *size)
{
	const char *p = getenv(env);
	FILE *f = fopen(p ? p : path, "rb");
	uint8_t *img = NULL;
	long n;

	if (!f) {
		perror(p ? p : path);
		fprintf(stderr, "fuzz: set %s to the decompressed template (tests/fuzz/*.img.zst)\n", env);
		abort();
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		*size = (size_t)n;
		img = malloc(*size);
		if (img && fread(img, 1, *size, f) != *size) {
			free(img);
			img = NULL;
		}
	}
	fclose(f);
	if (!img) {
		fprintf(stderr, "fuzz: cannot read the template %s\n", p ? p : path);
		abort();
	}
	return img;
}

void e4_fuzz_image_dump(const char *env, const uint8_t *img, size_t size)
{
	const char *path = getenv(env);

	if (!path)
		return;
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(img, 1, size, f) != size)
		fprintf(stderr, "fuzz: cannot write %s\n", path);
	if (f)
		fclose(f);
}

/* SPDX-License-Identifier: MIT */
/*
 * The e4img harness (see e4img_fuzz.h).  The input is opened from memory as
 * fuzz_walk opens it (checksums computed but accepted, a small cache), then
 * e4img's commands run on it, each one operation under the resource oracle:
 *
 *   e4img ls -lR /       the whole tree, in ls -R order
 *   e4img stat /, then stat of up to STAT_MAX paths the listing shows (one
 *                        of each file type first, then spread over it)
 *   e4img cat            of up to CAT_MAX regular files it shows (the first
 *                        of each directory first, then spread)
 *   e4img info
 *   e4img lost -l        the inodes no path reaches (a whole scan)
 *   e4img check          its problems collected as `e4img check` does
 *
 * The commands write to streams that count what they get and drop it, so
 * printing costs next to nothing; the first LS_KEEP bytes of the listing
 * are kept to find the paths.  cat's stream takes CAT_CAP bytes and then
 * fails the write, which ends cat as a full disk would: a file costs at
 * most two of cat's 1 MiB reads.  ls, lost and check walk the whole tree and have
 * the oracle's whole-file-system budget; the others its per-request one.
 * A command that loops, recurses or allocates without a bound is a finding
 * (a crash, a sanitizer report or the oracle's abort), whatever it prints.
 * E4_FUZZ_E4IMG_ECHO=1 copies everything the commands print, and the
 * library's log, to stderr.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/check.h"
#include "e4img/e4img.h"
#include "e4img_fuzz.h"
#include "resource.h"

#define LS_KEEP (64u * 1024)
#define STAT_MAX 8u
#define CAT_MAX 4u
#define CAT_CAP (1u << 20)
#define PICK_MAX 64u		/* paths taken from the listing */
#define PATH_KEEP 1024u		/* longer paths are not picked */
#define FILE_TYPES "-dlcbps"	/* the first letter of ls -l's mode */

/* A stream's far end: counts, keeps the first bytes if asked, fails writes
 * past its cap. */
struct sink {
	uint64_t cap;		/* 0: none */
	uint64_t written;
	char *keep;
	size_t keep_size, kept;
	bool echo;
};

struct stream {
	struct sink sink;
	FILE *f;
	char buf[BUFSIZ];	/* stdio's buffer, so no command allocates one */
};

struct pick {
	char type;		/* FILE_TYPES */
	unsigned dir;		/* which directory of the listing */
	char path[PATH_KEEP];
};

struct harness {
	struct e4_fs *fs;
	struct stream out, err;
	struct e4img_io io;
	struct e4_check_sink *check_sink;	/* while check runs */
	bool echo;
	struct pick picks[PICK_MAX];
	size_t n_picks;
};

static ssize_t sink_write(void *cookie, const char *buf, size_t len)
{
	struct sink *s = cookie;
	size_t n = len;

	if (s->cap) {
		if (s->written >= s->cap)
			return 0;	/* stdio's "no room": the write fails */
		if (n > s->cap - s->written)
			n = (size_t)(s->cap - s->written);
	}
	if (s->keep && s->kept < s->keep_size) {
		size_t k = n < s->keep_size - s->kept ? n : s->keep_size - s->kept;

		memcpy(s->keep + s->kept, buf, k);
		s->kept += k;
	}
	if (s->echo)
		fwrite(buf, 1, n, stderr);
	s->written += n;
	return (ssize_t)n;
}

static int stream_open(struct stream *st, bool echo)
{
	cookie_io_functions_t io = { .write = sink_write };

	st->sink = (struct sink){ .echo = echo };
	st->f = fopencookie(&st->sink, "w", io);
	if (!st->f)
		return -1;
	setvbuf(st->f, st->buf, _IOFBF, sizeof(st->buf));
	return 0;
}

/* Before a command: an empty stream with this cap, no error pending. */
static void stream_reset(struct stream *st, uint64_t cap)
{
	fflush(st->f);
	clearerr(st->f);
	st->sink.written = 0;
	st->sink.cap = cap;
}

static void harness_report(void *ctx, const struct e4_report *r)
{
	struct harness *h = ctx;

	if (h->check_sink)
		e4_check_report(h->check_sink, r);
	if (h->echo)
		fprintf(stderr, "  log: %s\n", r->msg);
}

/* A command is one operation, its output flushed within it; ls and check
 * (@fs_wide) walk the whole file system. */
static void command_begin(struct harness *h, const char *what, uint64_t arg,
			  bool fs_wide)
{
	if (fs_wide)
		e4_res_begin_fs_wide(h->fs, what);
	else
		e4_res_begin(h->fs, NULL, what, arg);
}

static void command_end(struct harness *h)
{
	fflush(h->out.f);
	fflush(h->err.f);
	e4_res_end(NULL);
}

/* ---- the paths the listing shows ------------------------------------- */

static void add_pick(struct harness *h, char type, unsigned dir_no,
		     const char *dir, const char *name, size_t len)
{
	struct pick *p = &h->picks[h->n_picks];
	size_t dlen = strlen(dir);
	bool slash = dlen == 0 || dir[dlen - 1] != '/';

	if (h->n_picks == PICK_MAX || dlen + slash + len >= PATH_KEEP)
		return;
	memcpy(p->path, dir, dlen);
	if (slash)
		p->path[dlen++] = '/';
	memcpy(p->path + dlen, name, len);
	p->path[dlen + len] = '\0';
	p->type = type;
	p->dir = dir_no;
	h->n_picks++;
}

/*
 * `ls -lR` prints "PATH:" at the top of each directory (first, or after an
 * empty line), then a line per entry: MODE LINKS UID GID SIZE DATE TIME
 * NAME, and " -> TARGET" for a symlink.  TIME ("HH:MM:SS.NNNNNNNNN ") holds
 * the line's first '.'.  A name with a newline in it makes a path that is
 * not there: stat and cat then take their error paths, which is fine.
 */
static void pick_paths(struct harness *h, const char *text, size_t size)
{
	char dir[PATH_KEEP] = "/";
	const char *p = text, *end = text + size, *nl;
	unsigned dir_no = 0;
	bool top = true;

	for (; p < end && (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1) {
		size_t len = (size_t)(nl - p);
		const char *dot, *name;

		if (len == 0) {
			top = true;
			continue;
		}
		if (top && p[len - 1] == ':') {
			if (len - 1 < sizeof(dir)) {
				memcpy(dir, p, len - 1);
				dir[len - 1] = '\0';
			}
			dir_no++;
			top = false;
			continue;
		}
		top = false;
		if (len < 12 || p[10] != ' ' || !p[0] || !strchr(FILE_TYPES, p[0]))
			continue;
		dot = memchr(p + 11, '.', len - 11);
		if (!dot || nl - dot < 12 || dot[10] != ' ')
			continue;
		name = dot + 11;
		len = (size_t)(nl - name);
		if (p[0] == 'l') {
			for (size_t i = 0; i + 4 <= len; i++)
				if (!memcmp(name + i, " -> ", 4)) {
					len = i;
					break;
				}
		}
		add_pick(h, p[0], dir_no, dir, name, len);
	}
}

/*
 * Up to @max picks of @type (0: any): first the first one of each file type
 * or, @per_dir, of each directory, then others spread over the listing, so
 * that the few commands run see as much of the image as they can.
 */
static size_t choose(const struct harness *h, char type, bool per_dir,
		     size_t max, const struct pick **out)
{
	size_t rest[PICK_MAX], n = 0, m = 0;

	for (size_t i = 0; i < h->n_picks; i++) {
		const struct pick *p = &h->picks[i];
		bool first = n < max;

		if (type && p->type != type)
			continue;
		for (size_t j = 0; j < n && first; j++)
			first = per_dir ? out[j]->dir != p->dir :
					  out[j]->type != p->type;
		if (first)
			out[n++] = p;
		else
			rest[m++] = i;
	}
	size_t want = max - n;
	for (size_t k = 0; k < want && k < m; k++)
		out[n++] = &h->picks[rest[k * m / (m < want ? m : want)]];
	return n;
}

/* ---- the commands ------------------------------------------------------ */

static void run_ls(struct harness *h)
{
	char *keep = malloc(LS_KEEP);

	stream_reset(&h->out, 0);
	h->out.sink.keep = keep;
	h->out.sink.keep_size = keep ? LS_KEEP : 0;
	h->out.sink.kept = 0;
	command_begin(h, "e4img ls -lR", 0, true);
	e4img_ls(h->fs, "/", E4IMG_LS_LONG | E4IMG_LS_RECURSIVE, &h->io);
	command_end(h);
	h->out.sink.keep = NULL;
	if (keep)
		pick_paths(h, keep, h->out.sink.kept);
	free(keep);
}

static void run_stat(struct harness *h)
{
	const struct pick *chosen[STAT_MAX];
	size_t n = choose(h, 0, false, STAT_MAX, chosen);

	stream_reset(&h->out, 0);
	command_begin(h, "e4img stat", 0, false);
	e4img_stat(h->fs, "/", &h->io);
	command_end(h);
	for (size_t i = 0; i < n; i++) {
		stream_reset(&h->out, 0);
		command_begin(h, "e4img stat", i + 1, false);
		e4img_stat(h->fs, chosen[i]->path, &h->io);
		command_end(h);
	}
}

static void run_cat(struct harness *h)
{
	const struct pick *chosen[CAT_MAX];
	size_t n = choose(h, '-', true, CAT_MAX, chosen);

	for (size_t i = 0; i < n; i++) {
		stream_reset(&h->out, CAT_CAP);
		command_begin(h, "e4img cat", i, false);
		e4img_cat(h->fs, chosen[i]->path, &h->io);
		command_end(h);
	}
}

static void print_problem(void *ctx, const struct e4_report *problem)
{
	char line[600];

	e4_report_format(problem, line, sizeof(line));
	fprintf(ctx, "%s\n", line);
}

/* `e4img check`: the checker's problems and every error the library logs
 * while it runs, each line once. */
static void run_check(struct harness *h)
{
	struct e4_check_sink sink = { .report = print_problem, .ctx = h->out.f };
	struct e4_check_stats st;

	stream_reset(&h->out, 0);
	h->check_sink = &sink;
	command_begin(h, "e4img check", 0, true);
	e4_check(h->fs, &sink, &st);
	command_end(h);
	h->check_sink = NULL;
	e4_check_sink_free(&sink);
}

int e4_fuzz_e4img(const uint8_t *data, size_t size)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct e4_open_opts opts = {
		.read_only = true,
		.csum = E4_CSUM_ACCEPT,
		.cache_bytes = 256u << 10,	/* eviction runs too */
		.report = harness_report,
		.report_ctx = h,
		.log_level = E4_LOG_ERROR,
	};
	struct e4_dev *dev;
	int err;

	if (!h)
		return 0;
	h->echo = getenv("E4_FUZZ_E4IMG_ECHO") != NULL;
	if (h->echo)
		opts.log_level = E4_LOG_DEBUG;
	if (stream_open(&h->out, h->echo) || stream_open(&h->err, h->echo) ||
	    e4_dev_open_mem(data, size, &dev) < 0)
		goto out;
	h->io = (struct e4img_io){ h->out.f, h->err.f, "e4img" };
	e4_res_begin(NULL, dev, "open", 0);
	err = e4_fs_open(dev, &opts, &h->fs);
	e4_res_end(err < 0 ? NULL : h->fs);
	if (err < 0) {
		e4_dev_close(dev);
		goto out;
	}
	run_ls(h);
	run_stat(h);
	run_cat(h);
	stream_reset(&h->out, 0);
	command_begin(h, "e4img info", 0, false);
	e4img_info(h->fs, &h->io);
	command_end(h);
	stream_reset(&h->out, 0);
	command_begin(h, "e4img lost -l", 0, true);
	e4img_lost(h->fs, E4IMG_LS_LONG, &h->io);
	command_end(h);
	run_check(h);
	e4_fs_close(h->fs);
out:
	if (h->out.f)
		fclose(h->out.f);
	if (h->err.f)
		fclose(h->err.f);
	free(h);
	return 0;
}

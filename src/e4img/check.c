/* SPDX-License-Identifier: MIT */
/*
 * e4img check: the library's checker, with what a person or a script needs
 * on top of it.  Each problem names the path that reaches its inode (one
 * tree walk after the check, for the inodes reported); problems of one
 * rule and one kind of object beyond E4IMG_CHECK_COLLAPSE are one line with
 * the count and a sample (-v lists them all); --json is one document.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "e4/check.h"
#include "e4/tree.h"
#include "e4img/e4img.h"

/* more problems of one (rule, object kind) than this become one line */
#define E4IMG_CHECK_COLLAPSE 10u
/* how many of them the line names */
#define E4IMG_CHECK_SAMPLE 3u

struct ck_problem {
	enum e4_rule rule;
	struct e4_object obj;
	char *msg;
	const char *path;	/* of obj.ino, NULL when no walk reached it */
	size_t order;		/* as reported */
};

struct ck_ino_path {
	uint32_t ino;
	char *path;
};

struct ck {
	struct e4_check_sink sink;
	struct ck_problem *p;
	size_t n, cap;
	bool collecting;	/* false during the path walk */
	int err;		/* -ENOMEM while collecting */
	struct ck_ino_path *paths;
	size_t npaths, paths_found;
};

static void ck_collect(void *ctx, const struct e4_report *r)
{
	struct ck *c = ctx;

	if (!c->collecting || c->err)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct ck_problem *p = realloc(c->p, cap * sizeof(*p));

		if (!p) {
			c->err = -ENOMEM;
			return;
		}
		c->p = p;
		c->cap = cap;
	}
	char *msg = strdup(r->msg ? r->msg : "");
	if (!msg) {
		c->err = -ENOMEM;
		return;
	}
	c->p[c->n] = (struct ck_problem){ .rule = r->rule, .obj = r->obj,
					  .msg = msg, .order = c->n };
	c->n++;
}

static int cmp_ino_path(const void *a, const void *b)
{
	uint32_t x = ((const struct ck_ino_path *)a)->ino;
	uint32_t y = ((const struct ck_ino_path *)b)->ino;

	return x < y ? -1 : x > y;
}

static struct ck_ino_path *ck_find(const struct ck *c, uint32_t ino)
{
	struct ck_ino_path key = { .ino = ino };

	return c->npaths ? bsearch(&key, c->paths, c->npaths, sizeof(key),
				   cmp_ino_path) : NULL;
}

/* The first path the walk reaches an inode by, as e2fsck names it. */
static int ck_entry(void *ctx, const struct e4_tree_entry *e, bool *descend)
{
	struct ck *c = ctx;
	struct ck_ino_path *ip = ck_find(c, e->ino);

	if (ip && !ip->path) {
		ip->path = strdup(e->path);
		if (!ip->path)
			return -ENOMEM;
		if (++c->paths_found == c->npaths)
			return 1;	/* all named: stop */
	}
	*descend = e->ftype == E4_FT_DIR;
	return 0;
}

/* Name the inodes of the problems (root is "/"). */
static int ck_find_paths(struct ck *c, struct e4_fs *fs)
{
	static const struct e4_tree_ops ops = { .entry = ck_entry };
	struct e4_tree_opts opts = { .flags = E4_TREE_SORTED | E4_TREE_SALVAGE };
	int err;

	c->paths = calloc(c->n ? c->n : 1, sizeof(*c->paths));
	if (!c->paths)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++)
		if (c->p[i].obj.ino > E4_ROOT_INO)
			c->paths[c->npaths++].ino = c->p[i].obj.ino;
	qsort(c->paths, c->npaths, sizeof(*c->paths), cmp_ino_path);
	size_t u = 0;
	for (size_t i = 0; i < c->npaths; i++)
		if (!u || c->paths[u - 1].ino != c->paths[i].ino)
			c->paths[u++] = c->paths[i];
	c->npaths = u;
	if (c->npaths) {
		err = e4_tree_walk(fs, E4_ROOT_INO, "", &opts, &ops, c);
		if (err == -ENOMEM)
			return err;	/* else: the paths found so far */
	}
	for (size_t i = 0; i < c->n; i++) {
		struct ck_ino_path *ip = ck_find(c, c->p[i].obj.ino);

		c->p[i].path = c->p[i].obj.ino == E4_ROOT_INO ? "/" :
			       ip ? ip->path : NULL;
	}
	return 0;
}

/* rule, then kind of object, then as reported: a group's problems together */
static int cmp_problem(const void *a, const void *b)
{
	const struct ck_problem *x = a, *y = b;

	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	if (x->obj.kind != y->obj.kind)
		return x->obj.kind < y->obj.kind ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static bool same_group(const struct ck_problem *a, const struct ck_problem *b)
{
	return a->rule == b->rule && a->obj.kind == b->obj.kind;
}

/* Where the path goes in the message: after "inode 12" at its start
 * (0 when the message does not start so). */
static size_t path_at(const struct ck_problem *p)
{
	char ino[24];
	int n = snprintf(ino, sizeof(ino), "inode %" PRIu32, p->obj.ino);
	size_t len = (size_t)n;

	if (strncmp(p->msg, ino, len) || (p->msg[len] != ':' && p->msg[len] != ' '))
		return 0;
	return len;
}

static void print_rule(FILE *out, const struct ck_problem *p)
{
	if (p->rule != E4_RULE_NONE)
		fprintf(out, " [%s]", e4_rule_id(p->rule));
	fputc('\n', out);
}

/* "inode 12 (/a/b): msg" */
static void print_problem_text(FILE *out, const struct ck_problem *p)
{
	size_t at = p->path ? path_at(p) : 0;

	if (at)
		fprintf(out, "%.*s (%s)%s", (int)at, p->msg, p->path, p->msg + at);
	else if (p->path)
		fprintf(out, "%s (path %s)", p->msg, p->path);
	else
		fputs(p->msg, out);
}

/* ... and " [RULE]" */
static void print_problem(FILE *out, const struct ck_problem *p)
{
	print_problem_text(out, p);
	print_rule(out, p);
}

/* "inode 12 (/a)" */
static void print_object(FILE *out, const struct ck_problem *p)
{
	char obj[128];

	e4_object_describe(&p->obj, obj, sizeof(obj));
	fputs(*obj ? obj : "file system", out);
	if (p->path)
		fprintf(out, " (%s)", p->path);
}

/* "inode" of "inode 12: ..." */
static void object_noun(const struct ck_problem *p, char *buf, size_t size)
{
	char obj[128];
	size_t i = 0;

	e4_object_describe(&p->obj, obj, sizeof(obj));
	for (; obj[i] && obj[i] != ' ' && i + 1 < size; i++)
		buf[i] = obj[i];
	buf[i] = '\0';
	if (!i)
		snprintf(buf, size, "problem");
}

/* One line for a group: "33 inodes break CK-UNLINKED (an inode in use is
 * named), e.g. inode 15: in use ...; also inode 16, inode 17 (check -v
 * lists them all) [CK-UNLINKED]" */
static void print_group(FILE *out, const struct ck_problem *p, size_t count)
{
	char noun[32];

	object_noun(p, noun, sizeof(noun));
	fprintf(out, "%zu %ss break %s (%s), e.g. ", count, noun,
		e4_rule_id(p->rule), e4_rule_name(p->rule));
	print_problem_text(out, p);
	fputs("; also ", out);
	for (size_t i = 1; i < E4IMG_CHECK_SAMPLE && i < count; i++) {
		if (i > 1)
			fputs(", ", out);
		print_object(out, &p[i]);
	}
	fprintf(out, " (check -v lists them all)");
	print_rule(out, p);
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
		if (*q == '"' || *q == '\\')
			fprintf(out, "\\%c", *q);
		else if (*q < 0x20 || *q >= 0x7f)
			/* bytes, not characters: a name need not be UTF-8 */
			fprintf(out, "\\u%04x", *q);
		else
			fputc(*q, out);
	}
	fputc('"', out);
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void print_json(FILE *out, const char *image, const char *verdict,
		       const struct e4_check_stats *st, const struct ck *c)
{
	fputs("{\"image\": ", out);
	json_string(out, image);
	fprintf(out, ", \"verdict\": \"%s\", \"counts\": {\"groups\": %u, "
		"\"inodes\": %" PRIu64 ", \"directories\": %" PRIu64
		", \"entries\": %" PRIu64 ", \"problems\": %zu},\n \"reports\": [",
		verdict, st->groups, st->inodes_checked, st->directories,
		st->entries, c->n);
	for (size_t i = 0; i < c->n; i++) {
		const struct ck_problem *p = &c->p[i];
		char obj[128];

		e4_object_describe(&p->obj, obj, sizeof(obj));
		fprintf(out, "%s\n  {\"rule\": ", i ? "," : "");
		if (p->rule == E4_RULE_NONE)
			fputs("null", out);
		else
			json_string(out, e4_rule_id(p->rule));
		fputs(", \"object\": ", out);
		json_string(out, *obj ? obj : "file system");
		if (p->obj.ino)
			fprintf(out, ", \"inode\": %" PRIu32, p->obj.ino);
		if (p->path) {
			fputs(", \"path\": ", out);
			json_string(out, p->path);
		}
		fputs(", \"message\": ", out);
		json_string(out, p->msg);
		fputc('}', out);
	}
	fputs("]}\n", out);
}

static void ck_free(struct ck *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->p[i].msg);
	free(c->p);
	for (size_t i = 0; i < c->npaths; i++)
		free(c->paths[i].path);
	free(c->paths);
	e4_check_sink_free(&c->sink);
}

int e4img_check(const char *image, unsigned flags,
		int (*open)(const char *image, struct e4_open_opts *o,
			    struct e4_fs **fs),
		const struct e4img_io *io)
{
	struct ck c = { .collecting = true };
	struct e4_check_stats st = { 0 };
	struct e4_fs *fs;
	FILE *out = io->out;
	int err;

	c.sink.report = ck_collect;
	c.sink.ctx = &c;
	struct e4_open_opts o = { .report = e4_check_report,
				  .report_ctx = &c.sink,
				  .log_level = E4_LOG_ERROR };
	if (open(image, &o, &fs)) {
		/* what made the open fail */
		for (size_t i = 0; i < c.n; i++)
			print_problem(out, &c.p[i]);
		ck_free(&c);
		return 2;
	}
	err = e4_check(fs, &c.sink, &st);
	c.collecting = false;
	if (!err)
		err = c.err;
	if (!err)
		err = ck_find_paths(&c, fs);
	e4_fs_close(fs);
	if (err) {
		fprintf(io->err, "%s: %s: cannot check: %s\n", io->prog, image,
			strerror(-err));
		ck_free(&c);
		return 2;
	}
	const char *verdict = c.n ? "problems" : "clean";
	if (flags & E4IMG_CHECK_JSON) {
		size_t n = c.n;

		print_json(out, image, verdict, &st, &c);
		ck_free(&c);
		return n ? 1 : 0;
	}
	if (c.n)
		qsort(c.p, c.n, sizeof(*c.p), cmp_problem);
	for (size_t i = 0, j; i < c.n; i = j) {
		for (j = i + 1; j < c.n && same_group(&c.p[i], &c.p[j]); j++)
			;
		if (j - i > E4IMG_CHECK_COLLAPSE && c.p[i].rule != E4_RULE_NONE &&
		    !(flags & E4IMG_CHECK_VERBOSE))
			print_group(out, &c.p[i], j - i);
		else
			for (size_t k = i; k < j; k++)
				print_problem(out, &c.p[k]);
	}
	fprintf(out, "%s: %u group%s, %" PRIu64 " inode%s, %" PRIu64
		" director%s, %" PRIu64 " entr%s: %zu problem%s\n",
		image, st.groups, plural(st.groups), st.inodes_checked,
		plural(st.inodes_checked), st.directories,
		st.directories == 1 ? "y" : "ies", st.entries,
		st.entries == 1 ? "y" : "ies", c.n, plural(c.n));
	size_t n = c.n;
	ck_free(&c);
	return n ? 1 : 0;
}

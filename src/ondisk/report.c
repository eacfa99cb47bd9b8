/* SPDX-License-Identifier: MIT */
/*
 * Reports: every message of the library goes through one function here,
 * which names the object, hands the structure to the report sink and the
 * text to the log sink, and keeps the file system's error state.  The rule
 * and object tables of include/e4/rules.h live here too.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ondisk/ondisk.h"

/* ---- rules and objects ------------------------------------------------ */

static const char *const rule_ids[] = {
#define E4_RULE_ID(sym, id, name) [E4_RULE_##sym] = id,
	E4_RULES(E4_RULE_ID)
#undef E4_RULE_ID
};

static const char *const rule_names[] = {
#define E4_RULE_NAME(sym, id, name) [E4_RULE_##sym] = name,
	E4_RULES(E4_RULE_NAME)
#undef E4_RULE_NAME
};

const char *e4_rule_id(enum e4_rule rule)
{
	return (unsigned)rule < E4_RULE_COUNT ? rule_ids[rule] : "?";
}

const char *e4_rule_name(enum e4_rule rule)
{
	return (unsigned)rule < E4_RULE_COUNT ? rule_names[rule] : "?";
}

enum e4_rule e4_rule_from_id(const char *id)
{
	for (unsigned r = 0; r < E4_RULE_COUNT; r++)
		if (!strcmp(rule_ids[r], id))
			return (enum e4_rule)r;
	return E4_RULE_COUNT;
}

static const char *const indirect_level[] = {
	"data", "indirect", "double indirect", "triple indirect",
};

int e4_object_describe(const struct e4_object *o, char *buf, size_t size)
{
	unsigned long long blk = o->blk, idx = o->idx;
	unsigned ino = o->ino;

	switch (o->kind) {
	case E4_OBJ_FS:
		return snprintf(buf, size, "%s", "");
	case E4_OBJ_SUPERBLOCK:
		return snprintf(buf, size, "superblock");
	case E4_OBJ_GROUP:
		return snprintf(buf, size, "group %llu descriptor", idx);
	case E4_OBJ_BLOCK_BITMAP:
	case E4_OBJ_INODE_BITMAP: {
		const char *what = o->kind == E4_OBJ_BLOCK_BITMAP ? "block" : "inode";
		if (!blk)
			return snprintf(buf, size, "group %llu: %s bitmap", idx, what);
		return snprintf(buf, size, "group %llu: %s bitmap block %llu",
				idx, what, blk);
	}
	case E4_OBJ_INODE:
	case E4_OBJ_DIRENT:
		return snprintf(buf, size, "inode %u", ino);
	case E4_OBJ_EXTENT:
		if (!blk)
			return snprintf(buf, size, "inode %u: extent root", ino);
		return snprintf(buf, size, "inode %u: extent block %llu", ino, blk);
	case E4_OBJ_INDIRECT:
		if (!blk || idx < 1 || idx > 3)
			return snprintf(buf, size, "inode %u", ino);
		return snprintf(buf, size, "inode %u: %s block %llu", ino,
				indirect_level[idx], blk);
	case E4_OBJ_DIR_BLOCK:
		if (!blk)
			return snprintf(buf, size, "inode %u: directory logical block %llu",
					ino, idx);
		return snprintf(buf, size, "inode %u: directory block %llu (logical %llu)",
				ino, blk, idx);
	case E4_OBJ_DX_NODE:
		return snprintf(buf, size, "inode %u: htree %s block %llu (logical %llu)",
				ino, idx ? "node" : "root", blk, idx);
	case E4_OBJ_INLINE_DIR:
		return snprintf(buf, size, "inode %u: inline directory", ino);
	case E4_OBJ_XATTR_IBODY:
		return snprintf(buf, size, "inode %u: in-inode xattr area", ino);
	case E4_OBJ_XATTR_BLOCK:
		return snprintf(buf, size, "inode %u: xattr block %llu", ino, blk);
	case E4_OBJ_EA_INODE:
		return snprintf(buf, size, "inode %u: xattr value inode %llu", ino, idx);
	case E4_OBJ_JOURNAL:
		return snprintf(buf, size, "journal");
	case E4_OBJ_JOURNAL_SB:
		return snprintf(buf, size, "journal superblock");
	case E4_OBJ_JOURNAL_BLOCK:
		if (!blk)
			return snprintf(buf, size, "journal block %llu", idx);
		return snprintf(buf, size, "journal block %llu (copy of block %llu)",
				idx, blk);
	case E4_OBJ_ORPHAN_LIST:
		return snprintf(buf, size, "orphan list");
	case E4_OBJ_ORPHAN_FILE:
		return snprintf(buf, size, "orphan file inode %u", ino);
	case E4_OBJ_ORPHAN_BLOCK:
		return snprintf(buf, size, "orphan file block %llu", blk);
	case E4_OBJ_BLOCK:
		return snprintf(buf, size, "block %llu", blk);
	case E4_OBJ_KIND_COUNT:
	default:
		return snprintf(buf, size, "object %d", (int)o->kind);
	}
}

int e4_report_format(const struct e4_report *r, char *buf, size_t size)
{
	if (r->rule == E4_RULE_NONE)
		return snprintf(buf, size, "%s", r->msg);
	return snprintf(buf, size, "%s [%s]", r->msg, e4_rule_id(r->rule));
}

/* ---- the report ------------------------------------------------------- */

void e4_message_vformat(char *buf, size_t size, const struct e4_object *obj,
			const char *fmt, va_list ap)
{
	int n = e4_object_describe(obj, buf, size);
	size_t used = n > 0 && (size_t)n + 2 < size ? (size_t)n : 0;

	if (used) {
		memcpy(buf + used, ": ", 3);
		used += 2;
	}
	vsnprintf(buf + used, size - used, fmt, ap);
}

void e4_log_to_stderr(void *ctx, enum e4_log_level level, const char *msg)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};

	fprintf(stderr, "%s: %s: %s\n", ctx ? (const char *)ctx : "e4fuse",
		names[level], msg);
}

static void record_error(struct e4_fs *fs, const struct e4_report *r)
{
	struct e4_error_record rec = { .rule = r->rule, .obj = r->obj,
				       .time = (int64_t)time(NULL) };

	pthread_mutex_lock(&fs->error_lock);
	if (atomic_load_explicit(&fs->error_count, memory_order_relaxed) == 0)
		fs->first_error = rec;
	fs->last_error = rec;
	atomic_fetch_add_explicit(&fs->error_count, 1, memory_order_release);
	pthread_mutex_unlock(&fs->error_lock);
}

/* The one path of every message: @category ("corrupt: ") starts the text
 * line only. */
static void vreport(struct e4_fs *fs, enum e4_log_level level,
		    enum e4_rule rule, const struct e4_object *obj,
		    bool corruption, const char *category, const char *fmt,
		    va_list ap)
{
	char msg[512], line[560];
	struct e4_report r = { .level = level, .rule = rule, .obj = *obj,
			       .corruption = corruption, .msg = msg };
	size_t used;
	int n;

	e4_message_vformat(msg, sizeof(msg), obj, fmt, ap);
	if (corruption)
		record_error(fs, &r);
	if (level > fs->opts.log_level)
		return;
	if (fs->opts.report)
		fs->opts.report(fs->opts.report_ctx, &r);
	if (fs->opts.log) {
		n = snprintf(line, sizeof(line), "%s", category);
		used = n > 0 ? (size_t)n : 0;
		e4_report_format(&r, line + used, sizeof(line) - used);
		fs->opts.log(fs->opts.log_ctx, level, line);
	}
}

static void report(struct e4_fs *fs, enum e4_log_level level,
		   enum e4_rule rule, const struct e4_object *obj,
		   bool corruption, const char *category, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
static void report(struct e4_fs *fs, enum e4_log_level level,
		   enum e4_rule rule, const struct e4_object *obj,
		   bool corruption, const char *category, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fs, level, rule, obj, corruption, category, fmt, ap);
	va_end(ap);
}

void e4_log(struct e4_fs *fs, enum e4_log_level level, const char *fmt, ...)
{
	static const struct e4_object none = { .kind = E4_OBJ_FS };
	va_list ap;

	va_start(ap, fmt);
	vreport(fs, level, E4_RULE_NONE, &none, false, "", fmt, ap);
	va_end(ap);
}

void e4_log_rule(struct e4_fs *fs, enum e4_log_level level,
		 enum e4_rule rule, struct e4_object obj, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fs, level, rule, &obj, false, "", fmt, ap);
	va_end(ap);
}

int e4_vcorrupt(struct e4_fs *fs, enum e4_rule rule, struct e4_object obj,
		const char *fmt, va_list ap)
{
	vreport(fs, E4_LOG_ERROR, rule, &obj, true, "corrupt: ", fmt, ap);
	return -EUCLEAN;
}

int e4_corrupt(struct e4_fs *fs, enum e4_rule rule, struct e4_object obj,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	e4_vcorrupt(fs, rule, obj, fmt, ap);
	va_end(ap);
	return -EUCLEAN;
}

/* One phrasing for every checksum, whatever its width. */
#define CSUM_FMT "checksum 0x%08x, computed 0x%08x"

int e4_csum_mismatch(struct e4_fs *fs, enum e4_rule rule, struct e4_object obj,
		     uint32_t stored, uint32_t computed)
{
	if (fs->opts.csum == E4_CSUM_ACCEPT) {
		report(fs, E4_LOG_DEBUG, rule, &obj, false, "checksum accepted: ",
		       CSUM_FMT, stored, computed);
		return 0;
	}
	report(fs, E4_LOG_ERROR, rule, &obj, true, "corrupt: ", CSUM_FMT,
	       stored, computed);
	return -EUCLEAN;
}

/* ---- the error state -------------------------------------------------- */

void e4_fs_get_error_state(struct e4_fs *fs, struct e4_error_state *out)
{
	pthread_mutex_lock(&fs->error_lock);
	out->count = atomic_load_explicit(&fs->error_count, memory_order_relaxed);
	out->first = fs->first_error;
	out->last = fs->last_error;
	pthread_mutex_unlock(&fs->error_lock);
}

uint64_t e4_fs_error_count(const struct e4_fs *fs)
{
	return atomic_load_explicit(&fs->error_count, memory_order_acquire);
}

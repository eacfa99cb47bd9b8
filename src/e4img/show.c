/* SPDX-License-Identifier: MIT */
/*
 * e4img cat, stat and info: one file's bytes, one inode's fields and
 * mapping, the file system's geometry.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e4/bytes.h"
#include "e4/format.h"
#include "e4img/e4img.h"

/* "#INO" or "#INO/REST", and where its first component ends. */
static bool lost_form(const char *path, uint32_t *ino, const char **rest)
{
	size_t n = e4_unreachable_name_parse(path, strlen(path), ino);

	if (!n || (path[n] && path[n] != '/'))
		return false;
	*rest = path + n;
	return true;
}

/* The lost form of a path: the unreachable inode e4img lost lists as
 * #INO, then REST beneath it.  Refused when the root has a real entry
 * of that name (which /#INO names): nothing is shadowed.  Returns 1
 * after saying why it is refused, else what the lookup returns. */
static int resolve_lost(struct e4_fs *fs, const char *path, uint32_t top,
			const char *rest, uint32_t *ino,
			const struct e4img_io *io)
{
	struct e4_unreachable *u;
	char real[E4_UNREACHABLE_NAME_MAX + 1] = "/";
	uint32_t other;
	int err;

	e4_unreachable_name(top, real + 1);
	if (e4_path_lookup(fs, real, &other) == 0) {
		fprintf(io->err,
			"%s: %s: ambiguous: the root has an entry named #%u (write %s%s for it)\n",
			io->prog, path, top, real, rest);
		return 1;
	}
	err = e4_unreachable_scan(fs, &u);
	if (err)
		return err;
	if (!e4_unreachable_has(u, top)) {
		fprintf(io->err,
			"%s: %s: inode %u is not one of the unreachable inodes e4img lost lists (a name of the root is written /%s)\n",
			io->prog, path, top, path);
		e4_unreachable_free(u);
		return 1;
	}
	e4_unreachable_free(u);
	return e4_path_lookup_at(fs, top, rest, ino);
}

int e4img_resolve(struct e4_fs *fs, const char *path, struct e4_inode *in,
		  const struct e4img_io *io)
{
	const char *rest;
	uint32_t ino, top;
	int err;

	if (lost_form(path, &top, &rest)) {
		err = resolve_lost(fs, path, top, rest, &ino, io);
		if (err > 0)
			return 1;
	} else {
		err = e4_path_lookup(fs, path, &ino);
	}
	if (!err)
		err = e4_inode_read(fs, ino, in);
	if (err)
		fprintf(io->err, "%s: %s: %s\n", io->prog, path, strerror(-err));
	return err ? 1 : 0;
}

static char type_char(uint16_t mode)
{
	switch (mode & E4_S_IFMT) {
	case E4_S_IFDIR: return 'd';
	case E4_S_IFLNK: return 'l';
	case E4_S_IFCHR: return 'c';
	case E4_S_IFBLK: return 'b';
	case E4_S_IFIFO: return 'p';
	case E4_S_IFSOCK: return 's';
	default: return '-';
	}
}

void e4img_mode_string(uint16_t mode, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";

	out[0] = type_char(mode);
	for (int i = 0; i < 9; i++)
		out[i + 1] = (mode & (1u << (8 - i))) ? rwx[i] : '-';
	if (mode & 04000) out[3] = (mode & 0100) ? 's' : 'S';
	if (mode & 02000) out[6] = (mode & 0010) ? 's' : 'S';
	if (mode & 01000) out[9] = (mode & 0001) ? 't' : 'T';
	out[10] = '\0';
}

void e4img_format_time(const struct e4_time *t, char *buf, size_t size)
{
	time_t s = (time_t)t->sec;
	struct tm tm;
	size_t n;

	if (!gmtime_r(&s, &tm)) {
		snprintf(buf, size, "%" PRId64, t->sec);
		return;
	}
	n = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%09u", t->nsec);
}

int e4img_cat(struct e4_fs *fs, const char *path, const struct e4img_io *io)
{
	size_t bufsize = 1u << 20;
	struct e4_inode in;
	uint64_t off = 0;
	int status = 0;
	char *buf;

	if (e4img_resolve(fs, path, &in, io))
		return 1;
	if (!e4_inode_is_reg(&in)) {
		fprintf(io->err, "%s: %s: not a regular file\n", io->prog, path);
		return 1;
	}
	buf = malloc(bufsize);
	if (!buf) {
		fprintf(io->err, "%s: %s\n", io->prog, strerror(ENOMEM));
		return 2;
	}
	for (;;) {
		ssize_t n = e4_file_read(fs, &in, off, buf, bufsize);

		if (n < 0) {
			fprintf(io->err, "%s: %s: read at %" PRIu64 ": %s\n",
				io->prog, path, off, strerror((int)-n));
			status = 1;
			break;
		}
		if (n == 0)
			break;
		if (fwrite(buf, 1, (size_t)n, io->out) != (size_t)n) {
			status = 1;
			break;
		}
		off += (uint64_t)n;
	}
	free(buf);
	return status;
}

struct xattr_print {
	struct e4_fs *fs;
	const struct e4_inode *in;
	FILE *out;
};

static int print_xattr(void *ctx, const char *name, size_t len)
{
	struct xattr_print *x = ctx;
	unsigned char value[256];
	char full[300];
	ssize_t n;

	snprintf(full, sizeof(full), "%.*s", (int)len, name);
	n = e4_xattr_get(x->fs, x->in, full, NULL, 0);
	fprintf(x->out, "  xattr %s (%zd bytes)", full, n);
	if (n > 0 && (size_t)n <= sizeof(value) &&
	    e4_xattr_get(x->fs, x->in, full, value, sizeof(value)) == n) {
		fputs(" = ", x->out);
		for (ssize_t i = 0; i < n; i++)
			fprintf(x->out,
				value[i] >= 32 && value[i] < 127 && value[i] != '\\' ?
					"%c" : "\\x%02x",
				value[i]);
	}
	fputc('\n', x->out);
	return 0;
}

#define STAT_MAX_RUNS 4096u

static void print_mapping(struct e4_fs *fs, const struct e4_inode *in,
			  FILE *out)
{
	struct e4_fs_info info;
	uint64_t nblocks;

	e4_fs_get_info(fs, &info);
	nblocks = (in->size + info.block_size - 1) / info.block_size;
	/* one step per mapping run: at most one line per extent, and no more
	 * lines than a person reads (a block map whose indirect blocks all
	 * point at one block has a run per block over all of i_size) */
	unsigned lines = 0;
	for (uint64_t l = 0; l < nblocks;) {
		struct e4_mapping m;

		if (++lines > STAT_MAX_RUNS) {
			fprintf(out, "  ... (more runs not shown)\n");
			break;
		}
		if (e4_map_block(fs, in, l, &m) < 0 || m.len == 0)
			break;
		if (m.kind == E4_MAP_INLINE) {
			fprintf(out, "  inline data\n");
			break;
		}
		if (m.kind != E4_MAP_HOLE)
			fprintf(out, "  blocks %" PRIu64 "-%" PRIu64 " -> %" PRIu64 "%s\n",
				l, l + m.len - 1, m.pblk,
				m.kind == E4_MAP_UNWRITTEN ? " (unwritten)" : "");
		l += m.len;
	}
}

int e4img_stat(struct e4_fs *fs, const char *path, const struct e4img_io *io)
{
	struct e4_inode in;
	struct e4_stat st;
	char mode[11], t[64];
	FILE *out = io->out;
	uint16_t type;

	if (e4img_resolve(fs, path, &in, io))
		return 1;
	e4_inode_stat(&in, &st);	/* what a mount shows */
	type = in.mode & E4_S_IFMT;
	e4img_mode_string(in.mode, mode);
	fprintf(out, "  path %s\n  inode %u  generation %u\n  mode %s (0%o)\n",
		path, in.ino, in.generation, mode, in.mode);
	fprintf(out, "  uid %u  gid %u  links %u\n  size %" PRIu64 "  blocks(512) %" PRIu64 "\n",
		st.uid, st.gid, st.nlink, st.size, st.blocks);
	fprintf(out, "  flags 0x%08x  xattr block %" PRIu64 "\n", in.flags,
		in.file_acl);
	if (type == E4_S_IFCHR || type == E4_S_IFBLK)
		fprintf(out, "  device %u:%u\n", in.rdev_major, in.rdev_minor);
	e4img_format_time(&in.atime, t, sizeof(t));
	fprintf(out, "  atime %s\n", t);
	e4img_format_time(&in.mtime, t, sizeof(t));
	fprintf(out, "  mtime %s\n", t);
	e4img_format_time(&in.ctime, t, sizeof(t));
	fprintf(out, "  ctime %s\n", t);
	if (in.has_crtime) {
		e4img_format_time(&in.crtime, t, sizeof(t));
		fprintf(out, "  crtime %s\n", t);
	}
	if (e4_inode_is_symlink(&in)) {
		char target[4096];
		ssize_t n = e4_symlink_read(fs, &in, target, sizeof(target));

		if (n >= 0)
			fprintf(out, "  target %.*s\n", (int)n, target);
	}
	if (e4_inode_is_reg(&in) || e4_inode_is_dir(&in))
		print_mapping(fs, &in, out);
	struct xattr_print x = { fs, &in, out };
	e4_xattr_list(fs, &in, print_xattr, &x);
	return 0;
}

/* seconds since the epoch: low 32 bits at @lo, bits 32..39 at @hi */
static void print_sb_time(FILE *out, const char *label, const uint8_t *sb,
			  size_t lo, size_t hi)
{
	int64_t t = (int64_t)((uint64_t)e4_le32(sb, E4_SB_SIZE, lo) |
			      (uint64_t)e4_u8(sb, E4_SB_SIZE, hi) << 32);
	struct tm tm;
	char buf[64];

	if (!t) {
		fprintf(out, "%-15s(never)\n", label);
		return;
	}
	time_t tt = (time_t)t;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, sizeof(buf), "%" PRId64, t);
	fprintf(out, "%-15s%s\n", label, buf);
}

/* a NUL-padded string field of the superblock, printable bytes only */
static void print_sb_string(FILE *out, const char *label, const uint8_t *sb,
			    size_t off, size_t size)
{
	fprintf(out, "%-15s", label);
	for (size_t i = 0; i < size && sb[off + i]; i++) {
		unsigned char ch = sb[off + i];

		if (ch < 0x20 || ch >= 0x7f)
			fprintf(out, "\\x%02x", ch);
		else
			fputc(ch, out);
	}
	fputc('\n', out);
}

/* s_first_error_* or s_last_error_*, at @time, @time_hi, @ino, @block,
 * @func, @line */
static void print_sb_error(FILE *out, const char *which, const uint8_t *sb,
			   const size_t off[6])
{
	char label[32];

	snprintf(label, sizeof(label), "%s error:", which);
	print_sb_time(out, label, sb, off[0], off[1]);
	print_sb_string(out, "  function:", sb, off[4], E4_SB_ERROR_FUNC_SIZE);
	fprintf(out, "%-15s%" PRIu32 "\n%-15s%" PRIu32 "\n%-15s%" PRIu64 "\n",
		"  line:", e4_le32(sb, E4_SB_SIZE, off[5]),
		"  inode:", e4_le32(sb, E4_SB_SIZE, off[2]),
		"  block:", e4_le64(sb, E4_SB_SIZE, off[3]));
}

int e4img_info(struct e4_fs *fs, const struct e4img_io *io)
{
	static const size_t first[6] = {
		E4_SB_FIRST_ERROR_TIME, E4_SB_FIRST_ERROR_TIME_HI,
		E4_SB_FIRST_ERROR_INO, E4_SB_FIRST_ERROR_BLOCK,
		E4_SB_FIRST_ERROR_FUNC, E4_SB_FIRST_ERROR_LINE,
	};
	static const size_t last[6] = {
		E4_SB_LAST_ERROR_TIME, E4_SB_LAST_ERROR_TIME_HI,
		E4_SB_LAST_ERROR_INO, E4_SB_LAST_ERROR_BLOCK,
		E4_SB_LAST_ERROR_FUNC, E4_SB_LAST_ERROR_LINE,
	};
	struct e4_fs_info i;
	uint8_t sb[E4_SB_SIZE];
	char features[1024];
	FILE *out = io->out;

	e4_fs_get_info(fs, &i);
	e4_fs_get_superblock(fs, sb);
	e4_fs_describe_features(fs, features, sizeof(features));
	fprintf(out, "volume name:   %s\n", i.volume_name);
	fprintf(out, "UUID:          ");
	for (unsigned k = 0; k < 16; k++)
		fprintf(out, "%s%02x", k == 4 || k == 6 || k == 8 || k == 10 ? "-" : "",
			i.uuid[k]);
	uint16_t state = e4_le16(sb, E4_SB_SIZE, E4_SB_STATE);
	/* bit 0: cleanly unmounted, bit 1: errors found (as dumpe2fs says) */
	fprintf(out, "\nstate:         %s%s\n", state & 1 ? "clean" : "not clean",
		state & 2 ? " with errors" : "");
	fprintf(out, "block size:    %u\ncluster size:  %u\nblocks:        %" PRIu64 "\n",
		i.block_size, i.cluster_size, i.blocks_count);
	fprintf(out, "free blocks:   %" PRIu64 "\n", i.free_blocks);
	fprintf(out, "inodes:        %u (inode size %u)\n", i.inodes_count, i.inode_size);
	fprintf(out, "free inodes:   %u\ngroups:        %u\n", i.free_inodes, i.group_count);
	fprintf(out, "features:      %s\n", features);
	print_sb_time(out, "last mounted:", sb, E4_SB_MTIME, E4_SB_MTIME_HI);
	print_sb_string(out, "mounted on:", sb, E4_SB_LAST_MOUNTED, E4_SB_LAST_MOUNTED_SIZE);
	print_sb_time(out, "last written:", sb, E4_SB_WTIME, E4_SB_WTIME_HI);
	fprintf(out, "mount count:   %u (max %d)\n", e4_le16(sb, E4_SB_SIZE, E4_SB_MNT_COUNT),
		(int16_t)e4_le16(sb, E4_SB_SIZE, E4_SB_MAX_MNT_COUNT));
	uint32_t errors = e4_le32(sb, E4_SB_SIZE, E4_SB_ERROR_COUNT);
	if (errors || e4_le32(sb, E4_SB_SIZE, E4_SB_FIRST_ERROR_TIME)) {
		fprintf(out, "error count:   %" PRIu32 "\n", errors);
		print_sb_error(out, "first", sb, first);
		print_sb_error(out, "last", sb, last);
	}
	return 0;
}

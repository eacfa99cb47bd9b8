/* SPDX-License-Identifier: MIT */
/*
 * tree_compare: walk an ext4 image through the public library (e4.h only)
 * and compare every entry with a reference directory.
 *
 *   tree_compare [--ref=src|kernel] [-v] IMAGE REFDIR
 *       src     REFDIR is the tree the image was made from with mkfs -d:
 *               mtime in whole seconds as mkfs stores them (a 32-bit field:
 *               dates past 2038 wrap), nlink for non-directories only, no
 *               directory sizes, the root's attributes are mkfs's own.
 *       kernel  REFDIR is a kernel `mount -o loop,ro` of IMAGE itself:
 *               everything must be equal, including atime/ctime/crtime to
 *               the nanosecond, st_blocks, inode numbers, and where the data
 *               and holes are (SEEK_DATA/SEEK_HOLE).
 *   tree_compare --open-time IMAGE [REPS]
 *       time e4_fs_open + e4_fs_close with the image's page cache dropped
 *       before each open; prints the median and minimum in microseconds.
 *   tree_compare --open-time-rw IMAGE [REPS]
 *       the same for a read-write session: open, e4_fs_begin_write,
 *       e4_fs_end_write, close (what a mount and an unmount with nothing
 *       written cost; the image's state is written twice each time).
 *
 * Every mismatch is printed as "MISMATCH <path>: <field>: ..." and the exit
 * status is 1 if there was any (2 for usage or setup errors).  An error the
 * library logs while reading a clean image counts as a mismatch too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "../statx_compat.h"
#include "e4/e4.h"
#include "e4/format.h"
#include "e4/tree.h"
#include "e4/write.h"

#define MAX_REPORTED 300

enum ref_kind { REF_SRC, REF_KERNEL };

struct link_seen {
	dev_t dev;
	ino_t ref_ino;
	uint32_t img_ino;
};

struct walk {
	struct e4_fs *fs;
	enum ref_kind ref;
	bool verbose;
	bool has_filetype;
	const char *refroot;
	unsigned long mismatches;
	unsigned long entries, files, bytes, xattrs, symlinks, dirs;
	unsigned long lib_errors;
	struct link_seen *links;
	size_t nlinks, caplinks;
	char *buf_img, *buf_ref;
	struct dir_cursor *cur;	/* the directory being walked */
};

#define CHUNK_MAX (131072 + 5)

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		perror("malloc");
		exit(2);
	}
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		perror("realloc");
		exit(2);
	}
	return p;
}

__attribute__((format(printf, 4, 5)))
static void mismatch(struct walk *w, const char *path, const char *field,
		     const char *fmt, ...)
{
	va_list ap;

	w->mismatches++;
	if (w->mismatches > MAX_REPORTED) {
		if (w->mismatches == MAX_REPORTED + 1)
			printf("... (further mismatches counted, not printed)\n");
		return;
	}
	printf("MISMATCH %s: %s: ", *path ? path : "/", field);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void log_sink(void *ctx, enum e4_log_level level, const char *msg)
{
	struct walk *w = ctx;
	static const char *const names[] = { "error", "warn", "info", "debug" };

	printf("e4 log (%s): %s\n", names[level <= E4_LOG_DEBUG ? level : 0], msg);
	if (level == E4_LOG_ERROR && w)
		w->lib_errors++;
}

/* ---- names ---------------------------------------------------------- */

struct name_ent {
	char *name;
	uint32_t ino;
	uint8_t ftype;
	uint64_t next_pos;
};

struct name_vec {
	struct name_ent *v;
	size_t n, cap;
};

static void vec_push(struct name_vec *vec, const char *name, uint32_t ino,
		     uint8_t ftype, uint64_t next_pos)
{
	if (vec->n == vec->cap) {
		vec->cap = vec->cap ? vec->cap * 2 : 64;
		vec->v = xrealloc(vec->v, vec->cap * sizeof(*vec->v));
	}
	vec->v[vec->n].name = strdup(name);
	if (!vec->v[vec->n].name) {
		perror("strdup");
		exit(2);
	}
	vec->v[vec->n].ino = ino;
	vec->v[vec->n].ftype = ftype;
	vec->v[vec->n].next_pos = next_pos;
	vec->n++;
}

static void vec_free(struct name_vec *vec)
{
	for (size_t i = 0; i < vec->n; i++)
		free(vec->v[i].name);
	free(vec->v);
	memset(vec, 0, sizeof(*vec));
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct name_ent *)a)->name,
		      ((const struct name_ent *)b)->name);
}

static void vec_sort(struct name_vec *vec)
{
	if (vec->n > 1)
		qsort(vec->v, vec->n, sizeof(*vec->v), cmp_name);
}

static int collect_dirent(void *ctx, const struct e4_dirent *d)
{
	struct name_vec *vec = ctx;

	vec_push(vec, d->name, d->ino, d->ftype, d->next_pos);
	return 0;
}

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = xmalloc(la + lb + 2);

	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

/* ---- attributes ----------------------------------------------------- */

static unsigned type_of_ftype(uint8_t ft)
{
	static const unsigned types[] = {
		[E4_FT_REG] = S_IFREG, [E4_FT_DIR] = S_IFDIR,
		[E4_FT_CHR] = S_IFCHR, [E4_FT_BLK] = S_IFBLK,
		[E4_FT_FIFO] = S_IFIFO, [E4_FT_SOCK] = S_IFSOCK,
		[E4_FT_SYMLINK] = S_IFLNK,
	};

	return ft < sizeof(types) / sizeof(types[0]) ? types[ft] : 0;
}

static void cmp_time(struct walk *w, const char *path, const char *field,
		     const struct e4_time *got, const struct statx_timestamp *ref)
{
	if (w->ref == REF_KERNEL) {
		if (got->sec != ref->tv_sec || got->nsec != ref->tv_nsec)
			mismatch(w, path, field,
				 "expected %" PRId64 ".%09u, got %" PRId64 ".%09u",
				 (int64_t)ref->tv_sec, ref->tv_nsec, got->sec,
				 got->nsec);
		return;
	}
	/* mkfs -d stores whole seconds in the 32-bit field. */
	int64_t want = (int32_t)(uint32_t)(uint64_t)ref->tv_sec;

	if (got->sec != want)
		mismatch(w, path, field,
			 "expected %" PRId64 " (source %" PRId64 " as mkfs -d stores it), got %" PRId64,
			 want, (int64_t)ref->tv_sec, got->sec);
}

static void check_hard_link(struct walk *w, const char *path,
			    const struct statx *st, uint32_t ino)
{
	dev_t dev = makedev(st->stx_dev_major, st->stx_dev_minor);

	for (size_t i = 0; i < w->nlinks; i++) {
		if (w->links[i].dev == dev && w->links[i].ref_ino == st->stx_ino) {
			if (w->links[i].img_ino != ino)
				mismatch(w, path, "hard link",
					 "reference names one inode, image has inode %u here and %u elsewhere",
					 ino, w->links[i].img_ino);
			return;
		}
	}
	if (w->nlinks == w->caplinks) {
		w->caplinks = w->caplinks ? w->caplinks * 2 : 16;
		w->links = xrealloc(w->links, w->caplinks * sizeof(*w->links));
	}
	w->links[w->nlinks++] = (struct link_seen){ dev, st->stx_ino, ino };
}

/* ---- xattrs --------------------------------------------------------- */

static int collect_xattr_name(void *ctx, const char *name, size_t len)
{
	struct name_vec *vec = ctx;
	char tmp[512];

	if (len >= sizeof(tmp))
		len = sizeof(tmp) - 1;
	memcpy(tmp, name, len);
	tmp[len] = 0;
	vec_push(vec, tmp, 0, 0, 0);
	return 0;
}

static void compare_xattr_value(struct walk *w, const char *path,
				const char *refpath, const struct e4_inode *in,
				const char *name)
{
	char field[600];
	ssize_t rlen, glen, gsize;
	char *rv, *gv;

	snprintf(field, sizeof(field), "xattr %s", name);
	rlen = lgetxattr(refpath, name, NULL, 0);
	if (rlen < 0) {
		mismatch(w, path, field, "reference lgetxattr: %s", strerror(errno));
		return;
	}
	rv = xmalloc((size_t)rlen + 1);
	rlen = lgetxattr(refpath, name, rv, (size_t)rlen + 1);
	gsize = e4_xattr_get(w->fs, in, name, NULL, 0);
	if (gsize != rlen) {
		mismatch(w, path, field, "size query: expected %zd, got %zd", rlen, gsize);
		free(rv);
		return;
	}
	gv = xmalloc((size_t)rlen + 1);
	glen = e4_xattr_get(w->fs, in, name, gv, (size_t)rlen + 1);
	if (glen != rlen)
		mismatch(w, path, field, "value length: expected %zd, got %zd", rlen, glen);
	else if (memcmp(gv, rv, (size_t)rlen) != 0)
		mismatch(w, path, field, "value differs (%zd bytes)", rlen);
	if (rlen > 1) {	/* size 0 would be the size query */
		glen = e4_xattr_get(w->fs, in, name, gv, (size_t)rlen - 1);
		if (glen != -ERANGE)
			mismatch(w, path, field,
				 "buffer one byte short: expected -ERANGE, got %zd", glen);
	}
	w->xattrs++;
	free(rv);
	free(gv);
}

static void compare_xattrs(struct walk *w, const char *path, const char *refpath,
			   const struct e4_inode *in)
{
	struct name_vec img = { 0 }, ref = { 0 };
	ssize_t len;
	char *list;
	int rc;

	rc = e4_xattr_list(w->fs, in, collect_xattr_name, &img);
	if (rc < 0) {
		mismatch(w, path, "xattr list", "e4_xattr_list: %d", rc);
		vec_free(&img);
		return;
	}
	len = llistxattr(refpath, NULL, 0);
	if (len < 0) {
		mismatch(w, path, "xattr list", "reference llistxattr: %s", strerror(errno));
		vec_free(&img);
		return;
	}
	list = xmalloc((size_t)len + 1);
	len = llistxattr(refpath, list, (size_t)len + 1);
	for (ssize_t off = 0; len > 0 && off < len; off += (ssize_t)strlen(list + off) + 1)
		vec_push(&ref, list + off, 0, 0, 0);
	free(list);

	vec_sort(&img);
	vec_sort(&ref);
	size_t i = 0, j = 0;

	while (i < img.n || j < ref.n) {
		int c = i == img.n ? 1 : j == ref.n ? -1 : strcmp(img.v[i].name, ref.v[j].name);

		if (c < 0) {
			mismatch(w, path, "xattr list", "extra attribute %s in image", img.v[i].name);
			i++;
		} else if (c > 0) {
			mismatch(w, path, "xattr list", "attribute %s missing from image", ref.v[j].name);
			j++;
		} else {
			if (i + 1 < img.n && !strcmp(img.v[i].name, img.v[i + 1].name))
				mismatch(w, path, "xattr list", "attribute %s listed twice", img.v[i].name);
			compare_xattr_value(w, path, refpath, in, ref.v[j].name);
			i++;
			j++;
		}
	}
	/* An absent name must say so. */
	ssize_t absent = e4_xattr_get(w->fs, in, "user.e4-no-such-attribute", NULL, 0);

	if (absent != -ENODATA)
		mismatch(w, path, "xattr get absent", "expected -ENODATA, got %zd", absent);
	vec_free(&img);
	vec_free(&ref);
}

/* ---- file content and holes ----------------------------------------- */

struct seg {
	uint64_t start, end;
};

struct seg_vec {
	struct seg *v;
	size_t n, cap;
};

static void seg_push(struct seg_vec *s, uint64_t start, uint64_t end)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = (struct seg){ start, end };
}

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Data segments of the reference file, per lseek; the whole file if the
 * reference fs has no SEEK_DATA. */
static void ref_data_segments(int fd, uint64_t size, struct seg_vec *out)
{
	off_t pos = 0;

	while ((uint64_t)pos < size) {
		off_t d = lseek(fd, pos, SEEK_DATA);

		if (d < 0) {
			if (errno != ENXIO)
				seg_push(out, (uint64_t)pos, size);
			return;
		}
		off_t h = lseek(fd, d, SEEK_HOLE);

		if (h < 0)
			h = (off_t)size;
		seg_push(out, (uint64_t)d, (uint64_t)h);
		pos = h;
	}
}

static void img_data_segments(struct walk *w, const char *path,
			      const struct e4_inode *in, struct seg_vec *out)
{
	uint64_t pos = 0, d, h;
	unsigned guard = 0;

	while (pos < in->size && guard++ < 1000000) {
		int rc = e4_file_seek(w->fs, in, pos, E4_SEEK_DATA, &d);

		if (rc == -ENXIO)
			return;
		if (rc < 0) {
			mismatch(w, path, "seek data", "e4_file_seek(%" PRIu64 ", DATA): %d", pos, rc);
			return;
		}
		rc = e4_file_seek(w->fs, in, d, E4_SEEK_HOLE, &h);
		if (rc < 0) {
			mismatch(w, path, "seek hole", "e4_file_seek(%" PRIu64 ", HOLE): %d", d, rc);
			return;
		}
		if (h <= d || d < pos) {
			mismatch(w, path, "seek", "no progress: data at %" PRIu64 ", hole at %" PRIu64 " from %" PRIu64,
				 d, h, pos);
			return;
		}
		seg_push(out, d, h);
		pos = h;
	}
}

static const size_t chunk_sizes[] = { 1, 4093, 7, 65537, 4096, CHUNK_MAX, 511, 12289 };

static bool compare_range(struct walk *w, const char *path, int fd,
			  const struct e4_inode *in, uint64_t start, uint64_t end,
			  unsigned *ci)
{
	uint64_t off = start;

	while (off < end) {
		size_t len = chunk_sizes[(*ci)++ % (sizeof(chunk_sizes) / sizeof(chunk_sizes[0]))];

		if (len > end - off)
			len = (size_t)(end - off);
		ssize_t r = pread(fd, w->buf_ref, len, (off_t)off);
		ssize_t g = e4_file_read(w->fs, in, off, w->buf_img, len);

		if (r < 0) {
			mismatch(w, path, "content", "reference pread at %" PRIu64 ": %s", off, strerror(errno));
			return false;
		}
		if (g != r) {
			mismatch(w, path, "content", "read of %zu at %" PRIu64 ": expected %zd bytes, got %zd",
				 len, off, r, g);
			return false;
		}
		if (memcmp(w->buf_img, w->buf_ref, (size_t)r) != 0) {
			size_t k = 0;

			while (w->buf_img[k] == w->buf_ref[k])
				k++;
			mismatch(w, path, "content", "byte %" PRIu64 ": expected 0x%02x, got 0x%02x",
				 off + k, (unsigned char)w->buf_ref[k], (unsigned char)w->buf_img[k]);
			return false;
		}
		w->bytes += (unsigned long)r;
		if (r == 0)
			break;
		off += (uint64_t)r;
	}
	return true;
}

/*
 * Compare the whole content: every byte of every data segment the reference
 * or the image reports, and a few chunks (start, middle, end) of each range
 * both call a hole, so a multi-gigabyte sparse file costs little.
 */
static void compare_content(struct walk *w, const char *path, const char *refpath,
			    const struct e4_inode *in)
{
	int fd = open(refpath, O_RDONLY | O_NOATIME);
	struct seg_vec segs = { 0 };
	unsigned ci = 0;
	uint64_t size = in->size;

	if (fd < 0)
		fd = open(refpath, O_RDONLY);
	if (fd < 0) {
		mismatch(w, path, "content", "reference open: %s", strerror(errno));
		return;
	}
	ref_data_segments(fd, size, &segs);
	img_data_segments(w, path, in, &segs);
	if (segs.n > 1)
		qsort(segs.v, segs.n, sizeof(*segs.v), cmp_seg);

	uint64_t pos = 0;
	bool ok = true;

	for (size_t i = 0; i <= segs.n && ok; i++) {
		uint64_t s = i < segs.n ? segs.v[i].start : size;
		uint64_t e = i < segs.n ? segs.v[i].end : size;

		if (s > size)
			s = size;
		if (e > size)
			e = size;
		if (s > pos) {
			/* a hole for both: sample it */
			uint64_t mid = pos + (s - pos) / 2;
			uint64_t probes[3][2] = {
				{ pos, pos + 4097 }, { mid, mid + 4097 }, { s > 4097 ? s - 4097 : 0, s },
			};
			for (int p = 0; p < 3 && ok; p++) {
				uint64_t a = probes[p][0] < pos ? pos : probes[p][0];
				uint64_t b = probes[p][1] > s ? s : probes[p][1];

				if (a < b)
					ok = compare_range(w, path, fd, in, a, b, &ci);
			}
		}
		if (e > pos && ok) {
			ok = compare_range(w, path, fd, in, s > pos ? s : pos, e, &ci);
			pos = e;
		}
	}
	/* At and past EOF: nothing. */
	ssize_t g = e4_file_read(w->fs, in, size, w->buf_img, 10);

	if (g != 0)
		mismatch(w, path, "content", "read at EOF (%" PRIu64 "): expected 0, got %zd", size, g);
	g = e4_file_read(w->fs, in, size + 12345, w->buf_img, 10);
	if (g != 0)
		mismatch(w, path, "content", "read past EOF: expected 0, got %zd", g);
	if (size > 3) {
		g = e4_file_read(w->fs, in, size - 3, w->buf_img, 100);
		if (g != 3)
			mismatch(w, path, "content", "read straddling EOF: expected 3, got %zd", g);
	}
	free(segs.v);
	close(fd);
	w->files++;
}

/* SEEK_DATA/SEEK_HOLE answers must equal the kernel's for the same image. */
static void compare_seek(struct walk *w, const char *path, const char *refpath,
			 const struct e4_inode *in)
{
	int fd = open(refpath, O_RDONLY);
	uint64_t probes[64];
	size_t np = 0;

	if (fd < 0) {
		mismatch(w, path, "seek", "reference open: %s", strerror(errno));
		return;
	}
	/* The kernel reports cached pages over unwritten extents as data:
	 * drop them so it answers from the extent tree alone. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	/* Probe the start, around every boundary the kernel reports, and EOF. */
	probes[np++] = 0;
	probes[np++] = 1;
	/* room for 5 per segment and the 3 after the loop */
	for (off_t pos = 0; np + 8 <= sizeof(probes) / sizeof(probes[0]);) {
		off_t d = lseek(fd, pos, SEEK_DATA);

		if (d < 0)
			break;
		off_t h = lseek(fd, d, SEEK_HOLE);

		if (h < 0)
			break;
		probes[np++] = (uint64_t)d;
		if (d > 0)
			probes[np++] = (uint64_t)d - 1;
		probes[np++] = (uint64_t)h;
		probes[np++] = (uint64_t)h - 1;
		probes[np++] = (uint64_t)d + ((uint64_t)h - (uint64_t)d) / 2;
		pos = h;
	}
	if (in->size > 0)
		probes[np++] = in->size - 1;
	probes[np++] = in->size;
	probes[np++] = in->size + 4096;

	for (size_t i = 0; i < np; i++) {
		for (int wh = 0; wh < 2; wh++) {
			off_t r = lseek(fd, (off_t)probes[i], wh ? SEEK_HOLE : SEEK_DATA);
			int rerr = r < 0 ? -errno : 0;
			uint64_t got = 0;
			int rc = e4_file_seek(w->fs, in, probes[i],
					      wh ? E4_SEEK_HOLE : E4_SEEK_DATA, &got);

			if (rerr && rerr != -ENXIO) {
				/* e.g. -ENOENT on inline inodes whose size
				 * exceeds their inline data: no answer to match */
				printf("note %s: kernel %s from %" PRIu64 " fails with %d; not compared\n",
				       path, wh ? "SEEK_HOLE" : "SEEK_DATA", probes[i], rerr);
				continue;
			}
			if (rerr != rc || (rc == 0 && got != (uint64_t)r))
				mismatch(w, path, wh ? "SEEK_HOLE" : "SEEK_DATA",
					 "from %" PRIu64 ": expected %lld (err %d), got %" PRIu64 " (err %d)",
					 probes[i], (long long)r, rerr, rc ? 0 : got, rc);
		}
	}
	close(fd);
}

/* ---- entries -------------------------------------------------------- */

/* Compare one entry; true when it is a directory on both sides, to be
 * walked (by the tree walker: this never recurses). */
static bool compare_entry(struct walk *w, const char *path, const char *refpath,
			  uint32_t ino, uint8_t ftype, bool is_root)
{
	struct e4_inode in;
	struct statx st;
	int rc;

	w->entries++;
	if (w->verbose)
		printf("entry %s (ino %u)\n", path, ino);
	rc = e4_inode_read(w->fs, ino, &in);
	if (rc < 0) {
		mismatch(w, path, "inode", "e4_inode_read(%u): %d", ino, rc);
		return false;
	}
	if (statx(AT_FDCWD, refpath, AT_SYMLINK_NOFOLLOW,
		  STATX_BASIC_STATS | STATX_BTIME, &st) < 0) {
		mismatch(w, path, "reference", "statx: %s", strerror(errno));
		return false;
	}
	if (in.ino != ino)
		mismatch(w, path, "ino", "inode read for %u says %u", ino, in.ino);

	/* The path resolves to the same inode. */
	if (!is_root) {
		uint32_t pino = 0;

		rc = e4_path_lookup(w->fs, path, &pino);
		if (rc < 0 || pino != ino)
			mismatch(w, path, "path lookup", "expected inode %u, got %u (rc %d)", ino, pino, rc);
	}

	unsigned ref_type = st.stx_mode & S_IFMT;
	bool skip_attrs = is_root && w->ref == REF_SRC;	/* mkfs -d makes its own root */

	if ((in.mode & S_IFMT) != ref_type)
		mismatch(w, path, "type", "expected 0%o, got 0%o", ref_type, in.mode & S_IFMT);
	if (!is_root && (ftype || w->has_filetype) && type_of_ftype(ftype) != ref_type)
		mismatch(w, path, "dirent file type", "expected type 0%o, dirent says %u", ref_type, ftype);
	if (!skip_attrs) {
		if (in.mode != st.stx_mode)
			mismatch(w, path, "mode", "expected 0%o, got 0%o", st.stx_mode, in.mode);
		if (in.uid != st.stx_uid)
			mismatch(w, path, "uid", "expected %u, got %u", st.stx_uid, in.uid);
		if (in.gid != st.stx_gid)
			mismatch(w, path, "gid", "expected %u, got %u", st.stx_gid, in.gid);
		cmp_time(w, path, "mtime", &in.mtime, &st.stx_mtime);
	}
	if (w->ref == REF_KERNEL) {
		if (in.ino != st.stx_ino)
			mismatch(w, path, "inode number", "kernel says %llu, image walk %u",
				 (unsigned long long)st.stx_ino, in.ino);
		cmp_time(w, path, "atime", &in.atime, &st.stx_atime);
		cmp_time(w, path, "ctime", &in.ctime, &st.stx_ctime);
		if (st.stx_mask & STATX_BTIME) {
			if (!in.has_crtime)
				mismatch(w, path, "crtime", "kernel has a birth time, library none");
			else
				cmp_time(w, path, "crtime", &in.crtime, &st.stx_btime);
		} else if (in.has_crtime) {
			mismatch(w, path, "crtime", "library has a birth time, kernel none");
		}
		if (in.links != st.stx_nlink)
			mismatch(w, path, "nlink", "expected %u, got %u", st.stx_nlink, in.links);
		/* The kernel reports at least the size in sectors for an inline
		 * file (so tools do not take it for all hole); on disk it has
		 * none.  Compare the on-disk count. */
		uint64_t want_blocks = st.stx_blocks;

		if ((in.flags & E4_INLINE_DATA_FL) && ref_type == S_IFREG)
			want_blocks -= (in.size + 511) >> 9;
		if (in.blocks_512 != want_blocks)
			mismatch(w, path, "blocks", "expected %" PRIu64 " (kernel st_blocks %llu), got %" PRIu64,
				 want_blocks, (unsigned long long)st.stx_blocks, in.blocks_512);
		if (in.size != st.stx_size)
			mismatch(w, path, "size", "expected %llu, got %" PRIu64,
				 (unsigned long long)st.stx_size, in.size);
	} else {
		if (ref_type != S_IFDIR) {
			if (in.links != st.stx_nlink)
				mismatch(w, path, "nlink", "expected %u, got %u", st.stx_nlink, in.links);
			if (in.size != st.stx_size)
				mismatch(w, path, "size", "expected %llu, got %" PRIu64,
					 (unsigned long long)st.stx_size, in.size);
		}
		if (st.stx_nlink > 1 && ref_type != S_IFDIR)
			check_hard_link(w, path, &st, ino);
	}
	if (ref_type == S_IFCHR || ref_type == S_IFBLK) {
		if (in.rdev_major != st.stx_rdev_major || in.rdev_minor != st.stx_rdev_minor)
			mismatch(w, path, "rdev", "expected %u:%u, got %u:%u",
				 st.stx_rdev_major, st.stx_rdev_minor, in.rdev_major, in.rdev_minor);
	}
	if (!skip_attrs)
		compare_xattrs(w, path, refpath, &in);

	if ((in.mode & S_IFMT) != ref_type)
		return false;
	switch (ref_type) {
	case S_IFLNK: {
		char rt[8192], gt[8192];
		ssize_t rl = readlink(refpath, rt, sizeof(rt));
		ssize_t gl = e4_symlink_read(w->fs, &in, gt, sizeof(gt));

		w->symlinks++;
		if (rl < 0)
			mismatch(w, path, "symlink", "reference readlink: %s", strerror(errno));
		else if (gl != rl || memcmp(gt, rt, (size_t)rl) != 0)
			mismatch(w, path, "symlink target", "expected %zd bytes \"%.*s%s\", got %zd \"%.*s%s\"",
				 rl, (int)(rl > 80 ? 80 : rl), rt, rl > 80 ? "..." : "",
				 gl, (int)(gl > 80 ? 80 : gl < 0 ? 0 : gl), gt, gl > 80 ? "..." : "");
		if (rl > 1) {
			gl = e4_symlink_read(w->fs, &in, gt, (size_t)rl - 1);
			if (gl != -ENAMETOOLONG)
				mismatch(w, path, "symlink", "short buffer: expected -ENAMETOOLONG, got %zd", gl);
		}
		break;
	}
	case S_IFREG:
		/* seek first: reading fills the kernel's page cache */
		if (w->ref == REF_KERNEL)
			compare_seek(w, path, refpath, &in);
		compare_content(w, path, refpath, &in);
		break;
	case S_IFDIR:
		return true;
	default:
		break;
	}
	return false;
}

static void check_resume(struct walk *w, const char *path, const struct e4_inode *dir,
			 const struct name_vec *all)
{
	struct name_vec tail = { 0 };
	size_t k = all->n / 2;

	if (all->n < 3)
		return;
	int rc = e4_dir_iterate(w->fs, dir, all->v[k].next_pos, collect_dirent, &tail);

	if (rc < 0) {
		mismatch(w, path, "readdir resume", "e4_dir_iterate from cookie %" PRIu64 ": %d",
			 all->v[k].next_pos, rc);
	} else if (tail.n != all->n - k - 1) {
		mismatch(w, path, "readdir resume", "from entry %zu: expected %zu entries, got %zu",
			 k, all->n - k - 1, tail.n);
	} else {
		for (size_t i = 0; i < tail.n; i++) {
			if (strcmp(tail.v[i].name, all->v[k + 1 + i].name)) {
				mismatch(w, path, "readdir resume", "entry %zu: expected %s, got %s",
					 k + 1 + i, all->v[k + 1 + i].name, tail.v[i].name);
				break;
			}
		}
	}
	vec_free(&tail);
}

/*
 * The walk: e4_tree_walk delivers one directory's entries, sorted, between
 * its dir_begin and dir_end (no other directory's in between), so one
 * cursor holds the reference side of the directory being listed.
 */

/* The directory whose entries the walker is delivering. */
struct dir_cursor {
	uint32_t ino;
	bool listing_failed;	/* reported in dir_begin */
	char *path, *refpath;
	struct name_vec ref;	/* reference names, sorted */
	size_t next_ref;	/* first not yet merged */
	bool last_matched;	/* the last image name was ref.v[next_ref - 1] */
};

/* dir_begin: the checks on the directory's own listing (its cookies, "."
 * and "..", every name found by e4_dir_lookup), and the reference names. */
static int tc_dir_begin(void *ctx, const char *path, const struct e4_inode *dir,
			uint32_t parent_ino)
{
	struct walk *w = ctx;
	struct dir_cursor *cur = w->cur;
	struct name_vec img = { 0 };
	uint32_t ino = dir->ino;
	char *refpath = xmalloc(strlen(w->refroot) + strlen(path) + 1);
	int rc;

	strcpy(refpath, w->refroot);
	strcat(refpath, path);
	w->dirs++;
	rc = e4_dir_iterate(w->fs, dir, 0, collect_dirent, &img);
	if (rc < 0)
		mismatch(w, path, "readdir", "e4_dir_iterate: %d (after %zu entries)", rc, img.n);
	if (img.n < 2 || strcmp(img.v[0].name, ".") || strcmp(img.v[1].name, ".."))
		mismatch(w, path, "readdir", "\".\" and \"..\" are not the first two entries");
	else {
		if (img.v[0].ino != ino)
			mismatch(w, path, "\".\"", "expected inode %u, got %u", ino, img.v[0].ino);
		if (img.v[1].ino != parent_ino)
			mismatch(w, path, "\"..\"", "expected inode %u, got %u", parent_ino, img.v[1].ino);
	}
	if (rc >= 0)
		check_resume(w, path, dir, &img);

	DIR *d = opendir(refpath);

	if (!d) {
		mismatch(w, path, "reference", "opendir: %s", strerror(errno));
		vec_free(&img);
		free(refpath);
		return 1;	/* no names to compare: not listed, not walked */
	}
	*cur = (struct dir_cursor){ .ino = ino, .listing_failed = rc < 0,
				    .path = xmalloc(strlen(path) + 1),
				    .refpath = refpath };
	strcpy(cur->path, path);
	for (struct dirent *de; (de = readdir(d));)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			vec_push(&cur->ref, de->d_name, 0, 0, 0);
	closedir(d);
	vec_sort(&cur->ref);

	/* . and .. only first; every other name must look up. */
	for (size_t i = 0; i < img.n; i++) {
		const struct name_ent *e = &img.v[i];

		if (!strcmp(e->name, ".") || !strcmp(e->name, "..")) {
			if (i >= 2)
				mismatch(w, path, "readdir", "\"%s\" reported again at position %zu", e->name, i);
			continue;
		}
		uint32_t lino = 0;
		uint8_t lft = 0;
		char *p = join(path, e->name);

		rc = e4_dir_lookup(w->fs, dir, e->name, strlen(e->name), &lino, &lft);
		if (rc < 0 || lino != e->ino || lft != e->ftype)
			mismatch(w, p, "lookup", "iteration gave inode %u type %u, e4_dir_lookup gave %u type %u (rc %d)",
				 e->ino, e->ftype, lino, lft, rc);
		free(p);
	}
	vec_free(&img);
	/* A name that is not there is not found. */
	uint32_t dummy;

	uint8_t dummy_ft;

	rc = e4_dir_lookup(w->fs, dir, "e4-no-such-name", 15, &dummy, &dummy_ft);
	if (rc != -ENOENT)
		mismatch(w, path, "lookup", "absent name: expected -ENOENT, got %d", rc);
	return 0;
}

/* Names in byte order, as the walker sorts them. */
static int cmp_entry_name(const struct e4_tree_entry *e, const char *ref)
{
	size_t rlen = strlen(ref), n = e->name_len < rlen ? e->name_len : rlen;
	int c = memcmp(e->name, ref, n);

	return c ? c : (e->name_len > rlen) - (e->name_len < rlen);
}

static void report_missing(struct walk *w, struct dir_cursor *cur, size_t upto)
{
	for (; cur->next_ref < upto; cur->next_ref++)
		mismatch(w, cur->path, "names", "entry \"%s\" missing from image",
			 cur->ref.v[cur->next_ref].name);
}

/* One image name, merged with the sorted reference names. */
static int tc_entry(void *ctx, const struct e4_tree_entry *e, bool *descend)
{
	struct walk *w = ctx;
	struct dir_cursor *cur = w->cur;
	size_t j = cur->next_ref;
	int c = 1;

	/* the same name again (it is an extra entry then, see below) */
	if (cur->last_matched && !cmp_entry_name(e, cur->ref.v[j - 1].name))
		mismatch(w, cur->path, "names", "entry \"%s\" listed twice", e->name);
	while (j < cur->ref.n && (c = cmp_entry_name(e, cur->ref.v[j].name)) > 0)
		j++;
	report_missing(w, cur, j);
	cur->last_matched = j < cur->ref.n && c == 0;
	if (!cur->last_matched) {
		/* mkfs makes lost+found; a source tree has none */
		if (!(cur->ino == E4_ROOT_INO && w->ref == REF_SRC && !strcmp(e->name, "lost+found")))
			mismatch(w, cur->path, "names", "extra entry \"%s\" in image", e->name);
		return 0;
	}
	char *rp = join(cur->refpath, cur->ref.v[j].name);

	*descend = compare_entry(w, e->path, rp, e->ino, e->ftype, false);
	free(rp);
	cur->next_ref = j + 1;
	return 0;
}

static void cursor_free(struct dir_cursor *cur)
{
	vec_free(&cur->ref);
	free(cur->path);
	free(cur->refpath);
	memset(cur, 0, sizeof(*cur));
}

static int tc_dir_end(void *ctx, const char *path, const struct e4_inode *dir, int err)
{
	struct walk *w = ctx;
	struct dir_cursor *cur = w->cur;

	if (!dir) {	/* no dir_begin: the walker could not read it again */
		mismatch(w, path, "inode", "tree walk: directory inode read: %d", err);
		return 0;
	}
	report_missing(w, cur, cur->ref.n);
	if (err && !cur->listing_failed)
		mismatch(w, path, "readdir", "tree walk: listing cut short: %d", err);
	cursor_free(cur);
	return 0;
}

/* The images compared are valid: no directory has a second link, none is
 * deeper than the bound. */
static void tc_refused(void *ctx, const struct e4_tree_entry *e, enum e4_tree_refusal why)
{
	mismatch(ctx, e->path, "tree", "%s",
		 why == E4_TREE_WALKED_BEFORE ?
			"directory inode walked before (a directory cycle or a second link to a directory)" :
			"deeper than the walker's bound");
}

static void compare_tree(struct walk *w, const char *refdir)
{
	static const struct e4_tree_ops ops = {
		.dir_begin = tc_dir_begin, .entry = tc_entry,
		.dir_end = tc_dir_end, .refused = tc_refused,
	};
	struct e4_tree_opts opts = { .flags = E4_TREE_SORTED };
	struct dir_cursor cur = { 0 };

	w->refroot = refdir;
	if (!compare_entry(w, "", refdir, E4_ROOT_INO, E4_FT_DIR, true))
		return;
	/* the root's path is "": its entries are "/name", as e4_path_lookup
	 * takes them, and its reference path is refdir itself */
	w->cur = &cur;
	int rc = e4_tree_walk(w->fs, E4_ROOT_INO, "", &opts, &ops, w);

	if (rc < 0)
		mismatch(w, "", "tree walk", "e4_tree_walk: %d", rc);
	cursor_free(&cur);	/* a walk cut short may leave one open */
	w->cur = NULL;
}

/* ---- main ------------------------------------------------------------- */

static int open_fs_mode(const char *image, struct walk *w, bool rw,
			struct e4_fs **fs)
{
	struct e4_dev *dev;
	struct e4_open_opts opts = {
		.read_only = !rw,
		.csum = E4_CSUM_VERIFY,
		.log = log_sink,
		.log_ctx = w,
		.log_level = E4_LOG_WARN,
	};
	int rc = e4_dev_open_file(image, 0, 0, rw, &dev);

	if (rc < 0) {
		fprintf(stderr, "tree_compare: %s: e4_dev_open_file: %s\n", image, strerror(-rc));
		return rc;
	}
	rc = e4_fs_open(dev, &opts, fs);
	if (rc < 0) {
		fprintf(stderr, "tree_compare: %s: e4_fs_open: %s\n", image, strerror(-rc));
		e4_dev_close(dev);
		return rc;
	}
	if (rw) {
		rc = e4_fs_begin_write(*fs, NULL);
		if (rc < 0) {
			fprintf(stderr, "tree_compare: %s: e4_fs_begin_write: %s\n", image, strerror(-rc));
			e4_fs_close(*fs);
		}
	}
	return rc;
}

static int open_fs(const char *image, struct walk *w, struct e4_fs **fs)
{
	return open_fs_mode(image, w, false, fs);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int open_time(const char *image, bool rw, int reps)
{
	uint64_t *t = xmalloc((size_t)reps * sizeof(*t));
	uint64_t reads = 0;
	int fd = open(image, O_RDONLY);

	if (fd < 0) {
		perror(image);
		return 2;
	}
	for (int i = 0; i < reps; i++) {
		struct e4_fs *fs;

		/* Cold: the image's pages leave the page cache before each open. */
		fdatasync(fd);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		uint64_t t0 = now_ns();

		if (open_fs_mode(image, NULL, rw, &fs) < 0)
			return 2;
		if (rw && e4_fs_end_write(fs) < 0) {
			fprintf(stderr, "tree_compare: %s: e4_fs_end_write failed\n", image);
			return 2;
		}
		if (i == 0) {	/* the same every time: the first says it */
			struct e4_fs_counters n;

			e4_fs_get_counters(fs, &n);
			reads = n.dev_reads;
		}
		e4_fs_close(fs);
		t[i] = now_ns() - t0;
	}
	close(fd);
	qsort(t, (size_t)reps, sizeof(*t), cmp_u64);
	printf("open-time%s %s: median %" PRIu64 " us, min %" PRIu64 " us, max %" PRIu64 " us (%d cold opens), %" PRIu64 " device reads\n",
	       rw ? "-rw" : "", image, t[reps / 2] / 1000, t[0] / 1000,
	       t[reps - 1] / 1000, reps, reads);
	free(t);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: tree_compare [--ref=src|kernel] [-v] IMAGE REFDIR\n"
		"       tree_compare --open-time IMAGE [REPS]\n"
		"       tree_compare --open-time-rw IMAGE [REPS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct walk w = { .ref = REF_SRC };
	int i = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && (!strcmp(argv[1], "--open-time") ||
			  !strcmp(argv[1], "--open-time-rw")))
		return open_time(argv[2], !strcmp(argv[1], "--open-time-rw"),
				 argc > 3 ? atoi(argv[3]) > 0 ? atoi(argv[3]) : 1 : 21);
	if (argc == 1) {
		/* Run by `make check` through TESTS = $(check_PROGRAMS): this
		 * program is the helper of tests/integration/tree-compare-*.sh. */
		printf("tree_compare: helper of tests/integration/*.sh; nothing to do alone\n");
		return 77;
	}
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--ref=src"))
			w.ref = REF_SRC;
		else if (!strcmp(argv[i], "--ref=kernel"))
			w.ref = REF_KERNEL;
		else if (!strcmp(argv[i], "-v"))
			w.verbose = true;
		else
			return usage();
	}
	if (argc - i != 2)
		return usage();

	const char *image = argv[i], *refdir = argv[i + 1];
	struct e4_fs_info info;

	if (open_fs(image, &w, &w.fs) < 0)
		return 1;
	e4_fs_get_info(w.fs, &info);
	w.has_filetype = info.feature_incompat & E4_INCOMPAT_FILETYPE;
	w.buf_img = xmalloc(CHUNK_MAX);
	w.buf_ref = xmalloc(CHUNK_MAX);

	compare_tree(&w, refdir);

	e4_fs_close(w.fs);
	if (w.lib_errors)
		mismatch(&w, "", "library log", "%lu error(s) logged while reading a clean image",
			 w.lib_errors);
	printf("tree_compare: %s vs %s (%s): %lu entries, %lu dirs, %lu files (%lu bytes), "
	       "%lu symlinks, %lu xattrs: %lu mismatch%s\n",
	       image, refdir, w.ref == REF_SRC ? "source tree" : "kernel mount",
	       w.entries, w.dirs, w.files, w.bytes, w.symlinks, w.xattrs,
	       w.mismatches, w.mismatches == 1 ? "" : "es");
	free(w.buf_img);
	free(w.buf_ref);
	free(w.links);
	return w.mismatches ? 1 : 0;
}

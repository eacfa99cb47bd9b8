/* SPDX-License-Identifier: MIT */
/*
 * fsdiff: compare two mounted trees entry by entry with ordinary system
 * calls, the way any program sees them.
 *
 *   fsdiff [-q] [-n] [-w] TREE REFERENCE
 *   (-q: quiet, -n: no SEEK_HOLE map, -w: the two trees were written
 *   independently, by the same workload: what two allocators and two
 *   clocks decide is not compared: inode numbers, st_blocks, ctime and
 *   birth time, and the size of directories)
 *
 * TREE is an e4fuse mount, REFERENCE the kernel's `mount -o loop,ro` of the
 * same image.  For every entry: the set of names and their d_type, type and
 * mode, owner, size, nlink, inode number, st_blocks, rdev, atime, mtime,
 * ctime and birth time to the nanosecond, the extended attributes (names and
 * values), symlink targets, file contents, and where data and holes are
 * (SEEK_DATA/SEEK_HOLE).  Prints "MISMATCH <path>: ..." for each difference;
 * exits 1 if there was any, 2 on a setup error.
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
#include <sys/xattr.h>
#include <unistd.h>

#include "../statx_compat.h"

#define MAX_REPORTED 200
#define CHUNK (1u << 20)

static unsigned mismatches;
static unsigned long entries;
static bool quiet;
static bool check_seek = true;
static bool independent;
static char *buf_a, *buf_b;

static void mismatch(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void mismatch(const char *path, const char *fmt, ...)
{
	va_list ap;

	if (++mismatches > MAX_REPORTED)
		return;
	printf("MISMATCH %s: ", path);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- directory listings ---------------------------------------------------- */

struct listing {
	char **names;
	unsigned char *types;
	size_t n;
};

static void free_listing(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->types);
}

static int list_dir(const char *path, struct listing *l)
{
	DIR *d = opendir(path);
	size_t cap = 0;
	struct dirent *de;

	memset(l, 0, sizeof(*l));
	if (!d)
		return -errno;
	errno = 0;
	while ((de = readdir(d))) {
		if (l->n == cap) {
			cap = cap ? cap * 2 : 64;
			l->names = realloc(l->names, cap * sizeof(*l->names));
			l->types = realloc(l->types, cap);
			if (!l->names || !l->types)
				abort();
		}
		l->names[l->n] = strdup(de->d_name);
		l->types[l->n] = de->d_type;
		l->n++;
	}
	int err = errno;

	closedir(d);
	if (err)
		return -err;
	/* sort names with their types */
	for (size_t i = 1; i < l->n; i++) {
		char *nm = l->names[i];
		unsigned char t = l->types[i];
		size_t j = i;

		for (; j > 0 && strcmp(l->names[j - 1], nm) > 0; j--) {
			l->names[j] = l->names[j - 1];
			l->types[j] = l->types[j - 1];
		}
		l->names[j] = nm;
		l->types[j] = t;
	}
	return 0;
}

/* ---- attributes -------------------------------------------------------------- */

static bool ts_eq(struct statx_timestamp a, struct statx_timestamp b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static void cmp_time(const char *path, const char *what,
		     struct statx_timestamp a, struct statx_timestamp b)
{
	if (!ts_eq(a, b))
		mismatch(path, "%s %lld.%09u vs %lld.%09u", what,
			 (long long)a.tv_sec, a.tv_nsec, (long long)b.tv_sec,
			 b.tv_nsec);
}

static int do_statx(const char *path, struct statx *st)
{
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_STATX_FORCE_SYNC,
		  STATX_BASIC_STATS | STATX_BTIME, st) < 0)
		return -errno;
	return 0;
}

static void cmp_attrs(const char *rel, const struct statx *a,
		      const struct statx *b)
{
#define CMPF(f, name) \
	do { if (a->f != b->f) mismatch(rel, "%s %llu vs %llu", name, \
		(unsigned long long)a->f, (unsigned long long)b->f); } while (0)
	CMPF(stx_mode, "mode");
	CMPF(stx_uid, "uid");
	CMPF(stx_gid, "gid");
	if (!independent || !S_ISDIR(a->stx_mode))
		CMPF(stx_size, "size");
	CMPF(stx_nlink, "nlink");
	if (!independent) {
		CMPF(stx_ino, "ino");
		CMPF(stx_blocks, "blocks");
	}
	CMPF(stx_rdev_major, "rdev major");
	CMPF(stx_rdev_minor, "rdev minor");
#undef CMPF
	cmp_time(rel, "atime", a->stx_atime, b->stx_atime);
	cmp_time(rel, "mtime", a->stx_mtime, b->stx_mtime);
	if (independent)
		return;
	cmp_time(rel, "ctime", a->stx_ctime, b->stx_ctime);
	if ((a->stx_mask & STATX_BTIME) != (b->stx_mask & STATX_BTIME))
		mismatch(rel, "birth time %s vs %s",
			 (a->stx_mask & STATX_BTIME) ? "present" : "absent",
			 (b->stx_mask & STATX_BTIME) ? "present" : "absent");
	else if (a->stx_mask & STATX_BTIME)
		cmp_time(rel, "btime", a->stx_btime, b->stx_btime);
}

/* ---- xattrs ---------------------------------------------------------------------- */

static ssize_t xlist(const char *path, char **names)
{
	ssize_t n = llistxattr(path, NULL, 0);

	if (n < 0)
		return -errno;
	*names = malloc((size_t)n + 1);
	n = llistxattr(path, *names, (size_t)n);
	if (n < 0) {
		free(*names);
		return -errno;
	}
	return n;
}

static size_t split(char *list, size_t len, char ***out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (list[i] == '\0')
			n++;
	*out = calloc(n + 1, sizeof(char *));
	size_t k = 0;

	for (size_t i = 0; i < len && k < n; i += strlen(list + i) + 1)
		(*out)[k++] = list + i;
	qsort(*out, k, sizeof(char *), cmp_str);
	return k;
}

static void cmp_xattrs(const char *rel, const char *pa, const char *pb)
{
	char *la = NULL, *lb = NULL, **na = NULL, **nb = NULL;
	ssize_t lena = xlist(pa, &la), lenb = xlist(pb, &lb);

	if (lena < 0 || lenb < 0) {
		if ((lena < 0) != (lenb < 0) || lena != lenb)
			mismatch(rel, "listxattr %zd vs %zd", lena, lenb);
		goto out;
	}
	size_t ca = split(la, (size_t)lena, &na), cb = split(lb, (size_t)lenb, &nb);

	if (ca != cb) {
		mismatch(rel, "%zu xattrs vs %zu", ca, cb);
		goto out;
	}
	for (size_t i = 0; i < ca; i++) {
		if (strcmp(na[i], nb[i])) {
			mismatch(rel, "xattr name %s vs %s", na[i], nb[i]);
			continue;
		}
		char va[65536], vb[65536];
		ssize_t sa = lgetxattr(pa, na[i], va, sizeof(va));
		ssize_t sb = lgetxattr(pb, nb[i], vb, sizeof(vb));

		if (sa != sb || (sa > 0 && memcmp(va, vb, (size_t)sa)))
			mismatch(rel, "xattr %s value differs (%zd vs %zd "
				 "bytes)", na[i], sa, sb);
		/* the size query must agree with the value */
		ssize_t qa = lgetxattr(pa, na[i], NULL, 0);

		if (qa != sa)
			mismatch(rel, "xattr %s: size query %zd, value %zd",
				 na[i], qa, sa);
	}
out:
	free(la);
	free(lb);
	free(na);
	free(nb);
}

/* ---- contents ------------------------------------------------------------------------ */

static void seek_map(int fd, off_t size, off_t *out, size_t max, size_t *n)
{
	off_t pos = 0;

	*n = 0;
	while (pos < size && *n + 2 <= max) {
		off_t d = lseek(fd, pos, SEEK_DATA);

		if (d < 0) {
			out[(*n)++] = errno == ENXIO ? -1 : -errno - 1000;
			return;
		}
		off_t h = lseek(fd, d, SEEK_HOLE);

		out[(*n)++] = d;
		out[(*n)++] = h < 0 ? -errno - 1000 : h;
		if (h <= d)
			return;
		pos = h;
	}
}

static void cmp_file(const char *rel, const char *pa, const char *pb,
		     off_t size)
{
	int fa = open(pa, O_RDONLY | O_NOFOLLOW);
	int fb = open(pb, O_RDONLY | O_NOFOLLOW);

	if (fa < 0 || fb < 0) {
		mismatch(rel, "open: %s / %s", fa < 0 ? strerror(errno) : "ok",
			 fb < 0 ? strerror(errno) : "ok");
		goto out;
	}
	/*
	 * Holes first: the kernel's ext4 counts unwritten extents whose pages
	 * are in the page cache as data, so reading first would change its
	 * answer.  (-n skips this where other readers share the cache.)
	 */
	if (check_seek) {
		off_t ma[64], mb[64];
		size_t na, nb;

		seek_map(fa, size, ma, 64, &na);
		seek_map(fb, size, mb, 64, &nb);
		/* The kernel's ext4 fails SEEK_HOLE with ENOENT on inline-data
		 * files longer than their inline data (mkfs -d makes those for
		 * all-zero files): no reference answer to compare with. */
		bool ref_failed = false;
		for (size_t k = 0; k < nb; k++)
			ref_failed |= mb[k] <= -1000 && mb[k] != -ENXIO - 1000;
		if (ref_failed)
			printf("note %s: reference SEEK_DATA/SEEK_HOLE fails, map not compared\n", rel);
		else if (na != nb || memcmp(ma, mb, na * sizeof(off_t))) {
			size_t i = 0;

			while (i < na && i < nb && ma[i] == mb[i])
				i++;
			mismatch(rel, "SEEK_DATA/SEEK_HOLE map differs at "
				 "step %zu: %lld vs %lld", i,
				 i < na ? (long long)ma[i] : -2LL,
				 i < nb ? (long long)mb[i] : -2LL);
		}
	}

	off_t off = 0;

	for (;;) {
		ssize_t ra = pread(fa, buf_a, CHUNK, off);
		ssize_t rb = pread(fb, buf_b, CHUNK, off);

		if (ra < 0 || rb < 0) {
			mismatch(rel, "read at %lld: %zd vs %zd (%s)",
				 (long long)off, ra, rb, strerror(errno));
			goto out;
		}
		/* a short read is fine, compare what both returned */
		ssize_t n = ra < rb ? ra : rb;

		if (n == 0) {
			if (ra != rb)
				mismatch(rel, "EOF at %lld on one side only",
					 (long long)off);
			break;
		}
		if (memcmp(buf_a, buf_b, (size_t)n)) {
			size_t i = 0;

			while (buf_a[i] == buf_b[i])
				i++;
			mismatch(rel, "content differs at byte %lld",
				 (long long)(off + (off_t)i));
			goto out;
		}
		off += n;
	}
	if (off != size)
		mismatch(rel, "read %lld bytes, size %lld", (long long)off,
			 (long long)size);

out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
}

/* ---- the walk -------------------------------------------------------------------------- */

static void walk(const char *ra, const char *rb, const char *rel)
{
	char pa[8192], pb[8192], r[8192];
	struct statx sa, sb;

	snprintf(pa, sizeof(pa), "%s%s", ra, rel);
	snprintf(pb, sizeof(pb), "%s%s", rb, rel);
	const char *shown = *rel ? rel : "/";
	int ea = do_statx(pa, &sa), eb = do_statx(pb, &sb);

	entries++;
	if (ea || eb) {
		mismatch(shown, "statx: %s vs %s", ea ? strerror(-ea) : "ok",
			 eb ? strerror(-eb) : "ok");
		return;
	}
	/* the mount roots differ in nothing but what the kernel makes up */
	cmp_attrs(shown, &sa, &sb);
	cmp_xattrs(shown, pa, pb);

	if (S_ISLNK(sb.stx_mode) && S_ISLNK(sa.stx_mode)) {
		char ta[8192], tb[8192];
		ssize_t la = readlink(pa, ta, sizeof(ta));
		ssize_t lb = readlink(pb, tb, sizeof(tb));

		if (la != lb || (la > 0 && memcmp(ta, tb, (size_t)la)))
			mismatch(shown, "symlink target differs (%zd vs %zd "
				 "bytes)", la, lb);
	} else if (S_ISREG(sb.stx_mode) && S_ISREG(sa.stx_mode)) {
		cmp_file(shown, pa, pb, (off_t)sb.stx_size);
	} else if (S_ISDIR(sb.stx_mode) && S_ISDIR(sa.stx_mode)) {
		struct listing la, lb;
		int da = list_dir(pa, &la), db = list_dir(pb, &lb);

		if (da || db) {
			mismatch(shown, "readdir: %s vs %s",
				 da ? strerror(-da) : "ok",
				 db ? strerror(-db) : "ok");
		} else if (la.n != lb.n) {
			mismatch(shown, "%zu entries vs %zu", la.n, lb.n);
		}
		for (size_t i = 0; !da && !db && i < la.n && i < lb.n; i++) {
			if (strcmp(la.names[i], lb.names[i])) {
				mismatch(shown, "entry '%s' vs '%s'",
					 la.names[i], lb.names[i]);
				break;
			}
			if (la.types[i] != lb.types[i] &&
			    la.types[i] != DT_UNKNOWN &&
			    lb.types[i] != DT_UNKNOWN)
				mismatch(shown, "'%s' d_type %u vs %u",
					 la.names[i], la.types[i],
					 lb.types[i]);
			if (!strcmp(lb.names[i], ".") ||
			    !strcmp(lb.names[i], ".."))
				continue;
			snprintf(r, sizeof(r), "%s/%s", rel, lb.names[i]);
			walk(ra, rb, r);
		}
		if (!da)
			free_listing(&la);
		if (!db)
			free_listing(&lb);
	}
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-q"))
			quiet = true;
		else if (!strcmp(argv[i], "-n"))
			check_seek = false;
		else if (!strcmp(argv[i], "-w"))
			independent = true;
		else
			break;
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: fsdiff [-q] [-n] [-w] TREE REFERENCE\n");
		return 2;
	}
	buf_a = malloc(CHUNK);
	buf_b = malloc(CHUNK);
	if (!buf_a || !buf_b)
		return 2;
	walk(argv[i], argv[i + 1], "");
	if (mismatches > MAX_REPORTED)
		printf("... %u mismatches in all\n", mismatches);
	if (!quiet || mismatches)
		printf("fsdiff: %lu entries, %u mismatches\n", entries,
		       mismatches);
	free(buf_a);
	free(buf_b);
	return mismatches ? 1 : 0;
}

/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e4/write.h"
#include "ondisk/ondisk.h"
#include "testutil.h"

static char tmpdir[256];
static char logbuf[65536];
static size_t loglen;

static void cleanup_tmpdir(void)
{
	char cmd[300];

	if (tmpdir[0] && !getenv("E4_KEEP_TMP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "warning: could not remove %s\n", tmpdir);
	}
}

const char *tu_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(tmpdir, sizeof(tmpdir), "%s/e4test.XXXXXX", base ? base : "/tmp");
		if (!mkdtemp(tmpdir))
			fail_msg("mkdtemp: %s", strerror(errno));
		atexit(cleanup_tmpdir);
	}
	return tmpdir;
}

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		fail_msg("out of memory");
	return s;
}

void tu_sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = vformat(fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
	free(cmd);
}

char *tu_sh_out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = vformat(fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	if (!p)
		fail_msg("popen failed: %s", cmd);
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);
	size_t n;
	while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			out = realloc(out, cap);
		}
	}
	out[len] = '\0';
	int rc = pclose(p);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
	free(cmd);
	return out;
}

char *tu_mkfs(const char *name, const char *mkfs_args, const char *src,
	      const char *size)
{
	char *img = NULL;
	if (asprintf(&img, "%s/%s", tu_tmpdir(), name) < 0)
		fail_msg("oom");
	tu_sh("rm -f '%s' && mkfs.ext4 -q -F %s %s%s%s '%s' %s >/dev/null 2>&1", img,
	      mkfs_args ? mkfs_args : "", src ? "-d '" : "", src ? src : "",
	      src ? "'" : "", img, size);
	return img;
}

char *tu_copy(const char *img, const char *name)
{
	char *dst = NULL;
	if (asprintf(&dst, "%s/%s", tu_tmpdir(), name) < 0)
		fail_msg("oom");
	tu_sh("cp --sparse=always '%s' '%s'", img, dst);
	return dst;
}

void tu_patch(const char *img, uint64_t off, const void *bytes, size_t n)
{
	int fd = open(img, O_WRONLY);
	if (fd < 0)
		fail_msg("open %s: %s", img, strerror(errno));
	if (pwrite(fd, bytes, n, (off_t)off) != (ssize_t)n)
		fail_msg("pwrite %s at %llu failed", img, (unsigned long long)off);
	close(fd);
}

void tu_patch_le16(const char *img, uint64_t off, uint16_t v)
{
	uint8_t b[2];
	e4_put_le16(b, 2, 0, v);
	tu_patch(img, off, b, 2);
}

void tu_patch_le32(const char *img, uint64_t off, uint32_t v)
{
	uint8_t b[4];
	e4_put_le32(b, 4, 0, v);
	tu_patch(img, off, b, 4);
}

void tu_patch_u8(const char *img, uint64_t off, uint8_t v)
{
	tu_patch(img, off, &v, 1);
}

void tu_peek(const char *img, uint64_t off, void *bytes, size_t n)
{
	int fd = open(img, O_RDONLY);
	if (fd < 0)
		fail_msg("open %s: %s", img, strerror(errno));
	if (pread(fd, bytes, n, (off_t)off) != (ssize_t)n)
		fail_msg("pread %s at %llu failed", img, (unsigned long long)off);
	close(fd);
}

uint32_t tu_peek_le32(const char *img, uint64_t off)
{
	uint8_t b[4];
	tu_peek(img, off, b, 4);
	return e4_le32(b, 4, 0);
}

uint16_t tu_peek_le16(const char *img, uint64_t off)
{
	uint8_t b[2];
	tu_peek(img, off, b, 2);
	return e4_le16(b, 2, 0);
}

void tu_debugfs(const char *img, const char *cmd)
{
	/* one open for all of @cmd's lines: a change that breaks a checksum
	 * must not stop debugfs opening the image for the next one */
	char *out = tu_sh_out("printf '%%s\\n' '%s' | debugfs -w -f - '%s' 2>&1",
			      cmd, img);
	/* debugfs exits 0 even when the command fails; catch the usual words */
	if (strstr(out, "Unknown request") || strstr(out, "not found") ||
	    strstr(out, "Invalid") || strstr(out, "Couldn't") ||
	    strstr(out, "not open"))
		fail_msg("debugfs '%s' on %s: %s", cmd, img, out);
	free(out);
}

char *tu_debugfs_out(const char *img, const char *cmd)
{
	return tu_sh_out("debugfs -R \"%s\" '%s' 2>/dev/null", cmd, img);
}

uint32_t tu_ino_of(const char *img, const char *path)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "stat %s", path);
	char *out = tu_sh_out("debugfs -R 'stat \"%s\"' '%s' 2>/dev/null | head -1", path, img);
	unsigned ino = 0;
	if (sscanf(out, "Inode: %u", &ino) != 1)
		fail_msg("no inode for %s in %s: %s", path, img, out);
	free(out);
	return ino;
}

uint64_t tu_inode_offset(const char *img, uint32_t ino)
{
	char *out = tu_debugfs_out(img, "imap <0>");
	free(out);
	out = tu_sh_out("debugfs -R 'imap <%u>' '%s' 2>/dev/null", ino, img);
	unsigned long long blk = 0;
	unsigned off = 0;
	const char *p = strstr(out, "located at block ");
	if (!p || sscanf(p, "located at block %llu, offset 0x%x", &blk, &off) != 2)
		fail_msg("imap of inode %u failed: %s", ino, out);
	free(out);
	return blk * tu_block_size(img) + off;
}

uint64_t tu_bmap(const char *img, const char *path, uint64_t lblk)
{
	char *out = tu_sh_out("debugfs -R 'bmap \"%s\" %llu' '%s' 2>/dev/null", path,
			      (unsigned long long)lblk, img);
	unsigned long long blk = 0;
	if (sscanf(out, "%llu", &blk) != 1)
		fail_msg("bmap %s %llu failed: %s", path, (unsigned long long)lblk, out);
	free(out);
	return blk;
}

uint32_t tu_block_size(const char *img)
{
	uint32_t log = tu_peek_le32(img, 1024 + 0x18);
	return 1024u << log;
}

/* debugfs cannot recompute these ("calc" is not accepted for them), so the
 * tests run the verifier rows' own checksum setters (ondisk/verify.h):
 * what the library writes is what the tests write.  The setters see a file
 * system decoded from the raw superblock, not an opened one: the tests fix
 * checksums on images the library refuses to open (a broken superblock,
 * root inode or journal), which is the point of fixing them. */
void tu_csum_fs(const char *img, struct e4_fs *fs)
{
	uint8_t sb[1024];

	tu_peek(img, 1024, sb, sizeof(sb));
	memset(fs, 0, sizeof(*fs));
	memcpy(fs->sb_raw, sb, sizeof(fs->sb_raw));
	fs->log_block_size = 10 + e4_le32(sb, 1024, E4_SB_LOG_BLOCK_SIZE);
	/* a block size no superblock may have (a test broke it) is taken as
	 * 1 KiB: the superblock is then block 1, where it is anyway */
	if (fs->log_block_size > 16)
		fs->log_block_size = 10;
	fs->block_size = 1u << fs->log_block_size;
	fs->inode_size = e4_le16(sb, 1024, E4_SB_INODE_SIZE);
	fs->inodes_per_group = e4_le32(sb, 1024, E4_SB_INODES_PER_GROUP);
	fs->feature_incompat = e4_le32(sb, 1024, E4_SB_FEATURE_INCOMPAT);
	fs->feature_ro_compat = e4_le32(sb, 1024, E4_SB_FEATURE_RO_COMPAT);
	fs->metadata_csum = fs->feature_ro_compat & E4_RO_COMPAT_METADATA_CSUM;
	/* the seed as the superblock gives it (§12.2) */
	if (fs->metadata_csum && (fs->feature_incompat & E4_INCOMPAT_CSUM_SEED))
		fs->fs_seed = e4_le32(sb, 1024, E4_SB_CHECKSUM_SEED);
	else
		fs->fs_seed = e4_crc32c(0xFFFFFFFFu, sb + E4_SB_UUID, 16);
}

static void fix_with(const char *img, struct e4_fs *fs, uint64_t blk,
		     const struct e4_buf_ops *ops, const struct e4_owner *owner)
{
	struct e4_buf buf = { .blk = blk, .size = fs->block_size };

	if (!ops->csum_set)
		fail_msg("%s: the row sets no checksum", ops->name);
	buf.data = malloc(buf.size);
	if (!buf.data)
		fail_msg("out of memory");
	tu_peek(img, blk * buf.size, buf.data, buf.size);
	ops->csum_set(fs, &buf, owner);
	tu_patch(img, blk * buf.size, buf.data, buf.size);
	free(buf.data);
}

/* struct e4_fs is large: one per program, for the helpers below */
static struct e4_fs csum_fs;

void tu_fix_block_csum(const char *img, uint64_t blk,
		       const struct e4_buf_ops *ops,
		       const struct e4_owner *owner)
{
	tu_csum_fs(img, &csum_fs);
	fix_with(img, &csum_fs, blk, ops, owner);
}

void tu_fix_owned_csum(const char *img, uint64_t blk,
		       const struct e4_buf_ops *ops, uint32_t ino, uint64_t pos)
{
	struct e4_owner owner = {
		.ino = ino,
		.gen = tu_peek_le32(img, tu_inode_offset(img, ino) +
					 E4_I_GENERATION),
		.pos = pos,
	};

	tu_fix_block_csum(img, blk, ops, &owner);
}

void tu_fix_inode_csum(const char *img, uint32_t ino)
{
	struct e4_owner owner = { .ino = ino };

	tu_fix_block_csum(img, tu_inode_offset(img, ino) / tu_block_size(img),
			  &e4_bops_inode_table, &owner);
}

void tu_fix_xattr_block_csum(const char *img, uint64_t blk)
{
	struct e4_owner owner = { 0 };

	tu_fix_block_csum(img, blk, &e4_bops_xattr, &owner);
}

void tu_fix_sb_csum(const char *img)
{
	struct e4_owner owner = { 0 };

	tu_csum_fs(img, &csum_fs);
	fix_with(img, &csum_fs, 1024 / csum_fs.block_size, &e4_bops_superblock,
		 &owner);
}

void tu_log_record(void *ctx, enum e4_log_level level, const char *msg)
{
	(void)ctx;
	(void)level;
	int n = snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "%s\n", msg);
	if (n > 0 && (size_t)n < sizeof(logbuf) - loglen)
		loglen += (size_t)n;
	if (getenv("E4_TEST_VERBOSE"))
		fprintf(stderr, "[e4] %s\n", msg);
}

/* The reports since the last tu_log_clear(), without their text (the log
 * has it); the first ones, if there are very many. */
struct recorded {
	enum e4_log_level level;
	enum e4_rule rule;
	struct e4_object obj;
};
static struct recorded reports[1024];
static size_t nreports;

static void record_report(void *ctx, const struct e4_report *r)
{
	(void)ctx;
	if (nreports < sizeof(reports) / sizeof(reports[0]))
		reports[nreports++] = (struct recorded){ r->level, r->rule,
							 r->obj };
}

int tu_open_dev(struct e4_dev *dev, struct e4_open_opts *opts,
		struct e4_fs **out)
{
	opts->log = tu_log_record;
	opts->log_ctx = NULL;
	opts->report = record_report;
	opts->report_ctx = NULL;
	opts->log_level = E4_LOG_DEBUG;
	return e4_fs_open(dev, opts, out);
}

int tu_open_opts(const char *img, struct e4_open_opts *opts, struct e4_fs **out)
{
	struct e4_dev *dev;
	int err = e4_dev_open_file(img, 0, 0, false, &dev);
	if (err)
		return err;
	err = tu_open_dev(dev, opts, out);
	if (err)
		e4_dev_close(dev);
	return err;
}

int tu_open(const char *img, struct e4_fs **out)
{
	struct e4_open_opts opts = {.read_only = true};
	return tu_open_opts(img, &opts, out);
}

struct e4_fs *tu_open_rw(const char *img)
{
	struct e4_open_opts o = { .read_only = false };
	struct e4_dev *dev;
	struct e4_fs *fs;

	assert_int_equal(e4_dev_open_file(img, 0, 0, true, &dev), 0);
	assert_int_equal(tu_open_dev(dev, &o, &fs), 0);
	assert_int_equal(e4_fs_begin_write(fs, NULL), 0);
	return fs;
}

void tu_close_rw(struct e4_fs *fs)
{
	assert_int_equal(e4_fs_end_write(fs), 0);
	tu_close(fs);
}

/*
 * e2fsck -fn's exit status alone misses a wrong free count in the
 * superblock ("Free blocks count wrong ... Fix? no", status 0): every
 * question answered no counts, but an offer to optimise a tree (not an
 * error) does not; nor does a journal left needing recovery (e2fsck -n
 * skips it and says nothing else).  @live: the image is open for writing,
 * whose superblock counts are brought up to date only at unmount (as the
 * kernel's are), and whose journal is in use.
 */
static void fsck_clean(const char *img, bool live)
{
	tu_sh("out=$(e2fsck -fn '%s' 2>&1) && printf '%%s\\n' \"$out\" | awk -v live=%d '"
	      "live && /^Free (blocks|inodes) count wrong \\(/ { sb = 1; next } "
	      "/Optimize\\? no$/ { next } "
	      "!live && /skipping journal recovery/ { bad = 1 } "
	      "/\\? no$/ && !sb { bad = 1 } { sb = 0 } END { exit bad }' "
	      "|| { printf '%%s\\n' \"$out\"; exit 1; }",
	      img, live ? 1 : 0);
}

void tu_fsck_clean(const char *img)
{
	fsck_clean(img, false);
}

void tu_fsck_clean_live(const char *img)
{
	fsck_clean(img, true);
}

void tu_close(struct e4_fs *fs)
{
	e4_fs_close(fs);
}

const char *tu_msg(const char *fmt, ...)
{
	static char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

static unsigned skipped;

void tu_note_skip(const char *why)
{
	fprintf(stderr, "SKIP: %s\n", why);
	skipped++;
}

int tu_result(int failed)
{
	if (failed)
		return failed;
	return skipped ? 77 : 0;
}

const char *tu_log(void)
{
	return logbuf;
}

void tu_log_clear(void)
{
	loglen = 0;
	logbuf[0] = '\0';
	nreports = 0;
}

void tu_assert_log(const char *needle)
{
	if (!strstr(logbuf, needle))
		fail_msg("log does not contain \"%s\"; log was:\n%s", needle, logbuf);
}

static bool rule_reported(enum e4_rule rule, const struct e4_object *obj)
{
	for (size_t i = 0; i < nreports; i++)
		if (reports[i].rule == rule &&
		    (!obj || e4_object_equal(&reports[i].obj, obj)))
			return true;
	return false;
}

static void rule_failed(enum e4_rule rule, const struct e4_object *obj)
{
	char want[160] = "any object";

	if (obj)
		e4_object_describe(obj, want, sizeof(want));
	fail_msg("no report of %s (%s) about %s; log was:\n%s",
		 e4_rule_id(rule), e4_rule_name(rule), want, logbuf);
}

size_t tu_rule_reports(enum e4_rule rule, struct e4_object obj)
{
	size_t n = 0;

	for (size_t i = 0; i < nreports; i++)
		n += reports[i].rule == rule &&
		     e4_object_equal(&reports[i].obj, &obj);
	return n;
}

void tu_assert_rule(enum e4_rule rule, struct e4_object obj)
{
	if (!rule_reported(rule, &obj))
		rule_failed(rule, &obj);
}

void tu_assert_rule_any(enum e4_rule rule)
{
	if (!rule_reported(rule, NULL))
		rule_failed(rule, NULL);
}

size_t tu_gather(void *dst, size_t size, const struct iovec *iov,
		 int iovcnt)
{
	size_t len = 0;

	for (int i = 0; i < iovcnt; i++) {
		assert_true(iov[i].iov_len <= size - len);
		memcpy((uint8_t *)dst + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	return len;
}

char *tu_slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	char *bytes;
	long n;

	if (!f)
		fail_msg("%s: cannot open", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	if (n < 0)
		fail_msg("%s: cannot size", path);
	bytes = malloc(n ? (size_t)n : 1);
	if (!bytes || fread(bytes, 1, (size_t)n, f) != (size_t)n)
		fail_msg("%s: cannot read", path);
	fclose(f);
	*size = (size_t)n;
	return bytes;
}

bool tu_can_loop_mount(void)
{
	static int cached = -1;

	if (cached < 0) {
		char *img = tu_mkfs("probe.img", "-b 4096", NULL, "8M");
		char *r = tu_sh_out("mkdir -p '%s/probe' && mount -o loop,ro '%s' "
				    "'%s/probe' >/dev/null 2>&1 && "
				    "umount '%s/probe' && echo yes",
				    tu_tmpdir(), img, tu_tmpdir(), tu_tmpdir());

		cached = strncmp(r, "yes", 3) == 0;
		free(r);
		free(img);
	}
	return cached;
}

void tu_kernel_expect(const char *img, const char *checks)
{
	if (!tu_can_loop_mount()) {
		tu_note_skip("no loop mounts: the kernel read-back was not run");
		return;
	}
	/* the checks' subshell must not be the left side of a || (that
	 * turns its set -e off and only the last check would count) */
	tu_sh("set -e; m='%s/kmnt'; mkdir -p \"$m\"; mount -o loop,ro '%s' \"$m\"; "
	      "set +e; ( set -e; %s ); rc=$?; umount \"$m\"; exit $rc",
	      tu_tmpdir(), img, checks);
}

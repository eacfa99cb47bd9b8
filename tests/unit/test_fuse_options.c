/* SPDX-License-Identifier: MIT */
/*
 * e4fuse's command line: numeric options are decimal only (offset=0100 is
 * 100, not octal 64; 0x10 is refused), keep their size suffixes, and refuse
 * empty values, signs, blanks, trailing characters and overflow with one
 * line on stderr naming the option.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuse/options.h"
#include "fuse/session.h"
#include "testutil.h"

static char err_text[1024];

/* Parse `e4fuse -o @opts img mnt`; what it printed on stderr goes to
 * err_text. */
static int parse(const char *opts, struct e4f_options *o)
{
	char *argv[] = { "e4fuse", "-o", (char *)opts, "img", "mnt", NULL };
	FILE *cap = tmpfile();
	int saved = dup(2);

	assert_non_null(cap);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(cap), 2) >= 0);
	int ret = e4f_parse_args(5, argv, o);

	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	rewind(cap);
	size_t n = fread(err_text, 1, sizeof(err_text) - 1, cap);

	err_text[n] = '\0';
	fclose(cap);
	return ret;
}

/* @opts parses, with nothing printed. */
static struct e4f_options good(const char *opts)
{
	struct e4f_options o;

	if (parse(opts, &o) != 0)
		fail_msg("'%s' refused: %s", opts, err_text);
	assert_string_equal(err_text, "");
	e4f_options_free(&o);
	return o;
}

/* @opts is refused with exactly one line naming @option and containing
 * @why. */
static void refused(const char *opts, const char *option, const char *why)
{
	struct e4f_options o;

	if (parse(opts, &o) != -EINVAL)
		fail_msg("'%s' accepted", opts);
	e4f_options_free(&o);
	char *nl = strchr(err_text, '\n');

	if (!nl || nl[1] != '\0' || !strstr(err_text, option) ||
	    !strstr(err_text, why))
		fail_msg("'%s': want one line naming '%s' saying '%s', got "
			 "'%s'", opts, option, why, err_text);
}

static void test_decimal(void **state)
{
	(void)state;
	assert_int_equal(good("offset=4096").offset, 4096);
	assert_true(good("offset=4096").offset_set);
	/* a leading zero is not octal, 08 is not an invalid octal number */
	assert_int_equal(good("offset=0100").offset, 100);
	assert_int_equal(good("offset=0").offset, 0);
	assert_int_equal(good("partition=08").partition, 8);
	assert_int_equal(good("threads=010").threads, 10);
	assert_int_equal(good("uid=010,gid=0020").uid, 10);
	assert_int_equal(good("uid=010,gid=0020").gid, 20);
	assert_int_equal(good("offset=18446744073709551615").offset,
			 UINT64_MAX);
	assert_int_equal(good("uid=4294967294").uid, 4294967294u);
}

static void test_suffixes(void **state)
{
	(void)state;
	assert_int_equal(good("offset=1K").offset, 1024);
	assert_int_equal(good("offset=3k").offset, 3072);
	assert_int_equal(good("offset=2M").offset, 2u << 20);
	assert_int_equal(good("offset=1G").offset, 1u << 30);
	assert_int_equal(good("offset=1T").offset, 1ull << 40);
	assert_int_equal(good("offset=2048s").offset, 2048 * 512);
	assert_int_equal(good("offset=16777215T").offset,
			 16777215ull << 40);
	/* one suffix, and only where the option takes one */
	refused("offset=1KB", "offset", "not a decimal number");
	refused("offset=1KK", "offset", "not a decimal number");
	refused("offset=K", "offset", "not a decimal number");
	refused("partition=1K", "partition", "not a decimal number");
	refused("threads=2s", "threads", "not a decimal number");
}

/* Switches, their defaults and their no- forms. */
static void test_switches(void **state)
{
	(void)state;
	assert_false(good("rw").writeback_cache);
	assert_true(good("writeback_cache").writeback_cache);
	assert_false(good("writeback_cache,nowriteback_cache").writeback_cache);
	assert_true(good("nowriteback_cache,writeback_cache").writeback_cache);
	assert_true(good("rw").default_permissions);
	assert_false(good("no_default_permissions").default_permissions);
	refused("writeback_cache=1", "writeback_cache", "");
	/* atime: relatime unless asked, the last one given wins */
	assert_int_equal(good("rw").atime, E4_ATIME_RELATIME);
	assert_int_equal(good("noatime").atime, E4_ATIME_NEVER);
	assert_int_equal(good("strictatime").atime, E4_ATIME_STRICT);
	assert_int_equal(good("norelatime").atime, E4_ATIME_STRICT);
	assert_int_equal(good("noatime,relatime").atime, E4_ATIME_RELATIME);
	assert_int_equal(good("noatime,atime").atime, E4_ATIME_RELATIME);
	assert_false(good("rw").nodiratime);
	assert_true(good("nodiratime").nodiratime);
	assert_false(good("nodiratime,diratime").nodiratime);
	refused("noatime=1", "noatime", "");
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const not_numbers[] = {
		"0x10", "0X10", "-1", "+1", " 1", "1 ", "12abc", "1.5", "1e3",
		"0b1", "٣",
	};
	char opt[64];

	for (size_t i = 0; i < sizeof(not_numbers) / sizeof(*not_numbers);
	     i++) {
		snprintf(opt, sizeof(opt), "offset=%s", not_numbers[i]);
		refused(opt, "offset", "not a decimal number");
		snprintf(opt, sizeof(opt), "partition=%s", not_numbers[i]);
		refused(opt, "partition", "not a decimal number");
		snprintf(opt, sizeof(opt), "threads=%s", not_numbers[i]);
		refused(opt, "threads", "not a decimal number");
	}
	static const struct {
		const char *opts, *option, *why;
	} cases[] = {
		/* a uid that is not a number is a user name */
		{ "uid=0x10", "uid", "no such user" },
		{ "gid=-1", "gid", "no such group" },
		/* empty values */
		{ "offset=", "offset", "needs a value" },
		{ "offset", "offset", "needs a value" },
		{ "partition=", "partition", "needs a value" },
		{ "threads=", "threads", "needs a value" },
		{ "uid=", "uid", "needs a value" },
		/* overflow, by digits and by suffix */
		{ "offset=18446744073709551616", "offset", "too large" },
		{ "offset=99999999999999999999999999", "offset", "too large" },
		{ "offset=16777216T", "offset", "too large" },
		{ "offset=36028797018963968s", "offset", "too large" },
		/* ranges */
		{ "partition=18446744073709551617", "partition",
		  "not between 1 and 1024" },
		{ "partition=0", "partition", "not between 1 and 1024" },
		{ "partition=1025", "partition", "not between 1 and 1024" },
		{ "threads=0", "threads", "not between 1 and 64" },
		{ "threads=65", "threads", "not between 1 and 64" },
		{ "uid=4294967295", "uid", "not between 0 and 4294967294" },
		{ "gid=99999999999999999999", "gid",
		  "not between 0 and 4294967294" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		refused(cases[i].opts, cases[i].option, cases[i].why);
}

/* The sandbox's options: on by default, nosandbox, the user it runs as
 * (resolved, never root), its memory limit. */
static void test_sandbox(void **state)
{
	(void)state;
	struct e4f_options o = good("ro");

	assert_true(o.sandbox);
	assert_false(o.sandbox_user_set);
	assert_int_equal(o.sandbox_memory, E4F_SANDBOX_MEMORY_DEFAULT);
	assert_false(good("nosandbox").sandbox);
	refused("nosandbox=1", "nosandbox", "");

	/* a name, with its primary group; a number */
	o = good("sandbox_user=daemon");
	assert_true(o.sandbox_user_set);
	uint32_t uid, gid;

	assert_int_equal(e4f_sandbox_user("daemon", &uid, &gid), 0);
	assert_int_equal(o.sandbox_uid, uid);
	assert_int_equal(o.sandbox_gid, gid);
	assert_int_not_equal(uid, 0);
	o = good("sandbox_user=4242");
	assert_int_equal(o.sandbox_uid, 4242);
	refused("sandbox_user=no-such-user-e4", "sandbox_user",
		"no such user");
	refused("sandbox_user=root", "sandbox_user", "does not run as root");
	refused("sandbox_user=0", "sandbox_user", "does not run as root");
	refused("sandbox_user=", "sandbox_user", "needs a value");
	assert_int_equal(e4f_sandbox_user("no-such-user-e4", &uid, &gid),
			 -ENOENT);

	assert_int_equal(good("sandbox_memory=300M").sandbox_memory,
			 300u << 20);
	assert_int_equal(good("sandbox_memory=0").sandbox_memory, 0);
	refused("sandbox_memory=1M", "sandbox_memory", "below 64M");
	refused("sandbox_memory=-1", "sandbox_memory", "not a decimal number");
	refused("sandbox_memory=", "sandbox_memory", "needs a value");
}

/* The transport: io_uring when offered by default, uring and nouring
 * (the last one given wins), no value taken. */
static void test_transport(void **state)
{
	(void)state;
	assert_int_equal(good("ro").transport, E4F_TRANSPORT_AUTO);
	assert_int_equal(good("uring").transport, E4F_TRANSPORT_URING);
	assert_int_equal(good("nouring").transport, E4F_TRANSPORT_DEVICE);
	assert_int_equal(good("nouring,uring").transport,
			 E4F_TRANSPORT_URING);
	assert_int_equal(good("uring,nouring").transport,
			 E4F_TRANSPORT_DEVICE);
	refused("uring=1", "uring", "");
	refused("nouring=yes", "nouring", "");
}

/* lost_found[=NAME]: read-only mounts only; NAME must be an entry's. */
static void test_lost_found(void **state)
{
	struct e4f_options o;
	char opt[300];

	(void)state;
	assert_int_equal(parse("ro,lost_found", &o), 0);
	assert_string_equal(o.lost_found, "lost+found-e4fuse");
	e4f_options_free(&o);
	assert_int_equal(parse("lost_found=#rescued,ro", &o), 0);
	assert_string_equal(o.lost_found, "#rescued");
	e4f_options_free(&o);
	assert_int_equal(parse("ro", &o), 0);
	assert_null(o.lost_found);
	e4f_options_free(&o);
	refused("lost_found", "lost_found", "read-only mount");
	refused("ro,lost_found,rw", "lost_found", "read-only mount");
	refused("ro,lost_found=a/b", "lost_found", "'/'");
	refused("ro,lost_found=..", "lost_found", "taken");
	refused("ro,lost_found=", "lost_found", "empty");
	snprintf(opt, sizeof(opt), "ro,lost_found=%0256d", 0);
	refused(opt, "lost_found", "longer than 255 bytes");
}

/* Options users bring from libfuse and fuse2fs (README). */
static void test_borrowed(void **state)
{
	struct e4f_options o;

	(void)state;
	o = good("allow_root");
	assert_true(o.allow_root && o.allow_other);
	o = good("fakeroot");
	assert_true(o.fakeroot);
	assert_false(o.default_permissions);
	assert_int_equal(good("umask=027").umask, 027);
	refused("umask=8", "umask", "octal");
	refused("umask=17777", "umask", "octal");
	o = good("attr_timeout=0");
	assert_true(o.timeouts_set);
	assert_int_equal(o.attr_timeout, 0);
	/* the others keep the default */
	assert_int_equal(o.entry_timeout, E4F_TIMEOUT_SEC);
	assert_int_equal(o.negative_timeout, E4F_TIMEOUT_SEC);
	assert_int_equal(good("negative_timeout=5").negative_timeout, 5);
	assert_int_equal(good("entry_timeout=7").entry_timeout, 7);
	assert_false(good("rw").timeouts_set);
	refused("entry_timeout=1.5", "entry_timeout", "decimal");
	assert_true(good("minixdf").minixdf);
	assert_false(good("minixdf,bsddf").minixdf);
	assert_true(good("nobtime").nobtime);
	assert_false(good("ro").nobtime);
	refused("nobtime=1", "nobtime", "option");
	assert_true(good("auto_unmount").auto_unmount);
	good("nonempty");
	/* kernel_cache: accepted, one line saying why */
	assert_int_equal(parse("kernel_cache", &o), 0);
	e4f_options_free(&o);
	assert_non_null(strstr(err_text, "kernel_cache: "));
	assert_int_equal(parse("subtype=myfs,logfile=/tmp/x.log", &o), 0);
	assert_string_equal(o.subtype, "myfs");
	assert_string_equal(o.logfile, "/tmp/x.log");
	e4f_options_free(&o);
	refused("subtype=a,b=c", "option", "");
	refused("subtype=a.b", "subtype", "");
	refused("logfile", "logfile", "needs a value");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decimal),
		cmocka_unit_test(test_switches),
		cmocka_unit_test(test_suffixes),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_sandbox),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_lost_found),
		cmocka_unit_test(test_borrowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

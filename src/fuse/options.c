/* SPDX-License-Identifier: MIT */
/*
 * Option parsing.  Accepts both `e4fuse [-f] [-o opts] IMAGE MOUNTPOINT` and
 * the mount(8) helper form `mount.fuse.e4fuse IMAGE DIR [-sfnv] [-o opts]`:
 * options and the two operands may come in any order.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "e4/partition.h"
#include "fuse/options.h"
#include "fuse/session.h"
#include "util/number.h"

void e4f_print_usage(const char *prog)
{
	printf(
"usage: %s [-f] [-d] [-o OPTION[,OPTION...]] IMAGE MOUNTPOINT\n"
"\n"
"Mount the ext2/ext3/ext4 file system in IMAGE (a file or block device)\n"
"at MOUNTPOINT through FUSE.\n"
"\n"
"  -f                      stay in the foreground\n"
"  -d, -o debug            log one line per request (implies -f)\n"
"  -h, --help, -o help     this help\n"
"  -V, --version, -o version\n"
"\n"
"Options (numbers are decimal):\n"
"  ro, rw                  read-only, or read-write (the default)\n"
"  commit=SECONDS          write changed metadata at least this often\n"
"                          (default 5; 0: only on fsync and unmount)\n"
"  allow_other             let other users access the mount\n"
"  allow_root              let root access it too (and only root and you)\n"
"  fakeroot                every caller passes permission checks as root\n"
"                          (turns default_permissions off)\n"
"  umask=OCTAL             clear these bits from the modes shown\n"
"  entry_timeout=S, attr_timeout=S, negative_timeout=S\n"
"                          seconds the kernel may cache names, attributes\n"
"                          and absent names (default 86400)\n"
"  subtype=NAME            type shown in /proc/mounts: fuse.NAME\n"
"                          (default e4fuse)\n"
"  minixdf, bsddf          statfs f_blocks: the whole size, or without the\n"
"                          metadata overhead (bsddf, the default, as ext4)\n"
"  nobtime                 stat shows no birth time (nor chattr's flags in\n"
"                          statx): saves the one request per file the\n"
"                          kernel sends to learn them (find | xargs stat)\n"
"  auto_unmount            unmount if the serving process is killed\n"
"  logfile=PATH            once detached, messages go to PATH, not syslog\n"
"  kernel_cache, nonempty  accepted (caching and non-empty mount points are\n"
"                          what e4fuse does anyway)\n"
"  default_permissions     the kernel checks permissions (default on;\n"
"                          no_default_permissions turns it off)\n"
"  writeback_cache         on a read-write mount, the kernel caches written\n"
"                          data and writes it back later: faster, but a\n"
"                          full disk shows only at fsync or close (default\n"
"                          off: nowriteback_cache)\n"
"  uid=N, gid=N            show every file as owned by this user / group\n"
"                          (a name or a decimal id)\n"
"  fsname=NAME             source name shown in /proc/mounts\n"
"  offset=BYTES            the file system starts at this byte offset\n"
"                          (suffixes K, M, G, T, or s for 512-byte sectors)\n"
"  partition=N             use partition N of an MBR or GPT disk image\n"
"                          (without either option a disk image holding\n"
"                          exactly one ext partition is found by itself)\n"
"  errors=continue|remount-ro|panic\n"
"                          on corruption found while mounted: report it to\n"
"                          the caller and go on (continue), also stop\n"
"                          writing (remount-ro, the default), or unmount\n"
"                          (panic)\n"
"  lost_found[=NAME]       with ro: a directory NAME in the root (default\n"
"                          " E4F_LOST_FOUND_DEFAULT ") showing the inodes in use\n"
"                          that no path reaches, as #INO (what e2fsck would\n"
"                          put in lost+found); refused if the root has NAME\n"
"  norecovery, noload      do not replay the journal\n"
"  replay_mem=SIZE         memory the in-memory journal replay may use\n"
"                          (suffixes K, M, G; default 512M)\n"
"  relatime, strictatime, noatime, nodiratime\n"
"                          when reads update atime, as for the kernel's\n"
"                          ext4 (default relatime; a read-write mount)\n"
"  nosuid, nodev, noexec, suid, dev, exec   usual mount flags\n"
"                          (nosuid and nodev are on by default)\n"
"  threads=N               worker threads (default: CPUs, 2..8)\n"
"  uring, nouring          requests through FUSE over io_uring, or through\n"
"                          /dev/fuse reads and writes (default: io_uring\n"
"                          when the kernel offers it: the fuse module's\n"
"                          enable_uring parameter; uring says so if not)\n"
"  splice, nosplice        large READ replies on /dev/fuse spliced from the\n"
"                          image's page cache, or copied (default splice)\n"
"  nosandbox               do not confine the process that reads the image\n"
"                          (debugging only: see docs/security.md)\n"
"  sandbox_user=NAME       the user it runs as when started as root\n"
"                          (default nobody; a name or a decimal id)\n"
"  sandbox_memory=SIZE     its data memory limit (suffixes K, M, G, T;\n"
"                          default 2G; 0: no limit)\n",
	prog);
}

static int bad(const char *what, const char *val)
{
	fprintf(stderr, "e4fuse: invalid %s '%s' (see --help)\n", what, val);
	return -EINVAL;
}

static int bad_because(const char *what, const char *val, const char *why)
{
	fprintf(stderr, "e4fuse: invalid %s '%s': %s (see --help)\n", what,
		val, why);
	return -EINVAL;
}

/* A numeric option's value, between @min and @max; one line on stderr
 * naming the option and what is wrong otherwise. */
static int parse_number(const char *what, const char *val, bool suffixes,
			uint64_t min, uint64_t max, uint64_t *out)
{
	char why[64];
	int ret = e4_parse_u64(val, suffixes, out);

	if (ret == -EINVAL)
		return bad_because(what, val, suffixes ?
				   "not a decimal number with an optional "
				   "K, M, G, T or s suffix" :
				   "not a decimal number");
	if (ret == 0 && *out >= min && *out <= max)
		return 0;
	if (max == UINT64_MAX)
		snprintf(why, sizeof(why), "too large");
	else
		snprintf(why, sizeof(why), "not between %llu and %llu",
			 (unsigned long long)min, (unsigned long long)max);
	return bad_because(what, val, why);
}

/* A user or group: a decimal id below (uid_t)-1, or a name. */
static int parse_id(const char *what, const char *s, bool group,
		    uint32_t *out)
{
	uint64_t v;

	if (e4_parse_u64(s, false, &v) != -EINVAL) {
		if (parse_number(what, s, false, 0, UINT32_MAX - 1, &v) < 0)
			return -EINVAL;
		*out = (uint32_t)v;
		return 0;
	}
	if (group) {
		struct group *g = getgrnam(s);

		if (!g)
			return -ENOENT;
		*out = g->gr_gid;
	} else {
		struct passwd *p = getpwnam(s);

		if (!p)
			return -ENOENT;
		*out = p->pw_uid;
	}
	return 0;
}

int e4f_sandbox_user(const char *name, uint32_t *uid, uint32_t *gid)
{
	uint32_t id;
	int ret = parse_id("sandbox_user", name, false, &id);

	if (ret < 0)
		return ret;
	if (id == 0)
		return -EPERM;
	struct passwd *p = getpwuid(id);

	*uid = id;
	*gid = p ? p->pw_gid : id;
	return 0;
}

static int needs_value(const char *opt)
{
	fprintf(stderr, "e4fuse: option '%s' needs a value (see --help)\n",
		opt);
	return -EINVAL;
}

/* Mount options mount(8) may pass that mean nothing here. */
static bool ignored_option(const char *opt)
{
	static const char *const names[] = {
		"defaults", "auto", "noauto", "user", "nouser", "users",
		"_netdev", "nofail", "lazytime", "nolazytime", "async",
		"sync", "dirsync",
		"loop", "owner", "group", "silent", "loud",
		/* the kernel mounts over a non-empty directory anyway */
		"nonempty",
		NULL,
	};

	if (strncmp(opt, "x-", 2) == 0 || strncmp(opt, "comment=", 8) == 0)
		return true;
	for (size_t i = 0; names[i]; i++)
		if (strcmp(opt, names[i]) == 0)
			return true;
	return false;
}

/* kernel_cache: accepted, saying why it changes nothing. */
static int kernel_cache_option(void)
{
	fprintf(stderr, "e4fuse: option kernel_cache: file data stays "
		"cached between opens already\n");
	return 0;
}

static int parse_one(struct e4f_options *o, char *opt)
{
	char *val = strchr(opt, '=');
	uint64_t v;
	int ret;

	if (val)
		*val++ = '\0';
#define IS(name) (strcmp(opt, name) == 0)
#define NEEDVAL() do { if (!val || !*val) return needs_value(opt); } while (0)
#define NOVAL() do { if (val) return bad("option", opt); } while (0)
	if (IS("ro")) {
		NOVAL();
		o->rw = false;
	} else if (IS("rw")) {
		NOVAL();
		o->rw = true;
	} else if (IS("commit")) {
		NEEDVAL();
		ret = parse_number(opt, val, false, 0, 86400, &v);
		if (ret < 0)
			return ret;
		o->commit_seconds = (unsigned)v;
	} else if (IS("allow_other")) {
		NOVAL();
		o->allow_other = true;
	} else if (IS("allow_root")) {
		NOVAL();
		o->allow_root = true;
	} else if (IS("entry_timeout") || IS("attr_timeout") ||
		   IS("negative_timeout")) {
		NEEDVAL();
		if (parse_number(opt, val, false, 0, 86400 * 365, &v) < 0)
			return -EINVAL;
		if (!o->timeouts_set)
			o->entry_timeout = o->attr_timeout =
				o->negative_timeout = E4F_TIMEOUT_SEC;
		o->timeouts_set = true;
		*(IS("entry_timeout") ? &o->entry_timeout :
		  IS("attr_timeout") ? &o->attr_timeout :
		  &o->negative_timeout) = v;
	} else if (IS("subtype")) {
		NEEDVAL();
		if (strpbrk(val, ", \t\n.") || strlen(val) > 64)
			return bad("subtype", val);
		free(o->subtype);
		o->subtype = strdup(val);
		if (!o->subtype)
			return -ENOMEM;
	} else if (IS("logfile")) {
		NEEDVAL();
		free(o->logfile);
		o->logfile = strdup(val);
		if (!o->logfile)
			return -ENOMEM;
	} else if (IS("fakeroot")) {
		NOVAL();
		o->fakeroot = true;
	} else if (IS("umask")) {
		NEEDVAL();
		char *end;
		unsigned long m = strtoul(val, &end, 8);

		if (*val < '0' || *val > '7' || *end || m > 07777)
			return bad_because(opt, val, "not an octal mode "
					   "up to 7777");
		o->umask = (uint32_t)m;
	} else if (IS("nobtime")) {
		NOVAL();
		o->nobtime = true;
	} else if (IS("minixdf") || IS("bsddf")) {
		NOVAL();
		o->minixdf = IS("minixdf");
	} else if (IS("kernel_cache")) {
		NOVAL();
		return kernel_cache_option();
	} else if (IS("auto_unmount")) {
		NOVAL();
		o->auto_unmount = true;
	} else if (IS("default_permissions")) {
		NOVAL();
		o->default_permissions = true;
	} else if (IS("no_default_permissions")) {
		NOVAL();
		o->default_permissions = false;
	} else if (IS("writeback_cache")) {
		NOVAL();
		o->writeback_cache = true;
	} else if (IS("nowriteback_cache")) {
		NOVAL();
		o->writeback_cache = false;
	} else if (IS("debug")) {
		NOVAL();
		o->debug = true;
	} else if (IS("help")) {
		o->help = true;
	} else if (IS("version")) {
		o->version = true;
	} else if (IS("uid") || IS("gid")) {
		NEEDVAL();
		bool g = IS("gid");
		uint32_t id;

		ret = parse_id(opt, val, g, &id);
		if (ret == -ENOENT)
			return bad_because(opt, val, g ? "no such group" :
							 "no such user");
		if (ret < 0)
			return ret;
		if (g) {
			o->gid = id;
			o->gid_set = true;
		} else {
			o->uid = id;
			o->uid_set = true;
		}
	} else if (IS("fsname")) {
		NEEDVAL();
		if (strpbrk(val, ", \t\n"))
			return bad("fsname", val);
		free(o->fsname);
		o->fsname = strdup(val);
		if (!o->fsname)
			return -ENOMEM;
	} else if (IS("offset")) {
		NEEDVAL();
		if (parse_number("offset", val, true, 0, UINT64_MAX, &v) < 0)
			return -EINVAL;
		o->offset = v;
		o->offset_set = true;
	} else if (IS("partition")) {
		NEEDVAL();
		if (parse_number("partition", val, false, 1,
				 E4_PART_NUMBER_MAX, &v) < 0)
			return -EINVAL;
		o->partition = (unsigned)v;
	} else if (IS("errors")) {
		NEEDVAL();
		if (strcmp(val, "continue") == 0)
			o->errors = E4F_ERRORS_CONTINUE;
		else if (strcmp(val, "remount-ro") == 0)
			o->errors = E4F_ERRORS_REMOUNT_RO;
		else if (strcmp(val, "panic") == 0)
			o->errors = E4F_ERRORS_PANIC;
		else
			return bad("errors= behaviour", val);
	} else if (IS("replay_mem")) {
		NEEDVAL();
		if (parse_number("replay_mem", val, true, 1, UINT64_MAX, &v) < 0)
			return -EINVAL;
		o->replay_mem = v;
	} else if (IS("lost_found")) {
		const char *why;

		if (val && (why = e4f_lost_found_name_refusal(val)))
			return bad_because("lost_found name", val, why);
		free(o->lost_found);
		o->lost_found = strdup(val ? val : E4F_LOST_FOUND_DEFAULT);
		if (!o->lost_found)
			return -ENOMEM;
	} else if (IS("norecovery") || IS("noload")) {
		NOVAL();
		o->norecovery = true;
	} else if (IS("threads")) {
		NEEDVAL();
		if (parse_number("threads", val, false, 1, 64, &v) < 0)
			return -EINVAL;
		o->threads = (unsigned)v;
	} else if (IS("uring") || IS("nouring")) {
		NOVAL();
		o->transport = IS("uring") ? E4F_TRANSPORT_URING :
			       E4F_TRANSPORT_DEVICE;
	} else if (IS("splice") || IS("nosplice")) {
		NOVAL();
		o->nosplice = IS("nosplice");
	} else if (IS("nosandbox")) {
		NOVAL();
		o->sandbox = false;
	} else if (IS("sandbox_user")) {
		NEEDVAL();
		ret = e4f_sandbox_user(val, &o->sandbox_uid, &o->sandbox_gid);
		if (ret == -ENOENT)
			return bad_because(opt, val, "no such user");
		if (ret == -EPERM)
			return bad_because(opt, val, "the sandbox does not "
					   "run as root");
		if (ret < 0)
			return ret;
		o->sandbox_user_set = true;
	} else if (IS("sandbox_memory")) {
		NEEDVAL();
		if (parse_number("sandbox_memory", val, true, 0, UINT64_MAX,
				 &v) < 0)
			return -EINVAL;
		if (v != 0 && v < (64u << 20))
			return bad_because(opt, val, "below 64M, too little "
					   "to serve (0: no limit)");
		o->sandbox_memory = v;
	} else if (IS("nosuid")) {
		NOVAL();
		o->mount_flags |= MS_NOSUID;
	} else if (IS("suid")) {
		NOVAL();
		o->mount_flags &= ~(unsigned long)MS_NOSUID;
	} else if (IS("nodev")) {
		NOVAL();
		o->mount_flags |= MS_NODEV;
	} else if (IS("dev")) {
		NOVAL();
		o->mount_flags &= ~(unsigned long)MS_NODEV;
	} else if (IS("noatime")) {
		NOVAL();
		o->atime = E4_ATIME_NEVER;
	} else if (IS("relatime") || IS("atime")) {
		NOVAL();
		o->atime = E4_ATIME_RELATIME;
	} else if (IS("strictatime") || IS("norelatime")) {
		NOVAL();
		o->atime = E4_ATIME_STRICT;
	} else if (IS("nodiratime")) {
		NOVAL();
		o->nodiratime = true;
	} else if (IS("diratime")) {
		NOVAL();
		o->nodiratime = false;
	} else if (IS("noexec")) {
		NOVAL();
		o->mount_flags |= MS_NOEXEC;
	} else if (IS("exec")) {
		NOVAL();
		o->mount_flags &= ~(unsigned long)MS_NOEXEC;
	} else if (!ignored_option(opt)) {
		if (val)
			val[-1] = '=';
		fprintf(stderr, "e4fuse: unknown option '%s' (see --help)\n",
			opt);
		return -EINVAL;
	}
#undef IS
#undef NEEDVAL
#undef NOVAL
	return 0;
}

static int parse_opts(struct e4f_options *o, const char *list)
{
	char *copy = strdup(list);
	char *save = NULL;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ",", &save); tok && ret == 0;
	     tok = strtok_r(NULL, ",", &save))
		ret = parse_one(o, tok);
	free(copy);
	return ret;
}

int e4f_parse_args(int argc, char **argv, struct e4f_options *o)
{
	int operands = 0;
	int ret;

	memset(o, 0, sizeof(*o));
	o->default_permissions = true;
	o->mount_flags = MS_NOSUID | MS_NODEV;
	o->errors = E4F_ERRORS_REMOUNT_RO;
	o->rw = true;
	o->commit_seconds = 5;
	o->sandbox = true;
	o->sandbox_memory = E4F_SANDBOX_MEMORY_DEFAULT;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			o->help = true;
		} else if (strcmp(a, "-V") == 0 ||
			   strcmp(a, "--version") == 0) {
			o->version = true;
		} else if (strcmp(a, "-f") == 0) {
			o->foreground = true;
		} else if (strcmp(a, "-d") == 0) {
			o->debug = true;
		} else if (strcmp(a, "-s") == 0 || strcmp(a, "-n") == 0 ||
			   strcmp(a, "-v") == 0) {
			/* mount(8) helper flags: single thread / no mtab /
			 * verbose; nothing to do */
		} else if (strcmp(a, "-t") == 0 || strcmp(a, "-N") == 0) {
			if (++i >= argc)
				return bad("option", a);
		} else if (strncmp(a, "-o", 2) == 0) {
			const char *list = a[2] ? a + 2 : NULL;

			if (!list) {
				if (++i >= argc)
					return bad("option", a);
				list = argv[i];
			}
			ret = parse_opts(o, list);
			if (ret < 0)
				return ret;
		} else if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++) {
				if (operands == 0)
					o->image = argv[i];
				else if (operands == 1)
					o->mountpoint = argv[i];
				operands++;
			}
		} else if (a[0] == '-' && a[1]) {
			return bad("option", a);
		} else {
			if (operands == 0)
				o->image = a;
			else if (operands == 1)
				o->mountpoint = a;
			operands++;
		}
	}
	if (o->help || o->version)
		return 0;
	if (operands != 2) {
		fprintf(stderr, "e4fuse: %s\nusage: e4fuse [-f] [-o OPTIONS] "
			"IMAGE MOUNTPOINT (see --help)\n",
			operands < 2 ? "IMAGE and MOUNTPOINT are needed"
				     : "too many arguments");
		return -EINVAL;
	}
	if (o->offset_set && o->partition) {
		fprintf(stderr, "e4fuse: offset= and partition= exclude each "
			"other\n");
		return -EINVAL;
	}
	if (o->lost_found && o->rw) {
		/* the scan is a snapshot, and a write could orphan or adopt
		 * any inode: only over an image that does not change */
		fprintf(stderr, "e4fuse: lost_found needs a read-only mount: "
			"add -o ro\n");
		return -EINVAL;
	}
	if (o->allow_root)
		o->allow_other = true;
	/* every caller passes the checks as root: not the kernel's */
	if (o->fakeroot)
		o->default_permissions = false;
	if (o->debug)
		o->foreground = true;
	return 0;
}

void e4f_options_free(struct e4f_options *o)
{
	free(o->fsname);
	o->fsname = NULL;
	free(o->lost_found);
	o->lost_found = NULL;
	free(o->subtype);
	o->subtype = NULL;
	free(o->logfile);
	o->logfile = NULL;
}

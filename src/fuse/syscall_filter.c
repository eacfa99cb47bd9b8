/* SPDX-License-Identifier: MIT */
/*
 * The seccomp allow-list, as a classic BPF program written here rather
 * than through libseccomp: it is one architecture check, a list of call
 * numbers and four argument checks, which BPF says directly, and e4fuse
 * stays one binary with no run-time library besides libc.
 *
 * The list is what the serving process does after its sandbox is up:
 * read requests from /dev/fuse and write replies (read, write, writev),
 * or take them from io_uring (io_uring_setup and io_uring_enter),
 * read and write the image through its open descriptor (pread64,
 * pwrite64, fdatasync), splice READ replies from it through a pipe (pipe2,
 * splice, vmsplice, fcntl F_SETPIPE_SZ and F_GETPIPE_SZ only), take the /dev/fuse descriptor from the supervisor
 * once (recvmsg), register the block device for fuse-iomap (ioctl
 * BACKING_OPEN, nothing else), run worker threads (clone with
 * CLONE_THREAD only, futex, the thread start-up calls), manage memory (mmap, munmap, mremap,
 * mprotect, madvise, brk), read clocks, seed hash maps (getrandom), and
 * exit.  Nothing opens a path (that fails with EACCES, below), makes a
 * socket, runs a program, signals or traces another process, or changes a
 * mount: every other call stops the process.
 *
 * Sanitizer builds (E4_SANITIZER) add what ASan's reports and
 * LeakSanitizer's check at exit need; see docs/security.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fuse/fuse_iomap.h"
#include "fuse/syscall_filter.h"

#if defined(__x86_64__) && defined(__ILP32__)
#error "x32 is not supported by the sandbox"
#elif defined(__x86_64__)
#define FILTER_ARCH AUDIT_ARCH_X86_64
/* x32 calls share the architecture value: refuse their numbers */
#define FILTER_X32_BIT 0x40000000u
#elif defined(__aarch64__)
#define FILTER_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define FILTER_ARCH AUDIT_ARCH_I386
#elif defined(__riscv) && __riscv_xlen == 64
#define FILTER_ARCH AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FILTER_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define FILTER_ARCH AUDIT_ARCH_S390X
#else
#error "the sandbox's system call filter does not know this architecture"
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LOW(i) (offsetof(struct seccomp_data, args) + 8u * (i))
#else
#define ARG_LOW(i) (offsetof(struct seccomp_data, args) + 8u * (i) + 4u)
#endif

/* Allowed whatever their arguments. */
static const int allowed[] = {
	/* requests, replies, the supervisor's channel, logging */
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_recvmsg,
	/* the image */
	SYS_pread64, SYS_pwrite64, SYS_fdatasync, SYS_fsync, SYS_close,
	/* directory blocks read ahead (e4_dir_prefetch) */
#ifdef SYS_fadvise64
	SYS_fadvise64,
#endif
#ifdef SYS_fadvise64_64
	SYS_fadvise64_64,
#endif
	/* threads and their locks (clone is checked below) */
	SYS_futex, SYS_set_robust_list, SYS_sched_yield, SYS_gettid,
	SYS_getpid, SYS_exit, SYS_exit_group, SYS_rt_sigprocmask,
	SYS_rt_sigreturn, SYS_restart_syscall,
#ifdef SYS_rseq
	SYS_rseq,
#endif
	/* memory */
	SYS_mmap, SYS_munmap, SYS_mremap, SYS_mprotect, SYS_madvise, SYS_brk,
	/* time: the vDSO answers most of these without a call */
	SYS_clock_gettime, SYS_clock_getres, SYS_gettimeofday,
	SYS_clock_nanosleep, SYS_nanosleep,
#ifdef SYS_time
	SYS_time,
#endif
	/* FUSE over io_uring (uring.c): its rings, and the one call that
	 * submits commands and waits for requests; io_uring_register is
	 * not needed */
	SYS_io_uring_setup, SYS_io_uring_enter,
	/* zero-copy READ replies (splice.c): a pipe per worker, the image's
	 * pages and holes' zeros into it, the pipe into /dev/fuse (fcntl is
	 * checked below) */
	SYS_pipe2, SYS_splice, SYS_vmsplice,
	/* hash map seeds */
	SYS_getrandom,
	/* glibc's qsort sizes its buffer by sysconf(_SC_PHYS_PAGES) */
	SYS_sysinfo,
#ifdef E4_SANITIZER
	/*
	 * ASan and UBSan reports, and LeakSanitizer at exit: it clones a
	 * tracer (CLONE_VM, not a thread) that makes the process dumpable,
	 * lists /proc/self/task and stops every thread with ptrace.  Test
	 * builds only; a release build never has these.
	 */
	SYS_openat, SYS_getdents64, SYS_readlinkat, SYS_prctl, SYS_ptrace,
	SYS_wait4, SYS_sigaltstack, SYS_rt_sigaction, SYS_tgkill, SYS_kill,
	SYS_getppid, SYS_newfstatat, SYS_fstat, SYS_lseek,
	SYS_sched_getaffinity, SYS_prlimit64, SYS_getrlimit, SYS_setrlimit,
	SYS_dup, SYS_dup2, SYS_dup3, SYS_fcntl, SYS_execve,
#ifdef SYS_readlink
	SYS_readlink,
#endif
#ifdef SYS_getdents
	SYS_getdents,
#endif
#ifdef SYS_open
	SYS_open,
#endif
#ifdef SYS_stat
	SYS_stat,
#endif
#endif
};

/* A little assembler: jumps name labels, resolved once all is emitted. */
enum label {
	L_ALLOW, L_FORBID, L_EACCES, L_KILL, L_CLONE, L_TGKILL, L_IOCTL,
	L_FCNTL, L_COUNT
};

#define PROG_MAX 160

struct prog {
	struct sock_filter insn[PROG_MAX];
	int jt[PROG_MAX], jf[PROG_MAX];	/* label, or -1: fall through */
	unsigned at[L_COUNT];
	unsigned n;
};

static void emit(struct prog *p, uint16_t code, uint32_t k, int jt, int jf)
{
	if (p->n >= PROG_MAX)
		return;		/* caught by the check in install */
	p->insn[p->n] = (struct sock_filter)BPF_STMT(code, k);
	p->jt[p->n] = jt;
	p->jf[p->n] = jf;
	p->n++;
}

static void label(struct prog *p, enum label l)
{
	p->at[l] = p->n;
}

static int resolve(struct prog *p)
{
	for (unsigned i = 0; i < p->n; i++) {
		unsigned t[2] = { 0, 0 };
		int l[2] = { p->jt[i], p->jf[i] };

		for (int j = 0; j < 2; j++) {
			if (l[j] < 0)
				continue;
			if (p->at[l[j]] <= i || p->at[l[j]] - i - 1 > 255)
				return -E2BIG;
			t[j] = p->at[l[j]] - i - 1;
		}
		if (p->insn[i].code == (BPF_JMP | BPF_JA)) {
			p->insn[i].k = t[0];	/* an unconditional jump */
			continue;
		}
		p->insn[i].jt = (uint8_t)t[0];
		p->insn[i].jf = (uint8_t)t[1];
	}
	return 0;
}

static void load(struct prog *p, uint32_t off)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, off, -1, -1);
}

static void ret(struct prog *p, uint32_t action)
{
	emit(p, BPF_RET | BPF_K, action, -1, -1);
}

/* The filter reads the call's arguments only for the four calls checked:
 * everything after the list of numbers is those checks, then the returns
 * (classic BPF jumps forward only and ends with a return). */
static void build(struct prog *p, uint32_t self)
{
	load(p, offsetof(struct seccomp_data, arch));
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, FILTER_ARCH, -1, L_KILL);
	load(p, offsetof(struct seccomp_data, nr));
#ifdef FILTER_X32_BIT
	emit(p, BPF_JMP | BPF_JSET | BPF_K, FILTER_X32_BIT, L_KILL, -1);
#endif
	for (size_t i = 0; i < sizeof(allowed) / sizeof(*allowed); i++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)allowed[i],
		     L_ALLOW, -1);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, L_CLONE, -1);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SYS_tgkill, L_TGKILL, -1);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, L_IOCTL, -1);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SYS_fcntl, L_FCNTL, -1);
	/* Opening a path fails (EACCES) rather than stopping the process:
	 * glibc's malloc reads /proc/sys/vm/overcommit_memory the first time
	 * it shrinks a thread's heap, and does without it.  The root is
	 * empty anyway. */
#ifdef SYS_open
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SYS_open, L_EACCES, -1);
#endif
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, L_EACCES, -1);
#ifdef SYS_openat2
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, L_EACCES, -1);
#endif
#ifdef SYS_clone3
	/* clone3's flags are in memory, out of the filter's reach: ENOSYS
	 * makes glibc make its threads with clone, which is checked */
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, -1, L_FORBID);
	ret(p, SECCOMP_RET_ERRNO | ENOSYS);
#else
	emit(p, BPF_JMP | BPF_JA, 0, L_FORBID, -1);
#endif

	/* clone makes threads only, never a process */
	label(p, L_CLONE);
	load(p, ARG_LOW(0));
#ifdef E4_SANITIZER
	/* LeakSanitizer's tracer shares the memory but is not a thread;
	 * fork (no CLONE_VM) stays forbidden */
	emit(p, BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, L_ALLOW, -1);
	emit(p, BPF_JMP | BPF_JSET | BPF_K, CLONE_VM, L_ALLOW, L_FORBID);
#else
	emit(p, BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, L_ALLOW, L_FORBID);
#endif
	/* tgkill (abort(), pthread_kill) within this process only: no
	 * signal to another process of the same user */
	label(p, L_TGKILL);
	load(p, ARG_LOW(0));
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, self, -1, L_FORBID);
	load(p, ARG_LOW(0) ^ 4u);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, L_ALLOW, L_FORBID);

	/* ioctl: fuse-iomap's BACKING_OPEN only (the kernel reads the
	 * request as 32 bits), registering the block device main opened */
	label(p, L_IOCTL);
	load(p, ARG_LOW(1));
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, E4F_DEV_IOC_BACKING_OPEN, L_ALLOW,
	     L_FORBID);

	/* fcntl: sizing a splice pipe only (splice.c) */
	label(p, L_FCNTL);
	load(p, ARG_LOW(1));
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, F_SETPIPE_SZ, L_ALLOW, -1);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, F_GETPIPE_SZ, L_ALLOW, L_FORBID);

	label(p, L_EACCES);
	ret(p, SECCOMP_RET_ERRNO | EACCES);
	label(p, L_FORBID);
	ret(p, SECCOMP_RET_TRAP);
	label(p, L_KILL);
	ret(p, SECCOMP_RET_KILL_PROCESS);
	label(p, L_ALLOW);
	ret(p, SECCOMP_RET_ALLOW);
}

/* ---- reporting a forbidden call -------------------------------------- */

/* Names of the calls a compromised server would try first (the number is
 * always printed). */
static const struct {
	int nr;
	const char *name;
} names[] = {
#ifdef SYS_open
	{ SYS_open, "open" },
#endif
	{ SYS_openat, "openat" }, { SYS_socket, "socket" },
	{ SYS_connect, "connect" }, { SYS_execve, "execve" },
	{ SYS_execveat, "execveat" }, { SYS_ptrace, "ptrace" },
	{ SYS_mount, "mount" }, { SYS_umount2, "umount2" },
	{ SYS_kill, "kill" }, { SYS_tgkill, "tgkill" },
	{ SYS_clone, "clone" }, { SYS_unshare, "unshare" },
	{ SYS_setns, "setns" }, { SYS_ioctl, "ioctl" }, { SYS_bpf, "bpf" },
	{ SYS_fcntl, "fcntl" },
	{ SYS_process_vm_readv, "process_vm_readv" },
	{ SYS_process_vm_writev, "process_vm_writev" },
	{ SYS_prctl, "prctl" }, { SYS_rt_sigaction, "rt_sigaction" },
	{ SYS_newfstatat, "newfstatat" }, { SYS_fstat, "fstat" },
	{ SYS_sendmsg, "sendmsg" }, { SYS_sendto, "sendto" },
#ifdef SYS_fork
	{ SYS_fork, "fork" }, { SYS_vfork, "vfork" },
#endif
};

static size_t put_str(char *buf, size_t at, size_t size, const char *s)
{
	while (*s && at < size)
		buf[at++] = *s++;
	return at;
}

static size_t put_num(char *buf, size_t at, size_t size, long v)
{
	char digits[24];
	size_t n = 0;
	unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;

	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u && n < sizeof(digits));
	if (v < 0 && at < size)
		buf[at++] = '-';
	while (n && at < size)
		buf[at++] = digits[--n];
	return at;
}

/* Async-signal-safe: write(2) and _exit(2) only, both allowed. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char line[160];
	size_t n = 0, size = sizeof(line) - 1;
	int nr = si->si_syscall;

	(void)sig;
	(void)uc;
	n = put_str(line, n, size, "e4fuse: sandbox: forbidden system call ");
	n = put_num(line, n, size, nr);
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (names[i].nr == nr) {
			n = put_str(line, n, size, " (");
			n = put_str(line, n, size, names[i].name);
			n = put_str(line, n, size, ")");
		}
	n = put_str(line, n, size, ": serving process stopped\n");
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nothing more to try */
	}
	_exit(E4F_SANDBOX_EXIT_FORBIDDEN);
}

int e4f_syscall_filter_install(void)
{
	static struct prog p;
	struct sigaction sa;

	memset(&p, 0, sizeof(p));
	build(&p, (uint32_t)getpid());
	if (p.n >= PROG_MAX || resolve(&p) < 0)
		return -E2BIG;

	/* SIGSYS is never blocked by the code that runs after this, and
	 * rt_sigaction is not allowed, so the handler stays */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;

	struct sock_fprog fprog = {
		.len = (unsigned short)p.n,
		.filter = p.insn,
	};

	/* FLAG_LOG: the kernel's audit log records each forbidden call too */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_LOG, &fprog) < 0 &&
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
		return -errno;
	return 0;
}

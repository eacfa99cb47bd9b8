#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/read-bench.sh [--reps N] [--servers "kernel fuse2fs e4fuse"]
#                     [--workloads "seq-buffered ..."] [--before E4FUSE]
#                     [--no-counts] [--rebuild] [--out FILE]
#
# The read path against two references, on one image, in one run:
#
#   kernel   the kernel's ext4 driver     mount -o loop,ro IMAGE DIR
#   fuse2fs  Debian's fuse2fs (libext2fs) fuse2fs IMAGE DIR -o ro,fakeroot
#   e4fuse   ./e4fuse                     ./e4fuse -o ro IMAGE DIR
#   e4fuse-before  another e4fuse binary (--before PATH), e.g. the
#            commit before a change, measured in the same rounds
#            (E4_BENCH_BEFORE_DESC says which, in the results)
#   e4fuse-uring  ./e4fuse -o ro,uring: FUSE over io_uring (the fuse
#            module's enable_uring is set to Y for the run and put back);
#            with it in the list, e4fuse runs -o ro,nouring (the
#            /dev/fuse read loop)
#
# Workloads, each with cold caches (the server is remounted, so its own
# caches are gone too, and the page, dentry and inode caches are dropped;
# seq-direct-hot then warms them):
#
#   seq-buffered  fio, 1 GiB file, sequential 1 MiB reads       MiB/s
#   seq-direct    the same with O_DIRECT                         MiB/s
#   seq-direct-hot  the same on hot caches: the file read once with
#                 O_DIRECT first (untimed), which leaves the image's
#                 pages cached (under the loop device too)       MiB/s
#   rand-4k       fio, 4 KiB random buffered reads, 10 s         IOPS
#   ls-lR         ls -lR over 50,000 files (10 directories)      seconds
#   find          find . over the same files (names only)        seconds
#   find-stat     find . | xargs stat over the same files        seconds
#   cat-10k       cat of 10,000 small files (find | xargs cat)   seconds
#
# Each measurement is repeated (3 times by default, 5 for the sequential
# ones) and the median kept; the servers take turns in each round.  Then,
# unless --no-counts, each workload but the fio ones runs once more on
# each FUSE server with its debug log on (-o debug), untimed, and the
# requests the kernel sent are counted by kind.
# The image is built once with mkfs.ext4 -d from a generated tree and kept
# in the work directory ($E4_BENCH_DIR, default /var/tmp/e4bench) for the
# next run (--rebuild makes a new one).  Results go to
# bench/results/YYYY-MM-DD-read.md; an existing file keeps everything below
# its "<!-- analysis -->" line (the hand-written analysis).
#
# Needs root, fio, fuse2fs, mkfs.ext4 (e2fsprogs) and python3; installs
# nothing.  A full run takes 10-15 minutes on 2 cores (4 of them to build
# the image the first time).
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
reps=3
servers="kernel fuse2fs e4fuse"
rebuild=0
out=""
workloads="seq-buffered seq-direct seq-direct-hot rand-4k ls-lR find find-stat cat-10k"
before=""
before_desc=${E4_BENCH_BEFORE_DESC:-}	# says what --before is, in the results
counts=1
work=${E4_BENCH_DIR:-/var/tmp/e4bench}
e4fuse=${E4FUSE:-$top/e4fuse}

while [ $# -gt 0 ]; do
	case $1 in
	--reps) reps=$2; shift 2 ;;
	--servers) servers=$2; shift 2 ;;
	--workloads) workloads=$2; shift 2 ;;
	--before) before=$2; shift 2 ;;
	--no-counts) counts=0; shift ;;
	--rebuild) rebuild=1; shift ;;
	--out) out=$2; shift 2 ;;
	-h|--help) sed -n '3,41p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "read-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done

# ---- prerequisites ---------------------------------------------------------

missing=""
for t in fio fuse2fs mkfs.ext4 python3; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	pkgs=$(echo "$missing" | sed 's/mkfs.ext4/e2fsprogs/; s/python3/python3/')
	echo "read-bench: missing:$missing" >&2
	echo "read-bench: install with: apt-get install$pkgs" >&2
	exit 1
fi
[ "$(id -u)" = 0 ] || { echo "read-bench: must run as root (mounts, drop_caches)" >&2; exit 1; }
[ -x "$e4fuse" ] || { echo "read-bench: no $e4fuse (run make first)" >&2; exit 1; }
[ -w /proc/sys/vm/drop_caches ] || { echo "read-bench: cannot drop caches" >&2; exit 1; }
have_hyperfine=0
command -v hyperfine >/dev/null 2>&1 && have_hyperfine=1

mkdir -p "$work"
# a private copy: others may rebuild ./e4fuse while this runs
cp "$e4fuse" "$work/e4fuse"
e4fuse=$work/e4fuse
case " $servers " in *" e4fuse-before "*)
	[ -x "$before" ] || { echo "read-bench: e4fuse-before needs --before PATH" >&2; exit 1; }
	cp "$before" "$work/e4fuse-before"
	before=$work/e4fuse-before ;;
esac
img=$work/read-bench.img
mnt=$work/mnt
mkdir -p "$mnt"
log=$work/server.log
bench=read-bench
# shellcheck source=bench/benchlib.sh
. "$here/benchlib.sh"
trap bench_cleanup EXIT
# FUSE over io_uring for e4fuse-uring (a global switch: put back at exit)
uring_allow "$servers"

# ---- the image -------------------------------------------------------------

build_image() {
	local tree=$work/tree
	rm -rf "$tree" "$img"
	mkdir -p "$tree/big"
	echo "read-bench: generating the tree in $tree"
	dd if=/dev/urandom of="$tree/big/1g.bin" bs=1M count=1024 status=none
	# 50,000 files in 10 directories for the walks; 10,000 in 4 directories
	# for reading.  Sizes 256 B .. 4 KiB and 1 .. 16 KiB, random content.
	python3 - "$tree" <<'EOF'
import os, random, sys
tree = sys.argv[1]
rnd = random.Random(4)
def make(sub, ndirs, nfiles, lo, hi):
    per = nfiles // ndirs
    for d in range(ndirs):
        dp = os.path.join(tree, sub, "d%02d" % d)
        os.makedirs(dp, exist_ok=True)
        for f in range(per):
            with open(os.path.join(dp, "f%05d" % f), "wb") as fh:
                fh.write(os.urandom(rnd.randint(lo, hi)))
make("meta", 10, 50000, 256, 4096)
make("small", 4, 10000, 1024, 16384)
EOF
	echo "read-bench: mkfs.ext4 -d (2 GiB image)"
	truncate -s 2G "$img"
	mkfs.ext4 -q -F -E nodiscard -d "$tree" "$img"
	rm -rf "$tree"
}

if [ $rebuild = 1 ] || [ ! -s "$img" ]; then
	t0=$(date +%s)
	build_image
	echo "read-bench: image built in $(( $(date +%s) - t0 )) s"
else
	echo "read-bench: reusing $img (--rebuild for a new one)"
fi

# ---- mounting ----------------------------------------------------------------

do_mount() {
	case $1 in
	kernel)
		mount -o loop,ro "$img" "$mnt"
		;;
	fuse2fs)
		# -f: stay in the foreground so that we know the pid to wait for
		fuse2fs -f "$img" "$mnt" -o "ro,fakeroot$debug_opt" >"$log" 2>&1 &
		server_pid=$!
		wait_mounted fuse2fs
		;;
	e4fuse|e4fuse-before|e4fuse-uring)
		local bin=$e4fuse transport=$nouring
		[ "$1" != e4fuse-before ] || bin=$before
		[ "$1" != e4fuse-uring ] || transport=,uring
		"$bin" -f -o "ro$transport$debug_opt" "$img" "$mnt" >"$log" 2>&1 &
		server_pid=$!
		wait_mounted "$1"
		;;
	esac
}

# Cold: a fresh mount (no server-side cache survives) and dropped page,
# dentry and inode caches (the image's pages included).
cold() {
	mountpoint -q "$mnt" && do_umount
	sync
	echo 3 >/proc/sys/vm/drop_caches
	do_mount "$1"
}

# ---- measuring -----------------------------------------------------------------

# fio_job bw|iops FIO-ARGS...: MiB/s or IOPS of one run
fio_job() {
	local field=$1; shift
	local line
	line=$(fio --minimal --readonly --name=job --filename="$mnt/big/1g.bin" \
		--size=1G --ioengine=psync --iodepth=1 "$@")
	# terse v3: field 7 read bandwidth KiB/s, field 8 read IOPS
	echo "$line" | awk -F';' -v f="$field" \
		'{ if (f == "bw") printf "%.1f\n", $7 / 1024; else print $8 }'
}

# shell_job DIR COMMAND: elapsed seconds of one run
shell_job() {
	local dir=$1 cmd=$2
	if [ $have_hyperfine = 1 ]; then
		hyperfine -N --runs 1 --export-json "$work/hf.json" \
			--style none "bash -c 'cd $dir && $cmd'" >/dev/null
		jq '.results[0].mean' "$work/hf.json"
	else
		local t0 t1
		t0=$(date +%s.%N)
		(cd "$dir" && bash -c "$cmd")
		t1=$(date +%s.%N)
		echo "$t1 - $t0" | bc -l | awk '{ printf "%.3f\n", $1 }'
	fi
}

run_one() {
	local w=$1
	case $w in
	seq-buffered) fio_job bw --rw=read --bs=1M --runtime=30 ;;
	seq-direct)   fio_job bw --rw=read --bs=1M --runtime=30 --direct=1 ;;
	seq-direct-hot)
		dd if="$mnt/big/1g.bin" of=/dev/null bs=1M iflag=direct status=none
		fio_job bw --rw=read --bs=1M --runtime=30 --direct=1 ;;
	rand-4k)      fio_job iops --rw=randread --bs=4k --runtime=10 --time_based ;;
	ls-lR)        shell_job "$mnt/meta" 'ls -lR >/dev/null' ;;
	find)         shell_job "$mnt/meta" 'find . >/dev/null' ;;
	find-stat)    shell_job "$mnt/meta" 'find . -print0 | xargs -0 stat >/dev/null' ;;
	cat-10k)      shell_job "$mnt/small" 'find . -type f -print0 | xargs -0 cat >/dev/null' ;;
	esac
}

# Servers are interleaved within each round so that a slow spell of the
# machine (a shared VM, other jobs) hits all three alike; the sequential
# workloads, the noisiest, get two extra rounds.
debug_opt=""
for s in $servers; do
	case $s in kernel|fuse2fs|e4fuse|e4fuse-before|e4fuse-uring) ;; *)
		echo "read-bench: unknown server $s" >&2; exit 2 ;;
	esac
	# sanity: every server sees the whole tree
	cold "$s"
	n=$(find "$mnt/meta" -type f | wc -l)
	[ "$n" = 50000 ] || { echo "read-bench: $s shows $n files in meta/, want 50000" >&2; exit 1; }
	do_umount
done

declare -A raw
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
for i in $(seq 1 $((reps + 2))); do
	for w in $workloads; do
		case $w in seq-*) ;; *) [ "$i" -le "$reps" ] || continue ;; esac
		for s in $servers; do
			cold "$s"
			v=$(run_one "$w")
			do_umount
			raw[$s,$w]="${raw[$s,$w]:-} $v"
			echo "read-bench: round $i $w $s: $v"
		done
	done
done
declare -A result
for k in "${!raw[@]}"; do
	result[$k]=$(echo "${raw[$k]}" | tr ' ' '\n' | grep . | median)
	raw[$k]=${raw[$k]# }
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(( $(date +%s) - start ))

# Requests per workload, from the debug logs: e4fuse logs "req N OPCODE
# node ...", libfuse (fuse2fs) "unique: N, opcode: OPCODE (n), ...".
# Only those logged while the workload ran count (not the mount's own).
declare -A reqs
if [ $counts = 1 ]; then
	debug_opt=",debug"
	for w in $workloads; do
		case $w in seq-*|rand-*) continue ;; esac
		for s in $servers; do
			[ "$s" = kernel ] && continue
			cold "$s"
			sleep 0.5	# the mount's own requests logged
			n0=$(wc -l < "$log")
			run_one "$w" >/dev/null
			sleep 0.5	# the last replies logged
			reqs[$s,$w]=$(count_requests "$n0")
			do_umount
			echo "read-bench: requests $w $s: ${reqs[$s,$w]}"
		done
	done
	debug_opt=""
fi

# ---- the report ------------------------------------------------------------------

unit() {
	case $1 in
	seq-*) echo "MiB/s (higher is better)" ;;
	rand-4k) echo "IOPS (higher is better)" ;;
	*) echo "s (lower is better)" ;;
	esac
}

describe() {
	case $1 in
	seq-buffered) echo "sequential read, 1 GiB file, 1 MiB reads, buffered" ;;
	seq-direct) echo "sequential read, 1 GiB file, 1 MiB reads, O_DIRECT" ;;
	seq-direct-hot) echo "the same, hot caches (the file read once before)" ;;
	rand-4k) echo "4 KiB random reads, buffered, 10 s" ;;
	ls-lR) echo "\`ls -lR\`, 50,000 files" ;;
	find) echo "\`find .\`, 50,000 files, names only" ;;
	find-stat) echo "\`find . \\| xargs stat\`, 50,000 files" ;;
	cat-10k) echo "\`cat\` of 10,000 files of 1-16 KiB" ;;
	esac
}

ran() { # workload W was measured in this run
	case " $workloads " in *" $1 "*) return 0 ;; esac
	return 1
}
ratio() { # a / b, 2 decimals, or n/a
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f\n", a / b }'
}
holds() { # value >= target
	awk -v v="$1" -v t="$2" 'BEGIN { if (v == "n/a") print "n/a"; else if (v + 0 >= t + 0) print "**holds**"; else print "**missed**" }'
}

date=$(date +%F)
[ -n "$out" ] || out=$here/results/$date-read.md
mkdir -p "$(dirname "$out")"
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && [ -n "$(git -C "$top" status --porcelain -- src include 2>/dev/null)" ]; then
	commit="$commit (with uncommitted changes under src/ or include/)"
fi
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
disk=$(df -P "$work" | awk 'NR == 2 { print $1 }')

analysis=""
if [ -f "$out" ] && grep -q '^<!-- analysis -->' "$out"; then
	analysis=$(sed -n '/^<!-- analysis -->/,$p' "$out")
fi

{
	echo "# Read-path benchmark, $date"
	echo
	echo "Made by \`bench/read-bench.sh\` in one run ($elapsed s)."
	echo
	echo "## Machine"
	echo
	echo "- CPU: $cpu, $(nproc) cores (nproc)"
	echo "- memory: $mem"
	echo "- kernel: $(uname -r)"
	echo "- image file on: $disk ($work)"
	echo "- e4fuse commit: $commit"
	echo "- fio: $(fio --version), fuse2fs: $(dpkg-query -W -f '${Version}' fuse2fs 2>/dev/null || echo '?')"
	echo "- timing: $([ $have_hyperfine = 1 ] && echo hyperfine || echo 'date +%s.%N'), median of $reps runs ($((reps + 2)) for seq-*), servers interleaved"
	echo "- load average (1/5/15 min) before: $load_before, after: $load_after"
	echo
	echo "Image: 2 GiB, \`mkfs.ext4 -d\` defaults (4 KiB blocks, extents,"
	echo "metadata_csum, flex_bg, dir_index): one 1 GiB file of random bytes,"
	echo "50,000 files of 256 B-4 KiB in 10 directories (meta/), 10,000 files of"
	echo "1-16 KiB in 4 directories (small/). Every measurement is cold: the server"
	echo "is mounted afresh and \`echo 3 > /proc/sys/vm/drop_caches\` runs first"
	echo "(seq-direct-hot then reads the file once with O_DIRECT, untimed)."
	echo "Mounts: \`mount -o loop,ro\`; \`fuse2fs -o ro,fakeroot\`; \`e4fuse -o ro\`."
	[ -n "$before" ] && echo "e4fuse-before: ${before_desc:-another build}, \`-o ro\`."
	[ -z "$nouring" ] || echo "e4fuse: \`-o ro,nouring\` (the /dev/fuse read loop); e4fuse-uring: \`-o ro,uring\` (FUSE over io_uring, enable_uring=Y)."
	echo
	echo "## Results"
	echo
	printf '| workload | unit |'
	for s in $servers; do printf ' %s |' "$s"; done
	echo
	printf '|---|---|'
	for s in $servers; do printf -- '---:|'; done
	echo
	for w in $workloads; do
		printf '| %s (%s) | %s |' "$w" "$(describe "$w")" "$(unit "$w")"
		for s in $servers; do printf ' %s |' "${result[$s,$w]:-}"; done
		echo
	done
	echo
	echo "All runs (in order):"
	echo
	for w in $workloads; do
		printf -- '- %s:' "$w"
		for s in $servers; do printf ' %s [%s];' "$s" "${raw[$s,$w]:-}"; done
		echo
	done
	echo
	echo "## Targets"
	echo
	echo "| target | ratio | goal | verdict |"
	echo "|---|---:|---:|---|"
	for w in seq-buffered seq-direct seq-direct-hot; do
		ran $w || continue
		r=$(ratio "${result[e4fuse,$w]:-}" "${result[kernel,$w]:-}")
		echo "| $w: e4fuse / kernel throughput | $r | >= 0.80 | $(holds "$r" 0.80) |"
	done
	for w in ls-lR find-stat; do
		ran $w || continue
		r=$(ratio "${result[fuse2fs,$w]:-}" "${result[e4fuse,$w]:-}")
		echo "| $w: speedup of e4fuse over fuse2fs (time fuse2fs / time e4fuse) | $r | >= 5 | $(holds "$r" 5) |"
	done
	for w in ls-lR find-stat cat-10k; do
		ran $w || continue
		goal=0.50
		[ $w = cat-10k ] && goal=0.80
		r=$(ratio "${result[kernel,$w]:-}" "${result[e4fuse,$w]:-}")
		echo "| $w: e4fuse speed relative to kernel (time kernel / time e4fuse) | $r | >= $goal | $(holds "$r" $goal) |"
	done
	if ran rand-4k; then
		r=$(ratio "${result[e4fuse,rand-4k]:-}" "${result[kernel,rand-4k]:-}")
		echo "| (no target) rand-4k: e4fuse / kernel IOPS | $r | | |"
	fi
	r=$(ratio "${result[fuse2fs,cat-10k]:-}" "${result[e4fuse,cat-10k]:-}")
	echo "| (no target) cat-10k: speedup of e4fuse over fuse2fs | $r | | |"
	r=$(ratio "${result[kernel,find]:-}" "${result[e4fuse,find]:-}")
	echo "| (no target) find: e4fuse speed relative to kernel | $r | | |"
	case " $servers " in *" e4fuse-before "*)
		for w in $workloads; do
			case $w in
			seq-*|rand-*) r=$(ratio "${result[e4fuse,$w]:-}" "${result[e4fuse-before,$w]:-}") ;;
			*) r=$(ratio "${result[e4fuse-before,$w]:-}" "${result[e4fuse,$w]:-}") ;;
			esac
			echo "| (no target) $w: e4fuse speed relative to e4fuse-before | $r | | |"
		done ;;
	esac
	case " $servers " in *" e4fuse-uring "*)
		for w in $workloads; do
			case $w in
			seq-*|rand-*) r=$(ratio "${result[e4fuse-uring,$w]:-}" "${result[kernel,$w]:-}")
				r2=$(ratio "${result[e4fuse-uring,$w]:-}" "${result[e4fuse,$w]:-}") ;;
			*) r=$(ratio "${result[kernel,$w]:-}" "${result[e4fuse-uring,$w]:-}")
				r2=$(ratio "${result[e4fuse,$w]:-}" "${result[e4fuse-uring,$w]:-}") ;;
			esac
			echo "| (no target) $w: e4fuse-uring speed relative to kernel | $r | | |"
			echo "| (no target) $w: e4fuse-uring speed relative to e4fuse (read loop) | $r2 | | |"
		done ;;
	esac
	echo
	if [ $counts = 1 ]; then
		echo "## Requests per workload"
		echo
		echo "One more cold run of each with the server's debug log on (untimed):"
		echo "the requests the kernel sent while the workload ran, by kind."
		echo
		echo "| workload | server | requests |"
		echo "|---|---|---|"
		for w in $workloads; do
			case $w in seq-*|rand-*) continue ;; esac
			for s in $servers; do
				[ "$s" = kernel ] && continue
				echo "| $w | $s | ${reqs[$s,$w]:-} |"
			done
		done
		echo
	fi
	if [ -n "$analysis" ]; then
		echo "$analysis"
	else
		echo "<!-- analysis -->"
		echo "## What holds e4fuse back"
		echo
		echo "(not written yet)"
	fi
} >"$out"
echo "read-bench: results in $out"
sed -n '/^## Results/,/^<!-- analysis -->/p' "$out"

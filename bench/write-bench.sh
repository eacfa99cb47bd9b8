#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/write-bench.sh [--reps N] [--no-counts] [--out FILE]
#     [--servers "kernel fuse2fs e4fuse e4fuse-uring e4fuse-wbc e4fuse-nojournal"]
#     [--workloads "seq-write ... fdatasync-4k"]
#
# The write path against two references, in one run, each workload on a
# fresh image (mkfs.ext4, 4 GiB, default features) per server and round:
#
#   kernel   the kernel's ext4 driver     mount -o loop IMAGE DIR
#   fuse2fs  Debian's fuse2fs (libext2fs) fuse2fs IMAGE DIR -o fakeroot
#   e4fuse   ./e4fuse                     ./e4fuse IMAGE DIR
#   e4fuse-uring  the same over FUSE over io_uring (-o uring; the fuse
#            module's enable_uring is set to Y for the run and put back);
#            with it in the list, the other e4fuse servers run -o nouring
#   e4fuse-wbc  the same with the kernel's writeback cache
#                                         ./e4fuse -o writeback_cache ...
#   e4fuse-nojournal  e4fuse on an image made without a journal
#                 (mkfs.ext4 -O ^has_journal): what journaling costs
#
# Workloads (the time includes the final sync and unmount: what is not on
# the image yet is not written):
#
#   seq-write     fio, 1 GiB sequential buffered 1 MiB writes    MiB/s
#   rand-4k       fio, 4 KiB random buffered writes in a 256 MiB
#                 file, 10 s                                    IOPS
#   rand-4k-direct  the same with O_DIRECT                      IOPS
#   create-50k    create 50,000 empty files (10 directories)    seconds
#   stat-50k      stat them                                     seconds
#   unlink-50k    remove them                                   seconds
#   cp-a          cp -a of a source tree (/usr/include)         seconds
#   tar-x         tar x of the same tree                        seconds
#   fsync-4k      fio, 10,000 appends of 4 KiB, each fsync'd    us/op
#   fdatasync-4k  fio, 10,000 overwrites of 4 KiB in place in a
#                 40 MiB file, each fdatasync'd                  us/op
#   extents       extents of the 1 GiB file (filefrag, kernel)  count
#
# The median of the repetitions (3 by default) is kept.  Unless
# --no-counts, each workload runs once more on each FUSE server with its
# debug log on, untimed, and the requests the kernel sent while it ran
# are counted by kind.  Results go to
# bench/results/YYYY-MM-DD-write.md; an existing file keeps everything
# below its "<!-- analysis -->" line.  Needs root, fio, fuse2fs, e2fsprogs
# and tar; installs nothing.  About 20 minutes on 2 cores.
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
reps=3
servers="kernel fuse2fs e4fuse e4fuse-uring e4fuse-wbc e4fuse-nojournal"
workloads="seq-write rand-4k rand-4k-direct create-50k stat-50k unlink-50k cp-a tar-x fsync-4k fdatasync-4k extents"
out=""
counts=1
work=${E4_BENCH_DIR:-/var/tmp/e4bench-w}
e4fuse=${E4FUSE:-$top/e4fuse}

while [ $# -gt 0 ]; do
	case $1 in
	--reps) reps=$2; shift 2 ;;
	--no-counts) counts=0; shift ;;
	--servers) servers=$2; shift 2 ;;
	--workloads) workloads=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h|--help) sed -n '3,47p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "write-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done

for t in fio fuse2fs mkfs.ext4 filefrag tar; do
	command -v "$t" >/dev/null 2>&1 ||
		{ echo "write-bench: missing $t" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "write-bench: must run as root" >&2; exit 1; }
[ -x "$e4fuse" ] || { echo "write-bench: no $e4fuse (run make first)" >&2; exit 1; }

mkdir -p "$work"
cp "$e4fuse" "$work/e4fuse"
e4fuse=$work/e4fuse
img=$work/write-bench.img
mnt=$work/mnt
mkdir -p "$mnt"
log=$work/server.log
server_pid=""
src=/usr/include
tarball=$work/src.tar
[ -s "$tarball" ] || tar -C "$(dirname "$src")" -cf "$tarball" "$(basename "$src")"

bench=write-bench
# shellcheck source=bench/benchlib.sh
. "$here/benchlib.sh"
trap bench_cleanup EXIT
uring_allow "$servers"
debug_opt=""

fresh_image() {
	local features=
	[ "$server" = e4fuse-nojournal ] && features="-O ^has_journal"
	rm -f "$img"
	truncate -s 4G "$img"
	# shellcheck disable=SC2086
	mkfs.ext4 -q -F $features -E nodiscard,lazy_itable_init=0 "$img"
}

do_mount() {
	case $1 in
	kernel) mount -o loop "$img" "$mnt" ;;
	fuse2fs)
		fuse2fs -f "$img" "$mnt" -o "fakeroot$debug_opt" >"$log" 2>&1 &
		server_pid=$!
		wait_mounted fuse2fs ;;
	e4fuse*)
		local o="rw$nouring$debug_opt"
		[ "$1" != e4fuse-uring ] || o="rw,uring$debug_opt"
		[ "$1" != e4fuse-wbc ] || o="$o,writeback_cache"
		"$e4fuse" -f -o "$o" "$img" "$mnt" >"$log" 2>&1 &
		server_pid=$!
		wait_mounted "$1" ;;
	esac
}

# With the debug log on (the count pass), what the kernel sent between
# mark_start and mark_end goes to $counted.
counted=$work/counted
mark_start() {
	[ -n "$debug_opt" ] || return 0
	sleep 0.5	# what came before logged
	wc -l < "$log" > "$counted.start"
}
mark_end() {
	[ -n "$debug_opt" ] || return 0
	sleep 0.5
	count_requests "$(cat "$counted.start")" > "$counted"
}

# run SERVER SETUP CMD: seconds for CMD on a fresh mount, sync and unmount
# included; SETUP runs first, untimed
timed() {
	local server=$1 setup=$2 cmd=$3 t0 t1
	fresh_image
	do_mount "$server"
	(cd "$mnt" && eval "$setup")
	sync
	echo 3 >/proc/sys/vm/drop_caches
	mark_start
	t0=$(date +%s%N)
	(cd "$mnt" && eval "$cmd")
	sync
	mark_end
	do_umount
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }' 
}

mkfiles='for d in $(seq 0 9); do mkdir d$d; (cd d$d && seq 1 5000 | sed "s/^/f/" | xargs touch); done'
# run_one SERVER WORKLOAD: its number for one run
run_one() {
	local server=$1 w=$2 s d v job t0 t1
	case $w in
	seq-write)
		s=$(timed "$server" : "fio --name=w --filename=big --rw=write --bs=1M --size=1G --ioengine=psync --end_fsync=1 >/dev/null")
		v=$(awk -v s="$s" 'BEGIN { printf "%.1f\n", 1024 / s }') ;;
	rand-4k|rand-4k-direct)
		d=0; [ $w = rand-4k-direct ] && d=1
		fresh_image; do_mount "$server"
		fio --name=p --filename="$mnt/r" --rw=write --bs=1M --size=256M --ioengine=psync >/dev/null
		mark_start
		v=$(fio --minimal --name=r --filename="$mnt/r" --rw=randwrite --bs=4k --size=256M --direct=$d --ioengine=psync --runtime=10 --time_based | awk -F';' '{ print $49 }')
		mark_end
		do_umount ;;
	create-50k) v=$(timed "$server" : "$mkfiles") ;;
	stat-50k) v=$(timed "$server" "$mkfiles" "find . -type f | xargs stat >/dev/null") ;;
	unlink-50k) v=$(timed "$server" "$mkfiles" "rm -r d*") ;;
	cp-a) v=$(timed "$server" : "cp -a $src tree") ;;
	tar-x) v=$(timed "$server" : "tar xf $tarball") ;;
	fsync-4k|fdatasync-4k)
		fresh_image; do_mount "$server"
		if [ $w = fsync-4k ]; then
			job="--rw=write --fsync=1"
		else
			fio --name=p --filename="$mnt/s" --rw=write --bs=1M --size=40M --ioengine=psync --end_fsync=1 >/dev/null
			job="--rw=randwrite --fdatasync=1"
		fi
		mark_start
		t0=$(date +%s%N)
		# shellcheck disable=SC2086
		fio --name=s --filename="$mnt/s" $job --bs=4k --size=40M --number_ios=10000 --ioengine=psync >/dev/null
		t1=$(date +%s%N)
		mark_end
		v=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", (b - a) / 1e3 / 10000 }')
		do_umount ;;
	esac
	echo "$v"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A result
for server in $servers; do
	for w in $workloads; do
		[ "$w" = extents ] && continue
		vals=""
		for _ in $(seq 1 "$reps"); do
			vals="$vals $(run_one "$server" "$w")"
		done
		result[$server,$w]=$(echo $vals | tr ' ' '\n' | median)
		echo "write-bench: $server $w: ${result[$server,$w]} (runs:$vals)"
	done
	case " $workloads " in *" extents "*) ;; *) continue ;; esac
	# how the 1 GiB file was laid out, as the kernel sees it
	fresh_image
	do_mount "$server"
	fio --name=w --filename="$mnt/big" --rw=write --bs=1M --size=1G --ioengine=psync --end_fsync=1 >/dev/null
	do_umount
	mount -o loop,ro "$img" "$mnt"
	result[$server,extents]=$(filefrag "$mnt/big" | sed -n 's/.*: \([0-9]*\) extents\{0,1\} found/\1/p')
	umount "$mnt"
	echo "write-bench: $server extents: ${result[$server,extents]}"
done

# One more run of each workload on each FUSE server, debug log on, untimed
declare -A reqs
if [ $counts = 1 ]; then
	debug_opt=",debug"
	for w in $workloads; do
		[ "$w" = extents ] && continue
		for server in $servers; do
			[ "$server" = kernel ] && continue
			rm -f "$counted"
			run_one "$server" "$w" >/dev/null
			reqs[$server,$w]=$(cat "$counted" 2>/dev/null || echo "(none counted)")
			echo "write-bench: requests $w $server: ${reqs[$server,$w]}"
		done
	done
	debug_opt=""
fi

out=${out:-$top/bench/results/$(date +%F)-write.md}
analysis=""
[ -f "$out" ] && analysis=$(sed -n '/<!-- analysis -->/,$p' "$out")
{
	echo "# Write benchmark, $(date +%F)"
	echo
	echo "$(uname -r), $(nproc) CPUs; image: 4 GiB mkfs.ext4 defaults, fresh per run; median of $reps."
	echo
	printf '| workload |'; for s in $servers; do printf ' %s |' "$s"; done; echo
	printf '|---|'; for s in $servers; do printf -- '---|'; done; echo
	for w in $workloads; do
		printf '| %s |' "$w"
		for s in $servers; do printf ' %s |' "${result[$s,$w]:-}"; done
		echo
	done
	echo
	echo "seq-write in MiB/s, rand-4k in IOPS, fsync-4k and fdatasync-4k in microseconds per write and sync, extents a count; the rest in seconds (sync and unmount included)."
	echo
	[ -z "$nouring" ] || { echo "e4fuse, e4fuse-wbc, e4fuse-nojournal: \`-o nouring\` (the /dev/fuse read loop); e4fuse-uring: \`-o uring\` (FUSE over io_uring, enable_uring=Y)."; echo; }
	echo "Load average before and after: $load_before; $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	if [ $counts = 1 ]; then
		echo "## Requests per workload"
		echo
		echo "One more run of each with the server's debug log on (untimed): the"
		echo "requests the kernel sent while the workload ran (setup excluded), by kind."
		echo
		echo "| workload | server | requests |"
		echo "|---|---|---|"
		for w in $workloads; do
			[ "$w" = extents ] && continue
			for sv in $servers; do
				[ "$sv" = kernel ] && continue
				echo "| $w | $sv | ${reqs[$sv,$w]:-} |"
			done
		done
		echo
	fi
	if [ -n "$analysis" ]; then echo "$analysis"; else echo "<!-- analysis -->"; fi
} > "$out"
echo "write-bench: wrote $out"

# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2154,SC2034
#
# What the benchmarks share (sourced, not run).  The caller sets:
#   bench    its name, for messages
#   mnt      the mount point
#   log      the server's log (and debug log)
# and keeps server_pid (empty when the server is the kernel).

server_pid=""

# median of the numbers on stdin, one per line ("nan" for none)
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# wait_mounted NAME: until $mnt is a mount point; the log and exit if
# the server died first or 10 s went by
wait_mounted() {
	for _ in $(seq 1 200); do
		mountpoint -q "$mnt" && return 0
		if [ -n "$server_pid" ] && ! kill -0 "$server_pid" 2>/dev/null; then
			break
		fi
		sleep 0.05
	done
	echo "$bench: $1 did not mount; its log:" >&2
	cat "$log" >&2
	exit 1
}

do_umount() {
	umount "$mnt"
	if [ -n "$server_pid" ]; then
		wait "$server_pid" 2>/dev/null || true
		server_pid=""
	fi
}

bench_cleanup() {
	if mountpoint -q "$mnt"; then
		umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
	fi
	if [ -n "$server_pid" ]; then
		wait "$server_pid" 2>/dev/null || true
	fi
	uring_restore
}

# FUSE over io_uring is a global switch (the fuse module's enable_uring):
# uring_allow SERVERS turns it on when e4fuse-uring is among SERVERS and
# sets $nouring to the option that keeps plain e4fuse on /dev/fuse;
# bench_cleanup puts it back.
uring_param=/sys/module/fuse/parameters/enable_uring
uring_saved=""
nouring=""
uring_allow() {
	case " $1 " in *" e4fuse-uring "*) ;; *) return 0 ;; esac
	[ -w "$uring_param" ] ||
		{ echo "$bench: e4fuse-uring needs $uring_param" >&2; exit 1; }
	uring_saved=$(cat "$uring_param")
	echo Y > "$uring_param"
	nouring=",nouring"
}
uring_restore() {
	[ -z "$uring_saved" ] || echo "$uring_saved" > "$uring_param"
	uring_saved=""
}

# count_requests N: the requests logged in $log after its line N, by
# kind, most frequent first.  e4fuse logs "req N OPCODE node ...",
# libfuse (fuse2fs) "unique: N, opcode: OPCODE (n), ...".
count_requests() {
	tail -n +"$(( $1 + 1 ))" "$log" |
		grep -aoE 'req [0-9]+ [A-Z_0-9]+ node|opcode: [A-Z_0-9]+' |
		awk '{ print ($1 == "req") ? $3 : $2 }' | sort | uniq -c |
		sort -rn | awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }'
}

#!/bin/sh
# make bench, capture part: speed of the three `vmlab capture` back ends.
#   usage: bench/capture.sh BINDIR
# Targets (issue 6): the qemu back end >= 30M records/s written to .vmt on
# gzip of a 1 MiB file; qemu and sancov >= 10x faster than lackey on the same
# program (bench/workloads/lz.c, a small LZ77 compressor, on 64 KiB).
# Records/s = records in the finished .vmt / wall seconds of vmlab capture.
set -u
bin=$1/vmlab
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# inputs: text made of the repository's own sources (deterministic)
cat sim/*.c traces/*.c policies/*/*.c cli/*.c >"$tmp/src"
while [ "$(wc -c <"$tmp/src")" -lt 1048576 ]; do cat "$tmp/src" "$tmp/src" >"$tmp/s2"; mv "$tmp/s2" "$tmp/src"; done
head -c 1048576 "$tmp/src" >"$tmp/in1m"
head -c 65536 "$tmp/src" >"$tmp/in64k"

# One capture; prints "WALL_S CPU_S RECORDS BYTES/ACCESS" from vmlab capture's
# own report (times exclude its read-back check).  CPU seconds (program,
# tracer and compression thread) are what matters on a busy machine.
run() {
	out=$1
	shift
	"$bin" capture -o "$out" "$@" >/dev/null 2>"$tmp/log" || { echo "0 0 0 0"; cat "$tmp/log" >&2; return; }
	sed -n 's/.*with [a-z]*: \([0-9]*\) accesses.*, \([0-9]*\) events; .*(\([0-9.]*\) bytes\/access); \([0-9.]*\) s wall, \([0-9.]*\) s CPU.*/\4 \5 \1 \3/p' "$tmp/log"
}
show() { # NAME WHAT RESULT
	echo "$3" | awk -v n="$1" -v w="$2" '{printf "%-7s %-26s %10d records  %6.2f s wall %6.2f s CPU  %6.1f M rec/s wall %6.1f M rec/CPU-s  %.3f bytes/access\n", n, w, $3, $1, $2, $3 / $1 / 1e6, $3 / $2 / 1e6, $4}'
}
cpu_ratio() { echo "$1 $2" | awk '{printf "%.0f", $2 / $6}'; } # lackey CPU / other CPU (same program)

have_qemu=no
command -v qemu-x86_64 >/dev/null && have_qemu=yes
if [ $have_qemu = yes ]; then
	echo "(target: qemu >= 30M records/s on gzip of 1 MiB; machine load now: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores)"
	show qemu "gzip -9 of 1 MiB" "$(run "$tmp/g.vmt" --backend qemu -- gzip -9 -c "$tmp/in1m")"
	show qemu "gzip -9 1 MiB, --ifetch" "$(run "$tmp/gi.vmt" --backend qemu --ifetch -- gzip -9 -c "$tmp/in1m")"
else
	echo "qemu    NOT MEASURED: qemu-x86_64 is not installed (make deps installs qemu-user)"
fi

if ! cc -O2 -Iinclude bench/workloads/lz.c -o "$tmp/lz" ||
	! clang -O2 $("$bin" capture --flags) bench/workloads/lz.c -o "$tmp/lz-sancov" 2>"$tmp/clang.log"; then
	echo "lz workload: NOT MEASURED: build failed ($(head -c 200 "$tmp/clang.log"))"
	exit 0
fi
echo "(target: qemu and sancov >= 10x faster than lackey on the same program)"
rl=$(run "$tmp/l.vmt" --backend lackey -- "$tmp/lz" "$tmp/in64k")
show lackey "lz of 64 KiB" "$rl"
if [ $have_qemu = yes ]; then
	rq=$(run "$tmp/q.vmt" --backend qemu -- "$tmp/lz" "$tmp/in64k")
	show qemu "lz of 64 KiB" "$rq"
	echo "        qemu is $(cpu_ratio "$rl" "$rq")x faster than lackey in CPU time, $(echo "$rl $rq" | awk '{printf "%.0f", $1 / $5}')x in wall time"
fi
rs=$(run "$tmp/s.vmt" --backend sancov -- "$tmp/lz-sancov" "$tmp/in64k")
show sancov "lz of 64 KiB (instrumented)" "$rs"
echo "        sancov is $(cpu_ratio "$rl" "$rs")x faster than lackey in CPU time, $(echo "$rl $rs" | awk '{printf "%.0f", $1 / $5}')x in wall time (records instrumented code only, not libc)"

#!/bin/sh
# make bench, throughput part: the ratios of issue 16, measured side by side
# in one run against the yardstick loop of ../shared/bench (baseline_lru.c,
# a minimal textbook LRU) on the Zipf(0.9) trace of gen_zipf_mix.c.
#   usage: bench/throughput.sh BINDIR BENCHDIR
# Environment: VMLAB_BENCH_SHARED (default ../shared/bench, relative to the
# repository), BENCH_N (requests of the Zipf trace, default 20000000).
# Times are user + system CPU seconds (GNU time), so a busy machine shifts
# them less than wall clock; the sweep comparison is wall clock (threads
# are the point there), against the 16 runs one after another (the target)
# and 2 at a time, with the CPU seconds beside it and the load average of
# the moment.  Each ratio is printed with its commands (TMP: the temporary
# folder).  Run it on a quiet machine (load average below 1).
set -u
bin=$1/vmlab
benchdir=$2
shared=${VMLAB_BENCH_SHARED:-../shared/bench}
N=${BENCH_N:-20000000}
if [ ! -f "$shared/baseline_lru.c" ] || [ ! -f "$shared/gen_zipf_mix.c" ]; then
	echo "throughput: skipped ($shared/baseline_lru.c not found; set VMLAB_BENCH_SHARED)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(uname -m)"
cc -O2 -o "$tmp/base" "$shared/baseline_lru.c" && cc -O2 -o "$tmp/gen" "$shared/gen_zipf_mix.c" -lm || exit 0
"$tmp/gen" zipf "$N" 42 "$tmp/z" >"$tmp/zgen" && "$benchdir/bench_ids2raw" "$tmp/z.txt" "$tmp/z.bin" || exit 0
"$tmp/gen" mix $((N / 2)) 42 "$tmp/m" >/dev/null && "$benchdir/bench_ids2raw" "$tmp/m.txt" "$tmp/m.bin" || exit 0
rm -f "$tmp"/*.txt "$tmp"/*.oracleGeneral.bin
distinct=$(sed -n 's/.*distinct=\([0-9]*\).*/\1/p' "$tmp/zgen")
frames=$((distinct / 10)) # 10% of the pages: 98140 for 20M requests
echo "trace: Zipf(0.9), $N requests over $distinct pages, $frames frames (10%); raw file"
# cmd CMD...: print the command as run ($tmp shown as TMP, the binaries by name)
cmd() { echo "  \$ $*" | sed "s|$tmp|TMP|g; s|$bin|vmlab|g"; }
cmd "$tmp/gen" zipf "$N" 42 "$tmp/z"
cmd "$benchdir/bench_ids2raw" "$tmp/z.txt" "$tmp/z.bin"
# cpu CMD...: run it, print "CPU_S PEAK_RSS_KB"; its stdout in $tmp/out
cpu() {
	/usr/bin/time -f "%U %S %M" -o "$tmp/t" "$@" >"$tmp/out" 2>"$tmp/err" || { echo "0 0"; head -n 3 "$tmp/err" >&2; return; }
	awk '{printf "%.2f %d\n", $1 + $2, $3}' "$tmp/t"
}
faults() { sed -n 's/^ *faults  *\([0-9]*\) .*/\1/p' "$tmp/out"; }
verdict() { # VALUE TARGET [ge]: "ok" when VALUE <= TARGET (>= with ge)
	awk -v v="$1" -v t="$2" -v ge="${3:-}" 'BEGIN { ok = ge ? v >= t : v <= t; print ok ? "ok" : "MISSED" }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

set -- $(cpu "$tmp/base" "$tmp/z.bin" "$frames")
ycpu=$1
yfaults=$(sed -n 's/.*"faults": *\([0-9]*\).*/\1/p' "$tmp/out")
echo "yardstick (baseline_lru): $ycpu CPU-s, $yfaults faults"
cmd "$tmp/base" "$tmp/z.bin" "$frames"
echo
echo "-- textbook LRU, --machine none, whole vmlab run from the raw file (target: <= 2x the yardstick)"
set -- $(cpu "$bin" run --machine none -s memory.frames="$frames" -s replacement.policy=lru "$tmp/z.bin")
lcpu=$1 lrss=$2
lf=$(faults)
r=$(ratio "$lcpu" "$ycpu")
cmd "$bin" run --machine none -s memory.frames="$frames" -s replacement.policy=lru "$tmp/z.bin"
echo "lru none: $lcpu CPU-s, $lf faults ($( [ "$lf" = "$yfaults" ] && echo same as the yardstick || echo DIFFERENT from the yardstick)), ${r}x  $(verdict "$r" 2)"

echo
echo "-- cache-friendly trace (gen_zipf_mix mix: a 200K-page loop plus uniform noise, $((N / 2)) requests, 250000 frames; target <= 3x)"
set -- $(cpu "$tmp/base" "$tmp/m.bin" 250000)
mycpu=$1
set -- $(cpu "$bin" run --machine none -s memory.frames=250000 -s replacement.policy=lru "$tmp/m.bin")
r=$(ratio "$1" "$mycpu")
cmd "$tmp/base" "$tmp/m.bin" 250000
cmd "$bin" run --machine none -s memory.frames=250000 -s replacement.policy=lru "$tmp/m.bin"
echo "yardstick $mycpu CPU-s, vmlab lru none $1 CPU-s: ${r}x  $(verdict "$r" 3)"

echo
echo "-- policies shared with libCacheSim, --machine none (target: CPU time / yardstick at most libCacheSim's / 3)"
cmd "$bin" run --machine none -s memory.frames="$frames" -s replacement.policy=POLICY "$tmp/z.bin"
for pt in fifo:2.4 lru:2.7 clock:2.8 sieve:2.1 arc:3.2 lfu:3.9 opt:4.4 s3fifo:6 2q:6 lirs:7.7; do
	p=${pt%%:*} t=${pt#*:}
	set -- $(cpu "$bin" run --machine none -s memory.frames="$frames" -s replacement.policy="$p" "$tmp/z.bin")
	r=$(ratio "$1" "$ycpu")
	printf '%-7s %6s CPU-s  %8s KB peak RSS  %5sx the yardstick (target %sx)  %s\n' "$p" "$1" "$2" "$r" "$t" "$(verdict "$r" "$t")"
done

echo
echo "-- the default machine's TLBs and page-walk caches (target: <= 1.25x --machine none)"
set -- $(cpu "$bin" run -s memory.frames="$frames" -s replacement.policy=lru "$tmp/z.bin")
r=$(ratio "$1" "$lcpu")
cmd "$bin" run -s memory.frames="$frames" -s replacement.policy=lru "$tmp/z.bin"
echo "lru generic: $1 CPU-s, none: $lcpu CPU-s: ${r}x  $(verdict "$r" 1.25)"

echo
echo "-- memory (target: <= 32 bytes per frame plus page tables)"
set -- $(cpu "$bin" run --machine none -s memory.frames=$((frames * 2)) -s replacement.policy=lru "$tmp/z.bin")
cmd "$bin" run --machine none -s memory.frames=$((frames * 2)) -s replacement.policy=lru "$tmp/z.bin"
per=$(awk -v a="$1" -v big="$2" -v small="$lrss" -v f="$frames" 'BEGIN { printf "%.1f", (big - small) * 1024 / f }')
echo "peak RSS, lru none: $lrss KB at $frames frames, $2 KB at $((frames * 2)): $per bytes per frame (engine and policy)  $(verdict "$per" 32)"

echo
n16=$((N / 10))
head -c $((n16 * 8)) "$tmp/z.bin" >"$tmp/z16.bin"
"$bin" convert "$tmp/z16.bin" "$tmp/z16.vmt" 2>/dev/null
echo "-- one decode, many configurations: a 16-cell sweep over one trace ($n16 requests) with -j 2 vs the 16 runs one after another (the target: <= 0.6x, same faults) and 2 at a time"
echo "   wall clock (threads are the point here) and CPU seconds of everything; a raw trace, then the same as .vmt (dearer to decode); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
for fmt in raw vmt; do
	tr=z16.bin
	[ $fmt = vmt ] && tr=z16.vmt
	cat >"$tmp/exp.ini" <<EOT
[experiment]
name = bench16
traces = $tr
format = $fmt
os = textbook
machine = none
[vary]
replacement.policy = fifo, lru, clock, sieve
memory.frames = 10000, 30000, 60000, 90000
EOT
	[ $fmt = raw ] && { cmd "$bin" sweep "$tmp/exp.ini" -o "$tmp/sw" -j 2; sed 's/^/      /' "$tmp/exp.ini"; }
	rm -rf "$tmp/sw"
	set -- $(/usr/bin/time -f "%e %U %S" "$bin" sweep "$tmp/exp.ini" -o "$tmp/sw" -j 2 2>&1 >/dev/null | tail -n 1)
	sww=$1 swc=$(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.2f", u + s }')
	one() { # POLICY FRAMES: one separate run, its faults into a file
		"$bin" run --machine none --os textbook -f $fmt -s replacement.policy="$1" -s memory.frames="$2" \
			"$tmp/$tr" 2>/dev/null | sed -n "s/^ *faults  *\([0-9]*\) .*/$1 $2 \1/p" >"$tmp/sep.$1.$2"
	}
	[ $fmt = raw ] && cmd "$bin" run --machine none --os textbook -f $fmt -s replacement.policy=POLICY -s memory.frames=FRAMES "$tmp/$tr"
	# one after another
	set -- $(/usr/bin/time -f "%e %U %S" sh -c '
		for p in fifo lru clock sieve; do for f in 10000 30000 60000 90000; do
			"$0" run --machine none --os textbook -f "$1" -s replacement.policy=$p -s memory.frames=$f "$2" >/dev/null 2>&1
		done; done' "$bin" $fmt "$tmp/$tr" 2>&1 | tail -n 1)
	seqw=$1 seqc=$(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.2f", u + s }')
	# 2 at a time (the faults of each kept for the comparison)
	t1=$(date +%s.%N)
	k=0
	for p in fifo lru clock sieve; do
		for f in 10000 30000 60000 90000; do
			one "$p" "$f" &
			k=$((k + 1))
			[ $((k % 2)) -eq 0 ] && wait
		done
	done
	wait
	t2=$(date +%s.%N)
	parw=$(awk -v b="$t1" -v c="$t2" 'BEGIN { printf "%.2f", c - b }')
	cat "$tmp"/sep.*.* | sort >"$tmp/sep"
	rm -f "$tmp"/sep.*.*
	"$bin" report --csv "$tmp/sw/all.h5" >"$tmp/csv" 2>/dev/null
	python3 - "$tmp/csv" >"$tmp/swf" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    print(r.get("policy"), r.get("frames"), r.get("faults"))
PY
	sort -o "$tmp/swf" "$tmp/swf"
	same=$(cmp -s "$tmp/sep" "$tmp/swf" && echo "same faults in all 16 cells" || echo "FAULTS DIFFER")
	r=$(ratio "$sww" "$seqw")
	r2=$(ratio "$sww" "$parw")
	echo "$fmt: sweep $sww s wall ($swc CPU-s); one after another $seqw s ($seqc CPU-s): ${r}x  $(verdict "$r" 0.6); 2 at a time $parw s: ${r2}x; $same"
done

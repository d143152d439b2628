#!/bin/sh
# make bench, throughput part: the ratios of issue 16, measured side by side
# in one run against the yardstick loop of ../shared/bench (baseline_lru.c,
# a minimal textbook LRU) on the Zipf(0.9) trace of gen_zipf_mix.c.
#   usage: bench/throughput.sh BINDIR BENCHDIR
# Environment: VMLAB_BENCH_SHARED (default ../shared/bench, relative to the
# repository), BENCH_N (requests of the Zipf trace, default 20000000),
# BENCH_ROUNDS (default 3).
# Times are user + system CPU seconds (GNU time), so a busy machine shifts
# them less than wall clock.  Each CPU-time ratio is measured in
# BENCH_ROUNDS rounds, the two sides of a round run back to back (the
# yardstick, then vmlab; --machine none, then the default machine), and
# the verdict is on the median of the rounds' ratios, printed with their
# range: this VM's speed drifts by tens of percent within a minute, and a
# pair run together shares the drift.  The sweep comparison is wall clock
# (threads are the point there), against the 16 runs one after another
# (the target; BENCH_ROUNDS rounds of the two back to back, medians) and
# 2 at a time (once), with the CPU seconds beside it and the load average
# of the moment.  Each ratio is printed with its commands
# (TMP: the temporary folder).  Run it on a quiet machine (load average
# below 1).
set -u
bin=$1/vmlab
benchdir=$2
shared=${VMLAB_BENCH_SHARED:-../shared/bench}
N=${BENCH_N:-20000000}
R=${BENCH_ROUNDS:-3}
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

# med V...: the median of the values
med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# pair BASE -- CMD...: R rounds of BASE (a command line, words split) then
# CMD, back to back; sets pr (the median of CMD/BASE over the rounds), plo
# and phi (their range), pb and pc (the median CPU-s of each side), prss
# (CMD's peak RSS in KB, the last round) and pout (CMD's stdout, the last)
pair() {
	pbase=$1
	shift 2
	rs= bs= cs=
	k=0
	while [ $k -lt "$R" ]; do
		b=$(cpu $pbase | cut -d' ' -f1)
		c=$(cpu "$@")
		prss=${c#* }
		c=${c%% *}
		rs="$rs $(ratio "$c" "$b")" bs="$bs $b" cs="$cs $c"
		k=$((k + 1))
	done
	pr=$(med $rs) pb=$(med $bs) pc=$(med $cs)
	plo=$(printf '%s\n' $rs | sort -g | head -n 1) phi=$(printf '%s\n' $rs | sort -g | tail -n 1)
	pout=$tmp/out
}
range() { echo "median of $R rounds, range ${plo}-${phi}x"; }

base_z="$tmp/base $tmp/z.bin $frames"
set -- $(cpu $base_z)
yfaults=$(sed -n 's/.*"faults": *\([0-9]*\).*/\1/p' "$tmp/out")
echo "yardstick (baseline_lru): $yfaults faults; each ratio below: $R rounds, the yardstick run just before vmlab in each"
cmd $base_z
echo
echo "-- textbook LRU, --machine none, whole vmlab run from the raw file (target: <= 2x the yardstick)"
pair "$base_z" -- "$bin" run --machine none -s memory.frames="$frames" -s replacement.policy=lru "$tmp/z.bin"
lrss=$prss
lf=$(faults)
cmd "$bin" run --machine none -s memory.frames="$frames" -s replacement.policy=lru "$tmp/z.bin"
echo "lru none: $pc CPU-s (yardstick $pb), $lf faults ($( [ "$lf" = "$yfaults" ] && echo same as the yardstick || echo DIFFERENT from the yardstick)), ${pr}x ($(range))  $(verdict "$pr" 2)"

echo
echo "-- cache-friendly trace (gen_zipf_mix mix: a 200K-page loop plus uniform noise, $((N / 2)) requests, 250000 frames; target <= 3x)"
pair "$tmp/base $tmp/m.bin 250000" -- "$bin" run --machine none -s memory.frames=250000 -s replacement.policy=lru "$tmp/m.bin"
cmd "$tmp/base" "$tmp/m.bin" 250000
cmd "$bin" run --machine none -s memory.frames=250000 -s replacement.policy=lru "$tmp/m.bin"
echo "yardstick $pb CPU-s, vmlab lru none $pc CPU-s: ${pr}x ($(range))  $(verdict "$pr" 3)"

echo
echo "-- policies shared with libCacheSim, --machine none (target: CPU time / yardstick at most libCacheSim's / 3)"
cmd "$bin" run --machine none -s memory.frames="$frames" -s replacement.policy=POLICY "$tmp/z.bin"
for pt in fifo:2.4 lru:2.7 clock:2.8 sieve:2.1 arc:3.2 lfu:3.9 opt:4.4 s3fifo:6 2q:6 lirs:7.7; do
	p=${pt%%:*} t=${pt#*:}
	pair "$base_z" -- "$bin" run --machine none -s memory.frames="$frames" -s replacement.policy="$p" "$tmp/z.bin"
	printf '%-7s %6s CPU-s  %8s KB peak RSS  %5sx the yardstick (%s-%s; target %sx)  %s\n' "$p" "$pc" "$prss" "$pr" "$plo" "$phi" "$t" "$(verdict "$pr" "$t")"
done

echo
# The issue's "every other policy at least 2x faster than today": today is
# b33a1e7 (the last commit before issue 16's changes), whose CPU time over
# the yardstick's on this trace, run side by side (3 rounds, medians), was
# measured once on 2026-12-06 with b33a1e7 built from git (the same command
# with its binary; linux-lru and clock-pro count different faults since:
# issue 20 changed linux-lru's activation, and clock-pro's model was
# corrected).  The speed-up is that ratio over today's.
echo "-- the other policies, --machine none (target: at least 2x faster than at b33a1e7, the start of issue 16; its CPU time / the yardstick's measured once, side by side)"
cmd "$bin" run --machine none -s memory.frames="$frames" -s replacement.policy=POLICY "$tmp/z.bin"
for pt in random:5.40 linux-lru:5.21 nru:3.67 aging:10.54 wsclock:16.89 clock-pro:6.85 car:6.23 mglru:5.42 ws-aging:5.71; do
	p=${pt%%:*} then=${pt#*:}
	pair "$base_z" -- "$bin" run --machine none -s memory.frames="$frames" -s replacement.policy="$p" "$tmp/z.bin"
	up=$(ratio "$then" "$pr")
	printf '%-9s %6s CPU-s  %5sx the yardstick (%s-%s), at b33a1e7 %sx: %sx faster (target 2x)  %s\n' "$p" "$pc" "$pr" "$plo" "$phi" "$then" "$up" "$(verdict "$up" 2 ge)"
done

echo
echo "-- the default machine's TLBs and page-walk caches (target: <= 1.25x --machine none)"
pair "$bin run --machine none -s memory.frames=$frames -s replacement.policy=lru $tmp/z.bin" -- "$bin" run -s memory.frames="$frames" -s replacement.policy=lru "$tmp/z.bin"
cmd "$bin" run -s memory.frames="$frames" -s replacement.policy=lru "$tmp/z.bin"
echo "lru generic: $pc CPU-s, none: $pb CPU-s: ${pr}x ($(range))  $(verdict "$pr" 1.25)"

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
	one() { # POLICY FRAMES: one separate run, its faults into a file
		"$bin" run --machine none --os textbook -f $fmt -s replacement.policy="$1" -s memory.frames="$2" \
			"$tmp/$tr" 2>/dev/null | sed -n "s/^ *faults  *\([0-9]*\) .*/$1 $2 \1/p" >"$tmp/sep.$1.$2"
	}
	[ $fmt = raw ] && cmd "$bin" run --machine none --os textbook -f $fmt -s replacement.policy=POLICY -s memory.frames=FRAMES "$tmp/$tr"
	# R rounds, each the sweep then the 16 runs one after another, back
	# to back (they share the VM's drift); the verdict on the median ratio
	rs= sws= swcs= seqs= seqcs=
	k=0
	while [ $k -lt "$R" ]; do
		rm -rf "$tmp/sw"
		set -- $(/usr/bin/time -f "%e %U %S" "$bin" sweep "$tmp/exp.ini" -o "$tmp/sw" -j 2 2>&1 >/dev/null | tail -n 1)
		sww=$1 swc=$(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.2f", u + s }')
		set -- $(/usr/bin/time -f "%e %U %S" sh -c '
			for p in fifo lru clock sieve; do for f in 10000 30000 60000 90000; do
				"$0" run --machine none --os textbook -f "$1" -s replacement.policy=$p -s memory.frames=$f "$2" >/dev/null 2>&1
			done; done' "$bin" $fmt "$tmp/$tr" 2>&1 | tail -n 1)
		seqw=$1 seqc=$(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.2f", u + s }')
		rs="$rs $(ratio "$sww" "$seqw")" sws="$sws $sww" swcs="$swcs $swc" seqs="$seqs $seqw" seqcs="$seqcs $seqc"
		k=$((k + 1))
	done
	r=$(med $rs) sww=$(med $sws) swc=$(med $swcs) seqw=$(med $seqs) seqc=$(med $seqcs)
	plo=$(printf '%s\n' $rs | sort -g | head -n 1) phi=$(printf '%s\n' $rs | sort -g | tail -n 1)
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
	r2=$(ratio "$sww" "$parw")
	echo "$fmt: sweep $sww s wall ($swc CPU-s); one after another $seqw s ($seqc CPU-s): ${r}x ($(range))  $(verdict "$r" 0.6); 2 at a time $parw s: ${r2}x; $same"
done

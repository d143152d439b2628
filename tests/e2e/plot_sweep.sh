#!/bin/sh
# From a sweep to figures and tables: a sweep over the two bundled sample
# traces x 3 memory sizes x 3 policies x 2 seeds (36 cells, seconds);
# `plot mrc --by policy --facet trace` gives a panel per trace and a line
# per policy; plotting while a parameter varies unnamed is refused with the
# list and writes nothing; `bars` draws error bars over the seeds, with the
# interval checked against a t interval computed here; `report --csv` has
# every /summary column and one row per cell and loads with Python's csv
# module with numbers that parse; a failed plot leaves an earlier figure's
# files as they were; `plot --all` draws the standard set.
#   usage: sh tests/e2e/plot_sweep.sh BINDIR
set -u
bin=$(cd "$1" && pwd)/vmlab
here=$(pwd)
pass=0
fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
PY=/usr/bin/python3 # Debian's python with python3-h5py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v gnuplot >/dev/null 2>&1 || ! $PY -c 'import h5py' 2>/dev/null; then
	bad "gnuplot or python3-h5py is not installed (make deps installs both)"
	echo "$pass passed, $fail failed"
	exit 1
fi

# ---- the sweep: 2 traces x 3 sizes x 3 policies x 2 seeds = 36 cells ----
cat >"$tmp/exp.ini" <<EOF
[experiment]
name = plot-sweep
traces = $here/traces/samples/sort-lackey.vmt, $here/traces/samples/awk-qemu.vmt
os = textbook
[vary]
memory.frames = 16, 64, 256
replacement.policy = fifo, lru, random
run.seed = 1, 2
[set]
stats.interval = 200000
EOF
"$bin" sweep "$tmp/exp.ini" -o "$tmp/sw" -j 2 2>"$tmp/sweep.err"
check "sweep: 36 cells into all.h5" '[ $? -eq 0 ] && [ -s "$tmp/sw/all.h5" ] && grep -q "36 of 36 cells" "$tmp/sweep.err"'
h5=$tmp/sw/all.h5
mkdir -p "$tmp/fig"

# ---- one panel per trace, one line per policy ----
"$bin" plot "$h5" mrc --by policy --facet trace -o "$tmp/fig/mrc.png" 2>"$tmp/err"
check "plot mrc --by policy --facet trace: exit 0, no message" '[ $? -eq 0 ] && [ ! -s "$tmp/err" ] && [ -s "$tmp/fig/mrc.png" ]'
check "mrc script: a 1x2 multiplot, panels titled by trace" \
	'grep -q "^set multiplot layout 1,2" "$tmp/fig/mrc.gp" &&
	 [ "$(grep -c "^set title \"trace: " "$tmp/fig/mrc.gp")" -eq 2 ] &&
	 grep -q "^set title \"trace: sort-lackey\"" "$tmp/fig/mrc.gp" &&
	 grep -q "^set title \"trace: awk-qemu\"" "$tmp/fig/mrc.gp"'
check "mrc script: every panel draws fifo, lru and random, legend titled policy" \
	'[ "$(grep -c "title \"fifo\"" "$tmp/fig/mrc.gp")" -eq 2 ] &&
	 [ "$(grep -c "title \"lru\"" "$tmp/fig/mrc.gp")" -eq 2 ] &&
	 [ "$(grep -c "title \"random\"" "$tmp/fig/mrc.gp")" -eq 2 ] &&
	 grep -q "set key .*title \"policy\"" "$tmp/fig/mrc.gp"'
check "mrc data: 6 blocks (2 panels x 3 policies) of 3 sizes, 2 seeds each" \
	'[ "$(grep -c "^# panel" "$tmp/fig/mrc.dat")" -eq 6 ] &&
	 [ "$(grep -c "^[0-9]" "$tmp/fig/mrc.dat")" -eq 18 ] &&
	 [ "$(grep "^[0-9]" "$tmp/fig/mrc.dat" | awk "{print \$5}" | sort -u)" = 2 ]'
# the LRU point at 16 frames (64 KiB) of sort-lackey against an independent
# LRU simulator (tests/sweep/lru_fifo.py) on the trace converted to text
# (accesses only: the trace ends with a process-exit event, "V EXIT 1")
"$bin" convert --addr traces/samples/sort-lackey.vmt - 2>/dev/null | grep "^[RWIM] " >"$tmp/sort.addr"
want=$($PY tests/sweep/lru_fifo.py "$tmp/sort.addr" lru 16)
acc=$(wc -l <"$tmp/sort.addr")
check "mrc data: sort-lackey lru at 64 KiB = independent LRU faults / accesses" \
	"awk -v w=$want -v a=$acc '/^# panel/ { blk = \$0 } blk ~ /sort-lackey.vmt, series 1 lru/ && \$1 == 64 {
		d = \$2 - w / a; if (d < 0) d = -d; found = d < 1e-9 } END { exit !found }' '$tmp/fig/mrc.dat'"
# a style per policy that does not depend on which policies a figure has
"$bin" plot "$h5" mrc --by policy --facet trace --where policy=lru,random -o "$tmp/fig/mrc2.png" 2>/dev/null
check "the same policy keeps its colour and marker in another figure" \
	'[ "$(grep "^set style line 2 " "$tmp/fig/mrc.gp" | cut -d" " -f5-)" = "$(grep "^set style line 1 " "$tmp/fig/mrc2.gp" | cut -d" " -f5-)" ]'

# ---- a parameter that varies unnamed is refused, with the list ----
"$bin" plot "$h5" mrc -o "$tmp/fig/mixed.png" 2>"$tmp/err"
check "plot mrc without --facet trace: exit 2, one line naming trace and its values" \
	'[ $? -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
	 grep -q "trace (2 values: sort-lackey, awk-qemu)" "$tmp/err" && grep -q -- "--facet" "$tmp/err"'
check "the refused plot wrote nothing" '[ -z "$(ls -A "$tmp/fig" | grep mixed)" ] && [ -z "$(ls -A "$tmp/fig" | grep "^\.")" ]'
"$bin" plot "$h5" bars --by trace -o "$tmp/fig/mixed.png" 2>"$tmp/err"
check "bars --by trace (policy unnamed): refused listing replacement.policy" \
	'[ $? -eq 2 ] && grep -q "replacement.policy (3 values: fifo, lru, random)" "$tmp/err"'
"$bin" plot "$h5" tlb -o "$tmp/fig/mixed.png" 2>"$tmp/err"
check "tlb without grouping: refused listing trace, memory and policy" \
	'[ $? -eq 2 ] && grep -q "trace (2" "$tmp/err" && grep -q "memory.frames (3" "$tmp/err" && grep -q "replacement.policy (3" "$tmp/err"'
"$bin" plot "$h5" mrc --where trace=sort-lackey -o "$tmp/fig/one.png" 2>"$tmp/err"
check "--where trace=sort-lackey makes the plain mrc plot valid, titled by the trace" \
	'[ $? -eq 0 ] && grep -q "^set title \"Miss-ratio curve: sort-lackey, textbook (mean and 95% CI of 2 seeds)\"" "$tmp/fig/one.gp"'
"$bin" plot "$h5" mrc --where trace=nosuch -o "$tmp/fig/x.png" 2>"$tmp/err"
check "--where with a value no run has: exit 2 listing the values" \
	'[ $? -eq 2 ] && grep -q "values: sort-lackey, awk-qemu" "$tmp/err"'
"$bin" plot "$h5" mrc --facet nosuch.key -o "$tmp/fig/x.png" 2>"$tmp/err"
check "an unknown --facet key: exit 2 naming it" '[ $? -eq 2 ] && grep -q "nosuch.key" "$tmp/err"'

# ---- error bars over seeds ----
"$bin" plot "$h5" bars --facet trace -o "$tmp/fig/bars.png" 2>"$tmp/err"
check "plot bars --facet trace: exit 0" '[ $? -eq 0 ] && [ -s "$tmp/fig/bars.png" ]'
check "bars script: histogram with error bars (ylow:yhigh columns)" \
	'grep -q "^set style histogram errorbars" "$tmp/fig/bars.gp" && grep -q "using 2:3:4:xtic(1)" "$tmp/fig/bars.gp"'
"$bin" report --csv "$h5" >"$tmp/all.csv"
check "bars data: every cell is the mean and 95% t interval of its 2 seeds' faults (computed here)" \
	"$PY - '$tmp/all.csv' '$tmp/fig/bars.dat' <<'EOF'
import csv, math, shlex, sys
runs = list(csv.DictReader(open(sys.argv[1], newline='')))
# faults by (trace file name, memory label, policy) over seeds
want = {}
for r in runs:
    name = r['trace'].rsplit('/', 1)[-1].rsplit('.', 1)[0]
    kib = int(r['frames']) * 4
    mem = '%d KiB' % kib if kib < 1024 else '%d MiB' % (kib // 1024)
    want.setdefault((name, mem, r['replacement.policy']), []).append(int(r['faults']))
# panels in the data are in sorted trace order; policies fifo, lru, random
panels, cur, seen = [], None, 0
for line in open(sys.argv[2]):
    if line.startswith('# panel'):
        cur = line.split()[3].rsplit('/', 1)[-1].rsplit('.', 1)[0]
        continue
    if line.startswith('#') or not line.strip():
        continue
    f = shlex.split(line)
    for k, pol in enumerate(('fifo', 'lru', 'random')):
        mean, lo, hi, n = (float(x) for x in f[1 + 7 * k:5 + 7 * k])
        v = want[(cur, f[0], pol)]
        m = sum(v) / len(v)
        sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))
        half = 12.706 * sd / math.sqrt(len(v))    # t(0.975, 1 degree of freedom)
        if n != 2 or abs(mean - m) > 1e-6 * max(1, m) or abs(lo - (m - half)) > 1e-6 * max(1, m) \
                or abs(hi - (m + half)) > 1e-6 * max(1, m):
            sys.exit('cell %s %s %s: %s vs %s +- %s' % (cur, f[0], pol, f[1 + 7 * k:5 + 7 * k], m, half))
        seen += 1
# random depends on the seed somewhere, so some interval is not empty
sys.exit(0 if seen == 18 and any(len(set(v)) > 1 for v in want.values()) else 1)
EOF"
"$bin" plot "$h5" bars --facet trace --errors range -o "$tmp/fig/bars-range.png" 2>/dev/null
check "--errors range: bars at the median with min..max" \
	'grep -q "using 7:6:8:xtic(1)" "$tmp/fig/bars-range.gp"'
"$bin" plot "$h5" timeline --by policy --facet trace --where frames=16 -o "$tmp/fig/tl.png" 2>"$tmp/err"
check "timeline over seeds: exit 0, error bars drawn" \
	'[ $? -eq 0 ] && grep -q "with yerrorbars" "$tmp/fig/tl.gp"'

# ---- report --csv: every /summary column, one row per cell ----
check "report --csv: every /summary column in order, one row per cell, numbers parse" \
	"$PY - '$h5' '$tmp/all.csv' <<'EOF'
import csv, sys, h5py
names = list(h5py.File(sys.argv[1], 'r')['summary'].dtype.names)
f = h5py.File(sys.argv[1], 'r')
counters = list(f['runs/cell-0000/counters'].dtype.names)
rows = list(csv.reader(open(sys.argv[2], newline='')))
head, body = rows[0], rows[1:]
ok = head[:len(names)] == names and len(body) == 36
ok = ok and all(c in head for c in counters)          # every counter, TLB included
ok = ok and any(c.startswith('tlb_') for c in counters)
ok = ok and all(k in head for k in ('trace', 'cell', 'run.seed', 'memory.frames',
                                    'replacement.policy', 'stats.interval'))
ok = ok and sorted(int(r[head.index('cell')]) for r in body) == list(range(36))
for r in body:                                           # numbers are numbers
    for c in counters + ['frames', 'fault_ratio', 'run.seed', 'stats.interval']:
        float(r[head.index(c)])
    ok = ok and int(r[head.index('stats.interval')]) == 200000
sys.exit(0 if ok else 1)
EOF"
if $PY -c 'import pandas' 2>/dev/null; then
	check "report --csv loads with pandas with numeric counters" \
		"$PY -c \"import pandas, sys; d = pandas.read_csv(sys.argv[1]); sys.exit(0 if len(d) == 36 and d['faults'].dtype.kind == 'i' and d['fault_ratio'].dtype.kind == 'f' and d['replacement.policy'].dtype.kind == 'O' else 1)\" '$tmp/all.csv'"
fi
"$bin" report --csv --replicates --where trace=sort-lackey --columns policy,frames,seed,faults "$h5" >"$tmp/rep.csv"
check "report --replicates: 9 groups of 2 seeds with mean/interval columns" \
	"$PY - '$tmp/rep.csv' <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline='')))
ok = len(rows) == 9 and all(r['n'] == '2' and r['run.seed'] == '1;2' for r in rows)
ok = ok and all(float(r['faults_min']) <= float(r['faults_mean']) <= float(r['faults_max']) for r in rows)
sys.exit(0 if ok else 1)
EOF"
"$bin" report --csv --columns nosuch "$h5" 2>"$tmp/err" >/dev/null
check "report --columns with an unknown column: exit 2 naming it" '[ $? -eq 2 ] && grep -q nosuch "$tmp/err"'

# ---- a failed plot writes nothing and deletes nothing ----
"$bin" plot "$h5" bars --facet trace -o "$tmp/fig/z.pdf" 2>/dev/null
echo "# hand edit" >>"$tmp/fig/z.gp"
sum1=$(cat "$tmp/fig/z.gp" "$tmp/fig/z.dat" "$tmp/fig/z.pdf" | cksum)
mkdir -p "$tmp/badbin"
printf '#!/bin/sh\necho "broken gnuplot" >&2\nexit 1\n' >"$tmp/badbin/gnuplot"
chmod +x "$tmp/badbin/gnuplot"
PATH="$tmp/badbin:$PATH" "$bin" plot "$h5" bars --facet trace -o "$tmp/fig/z.png" 2>"$tmp/err"
check "a failing gnuplot: exit 1 with its message" '[ $? -eq 1 ] && grep -q "broken gnuplot" "$tmp/err"'
check "...and z.gp (hand edit included), z.dat, z.pdf unchanged, no z.png, no temporaries" \
	'[ "$(cat "$tmp/fig/z.gp" "$tmp/fig/z.dat" "$tmp/fig/z.pdf" | cksum)" = "$sum1" ] &&
	 [ ! -e "$tmp/fig/z.png" ] && [ -z "$(ls -A "$tmp/fig" | grep "^\.")" ]'

# ---- styling options ----
"$bin" plot "$h5" mrc --by policy --facet trace --logx --logy --size 1200x500 --font "Serif,9" \
	-o "$tmp/fig/s.svg" 2>"$tmp/err"
check "--logx --logy --size --font reach the script; svg written" \
	'[ $? -eq 0 ] && grep -q "logscale x 2" "$tmp/fig/s.gp" && grep -q "logscale y" "$tmp/fig/s.gp" &&
	 grep -q "size 1200,500" "$tmp/fig/s.gp" && grep -q "font \"Serif,9\"" "$tmp/fig/s.gp" && grep -q "</svg>" "$tmp/fig/s.svg"'
"$bin" plot "$h5" mrc --facet trace --size big -o "$tmp/fig/s.png" 2>"$tmp/err"
check "--size that is not WxH: exit 2" '[ $? -eq 2 ] && grep -q "WxH" "$tmp/err"'

# ---- the standard set ----
"$bin" plot --all "$h5" -o "$tmp/all/" --format pdf 2>"$tmp/err"
# mrc and bars: x memory, a line/bar per policy, a panel per trace; tlb and
# timeline have no x, so memory splits them into a figure per size
check "plot --all: mrc, bars, and tlb and timeline split by memory, each grouping said" \
	'[ $? -eq 0 ] && (for k in mrc bars tlb-memory-64_KiB tlb-memory-1_MiB timeline-memory-256_KiB; do
		[ -s "$tmp/all/$k.pdf" ] && [ -s "$tmp/all/$k.gp" ] || exit 1; done) &&
	 grep -q "mrc.pdf: drawn with --x frames --by replacement.policy --facet trace$" "$tmp/err" &&
	 grep -q "tlb-memory-64_KiB.pdf: drawn with --by replacement.policy --facet trace --where frames=16$" "$tmp/err" &&
	 grep -q "validation.pdf: .*no /validation" "$tmp/err"'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

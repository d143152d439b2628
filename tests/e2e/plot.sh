#!/bin/sh
# vmlab report and vmlab plot on a test results file: every kind in PNG,
# PDF and SVG is a valid, non-trivial file with its .gp and .dat beside it;
# the numbers in the data files are the runs' counters; missing data and
# bad input give one-line errors.
#   usage: sh tests/e2e/plot.sh BINDIR
set -u
bin=$1/vmlab
pass=0
fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trace=traces/samples/gzip-lackey.trace.gz

if ! command -v gnuplot >/dev/null 2>&1; then
	bad "gnuplot is not installed (make deps installs gnuplot-nox): plots cannot be checked"
	echo "$pass passed, $fail failed"
	exit 1
fi

# ---- a results file: engine runs, a timeline, two curves ----
r=$tmp/r.h5
for p in lru fifo; do
	for f in 16 64; do
		"$bin" run --machine none --os textbook -s replacement.policy=$p -s memory.frames=$f \
			-s stats.interval=50000 -o "$r" --run-id "$p-$f" "$trace" >/dev/null || bad "run $p $f"
	done
done
"$bin" mrc --sizes 8:1M --points 8 -o "$r" --run-id mrc-lru "$trace" >/dev/null || bad "mrc lru"
"$bin" mrc --policy fifo --sizes 8:1M --points 8 -o "$r" --run-id mrc-fifo "$trace" >/dev/null ||
	bad "mrc fifo"

"$bin" report "$r" >"$tmp/report.txt"
check "report: a line per run" '[ "$(grep -c "^lru-\|^fifo-\|^mrc-" "$tmp/report.txt")" -eq 6 ]'
faults=$("$bin" run --os textbook -s replacement.policy=fifo -s memory.frames=16 --json "$trace" |
	grep -o '"faults":[0-9]*' | head -n 1 | cut -d: -f2)
check "report: fifo-16 shows the faults of vmlab run" \
	'grep "^fifo-16 " "$tmp/report.txt" | grep -qw "$faults"'
"$bin" report --csv "$r" >"$tmp/report.csv"
check "report --csv: the 16 /summary columns first, then counters; 6 rows as wide as the header" \
	"$PY - '$tmp/report.csv' $faults <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
head = rows[0]
summary = ('run_id,kind,trace,os,policy,frames,seed,stats_interval,accesses,faults,'
           'faults_demand_zero,faults_soft,faults_hard,evictions,writebacks,fault_ratio,'
           'wall_seconds').split(',')
ok = head[:len(summary)] == summary and len(rows) == 7
ok = ok and all(len(r) == len(head) for r in rows)
ok = ok and 'reads' in head and 'resident_peak' in head and 'est_cycles' in head
by = {r[0]: dict(zip(head, r)) for r in rows[1:]}
ok = ok and by['fifo-16']['faults'] == sys.argv[2] and by['fifo-16']['reads'] != ''
ok = ok and by['mrc-lru']['reads'] == ''   # curves have no counters: empty, not 0
sys.exit(0 if ok else 1)
EOF"
"$bin" report --json "$r" >"$tmp/report.json"
check "report --json parses and carries counters and curves" "$PY - '$tmp/report.json' $faults <<'EOF'
import json, sys
runs = json.load(open(sys.argv[1]))
by = {x['run_id']: x for x in runs}
ok = len(runs) == 6 and by['fifo-16']['counters']['faults'] == int(sys.argv[2])
ok = ok and len(by['mrc-lru']['mrc']) == 8 and by['mrc-lru']['kind'] == 'mrc'
sys.exit(0 if ok else 1)
EOF"

# ---- TLB counters and a /validation group, added as docs/results.md lays them out ----
cp "$r" "$tmp/full.h5"
$PY - "$tmp/full.h5" <<'EOF' || bad "h5py could not extend the test file"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r+")
# a run with TLB counters, as runs with the TLB model carry them
g = f.create_group("runs/tlb-run")
g.attrs["config"] = np.bytes_("[replacement]\npolicy = lru\n")
dt = np.dtype([("accesses", "<u8"), ("faults", "<u8"), ("tlb_l1d_misses", "<u8"),
               ("tlb_l1i_misses", "<u8"), ("tlb_l2_misses", "<u8")])
g.create_dataset("counters", data=np.array([(1000000, 10, 25000, 4000, 1200)], dtype=dt))
s = f["summary"]
row = np.zeros(1, dtype=s.dtype)
row["run_id"], row["kind"], row["policy"], row["accesses"] = b"tlb-run", b"run", b"lru", 1000000
s.resize((s.shape[0] + 1,))
s[-1] = row[0]
# measured vs simulated
vt = np.dtype([("event", "S64"), ("simulated", "<f8"), ("measured", "<f8"),
               ("rel_error", "<f8"), ("why", "S128")])
v = f.create_dataset("validation/seqscan", data=np.array(
    [(b"dtlb_load_misses", 25000.0, 26100.0, -0.0421, b""),
     (b"page_faults", 10.0, 12.0, -0.1667, b""),
     (b"dtlb_walk_cycles", 9000.0, np.nan, np.nan, b"no hardware PMU in this VM")], dtype=vt))
v.attrs["workload"] = np.bytes_("seqscan")
EOF

# ---- every kind in every format ----
png_dims() { od -An -tu1 -j16 -N8 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4 "x" $5*16777216+$6*65536+$7*256+$8}'; }
for kind in mrc timeline bars tlb validation; do
	for ext in png pdf svg; do
		out=$tmp/fig/$kind.$ext
		mkdir -p "$tmp/fig"
		# the four timeline runs differ in policy and memory: pick one
		sel=
		[ $kind = timeline ] && sel="--run fifo-16"
		"$bin" plot "$tmp/full.h5" $kind $sel -o "$out" 2>"$tmp/err"
		rc=$?
		check "plot $kind $ext: exit 0, no message" '[ $rc -eq 0 ] && [ ! -s "$tmp/err" ]'
		# one panel: 960x600; validation has a panel per measured event (2
		# here), stacked: 80 + 330 per panel high
		dims=960x600
		[ $kind = validation ] && dims=960x740
		case $ext in
		png) check "plot $kind png: PNG signature, $dims, > 8 KB" \
			'[ "$(od -An -tx1 -N8 "$out" | tr -d " ")" = 89504e470d0a1a0a ] &&
			 [ "$(png_dims "$out")" = $dims ] && [ "$(wc -c <"$out")" -gt 8192 ]' ;;
		pdf) check "plot $kind pdf: %PDF header, %%EOF trailer, > 5 KB" \
			'[ "$(head -c 5 "$out")" = "%PDF-" ] && tail -c 64 "$out" | grep -q "%%EOF" &&
			 [ "$(wc -c <"$out")" -gt 5120 ]' ;;
		svg) check "plot $kind svg: an <svg> document with drawn paths" \
			'grep -q "<svg" "$out" && grep -q "</svg>" "$out" && [ "$(grep -c "<path" "$out")" -gt 10 ]' ;;
		esac
		check "plot $kind $ext: .gp and .dat kept beside it" \
			'[ -s "$tmp/fig/$kind.gp" ] && [ -s "$tmp/fig/$kind.dat" ]'
	done
done
# the script redraws the figure by itself from its directory
rm -f "$tmp/fig/bars.svg"
check "the kept .gp redraws its figure" '(cd "$tmp/fig" && gnuplot bars.gp) && [ -s "$tmp/fig/bars.svg" ]'

# ---- the data files hold the runs' numbers ----
# bars rows: the cluster ("64 KiB" = 16 frames), then mean lo hi n min median max
# per series, fifo first (policies in registry order)
check "bars data: fifo at 16 frames (64 KiB) is vmlab run's fault count, one run" \
	'grep "^\"64 KiB\"" "$tmp/fig/bars.dat" | awk "{print \$3, \$6}" | grep -qx "$faults 1"'
check "mrc data: two curves of 8 points" \
	'[ "$(grep -c "^# panel" "$tmp/fig/mrc.dat")" -eq 2 ] && [ "$(grep -c "^[0-9]" "$tmp/fig/mrc.dat")" -eq 16 ]'
check "tlb data: l1d misses per kilo-access = 25" 'grep "^\"l1d\"" "$tmp/fig/tlb.dat" | grep -qw 25'
check "validation data: a block per measured event, the unmeasured one named" \
	'[ "$(grep -c "^# panel" "$tmp/fig/validation.dat")" -eq 2 ] &&
	 grep -A2 "^# panel 0 dtlb_load_misses" "$tmp/fig/validation.dat" | grep -q "^\"seqscan\" 25000 26100$" &&
	 grep -q "^# not measured anywhere (no panel): dtlb_walk_cycles$" "$tmp/fig/validation.dat"'
check "timeline data: last interval ends at the trace's last access" \
	'[ "$(grep "^[0-9]" "$tmp/fig/timeline.dat" | tail -n 1 | cut -d" " -f1)" = 913426 ]'

# ---- missing data and bad input ----
"$bin" plot "$r" validation -o "$tmp/v.png" 2>"$tmp/err"
check "validation without /validation: exit 1, one line naming it" \
	'[ $? -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "/validation" "$tmp/err" && [ ! -e "$tmp/v.png" ]'
"$bin" plot "$r" tlb -o "$tmp/t.png" 2>"$tmp/err"
check "tlb without TLB counters: exit 1 saying so" '[ $? -eq 1 ] && grep -q "TLB counters" "$tmp/err"'
"$bin" plot "$r" timeline --run mrc-lru -o "$tmp/t.png" 2>"$tmp/err"
check "timeline of a run without one: exit 1" '[ $? -eq 1 ]'
"$bin" plot "$r" pie -o "$tmp/p.png" 2>"$tmp/err"
check "unknown kind: exit 2 listing the kinds" '[ $? -eq 2 ] && grep -q "mrc|timeline" "$tmp/err"'
"$bin" plot "$r" mrc -o "$tmp/p.jpg" 2>"$tmp/err"
check "unknown figure extension: exit 2" '[ $? -eq 2 ] && grep -q ".png, .pdf or .svg" "$tmp/err"'
"$bin" plot "$r" bars --run nosuch -o "$tmp/p.png" 2>"$tmp/err"
check "unknown --run: exit 1 naming it" '[ $? -eq 1 ] && grep -q "nosuch" "$tmp/err"'
"$bin" plot "$r" bars --counter nosuch -o "$tmp/p.png" 2>"$tmp/err"
check "unknown --counter: exit 1 naming it" '[ $? -eq 1 ] && grep -q "nosuch" "$tmp/err"'
echo "plain text" >"$tmp/text.h5"
"$bin" report "$tmp/text.h5" 2>"$tmp/err"
check "report of a non-HDF5 file: exit 1, one line" \
	'[ $? -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "not an HDF5 file" "$tmp/err"'
"$bin" report "$tmp/none.h5" 2>"$tmp/err"
check "report of a missing file: exit 1" '[ $? -eq 1 ] && grep -q "none.h5" "$tmp/err"'
head -c 20000 "$r" >"$tmp/cut.h5"
"$bin" report "$tmp/cut.h5" 2>"$tmp/err"
check "report of a truncated results file: exit 1, one line" \
	'[ $? -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "cut.h5" "$tmp/err"'
$PY -c 'import h5py,sys; h5py.File(sys.argv[1], "w").attrs["x"] = 1' "$tmp/other.h5"
"$bin" plot "$tmp/other.h5" mrc -o "$tmp/o.png" 2>"$tmp/err"
check "an HDF5 file that is not ours: exit 1 saying so" \
	'[ $? -eq 1 ] && grep -q "not a vmlab results file" "$tmp/err"'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

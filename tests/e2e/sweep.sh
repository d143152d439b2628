#!/bin/sh
# vmlab sweep on one machine: a 24-cell sweep with -j 2; the same sweep
# killed midway (SIGKILL, then SIGINT) and resumed gives every cell the
# counters of an uninterrupted run; fault counts checked against an
# independent simulator; editing the experiment re-runs only changed cells;
# a failing cell is reported and does not stop the others; --cell/--collect
# (what Slurm array tasks run) equals the local sweep; bad experiment files.
#   usage: sh tests/e2e/sweep.sh BINDIR
set -u
bin=$(cd "$1" && pwd)/vmlab
here=$(pwd)
pass=0
fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; return 1; fi; }
PY=/usr/bin/python3 # Debian's python with python3-h5py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! $PY -c 'import h5py' 2>/dev/null; then
	bad "python3-h5py is not installed (make deps installs it): sweep checks cannot run"
	echo "$pass passed, $fail failed"
	exit 1
fi
same() { $PY "$here/tests/sweep/h5same.py" "$1" "$2"; }
ncells() { ls "$1"/cells/*.h5 2>/dev/null | wc -l; }

# ---- the experiment: 2 traces x 4 memory sizes x 3 policies = 24 cells ----
mkdir -p "$tmp/exp/traces"
sh tests/sweep/gen-trace.sh 1 300000 >"$tmp/exp/traces/a.addr"
sh tests/sweep/gen-trace.sh 2 300000 >"$tmp/exp/traces/b.addr"
cat >"$tmp/exp/grid.ini" <<'EOF'
# a sweep for the tests
[experiment]
name = grid
traces = traces/*.addr
os = textbook
[vary]
memory.frames = 32..256 *2
replacement.policy = fifo, lru, clock
[set]
stats.interval = 50000
EOF

"$bin" sweep "$tmp/exp/grid.ini" -o "$tmp/ref" -j 2 --dry-run >"$tmp/dry" 2>&1
check "--dry-run lists 24 cells, traces outermost, last key fastest" \
	'[ $(grep -c "	todo	" "$tmp/dry") -eq 24 ] &&
	 sed -n 3p "$tmp/dry" | grep -q "a.addr	32	fifo\$" &&
	 sed -n 4p "$tmp/dry" | grep -q "a.addr	32	lru\$" &&
	 sed -n 6p "$tmp/dry" | grep -q "a.addr	64	fifo\$" &&
	 sed -n 26p "$tmp/dry" | grep -q "b.addr	256	clock\$"'
check "--dry-run writes nothing" '[ ! -e "$tmp/ref" ]'

# ---- uninterrupted reference run ----
"$bin" sweep "$tmp/exp/grid.ini" -o "$tmp/ref" -j 2 >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a 24-cell sweep with -j 2 exits 0" '[ $rc -eq 0 ]'
check "it writes all.h5 and 24 cell files" '[ -s "$tmp/ref/all.h5" ] && [ $(ncells "$tmp/ref") -eq 24 ]'
check "progress on stderr: start line, done/running/failed with ETA, final line" \
	'grep -q "^sweep grid: 24 cells, 0 already complete, 24 to run with -j 2" "$tmp/err" &&
	 grep -q "^sweep: [0-9]*/24 done, [0-9]* running, 0 failed, ETA [0-9]*:[0-9][0-9]" "$tmp/err" &&
	 grep -q "all.h5: 24 of 24 cells (0 failed, 0 missing)" "$tmp/err"'
check "no temporary files left" '[ -z "$(ls -A "$tmp/ref" "$tmp/ref/cells" | grep tmp-)" ]'

cat >"$tmp/summary.py" <<'EOF'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
s = f["summary"]
assert f.attrs["status"] == b"complete"
assert f["sweep"].attrs["name"] == b"grid"
assert f["sweep"].attrs["cells"] == 24
assert len(s) == 24, len(s)
for i, r in enumerate(s):
    assert r["cell"] == i and r["run_id"] == b"cell-%04d" % i
    # the [vary] columns agree with what the run recorded
    assert int(r["memory.frames"]) == r["frames"], r
    assert r["replacement.policy"] == r["policy"], r
    assert r["stats_interval"] == 50000
    run = f["runs/cell-%04d" % i]
    cfg = run.attrs["config"].decode()
    assert "frames = %d\n" % r["frames"] in cfg and "policy = %s\n" % r["policy"].decode() in cfg
    assert run["counters"][0]["faults"] == r["faults"]
    tl = run["timeline"]
    assert len(tl) == 6 and sum(tl["faults"]) == r["faults"], (len(tl), r["faults"])
    print(r["trace"].decode().split("/")[-1], r["policy"].decode(), r["frames"], r["faults"])
EOF
$PY "$tmp/summary.py" "$tmp/ref/all.h5" >"$tmp/rows" 2>"$tmp/pyerr"
check "/summary: one row per cell with the [vary] columns matching each run's config" \
	'[ $? -eq 0 ] && [ $(wc -l <"$tmp/rows") -eq 24 ]' || cat "$tmp/pyerr"

# a cell is what `vmlab run -o` stores for the same configuration and trace
"$bin" run --os textbook -s memory.frames=64 -s replacement.policy=clock -s stats.interval=50000 \
	-o "$tmp/run.h5" --run-id cell-0005 "$tmp/exp/traces/a.addr" >/dev/null 2>&1
$PY - "$tmp/ref/all.h5" "$tmp/run.h5" >"$tmp/py" 2>&1 <<'EOF2'
import sys, h5py, numpy as np
a = h5py.File(sys.argv[1], "r")["runs/cell-0005"]
b = h5py.File(sys.argv[2], "r")["runs/cell-0005"]
assert sorted(a) == sorted(b), (sorted(a), sorted(b))
for d in a:
    assert np.array_equal(a[d][()], b[d][()]), d
skip = {"created", "wall_seconds", "decode_seconds", "sim_seconds", "prepass_seconds",
        "sweep_cell", "sweep_cell_key"}
ka = {k for k in a.attrs if k not in skip}
kb = {k for k in b.attrs if k not in skip}
assert ka == kb, (ka ^ kb)
for k in ka:
    assert np.array_equal(a.attrs[k], b.attrs[k]), k
print("ok")
EOF2
check "cell 5 (a.addr, 64 frames, clock) equals vmlab run -o of the same settings: datasets and attributes" \
	'grep -q "^ok$" "$tmp/py"' || cat "$tmp/py"

# fault counts against an independent FIFO/LRU simulator (tests/sweep/lru_fifo.py)
bad_rows=0
for spec in "a.addr fifo 32" "a.addr lru 64" "b.addr lru 256" "b.addr fifo 128"; do
	set -- $spec
	want=$($PY tests/sweep/lru_fifo.py "$tmp/exp/traces/$1" "$2" "$3")
	got=$(awk -v t="$1" -v p="$2" -v n="$3" '$1 == t && $2 == p && $3 == n { print $4 }' "$tmp/rows")
	[ "$want" = "$got" ] || { echo "  $spec: sweep $got, independent $want"; bad_rows=$((bad_rows + 1)); }
done
check "sweep fault counts equal an independent FIFO/LRU simulator (4 cells)" '[ $bad_rows -eq 0 ]'

# Start the sweep into DIR, and once MIN cells are complete freeze it and its
# workers (SIGSTOP: on a loaded machine the polling shell may otherwise wake
# only after the last cell), then send SIG to the sweep and let them all go
# on.  A sweep that completed before it was frozen proves nothing: that try
# is thrown away (three tries).  Sets pid and rc.
interrupt() { # SIG DIR MIN ERRFILE
	for try in 1 2 3; do
		rm -rf "$2"
		"$bin" sweep "$tmp/exp/grid.ini" -o "$2" -j 2 >/dev/null 2>"$4" &
		pid=$!
		n=0
		while [ $n -lt 100 ] && [ $(ncells "$2") -lt $3 ]; do sleep 0.05; n=$((n + 1)); done
		pkill -STOP -f -- "-o $2 "
		if [ $(ncells "$2") -lt 24 ] && [ ! -e "$2/all.h5" ]; then
			kill -$1 $pid 2>/dev/null
			pkill -CONT -f -- "-o $2 "
			wait $pid 2>/dev/null
			rc=$?
			return 0
		fi
		pkill -CONT -f -- "-o $2 "
		wait $pid 2>/dev/null
		echo "# try $try: the sweep finished before it could be interrupted; again"
	done
	rc=0
	return 1
}

# ---- killed with SIGKILL midway, then resumed ----
interrupt KILL "$tmp/k" 6 "$tmp/kerr"
# the workers die with the parent (PR_SET_PDEATHSIG): give the kernel a moment
n=0
while [ $n -lt 50 ] && pgrep -f -- "-o $tmp/k " >/dev/null; do sleep 0.1; n=$((n + 1)); done
got=$(ncells "$tmp/k")
check "SIGKILL midway leaves some but not all cells ($got of 24) and no all.h5" \
	'[ $got -ge 1 ] && [ $got -lt 24 ] && [ ! -e "$tmp/k/all.h5" ]' || cat "$tmp/kerr"
check "no worker outlives the killed sweep" '! pgrep -f -- "-o $tmp/k " >/dev/null'
check "every cell file left behind reads as complete" \
	'for f in "$tmp"/k/cells/*.h5; do $PY -c "import h5py,sys; sys.exit(h5py.File(sys.argv[1])[\"/\"].attrs[\"status\"] != b\"complete\")" "$f" || exit 1; done'
"$bin" sweep "$tmp/exp/grid.ini" -o "$tmp/k" -j 2 >/dev/null 2>"$tmp/kerr"
rc=$?
check "re-running the killed sweep finishes it, skipping the $got complete cells" \
	'[ $rc -eq 0 ] && grep -q "24 cells, $got already complete, $((24 - got)) to run" "$tmp/kerr"'
check "no temporary files left after the resume" '[ -z "$(ls -A "$tmp/k" "$tmp/k/cells" | grep tmp-)" ]'
check "every cell's counters, timeline and processes equal the uninterrupted run" \
	'same "$tmp/ref/all.h5" "$tmp/k/all.h5"'

# ---- SIGINT midway: workers remove their temporary files, resume works ----
interrupt INT "$tmp/i" 4 "$tmp/ierr"
got=$(ncells "$tmp/i")
check "SIGINT stops the sweep (exit $rc), says how to resume, leaves no temporary file" \
	'[ $rc -ne 0 ] && [ $got -lt 24 ] && grep -q "interrupted; .* run the same command to resume" "$tmp/ierr" &&
	 [ -z "$(ls -A "$tmp/i/cells" | grep tmp-)" ] && [ ! -e "$tmp/i/all.h5" ]' ||
	{ cat "$tmp/ierr"; ls -A "$tmp/i" "$tmp/i/cells"; }
"$bin" sweep "$tmp/exp/grid.ini" -o "$tmp/i" -j 2 >/dev/null 2>"$tmp/ierr"
check "the interrupted sweep resumes to the same results" '[ $? -eq 0 ] && same "$tmp/ref/all.h5" "$tmp/i/all.h5"'

# ---- editing the experiment re-runs only changed cells ----
cp -r "$tmp/ref" "$tmp/edit"
sed 's/^memory.frames = .*/memory.frames = 32, 64, 100, 128, 256/' "$tmp/exp/grid.ini" >"$tmp/exp/grid2.ini"
"$bin" sweep "$tmp/exp/grid2.ini" -o "$tmp/edit" -j 2 >/dev/null 2>"$tmp/eerr"
check "adding a memory size runs only its 6 new cells" \
	'[ $? -eq 0 ] && grep -q "30 cells, 24 already complete, 6 to run" "$tmp/eerr"'
$PY -c '
import sys, h5py
f = h5py.File(sys.argv[1], "r")
s = f["summary"]
assert len(s) == 30
assert sorted(set(int(x) for x in s["memory.frames"])) == [32, 64, 100, 128, 256]
' "$tmp/edit/all.h5"
check "the merge then holds 30 rows" '[ $? -eq 0 ]'
sed 's/^stats.interval = .*/stats.interval = 100000/' "$tmp/exp/grid.ini" >"$tmp/exp/grid3.ini"
"$bin" sweep "$tmp/exp/grid3.ini" -o "$tmp/edit" -j 2 >/dev/null 2>"$tmp/eerr"
check "changing a [set] key changes every resolved config: all 24 re-run" \
	'[ $? -eq 0 ] && grep -q "24 cells, 0 already complete, 24 to run" "$tmp/eerr"'
"$bin" sweep "$tmp/exp/grid.ini" -o "$tmp/edit" -j 2 >/dev/null 2>"$tmp/eerr"
check "going back to the first version reuses its cells" \
	'[ $? -eq 0 ] && grep -q "24 cells, 24 already complete, 0 to run" "$tmp/eerr" &&
	 same "$tmp/ref/all.h5" "$tmp/edit/all.h5"'

# a cell file copied over another cell's is not that cell's result: it is
# re-run (issue 17, item 7), and the merge equals the reference again
k0=$(awk -F'\t' '$1 == "cell" { print $3 }' "$tmp/edit/plan" | sed -n 1p)
k1=$(awk -F'\t' '$1 == "cell" { print $3 }' "$tmp/edit/plan" | sed -n 2p)
cp "$tmp/edit/cells/$k0.h5" "$tmp/edit/cells/$k1.h5"
"$bin" sweep "$tmp/exp/grid.ini" -o "$tmp/edit" -j 2 >/dev/null 2>"$tmp/eerr"
check "a cell file copied over another cell's is re-run, not merged as that cell" \
	'[ $? -eq 0 ] && grep -q "24 cells, 23 already complete, 1 to run" "$tmp/eerr" &&
	 same "$tmp/ref/all.h5" "$tmp/edit/all.h5"'

key=$(awk -F'\t' '$1 == "cell" { print $3; exit }' "$tmp/edit/plan")
head -c 1000 "$tmp/edit/cells/$key.h5" >"$tmp/trunc"
cp "$tmp/trunc" "$tmp/edit/cells/$key.h5"
"$bin" sweep "$tmp/exp/grid.ini" -o "$tmp/edit" -j 2 >/dev/null 2>"$tmp/eerr"
check "a damaged cell file (truncated) is not complete: only it re-runs" \
	'[ $? -eq 0 ] && grep -q "24 cells, 23 already complete, 1 to run" "$tmp/eerr" &&
	 same "$tmp/ref/all.h5" "$tmp/edit/all.h5"'

# ---- --cell and --collect (what Slurm array tasks and the collect job run) ----
"$bin" sweep "$tmp/exp/grid.ini" -o "$tmp/c" --slurm --no-submit --max-parallel 3 --partition p1 --time 10:00 >/dev/null 2>&1
check "--max-parallel, --partition, --time go into the script" \
	'grep -q "^#SBATCH --array=0-23%3$" "$tmp/c/slurm/sweep.sbatch" &&
	 grep -q "^#SBATCH --partition=p1$" "$tmp/c/slurm/sweep.sbatch" &&
	 grep -q "^#SBATCH --time=10:00$" "$tmp/c/slurm/sweep.sbatch"'
"$bin" sweep "$tmp/exp/grid.ini" -o "$tmp/c" --slurm --no-submit --cells-per-task 6 >"$tmp/cout" 2>"$tmp/cerr"
check "--slurm --no-submit writes an sbatch --array script and a collect script" \
	'[ $? -eq 0 ] && grep -q "^#SBATCH --array=0-3$" "$tmp/c/slurm/sweep.sbatch" &&
	 [ $(wc -l <"$tmp/c/slurm/tasks") -eq 4 ] && grep -q -- "--collect" "$tmp/c/slurm/collect.sbatch"'
# run the 4 array tasks by hand, as Slurm would, with the task id in the environment
for pair in "0 1" "2 3"; do
	for t in $pair; do
		(SLURM_ARRAY_TASK_ID=$t sh "$tmp/c/slurm/sweep.sbatch" >/dev/null 2>&1 && touch "$tmp/task-ok.$t") &
	done
	wait
done
check "4 array tasks of 6 cells (run by hand) each exit 0 and write 24 cells" \
	'[ $(ls "$tmp"/task-ok.* | wc -l) -eq 4 ] && [ $(ncells "$tmp/c") -eq 24 ]'
"$bin" sweep --collect "$tmp/c" >/dev/null 2>"$tmp/cerr"
check "--collect merges them into results identical to the local sweep" \
	'[ $? -eq 0 ] && same "$tmp/ref/all.h5" "$tmp/c/all.h5"'
"$bin" sweep -o "$tmp/c" --cell 24 >/dev/null 2>"$tmp/cerr"
check "--cell past the end is a usage error naming the cell count" \
	'[ $? -eq 2 ] && grep -q "has 24 cells" "$tmp/cerr"'

# ---- cells with the same key (same bytes under two names) run once ----
mkdir -p "$tmp/d"
head -n 20000 "$tmp/exp/traces/a.addr" >"$tmp/d/one.addr"
cp "$tmp/d/one.addr" "$tmp/d/two.addr"
printf '[experiment]\nname = dup\ntraces = one.addr, two.addr\n[vary]\nmemory.frames = 32, 64\n' >"$tmp/d/e.ini"
"$bin" sweep "$tmp/d/e.ini" -o "$tmp/d/out" -j 2 >/dev/null 2>"$tmp/derr"
check "a trace copied under another name is the same cells: 4 cells, 2 run" \
	'[ $? -eq 0 ] && grep -q "4 cells, 0 already complete, 2 to run" "$tmp/derr" && [ $(ncells "$tmp/d/out") -eq 2 ]'
$PY -c '
import sys, h5py
s = h5py.File(sys.argv[1], "r")["summary"]
assert len(s) == 4 and s[0]["cell_key"] == s[2]["cell_key"] and s[0]["faults"] == s[2]["faults"]
' "$tmp/d/out/all.h5"
check "the merge still has a row per cell" '[ $? -eq 0 ]'

# ---- a failing cell is reported and does not stop the others ----
mkdir -p "$tmp/f/traces"
head -n 1000 "$tmp/exp/traces/a.addr" >"$tmp/f/traces/good.addr"
{ head -n 500 "$tmp/exp/traces/a.addr"; echo "R 0xZZZZ"; } >"$tmp/f/traces/broken.addr"
cat >"$tmp/f/e.ini" <<'EOF'
[experiment]
name = failing
traces = traces/good.addr, traces/broken.addr
os = textbook
format = addr
[vary]
replacement.policy = fifo, lru
EOF
"$bin" sweep "$tmp/f/e.ini" -o "$tmp/f/out" -j 2 >/dev/null 2>"$tmp/ferr"
rc=$?
check "failed cells: exit 1, each reported with its error (file and line)" \
	'[ $rc -eq 1 ] && [ $(grep -c "cell [23] (broken.addr, replacement.policy=.*) failed: .*broken.addr.*line 501" "$tmp/ferr") -eq 2 ]' ||
	{ echo "# exit $rc, stderr:"; sed 's/^/# /' "$tmp/ferr"; }
check "the other cells finished; partial.h5 holds them, no all.h5 pretends to be complete" \
	'[ $(ncells "$tmp/f/out") -eq 2 ] && [ ! -e "$tmp/f/out/all.h5" ] && [ -s "$tmp/f/out/partial.h5" ] &&
	 grep -q "partial.h5: 2 of 4 cells (2 failed, 0 missing)" "$tmp/ferr"'
$PY -c '
import sys, h5py
f = h5py.File(sys.argv[1], "r")
assert len(f["summary"]) == 2 and f["sweep"].attrs["missing_cells"] == b"2,3"
' "$tmp/f/out/partial.h5"
check "partial.h5 names the missing cells" '[ $? -eq 0 ]'
"$bin" sweep --collect "$tmp/f/out" >/dev/null 2>"$tmp/ferr"
check "--collect reports the stored errors and exits 1" \
	'[ $? -eq 1 ] && grep -q "cell 2 (broken.addr.*failed: .*line 501" "$tmp/ferr"'

# ---- bad experiment files: one line naming file and line, exit 1, nothing written ----
badexp() { # name, expected message (grep -E), file body
	printf '%s\n' "$3" >"$tmp/bad.ini"
	"$bin" sweep "$tmp/bad.ini" -o "$tmp/badout" >/dev/null 2>"$tmp/berr"
	rc=$?
	want=$2
	check "bad experiment: $1" \
		'[ $rc -eq 1 ] && [ $(wc -l <"$tmp/berr") -eq 1 ] && grep -Eq "$want" "$tmp/berr" && [ ! -e "$tmp/badout" ]' ||
		cat "$tmp/berr"
}
badexp "unknown [vary] key" "bad.ini line 5.*memory.framez" \
	"$(printf '[experiment]\nname = x\ntraces = %s\n[vary]\nmemory.framez = 1, 2' "$tmp/exp/traces/a.addr")"
badexp "bad value for a key" "bad.ini line 5.*replacement.policy" \
	"$(printf '[experiment]\nname = x\ntraces = %s\n[vary]\nreplacement.policy = lru, nosuch' "$tmp/exp/traces/a.addr")"
badexp "reversed range" "bad.ini line 5: memory.frames: range 64..32 is empty" \
	"$(printf '[experiment]\nname = x\ntraces = %s\n[vary]\nmemory.frames = 64..32' "$tmp/exp/traces/a.addr")"
badexp "range with a bad step" "bad.ini line 5: .*expected 'step N'" \
	"$(printf '[experiment]\nname = x\ntraces = %s\n[vary]\nmemory.frames = 32..64 step x' "$tmp/exp/traces/a.addr")"
badexp "trace glob matching nothing" "bad.ini line 3: traces: 'nothing\\*.vmt' matches no file" \
	"$(printf '[experiment]\nname = x\ntraces = nothing*.vmt')"
badexp "unknown section" "bad.ini line 4: unknown section \\[varry\\]" \
	"$(printf '[experiment]\nname = x\ntraces = %s\n[varry]' "$tmp/exp/traces/a.addr")"
badexp "missing traces" "bad.ini: \\[experiment\\] has no 'traces'" \
	"$(printf '[experiment]\nname = x')"
badexp "unknown os preset" "bad.ini: os: .*nosuch" \
	"$(printf '[experiment]\nname = x\ntraces = %s\nos = nosuch' "$tmp/exp/traces/a.addr")"
badexp "bad [set] value" "bad.ini line 5.*memory.frames" \
	"$(printf '[experiment]\nname = x\ntraces = %s\n[set]\nmemory.frames = lots' "$tmp/exp/traces/a.addr")"
"$bin" sweep "$tmp/exp/grid.ini" >/dev/null 2>"$tmp/berr"
check "missing -o is a usage error" '[ $? -eq 2 ] && grep -q "missing -o DIR" "$tmp/berr"'
(cd "$tmp" && "$bin" sweep "$tmp/exp/grid.ini" -o '' >/dev/null 2>"$tmp/berr")
check "-o '' is a usage error, not the root directory" '[ $? -eq 2 ] && grep -q "expected the name of an output directory" "$tmp/berr" && [ ! -e /plan ]'
"$bin" sweep "$tmp/exp/grid.ini" -o "$tmp/x" -j 0 >/dev/null 2>"$tmp/berr"
check "-j 0 is a usage error" '[ $? -eq 2 ] && grep -q -- "-j '"'"'0'"'"'" "$tmp/berr"'
"$bin" sweep --collect "$tmp/nosuch" >/dev/null 2>"$tmp/berr"
check "--collect on a directory without a plan fails with a clear message" \
	'[ $? -eq 1 ] && grep -q "cannot read the sweep plan" "$tmp/berr"'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

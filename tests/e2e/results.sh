#!/bin/sh
# vmlab run -o: HDF5 results read back by h5py (Debian's python3-h5py) and
# h5dump, compared with vmlab run --json; appending; bad input; and a run
# killed midway never leaves a results file that reads as complete.
#   usage: sh tests/e2e/results.sh BINDIR
set -u
bin=$1/vmlab
pass=0
fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
PY=/usr/bin/python3 # Debian's python with python3-h5py (not a pyenv shim)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trace=traces/samples/gzip-lackey.trace.gz

if ! $PY -c 'import h5py' 2>/dev/null; then
	bad "python3-h5py is not installed (make deps installs it): h5py checks cannot run"
	echo "$pass passed, $fail failed"
	exit 1
fi

# ---- one run with a timeline, compared with --json ----
"$bin" run --os textbook -s memory.frames=64 -s stats.interval=50000 --json "$trace" \
	>"$tmp/a.json" 2>"$tmp/err"
"$bin" run --os textbook -s memory.frames=64 -s stats.interval=50000 -o "$tmp/r.h5" \
	--run-id lru64 "$trace" >/dev/null 2>"$tmp/err"
check "run -o exits 0 and writes the file" '[ $? -eq 0 ] && [ -s "$tmp/r.h5" ]'
check "nothing on stderr when it is not a terminal" '[ ! -s "$tmp/err" ]'
check "no temporary file left beside the results" '[ -z "$(ls -A "$tmp" | grep tmp-)" ]'

cat >"$tmp/check.py" <<'EOF'
import json, sys, math
import h5py
h5, js = sys.argv[1], json.load(open(sys.argv[2]))
f = h5py.File(h5, "r")
errs = []
def expect(cond, what):
    if not cond:
        errs.append(what)
expect(f.attrs["format"] == b"vmlab-results", "root format attribute")
expect(f.attrs["status"] == b"complete", "root status complete")
for a in ("vmlab_version", "created", "host", "format_version"):
    expect(a in f.attrs, "root attribute " + a)
run = f["runs/lru64"]
c = run["counters"]
expect(c.shape == (1,), "counters is one row")
names = list(c.dtype.names)
expect(names == list(js["counters"].keys()), "counter fields in --json order: %s" % names)
for k, v in js["counters"].items():
    expect(int(c[0][k]) == v, "counter %s: h5 %d, json %d" % (k, int(c[0][k]), v))
cfg = run.attrs["config"].decode()
expect("policy = lru" in cfg and "frames = 64" in cfg, "config text recorded")
expect(run.attrs["seed"] == 1, "seed attribute")
expect(len(run.attrs["trace_hash"]) == 16, "trace hash is 16 hex digits")
expect(run.attrs["wall_seconds"] >= 0, "wall seconds")
# processes equal --json processes
p = run["processes"]
expect(len(p) == len(js["processes"]), "one process row per process")
for row, jp in zip(p, js["processes"]):
    for k, v in jp.items():
        expect(int(row[k]) == v, "process %s" % k)
# timeline: rows cover the trace in 50000-access steps and add up
t = run["timeline"]
acc = js["counters"]["accesses"]
expect(len(t) == math.ceil(acc / 50000), "timeline rows %d for %d accesses" % (len(t), acc))
expect(int(t["accesses_end"][-1]) == acc, "last row ends at the last access")
expect(all(int(x) == 50000 for x in t["accesses"][:-1]), "full intervals of 50000")
for k in ("faults", "faults_demand_zero", "faults_hard", "evictions", "writebacks"):
    expect(int(t[k].sum()) == js["counters"][k], "timeline %s sums to the counter" % k)
expect(all(int(x) <= 64 for x in t["resident_pages"]), "resident <= frames")
expect(all(int(r) + int(fr) == 64 for r, fr in zip(t["resident_pages"], t["free_frames"])),
       "resident + free = frames at every row")
s = f["summary"]
expect(len(s) == int(sys.argv[3]), "summary rows %d" % len(s))
r0 = [r for r in s if r["run_id"] == b"lru64"][0]
expect(int(r0["faults"]) == js["counters"]["faults"] and r0["policy"] == b"lru"
       and int(r0["frames"]) == 64, "summary row of lru64")
if errs:
    print("\n".join(errs))
    sys.exit(1)
EOF
check "h5py reads counters, processes, timeline equal to --json" \
	'$PY "$tmp/check.py" "$tmp/r.h5" "$tmp/a.json" 1'
check "h5dump reads the file" 'h5dump "$tmp/r.h5" >"$tmp/dump" 2>&1 && grep -q "DATASET \"counters\"" "$tmp/dump"'

# XXH64 of the empty input (seed 0) is 0xef46db3751d8e999 (the xxHash spec's test vector)
: >"$tmp/empty.addr"
"$bin" run -o "$tmp/e.h5" "$tmp/empty.addr" >/dev/null 2>&1
check "trace hash is XXH64: empty trace gives the known value" \
	'[ "$($PY -c "import h5py,sys; print(h5py.File(sys.argv[1])[\"runs/run-0001\"].attrs[\"trace_hash\"].decode())" "$tmp/e.h5")" = ef46db3751d8e999 ]'

# ---- appending ----
"$bin" run --os textbook -s memory.frames=128 -s replacement.policy=fifo -o "$tmp/r.h5" \
	"$trace" >/dev/null 2>&1
check "second run appended" '[ $? -eq 0 ]'
check "first run unchanged after the append" '$PY "$tmp/check.py" "$tmp/r.h5" "$tmp/a.json" 2'
check "second run got the next free id" \
	'$PY -c "import h5py,sys; f=h5py.File(sys.argv[1]); sys.exit(0 if sorted(f[\"runs\"]) == [\"lru64\", \"run-0002\"] else 1)" "$tmp/r.h5"'
sum=$(md5sum <"$tmp/r.h5")
"$bin" run -o "$tmp/r.h5" --run-id lru64 "$trace" >/dev/null 2>"$tmp/err"
rc=$?
check "a run id already in the file is a usage error" '[ $rc -eq 2 ] && grep -q "already in the file" "$tmp/err"'
check "... and leaves the file as it was" '[ "$(md5sum <"$tmp/r.h5")" = "$sum" ]'
"$bin" run -o "$tmp/r.h5" --run-id 'a/b' "$trace" >/dev/null 2>"$tmp/err"
check "a run id with a slash is refused" '[ $? -eq 2 ] && grep -q "run id" "$tmp/err"'

# ---- bad input ----
printf 'R 0x1000\nbogus line\n' >"$tmp/bad.addr"
"$bin" run -o "$tmp/bad.h5" --format addr "$tmp/bad.addr" >/dev/null 2>"$tmp/err"
rc=$?
check "bad trace: exit 1, one line naming file and line" \
	'[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "bad.addr line 2" "$tmp/err"'
check "bad trace: no results file and no temporary file" \
	'[ ! -e "$tmp/bad.h5" ] && [ -z "$(ls -A "$tmp" | grep tmp-)" ]'
echo "not hdf5" >"$tmp/text.h5"
"$bin" run -o "$tmp/text.h5" "$trace" >/dev/null 2>"$tmp/err"
check "-o onto a file that is not HDF5 is refused and the file kept" \
	'[ $? -eq 1 ] && grep -q "not an HDF5 file" "$tmp/err" && [ "$(cat "$tmp/text.h5")" = "not hdf5" ]'

# ---- progress bar: only on a terminal (script(1) gives the run a pseudo-terminal) ----
awk 'BEGIN { for (i = 0; i < 4300000; i++) printf "R 0x%x\n", 4096 * (i % 3000) }' >"$tmp/long.addr"
if command -v script >/dev/null 2>&1; then
	script -qec "'$bin' run -s memory.frames=1000 '$tmp/long.addr' >/dev/null" /dev/null >"$tmp/tty.out" 2>&1
	check "progress bar on a terminal: records, rate, percent and ETA" \
		'grep -q "M records" "$tmp/tty.out" && grep -q "M/s" "$tmp/tty.out" && grep -q "% *ETA [0-9]*:[0-9][0-9]" "$tmp/tty.out"'
else
	bad "script(1) (util-linux) is missing: cannot give the run a terminal to test the progress bar"
fi
"$bin" run -s memory.frames=1000 "$tmp/long.addr" >/dev/null 2>"$tmp/err"
check "no progress bar when stderr is a file" '[ ! -s "$tmp/err" ]'
rm -f "$tmp/long.addr"

# ---- killed runs ----
# An endless generated trace on stdin; the run is killed once its
# temporary file exists.  $1: results path; $2: signal.
endless() {
	awk 'BEGIN { for (i = 0; ; i++) printf "R 0x%x\n", 4096 * ((i * 7919) % 200003) }'
}
kill_run() {
	(endless | exec "$bin" run -s memory.frames=1000 -s stats.interval=100000 -o "$1" - \
		>/dev/null 2>&1) &
	bg=$!
	i=0
	while [ $i -lt 100 ] && ! ls -A "$(dirname "$1")" | grep -q "^\.$(basename "$1")\.tmp-"; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 1
	vpid=$(pgrep -P $bg -x vmlab | head -n 1)
	[ -n "$vpid" ] && kill "-$2" "$vpid"
	wait $bg 2>/dev/null
	pkill -P $bg 2>/dev/null # the generator, if still running
	[ -n "$vpid" ]
}
mkdir "$tmp/k"
check "an endless run was started and SIGKILLed mid-run" 'kill_run "$tmp/k/new.h5" KILL'
check "killed run: no results file" '[ ! -e "$tmp/k/new.h5" ]'
left=$(ls -A "$tmp/k" | grep tmp- | head -n 1)
cat >"$tmp/complete.py" <<'EOF'
import sys, h5py
try:
    f = h5py.File(sys.argv[1], "r")
    sys.exit(0 if f.attrs.get("status") == b"complete" else 1)
except Exception:
    sys.exit(1)
EOF
check "killed run: the temporary file is left (SIGKILL) and does not read as complete" \
	'[ -n "$left" ] && ! $PY "$tmp/complete.py" "$tmp/k/$left"'
if [ -n "$left" ]; then
	"$bin" report "$tmp/k/$left" >/dev/null 2>"$tmp/err"
	check "vmlab report refuses the leftover" '[ $? -eq 1 ]'
fi
rm -f "$tmp/k"/.*tmp-* 2>/dev/null
cp "$tmp/r.h5" "$tmp/k/old.h5"
sum=$(md5sum <"$tmp/k/old.h5")
check "a run appending to a file was SIGKILLed mid-run" 'kill_run "$tmp/k/old.h5" KILL'
check "killed append: the file is exactly as before" '[ "$(md5sum <"$tmp/k/old.h5")" = "$sum" ]'
check "killed append: it still reads as complete with its 2 runs" \
	'$PY "$tmp/check.py" "$tmp/k/old.h5" "$tmp/a.json" 2'
rm -f "$tmp/k"/.*tmp-* 2>/dev/null
check "a run was stopped with SIGTERM mid-run" 'kill_run "$tmp/k/term.h5" TERM'
check "SIGTERM: no results file and the temporary file removed" \
	'[ ! -e "$tmp/k/term.h5" ] && [ -z "$(ls -A "$tmp/k" | grep tmp-)" ]'

# ---- the file itself: symlinks, mode, permission, concurrent writers (issue 17, item 6) ----
small="traces/samples/sort-lackey.vmt"
mkdir -p "$tmp/f" "$tmp/f/real"
"$bin" run -s memory.frames=64 -o "$tmp/f/real/t.h5" --run-id first "$small" >/dev/null 2>&1
ln -s real/t.h5 "$tmp/f/link.h5"
"$bin" run -s memory.frames=64 -o "$tmp/f/link.h5" --run-id second "$small" >/dev/null 2>"$tmp/err"
check "-o through a symlink writes the file it names, and the link stays a link" \
	'[ $? -eq 0 ] && [ -L "$tmp/f/link.h5" ] &&
	 $PY -c "import h5py,sys; f=h5py.File(sys.argv[1]); assert sorted(f[\"runs\"]) == [\"first\", \"second\"]" "$tmp/f/real/t.h5"'
chmod 600 "$tmp/f/real/t.h5"
"$bin" run -s memory.frames=64 -o "$tmp/f/real/t.h5" --run-id third "$small" >/dev/null 2>&1
check "appending keeps the file's mode (600)" '[ "$(stat -c %a "$tmp/f/real/t.h5")" = 600 ]'
if [ "$(id -u)" -ne 0 ]; then
	chmod 400 "$tmp/f/real/t.h5"
	"$bin" run -s memory.frames=64 -o "$tmp/f/real/t.h5" "$small" >/dev/null 2>"$tmp/err"
	check "a read-only results file is not replaced" '[ $? -ne 0 ] && grep -q "not writable" "$tmp/err"'
	chmod 600 "$tmp/f/real/t.h5"
elif command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	chmod 644 "$tmp/f/real/t.h5"
	chmod 777 "$tmp/f/real"
	chmod 755 "$tmp" "$tmp/f"
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$bin" run -s memory.frames=64 \
		-o "$tmp/f/real/t.h5" "$small" >/dev/null 2>"$tmp/err"
	check "another user's read-only results file in a writable directory is not replaced" \
		'[ $? -ne 0 ] && grep -q "not writable" "$tmp/err" && [ "$(stat -c %U "$tmp/f/real/t.h5")" = root ]'
fi
: >"$tmp/f/real/.c.h5.tmp-dead01"
for i in 1 2 3 4; do
	"$bin" run -s memory.frames=64 -o "$tmp/f/real/c.h5" --run-id "w$i" "$small" >/dev/null 2>&1 &
done
wait
check "four concurrent appends: all four runs are in the file" \
	'$PY -c "import h5py,sys; f=h5py.File(sys.argv[1]); assert sorted(f[\"runs\"]) == [\"w1\", \"w2\", \"w3\", \"w4\"]" "$tmp/f/real/c.h5"'
check "a dead writer's temporary file is removed by the next write" \
	'[ ! -e "$tmp/f/real/.c.h5.tmp-dead01" ] && [ -z "$(ls -A "$tmp/f/real" | grep tmp-)" ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

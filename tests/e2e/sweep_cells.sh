#!/bin/sh
# One decode, many configurations: the cells of a sweep (vl_run_multi: one
# decode of the trace feeding every cell's engine, on one or two threads)
# equal the same configurations run one by one with `vmlab run --json`:
# every counter, every process's counters and the timeline's fault total,
# for several policies (opt's shared pre-pass, policies that hear every
# access, clock's scans) and memory sizes, the textbook and windows
# personalities with the default machine's TLBs, on a raw trace and on a
# multi-chunk .vmt trace with two processes, with -j 1 and -j 2.  And
# `vmlab mrc --engine` gives, at each size, the faults of `vmlab run`, with
# fewer threads than sizes and with more (the decoding thread then only
# decodes).
#   usage: sh tests/e2e/sweep_cells.sh BINDIR
bindir=$1
. "$(dirname "$0")/../e2e-lib.sh"
bin=$(cd "$bindir" && pwd)/vmlab
ok() { check "$1" true; }
bad() { check "$1" false; }
PY=/usr/bin/python3 # Debian's python with python3-h5py

if ! $PY -c 'import h5py' 2>/dev/null; then
	bad "python3-h5py is not installed (make deps installs it): sweep checks cannot run"
	finish
	exit 1
fi

# ---- the traces (a fixed LCG: the same bytes on every run) ----
# raw: 60,000 u64 addresses, 60% to 300 hot pages, 30% a sequential scan
# over 3000 pages, 10% anywhere in 20,000 pages
$PY - "$tmp/t.bin" <<'EOF'
import struct, sys
s, scan, out = 7, 0, []
for i in range(60000):
    s = (s * 6364136223846793005 + 1442695040888963407) % 2**64
    r = (s >> 33) % 100
    if r < 60:
        p = (s >> 40) % 300
    elif r < 90:
        p, scan = 1000 + scan, (scan + 1) % 3000
    else:
        p = (s >> 20) % 20000
    out.append(0x10000000 + p * 4096 + (s >> 8) % 4096)
open(sys.argv[1], "wb").write(struct.pack("<%dQ" % len(out), *out))
EOF
# addr text for .vmt: 50,000 records, two processes, reads, writes and
# instruction fetches, converted with chunks of 8192 records
$PY - >"$tmp/t.addr" <<'EOF'
s = 11
for i in range(50000):
    s = (s * 6364136223846793005 + 1442695040888963407) % 2**64
    r = (s >> 33) % 100
    pid = 1 + (s >> 50) % 2
    if r < 20:
        op, a = "I", 0x400000 + ((s >> 40) % 64) * 4096
    else:
        op = "W" if r % 3 == 0 else "R"
        hot = r < 75
        a = 0x7f0000000000 + ((s >> 40) % (200 if hot else 5000)) * 4096 + (s >> 8) % 4096
    print("%s 0x%x %d" % (op, a, pid))
EOF
"$bin" convert --chunk 8192 "$tmp/t.addr" "$tmp/t.vmt" >/dev/null 2>&1 ||
	bad "vmlab convert of the test trace failed"

# expt NAME TRACE FORMAT: an experiment over the trace, 12 cells each
expt() {
	cat >"$tmp/$1.ini" <<EOF
[experiment]
name = $1
traces = $2
format = $3
[vary]
os.personality = textbook, windows
replacement.policy = fifo, lru, opt, clock, arc, sieve
memory.frames = 96, 700
[set]
stats.interval = 7000
EOF
}
expt raw t.bin raw
expt vmt t.vmt vmt

# compare ALL.H5 DIR FORMAT TRACE: every cell of the sweep against `vmlab
# run --json` of its configuration (read from the cell's stored config:
# os.personality, replacement.policy, memory.frames, stats.interval)
cat >"$tmp/cmp.py" <<'EOF'
import json, subprocess, sys, h5py
path, fmt, trace, vmlab = sys.argv[1:5]
f = h5py.File(path, "r")
cells = 0
for row in f["summary"]:
    run = f["runs/" + row["run_id"].decode()]
    keys = {}
    section = ""
    for l in run.attrs["config"].decode().splitlines():
        l = l.strip()
        if l.startswith("["):
            section = l.strip("[]")
        elif " = " in l:
            k, v = l.split(" = ", 1)
            keys[section + "." + k.strip()] = v.strip()
    want = ["os.personality", "replacement.policy", "memory.frames", "stats.interval"]
    args = [vmlab, "run", "--json", "-f", fmt]
    for k in want:
        args += ["-s", "%s=%s" % (k, keys[k])]
    out = json.loads(subprocess.run(args + [trace], check=True, capture_output=True).stdout)
    h5c = run["counters"][0]
    names = h5c.dtype.names
    label = " ".join(keys[k] for k in want[:3])
    assert set(out["counters"]) <= set(names), (label, set(out["counters"]) - set(names))
    for k, v in out["counters"].items():
        assert int(h5c[k]) == v, (label, k, int(h5c[k]), v)
    # per-process counters (h5: /runs/<id>/processes)
    procs = run["processes"][()]
    assert len(procs) == len(out["processes"]), (label, len(procs), len(out["processes"]))
    for p5, pj in zip(sorted(procs, key=lambda p: p["pid"]), sorted(out["processes"], key=lambda p: p["pid"])):
        for k, v in pj.items():
            if k in p5.dtype.names and not isinstance(v, str):
                assert int(p5[k]) == v, (label, "pid", pj["pid"], k, int(p5[k]), v)
    tl = run["timeline"]
    assert sum(tl["faults"]) == out["counters"]["faults"], (label, "timeline")
    assert out["counters"]["faults"] > 0
    cells += 1
print(cells)
EOF

for tr in raw vmt; do
	for j in 1 2; do
		rm -rf "$tmp/sw"
		if ! (cd "$tmp" && "$bin" sweep "$tr.ini" -o sw -j $j >"$tmp/out" 2>"$tmp/err"); then
			bad "$tr trace, -j $j: the sweep exits 0"
			head -n 5 "$tmp/err"
			continue
		fi
		n=$($PY "$tmp/cmp.py" "$tmp/sw/all.h5" "$tr" "$tmp/t.$( [ $tr = raw ] && echo bin || echo vmt)" "$bin" 2>"$tmp/pyerr")
		if [ "$n" = 24 ]; then
			ok "$tr trace, -j $j: all 24 cells equal vmlab run --json of the same configuration (counters, processes, timeline)"
		else
			bad "$tr trace, -j $j: cells differ from separate runs"
			tail -n 3 "$tmp/pyerr"
		fi
	done
done

# the faults differ between cells (else equal counters would prove little)
distinct=$($PY - "$tmp/sw/all.h5" <<'EOF'
import sys, h5py
print(len(set(int(r["faults"]) for r in h5py.File(sys.argv[1], "r")["summary"])))
EOF
)
if [ "${distinct:-0}" -ge 12 ]; then ok "the cells' fault counts differ ($distinct distinct values in 24 cells)"; else bad "only ${distinct:-0} distinct fault counts"; fi

# ---- vmlab mrc --engine: each size's misses are vmlab run's faults ----
for tr in bin vmt; do
	fmt=$( [ $tr = bin ] && echo raw || echo vmt)
	exp=""
	for fr in 50 120 400 900 3000; do
		f=$("$bin" run --json -f $fmt --os textbook -s replacement.policy=clock -s memory.frames=$fr "$tmp/t.$tr" |
			$PY -c 'import json, sys; print(json.load(sys.stdin)["counters"]["faults"])')
		exp="$exp$fr $f
"
	done
	for j in 2 8; do
		got=$("$bin" mrc --engine --policy clock --sizes 50,120,400,900,3000 -j $j -f $fmt --json "$tmp/t.$tr" 2>"$tmp/err" |
			$PY -c 'import json, sys
for p in json.load(sys.stdin): print(p["frames"], p["misses"])')
		if [ -n "$got" ] && [ "$got
" = "$exp" ]; then
			ok "mrc --engine -j $j on the $fmt trace: 5 sizes, each with vmlab run's faults"
		else
			bad "mrc --engine -j $j on the $fmt trace: got [$got], expected [$exp]"
		fi
	done
done

finish

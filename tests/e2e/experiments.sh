#!/bin/sh
# The example experiments of configs/experiments/ on the sample trace: each
# expands to its grid, runs, shows the classic result it is there for, and
# `vmlab plot` draws it.  Checks use properties that hold whatever the
# exact numbers (OPT is a lower bound; LRU and OPT have the stack property;
# a bigger or more associative TLB misses less; large pages cut walks and
# bloat memory) and the trace's distinct pages counted here in Python.
#   usage: sh tests/e2e/experiments.sh BINDIR
set -u
bin=$(cd "$1" && pwd)/vmlab
pass=0
fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; return 1; fi; }
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
exp=configs/experiments
sample=$(pwd)/traces/samples/gzip-lackey.trace.gz

if ! $PY -c 'import h5py' 2>/dev/null; then
	bad "python3-h5py is not installed (make deps installs it)"
	echo "$pass passed, $fail failed"
	exit 1
fi
is_png() { [ -s "$1" ] && [ "$(head -c 4 "$1" | tail -c 3)" = PNG ]; }
# a copy of an experiment with absolute trace paths and some lines replaced
variant() { # file, sed script -> $tmp/NAME.ini
	sed -e "s|^traces = .*|traces = $sample|" -e "$2" "$exp/$1" >"$tmp/$1"
}
# distinct 4 KiB pages of the lackey sample (accesses split at page ends)
distinct=$($PY - "$sample" <<'EOF'
import gzip, re, sys
pat = re.compile(r"^\s*[ILSM]\s+([0-9a-fA-F]+),(\d+)")
pages = set()
with gzip.open(sys.argv[1], "rt") as f:
    for line in f:
        m = pat.match(line)
        if m:
            a, n = int(m.group(1), 16), int(m.group(2))
            pages.update(range(a >> 12, ((a + max(n, 1) - 1) >> 12) + 1))
print(len(pages))
EOF
)

# ---- every file expands (dry run) ----
for f in mrc-policies:120 tlb-geometry:15 largepage-policies:12; do
	name=${f%:*}
	want=${f#*:}
	"$bin" sweep "$exp/$name.ini" -o "$tmp/none" --dry-run >"$tmp/dry" 2>"$tmp/err"
	check "$name.ini expands to $want cells" \
		'[ $? -eq 0 ] && [ $(grep -c "	todo	" "$tmp/dry") -eq $want ]' || cat "$tmp/err"
done

# ---- MRC of several policies (thinned to 4 sizes) ----
variant mrc-policies.ini 's|^memory.frames = .*|memory.frames = 16, 48, 96, 192|'
"$bin" sweep "$tmp/mrc-policies.ini" -o "$tmp/mrc" -j 2 >/dev/null 2>"$tmp/err"
check "mrc-policies (20 cells) runs" '[ $? -eq 0 ]' || cat "$tmp/err"
$PY - "$tmp/mrc/all.h5" "$distinct" >"$tmp/py" 2>&1 <<'EOF'
import sys, h5py
s = h5py.File(sys.argv[1], "r")["summary"][()]
distinct = int(sys.argv[2])
f = {}
for r in s:
    f[(r["policy"].decode(), int(r["frames"]))] = int(r["faults"])
sizes = sorted({k[1] for k in f})
pols = sorted({k[0] for k in f})
assert pols == ["clock", "fifo", "lru", "opt", "random"], pols
for n in sizes:
    for p in pols:
        assert f[("opt", n)] <= f[(p, n)], ("OPT is not a lower bound", p, n)
        assert f[(p, n)] >= distinct, ("fewer faults than distinct pages", p, n)
for p in ("lru", "opt"):
    curve = [f[(p, n)] for n in sizes]
    assert curve == sorted(curve, reverse=True), (p, "not monotone", curve)
for p in pols:
    assert f[(p, 192)] == distinct, (p, f[(p, 192)], distinct)  # 188 pages fit: cold misses only
assert f[("lru", 16)] < f[("fifo", 16)], "LRU beats FIFO on this trace"
print("ok")
EOF
check "MRC: OPT is a lower bound, LRU/OPT curves never rise, only the $distinct cold misses when all pages fit" \
	'grep -q "^ok$" "$tmp/py"' || cat "$tmp/py"
"$bin" plot "$tmp/mrc/all.h5" mrc -o "$tmp/mrc.png" >/dev/null 2>"$tmp/err"
check "vmlab plot draws the MRC (mrc kind, a line per policy)" \
	'[ $? -eq 0 ] && is_png "$tmp/mrc.png" && [ $(cut -f1 "$tmp/mrc.dat" | grep -c .) -gt 0 ]' || cat "$tmp/err"

# ---- TLB geometry ----
variant tlb-geometry.ini ''
"$bin" sweep "$tmp/tlb-geometry.ini" -o "$tmp/tlb" -j 2 >/dev/null 2>"$tmp/err"
check "tlb-geometry (15 cells) runs" '[ $? -eq 0 ]' || cat "$tmp/err"
$PY - "$tmp/tlb/all.h5" "$distinct" >"$tmp/py" 2>&1 <<'EOF'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
distinct = int(sys.argv[2])
m = {}
for r in f["summary"][()]:
    c = f["runs"][r["run_id"].decode()]["counters"][0]
    m[(int(r["tlb.l2.entries"]), int(r["tlb.l2.ways"]))] = int(c["tlb_l2_misses"])
entries = sorted({k[0] for k in m})
ways = sorted({k[1] for k in m})
for w in ways:
    col = [m[(e, w)] for e in entries]
    assert col == sorted(col, reverse=True), ("more entries, more misses", w, col)
for e in entries:
    assert m[(e, 8)] <= m[(e, 1)], ("8 ways miss more than direct-mapped", e)
assert m[(512, 8)] == distinct, (m[(512, 8)], distinct)  # reach covers every page: cold misses
assert m[(32, 1)] > 4 * distinct, m[(32, 1)]
print("ok")
EOF
check "TLB: misses fall with entries and ways, down to the $distinct cold misses" \
	'grep -q "^ok$" "$tmp/py"' || cat "$tmp/py"
"$bin" plot "$tmp/tlb/all.h5" bars --counter tlb_l2_misses --x tlb.l2.entries --by tlb.l2.ways \
	-o "$tmp/tlb.png" >/dev/null 2>"$tmp/err"
check "vmlab plot draws it (bars by tlb.l2.entries and tlb.l2.ways)" '[ $? -eq 0 ] && is_png "$tmp/tlb.png"' ||
	cat "$tmp/err"

# ---- large-page policies ----
variant largepage-policies.ini ''
"$bin" sweep "$tmp/largepage-policies.ini" -o "$tmp/lp" -j 2 >/dev/null 2>"$tmp/err"
check "largepage-policies (12 cells) runs" '[ $? -eq 0 ]' || cat "$tmp/err"
$PY - "$tmp/lp/all.h5" "$distinct" >"$tmp/py" 2>&1 <<'EOF'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
distinct = int(sys.argv[2])
c = {}
for r in f["summary"][()]:
    c[(r["largepage.policy"].decode(), int(r["frames"]))] = f["runs"][r["run_id"].decode()]["counters"][0]
big = 4096
assert c[("always", big)]["walks"] * 10 < c[("none", big)]["walks"], "large pages cut walks"
assert c[("always", big)]["large_pages_mapped"] > 0
assert c[("none", big)]["resident_peak"] == distinct
assert c[("always", big)]["resident_peak"] > 4 * distinct, "bloat"
assert c[("none", big)]["large_pages_mapped"] == 0
assert c[("promote", big)]["large_page_promotions"] > 0
print("ok")
EOF
check "large pages: 'always' cuts walks tenfold and bloats memory; 'promote' collapses" \
	'grep -q "^ok$" "$tmp/py"' || cat "$tmp/py"
"$bin" plot "$tmp/lp/all.h5" bars --counter walks --x memory.frames --by largepage.policy \
	-o "$tmp/lp.png" >/dev/null 2>"$tmp/err"
check "vmlab plot draws it (bars by memory.frames and largepage.policy)" \
	'[ $? -eq 0 ] && is_png "$tmp/lp.png"' || cat "$tmp/err"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

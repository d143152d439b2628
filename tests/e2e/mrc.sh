#!/bin/sh
# vmlab mrc: the one-pass LRU curve equals `vmlab run --os textbook` with
# lru at every size, on a long generated trace (1M accesses, two processes,
# loops, a skewed hot set and random references); other policies through
# the engine equal vmlab run too; -o stores /runs/<id>/mrc; bad input.
#   usage: sh tests/e2e/mrc.sh BINDIR
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

awk -v n=1000000 'BEGIN {
	srand(7)
	for (i = 0; i < n; i++) {
		r = rand()
		if (r < 0.5) p = int(rand() * rand() * 3000)      # skewed hot set
		else if (r < 0.8) p = 3000 + (i % 5000)          # a loop
		else p = int(rand() * 20000)                      # anywhere
		printf "%s 0x%x %d\n", (rand() < 0.3 ? "W" : "R"), 4096 * p + int(rand() * 4096), 1 + int(rand() * 2)
	}
}' >"$tmp/t.addr"
check "generated a 1M-access trace" '[ "$(wc -l <"$tmp/t.addr")" -eq 1000000 ]'

# value of the first "key": in a one-line JSON object
jget() { grep -o "\"$1\":[0-9.e+-]*" | head -n 1 | cut -d: -f2; }

"$bin" mrc --json --sizes 10:40000 --points 10 "$tmp/t.addr" >"$tmp/mrc.json" 2>"$tmp/err"
check "mrc --json exits 0" '[ $? -eq 0 ] && [ ! -s "$tmp/err" ]'
tr '{' '\n' <"$tmp/mrc.json" | grep frames >"$tmp/points"
check "ten sizes reported" '[ "$(wc -l <"$tmp/points")" -eq 10 ]'
all=1
while read -r line; do
	f=$(echo "$line" | jget frames)
	m=$(echo "$line" | jget misses)
	want=$("$bin" run --os textbook -s replacement.policy=lru -s memory.frames="$f" --json \
		"$tmp/t.addr" | jget faults)
	if [ "$m" = "$want" ]; then
		echo "  $f frames: mrc $m misses = vmlab run $want faults"
	else
		echo "  $f frames: mrc $m misses, vmlab run $want faults"
		all=0
	fi
done <"$tmp/points"
check "lru: mrc misses equal vmlab run faults at every size" '[ $all -eq 1 ]'
first=$(head -n 1 "$tmp/points" | jget misses)
last=$(tail -n 1 "$tmp/points" | jget misses)
check "the curve falls (more memory, fewer misses)" '[ "$last" -lt "$first" ]'

"$bin" mrc --json --policy fifo -j 2 --sizes 100,1000,9000 "$tmp/t.addr" >"$tmp/fifo.json" 2>"$tmp/err"
check "mrc --policy fifo (engine per size, 2 jobs) exits 0" '[ $? -eq 0 ]'
all=1
for f in 100 1000 9000; do
	m=$(tr '{' '\n' <"$tmp/fifo.json" | grep "\"frames\":$f," | jget misses)
	want=$("$bin" run --os textbook -s replacement.policy=fifo -s memory.frames=$f --json \
		"$tmp/t.addr" | jget faults)
	[ -n "$m" ] && [ "$m" = "$want" ] || all=0
	echo "  fifo $f frames: mrc $m, vmlab run $want"
done
check "fifo: mrc misses equal vmlab run faults" '[ $all -eq 1 ]'

# SHARDS: rate reported; rate 1 is the exact curve
"$bin" mrc --sample 0.5 --sizes 100,1000 "$tmp/t.addr" >"$tmp/shards.txt" 2>&1
check "--sample reports the sampling rate" 'grep -q "SHARDS sampling at rate 0.5" "$tmp/shards.txt"'
check "--sample's default estimator is hot" 'grep -q "rate 0.5, hot estimator" "$tmp/shards.txt"'
"$bin" mrc --sample 0.5 --estimator split --sizes 100,1000 "$tmp/t.addr" >"$tmp/split.txt" 2>&1
check "--estimator split: no hot set" 'grep -q "split estimator .* 0 of them hot" "$tmp/split.txt"'
"$bin" mrc --sample 0.5 --estimator nope --sizes 100 "$tmp/t.addr" >/dev/null 2>"$tmp/err"
check "--estimator nope: exit 2 naming the four" '[ $? -eq 2 ] && grep -q "expected hot, split, adj or fixed" "$tmp/err"'
"$bin" mrc --json --sample 0.5 --sizes 100 "$tmp/t.addr" >"$tmp/s.json"
check "--sample --json carries sample_rate" 'grep -q "\"sample_rate\":0.5" "$tmp/s.json"'
"$bin" mrc --json --sample 1 --sizes 10:40000 --points 10 "$tmp/t.addr" >"$tmp/s1.json"
check "--sample 1 gives the exact curve" \
	'[ "$(sed "s/,\"sample_rate\":1//g" "$tmp/s1.json")" = "$(cat "$tmp/mrc.json")" ]'

# --engine: lru through the engine at each size gives the same curve
"$bin" mrc --json --engine -j 2 --sizes 10,1003,15916 "$tmp/t.addr" >"$tmp/eng.json"
"$bin" mrc --json --sizes 10,1003,15916 "$tmp/t.addr" >"$tmp/stk.json"
check "--engine lru equals the stack-distance curve" \
	'[ -s "$tmp/eng.json" ] && [ "$(cat "$tmp/eng.json")" = "$(cat "$tmp/stk.json")" ]'
# a trace with address-space events: the engine refuses an access outside
# the committed range, stack distances cannot know; mrc says so, --engine agrees with run
printf 'V COMMIT 0x10000 0x4000 readwrite\nR 0x10000\nR 0x20000\nW 0x11000\nR 0x10000\n' >"$tmp/ev.addr"
"$bin" mrc --sizes 1 "$tmp/ev.addr" >/dev/null 2>"$tmp/err"
check "events in the trace: mrc notes that stack distances ignore them" \
	'grep -q "address-space events" "$tmp/err"'
m=$("$bin" mrc --json --engine --sizes 1 "$tmp/ev.addr" | jget misses)
want=$("$bin" run --os textbook -s memory.frames=1 --json "$tmp/ev.addr" | jget faults)
check "events in the trace: mrc --engine equals vmlab run ($want faults)" '[ -n "$m" ] && [ "$m" = "$want" ]'

# -o: /runs/<id>/mrc holds the same points
"$bin" mrc --sizes 10:40000 --points 10 -o "$tmp/r.h5" --run-id curve "$tmp/t.addr" >/dev/null
check "mrc -o exits 0" '[ $? -eq 0 ]'
if $PY -c 'import h5py' 2>/dev/null; then
	check "h5py: /runs/curve/mrc equals the --json curve" "$PY - '$tmp/r.h5' '$tmp/mrc.json' <<'EOF'
import sys, json, h5py
f = h5py.File(sys.argv[1], 'r')
d = f['runs/curve/mrc']
js = json.load(open(sys.argv[2]))
ok = [int(r['frames']) for r in d] == [p['frames'] for p in js]
ok = ok and [int(r['misses']) for r in d] == [p['misses'] for p in js]
ok = ok and all(int(r['size_bytes']) == 4096 * int(r['frames']) for r in d)
ok = ok and d.attrs['method'] == b'exact' and d.attrs['policy'] == b'lru'
ok = ok and f['summary'][0]['kind'] == b'mrc'
sys.exit(0 if ok else 1)
EOF"
else
	bad "python3-h5py is not installed: cannot read the mrc back"
fi

# bad input
"$bin" mrc --sizes 10,abc "$tmp/t.addr" >/dev/null 2>"$tmp/err"
check "bad --sizes: exit 2 naming the item" '[ $? -eq 2 ] && grep -q "abc" "$tmp/err"'
"$bin" mrc "$tmp/t.addr" >/dev/null 2>"$tmp/err"
check "missing --sizes: exit 2" '[ $? -eq 2 ]'
"$bin" mrc --sample 2 --sizes 10 "$tmp/t.addr" >/dev/null 2>"$tmp/err"
check "--sample out of (0,1]: exit 2" '[ $? -eq 2 ] && grep -q "sample" "$tmp/err"'
"$bin" mrc --policy fifo --sample 0.1 --sizes 10 "$tmp/t.addr" >/dev/null 2>"$tmp/err"
check "--sample with another policy: exit 2" '[ $? -eq 2 ]'
"$bin" mrc --sizes 10 "$tmp/missing.addr" >/dev/null 2>"$tmp/err"
check "missing trace: exit 1, one line" '[ $? -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]'
printf 'R 0x1000\nR zz\n' >"$tmp/bad.addr"
"$bin" mrc --sizes 10 --format addr -o "$tmp/b.h5" "$tmp/bad.addr" >/dev/null 2>"$tmp/err"
check "bad trace: exit 1 naming line 2, no results file" \
	'[ $? -eq 1 ] && grep -q "bad.addr line 2" "$tmp/err" && [ ! -e "$tmp/b.h5" ]'
"$bin" mrc --policy fifo --sizes 10,20 --format addr "$tmp/bad.addr" >/dev/null 2>"$tmp/err"
check "bad trace through the engine runs: exit 1 naming line 2" \
	'[ $? -eq 1 ] && grep -q "bad.addr line 2" "$tmp/err"'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/bin/sh
# Golden counters: every counter of `vmlab run --json` (and every process's
# row) for the cases of tests/golden/run-counters.cases and for each
# hand-written scenario, compared with tests/golden/run-counters.golden.
#
# The golden file was recorded before the 0.3 restructuring (layers,
# personalities as resident-set managers, one walker, one large-page
# machinery), which must change no result; it is a regression net, not an
# independent check (the paper, reference and scenario tests are those).
#   usage: tests/e2e/golden_counters.sh BINDIR [--update]
set -u
bin=$1/vmlab
update=${2:-}
cases=tests/golden/run-counters.cases
golden=tests/golden/run-counters.golden
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Generated traces (vmlab gen is deterministic for a seed).
"$bin" gen zipf n=300000 pages=8192 seed=7 writes=0.3 -o "$tmp/zipf.vmt" >/dev/null &&
"$bin" gen mix n=300000 procs=4 pages=1024 seed=3 -o "$tmp/mix.vmt" >/dev/null &&
"$bin" gen phased n=300000 pages=3000 phases=3 overlap=0.3 seed=7 writes=0.3 \
	-o "$tmp/phased.vmt" >/dev/null || { echo "not ok - vmlab gen failed"; echo "0 passed, 1 failed"; exit 1; }
# A linux-style process: 12 MiB committed and advised hugepage, accessed in
# phases, then a protection change and a decommit over part of it (splits),
# a second process without events, and a third advised only after its
# pages are mapped (khugepaged collapses them).
{
	echo "V COMMIT 0x10000000 0xc00000 readwrite 1"
	echo "V ADVISE 0x10000000 0xc00000 hugepage 1"
	"$bin" gen phased n=150000 pages=3000 phases=3 overlap=0.3 seed=9 writes=0.4 -o - --addr | grep -v '^#'
	echo "V PROTECT 0x10100000 0x10000 readonly 1"
	echo "V DECOMMIT 0x10400000 0x80000 1"
	"$bin" gen phased n=100000 pages=3000 phases=2 overlap=0.5 seed=11 writes=0.2 -o - --addr | grep -v '^#' | grep -v '^W 0x1010'
	"$bin" gen zipf n=50000 pages=1024 seed=5 pid=2 base=0x20000000 -o - --addr | grep -v '^#'
	# process 3 touches 4 KiB pages first, is advised later (khugepaged's work)
	echo "V COMMIT 0x30000000 0x800000 readwrite 3"
	"$bin" gen zipf n=20000 pages=2048 seed=13 pid=3 base=0x30000000 -o - --addr | grep -v '^#'
	echo "V ADVISE 0x30000000 0x800000 hugepage 3"
	"$bin" gen zipf n=60000 pages=2048 seed=17 pid=3 base=0x30000000 -o - --addr | grep -v '^#'
} >"$tmp/thp.addr"

# name|trace|options, one a line
{
	grep -v '^#' "$cases" | grep . | sed 's/ *| */|/g'
	# the scenarios of the golden file (newer ones are checked by their own
	# hand-derived expect lines in tests/e2e/scenarios.sh)
	for f in tests/scenarios/*.addr; do
		n=scenario-$(basename "$f" .addr)
		grep -q "^$n " "$golden" || [ "$update" = "--update" ] || continue
		printf '%s|%s|%s\n' "$n" "$f" "$(sed -n 's/^# args: //p' "$f" | head -n 1)"
	done
} >"$tmp/list"

: >"$tmp/got"
while IFS='|' read -r name trace opts; do
	case $trace in
	gen:*) trace=$tmp/${trace#gen:}.vmt; [ -f "$trace" ] || trace=${trace%.vmt}.addr ;;
	esac
	# shellcheck disable=SC2086
	if ! "$bin" run --json $opts "$trace" >"$tmp/out" 2>"$tmp/err" </dev/null; then
		echo "$name error $(head -c 300 "$tmp/err")" >>"$tmp/got"
		continue
	fi
	python3 - "$name" "$tmp/out" >>"$tmp/got" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
parts = ["%s=%d" % kv for kv in d["counters"].items()]
for p in d.get("processes", []):
    parts += ["p%d.%s=%d" % (p["pid"], k, v) for k, v in p.items() if k != "pid"]
print(name, " ".join(parts))
PY
done <"$tmp/list"

if [ "$update" = "--update" ]; then
	cp "$tmp/got" "$golden"
	echo "updated $golden: $(wc -l <"$golden") cases"
	exit 0
fi

pass=0
fail=0
while read -r name rest; do
	want=$(grep "^$name " "$golden" | head -n 1)
	if [ -z "$want" ]; then
		echo "not ok - $name: no golden line (run with --update after checking why)"
		fail=$((fail + 1))
	elif [ "$want" = "$name $rest" ]; then
		echo "ok - $name"
		pass=$((pass + 1))
	else
		echo "not ok - $name: counters differ from the golden file:"
		printf '%s\n' $want | sort >"$tmp/w"
		printf '%s\n' $name $rest | sort >"$tmp/g"
		diff "$tmp/w" "$tmp/g" | sed -n 's/^[<>]/  &/p' | head -n 20
		fail=$((fail + 1))
	fi
done <"$tmp/got"
n_golden=$(wc -l <"$golden")
n_got=$(wc -l <"$tmp/got")
if [ "$n_golden" -ne "$n_got" ]; then
	echo "not ok - the golden file has $n_golden cases, this run $n_got"
	fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/bin/sh
# vmlab validate --programs: eight unmodified Debian programs, each
# captured once (qemu back end, every process) and replayed under --os
# linux, against Linux's own counts (perf software events from exec to
# exit, children included; median of 3 runs), warm and cold.
#
#  1. every program of the list that is installed gives its three rows
#     (page_faults, minor_faults, major_faults), warm and cold, with both
#     sides present; at least 8 programs run;
#  2. the measured side is what `perf stat` counts for the same command in
#     the same directory (an independent reading of the kernel's counters:
#     sort's warm page faults within 5 %, the spread of native runs);
#  3. the bounds of the issue (total within 2 %, minor and major within
#     5 %) hold for every row.  The cold major faults (4 to 21 faults, so
#     5 % is exact) depend on what other processes read back into the
#     page cache between the drop and the faults: validate runs a cold run
#     again while the machine started other programs during it
#     (`disturbed` counts those it had to keep), and the model starts
#     from the residency the median run started from, but processes
#     already running can still fault pages in (docs/validation.md,
#     "Unmodified programs").  So when only cold major rows miss, those
#     programs are measured once more (`--only`) and their rows must then
#     be within the bounds; any other miss fails at once.  `ls -lR`'s cold
#     total is held to the issue's 2 % like the rest since the model keeps
#     Linux's read-ahead marks
#     (fault-around leaves a PG_readahead page to a fault of its own: 118
#     against Linux's 118-119; it had 4 % while the model gave 116).
#     Short programs get more native runs (ls: 25), so the ASLR draw's
#     spread needs no looser bound (it had 6 %);
#  4. -- PROGRAM without roi.h takes the whole-program path, and a program
#     that does not exist is a one-line error with exit status 1.
bindir=$1
. "$(dirname "$0")/../e2e-lib.sh"
bin=$(cd "$bindir" && pwd)/vmlab
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! command -v qemu-x86_64 >/dev/null; then
	check "qemu-x86_64 is installed (make deps installs qemu-user)" false
	finish
	exit 1
fi

if [ "$san" = 1 ]; then
	# Under the sanitizers the replays run several times slower: one
	# program, warm and cold, checks the whole path for memory errors; the
	# bounds are checked by the release build's run of the whole list.
	echo "# sanitizer build: validate -- sort only (warm and cold); bounds not checked"
	mkdir -p "$tmp/k/sort"
	awk 'BEGIN { srand(7); for (i = 0; i < 20000; i++) printf "%08d line %d\n", int(rand() * 1e8), i }' \
		>"$tmp/k/sort/in.txt"
	(cd "$tmp/k/sort" && "$bin" validate -r 1 --json -- sort in.txt -o out.txt) >"$tmp/s.json" 2>"$tmp/s.err"
	rc=$?
	check "sanitizer build: validate -- sort ran (exit 0 or 1), no sanitizer report" \
		'[ $rc -le 1 ] && ! grep -q "Sanitizer" "$tmp/s.err"'
	check "sanitizer build: warm and cold page-fault rows, measured and simulated" \
		"python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); w = {x[\"workload\"] for x in r if x[\"event\"] == \"page_faults\" and x[\"measured\"] is not None and x[\"simulated\"] is not None}; sys.exit(not {\"sort\", \"sort/cold\"} <= w)' '$tmp/s.json'"
else
# (the release build: the whole list, against the bounds)
"$bin" validate --programs -r 3 --json --keep "$tmp/k" >"$tmp/v.json" 2>"$tmp/v.err"
rc=$?
check "validate --programs ran (exit 0 or 1: rows outside a bound)" '[ $rc -le 1 ]'
cat >"$tmp/chk.py" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
tot = [r for r in rows if "/" not in r["workload"].replace("/cold", "")]
progs = sorted({r["workload"].replace("/cold", "") for r in tot})
print("programs", len(progs), " ".join(progs))
complete = all(r["measured"] is not None and r["simulated"] is not None for r in tot)
print("complete", complete and len(tot) == 6 * len(progs))
bad, again = [], []
for r in tot:
    m, s, ev = r["measured"], r["simulated"], r["event"]
    if m is None or s is None:
        bad.append("%s %s missing: %s" % (r["workload"], ev, r["why"]))
        continue
    err = (s - m) / max(m, 1)
    if (r["workload"], ev) == ("ls/cold", "page_faults"):
        print("ls/cold total: Linux %d, model %d (%+.2f%%)" % (m, s, 100 * err))
    cold_major = ev == "major_faults" and r["workload"].endswith("/cold")
    if cold_major:
        print("cold majors %s: Linux %d, model %d; %d of %d runs disturbed" %
              (r["workload"], m, s, r["disturbed"], r["runs"]))
    ok = abs(err) <= (0.02 if ev == "page_faults" else 0.05) + 1e-12
    if not ok:
        bad.append("%s %s measured %d simulated %d (%+.2f%%)" % (r["workload"], ev, m, s, 100 * err))
        if cold_major:
            again.append(r["workload"].replace("/cold", ""))
    if r["workload"] == "ls" and ev == "page_faults":
        print("lsruns", r["runs"])
print("bad", len(bad))
for b in bad:
    print("  ", b)
# only cold major rows missed: those programs are measured again (the
# faults depend on what other processes read back into the page cache
# during the run); any other miss fails at once
print("again", ",".join(again) if len(again) == len(bad) else "")
sort = [r for r in tot if r["workload"] == "sort" and r["event"] == "page_faults"]
print("sortpf", sort[0]["measured"] if sort else -1)
PY
python3 "$tmp/chk.py" "$tmp/v.json" >"$tmp/chk"
cat "$tmp/chk"
check "at least 8 programs ran" '[ "$(sed -n "s/^programs \([0-9]*\).*/\1/p" "$tmp/chk")" -ge 8 ]'
check "every program: 3 rows warm and 3 cold, measured and simulated" 'grep -q "^complete True" "$tmp/chk"'
again=$(sed -n 's/^again //p' "$tmp/chk")
if grep -q "^bad 0" "$tmp/chk"; then
	check "every row within the issue's bounds (total 2 %, minor and major 5 %)" true
elif [ -n "$again" ]; then
	# a second measurement of the programs whose cold major faults missed
	"$bin" validate --programs --only "$again" -r 3 --json >"$tmp/v2.json" 2>"$tmp/v2.err"
	python3 "$tmp/chk.py" "$tmp/v2.json" >"$tmp/chk2"
	echo "# measured again: $again"
	cat "$tmp/chk2"
	check "every row within the issue's bounds (total 2 %, minor and major 5 %; cold major faults of $again within them when measured again)" \
		'grep -q "^bad 0" "$tmp/chk2"'
else
	check "every row within the issue's bounds (total 2 %, minor and major 5 %)" false
fi
check "ls, a short program, ran at least 10 times natively" '[ "$(sed -n "s/^lsruns //p" "$tmp/chk")" -ge 10 ]'

# the measured side against perf stat, same command, same directory
if command -v perf >/dev/null && [ -d "$tmp/k/sort" ]; then
	got=$(sed -n 's/^sortpf //p' "$tmp/chk")
	ps=$(cd "$tmp/k/sort" && for i in 1 2 3; do perf stat -x, -e page-faults sort in.txt -o out.txt 2>&1 >/dev/null | cut -d, -f1; done | sort -n | sed -n 2p)
	check "sort's measured page faults ($got) are perf stat's ($ps) within 5%" \
		"python3 -c 'import sys; a, b = int(sys.argv[1]), int(sys.argv[2]); sys.exit(abs(a - b) > 0.05 * b)' '$got' '$ps'"
fi
fi

# the whole-program path for one program given on the command line
(cd "$tmp/k/sort" && "$bin" validate -r 1 --warm-only -- sort in.txt -o out.txt) >"$tmp/one" 2>&1
check "-- sort (no roi.h) gives whole-program rows" 'grep -q "^sort  *page_faults  *[0-9]" "$tmp/one"'
"$bin" validate -- /nonexistent/prog >"$tmp/ne" 2>&1
rc=$?
check "-- a program that does not exist: exit 1, one line naming it" \
	'[ $rc = 1 ] && grep -q "/nonexistent/prog: no such program" "$tmp/ne" && [ "$(wc -l <"$tmp/ne")" = 1 ]'

# --only: the programs named and nothing else (their total and per-process
# rows), warm only; a name not in the list is a usage error (exit 2)
"$bin" validate --programs --only ls,gzip --warm-only -r 1 --json >"$tmp/only.json" 2>"$tmp/only.err"
rc=$?
python3 - "$tmp/only.json" >"$tmp/only.chk" 2>&1 <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
names = {r["workload"].split("/")[0] for r in rows}
cold = [r["workload"] for r in rows if "/cold" in r["workload"]]
print("ok" if names == {"ls", "gzip"} and not cold else "bad: %s %s" % (sorted(names), cold))
PY
check "--programs --only ls,gzip --warm-only: exit 0 or 1, rows of ls and gzip only, none cold" \
	"[ $rc -le 1 ] && grep -q '^ok' '$tmp/only.chk'" || cat "$tmp/only.chk" "$tmp/only.err"
"$bin" validate --programs --only no-such-program >"$tmp/only2" 2>&1
rc=$?
check "--programs --only NAME-not-listed: exit 2, one line" \
	'[ $rc = 2 ] && grep -q "no such program" "$tmp/only2" && [ "$(wc -l <"$tmp/only2")" = 1 ]'
finish

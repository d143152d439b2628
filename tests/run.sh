#!/bin/sh
# Run test programs and end-to-end scripts; print every program's output and
# one closing line "N passed, N failed" counting individual test cases.
#   usage: tests/run.sh BINDIR PROGRAM...
# cmocka programs report "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)";
# e2e scripts (*.sh) get BINDIR as $1 and end with their own
# "N passed, N failed" line.  A program that dies without a summary counts
# as one failure.  A program that prints a line starting with SKIP (it
# could not run its cases here: no root, no cgroup, ...) is counted as
# skipped and named, never as passed; the closing line then ends with
# ", N skipped".
set -u
bindir=$1
shift
pass=0
fail=0
skip=0
failed_progs=""
skipped_progs=""
log=$(mktemp)
times=$(mktemp)
for t in "$@"; do
	echo "== $t"
	t0=$(date +%s)
	case $t in
	*.sh) sh "$t" "$bindir" >"$log" 2>&1 ;;
	*) "$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	cat "$log"
	dt=$(($(date +%s) - t0))
	echo "-- $t: $dt s"
	echo "$dt $t" >>"$times"
	p=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	if [ -z "$p$f" ]; then
		p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$log" | tail -n 1)
		f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$log" | tail -n 1)
	fi
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # died or failed without saying how many
	fi
	if grep -q '^SKIP' "$log"; then
		skip=$((skip + 1))
		skipped_progs="$skipped_progs $t"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	[ "$rc" -ne 0 ] && failed_progs="$failed_progs $t"
done
rm -f "$log"
echo
echo "slowest (seconds):"
sort -rn "$times" | head -n 8 | sed 's/^/  /'
rm -f "$times"
[ -n "$failed_progs" ] && echo "failing programs:$failed_progs"
[ -n "$skipped_progs" ] && echo "skipped programs (they say why above):$skipped_progs"
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ] && [ -z "$failed_progs" ]

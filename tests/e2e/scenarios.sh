#!/bin/sh
# Hand-written scenario traces with exact expected counters.
# Each tests/scenarios/*.addr holds, in comment lines:
#   # args: OPTIONS FOR vmlab run        (one line)
#   # expect: name=value name=value ...  (one or more lines)
# and the reasoning that gives each value.  The trace is replayed with
# --json --check (the invariant checker after every batch) and every named
# counter must equal its expected value; counters not named are not checked.
set -u
bin=$1/vmlab
pass=0
fail=0
for f in tests/scenarios/*.addr; do
	args=$(sed -n 's/^# args: //p' "$f" | head -n 1)
	expect=$(sed -n 's/^# expect: //p' "$f" | tr '\n' ' ')
	# shellcheck disable=SC2086
	out=$("$bin" run --json --check $args "$f" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "not ok - $f: vmlab exited $rc: $out"
		fail=$((fail + 1))
		continue
	fi
	counters=$(printf '%s' "$out" | sed -n 's/.*"counters":{\([^}]*\)}.*/\1/p')
	for kv in $expect; do
		name=${kv%%=*}
		want=${kv#*=}
		got=$(printf '%s' ",$counters," | sed -n "s/.*,\"$name\":\([0-9]*\),.*/\1/p")
		if [ "$got" = "$want" ]; then
			echo "ok - $(basename "$f"): $name = $want"
			pass=$((pass + 1))
		else
			echo "not ok - $(basename "$f"): $name = ${got:-missing}, expected $want"
			fail=$((fail + 1))
		fi
	done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

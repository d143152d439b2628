#!/bin/sh
# Every configuration key the program declares is documented in
# docs/config.md, and every key documented there exists.
set -u
bin=$1/vmlab
pass=0
fail=0
check() { if eval "$2"; then echo "ok - $1"; pass=$((pass + 1)); else echo "not ok - $1"; fail=$((fail + 1)); fi; }
keys=$("$bin" config -v | awk '{print $1}' | grep -v '\*')
check "vmlab config -v lists keys" '[ -n "$keys" ]'
for k in $keys; do
	check "docs/config.md documents $k" "grep -q '\`$k\`' docs/config.md"
done
for k in $(grep -o '^| `[a-z0-9_.]*`' docs/config.md | tr -d '|` '); do
	check "documented key $k exists" "echo \"\$keys\" | grep -qx '$k'"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/bin/sh
# Every configuration key the program declares is documented, and every
# key documented exists: engine keys in docs/config.md, policy parameters
# (replacement.NAME.KEY) in docs/policies.md.
set -u
bin=$1/vmlab
pass=0
fail=0
check() { if eval "$2"; then echo "ok - $1"; pass=$((pass + 1)); else echo "not ok - $1"; fail=$((fail + 1)); fi; }
keys=$("$bin" config -v | awk '{print $1}' | grep -v '\*')
check "vmlab config -v lists keys" '[ -n "$keys" ]'
for k in $keys; do
	case $k in
	replacement.*.*) doc=docs/policies.md ;;
	*) doc=docs/config.md ;;
	esac
	check "$doc documents $k" "grep -q '\`$k\`' $doc"
done
# wildcard keys (tlb.*.entries) are documented with NAME for the '*'
for k in $("$bin" config -v | awk '{print $1}' | grep '\*' | sed 's/\*/NAME/g'); do
	check "docs/config.md documents $k" "grep -q '\`$k\`' docs/config.md"
done
for k in $(grep -ho '^| `[a-z0-9_-]*\.[a-z0-9_.-]*`' docs/config.md docs/policies.md | tr -d '|` '); do
	check "documented key $k exists" "echo \"\$keys\" | grep -qx '$k'"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

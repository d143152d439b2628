#!/bin/sh
# The TLB side of the command line: machine presets, [tlb.NAME] files,
# counters in --json, bad TLB settings.
set -u
bin=$1/vmlab
trace=traces/samples/gzip-lackey.trace.gz
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then echo "ok - $1"; pass=$((pass + 1)); else echo "not ok - $1"; fail=$((fail + 1)); fi; }

"$bin" run --machine intel-skylake --json "$trace" >"$tmp/sky.json" 2>"$tmp/err"
check "--machine intel-skylake runs" '[ $? -eq 0 ]'
for c in tlb_l1d_misses tlb_l1i_misses tlb_stlb_misses tlb_stlb_hits walks walk_refs psc_hits \
	dirty_updates tlb_flushes large_pages_mapped large_page_splits large_page_fallbacks est_cycles; do
	check "--json has $c" "grep -q '\"$c\":[0-9]' '$tmp/sky.json'"
done
check "--json records the TLB sections" "grep -q '\"tlb.stlb.entries\":\"1536\"' '$tmp/sky.json'"
check "--json records the machine" "grep -q '\"machine.name\":\"intel-skylake\"' '$tmp/sky.json'"

"$bin" run "$trace" >"$tmp/default.txt"
check "the default machine is generic (its l1d counters)" "grep -q '^  tlb_l1d_hits' '$tmp/default.txt'"

"$bin" run --machine pentium "$trace" >/dev/null 2>"$tmp/err"
check "unknown --machine exits 2" '[ $? -eq 2 ]'
check "unknown --machine lists the presets" "grep -q 'amd-zen3' '$tmp/err'"

printf '[tlb.mine]\nlevel = 1\nentries = 8\nways = 2\n' >"$tmp/mine.ini"
"$bin" run --machine amd-zen3 -c "$tmp/mine.ini" --json "$trace" >"$tmp/mine.json"
check "-c with [tlb.mine] adds its counters" "grep -q '\"tlb_mine_misses\"' '$tmp/mine.json'"
check "-c with [tlb.mine] replaces the machine's TLBs" "! grep -q '\"tlb_l2d_hits\"' '$tmp/mine.json'"

"$bin" run -s tlb.l1d.page_sizes=4k,5m "$trace" >/dev/null 2>"$tmp/err"
check "bad page_sizes exits 2" '[ $? -eq 2 ]'
check "bad page_sizes names the key" "grep -q 'tlb.l1d.page_sizes' '$tmp/err'"
"$bin" run -s tlb.l1d.kind=both "$trace" >/dev/null 2>"$tmp/err"
check "bad kind exits 2" '[ $? -eq 2 ]'

"$bin" config --machine amd-zen3 >"$tmp/cfg.ini"
check "vmlab config --machine prints the preset's TLBs" "grep -q '^\\[tlb.l2d\\]' '$tmp/cfg.ini'"

# fault counts do not depend on the TLBs (invalidation keeps A/D meaningful)
for p in fifo lru clock random; do
	a=$("$bin" run --machine none -s memory.frames=64 -s replacement.policy=$p --json "$trace" |
		grep -o '"faults":[0-9]*\|"writebacks":[0-9]*' | tr '\n' ' ')
	b=$("$bin" run --machine intel-goldencove -s memory.frames=64 -s replacement.policy=$p --check --json "$trace" |
		grep -o '"faults":[0-9]*\|"writebacks":[0-9]*' | tr '\n' ' ')
	check "$p: same faults and write-backs with and without TLBs ($a)" '[ -n "$a" ] && [ "$a" = "$b" ]'
done

"$bin" run -s largepage.policy=always -s memory.size=64M --check --json "$trace" >"$tmp/lp.json"
check "largepage.policy=always maps large pages" "grep -q '\"large_pages_mapped\":[1-9]' '$tmp/lp.json'"
"$bin" run -s largepage.policy=gigantic "$trace" >/dev/null 2>"$tmp/err"
check "unknown largepage.policy exits non-zero naming the policies" "grep -q 'reservation' '$tmp/err'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

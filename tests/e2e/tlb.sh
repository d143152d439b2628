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

# plug-ins: a TLB policy and a large-page policy from one shared object
root=$(cd "$(dirname "$0")/../.." && pwd)
cat >"$tmp/way0.c" <<'EOF'
#include "vmlab/policy.h"
/* replace way 0 always (a deliberately bad policy: only way 0 turns over) */
static int w_init(struct vl_tlb_repl *t, struct vl_error *err) { (void)t; (void)err; return 0; }
static void w_insert(struct vl_tlb_repl *t, uint32_t s, uint32_t w) { (void)t; (void)s; (void)w; }
static uint32_t w_victim(struct vl_tlb_repl *t, uint32_t s) { (void)t; (void)s; return 0; }
static const struct vl_tlb_repl_ops way0 = { .api_version = VL_POLICY_API_VERSION, .name = "way0",
	.help = "always way 0", .init = w_init, .insert = w_insert, .victim = w_victim };
static unsigned big(struct vl_lp *lp, const struct vl_lp_fault *f) { (void)lp; (void)f; return VL_LP_2M; }
static const struct vl_lp_ops allbig = { .api_version = VL_POLICY_API_VERSION, .name = "allbig",
	.help = "2 MiB everywhere", .fault_size = big };
static const struct vl_tlb_repl_ops *const tlbs[] = { &way0, NULL };
static const struct vl_lp_ops *const lps[] = { &allbig, NULL };
const struct vl_plugin vl_plugin = { .api_version = VL_POLICY_API_VERSION, .name = "tlb test",
	.tlb = tlbs, .lp = lps };
EOF
${CC:-cc} -shared -fPIC -I"$root/include" -o "$tmp/way0.so" "$tmp/way0.c" 2>"$tmp/cc.err"
check "a TLB/large-page plug-in builds" '[ -f "$tmp/way0.so" ]' || cat "$tmp/cc.err"
"$bin" policies --plugin "$tmp/way0.so" >"$tmp/pol.txt" 2>&1
check "vmlab policies lists the plug-in's TLB and large-page policies" \
	'grep -q "^  way0 " "$tmp/pol.txt" && grep -q "^  allbig " "$tmp/pol.txt"'
m_lru=$("$bin" run --json -s tlb.l1d.replacement=lru "$trace" | grep -o '"tlb_l1d_misses":[0-9]*')
m_w0=$("$bin" run --plugin "$tmp/way0.so" --json --check -s tlb.l1d.replacement=way0 "$trace" |
	grep -o '"tlb_l1d_misses":[0-9]*')
check "tlb.l1d.replacement=way0 runs from the plug-in ($m_w0 vs lru $m_lru)" \
	'[ -n "$m_w0" ] && [ -n "$m_lru" ] && [ "${m_w0#*:}" -gt "${m_lru#*:}" ]'
"$bin" run --plugin "$tmp/way0.so" --json --check -s largepage.policy=allbig -s memory.size=64M \
	"$trace" >"$tmp/big.json"
check "largepage.policy=allbig from the plug-in maps large pages" \
	"grep -q '\"large_pages_mapped\":[1-9]' '$tmp/big.json'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

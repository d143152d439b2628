#!/bin/sh
# The plug-in SDK as a policy author uses it: install vmlab's headers to a
# temporary prefix, build policies/examples/mru out of tree against them,
# run it through `vmlab run --plugin`, and check that a plug-in built for
# another API version (or exporting no descriptor, or missing) is refused
# with one line and exit status 2.
#   usage: sh tests/e2e/plugin.sh BINDIR
bindir=$1
. "$(dirname "$0")/../e2e-lib.sh"
bin=$bindir/vmlab

# 1. make install to a temporary prefix (the variant BINDIR was built as)
install_to "$tmp/prefix" "$tmp/install.log"
check "make install PREFIX=tmp installs the policy header" '[ -f "$tmp/prefix/include/vmlab/policy.h" ]'

# 2. build the example out of tree against the installed headers only
cp -r "$root/policies/examples/mru" "$tmp/src"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$tmp/src" VMLAB_PREFIX="$tmp/prefix" \
	>"$tmp/build.log" 2>&1
check "the example builds out of tree" '[ -f "$tmp/src/mru.so" ]' || cat "$tmp/build.log"

# 3. run it on a hand-made trace: pages 1 2 3 4 three times, 3 frames.
# MRU by hand: 1 2 3 fault; 4 evicts 3 (most recent); 1 2 hit; 3 evicts 2;
# 4 1 hit; 2 evicts 1; 3 4 hit: 6 faults.  depth 1 (evict the second most
# recent): 4 evicts 2; 1 hit; 2 evicts 4; 3 hit; 4 evicts 2; 1 hit; 2
# evicts 4; 3 hit; 4 evicts 2: 8 faults.  LRU faults on all 12.
# The awk below is a second, independent MRU simulator.
for r in 1 2 3; do printf 'R 0x1000\nR 0x2000\nR 0x3000\nR 0x4000\n'; done >"$tmp/loop.addr"
mru_awk() {
	awk -v frames="$1" -v depth="$2" '{
		p = $2; hit = 0
		for (i = 1; i <= n; i++) if (l[i] == p) { hit = i; break }
		if (hit) { for (i = hit; i > 1; i--) l[i] = l[i - 1]; l[1] = p; next }
		faults++
		if (n == frames) { v = depth + 1; if (v > n) v = n; for (i = v; i < n; i++) l[i] = l[i + 1]; n-- }
		for (i = n + 1; i > 1; i--) l[i] = l[i - 1]; l[1] = p; n++
	} END { print faults + 0 }' "$3"
}
faults() { "$bin" run --plugin "$tmp/src/mru.so" --json --check -s memory.frames=3 "$@" "$tmp/loop.addr" |
	sed -n 's/.*"faults": *\([0-9]*\).*/\1/p'; }
check "independent MRU simulator gives 6 (depth 0)" '[ "$(mru_awk 3 0 "$tmp/loop.addr")" = 6 ]'
check "independent MRU simulator gives 8 (depth 1)" '[ "$(mru_awk 3 1 "$tmp/loop.addr")" = 8 ]'
check "vmlab run --plugin mru.so: 6 faults" '[ "$(faults -s replacement.policy=mru)" = 6 ]'
check "replacement.mru.depth=1: 8 faults" \
	'[ "$(faults -s replacement.policy=mru -s replacement.mru.depth=1)" = 8 ]'
check "the built-in lru on the same run: 12 faults" '[ "$(faults -s replacement.policy=lru)" = 12 ]'
"$bin" policies --plugin "$tmp/src/mru.so" -v >"$tmp/pol.out" 2>&1
check "vmlab policies --plugin lists mru" 'grep -q "^  mru " "$tmp/pol.out"'
check "vmlab policies -v lists its parameter" 'grep -q "replacement.mru.depth = 0" "$tmp/pol.out"'
"$bin" config --plugin "$tmp/src/mru.so" -v >"$tmp/cfg.out" 2>&1
check "vmlab config -v declares replacement.mru.depth" 'grep -q "^replacement.mru.depth " "$tmp/cfg.out"'
"$bin" run -s replacement.policy=mru "$tmp/loop.addr" >/dev/null 2>"$tmp/noplug.err"
check "without --plugin, mru is unknown (exit 2)" '[ $? -eq 2 ] && grep -q "unknown policy" "$tmp/noplug.err"'

# 4. refusals: another API version, no descriptor, no file
cat >"$tmp/bad.c" <<'C'
#include <vmlab/policy.h>
static int init(struct vl_repl *r, struct vl_error *e) { (void)r; (void)e; return 0; }
static void on_map(struct vl_repl *r, uint32_t f, const struct vl_access *a) { (void)r; (void)f; (void)a; }
static void on_unmap(struct vl_repl *r, uint32_t f) { (void)r; (void)f; }
static size_t victims(struct vl_repl *r, const struct vl_evict_ctx *c, uint32_t *o, size_t w)
{ (void)r; (void)c; (void)o; (void)w; return 0; }
static const struct vl_repl_ops ops = { .api_version = VL_POLICY_API_VERSION + 1, .name = "future",
	.init = init, .on_map = on_map, .on_unmap = on_unmap, .select_victims = victims };
static const struct vl_repl_ops *const list[] = { &ops, NULL };
const struct vl_plugin vl_plugin = { .api_version = VL_POLICY_API_VERSION + 1, .name = "future",
	.repl = list };
C
printf 'int vl_not_a_plugin = 1;\n' >"$tmp/empty.c"
cc -std=c11 -fPIC -shared -I"$tmp/prefix/include" -o "$tmp/bad.so" "$tmp/bad.c" &&
	cc -std=c11 -fPIC -shared -o "$tmp/empty.so" "$tmp/empty.c"
check "mismatched and empty plug-ins build" '[ -f "$tmp/bad.so" ] && [ -f "$tmp/empty.so" ]'
"$bin" run --plugin "$tmp/bad.so" -s replacement.policy=future "$tmp/loop.addr" >"$tmp/o" 2>"$tmp/e"
rc=$?
v=$(sed -n 's/^#define VL_POLICY_API_VERSION \([0-9]*\).*/\1/p' "$tmp/prefix/include/vmlab/policy.h")
check "another API version: exit 2" '[ $rc -eq 2 ]'
check "another API version: one line naming both versions" \
	'[ $(wc -l <"$tmp/e") -eq 1 ] && grep -q "bad.so (future) was built for policy API version $((v + 1)); this vmlab has $v" "$tmp/e"'
check "another API version: no results printed" '[ ! -s "$tmp/o" ]'
# a plug-in built for the oldest version still accepted (VL_POLICY_API_MIN:
# it never calls the services added since) loads and runs
sed 's/VL_POLICY_API_VERSION + 1/VL_POLICY_API_MIN/g; s/"future"/"older"/g' "$tmp/bad.c" >"$tmp/older.c"
cc -std=c11 -fPIC -shared -I"$tmp/prefix/include" -o "$tmp/older.so" "$tmp/older.c"
"$bin" policies --plugin "$tmp/older.so" >"$tmp/o" 2>"$tmp/e"
check "a plug-in of API VL_POLICY_API_MIN loads" '[ $? -eq 0 ] && grep -q "^  older " "$tmp/o" && [ ! -s "$tmp/e" ]'
"$bin" policies --plugin "$tmp/empty.so" >/dev/null 2>"$tmp/e"
rc=$?
check "no vl_plugin symbol: exit 2, one line" '[ $rc -eq 2 ] && [ $(wc -l <"$tmp/e") -eq 1 ] && grep -q "exports no .vl_plugin." "$tmp/e"'
"$bin" run --plugin "$tmp/nonexistent.so" "$tmp/loop.addr" >/dev/null 2>"$tmp/e"
rc=$?
check "missing file: exit 2, one line naming it" '[ $rc -eq 2 ] && [ $(wc -l <"$tmp/e") -eq 1 ] && grep -q "nonexistent.so: cannot load" "$tmp/e"'

# 5. a bare file name in the working directory loads ./NAME (dlopen alone
# would search the library path and say "No such file or directory")
abin=$(cd "$bindir" && pwd)/vmlab # for commands run in another directory
cp "$tmp/src/mru.so" "$tmp/in.txt"
(cd "$tmp" && "$abin" run --plugin in.txt --json -s memory.frames=3 -s replacement.policy=mru \
	loop.addr) >"$tmp/o" 2>"$tmp/e"
check "--plugin in.txt (a file in the cwd) loads ./in.txt: 6 faults" \
	'grep -q "\"faults\": *6," "$tmp/o" && [ ! -s "$tmp/e" ]' || cat "$tmp/e"

# 6. plug-ins in sweeps: the plug-in's policy and its key varied like
# built-ins; the expected faults are the hand-derived ones of step 3 (lru
# 12, mru 6, mru depth 1: 8), per cell
mkdir -p "$tmp/exp"
cp "$tmp/loop.addr" "$tmp/exp/loop.addr"
cp "$tmp/src/mru.so" "$tmp/exp/mru.so"
cat >"$tmp/exp/plug.ini" <<'EOF'
[experiment]
name = plug
traces = loop.addr
os = textbook
plugins = mru.so
[set]
memory.frames = 3
[vary]
replacement.policy = lru, mru
replacement.mru.depth = 0, 1
EOF
"$bin" sweep "$tmp/exp/plug.ini" -o "$tmp/sw" -j 2 >/dev/null 2>"$tmp/e"
check "a sweep with plugins = mru.so varies mru like a built-in (exit 0, 4 cells)" \
	'[ $? -eq 0 ] && grep -q "all.h5: 4 of 4 cells" "$tmp/e"' || cat "$tmp/e"
"$bin" report --csv "$tmp/sw/all.h5" >"$tmp/sw.csv" 2>&1
faults_of() { awk -F, -v run="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "faults") c = i }
	$1 == run { print $c }' "$tmp/sw.csv"; }
check "sweep cells: lru 12, lru 12, mru 6, mru depth 1 8 faults" \
	'[ "$(faults_of cell-0000)" = 12 ] && [ "$(faults_of cell-0001)" = 12 ] &&
	 [ "$(faults_of cell-0002)" = 6 ] && [ "$(faults_of cell-0003)" = 8 ]' || cat "$tmp/sw.csv"
grep -q "^plugin	[0-9a-f]*	$tmp/exp/mru.so\$" "$tmp/sw/plan"
check "the plan records the plug-in (hash and absolute path)" '[ $? -eq 0 ]'
# --plugin on the command line instead of the key, from another directory
sed '/^plugins/d' "$tmp/exp/plug.ini" >"$tmp/exp/plain.ini"
"$bin" sweep "$tmp/exp/plain.ini" -o "$tmp/sw2" -j 1 >/dev/null 2>"$tmp/e"
check "without the plug-in, mru is an unknown policy naming the line" \
	'[ $? -ne 0 ] && grep -q "plain.ini line .*mru" "$tmp/e"' || cat "$tmp/e"
(cd "$tmp/exp" && "$abin" sweep plain.ini -o "$tmp/sw2" -j 1 --plugin mru.so) >/dev/null 2>"$tmp/e"
check "sweep --plugin mru.so gives the same 4 cells" '[ $? -eq 0 ] && grep -q "4 of 4 cells" "$tmp/e"'
# what a Slurm array task runs: the script's command line carries the
# plug-in, and --cell/--collect without --plugin load it from the plan
"$bin" sweep "$tmp/exp/plug.ini" -o "$tmp/sl" --slurm --no-submit >/dev/null 2>&1
check "the Slurm task and collect lines carry --plugin" \
	'grep -q -- "--plugin .$tmp/exp/mru.so. --cell" "$tmp/sl/slurm/sweep.sbatch" &&
	 grep -q -- "--collect .* --plugin .$tmp/exp/mru.so." "$tmp/sl/slurm/collect.sbatch"'
rc=0
for i in 0 1 2 3; do "$bin" sweep -o "$tmp/sl" --cell $i 2>>"$tmp/e" || rc=1; done
"$bin" sweep --collect "$tmp/sl" >/dev/null 2>"$tmp/e2"
check "--cell (plug-in from the plan) and --collect give all 4 cells" \
	'[ $rc -eq 0 ] && grep -q "all.h5: 4 of 4 cells" "$tmp/e2"'
# a rebuilt plug-in is another input: the plan refuses to run with it
printf 'x' >>"$tmp/exp/mru.so"
"$bin" sweep -o "$tmp/sl" --cell 0 >/dev/null 2>"$tmp/e"
check "a plug-in changed since the plan: --cell refuses, naming it" \
	'[ $? -ne 0 ] && grep -q "plug-in $tmp/exp/mru.so changed since the plan" "$tmp/e"' || cat "$tmp/e"

# 7. mrc and validate take --plugin too: mrc's engine runs of the
# plug-in's policy give step 3's hand-derived faults (3 frames: 6)
"$bin" mrc --plugin "$tmp/src/mru.so" --policy mru --sizes 3,4 --json "$tmp/loop.addr" >"$tmp/o" 2>"$tmp/e"
check "mrc --plugin mru.so --policy mru: 6 misses at 3 frames, 4 (cold only) at 4" \
	'grep -q "\"frames\": *3, *\"misses\": *6," "$tmp/o" && grep -q "\"frames\": *4, *\"misses\": *4," "$tmp/o"' ||
	cat "$tmp/o" "$tmp/e"
"$bin" mrc --policy mru --sizes 3 "$tmp/loop.addr" >/dev/null 2>"$tmp/e"
check "mrc --policy mru without the plug-in: exit 2, saying --plugin is needed" \
	'[ $? -eq 2 ] && grep -q "needs --plugin" "$tmp/e"'
"$bin" validate --plugin "$tmp/nonexistent.so" --suite >/dev/null 2>"$tmp/e"
check "validate --plugin loads before anything runs (a missing one: exit 2, named)" \
	'[ $? -eq 2 ] && grep -q "nonexistent.so: cannot load" "$tmp/e"'

finish

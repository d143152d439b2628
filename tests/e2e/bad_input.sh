#!/bin/sh
# tests/e2e/bad_input.sh - the command line as a user sees it when input is
# wrong: the exit status (1 bad input, 2 usage), exactly one line on stderr
# that names the culprit, and nothing on stdout.  Plus a few positive checks.
#   usage: sh tests/e2e/bad_input.sh BINDIR
set -u
bindir=${1:?usage: bad_input.sh BINDIR}
VMLAB=$bindir/vmlab
pass=0
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmlab-e2e-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

ok() {
	pass=$((pass + 1))
	echo "ok - $1"
}

not_ok() {
	fail=$((fail + 1))
	echo "not ok - $1"
	shift
	for l in "$@"; do echo "#   $l"; done
}

# run ARGS...: run vmlab, keeping stdout, stderr and the exit status.
run() {
	"$VMLAB" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# expect_fail NAME STATUS [TEXT...]: the last run failed with STATUS,
# printed nothing on stdout, exactly one line on stderr, containing every TEXT.
expect_fail() {
	name=$1
	want=$2
	shift 2
	why=""
	[ "$rc" -eq "$want" ] || why="$why exit status $rc, want $want;"
	[ -s "$tmp/out" ] && why="$why stdout not empty;"
	lines=$(wc -l <"$tmp/err")
	last=$(tail -c 1 "$tmp/err" | od -An -tx1 | tr -d ' \n')
	if [ "$lines" -ne 1 ] || [ "$last" != "0a" ] || [ "$(wc -c <"$tmp/err")" -le 1 ]; then
		why="$why stderr is not exactly one line;"
	fi
	for text in "$@"; do
		grep -qF -- "$text" "$tmp/err" || why="$why stderr lacks '$text';"
	done
	if [ -z "$why" ]; then
		ok "$name"
	else
		not_ok "$name" "$why" "stderr: $(head -c 600 "$tmp/err" | tr '\n' '|')"
	fi
}

# ---- inputs ----

good=$tmp/good.addr
printf '# three pages\nR 0x1000\nW 0x2000\nI 0x3000 2\nR 0x1008\n' >"$good"

bad=$tmp/badline.addr
printf 'R 0x1000\nW 0x2000\n\nR 0xzz\nR 0x4000\n' >"$bad" # line 4 is bad

cfg=$tmp/bad.ini
printf '[memory]\nframez = 64\n' >"$cfg" # unknown key on line 2

garbage=$tmp/garbage.bin
python3 -c '
import random, sys
r = random.Random(1)
sys.stdout.buffer.write(bytes([0x7f]) + bytes(r.randrange(256) for _ in range(8191)))
' >"$garbage"

# a gzip trace of 60000 lines, cut in half
awk 'BEGIN { for (i = 0; i < 60000; i++) printf "R 0x%x\n", i * 4096 * 7 + i % 4096 }' \
	>"$tmp/long.addr"
gzip -c "$tmp/long.addr" >"$tmp/long.addr.gz"
size=$(wc -c <"$tmp/long.addr.gz")
head -c $((size / 2)) "$tmp/long.addr.gz" >"$tmp/trunc.addr.gz"

mkdir "$tmp/adir"
missing=$tmp/no-such-trace.addr

# ---- failures ----

run run "$missing"
expect_fail "missing trace file: exit 1, names the path" 1 "$missing"

run run "$bad"
expect_fail "bad line in an addr trace: exit 1, names file and line 4" 1 "$bad" "line 4"

run run --format nope "$good"
expect_fail "unknown --format: exit 2" 2 "nope"

run run -s replacement.policy=nope "$good"
expect_fail "unknown policy: exit 2, lists the known policies" 2 "nope" "lru" "fifo" "clock"

run run -s memory.frames=abc "$good"
expect_fail "bad number: exit 2, names memory.frames" 2 "memory.frames" "abc"

run run -s memory.frames=0 "$good"
expect_fail "zero frames: exit 2, names memory.frames" 2 "memory.frames"

run run -s cost.fault=nan "$good"
expect_fail "nan for a number key: exit 2, names cost.fault" 2 "cost.fault" "not a finite number"

run run --run-id "" -o "$tmp/r.h5" "$good"
expect_fail "--run-id '': exit 2, one line" 2 "--run-id ''"
[ ! -e "$tmp/r.h5" ] && ok "--run-id '' writes no results file" || not_ok "--run-id '' writes no results file"

# one trace line of unbounded cost (issue 17, item 5): a reserve of 128 TiB
# walked its 2^35 pages (minutes); now it follows the tables that exist
printf 'V RESERVE 0x10000 0x7ff000000000\nR 0x10000\n' >"$tmp/huge.addr"
timeout 30 "$VMLAB" run --os windows "$tmp/huge.addr" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q 'access_violations *1 ' "$tmp/out"; then
	ok "V RESERVE of 128 TiB: done (within 30 s), the access in it a violation"
else
	not_ok "V RESERVE of 128 TiB: done (within 30 s), the access in it a violation" "exit $rc"
fi

: >"$tmp/empty.addr"
run run "$tmp/empty.addr"
if [ "$rc" -eq 0 ] && grep -q "warning: .*empty.addr holds no records" "$tmp/err"; then
	ok "an empty trace: exit 0 with a warning that nothing was replayed"
else
	not_ok "an empty trace: exit 0 with a warning that nothing was replayed" "exit $rc" "$(cat "$tmp/err")"
fi

# Page tables in memory (linux, windows): 300 pages 1 GiB apart need 3
# page-table pages each, so 48 frames fill with page tables and nothing can
# be evicted: a clear error, not a policy failure.
i=0
while [ $i -lt 300 ]; do
	printf 'W 0x%x\n' $((i * 1073741824 + 4096))
	i=$((i + 1))
done >"$tmp/spread.addr"
for os in linux windows; do
	run run --os $os -s memory.frames=48 "$tmp/spread.addr"
	expect_fail "--os $os, memory full of page tables: exit 1, says so" 1 "page tables" "memory.frames"
done

run run -s memory.framez=1 "$good"
expect_fail "unknown key: exit 2, names it" 2 "memory.framez"

run run -s foo "$good"
expect_fail "malformed -s: exit 2" 2 "foo"

run run --no-such-option "$good"
expect_fail "unknown long option: exit 2" 2 "no-such-option"

run run -Z "$good"
expect_fail "unknown short option: exit 2" 2 "Z"

run run
expect_fail "missing TRACE: exit 2" 2 "TRACE"

run run "$good" "$good"
expect_fail "two TRACE arguments: exit 2" 2

run run -c "$cfg" "$good"
expect_fail "config file with an unknown key on line 2: exit 1, names file and line" 1 \
	"$cfg" "line 2" "framez"

printf '[memory]\nframes = 12\n; a comment\nframes = 13\n' >"$tmp/dup.ini"
run run -c "$tmp/dup.ini" "$good"
expect_fail "a key given twice in one config file: exit 1, names the file, both lines and the key" 1 \
	"$tmp/dup.ini line 4" "memory.frames" "first at line 2"
printf '[memory]\nframes = 12\n' >"$tmp/once.ini"
"$VMLAB" run -c "$tmp/once.ini" -c "$tmp/once.ini" -s memory.frames=14 "$good" >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 0 ] && grep -q "14 frames" "$tmp/out"; then
	ok "the same key from two files (and -s after them): the last one wins, no error"
else
	not_ok "the same key from two files (and -s after them): the last one wins, no error" \
		"$(head -c 300 "$tmp/err")"
fi

run run -c "$tmp/no-such.ini" "$good"
expect_fail "missing config file: exit 1, names it" 1 "$tmp/no-such.ini"

run run -c "$tmp/adir" "$good"
expect_fail "a directory as config file: exit 1, names it" 1 "$tmp/adir"

run run --os plan9 "$good"
expect_fail "unknown --os preset: exit 2, lists the presets" 2 "plan9" "textbook"

run run "$tmp/adir"
expect_fail "a directory as trace: exit 1, names it" 1 "$tmp/adir"

run run "$garbage"
expect_fail "binary garbage trace: exit 1, names it" 1 "$garbage"

run run "$tmp/trunc.addr.gz"
expect_fail "truncated .gz trace: exit 1, names it" 1 "$tmp/trunc.addr.gz"

# ---- where an error is, said truly ----
# lacks TEXT: the last run's stderr does not contain TEXT (after expect_fail)
lacks() {
	if grep -qF -- "$2" "$tmp/err"; then
		not_ok "$1" "stderr: $(head -c 600 "$tmp/err" | tr '\n' '|')"
	else
		ok "$1"
	fi
}
# A compressed trace cut inside its first block: nothing was decoded yet,
# so no "(after byte 0)": the compressed offset is the location.
printf 'R 0x1000\nR 0x2000\n' | gzip -c >"$tmp/small.addr.gz"
head -c 20 "$tmp/small.addr.gz" >"$tmp/cut.addr.gz"
run run --format addr "$tmp/cut.addr.gz"
expect_fail "a .gz cut at byte 20: exit 1, says the compressed byte" 1 "$tmp/cut.addr.gz" \
	"ends early at compressed byte 20"
lacks "... and not '(after byte 0)'" "after byte 0"
# Junk after a complete stream is trailing data, not a truncation: the
# junk starts right after the stream, at the stream's own size.
for z in xz zstd gzip; do
	case $z in xz) c="xz -c" ;; zstd) c="zstd -q -c" ;; gzip) c="gzip -c" ;; esac
	printf 'R 0x1000\n' | $c >"$tmp/j.$z"
	n=$(wc -c <"$tmp/j.$z")
	printf 'junk\n' >>"$tmp/j.$z"
	run run --format addr "$tmp/j.$z"
	expect_fail "$z stream + 'junk': exit 1, trailing data at compressed byte $n" 1 \
		"trailing data after the $z stream at compressed byte $n"
	lacks "... not called a truncation" "ends early"
done
# Two xz streams with stream padding between them are one trace.
{ printf 'R 0x1000\n' | xz -c; head -c 8 /dev/zero; printf 'R 0x2000\n' | xz -c; } >"$tmp/two.xz"
run run --json --format addr "$tmp/two.xz"
if [ "$rc" -eq 0 ] && grep -q '"counters":{"accesses":2,' "$tmp/out"; then
	ok "two xz streams with padding between: exit 0, 2 accesses"
else
	not_ok "two xz streams with padding between: exit 0, 2 accesses" "exit $rc" \
		"stderr: $(head -c 300 "$tmp/err")"
fi
# 'R 0x1000 0x10': the third token is a decimal pid (docs/trace-format.md);
# '0x10' is not one (it used to read as pid 0, "reserved").
printf 'R 0x1000\nR 0x1000 0x10\n' >"$tmp/hexpid.addr"
run run --format addr "$tmp/hexpid.addr"
expect_fail "R 0x1000 0x10: exit 1, line 2, expected a decimal process id, found '0x10'" 1 \
	"line 2" "expected a decimal process id" "found '0x10'"
lacks "... and no word of pid 0" "process id 0"
printf 'R 0x1000\nV EXIT 0x3\n' >"$tmp/hexpid2.addr"
run run --format addr "$tmp/hexpid2.addr"
expect_fail "V EXIT 0x3: exit 1, line 2, found '0x3'" 1 "line 2" "V EXIT" "found '0x3'"
# A TLB geometry from a -c file: bad input (exit 1) naming the file and
# the lines of the two keys; the same from -s is a usage error (exit 2).
printf '# a machine\n[tlb.l1d]\nentries = 63\nways = 4\n' >"$tmp/tlb.ini"
run run -c "$tmp/tlb.ini" "$good"
expect_fail "-c file with 4 ways over 63 entries: exit 1, names file, lines 3 and 4" 1 \
	"$tmp/tlb.ini line 4 (ways)" "$tmp/tlb.ini line 3 (entries)" "tlb.l1d" "63 entries"
printf '[tlb.l1d]\npage_sizes = 3k\n' >"$tmp/tlb2.ini"
run run -c "$tmp/tlb2.ini" "$good"
expect_fail "-c file with page_sizes = 3k: exit 1, names file and line 2" 1 \
	"$tmp/tlb2.ini line 2" "'3k'"
run run -s tlb.l1d.entries=63 "$good"
expect_fail "-s tlb.l1d.entries=63: exit 2, says -s" 2 "-s" "63 entries"
lacks "... and blames no preset" "configs/"

run run --format lackey "$good"
expect_fail "addr trace read as lackey: exit 1, names file and line 1" 1 "$good" "line 1"

run frobnicate
expect_fail "unknown command: exit 2" 2 "frobnicate"

# ---- positive checks ----

run run --json "$good"
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] &&
	python3 -c '
import json, sys
d = json.load(sys.stdin)
c = d["counters"]
# 4 accesses to 3 distinct pages in plenty of memory: 3 first-touch faults
assert c["accesses"] == 4, c["accesses"]
assert c["faults"] == 3 and c["faults_demand_zero"] == 3, c
assert c["reads"] == 2 and c["writes"] == 1 and c["ifetches"] == 1, c
assert c["processes"] == 2, c["processes"]
assert d["trace"]["format"] == "addr"
' <"$tmp/out"; then
	ok "run --json on a good trace: exit 0, valid JSON with the expected counters"
else
	not_ok "run --json on a good trace: exit 0, valid JSON with the expected counters" \
		"exit $rc" "stderr: $(head -c 600 "$tmp/err" | tr '\n' '|')"
fi

run run "$tmp/long.addr.gz"
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && grep -q "60000 records" "$tmp/out"; then
	ok "run on the whole .gz trace: exit 0, 60000 records"
else
	not_ok "run on the whole .gz trace: exit 0, 60000 records" "exit $rc" \
		"stdout: $(head -n 2 "$tmp/out" | tr '\n' '|')"
fi

run policies
why=""
[ "$rc" -eq 0 ] || why="$why exit $rc;"
for p in fifo lru clock opt random; do
	grep -qw -- "$p" "$tmp/out" || why="$why no '$p';"
done
if [ -z "$why" ]; then ok "policies lists fifo lru clock opt random"; else not_ok "policies lists fifo lru clock opt random" "$why"; fi

run run --help
if [ "$rc" -eq 0 ] && grep -q "usage" "$tmp/out" && [ ! -s "$tmp/err" ]; then
	ok "run --help: exit 0, usage on stdout"
else
	not_ok "run --help: exit 0, usage on stdout" "exit $rc"
fi

# the Linux address-space events of captured programs, malformed
printf 'R 0x1000\nV MMAP 0x1000 0x1000 readwrite sideways 0 0\n' >"$tmp/mm.addr"
run run "$tmp/mm.addr"
expect_fail "V MMAP with neither private nor shared: exit 1, names line 2 and the word" 1 \
	"line 2" "private or shared" "sideways"
printf 'V FORK 0 2\n' >"$tmp/fk.addr"
run run "$tmp/fk.addr"
expect_fail "V FORK with parent 0: exit 1, asks for a parent process id" 1 "line 1" "parent process id"
printf 'V MREMAP 0x1000 0x1000\n' >"$tmp/mr.addr"
run run "$tmp/mr.addr"
expect_fail "V MREMAP without its new address: exit 1, says what is missing" 1 "line 1" "new address"

# an output path that is not a regular file: every output is written to a
# new file renamed over the path, which would put a regular file in place
# of a FIFO or a device (as root, `-o /dev/null` replaced /dev/null)
mkfifo "$tmp/fifo"
mkdir "$tmp/outdir"
dev=""
if mknod "$tmp/null" c 1 3 2>/dev/null; then dev=$tmp/null; fi
for target in "$tmp/fifo" "$tmp/outdir" $dev; do
	kind=$(stat -c %F "$target")
	run convert "$good" "$target"
	expect_fail "convert to a $kind: exit 1, names it" 1 "$target" "not a regular file"
	run gen loop n=100 pages=4 seed=1 -o "$target"
	expect_fail "gen -o a $kind: exit 1, names it" 1 "$target" "not a regular file"
	run capture -o "$target" -- true
	expect_fail "capture -o a $kind: exit 1 before running anything, names it" 1 "$target" \
		"not a regular file"
	run run -o "$target" "$good"
	expect_fail "run -o a $kind: exit 1, names it" 1 "$target" "not a regular file"
	if [ "$(stat -c %F "$target")" = "$kind" ]; then
		ok "the $kind is still a $kind"
	else
		not_ok "the $kind is still a $kind" "now: $(stat -c %F "$target")"
	fi
done
[ -n "$dev" ] || echo "# not root: no device node made; the FIFO and the directory were checked"
# converting a trace onto itself would replace the trace it reads
cp "$good" "$tmp/self.addr"
run convert "$tmp/self.addr" "$tmp/self.addr"
expect_fail "convert IN IN: exit 2, says the output is the input" 2 "$tmp/self.addr" "is the input file"
if cmp -s "$good" "$tmp/self.addr"; then ok "... and the trace is untouched"; else not_ok "... and the trace is untouched"; fi
"$VMLAB" run -o "$tmp/r.h5" "$good" >/dev/null 2>&1
mkfifo "$tmp/fig.png"
run plot "$tmp/r.h5" mrc -o "$tmp/fig.png"
expect_fail "plot -o a FIFO named .png: exit 1, names it" 1 "$tmp/fig.png" "not a regular file"
if [ -p "$tmp/fig.png" ]; then ok "the FIFO fig.png is still a FIFO"; else not_ok "the FIFO fig.png is still a FIFO"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/bin/sh
# vmlab capture end to end: each back end records a small C program built
# here whose region of interest performs a known number of loads over a
# known set of pages; `vmlab run --roi` must see them.
#
# Expected numbers come from the program's text: inside the region it
# reads a[] N times at stride 4097 longs (8 bytes), so it touches
# min(N, pages) distinct pages of a[]; the back ends add a few accesses of
# their own (the marker code, loop spills), so counts are checked to lie
# within [N, N + 64].  A back end whose tool is missing counts as a failure
# with a message saying so (make deps installs valgrind, qemu-user, clang).
set -u
bin=$1/vmlab
pass=0
fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
no() { echo "not ok - $1"; fail=$((fail + 1)); }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }
[ -x "$bin" ] || { echo "no $bin: build first"; echo "0 passed, 1 failed"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
inc=$(cd "$(dirname "$0")/../../include" && pwd)
N=3000
cat >"$tmp/p.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <vmlab/roi.h>
static long a[1 << 20] __attribute__((aligned(4096))); /* 8 MiB: 2048 pages */
int main(int argc, char **argv)
{
	long n = atol(argv[1]), s = 0;
	for (long i = 0; i < (1 << 20); i += 512)
		a[i] = i;            /* touch every page first */
	vmlab_roi_begin();
	for (long i = 0; i < n; i++)
		s += a[(i * 4097) & ((1 << 20) - 1)];
	vmlab_roi_end();
	printf("%ld\n", s);
	return 0;
}
EOF
cc -O1 -I"$inc" "$tmp/p.c" -o "$tmp/p" || no "build the test program with cc"
expect_out=$("$tmp/p" $N)

# distinct pages of a[] read in the region, computed here
pages=$(python3 -c "print(len({((i * 4097) & ((1 << 20) - 1)) * 8 // 4096 for i in range($N)}))")

roi_check() { # BACKEND FILE
	"$bin" run --roi --json -s memory.frames=4096 "$2" >"$tmp/r.json" 2>"$tmp/r.err"
	python3 - "$tmp/r.json" "$N" "$pages" >"$tmp/r.chk" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))["counters"]
n, pages = int(sys.argv[2]), int(sys.argv[3])
ok = n <= c["reads"] <= n + 64 and c["writes"] <= 64 and pages <= c["faults"] <= pages + 16 and c["events"] >= 2
print("yes" if ok else f"no: reads {c['reads']} writes {c['writes']} faults {c['faults']} events {c['events']}; want reads {n}..{n+64}, faults {pages}..{pages+16}")
EOF
	check "$1: inside the region: $N reads (+ a few), $pages distinct pages faulted ($(cat "$tmp/r.chk"))" \
		'[ "$(cat "$tmp/r.chk")" = yes ]'
}

cap() { # BACKEND PROGRAM: capture into $tmp/BACKEND.vmt
	be=$1
	"$bin" capture -o "$tmp/$be.vmt" --backend "$be" -- "$2" $N >"$tmp/$be.out" 2>"$tmp/$be.err"
	rc=$?
	check "$be: capture exits 0 and the program's output is intact ($(tail -n 1 "$tmp/$be.err"))" \
		'[ $rc = 0 ] && [ "$(cat "$tmp/$be.out")" = "$expect_out" ]'
	check "$be: the .vmt is complete (read back without warning) and names its tool" \
		'! grep -q warning "$tmp/$be.err" && "$bin" info "$tmp/$be.vmt" | grep -q "tool .*--backend $be"'
	roi_check "$be" "$tmp/$be.vmt"
}

if command -v qemu-x86_64 >/dev/null; then
	cap qemu "$tmp/p"
	"$bin" capture -o "$tmp/qi.vmt" --backend qemu --ifetch -- "$tmp/p" 10 >/dev/null 2>&1
	check "qemu --ifetch records instruction fetches" \
		'[ "$("$bin" info --json "$tmp/qi.vmt" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"ifetches\"] > 1000)")" = True ]'
	# 20,000 read-modify-write instructions on one variable: 20,000 modify
	# records at its address and no write (x86 checks an RMW once, as a
	# write); the loop records nothing else, so the plugin's 4096-record
	# buffers fill inside it, and an RMW whose read ends a buffer must
	# still merge with its store.  printf then reads the variable once (R).
	cat >"$tmp/rmw.c" <<'EOF'
#include <stdio.h>
static long c;
int main(void)
{
	for (int i = 0; i < 20000; i++)
		__asm__ volatile("addq $1, %0" : "+m"(c)); /* one read-modify-write */
	printf("%#lx %ld\n", (unsigned long)&c, c);
	return 0;
}
EOF
	cc -O1 "$tmp/rmw.c" -o "$tmp/rmw.bin" &&
		"$bin" capture -o "$tmp/rmw.vmt" -- "$tmp/rmw.bin" >"$tmp/rmw.out" 2>/dev/null
	at=$(cut -d' ' -f1 "$tmp/rmw.out")
	"$bin" convert --addr "$tmp/rmw.vmt" - 2>/dev/null | awk -v a="$at" '$2 == a { n[$1]++ }
		END { printf "M %d W %d", n["M"], n["W"] }' >"$tmp/rmw.chk"
	check "qemu: 20000 read-modify-writes are 20000 modify records, none split across a buffer flush ($(cat "$tmp/rmw.chk"))" \
		'[ "$(cat "$tmp/rmw.chk")" = "M 20000 W 0" ]'
else
	no "qemu back end: qemu-x86_64 not installed (make deps installs qemu-user)"
fi
if command -v valgrind >/dev/null; then
	cap lackey "$tmp/p"
else
	no "lackey back end: valgrind not installed (make deps)"
fi
if command -v clang >/dev/null; then
	if clang -O1 $("$bin" capture --flags) "$tmp/p.c" -o "$tmp/ps" 2>"$tmp/clang.err"; then
		cap sancov "$tmp/ps"
		# without VMLAB_TRACE_OUT the instrumented program runs normally and writes nothing
		check "sancov: outside a capture the program runs as usual" \
			'[ "$(cd "$tmp" && ./ps $N)" = "$expect_out" ] && [ -z "$(cd "$tmp" && ls | grep -v "\\." | grep -v "^p$\\|^ps$")" ]'
	else
		no "sancov: clang with \`vmlab capture --flags\` failed: $(head -c 200 "$tmp/clang.err")"
	fi
	"$bin" capture -o "$tmp/none.vmt" --backend sancov -- "$tmp/p" 5 >/dev/null 2>"$tmp/e"
	check "sancov on a program built without the flags: an error saying so" \
		'[ $? != 0 ] && grep -q "wrote no trace: was it built with" "$tmp/e"'
else
	no "sancov back end: clang not installed (make deps)"
fi

"$bin" capture -o "$tmp/x.vmt" --backend nosuch -- true 2>/dev/null
check "unknown back end is a usage error" '[ $? = 2 ]'
"$bin" capture -o "$tmp/x.vmt" 2>/dev/null
check "missing PROGRAM is a usage error" '[ $? = 2 ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/bin/sh
# Heap events (docs/heap.md): the H grammar, its .vmt round trip, bad
# input, and the capture of a real program's heap calls.
#
#  1. H lines read, written back by `vmlab convert --addr`, and through
#     .vmt and back: the same text, byte for byte; `vmlab info` counts them
#     by kind; malformed H lines give one-line errors naming the line.
#  2. Bad heap input (free and realloc of unknown addresses, a double
#     free, an overlapping ALLOC) is counted in heap_errors, with exactly
#     one warning line, exit status 0.
#  3. A C program (compiled here) allocates N blocks of 200 bytes, frees
#     every other one, then allocates, fills and frees 1 MiB 50 times; it
#     counts its own calls and peak of requested bytes and prints them (an
#     independent computation).  Its qemu capture's heap_allocs,
#     heap_frees and heap_bytes_peak equal them.
#  4. The same capture with its H events removed replays to exactly the
#     same counters (every counter but heap_*, every process): heap events
#     under heap.model = captured change nothing.
#  5. Against a capture without vmlab-heap.so (--no-heap): the extra
#     accesses are the loader's work for one more library, the same for
#     N = 100 and N = 1000 (to within the few accesses that the layout of
#     the initial stack's strings moves), so the interposer's per-call
#     accesses are kept out of the trace; with --ifetch, its fetches too.
#  6. Threads passing blocks to each other: every FREE finds its ALLOC.
bindir=$1
. "$(dirname "$0")/../e2e-lib.sh"
bin=$(cd "$bindir" && pwd)/vmlab

# ---- 1. grammar and round trip ----
cat >"$tmp/h.addr" <<'EOF'
# heap calls
H ALLOC 0x10000 200
W 0x10010
H MEMALIGN 0x20000 4096 64 2
H REALLOC 0x10000 0x30000 5000
h FREE 0x30000
H FREE 0x20000 2
EOF
"$bin" convert --addr "$tmp/h.addr" "$tmp/a1.addr" >/dev/null 2>&1
"$bin" convert "$tmp/h.addr" "$tmp/h.vmt" >/dev/null 2>&1
"$bin" convert --addr "$tmp/h.vmt" "$tmp/a2.addr" >/dev/null 2>&1
"$bin" convert "$tmp/a2.addr" "$tmp/h2.vmt" >/dev/null 2>&1
"$bin" convert --addr "$tmp/h2.vmt" "$tmp/a3.addr" >/dev/null 2>&1
cat >"$tmp/want.addr" <<'EOF'
H ALLOC 0x10000 200 1
W 0x10010 1
H MEMALIGN 0x20000 4096 64 2
H REALLOC 0x10000 0x30000 5000 1
H FREE 0x30000 1
H FREE 0x20000 2
EOF
check "addr -> addr writes H lines" 'cmp -s "$tmp/a1.addr" "$tmp/want.addr"'
check "addr -> vmt -> addr is exact" 'cmp -s "$tmp/a2.addr" "$tmp/want.addr"'
check "vmt -> addr -> vmt -> addr is exact" 'cmp -s "$tmp/a3.addr" "$tmp/want.addr"'
"$bin" info --json "$tmp/h.vmt" >"$tmp/info.json" 2>/dev/null
check "info counts heap events by kind" \
	'python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
s=json.dumps(d)
assert \"\\\"heap_alloc\\\": 2\" in s and \"\\\"heap_free\\\": 2\" in s and \"\\\"heap_realloc\\\": 1\" in s, s
" "$tmp/info.json"'
bad_line() { # TEXT EXPECTED-SUBSTRING
	printf '%s\n' "$1" >"$tmp/bad.addr"
	"$bin" run --format addr "$tmp/bad.addr" >/dev/null 2>"$tmp/bad.err"
	rc=$?
	[ "$rc" -ne 0 ] && [ "$(wc -l <"$tmp/bad.err")" -eq 1 ] &&
		grep -q "bad.addr line 1: .*$2" "$tmp/bad.err"
}
check "H FOO: one-line error" 'bad_line "H FOO 1" "expected a heap call"'
check "H ALLOC without a size" 'bad_line "H ALLOC 0x1000" "H ALLOC: expected a length"'
check "H MEMALIGN 3: not a power of two" 'bad_line "H MEMALIGN 0x1000 8 3" "power of two"'
check "H FREE with text after the pid" 'bad_line "H FREE 0x1000 1 x" "unexpected text"'

# ---- 2. bad input in a replay ----
cat >"$tmp/badheap.addr" <<'EOF'
H ALLOC 0x10000 100
H FREE 0x10000
H FREE 0x10000
H FREE 0x55555
H REALLOC 0x66666 0x20000 64
H ALLOC 0x20010 8
W 0x20010
EOF
"$bin" run --json "$tmp/badheap.addr" >"$tmp/bad.json" 2>"$tmp/bad.err"
rc=$?
check "bad heap input: exit status 0" '[ "$rc" -eq 0 ]'
check "bad heap input: one warning line" \
	'[ "$(grep -c "warning: heap events that do not add up" "$tmp/bad.err")" -eq 1 ] &&
	 [ "$(grep -c . "$tmp/bad.err")" -eq 1 ]'
# double free 1, unknown free 2, unknown realloc 3, overlap 4
check "bad heap input: heap_errors = 4, allocs 3, frees 1" \
	'python3 -c "
import json,sys
c=json.load(open(sys.argv[1]))[\"counters\"]
assert (c[\"heap_errors\"], c[\"heap_allocs\"], c[\"heap_frees\"], c[\"accesses\"]) == (4, 3, 1, 1), c
" "$tmp/bad.json"'

# ---- 3-5. capture ----
if ! command -v qemu-x86_64 >/dev/null 2>&1 || ! command -v cc >/dev/null 2>&1 ||
	[ ! -f "$bindir/vmlab-heap.so" ]; then
	echo "ok - capture checks skipped (no qemu-x86_64, cc or vmlab-heap.so)"
	finish
	exit $?
fi
cat >"$tmp/prog.c" <<'EOF'
/* N blocks of 200 bytes, every other one freed, then 1 MiB allocated,
 * filled and freed 50 times.  Counts its own calls and the peak of
 * requested bytes live; output through write(2), so stdio allocates
 * nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static void *volatile sink; /* the compiler may not drop a malloc/free pair */
int main(int argc, char **argv)
{
	int n = atoi(argv[1]);
	char **small = malloc(n * sizeof(*small));
	unsigned long allocs = 1, frees = 0, live = n * sizeof(*small), peak = live;
	for (int i = 0; i < n; i++) {
		small[i] = malloc(200);
		allocs++;
		live += 200;
		peak = live > peak ? live : peak;
		memset(small[i], i, 200);
		sink = small[i];
	}
	for (int i = 0; i < n; i += 2) {
		free(small[i]);
		frees++;
		live -= 200;
	}
	for (int k = 0; k < 50; k++) {
		char *big = malloc(1 << 20);
		allocs++;
		live += 1 << 20;
		peak = live > peak ? live : peak;
		memset(big, k, 1 << 20);
		sink = big;
		free(big);
		frees++;
		live -= 1 << 20;
	}
	char out[128];
	int len = snprintf(out, sizeof(out), "heap_allocs=%lu heap_frees=%lu heap_bytes_peak=%lu\n",
			   allocs, frees, peak);
	return write(1, out, (size_t)len) == len ? 0 : 1;
}
EOF
cc -O1 -o "$tmp/prog" "$tmp/prog.c" || { check "compile the test program" false; finish; exit 1; }
counters() { # TRACE OUT: every counter and per-process field, one a line
	"$bin" run --json "$1" 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin)
for k, v in d['counters'].items():
    print(k, v)
for p in d.get('processes', []):
    for k, v in p.items():
        print('p%d.%s' % (p['pid'], k), v)
" >"$2"
}
(cd "$tmp" && "$bin" capture -o "$tmp/c.vmt" -- "$tmp/prog" 1000) >"$tmp/truth" 2>"$tmp/cap.err"
check "capture of the program" '[ -s "$tmp/c.vmt" ] && grep -q heap_allocs "$tmp/truth"'
counters "$tmp/c.vmt" "$tmp/c.txt"
for k in heap_allocs heap_frees heap_bytes_peak; do
	want=$(tr ' ' '\n' <"$tmp/truth" | sed -n "s/^$k=//p")
	got=$(sed -n "s/^$k //p" "$tmp/c.txt")
	check "$k = $want, the program's own count (got $got)" '[ -n "$want" ] && [ "$got" = "$want" ]'
done
check "no heap errors in a real capture" 'grep -qx "heap_errors 0" "$tmp/c.txt"'
"$bin" run -o "$tmp/r.h5" "$tmp/c.vmt" >/dev/null 2>&1
"$bin" report --csv --columns heap_allocs,heap_frees,heap_bytes_peak "$tmp/r.h5" >"$tmp/rep.csv" 2>/dev/null
check "the results file and vmlab report carry the heap counters" \
	'[ "$(sed -n 2p "$tmp/rep.csv")" = "$(sed -n "s/^heap_allocs //p;s/^heap_frees //p;s/^heap_bytes_peak //p" "$tmp/c.txt" | head -3 | paste -sd,)" ]'
# 4: the H events removed
"$bin" convert --addr "$tmp/c.vmt" "$tmp/c.addr" >/dev/null 2>&1
grep -v '^H ' "$tmp/c.addr" >"$tmp/noh.addr"
"$bin" convert "$tmp/noh.addr" "$tmp/noh.vmt" >/dev/null 2>&1
counters "$tmp/noh.vmt" "$tmp/noh.txt"
check "captured replay = replay without the H events (every other counter)" \
	'grep -v "heap_" "$tmp/c.txt" >"$tmp/c1" && grep -v "heap_" "$tmp/noh.txt" >"$tmp/c2" &&
	 [ -s "$tmp/c1" ] && cmp -s "$tmp/c1" "$tmp/c2"'
check "...the same under --os windows" \
	'"$bin" run --json --os windows "$tmp/c.vmt" 2>/dev/null | python3 -c "
import json,sys; c=json.load(sys.stdin)[\"counters\"]; [c.pop(k) for k in list(c) if k.startswith(\"heap_\")]; print(sorted(c.items()))" >"$tmp/w1" &&
	 "$bin" run --json --os windows "$tmp/noh.vmt" 2>/dev/null | python3 -c "
import json,sys; c=json.load(sys.stdin)[\"counters\"]; [c.pop(k) for k in list(c) if k.startswith(\"heap_\")]; print(sorted(c.items()))" >"$tmp/w2" &&
	 cmp -s "$tmp/w1" "$tmp/w2"'
# 5: against --no-heap, for two sizes
extra() { # N [--ifetch]: accesses with vmlab-heap.so minus accesses without
	(cd "$tmp" && "$bin" capture ${2:-} -o "$tmp/x1.vmt" -- "$tmp/prog" "$1" &&
		"$bin" capture ${2:-} --no-heap -o "$tmp/x0.vmt" -- "$tmp/prog" "$1") >/dev/null 2>&1
	a1=$("$bin" run --json "$tmp/x1.vmt" 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['counters']['accesses'])")
	a0=$("$bin" run --json "$tmp/x0.vmt" 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['counters']['accesses'])")
	echo $((a1 - a0))
}
e100=$(extra 100)
e1000=$(extra 1000)
echo "# accesses added by vmlab-heap.so: $e100 (N=100), $e1000 (N=1000)"
# N = 1000 makes 900 more mallocs and 450 more frees than N = 100: one
# recorded access of the interposer per call would add 1350 or more.  What
# varies by a few accesses is the layout of the strings on the initial
# stack (argv "100" or "1000", and LD_PRELOAD's length), which the loader
# and libc scan word by word.
check "the interposer adds no accesses per heap call ($e100 and $e1000 differ by < 16)" \
	'[ "$e100" -ge 0 ] && [ $((e100 - e1000)) -lt 16 ] && [ $((e1000 - e100)) -lt 16 ]'
# the same with instruction fetches: its code's fetches are dropped too
# (one fetch per instruction: some 20 per call would show)
f100=$(extra 100 --ifetch)
f1000=$(extra 1000 --ifetch)
echo "# accesses and fetches added by vmlab-heap.so: $f100 (N=100), $f1000 (N=1000)"
# (one fetch per instruction: some 20 per call, 1350 calls more, would add
# 27,000; the layout of the initial stack's strings moves the loader's and
# libc's word-by-word scans by a few dozen fetches with the paths of the
# checkout: 29 on one clone; a tenth of one fetch per call is the bound)
check "...and no fetches of its code per call ($f100 and $f1000 differ by < 135)" \
	'[ "$f100" -ge 0 ] && [ $((f100 - f1000)) -lt 135 ] && [ $((f1000 - f100)) -lt 135 ]'

# ---- 6. threads ----
# four threads pass blocks to each other through 64 slots: each frees
# blocks another thread allocated.  Every block (4 x 20000) is freed, so
# heap_frees = 80000 and no event is out of order (heap_errors = 0);
# heap_allocs adds the few allocations of pthread_create (their number is
# glibc's: at most a few per thread).
cat >"$tmp/thr.c" <<'EOF'
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#define N 20000
static void *volatile slots[64];
static void *worker(void *arg)
{
	long id = (long)arg;
	for (int i = 0; i < N; i++) {
		free(__atomic_exchange_n(&slots[(i * 7 + id) & 63], NULL, __ATOMIC_ACQ_REL));
		void *q = malloc(64 + (i & 255));
		free(__atomic_exchange_n(&slots[(i * 13 + id * 5) & 63], q, __ATOMIC_ACQ_REL));
	}
	return NULL;
}
int main(void)
{
	pthread_t t[4];
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 64; i++)
		free(slots[i]);
	return 0;
}
EOF
if cc -O1 -pthread -o "$tmp/thr" "$tmp/thr.c" 2>/dev/null; then
	(cd "$tmp" && "$bin" capture -o "$tmp/thr.vmt" -- "$tmp/thr") >/dev/null 2>&1
	counters "$tmp/thr.vmt" "$tmp/thr.txt"
	check "threads: heap_frees = 80000, heap_errors = 0, 80000 <= heap_allocs <= 80016" \
		'grep -qx "heap_frees 80000" "$tmp/thr.txt" && grep -qx "heap_errors 0" "$tmp/thr.txt" &&
		 a=$(sed -n "s/^heap_allocs //p" "$tmp/thr.txt") && [ "$a" -ge 80000 ] && [ "$a" -le 80016 ]'
fi
finish

#!/bin/sh
# V POPULATE: pages the kernel makes present without a page-fault event
# (Linux's get_user_pages: exec's copy of the argument and environment
# strings, MAP_POPULATE, mlock, MADV_POPULATE_READ/WRITE), counted in
# `populated`, never in the fault counters.  Every count derived by hand:
#
#  1. linux, anonymous memory: a private anonymous mapping of 8 pages
#     (0..7) at 0x10000000.
#       POPULATE 6..7 write     pages 6, 7 allocated: populated 2
#       W 7                     present and writable: no fault
#       W 5                     demand zero: fault 1
#       R 4                     the zero page: fault 2
#       POPULATE 3 read         the zero page mapped: populated 3
#       W 3                     copy on write of the zero page: fault 3
#       POPULATE 4 write        page 4 (zero page) copied: populated 4
#       W 4                     no fault
#       POPULATE 7 write        present and writable: nothing
#       POPULATE at 0x30000000  no mapping: event_failures 1
#       POPULATE write of a read-only mapping: event_failures 2
#     faults 3, populated 4, event_failures 2; pages 3..7 private and
#     resident (5; the zero page is no process's page).
#  2. linux, a file (pagecache.warm = all, fault-around 16): file 9 mapped
#     read-only at 0x40000000; POPULATE of page 1 for reading maps it and,
#     by fault-around, the window 0..15 (16 pages aligned in virtual
#     addresses, as do_fault_around); R 15 no fault; R 16 a soft fault:
#     faults 1, populated 1.
#     textbook and windows have no zero page: a read of an untouched
#     page allocates a zeroed, writable frame.  W 5 and R 4 fault (2);
#     POPULATE 6..7 and 3 allocate (3); W 3, POPULATE 4, W 4 find their
#     pages present and writable: faults 2, populated 3, the same two
#     event failures.
#  3. every personality: the trace of 1 with each POPULATE replaced by one
#     access of its kind per page gives faults = faults(1) + populated(1)
#     (the same pages made present the same way, now counted as faults).
#  4. addr -> vmt -> addr keeps the events exactly; vmlab info counts them;
#     bad input is a one-line error.
#  5. capture of /bin/true (qemu back end): exec's argument and
#     environment strings are a V POPULATE write of the stack's top pages,
#     not write records; the stack faults of the replay are the stack pages
#     the program touches below them (each a fresh anonymous page: one
#     demand-zero fault, two when its first touch is a read), computed here
#     from the trace, and that is 2, as Linux counts for /bin/true natively
#     (perf record -c 1 -e page-faults -d: two stack pages; the strings'
#     page, filled by copy_strings, does not fault).
bindir=$1
. "$(dirname "$0")/../e2e-lib.sh"
bin=$bindir/vmlab
get() { python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c=c.get('counters',c); print(c.get(sys.argv[2], 'absent'))" "$1" "$2"; }
pget() { python3 -c "import json,sys; p=json.load(open(sys.argv[1]))['processes'][0]; print(p[sys.argv[2]])" "$1" "$2"; }

cat >"$tmp/a.addr" <<'T'
V MMAP 0x10000000 0x8000 readwrite private 0 0x0 1
V MMAP 0x20000000 0x1000 readonly private 0 0x0 1
V POPULATE 0x10006000 0x2000 write 1
W 0x10007010 1
W 0x10005ff0 1
R 0x10004000 1
V POPULATE 0x10003000 0x1000 read 1
W 0x10003000 1
V POPULATE 0x10004000 0x1000 write 1
W 0x10004008 1
V POPULATE 0x10007000 0x1000 write 1
V POPULATE 0x30000000 0x1000 write 1
V POPULATE 0x20000000 0x1000 write 1
T
"$bin" run --os linux --json "$tmp/a.addr" >"$tmp/a.json" 2>"$tmp/a.err"
check "linux, anonymous: 3 faults, 4 pages populated, 2 event failures, 5 resident pages" \
	'[ "$(get "$tmp/a.json" faults)" = 3 ] && [ "$(get "$tmp/a.json" populated)" = 4 ] && [ "$(get "$tmp/a.json" event_failures)" = 2 ] && [ "$(pget "$tmp/a.json" resident_pages)" = 5 ] && [ "$(pget "$tmp/a.json" faults)" = 3 ]' ||
	cat "$tmp/a.json" "$tmp/a.err"
check "linux, anonymous: the faults are 1 demand-zero (W 5) + 1 zero page (R 4) + 1 copy-on-write (W 3)" \
	'[ "$(get "$tmp/a.json" faults_cow)" = 1 ] && [ "$(get "$tmp/a.json" faults_hard)" = 0 ]'
"$bin" run --os linux --check "$tmp/a.addr" >/dev/null 2>&1
check "POPULATE: the model's invariants hold (--check)" '[ $? = 0 ]'

cat >"$tmp/f.addr" <<'T'
V MMAP 0x40000000 0x40000 readonly private 9 0x0 1
V POPULATE 0x40001000 0x1000 read 1
R 0x4000f000 1
R 0x40010000 1
T
"$bin" run --os linux -s pagecache.warm=all -s file.fault_around=16 --json "$tmp/f.addr" >"$tmp/f.json" 2>"$tmp/f.err"
check "linux, a file: the populated page's fault-around window is mapped (R 15 no fault, R 16 soft): 1 fault, 1 populated" \
	'[ "$(get "$tmp/f.json" faults)" = 1 ] && [ "$(get "$tmp/f.json" faults_soft)" = 1 ] && [ "$(get "$tmp/f.json" populated)" = 1 ]' ||
	cat "$tmp/f.err"

for os in textbook windows; do
	"$bin" run --os $os --json "$tmp/a.addr" >"$tmp/a.$os.json" 2>&1
	check "$os, anonymous: 2 faults, 3 pages populated, 2 event failures" \
		'[ "$(get "$tmp/a.$os.json" faults)" = 2 ] && [ "$(get "$tmp/a.$os.json" populated)" = 3 ] && [ "$(get "$tmp/a.$os.json" event_failures)" = 2 ]'
done

# 3: POPULATE lines as accesses (one per page, of their kind)
python3 - "$tmp/a.addr" >"$tmp/b.addr" <<'PY'
import sys
for line in open(sys.argv[1]):
    f = line.split()
    if f[:2] == ["V", "POPULATE"]:
        a, n = int(f[2], 16), int(f[3], 16)
        for p in range(a, a + n, 4096):
            print("%s 0x%x %s" % ("W" if f[4] == "write" else "R", p, f[5]))
    else:
        print(line, end="")
PY
for os in linux textbook windows; do
	"$bin" run --os $os --json "$tmp/a.addr" >"$tmp/a.$os.json" 2>&1
	"$bin" run --os $os --json "$tmp/b.addr" >"$tmp/b.$os.json" 2>&1
	check "$os: faults with POPULATE + populated = faults with the pages accessed instead" \
		'[ "$(get "$tmp/b.$os.json" faults)" = $(($(get "$tmp/a.$os.json" faults) + $(get "$tmp/a.$os.json" populated))) ] && [ "$(get "$tmp/b.$os.json" populated)" = absent ]' ||
		{ get "$tmp/a.$os.json" faults; get "$tmp/a.$os.json" populated; get "$tmp/b.$os.json" faults; }
done

"$bin" convert "$tmp/a.addr" "$tmp/a.vmt" 2>/dev/null && "$bin" convert --addr "$tmp/a.vmt" "$tmp/a.back" 2>/dev/null
check "addr -> vmt -> addr keeps every event exactly" \
	'[ "$(grep "^V" "$tmp/a.back")" = "$(grep "^V" "$tmp/a.addr")" ]'
"$bin" info "$tmp/a.vmt" >"$tmp/a.info" 2>&1
check "vmlab info counts the 6 POPULATE events" 'grep -i "populate" "$tmp/a.info" | grep -qw 6'
printf 'V POPULATE 0x1000 0x1000 rw\n' >"$tmp/bad.addr"
"$bin" run --os linux "$tmp/bad.addr" >/dev/null 2>"$tmp/bad.err"
rc=$?
check "V POPULATE without read or write: a one-line error naming the file and what was expected" \
	'[ $rc != 0 ] && grep -q "bad.addr" "$tmp/bad.err" && grep -q "expected read or write" "$tmp/bad.err" && [ "$(wc -l <"$tmp/bad.err")" = 1 ]'

# 5: exec's strings in a capture
if command -v qemu-x86_64 >/dev/null && [ -x /bin/true ]; then
	"$bin" capture -o "$tmp/t.vmt" -- /bin/true >/dev/null 2>"$tmp/t.err"
	"$bin" convert --addr "$tmp/t.vmt" "$tmp/t.addr" 2>/dev/null
	python3 - "$tmp/t.addr" "$tmp/s.addr" >"$tmp/t.chk" <<'PY'
import sys
ev = []
acc = []
for line in open(sys.argv[1], errors="replace"):
    f = line.split()
    if len(f) >= 3 and f[0] == "V":
        ev.append(f)
    elif len(f) >= 2 and f[0] in ("R", "W", "I", "M"):
        acc.append((f[0], int(f[1], 16), line))
# the stack: the mapping right after the PROT_NONE guard
mm = [(int(f[2], 16), int(f[3], 16), f[4]) for f in ev if f[1] == "MMAP"]
stack = None
for i in range(len(mm) - 1):
    if mm[i][2] == "noaccess" and mm[i][0] + mm[i][1] == mm[i + 1][0]:
        stack = mm[i + 1]
        break
pop = [f for f in ev if f[1] == "POPULATE"]
print("stack", stack is not None)
if stack is None or len(pop) != 1:
    print("populate", len(pop))
    sys.exit(0)
lo, n = int(pop[0][2], 16), int(pop[0][3], 16)
print("populate", 1, pop[0][4], lo + n == stack[0] + stack[1], stack[0] <= lo)
# the replay's stack faults, by hand: each page below the strings takes one
# demand-zero fault at its first touch, and one more (copy on write of the
# zero page) if that touch was a read and a write follows
first, written = {}, set()
out = open(sys.argv[2], "w")
out.write("V MMAP 0x%x 0x%x readwrite private 0 0x0 1\n" % (stack[0], stack[1]))
out.write("V POPULATE 0x%x 0x%x write 1\n" % (lo, n))
for op, a, line in acc:
    if stack[0] <= a < stack[0] + stack[1]:
        out.write("%s 0x%x 1\n" % ("W" if op == "M" else op, a))
        if a < lo:
            p = a >> 12
            first.setdefault(p, op)
            if op in ("W", "M"):
                written.add(p)
faults = sum(1 + (first[p] in ("R", "I") and p in written) for p in first)
print("faults", faults)
PY
	check "capture of /bin/true: one V POPULATE write, from the strings' first page to the stack's end" \
		'grep -qx "populate 1 write True True" "$tmp/t.chk"' || cat "$tmp/t.chk" "$tmp/t.err"
	check "capture of /bin/true: the program touches 2 stack pages below the strings (Linux: 2 stack faults)" \
		'grep -qx "faults 2" "$tmp/t.chk"' || cat "$tmp/t.chk"
	"$bin" run --os linux --json "$tmp/s.addr" >"$tmp/s.json" 2>&1
	check "replay of /bin/true's stack: 2 faults, as counted by hand; the strings' page populated" \
		'[ "$(get "$tmp/s.json" faults)" = 2 ] && [ "$(get "$tmp/s.json" populated)" -ge 1 ]' || cat "$tmp/s.json"
fi
finish

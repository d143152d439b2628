#!/bin/sh
# The linux personality's rules that whole programs need (issue 15), on
# hand-written addr traces, with every expected count derived by hand:
#
#  1. mremap moves a private anonymous range with its pages (Linux's
#     move_page_tables): 4 pages written (4 demand-zero faults), moved to a
#     new address and grown to 8 pages; writing the 4 moved pages again at
#     their new address faults 0 times, the 4 new pages 4 times: 8 faults
#     in all, 8 resident pages at the end, all demand-zero.
#  2. mremap of a page read through the zero page keeps it read-only: a
#     read (1 fault, zero page), a move, then a write: 1 copy-on-write
#     fault; 2 faults in all.
bindir=$1
. "$(dirname "$0")/../e2e-lib.sh"
bin=$bindir/vmlab
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
get() { python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c=c.get('counters',c); print(c[sys.argv[2]])" "$1" "$2"; }

cat >"$tmp/m1.addr" <<'T'
V MMAP 0x10000000 0x4000 readwrite private 0 0x0 1
W 0x10000000 1
W 0x10001000 1
W 0x10002000 1
W 0x10003000 1
V MREMAP 0x10000000 0x4000 0x20000000 0x8000 1
W 0x20000000 1
W 0x20001000 1
W 0x20002000 1
W 0x20003000 1
W 0x20004000 1
W 0x20005000 1
W 0x20006000 1
W 0x20007000 1
T
"$bin" run --os linux --json "$tmp/m1.addr" >"$tmp/m1.json" 2>"$tmp/m1.err"
check "mremap move: 8 faults (4 before, 0 for the moved pages, 4 new)" '[ "$(get "$tmp/m1.json" faults)" = 8 ]'
check "mremap move: all 8 demand-zero, no event refused" \
	'[ "$(get "$tmp/m1.json" faults_demand_zero)" = 8 ] && [ "$(get "$tmp/m1.json" event_failures)" = 0 ]'
"$bin" run --os linux --check "$tmp/m1.addr" >/dev/null 2>"$tmp/m1c.err"
check "mremap move: the model's invariants hold (--check)" '[ $? = 0 ]'

cat >"$tmp/m2.addr" <<'T'
V MMAP 0x10000000 0x1000 readwrite private 0 0x0 1
R 0x10000000 1
V MREMAP 0x10000000 0x1000 0x30000000 0x2000 1
W 0x30000000 1
T
"$bin" run --os linux --json "$tmp/m2.addr" >"$tmp/m2.json" 2>"$tmp/m2.err"
check "mremap of a zero-page mapping: read 1 fault, write after the move 1 copy-on-write" \
	'[ "$(get "$tmp/m2.json" faults)" = 2 ] && [ "$(get "$tmp/m2.json" faults_cow)" = 1 ]'
finish

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
#  3. mmap read-around (file.readaround = 32, page cache cold, fault-around
#     16): file 9 of 64 pages.  R page 40: hard (1), reads pages 24..55
#     (32 reads).  R 41: cached, soft (2); fault-around maps 32..47.
#     R 47: mapped, no fault.  R 30: soft (3), maps 16..31 (24..31 cached).
#     R 60: hard (4), reads 44..63 less those in memory: 56..63 (8 reads).
#     faults 4 = 2 hard + 2 soft, 40 file reads.
#  4. pagecache.resident: pages 40..47 of file 9 cached at the start.
#     R 41: soft (1), fault-around maps 40..47 (cached).  R 44: no fault.
#     R 50: hard (2), reads page 50 and, around it (34..65 in the file),
#     34..39 and 48..63 but 50: 1 + 6 + 15 = 22 reads.
#  5. file.cow_read_major (linux): the first write to a private file page
#     not cached is one fault that reads and copies it: hard (major), as
#     Linux counts do_cow_fault; with the key off, a copy-on-write fault.
#  6. V FREAD (a read() of a file, then its mapping), file.readaround = 32
#     (max = 32 read-ahead pages), pagecache.warm = none, file 9 of 64
#     pages, fault-around 16.  Linux's get_init_ra_size for a read at the
#     start of a file: a 1-page request rounds up to 1, 1 <= 32/32, so the
#     window is 4 * 1 = 4 pages: 0..3 cached.
#     a. FREAD 9 0 832 (ld.so reading an ELF header): R page 0 is soft (1),
#        fault-around maps the cached 0..3; R 3 no fault; R 4 hard (2):
#        reads page 4 and, around it (0..31), 5..31: 28 file reads.
#        2 faults = 1 soft + 1 hard, 28 reads.  Without the FREAD R 0 is
#        the hard one.
#     b. a read elsewhere with no history: FREAD 9 0x20000 0x2000 (pages
#        32, 33; nothing cached before 32): the pages alone.  R 33 soft
#        (1), R 34 hard (2).
#     c. a sequential stream: FREAD of page 0 (0..3 cached), then FREAD of
#        page 4 alone: the 4 pages before it are cached, 4 > 1 request
#        page, and cached from page 0, so 2 * 4 = 8, + 1 = 9 pages: 4..12,
#        with async 1: page 4 + 9 - 1 = 12 marked (e. below).  R 12 soft
#        (1), cached; its mark reads the next window, 13..30 (9 <= 16: 18
#        pages).  R 30 soft (2), cached by it; R 31 hard (3).  Without the
#        window's read-ahead R 30 would be the hard fault and R 31 cached.
#     d. textbook and windows ignore it: no change from the trace without
#        it (windows: V MMAP is refused, so only textbook is compared).
#     e. read-ahead marks (PG_readahead; mm/readahead.c, mm/filemap.c):
#        FREAD 9 0 832 reads the window 0..3 with async = 4 - 1 = 3 pages,
#        so page 0 + 4 - 3 = 1 is marked and the file's read-ahead state is
#        (start 0, size 4, async 3).  Fault-around does not map a marked
#        folio (filemap_map_pages); a fault on one clears the mark and reads
#        the next window (page_cache_async_ra: when the folio holds the
#        state's mark, start + size - async rounded down to the folio, the
#        window after it; else from the first page after the fault's not
#        in memory, next_ra_size(pages to it + 1); next_ra_size: 4*cur
#        below max/16, 2*cur up to max/2, else max; max = 32), in folios
#        of 4 times the hit folio's pages, marking the folio at its start
#        (as large as that page's alignment allows).
#        R 0: soft (1), fault-around maps 2, 3 (not 1).  R 1: soft (2);
#        its folio is the state's mark: window 4..11 (4 <= 16: 8 pages; 8
#        reads) in folios of 4, folio 4..7 marked.  R 3: mapped.  R 5: soft
#        (3); fault-around maps 8..11, not 4, 6, 7; its folio is not the
#        state's mark (4): from 12, the first page not in memory,
#        next_ra_size(12 - 5 + 1 = 8) = 16 pages: 12..27 (16 reads), in
#        folios of 16 but 12 is aligned to 4 only: 12..15 marked.  R 6:
#        soft (4), fault-around maps 4, 7.  R 4: mapped.  R 12: soft (5);
#        the state's mark: window 28..59 (16 <= 16: 32 pages; 32 reads).
#        R 60: hard (6); read-around 44..63 (60 - 16, clamped to the
#        file's 64 pages): 60..63 read (4 reads; 44..59 were cached), its
#        mark 44 + 32 - 8 = 68 beyond the file.  6 faults = 5 soft + 1
#        hard, 8 + 16 + 32 + 4 = 60 reads (marks of single pages would
#        have let R 5's fault-around map 6: 5 faults).  Measured on this
#        host: `ls -lR` cold with ASLR off takes one fault more than warm
#        on page 1 of ls and of libselinux; gcc's cc1 takes exactly the 7
#        major faults of the model, its text pages 4,096 on read ahead
#        when a touch of page 2,051 hits the folio 2,048..2,051
#        (docs/validation.md).
#     f. an executable view (VM_EXEC; Linux 6.16 and later) reads ahead
#        from the faulting page to the view's end, with no mark, instead
#        of around it: file 9 mapped execute_read over its first 48 pages.
#        R 40: hard (1), reads 40..47 (8).  R 39: hard (2), reads 39 (1).
#        R 8: hard (3), reads 8..38 (31).  3 hard faults, 40 reads.  (A
#        window around the page would read 24..47 at R 40, leave R 39 a
#        soft fault and read 0..23 at R 8: 2 hard, 1 soft, 48 reads.)
#        Measured: a 16 MiB file mapped PROT_READ|PROT_EXEC and touched
#        backwards takes 4,096 major faults, mapped PROT_READ 4.
#  7. fault-around's window (Linux's do_fault_around, pagecache.warm = all,
#     fault-around 16): it starts at the faulting page aligned down to 16
#     pages, or at the VMA's start when that is later, and spans 16 pages
#     from that start.  File 9 mapped at page 0x4000c, 12 pages
#     (0x4000c..0x40017, across the aligned boundary 0x40010).
#     a. R 0x4000c: the window starts at the VMA (0x4000c), 16 pages: all
#        12 mapped; R 0x40017 no fault: 1 fault (a window aligned at
#        0x40000 and clipped would map 0x4000c..f only: 2 faults).
#     b. R 0x40016 first: window 0x40010..0x4001f, clipped: 0x40010..17;
#        then R 0x4000c: a fault, window from the VMA start: 2 faults.
#     c. b with file.fault_around_phase = 8 (every address 8 pages
#        higher: the VMA at 0x40014..0x4001f): R 0x40016 (0x4001e)
#        aligns to 0x40010, before the VMA: the window is the whole VMA;
#        R 0x4000c no fault: 1 fault.
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

cat >"$tmp/ra.addr" <<'T'
V MMAP 0x40000000 0x40000 readonly private 9 0x0 1
R 0x40028000 1
R 0x40029000 1
R 0x4002f000 1
R 0x4001e000 1
R 0x4003c000 1
T
"$bin" run --os linux -s pagecache.warm=none -s file.readaround=32 --json "$tmp/ra.addr" >"$tmp/ra.json" 2>"$tmp/ra.err"
check "read-around: 4 faults, 2 hard, 2 soft, 40 file reads" \
	'[ "$(get "$tmp/ra.json" faults)" = 4 ] && [ "$(get "$tmp/ra.json" faults_hard)" = 2 ] && [ "$(get "$tmp/ra.json" faults_soft)" = 2 ] && [ "$(get "$tmp/ra.json" file_reads)" = 40 ]'
"$bin" run --os linux -s pagecache.warm=none -s file.readaround=32 --check "$tmp/ra.addr" >/dev/null 2>&1
check "read-around: the model's invariants hold (--check)" '[ $? = 0 ]'

printf '# cached pages\n9 40-47\n' >"$tmp/res.txt"
cat >"$tmp/res.addr" <<'T'
V MMAP 0x40000000 0x40000 readonly private 9 0x0 1
R 0x40029000 1
R 0x4002c000 1
R 0x40032000 1
T
"$bin" run --os linux -s pagecache.warm=none -s file.readaround=32 -s pagecache.resident="$tmp/res.txt" --json "$tmp/res.addr" >"$tmp/res.json" 2>"$tmp/res.err"
check "pagecache.resident: 2 faults (1 soft, 1 hard), 22 file reads" \
	'[ "$(get "$tmp/res.json" faults)" = 2 ] && [ "$(get "$tmp/res.json" faults_soft)" = 1 ] && [ "$(get "$tmp/res.json" faults_hard)" = 1 ] && [ "$(get "$tmp/res.json" file_reads)" = 22 ]'
printf '9 40-x\n' >"$tmp/bad.txt"
"$bin" run --os linux -s pagecache.warm=none -s pagecache.resident="$tmp/bad.txt" "$tmp/res.addr" >/dev/null 2>"$tmp/bad.err"
rc=$?
check "pagecache.resident: a bad line is a one-line error naming the file and line, exit 1" \
	'[ $rc = 1 ] && grep -q "bad.txt line 1: expected FIRST-LAST" "$tmp/bad.err" && [ "$(wc -l <"$tmp/bad.err")" = 1 ]'

cat >"$tmp/cow.addr" <<'T'
V MMAP 0x40000000 0x4000 readwrite private 9 0x0 1
W 0x40000000 1
T
"$bin" run --os linux -s pagecache.warm=none -s file.readaround=0 --json "$tmp/cow.addr" >"$tmp/cow.json" 2>&1
check "linux: a write to a private file page not cached is one hard fault (1 read)" \
	'[ "$(get "$tmp/cow.json" faults)" = 1 ] && [ "$(get "$tmp/cow.json" faults_hard)" = 1 ] && [ "$(get "$tmp/cow.json" faults_cow)" = 0 ] && [ "$(get "$tmp/cow.json" file_reads)" = 1 ]'
"$bin" run --os linux -s pagecache.warm=none -s file.readaround=0 -s file.cow_read_major=off --json "$tmp/cow.addr" >"$tmp/cow2.json" 2>&1
check "file.cow_read_major = off: the same write is a copy-on-write fault" \
	'[ "$(get "$tmp/cow2.json" faults_cow)" = 1 ] && [ "$(get "$tmp/cow2.json" faults_hard)" = 0 ]'

fr() { "$bin" run --os linux -s pagecache.warm=none -s file.readaround=32 --json "$1" >"$1.json" 2>"$1.err"; }
cat >"$tmp/fr_a.addr" <<'T'
V FREAD 9 0x0 0x340 1
V MMAP 0x40000000 0x40000 readonly private 9 0x0 1
R 0x40000000 1
R 0x40003000 1
R 0x40004000 1
T
fr "$tmp/fr_a.addr"
check "FREAD of a file's header: R 0 soft, R 3 mapped, R 4 hard: 2 faults, 1 soft, 1 hard, 28 reads" \
	'[ "$(get "$tmp/fr_a.addr.json" faults)" = 2 ] && [ "$(get "$tmp/fr_a.addr.json" faults_soft)" = 1 ] && [ "$(get "$tmp/fr_a.addr.json" faults_hard)" = 1 ] && [ "$(get "$tmp/fr_a.addr.json" file_reads)" = 28 ]'
grep -v FREAD "$tmp/fr_a.addr" >"$tmp/fr_n.addr"
fr "$tmp/fr_n.addr"
check "without the FREAD the first touch is the hard fault (R 0 hard, R 3 soft: cached by read-around)" \
	'[ "$(get "$tmp/fr_n.addr.json" faults_hard)" = 1 ] && [ "$(get "$tmp/fr_n.addr.json" faults)" = 2 ] && [ "$(get "$tmp/fr_n.addr.json" faults_soft)" = 1 ]'
"$bin" run --os linux -s pagecache.warm=none -s file.readaround=32 --check "$tmp/fr_a.addr" >/dev/null 2>&1
check "FREAD: the model's invariants hold (--check)" '[ $? = 0 ]'
cat >"$tmp/fr_b.addr" <<'T'
V FREAD 9 0x20000 0x2000 1
V MMAP 0x40000000 0x40000 readonly private 9 0x0 1
R 0x40021000 1
R 0x40022000 1
T
fr "$tmp/fr_b.addr"
check "FREAD with no history: the pages read alone (R 33 soft, R 34 hard)" \
	'[ "$(get "$tmp/fr_b.addr.json" faults)" = 2 ] && [ "$(get "$tmp/fr_b.addr.json" faults_soft)" = 1 ] && [ "$(get "$tmp/fr_b.addr.json" faults_hard)" = 1 ]'
cat >"$tmp/fr_c.addr" <<'T'
V FREAD 9 0x0 0x1000 1
V FREAD 9 0x4000 0x1000 1
V MMAP 0x40000000 0x40000 readonly private 9 0x0 1
R 0x4000c000 1
R 0x4001e000 1
R 0x4001f000 1
T
fr "$tmp/fr_c.addr"
check "FREAD of a sequential stream: 9 pages from page 4, the last one's mark reads 13..30 (R 12 soft, R 30 soft, R 31 hard)" \
	'[ "$(get "$tmp/fr_c.addr.json" faults)" = 3 ] && [ "$(get "$tmp/fr_c.addr.json" faults_soft)" = 2 ] && [ "$(get "$tmp/fr_c.addr.json" faults_hard)" = 1 ]'
"$bin" run --os textbook -s pagecache.warm=none -s file.readaround=32 --json "$tmp/fr_a.addr" >"$tmp/tb_a.json" 2>&1
"$bin" run --os textbook -s pagecache.warm=none -s file.readaround=32 --json "$tmp/fr_n.addr" >"$tmp/tb_n.json" 2>&1
check "textbook ignores FREAD (same faults and reads as without it)" \
	'[ "$(get "$tmp/tb_a.json" faults)" = "$(get "$tmp/tb_n.json" faults)" ] && [ "$(get "$tmp/tb_a.json" file_reads)" = "$(get "$tmp/tb_n.json" file_reads)" ]'
cat >"$tmp/fr_e.addr" <<'T'
V FREAD 9 0x0 0x340 1
V MMAP 0x40000000 0x40000 readonly private 9 0x0 1
R 0x40000000 1
R 0x40001000 1
R 0x40003000 1
R 0x40005000 1
R 0x40006000 1
R 0x40004000 1
R 0x4000c000 1
R 0x4003c000 1
T
fr "$tmp/fr_e.addr"
check "read-ahead marks: marked folios left to their own faults, each mark's fault reads the next window: 6 faults, 5 soft, 1 hard, 60 reads" \
	'[ "$(get "$tmp/fr_e.addr.json" faults)" = 6 ] && [ "$(get "$tmp/fr_e.addr.json" faults_soft)" = 5 ] && [ "$(get "$tmp/fr_e.addr.json" faults_hard)" = 1 ] && [ "$(get "$tmp/fr_e.addr.json" file_reads)" = 60 ]'
"$bin" run --os linux -s pagecache.warm=none -s file.readaround=32 --check "$tmp/fr_e.addr" >/dev/null 2>&1
check "read-ahead marks: the model's invariants hold (--check)" '[ $? = 0 ]'
cat >"$tmp/fr_f.addr" <<'T'
V MMAP 0x50000000 0x30000 execute_read private 9 0x0 1
R 0x50028000 1
R 0x50027000 1
R 0x50008000 1
T
fr "$tmp/fr_f.addr"
check "executable view: read-ahead from the faulting page to the view's end: 3 hard faults, 40 reads" \
	'[ "$(get "$tmp/fr_f.addr.json" faults)" = 3 ] && [ "$(get "$tmp/fr_f.addr.json" faults_hard)" = 3 ] && [ "$(get "$tmp/fr_f.addr.json" file_reads)" = 40 ]'
"$bin" convert "$tmp/fr_c.addr" "$tmp/fr_c.vmt" 2>/dev/null && "$bin" convert --addr "$tmp/fr_c.vmt" "$tmp/fr_c.back" 2>/dev/null
check "FREAD: addr -> vmt -> addr keeps the events exactly" \
	'grep -x "V FREAD 9 0x0 0x1000 1" "$tmp/fr_c.back" >/dev/null && grep -x "V FREAD 9 0x4000 0x1000 1" "$tmp/fr_c.back" >/dev/null'
"$bin" info "$tmp/fr_c.vmt" >"$tmp/fr_c.info" 2>&1
check "vmlab info counts FREAD events" 'grep -i "fread" "$tmp/fr_c.info" | grep -q 2'
printf 'V FREAD 9 zz 0x10\n' >"$tmp/fr_bad.addr"
"$bin" run --os linux "$tmp/fr_bad.addr" >/dev/null 2>"$tmp/fr_bad.err"
rc=$?
check "V FREAD with a bad offset: a one-line error naming the file and what was expected" \
	'[ $rc != 0 ] && grep -q "fr_bad.addr" "$tmp/fr_bad.err" && grep -q "an offset" "$tmp/fr_bad.err" && [ "$(wc -l <"$tmp/fr_bad.err")" = 1 ]'
printf 'V FREAD 9 0x0 0x80000000\nR 0x1000\n' >"$tmp/fr_big.addr"
"$bin" run --os linux -s pagecache.warm=none "$tmp/fr_big.addr" >/dev/null 2>"$tmp/fr_big.err"
rc=$?
check "V FREAD longer than Linux's largest read: a one-line error naming the file, exit 1" \
	'[ $rc = 1 ] && grep -q "fr_big.addr.*at most 0x7ffff000" "$tmp/fr_big.err" && [ "$(wc -l <"$tmp/fr_big.err")" = 1 ]'
fa() { "$bin" run --os linux -s pagecache.warm=all -s file.fault_around=16 --json "$@" 2>&1; }
printf 'V MMAP 0x4000c000 0xc000 readonly private 9 0x0 1\nR 0x4000c000 1\nR 0x40017000 1\n' >"$tmp/fa_a.addr"
fa "$tmp/fa_a.addr" >"$tmp/fa_a.json"
check "fault-around from a VMA start inside an aligned window: 16 pages from the start (1 fault)" \
	'[ "$(get "$tmp/fa_a.json" faults)" = 1 ]'
printf 'V MMAP 0x4000c000 0xc000 readonly private 9 0x0 1\nR 0x40016000 1\nR 0x4000c000 1\n' >"$tmp/fa_b.addr"
fa "$tmp/fa_b.addr" >"$tmp/fa_b.json"
check "fault-around: the aligned window past the VMA start, then the VMA's first window (2 faults)" \
	'[ "$(get "$tmp/fa_b.json" faults)" = 2 ]'
fa -s file.fault_around_phase=8 "$tmp/fa_b.addr" >"$tmp/fa_c.json"
check "file.fault_around_phase = 8: the same accesses are in one window (1 fault)" \
	'[ "$(get "$tmp/fa_c.json" faults)" = 1 ]'
finish

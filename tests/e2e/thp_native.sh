#!/bin/sh
# Transparent huge pages in an anonymous mmap, against Linux (issue 15's
# whole-program path): a program maps 8 MiB anonymous, advises hugepage
# over the 2 MiB-aligned 4 MiB inside it (madvise splits the VMA) and
# writes every page.  Linux with thp.enabled = madvise (or always) takes
# one fault per 2 MiB page and one per 4 KiB page elsewhere: about
# 2 + 1024 + the program's start, where a model without THP in the
# mapping counts 2048 + the start.
#
#  1. vmlab validate -- PROG: the model's total within 2 % of Linux's
#     (the replay takes the host's thp.enabled);
#  2. with THP on (madvise or always here): both counts under 1,300, far
#     from the 2,048 faults the writes alone would take without THP.
bindir=$1
. "$(dirname "$0")/../e2e-lib.sh"
bin=$(cd "$bindir" && pwd)/vmlab
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! command -v qemu-x86_64 >/dev/null || ! command -v cc >/dev/null; then
	check "qemu-x86_64 and cc are installed (make deps)" false
	finish
	exit 1
fi
cat >"$tmp/t.c" <<'C'
#include <stdint.h>
#include <sys/mman.h>
int main(void)
{
	size_t len = 8u << 20;
	char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	uintptr_t a = ((uintptr_t)p + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1);
	if (madvise((void *)a, 4u << 20, MADV_HUGEPAGE))
		return 2;
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	return 0;
}
C
cc -O1 -o "$tmp/t" "$tmp/t.c"
(cd "$tmp" && "$bin" validate -r 3 --warm-only --json -- ./t) >"$tmp/v.json" 2>"$tmp/v.err"
python3 - "$tmp/v.json" >"$tmp/chk" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1])):
    if r["workload"] == "t" and r["event"] == "page_faults":
        print("pf", r["measured"], r["simulated"])
PY
cat "$tmp/chk"
m=$(awk '/^pf/ { print $2 }' "$tmp/chk")
s=$(awk '/^pf/ { print $3 }' "$tmp/chk")
check "validate -- PROG gave the total row, measured and simulated" '[ -n "$m" ] && [ -n "$s" ] && [ "$m" != None ] && [ "$s" != None ]'
check "the model's page faults ($s) within 2% of Linux's ($m)" \
	"python3 -c 'import sys; m, s = int(sys.argv[1]), int(sys.argv[2]); sys.exit(abs(s - m) > 0.02 * m)' '$m' '$s'"
if grep -q -E '\[(madvise|always)\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
	check "THP on here: both under 1,300 faults (2,048 writes without THP)" '[ "$m" -lt 1300 ] && [ "$s" -lt 1300 ]'
fi
finish

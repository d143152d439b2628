#!/bin/sh
# Write a small synthetic addr trace: N accesses, 70% to a hot set of 64
# pages, the rest spread over 448 more; a quarter of them writes.  The same
# SEED gives the same bytes (a fixed LCG), so tests can regenerate it.
#   usage: sh gen-trace.sh SEED N > FILE
awk -v seed="$1" -v n="$2" 'BEGIN {
	s = seed
	for (i = 0; i < n; i++) {
		s = (s * 1103515245 + 12345) % 2147483648
		r = s % 100
		if (r < 70) p = int(s / 100) % 64; else p = 64 + int(s / 100) % 448
		printf "%s 0x%x\n", (r % 4 == 0) ? "W" : "R", (p + 16 * seed) * 4096 + s % 4096
	}
}'

#!/usr/bin/env python3
# Full 2Q as in Johnson and Shasha, VLDB'94, section 2.2 (Kin = 25%, Kout = 50%
# of the page slots, floored); a page found in A1out leaves it for Am.
import sys
from collections import OrderedDict as OD
def twoq(trace, c, kin_pct=25, kout_pct=50):
    kin = c * kin_pct // 100; kout = c * kout_pct // 100
    A1in, A1out, Am = OD(), OD(), OD()   # first = tail (oldest), last = head
    miss = 0
    def reclaim():
        if len(A1in) + len(Am) < c:
            return
        # (the pseudocode assumes Am is not empty when A1in is within Kin)
        if len(A1in) > kin or not Am:
            y, _ = A1in.popitem(last=False)
            A1out[y] = 1
            if len(A1out) > kout:
                A1out.popitem(last=False)
        else:
            Am.popitem(last=False)
    for x in trace:
        if x in Am:
            Am.move_to_end(x); continue
        if x in A1in:
            continue
        miss += 1
        if x in A1out:
            reclaim(); A1out.pop(x, None); Am[x] = 1
        else:
            reclaim(); A1in[x] = 1
    return miss
trace = [l.strip() for l in open(sys.argv[1]) if l.strip() and l.strip() != '*']
for c in map(int, sys.argv[2:]):
    print(sys.argv[1].split('/')[-1].split('.')[0], c, twoq(trace, c))

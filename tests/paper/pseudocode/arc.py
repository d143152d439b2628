#!/usr/bin/env python3
# ARC as printed in Megiddo & Modha, FAST'03, Figure 4; p exact (Fraction).
import sys
from collections import OrderedDict as OD
from fractions import Fraction
def arc(trace, c):
    T1, T2, B1, B2 = OD(), OD(), OD(), OD()
    p = Fraction(0); miss = 0
    def replace(in_b2):
        if len(T1) >= 1 and ((in_b2 and len(T1) == p) or len(T1) > p):
            y, _ = T1.popitem(last=False); B1[y] = 1
        else:
            y, _ = T2.popitem(last=False); B2[y] = 1
    for x in trace:
        if x in T1:
            del T1[x]; T2[x] = 1; continue
        if x in T2:
            T2.move_to_end(x); continue
        miss += 1
        if x in B1:
            d = 1 if len(B1) >= len(B2) else Fraction(len(B2), len(B1))
            p = min(p + d, c); replace(False); del B1[x]; T2[x] = 1
        elif x in B2:
            d = 1 if len(B2) >= len(B1) else Fraction(len(B1), len(B2))
            p = max(p - d, 0); replace(True); del B2[x]; T2[x] = 1
        else:
            L1 = len(T1) + len(B1); L2 = len(T2) + len(B2)
            if L1 == c:
                if len(T1) < c:
                    B1.popitem(last=False); replace(False)
                else:
                    T1.popitem(last=False)
            elif L1 < c and L1 + L2 >= c:
                if L1 + L2 == 2 * c:
                    B2.popitem(last=False)
                replace(False)
            T1[x] = 1
    return miss
trace = [l.strip() for l in open(sys.argv[1]) if l.strip() and l.strip() != '*']
for c in map(int, sys.argv[2:]):
    print(sys.argv[1].split('/')[-1].split('.')[0], c, arc(trace, c))

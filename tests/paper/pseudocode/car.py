#!/usr/bin/env python3
# CAR as in Bansal and Modha, FAST'04, Figure 2; p exact (Fraction).
import sys
from collections import OrderedDict as OD
from fractions import Fraction
def car(trace, c):
    T1, T2 = OD(), OD()   # clocks: first = head (under the hand), last = tail; value = ref bit
    B1, B2 = OD(), OD()   # first = LRU, last = MRU
    p = Fraction(0); miss = 0
    def replace():
        while True:
            if len(T1) >= max(1, p):
                y, bit = next(iter(T1.items()))
                del T1[y]
                if bit == 0:
                    B1[y] = 1; return
                T2[y] = 0
            else:
                y, bit = next(iter(T2.items()))
                del T2[y]
                if bit == 0:
                    B2[y] = 1; return
                T2[y] = 0
    for x in trace:
        if x in T1: T1[x] = 1; continue
        if x in T2: T2[x] = 1; continue
        miss += 1
        inB = x in B1 or x in B2
        if len(T1) + len(T2) == c:
            replace()
            if not (x in B1 or x in B2) and len(T1) + len(B1) == c:
                B1.popitem(last=False)
            elif len(T1) + len(T2) + len(B1) + len(B2) == 2 * c and not (x in B1 or x in B2):
                B2.popitem(last=False)
        if not (x in B1 or x in B2):
            T1[x] = 0
        elif x in B1:
            p = min(p + max(1, Fraction(len(B2), len(B1))), c)
            del B1[x]; T2[x] = 0
        else:
            p = max(p - max(1, Fraction(len(B1), len(B2))), 0)
            del B2[x]; T2[x] = 0
    return miss
trace = [l.strip() for l in open(sys.argv[1]) if l.strip() and l.strip() != '*']
for c in map(int, sys.argv[2:]):
    print(sys.argv[1].split('/')[-1].split('.')[0], c, car(trace, c))

"""Independent textbook simulator for the sweep tests: fault counts of FIFO
and LRU with N frames on an addr trace (one global pool, every miss a
fault, nothing else).  Written apart from the engine, on purpose.

usage: python3 lru_fifo.py TRACE POLICY FRAMES  -> prints the fault count
"""
import sys
from collections import OrderedDict

def faults(path, policy, frames):
    res = OrderedDict()
    n = 0
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            page = int(parts[1], 16) >> 12
            if page in res:
                if policy == "lru":
                    res.move_to_end(page)
                continue
            n += 1
            if len(res) >= frames:
                res.popitem(last=False)
            res[page] = True
    return n

if __name__ == "__main__":
    print(faults(sys.argv[1], sys.argv[2], int(sys.argv[3])))

"""Compare two vmlab results files written by sweeps, run by run.

usage: python3 h5same.py A.h5 B.h5

Every dataset of every run (counters, processes, timeline) must be equal
element by element, every run attribute except the timings (and 'created')
equal, and /summary equal row by row except wall_seconds.  Prints the
differences and exits 1, or prints 'same: N runs' and exits 0.
"""
import sys
import h5py
import numpy as np

TIMING = {"created", "modified", "wall_seconds", "decode_seconds", "sim_seconds", "prepass_seconds"}

def main(a, b):
    fa, fb = h5py.File(a, "r"), h5py.File(b, "r")
    errs = []
    for f, name in ((fa, a), (fb, b)):
        if f.attrs.get("status") != b"complete":
            errs.append("%s: status is not complete" % name)
    ra, rb = sorted(fa["runs"]), sorted(fb["runs"])
    if ra != rb:
        errs.append("run lists differ: %s vs %s" % (ra, rb))
    for r in sorted(set(ra) & set(rb)):
        ga, gb = fa["runs"][r], fb["runs"][r]
        if sorted(ga) != sorted(gb):
            errs.append("%s: datasets %s vs %s" % (r, sorted(ga), sorted(gb)))
        for d in sorted(set(ga) & set(gb)):
            x, y = ga[d][()], gb[d][()]
            if x.dtype != y.dtype or x.shape != y.shape or not np.array_equal(x, y):
                errs.append("%s/%s differs" % (r, d))
        ka = {k for k in ga.attrs if k not in TIMING}
        kb = {k for k in gb.attrs if k not in TIMING}
        if ka != kb:
            errs.append("%s: attributes %s vs %s" % (r, sorted(ka), sorted(kb)))
        for k in sorted(ka & kb):
            if not np.array_equal(ga.attrs[k], gb.attrs[k]):
                errs.append("%s: attribute %s differs" % (r, k))
    sa, sb = fa["summary"][()], fb["summary"][()]
    if sa.dtype.names != sb.dtype.names or len(sa) != len(sb):
        errs.append("/summary shapes differ")
    else:
        for col in sa.dtype.names:
            if col != "wall_seconds" and not np.array_equal(sa[col], sb[col]):
                errs.append("/summary column %s differs" % col)
    if errs:
        print("\n".join(errs))
        return 1
    print("same: %d runs" % len(ra))
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

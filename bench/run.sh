#!/bin/sh
# make bench: print the throughput figures the issues ask for.
#   usage: bench/run.sh BINDIR BENCHDIR
set -eu
bindir=$1
benchdir=$2
echo "== vmlab bench ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -m))"
"$benchdir/bench_engine"
echo
echo "== end to end: vmlab run on the bundled lackey trace (decode + simulate)"
"$bindir/vmlab" run -s memory.frames=64 traces/samples/gzip-lackey.trace.gz | tail -n 1
echo
echo "== miss-ratio curves: one pass of LRU stack distances, and SHARDS at 1%"
"$benchdir/bench_mrc" || true

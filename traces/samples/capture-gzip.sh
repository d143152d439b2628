#!/bin/sh
# Re-capture traces/samples/gzip-lackey.trace.gz: every load, store and
# instruction fetch of `gzip -9` compressing the first 3000 bytes of
# sim/engine.c, recorded by valgrind's lackey tool.
#   usage: sh traces/samples/capture-gzip.sh   (from the repository root)
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 3000 sim/engine.c >"$tmp/in.txt"
valgrind --tool=lackey --trace-mem=yes --log-file="$tmp/trace" gzip -9 -c "$tmp/in.txt" >/dev/null
gzip -9 -c "$tmp/trace" >traces/samples/gzip-lackey.trace.gz
echo "wrote traces/samples/gzip-lackey.trace.gz ($(wc -l <"$tmp/trace") lines)"

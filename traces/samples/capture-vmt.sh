#!/bin/sh
# Re-capture the .vmt samples of traces/samples/ (see README.md there).
#   usage: sh traces/samples/capture-vmt.sh   (from the repository root, after make
#   and make all-tests, which builds build/release/bench/vmt_recompress)
# Inputs are the repository's own files, so the captures are reproducible
# up to the addresses the loader picks (ASLR).  Programs run in a temporary
# directory with relative file names, so the recorded command lines carry
# no machine-specific paths.
set -eu
root=$(pwd)
bin=$root/build/vmlab
out=$root/traces/samples
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 8192 sim/engine.c >"$tmp/in8k.txt"
head -n 400 core/config.c >"$tmp/lines.txt"
cat traces/reader.c traces/vmt.c | head -c 32768 >"$tmp/in32k.txt"
clang -O2 $("$bin" capture --flags) bench/workloads/lz.c -o "$tmp/lz"
cd "$tmp"
# 1. gzip -9 of 8 KiB, qemu back end, with instruction fetches
"$bin" capture --backend qemu --ifetch -o "$out/gzip-qemu.vmt" -- gzip -9 -c in8k.txt >/dev/null
# 2. sort of 400 lines, valgrind lackey back end, with instruction fetches
"$bin" capture --backend lackey --ifetch -o "$out/sort-lackey.vmt" -- sort lines.txt >/dev/null
# 3. a small interpreter run: awk building and summing a table, qemu back end
"$bin" capture --backend qemu -o "$out/awk-qemu.vmt" -- awk \
	'BEGIN { for (i = 0; i < 5000; i++) t[i % 1000] += i * i; s = 0; for (k in t) s += t[k]; print s }' >/dev/null
# 4. the LZ77 workload of make bench on 32 KiB, rebuilt for the sancov back
#    end; its compression loop is a region of interest (vmlab run --roi)
"$bin" capture --backend sancov -o "$out/lz-sancov.vmt" -- ./lz in32k.txt >/dev/null
# 5. recompressed at zstd level 15, shortest match 6 (records and header
#    unchanged): they decode faster than the capture's level 3
#    (docs/benchmarks.md)
for f in gzip-qemu sort-lackey awk-qemu lz-sancov; do
	"$root/build/release/bench/vmt_recompress" "$out/$f.vmt" "$tmp/$f.vmt" 15 6
	mv "$tmp/$f.vmt" "$out/$f.vmt"
done
ls -l "$out"/*.vmt

#!/bin/sh
# Redraw the figures shown in docs/results.md: a sweep over the two sample
# traces x 5 memory sizes x 4 policies x 2 seeds, then one figure of each
# kind, and the validation figure from `vmlab validate --suite` on this
# machine.  Takes about a minute.
#   usage: sh docs/figures/make-figures.sh [BINDIR]   (from the source tree; default build)
set -eu
bin=$(cd "${1:-build}" && pwd)/vmlab
here=$(pwd)
out=$here/docs/figures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/exp.ini" <<EOT
[experiment]
name = docs-figures
traces = $here/traces/samples/sort-lackey.vmt, $here/traces/samples/awk-qemu.vmt
os = textbook
[vary]
memory.frames = 16, 32, 64, 128, 256
replacement.policy = fifo, lru, clock, random
run.seed = 1, 2
[set]
stats.interval = 100000
EOT
"$bin" sweep "$tmp/exp.ini" -o "$tmp/sw" -j 2
h5=$tmp/sw/all.h5
p() { "$bin" plot "$h5" "$@"; }
p mrc --by policy --facet trace --logx --logy --errors range --size 900x380 -o "$tmp/mrc.png"
p bars --by policy --facet trace --logy --size 900x380 -o "$tmp/bars.png"
p tlb --by policy --facet trace --where frames=64 --size 900x380 -o "$tmp/tlb.png"
p timeline --by policy --where trace=sort-lackey --where frames=64 --size 900x420 -o "$tmp/timeline.png"
"$bin" validate --suite -r 1 --size 1 -o "$tmp/val.h5" >/dev/null 2>&1 || true
[ -s "$tmp/val.h5" ] && "$bin" plot "$tmp/val.h5" validation --size 900x900 -o "$tmp/validation.png"
for f in "$tmp"/*.png; do cp "$f" "$out/"; done
ls -l "$out"/*.png

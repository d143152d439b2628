#!/bin/sh
# Redraw docs/figures/heap-python.png and print the numbers of the table
# "A Python run under each model" in docs/heap.md: a short python3 script
# captured with the qemu back end (PYTHONMALLOC=malloc: every object goes
# through malloc, not Python's own arenas), replayed with heap.model =
# captured, nt and segment under --os windows and glibc under --os linux,
# with a timeline row every 200,000 accesses.  About 15 s.
#   usage: sh docs/figures/make-heap-figure.sh [BINDIR]   (from the source tree; default build)
set -eu
bin=$(cd "${1:-build}" && pwd)/vmlab
out=$(pwd)/docs/figures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/w.py" <<'EOT'
# allocation-heavy: dicts, lists and strings built and dropped, then big buffers
d = {}
for i in range(4000):
    d[i] = ("x" * (i % 300), [i] * (i % 7))
for i in range(0, 4000, 2):
    del d[i]
s = sorted(d.items(), key=lambda kv: len(kv[1][0]))
for k in range(10):
    big = [bytes(200000) for _ in range(4)]
    del big
print(len(s))
EOT
(cd "$tmp" && PYTHONMALLOC=malloc "$bin" capture -o "$tmp/py.vmt" -- /usr/bin/python3 -S w.py >/dev/null)
run() { # ID OS MODEL
	"$bin" run --json --os "$2" -s heap.model="$3" -s stats.interval=200000 -o "$tmp/py.h5" \
		--run-id "$1" "$tmp/py.vmt" 2>/dev/null >"$tmp/$1.json"
}
run captured windows captured
run nt windows nt
run segment windows segment
run glibc-linux linux glibc
run captured-linux linux captured
echo "run accesses heap_allocs heap_frees heap_bytes_peak heap_committed_peak heap_decommits heap_releases commit_peak faults faults_demand_zero resident_peak"
for r in captured nt segment glibc-linux captured-linux; do
	python3 -c "
import json, sys
c = json.load(open(sys.argv[1]))['counters']
print(sys.argv[2], *(c[k] for k in sys.argv[3:]))
" "$tmp/$r.json" "$r" accesses heap_allocs heap_frees heap_bytes_peak heap_committed_peak heap_decommits \
		heap_releases commit_peak faults faults_demand_zero resident_peak
done
"$bin" plot "$tmp/py.h5" timeline --counter heap_committed --by run \
	--where run=captured,nt,segment,glibc-linux --size 720x400 \
	--title "python3 (PYTHONMALLOC=malloc): heap pages committed" -o "$tmp/heap-python.png"
cp "$tmp/heap-python.png" "$out/"
ls -l "$out/heap-python.png"

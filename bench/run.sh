#!/bin/sh
# make bench: print the throughput figures the issues ask for.
#   usage: bench/run.sh BINDIR BENCHDIR
set -eu
bindir=$1
benchdir=$2
echo "== vmlab bench ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -m), load average $(cut -d' ' -f1-3 /proc/loadavg))"
"$benchdir/bench_engine"
echo
echo "== end to end: vmlab run on the bundled lackey trace (decode + simulate)"
"$bindir/vmlab" run -s memory.frames=64 traces/samples/gzip-lackey.trace.gz | tail -n 1
echo
echo "== windows under memory pressure (issue 14; target: windows within 3x of textbook)"
echo "   2M Zipf(0.9) accesses over 200,000 pages, 20,000 frames, generic TLBs"
zdir=$(mktemp -d)
"$bindir/vmlab" gen zipf n=2000000 pages=200000 alpha=0.9 seed=3 -o "$zdir/z.vmt" >/dev/null
for os in textbook windows; do
	"$bindir/vmlab" run --os $os -s memory.frames=20000 "$zdir/z.vmt" >"$zdir/$os.txt"
	printf '   %-9s %s faults, %s\n' $os "$(sed -n 's/^  faults  *\([0-9]*\).*/\1/p' "$zdir/$os.txt")" \
		"$(grep '^time:' "$zdir/$os.txt")"
done
awk '/^time:/ {split($0, a, "simulate "); split(a[2], b, " "); t[FILENAME] = b[1]}
     END {for (f in t) if (f ~ /windows/) w = t[f]; else x = t[f];
	  if (x > 0) printf "   ratio windows / textbook (simulate seconds): %.2f\n", w / x}' \
	"$zdir/textbook.txt" "$zdir/windows.txt"
rm -rf "$zdir"

echo
echo "== miss-ratio curves: one pass of LRU stack distances, and SHARDS at 1%"
"$benchdir/bench_mrc" || true

echo
echo "== .vmt: size and decode speed on traces captured from real programs (targets: <= 2 bytes/access, >= 300M records per CPU second on every sample)"
echo "   \$ $benchdir/bench_vmt FILE 1   (gzip-lackey first: vmlab convert --level 15 traces/samples/gzip-lackey.trace.gz FILE); load average $(cut -d' ' -f1-3 /proc/loadavg)"
vmtdir=$(mktemp -d)
trap 'rm -rf "$vmtdir"' EXIT
for s in traces/samples/*.trace.gz traces/samples/*.vmt; do
	[ -e "$s" ] || continue
	case $s in
	*.vmt) v=$s ;;
	*) v=$vmtdir/$(basename "$s" .trace.gz).vmt; "$bindir/vmlab" convert --level 15 "$s" "$v" 2>/dev/null ;;
	esac
	"$benchdir/bench_vmt" "$v" 1
done

echo
echo "== throughput against the yardstick loop (issue 16; bench/throughput.sh)"
sh bench/throughput.sh "$bindir" "$benchdir"

echo
echo "== capture back ends (vmlab capture)"
sh bench/capture.sh "$bindir"

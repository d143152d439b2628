#!/bin/sh
# make fuzz: run every libFuzzer target for FUZZ_SECONDS (default 20) each,
# starting from seeds made here (a valid small file of each format).
#   usage: tests/fuzz/run.sh FUZZDIR BINDIR
# Ends with "N passed, N failed" (one per target); a crash, leak or
# sanitizer report fails its target and leaves the input in FUZZDIR/crash-*.
set -u
dir=$1
bin=$2/vmlab
secs=${FUZZ_SECONDS:-20}
pass=0
fail=0
seeds=$dir/seeds
rm -rf "$seeds"
mkdir -p "$seeds"
# one small valid seed per format
printf 'R 0x1000\nW 4096 2\nI 0x401000\n# c\n' >"$seeds/addr"
printf '==1== x\nI  0401ab70,3\n L 04028e48,8\n S 1fff000d88,8\n M 0402b010,4\n**1** vmlab-roi-begin\n' >"$seeds/lackey"
printf '0041f7a0 R\n13f5e2c0 W\n' >"$seeds/vmsim"
printf '2 400140 8fa40000\n0 7ffebc64 0\n1 10010008\n' >"$seeds/din"
printf '0x40058b: W 0x7ffd4a8c\n0x40058f: R 0x601040\n#eof\n' >"$seeds/pin"
python3 -c "
import struct, sys
open('$seeds/champsim', 'wb').write(struct.pack('<QBB2B4B2Q4Q', 0x400000, 1, 1, 1, 2, 3, 4, 5, 6, 0x7000, 0, 0x8000, 0, 0, 0) * 3)
open('$seeds/raw', 'wb').write(struct.pack('<3Q', 0x1000, 0x2000, 0x7fff0000))
"
"$bin" gen mix n=3000 procs=2 -o "$seeds/vmt" 2>/dev/null
"$bin" convert --chunk 100 "$seeds/lackey" "$seeds/vmt2" 2>/dev/null
gzip -c "$seeds/addr" >"$seeds/addr.gz"
zstd -q -c "$seeds/lackey" >"$seeds/lackey.zst"
xz -c "$seeds/din" >"$seeds/din.xz"
for t in "$dir"/fuzz_*; do
	[ -x "$t" ] || continue
	name=${t##*/fuzz_}
	corpus=$dir/corpus-$name
	mkdir -p "$corpus"
	case $name in
	auto) cp "$seeds"/* "$corpus"/ ;;
	vmt) cp "$seeds/vmt" "$seeds/vmt2" "$corpus"/ ;;
	*) cp "$seeds/$name"* "$corpus"/ ;;
	esac
	echo "== $name: $secs s"
	if "$t" -max_total_time="$secs" -max_len=65536 -artifact_prefix="$dir/crash-$name-" \
		-print_final_stats=1 "$corpus" >"$dir/$name.log" 2>&1; then
		echo "ok - fuzz $name ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/$name.log" | grep -o '[0-9]*$') runs)"
		pass=$((pass + 1))
	else
		tail -n 30 "$dir/$name.log"
		echo "not ok - fuzz $name (see $dir/$name.log)"
		fail=$((fail + 1))
	fi
done
# the model fuzzer: seeds are a few records of each kind, as words
t=$dir/model/fuzz_model
if [ -x "$t" ]; then
	msecs=${FUZZ_MODEL_SECONDS:-60}
	corpus=$dir/corpus-model
	mkdir -p "$corpus"
	python3 -c "
import random, struct
r = random.Random(1)
for k in range(4):
    open('$corpus/seed%d' % k, 'wb').write(b''.join(struct.pack('<Q', r.getrandbits(64)) for _ in range(64)))
"
	echo "== model: $msecs s"
	if "$t" -max_total_time="$msecs" -max_len=8192 -artifact_prefix="$dir/crash-model-" \
		-print_final_stats=1 "$corpus" >"$dir/model.log" 2>&1; then
		echo "ok - fuzz model ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/model.log" | grep -o '[0-9]*$') runs)"
		pass=$((pass + 1))
	else
		tail -n 30 "$dir/model.log"
		echo "not ok - fuzz model (see $dir/model.log)"
		fail=$((fail + 1))
	fi
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]

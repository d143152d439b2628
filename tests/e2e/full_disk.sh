#!/bin/sh
# A full disk (a small tmpfs filled up): every command that writes a file
# (run -o, with and without a timeline, appending; sweep -o; sweep
# --collect; gen -o; convert -o, .vmt and addr text) must fail with one
# error line naming the target and the system's reason, exit 1 (not die of
# a signal: libhdf5 1.10 used to crash in its exit handler after a failed
# write), leave the target exactly as it was and leave no temporary file.
# Mounting needs root (or a user namespace); without it the script says
# SKIP and reports nothing passed, so a skip never reads as a pass.
#   usage: sh tests/e2e/full_disk.sh BINDIR
bindir=$1
. "$(dirname "$0")/../e2e-lib.sh"
bin=$(cd "$bindir" && pwd)/vmlab
m=$tmp/disk
mkdir -p "$m"
if ! mount -t tmpfs -o size=1m tmpfs "$m" 2>"$tmp/mount.err"; then
	echo "SKIP - cannot mount a tmpfs ($(head -n 1 "$tmp/mount.err")): full-disk cases not run"
	finish
	exit
fi
trap 'umount "$m" 2>/dev/null; rm -rf "$tmp"' EXIT
trace=$root/traces/samples/gzip-lackey.trace.gz

# Fill the tmpfs so that only about $1 KiB stay free (tmpfs counts whole
# 4 KiB pages, so a few KiB either way).
fill_leaving() {
	rm -f "$m/fill"
	avail=$(df -k "$m" | awk 'NR == 2 { print $4 }')
	n=$((avail - $1))
	[ "$n" -gt 0 ] && dd if=/dev/zero of="$m/fill" bs=1k count=$n 2>/dev/null
	true
}
# Temporary files anywhere under the tmpfs (.NAME.tmp-XXXXXX).
temps() { find "$m" -name '.*.tmp-*' | wc -l; }
sum() { if [ -e "$1" ]; then md5sum <"$1"; else echo absent; fi; }
# The common checks after one failing command: $1 what, $2 its status,
# $3 target, $4 the target's sum before.
failed_cleanly() {
	fc_rc=$2 fc_target=$3 fc_before=$4
	check "$1: exit 1 (status $fc_rc)" '[ "$fc_rc" -eq 1 ]'
	check "$1: one error line naming the target and 'No space left on device'" \
		'[ $(grep -c . "$tmp/err") -eq 1 ] &&
		 grep -q "^vmlab: .*$(basename "$fc_target").*No space left on device" "$tmp/err"' ||
		sed 's/^/#   /' "$tmp/err"
	check "$1: the target is as it was" '[ "$(sum "$fc_target")" = "$fc_before" ]'
	check "$1: no temporary file left" '[ $(temps) -eq 0 ]'
}

# ---- run -o: a new file, then appending with a timeline ----
fill_leaving 8
before=$(sum "$m/new.h5")
"$bin" run --os textbook -s memory.frames=64 -o "$m/new.h5" "$trace" >/dev/null 2>"$tmp/err"
failed_cleanly "run -o, new file" $? "$m/new.h5" "$before"

rm -f "$m/fill"
"$bin" run --os textbook -s memory.frames=64 -o "$m/r.h5" "$trace" >/dev/null 2>"$tmp/err"
check "run -o with room: exit 0" '[ $? -eq 0 ] && [ -s "$m/r.h5" ]'
fill_leaving 8
before=$(sum "$m/r.h5")
"$bin" run --os textbook -s memory.frames=64 -s stats.interval=20 -o "$m/r.h5" "$trace" \
	>/dev/null 2>"$tmp/err"
failed_cleanly "run -o appending a run with a 45,672-row timeline" $? "$m/r.h5" "$before"
"$bin" report "$m/r.h5" >"$tmp/report" 2>&1
check "the file still reads as complete, with its one run" \
	'[ $? -eq 0 ] && grep -q "1 run" "$tmp/report"'

# ---- gen -o and convert -o ----
for out in g.vmt g.addr; do
	for pre in absent old; do
		rm -f "$m/$out" "$m/fill"
		[ $pre = old ] && echo "an older file" >"$m/$out"
		fill_leaving 16
		before=$(sum "$m/$out")
		"$bin" gen uniform n=1000000 -o "$m/$out" >/dev/null 2>"$tmp/err"
		failed_cleanly "gen -o $out (target $pre)" $? "$m/$out" "$before"
	done
done
for out in c.vmt c.addr; do
	args=
	[ $out = c.addr ] && args=--addr
	rm -f "$m/$out" "$m/fill"
	echo "an older file" >"$m/$out"
	fill_leaving 16
	before=$(sum "$m/$out")
	# shellcheck disable=SC2086
	"$bin" convert $args "$trace" "$m/$out" >/dev/null 2>"$tmp/err"
	failed_cleanly "convert $args to $out (target old)" $? "$m/$out" "$before"
done
rm -f "$m"/*.vmt "$m"/*.addr "$m"/*.h5 "$m"/.*.lock "$m/fill"

# ---- sweep: the merge into all.h5 on a full disk ----
mkdir -p "$tmp/exp/traces"
sh "$root/tests/sweep/gen-trace.sh" 1 30000 >"$tmp/exp/traces/a.addr"
cat >"$tmp/exp/g.ini" <<'EOF'
[experiment]
name = full
traces = traces/*.addr
os = textbook
[vary]
memory.frames = 32, 64
[set]
stats.interval = 50
EOF
"$bin" sweep "$tmp/exp/g.ini" -o "$m/sw" -j 1 >/dev/null 2>"$tmp/err"
check "sweep with room: exit 0, all.h5 written" '[ $? -eq 0 ] && [ -s "$m/sw/all.h5" ]'
fill_leaving 8
before=$(sum "$m/sw/all.h5")
"$bin" sweep --collect "$m/sw" >/dev/null 2>"$tmp/err"
failed_cleanly "sweep --collect over an existing all.h5" $? "$m/sw/all.h5" "$before"
rm -f "$m/sw/all.h5"
fill_leaving 8
"$bin" sweep "$tmp/exp/g.ini" -o "$m/sw" -j 1 >/dev/null 2>"$tmp/err.all"
rc=$?
grep '^vmlab:' "$tmp/err.all" >"$tmp/err"
failed_cleanly "sweep -o, cells complete, merge on a full disk" $rc "$m/sw/all.h5" absent
check "... and no partial.h5 either" '[ ! -e "$m/sw/partial.h5" ]'

# ---- sweep -o from scratch: cells cannot be written ----
rm -rf "$m/sw" "$m/fill"
fill_leaving 8
"$bin" sweep "$tmp/exp/g.ini" -o "$m/sw" -j 1 >/dev/null 2>"$tmp/err.all"
rc=$?
check "sweep -o with no room for cells: exit 1 (status $rc)" '[ $rc -eq 1 ]'
check "every error line says No space left on device" \
	'[ $(grep -c "^vmlab:" "$tmp/err.all") -ge 1 ] &&
	 [ $(grep "^vmlab:" "$tmp/err.all" | grep -vc "No space left on device") -eq 0 ]' ||
	sed 's/^/#   /' "$tmp/err.all"
check "no cell file, no all.h5, no temporary file" \
	'[ -z "$(ls "$m/sw/cells" 2>/dev/null | grep "\.h5$")" ] && [ ! -e "$m/sw/all.h5" ] && [ $(temps) -eq 0 ]'
finish

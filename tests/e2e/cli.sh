#!/bin/sh
# The command line teaches itself: every command's help (vmlab help CMD and
# CMD --help, the same text, exit 0), -V, the man page and the bash
# completion that make install puts in place (both generated from or
# reading the same help), and the one-line warnings on stderr for inputs
# that are likely mistakes.
#   usage: sh tests/e2e/cli.sh BINDIR
bindir=$1
. "$(dirname "$0")/../e2e-lib.sh"
bin=$(cd "$bindir" && pwd)/vmlab

# ---- help ----
cmds=$("$bin" help --list)
check "help --list names the commands (17, run first, help last)" \
	'[ $(echo "$cmds" | wc -l) -eq 17 ] && [ "$(echo "$cmds" | head -n 1)" = run ] &&
	 [ "$(echo "$cmds" | tail -n 1)" = help ]'
for c in $cmds; do
	"$bin" "$c" --help >"$tmp/h1" 2>"$tmp/e1"
	r1=$?
	"$bin" help "$c" >"$tmp/h2" 2>"$tmp/e2"
	r2=$?
	check "vmlab $c --help: exit 0, its usage on stdout, nothing on stderr" \
		'[ $r1 -eq 0 ] && head -n 1 "$tmp/h1" | grep -q "^usage: vmlab $c" && [ ! -s "$tmp/e1" ]'
	check "vmlab help $c: exit 0, the same text" '[ $r2 -eq 0 ] && cmp -s "$tmp/h1" "$tmp/h2"'
done
"$bin" help nosuch >/dev/null 2>"$tmp/e"
check "vmlab help nosuch: exit 2, one line" '[ $? -eq 2 ] && [ $(wc -l <"$tmp/e") -eq 1 ]'
"$bin" formats extra >/dev/null 2>&1
check "formats still refuses arguments (exit 2)" '[ $? -eq 2 ]'
v=$("$bin" version)
check "-V, --version and version print the same version line" \
	'echo "$v" | grep -q "^vmlab [0-9][0-9.]* (policy API [0-9]*)$" &&
	 [ "$("$bin" -V)" = "$v" ] && [ "$("$bin" --version)" = "$v" ]'

# ---- make install: the man page and the completion ----
install_to "$tmp/prefix" "$tmp/install.log"
man1=$tmp/prefix/share/man/man1/vmlab.1
comp=$tmp/prefix/share/bash-completion/completions/vmlab
check "make install puts share/man/man1/vmlab.1 and the bash completion" \
	'[ -s "$man1" ] && [ -s "$comp" ]' || tail -n 3 "$tmp/install.log"
missing=""
for c in $cmds; do grep -q "^\.SS \"vmlab $c\"" "$man1" || missing="$missing $c"; done
check "the man page has a section per command" '[ -z "$missing" ]' || echo "missing:$missing"
# the page's text of a command is its help: every line of `help sweep`
# appears in the sweep section (roff escapes undone)
sed -n '/^\.SS "vmlab sweep"/,/^\.fi/p' "$man1" | sed -e '1,2d' -e '$d' -e 's/\\e/\\/g' -e 's/^\\&//' \
	>"$tmp/man-sweep"
"$bin" help sweep >"$tmp/help-sweep"
check "the man page's sweep section is exactly vmlab help sweep" 'cmp -s "$tmp/man-sweep" "$tmp/help-sweep"'
if command -v groff >/dev/null; then
	groff -man -Tutf8 -ww -z "$man1" >"$tmp/groff.err" 2>&1
	check "groff formats it without warnings" '[ ! -s "$tmp/groff.err" ]' || head -n 3 "$tmp/groff.err"
fi
if command -v bash >/dev/null; then
	cat >"$tmp/comp.sh" <<'EOF'
. "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_vmlab
printf '%s\n' "${COMPREPLY[@]}"
EOF
	complete_() { bash "$tmp/comp.sh" "$comp" "$bin" "$@" | sort; }
	check "completion of the first word lists every command" \
		'[ "$(complete_ "" | grep -v "^-" | tr "\n" " ")" = "$(echo "$cmds" | sort | tr "\n" " ")" ]'
	check "completion of -s replacement.policy=l lists lfu, linux-lru, lirs, lru" \
		'[ "$(complete_ run -s replacement.policy=l | tr "\n" " ")" = "replacement.policy=lfu replacement.policy=linux-lru replacement.policy=lirs replacement.policy=lru " ]'
	check "as bash splits it (-s replacement.policy = s): s3fifo, sieve" \
		'[ "$(complete_ run -s replacement.policy = s | tr "\n" " ")" = "s3fifo sieve " ]'
	check "completion of -s memory.frag gives the key from vmlab config" \
		'[ "$(complete_ run -s memory.frag)" = "memory.fragmentation=" ]'
	check "completion of --os lists the os presets" \
		'[ "$(complete_ run --os "" | tr "\n" " ")" = "linux textbook windows " ]'
	check "completion of --machine intel lists its presets" \
		'[ "$(complete_ run --machine intel | tr "\n" " ")" = "intel-goldencove intel-skylake " ]'
	check "completion of sweep --pl offers --plugin (from vmlab help sweep)" \
		'[ "$(complete_ sweep --pl)" = "--plugin" ]'
fi

# ---- -o in a missing directory ----
printf 'R 0x1000\nR 0x2000\n' >"$tmp/t.addr"
"$bin" run -o "$tmp/nodir/r.h5" "$tmp/t.addr" >/dev/null 2>"$tmp/e"
check "-o nodir/r.h5: exit 1, one line naming the missing directory, not a temporary file" \
	'[ $? -eq 1 ] && [ $(wc -l <"$tmp/e") -eq 1 ] && grep -q "directory $tmp/nodir: does not exist" "$tmp/e" &&
	 ! grep -q "tmp-\|\.lock" "$tmp/e"' || cat "$tmp/e"

# ---- warnings: one line each on stderr, the run goes on (exit 0) ----
warn_once() { [ "$1" -eq 0 ] && [ $(wc -l <"$tmp/e") -eq 1 ] && grep -q "^vmlab: warning: $2" "$tmp/e"; }
: >"$tmp/empty.addr"
"$bin" run "$tmp/empty.addr" >/dev/null 2>"$tmp/e"
check "run on an empty trace warns" 'warn_once $? ".*empty.addr holds no records"' || cat "$tmp/e"
"$bin" mrc --sizes 4 "$tmp/empty.addr" >/dev/null 2>"$tmp/e"
check "mrc on an empty trace warns" 'warn_once $? ".*empty.addr holds no accesses"' || cat "$tmp/e"
"$bin" run -s memory.frames=10 -s memory.size=1M "$tmp/t.addr" >/dev/null 2>"$tmp/e"
check "memory.frames with memory.size warns that the later wins" \
	'warn_once $? "memory.frames = 10 (-s) and memory.size = 1M (-s) conflict: memory.size, set later, wins"' || cat "$tmp/e"
"$bin" run --os linux -s memory.size=1M "$tmp/t.addr" >/dev/null 2>"$tmp/e"
check "memory.size over a preset's memory.frames does not" '[ ! -s "$tmp/e" ]' || cat "$tmp/e"
printf '[memory]\nframes = 100\n' >"$tmp/frames.ini"
"$bin" run -c "$tmp/frames.ini" -s memory.size=1M "$tmp/t.addr" >/dev/null 2>"$tmp/e"
check "nor -s memory.size over a -c file's memory.frames (a later layer)" '[ ! -s "$tmp/e" ]' || cat "$tmp/e"
printf '[memory]\nframes = 100\nsize = 1M\n' >"$tmp/both.ini"
"$bin" run -c "$tmp/both.ini" "$tmp/t.addr" >/dev/null 2>"$tmp/e"
check "one file giving both warns, naming it" \
	'warn_once $? "memory.frames = 100 (.*both.ini line 2) and memory.size = 1M (.*both.ini line 3) conflict"' || cat "$tmp/e"
"$bin" run --os textbook -s ws.max_pages=100 "$tmp/t.addr" >/dev/null 2>"$tmp/e"
check "ws.max_pages under textbook warns (only windows reads it)" \
	'warn_once $? "ws.max_pages = 100 (-s) has no effect under the textbook personality"' || cat "$tmp/e"
"$bin" run --os windows -s replacement.policy=fifo "$tmp/t.addr" >/dev/null 2>"$tmp/e"
check "replacement.policy under windows does not warn (it chooses within each working set)" \
	'[ ! -s "$tmp/e" ]' || cat "$tmp/e"
"$bin" run --os windows "$tmp/t.addr" >/dev/null 2>"$tmp/e"
check "the windows preset alone warns about nothing" '[ ! -s "$tmp/e" ]' || cat "$tmp/e"
# THP applies inside VADs only: 2048 pages committed by a V line and
# written in order are 4 faults as 2 MiB pages (8 MiB / 2 MiB), 2048 without
{ echo "V COMMIT 0x40000000 0x800000 readwrite"
  i=0; while [ $i -lt 2048 ]; do printf 'W 0x%x\n' $((0x40000000 + i * 4096)); i=$((i + 1)); done; } >"$tmp/vad.addr"
grep -v '^V' "$tmp/vad.addr" >"$tmp/novad.addr"
faults() { "$bin" run --json "$@" 2>"$tmp/e" | sed -n 's/.*"faults": *\([0-9]*\).*/\1/p'; }
check "thp.enabled=always under textbook on a trace with a VAD: 4 faults, no warning" \
	'[ "$(faults --os textbook -s thp.enabled=always "$tmp/vad.addr")" = 4 ] && [ ! -s "$tmp/e" ]'
check "the same without the V line: 2048 faults" \
	'[ "$(faults --os textbook -s thp.enabled=always "$tmp/novad.addr")" = 2048 ]'
check "and a warning that THP had nothing to apply to" \
	'warn_once 0 "thp.enabled = always (-s) has no effect on .*novad.addr: it has no address-space events"' || cat "$tmp/e"
# more memory than this machine has (vmlab config builds the
# configuration and says so without running anything)
ram_k=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
"$bin" config -s memory.size=$((ram_k * 2))K -s run.max_memory=$((ram_k * 4))K >/dev/null 2>"$tmp/e"
check "memory.size twice the host's RAM, allowed by run.max_memory, warns" 'warn_once $? "the modelled memory (.*) is larger than this host.s RAM"' || cat "$tmp/e"
"$bin" config -s memory.size=$((ram_k / 2))K >/dev/null 2>"$tmp/e"
check "half of it does not" '[ ! -s "$tmp/e" ]'
# mrc: a process's exit is not an event that can refuse accesses
printf 'R 0x1000\nR 0x2000\nV EXIT\n' >"$tmp/exit.addr"
"$bin" mrc --sizes 1,2 "$tmp/exit.addr" >/dev/null 2>"$tmp/e"
check "mrc on a trace whose only event is an exit: no note" '[ ! -s "$tmp/e" ]' || cat "$tmp/e"
printf 'V COMMIT 0x1000 0x2000 readwrite\nR 0x1000\nR 0x2000\n' >"$tmp/commit.addr"
"$bin" mrc --sizes 1,2 "$tmp/commit.addr" >/dev/null 2>"$tmp/e"
check "with a V COMMIT, the note stays (1 event)" 'grep -q "has 1 address-space events" "$tmp/e"'
# capture from a copied binary: the qemu plug-in is not beside it
if command -v valgrind >/dev/null && [ "$san" = 0 ]; then
	mkdir -p "$tmp/copy"
	cp "$bin" "$tmp/copy/vmlab"
	"$tmp/copy/vmlab" capture -o "$tmp/c.vmt" -- /bin/true >/dev/null 2>"$tmp/e"
	check "capture from a copied vmlab warns that it fell back to lackey, and why" \
		'[ $? -eq 0 ] && grep -q "^vmlab: warning: capture: using the lackey back end (much slower) because vmlab-qemu.so is not beside" "$tmp/e"' ||
		cat "$tmp/e"
	"$tmp/copy/vmlab" capture --backend lackey -o "$tmp/c.vmt" -- /bin/true >/dev/null 2>"$tmp/e"
	check "--backend lackey: no warning" '! grep -q warning "$tmp/e"'
fi
finish

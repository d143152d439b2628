#!/bin/sh
# vmlab host and vmlab counters as a user runs them.
#  - the host configuration loads with `vmlab run -c` and carries this
#    machine's page size (getconf) and memory size (/proc/meminfo MemTotal,
#    rounded down to a page), computed here independently;
#  - counters: a program's page faults are counted; an unknown event and a
#    hardware event on a machine without a PMU are named with the reason
#    and never printed as a count.
set -u
bin=$1/vmlab
pass=0
fail=0
check() { if eval "$2"; then echo "ok - $1"; pass=$((pass + 1)); else echo "not ok - $1"; fail=$((fail + 1)); fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" host -o "$tmp/host.ini"
check "vmlab host exits 0" '[ $? -eq 0 ]'
printf 'W 0x1000\n' >"$tmp/t.addr"
json=$("$bin" run --os linux -c "$tmp/host.ini" --json "$tmp/t.addr")
check "host.ini loads with vmlab run -c" '[ $? -eq 0 ]'
ps=$(getconf PAGESIZE)
kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
mem=$(( kb * 1024 / 4096 * 4096 ))
check "page size is getconf's ($ps)" "printf '%s' \"\$json\" | grep -q '\"memory.page_size\":\"$ps\"'"
check "memory size is MemTotal ($mem)" "printf '%s' \"\$json\" | grep -q '\"memory.size\":\"$mem\"'"
thp=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
if [ -n "$thp" ]; then
	check "THP mode is the kernel's ($thp)" "grep -qx 'enabled = $thp' '$tmp/host.ini'"
fi
if [ -r /sys/kernel/debug/fault_around_bytes ]; then
	check "fault-around read" "grep -q '^fault_around = ' '$tmp/host.ini'"
else
	check "unreadable fault-around marked not detected" "grep -q '^; fault_around: not detected' '$tmp/host.ini'"
fi

out=$("$bin" counters -e perf::PAGE-FAULTS,perf::MINOR-FAULTS -- true 2>"$tmp/err")
check "counters: page faults of true counted" "printf '%s\n' \"\$out\" | grep -Eq '^ *[1-9][0-9,]* +perf::PAGE-FAULTS\$'"

"$bin" counters -e perf::NO-SUCH-EVENT -- true >"$tmp/out" 2>"$tmp/err"
rc=$?
check "counters: unknown event alone exits 1" '[ $rc -eq 1 ]'
check "counters: unknown event named with the reason" "grep -q 'perf::NO-SUCH-EVENT: libpfm4 cannot encode it: event not found' '$tmp/err'"
check "counters: unknown event not printed as a number" "grep -q '<not counted> *perf::NO-SUCH-EVENT' '$tmp/out'"

"$bin" counters -e perf::INSTRUCTIONS,perf::PAGE-FAULTS -- true >"$tmp/out" 2>"$tmp/err"
if [ -d /sys/bus/event_source/devices/cpu ]; then
	check "counters: instructions counted on a machine with a PMU" "grep -Eq '^ *[1-9][0-9,]* +perf::INSTRUCTIONS' '$tmp/out'"
else
	check "counters: no PMU: instructions not supported, with why" "grep -q 'perf::INSTRUCTIONS: not supported: no hardware PMU' '$tmp/err'"
	check "counters: no PMU: instructions not printed as 0" "grep -q '<not counted> *perf::INSTRUCTIONS' '$tmp/out'"
fi

"$bin" counters -m amd-zen3 -- true >"$tmp/out" 2>"$tmp/err"
check "counters -m amd-zen3: fault events counted" "grep -Eq '^ *[1-9][0-9,]* +perf::PAGE-FAULTS\$' '$tmp/out'"
check "counters -m amd-zen3: every preset event listed" "[ \$(grep -c 'amd64_fam19h_zen3::' '$tmp/out') -eq 5 ]"
check "counters -m amd-zen3: no preset event printed as a number unless a PMU counts it" "! grep -Eq '^ *[0-9,]+ +amd64_fam19h_zen3::' '$tmp/out' || [ -d /sys/bus/event_source/devices/cpu ]"
check "counters -m: a PMU this machine lacks is named as the reason" "grep -q 'amd64_fam19h_zen3::RETIRED_INSTRUCTIONS: .*not this machine\|amd64_fam19h_zen3::RETIRED_INSTRUCTIONS: not supported' '$tmp/err'"
"$bin" counters -m nosuch -- true >/dev/null 2>&1
check "counters -m unknown preset: usage error" '[ $? -eq 2 ]'

"$bin" counters -- /nonexistent/prog >/dev/null 2>"$tmp/err"
rc=$?
check "counters: missing program exits 1 with its name" "[ $rc -eq 1 ] && grep -q '/nonexistent/prog' '$tmp/err'"
"$bin" counters -e perf::PAGE-FAULTS >/dev/null 2>&1
check "counters: no program is a usage error" '[ $? -eq 2 ]'
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

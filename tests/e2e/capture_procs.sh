#!/bin/sh
# vmlab capture (qemu back end) of whole programs: every process, its
# address space, file-backed memory in the replay.
#
#  1. `sh -c "sort IN | md5sum > OUT"` is three processes (sh, and the two
#     children it forks and execs).  Each has its executable, ld.so and
#     libc mapped from their files, with the protections of their ELF
#     program headers: expected offsets and flags come from `readelf -lW`
#     and `ldd`, not from vmlab; and each grows its heap (V BRK).
#  2. The replay under --os linux refuses no event and no access, and its
#     file pages fault as file pages (soft faults, page cache warm).
#  3. Shared pages are counted once: with the page cache cold, two `cat`
#     processes read each file page once.  The expected number of file
#     reads is computed here by a second implementation of the mapping
#     rules (python below): the distinct (file, page) pairs the accesses
#     touch through file mappings, across all processes.
#  4. fork without exec: a program whose child writes the N pages its
#     parent wrote before the fork takes N copy-on-write faults in the
#     child (N from the program's text).
#  5. bad input: a program that does not exist, one that crashes (trace
#     kept, exit status recorded), SIGINT during a capture (a complete file
#     that says it was interrupted).
set -u
bin=$(cd "$1" 2>/dev/null && pwd)/vmlab
pass=0
fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
no() { echo "not ok - $1"; fail=$((fail + 1)); }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }
[ -x "$bin" ] || { echo "no $bin: build first"; echo "0 passed, 1 failed"; exit 1; }
if ! command -v qemu-x86_64 >/dev/null; then
	no "qemu-x86_64 not installed (make deps installs qemu-user)"
	echo "$pass passed, $fail failed"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# 20,000 lines (4,000 under the sanitizers, whose build spent minutes
# converting and listing the pipeline's trace; the checks are the same)
lines=20000
case $1 in *san*) lines=4000 ;; esac
seq 1 $lines | sort -R --random-source=/dev/zero >"$tmp/in.txt" 2>/dev/null || seq $lines -1 1 >"$tmp/in.txt"

# ---- 1. a pipeline: three processes, each with its mappings ----
(cd "$tmp" && "$bin" capture -o p.vmt -- sh -c "sort in.txt | md5sum > out.md5") >/dev/null 2>"$tmp/p.err"
rc=$?
check "capture of sh -c \"sort | md5sum\" exits 0 and md5sum's output is that of sort's ($(tail -n 1 "$tmp/p.err"))" \
	'[ $rc = 0 ] && [ "$(cat "$tmp/out.md5")" = "$(sort "$tmp/in.txt" | md5sum)" ]'
"$bin" convert --addr "$tmp/p.vmt" "$tmp/p.addr" >/dev/null 2>&1
"$bin" info "$tmp/p.vmt" >"$tmp/p.info" 2>&1

# what the ELF files say: PT_LOAD offsets and flags, via readelf
elf() { # FILE: "offset flags" per PT_LOAD, offset page-aligned down
	readelf -lW "$1" | python3 -c '
import sys
for l in sys.stdin:
    w = l.split()
    if w and w[0] == "LOAD":
        o = int(w[1], 16)
        print(o - o % 4096, "".join(x for x in w[6:-1] if x in ("R", "W", "E", "RW", "RE", "RWE")))'
}
sh_bin=$(readlink -f "$(command -v sh)")
sort_bin=$(readlink -f "$(command -v sort)")
md5_bin=$(readlink -f "$(command -v md5sum)")
libc=$(readlink -f "$(ldd "$sort_bin" | awk '/libc.so/ {print $3}')")
ldso=$(readlink -f "$(ldd "$sort_bin" | awk '/ld-linux/ {print $1}')")
for f in "$sh_bin" "$sort_bin" "$md5_bin" "$libc" "$ldso"; do
	elf "$f" | sed "s|^|$f |" >>"$tmp/elf.txt"
done
python3 - "$tmp/p.addr" "$tmp/p.info" "$tmp/elf.txt" "$sh_bin" "$sort_bin" "$md5_bin" "$libc" "$ldso" \
	>"$tmp/p.chk" <<'EOF'
import sys
addr, info, elf = sys.argv[1:4]
sh_bin, sort_bin, md5_bin, libc, ldso = sys.argv[4:9]
files = {}  # id -> path, from the header's file table
for l in open(info):
    l = l.strip()
    if l.startswith("file."):
        k, rest = l.split(None, 1)
        files[int(k[5:])] = rest.split(None, 2)[2]
loads = {}  # path -> {offset: flags}
for l in open(elf):
    p, off, fl = l.split()
    loads.setdefault(p, {})[int(off)] = fl
want_prot = {"R": "readonly", "RE": "execute_read", "RW": "readwrite"}
maps = {}   # pid -> list of (path, offset, prot)
brk = {}    # pid -> largest heap
images = {} # pid -> executables it ran (in order)
ended = set()
for l in open(addr):
    w = l.split()
    if not w or w[0] != "V":
        continue
    pid = int(w[-1])
    if w[1] == "EXIT":  # the image ended: a later one starts afresh
        ended.add(pid)
        continue
    if pid in ended:
        ended.discard(pid)
        maps[pid] = []
    if w[1] == "MMAP" and int(w[6]):  # V MMAP ADDR LEN PROT SHARING FILEID OFFSET PID
        path = files.get(int(w[6]), "?")
        maps.setdefault(pid, []).append((path, int(w[7], 16), w[4]))
        if path in (sh_bin, sort_bin, md5_bin) and (not images.get(pid) or images[pid][-1] != path):
            images.setdefault(pid, []).append(path)
    if w[1] == "BRK":
        brk[pid] = max(brk.get(pid, 0), int(w[3], 16))
problems = []
last = {pid: im[-1] for pid, im in images.items()}
if sorted(last.values()) != sorted([sh_bin, sort_bin, md5_bin]):
    problems.append(f"processes ran {last}, want one each of sh, sort, md5sum")
for pid, exe in last.items():
    ms = maps[pid]
    for f in (exe, ldso, libc):
        for off, fl in loads[f].items():
            # the executable's R E segment must be mapped execute_read at its
            # offset; every PT_LOAD must be mapped at its offset (RELRO data
            # may be readonly by now, after mprotect)
            got = [p for (q, o, p) in ms if q == f and o == off]
            if not got:
                problems.append(f"pid {pid}: {f} offset {off:#x} ({fl}) not mapped")
            elif fl == "RE" and "execute_read" not in got:
                problems.append(f"pid {pid}: {f} offset {off:#x} mapped {got}, want execute_read")
    if not brk.get(pid):
        problems.append(f"pid {pid} ({exe}): no heap growth (V BRK)")
print("yes" if not problems else "no: " + "; ".join(problems[:6]))
EOF
check "three processes (sh, sort, md5sum), each with executable, ld.so and libc mapped from their files with their ELF protections, and heap growth ($(cat "$tmp/p.chk"))" \
	'[ "$(cat "$tmp/p.chk")" = yes ]'
check "the capture's summary lists the processes" 'grep -q "processes: .*sort.*md5sum\|processes: .*md5sum.*sort" "$tmp/p.err"'

# ---- 2. the replay: nothing refused, file pages fault as file pages ----
"$bin" run --os linux --json --check "$tmp/p.vmt" >"$tmp/p.json" 2>"$tmp/p.rerr"
r=$(python3 -c "
import json; c = json.load(open('$tmp/p.json'))['counters']
print('yes' if c['event_failures'] == 0 and c['access_violations'] == 0 and c['faults_soft'] > 0 and c['faults_hard'] == 0 and c['file_reads'] == 0 else c)" 2>&1)
check "replay --os linux --check: no event refused, no violation, soft file faults, no reads (page cache warm) ($r)" \
	'[ "$r" = yes ]'

# ---- 2b. vmlab convert keeps what the capture recorded ----
# the file table, command line, date and the process names survive a
# .vmt -> .vmt conversion (before, the copy had none of them), and the
# copy replays to the same counters
"$bin" convert --level 3 "$tmp/p.vmt" "$tmp/p2.vmt" >/dev/null 2>&1
"$bin" info "$tmp/p2.vmt" >"$tmp/p2.info" 2>&1
keep() { grep -E '^  (cmdline|date|page_size|file\.|process\.|exit_status)' "$1" | sort; }
check "convert keeps the header's file table, cmdline, date and the process names ($(keep "$tmp/p.info" | wc -l) lines)" \
	'[ "$(keep "$tmp/p.info" | grep -c "file\.")" -ge 5 ] && [ "$(keep "$tmp/p.info" | grep -c "process\.")" -ge 3 ] && [ "$(keep "$tmp/p.info")" = "$(keep "$tmp/p2.info")" ]'
"$bin" run --os linux --json "$tmp/p2.vmt" >"$tmp/p2.json" 2>/dev/null
"$bin" run --os linux --json "$tmp/p.vmt" >"$tmp/p1.json" 2>/dev/null
r=$(python3 -c "
import json; a, b = (json.load(open(f))['counters'] for f in ('$tmp/p1.json', '$tmp/p2.json'))
print('yes' if a == b else [k for k in a if a[k] != b.get(k)])" 2>&1)
check "the converted capture replays to the same counters ($r)" '[ "$r" = yes ]'

# ---- 3. shared file pages counted once (two cats, page cache cold) ----
(cd "$tmp" && "$bin" capture -o c.vmt -- sh -c "cat in.txt | cat > out2.txt") >/dev/null 2>&1
"$bin" convert --addr "$tmp/c.vmt" "$tmp/c.addr" >/dev/null 2>&1
"$bin" run --os linux --json -s pagecache.warm=none "$tmp/c.vmt" >"$tmp/c.json" 2>/dev/null
want=$(python3 - "$tmp/c.addr" <<'EOF'
import sys
# per pid: file mappings (start, end, file, offset); MMAP replaces what it
# covers, MUNMAP removes, FORK copies the parent's, EXIT clears; FREAD puts
# the pages it read in the page cache (file.readaround 0: no read-ahead),
# so a first touch of one after it reads nothing
maps, touched, cached, reads = {}, set(), set(), 0
def cut(ms, s, e):
    out = []
    for (a, b, f, o) in ms:
        if b <= s or a >= e:
            out.append((a, b, f, o)); continue
        if a < s: out.append((a, s, f, o))
        if b > e: out.append((e, b, f, o + (e - a)))
    return out
for l in open(sys.argv[1]):
    w = l.split()
    if not w or w[0].startswith("#"):
        continue
    if w[0] == "H":
        continue  # heap calls (docs/heap.md) map nothing
    pid = int(w[-1])
    if w[0] == "V":
        k = w[1]
        if k == "MMAP":
            s = int(w[2], 16) >> 12; e = (int(w[2], 16) + int(w[3], 16) + 4095) >> 12
            ms = cut(maps.get(pid, []), s, e)
            if int(w[6]):  # V MMAP ADDR LEN PROT SHARING FILEID OFFSET PID
                ms.append((s, e, int(w[6]), int(w[7], 16) >> 12))
            maps[pid] = ms
        elif k == "MUNMAP":
            s = int(w[2], 16) >> 12; e = (int(w[2], 16) + int(w[3], 16) + 4095) >> 12
            maps[pid] = cut(maps.get(pid, []), s, e)
        elif k == "FORK":
            maps[pid] = list(maps.get(int(w[2]), []))
        elif k == "EXIT":
            maps[pid] = []
        elif k == "FREAD":  # V FREAD FILEID OFFSET LEN PID
            f, off, n = int(w[2]), int(w[3], 16), int(w[4], 16)
            for pg in range(off >> 12, ((off + n - 1) >> 12) + 1 if n else 0):
                cached.add((f, pg))
        continue
    v = int(w[1], 16) >> 12
    for (a, b, f, o) in maps.get(pid, []):
        if a <= v < b:
            key = (f, o + v - a)
            if key not in touched and key not in cached:
                reads += 1
            touched.add(key)
            break
print(reads)
EOF
)
got=$(python3 -c "import json; print(json.load(open('$tmp/c.json'))['counters']['file_reads'])" 2>/dev/null)
npid=$(grep -c '^V FORK' "$tmp/c.addr")
check "two cats, page cache cold: each file page read once for all processes ($got file reads, $want distinct file pages touched before a read() cached them; $npid forks)" \
	'[ -n "$got" ] && [ "$got" = "$want" ] && [ "$npid" = 2 ]'

# ---- 4. fork without exec: the child's first writes are copy-on-write ----
N=64
cat >"$tmp/f.c" <<EOF
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
	char *p = malloc($N * 4096 + 4096);
	p = (char *)(((unsigned long)p + 4095) & ~4095ul);
	for (int i = 0; i < $N; i++)
		p[i * 4096] = 1;           /* the parent's pages */
	pid_t c = fork();
	if (c == 0) {
		for (int i = 0; i < $N; i++)
			p[i * 4096] = 2;   /* the child's first writes */
		_exit(0);
	}
	waitpid(c, NULL, 0);
	return 0;
}
EOF
if cc -O1 "$tmp/f.c" -o "$tmp/f" 2>/dev/null; then
	"$bin" capture -o "$tmp/f.vmt" -- "$tmp/f" >/dev/null 2>&1
	"$bin" run --os linux --json --check "$tmp/f.vmt" >"$tmp/f.json" 2>/dev/null
	r=$(python3 -c "
import json; j = json.load(open('$tmp/f.json'))
ps = j['processes']
child = ps[1] if len(ps) == 2 else None
print('yes' if child and child['faults_cow'] >= $N and child['faults_demand_zero'] <= 8 else [(p['pid'], p['faults_cow'], p['faults_demand_zero']) for p in ps])" 2>&1)
	check "fork without exec: the child's $N first writes to inherited pages are copy-on-write faults ($r)" \
		'[ "$r" = yes ]'
else
	no "fork test: cc failed"
fi

# ---- 4b. a fork's place in the merged trace ----
# The parent allocates right after a fork and forks again at once (a
# fork flushes the parent's records, dated then), while the first child
# is still starting; that child's heap is the parent's at the fork, so
# its own malloc returns the same address.  The merge must put the
# child's V FORK before the parent's post-fork H ALLOC.  Before, the
# child's V FORK was dated by its first flush, after it had opened its
# file (milliseconds), later than the parent's second fork: the replay
# copied a heap holding the parent's new block into the child and counted
# the child's malloc as an overlap (heap_errors 1; `sh -c "echo | cat"`
# did the same in 4 of 6 captures).
cat >"$tmp/h.c" <<'EOF2'
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
	pid_t c = fork();
	if (c == 0) {
		volatile char *q = malloc(40); /* the address of the parent's p below */
		q[0] = 2;
		free((void *)q);
		_exit(0);
	}
	volatile char *p = malloc(40); /* after the fork: not the child's */
	p[0] = 1;
	pid_t d = fork();              /* flushes the parent's records */
	if (d == 0)
		_exit(0);
	waitpid(c, NULL, 0);
	waitpid(d, NULL, 0);
	free((void *)p);
	return 0;
}
EOF2
if cc -O1 "$tmp/h.c" -o "$tmp/h" 2>/dev/null; then
	# four captures: which process gets ahead is up to the scheduler
	r=yes
	for k in 1 2 3 4; do
		[ "$r" = yes ] || break
		"$bin" capture -o "$tmp/h.vmt" -- "$tmp/h" >/dev/null 2>&1
		"$bin" convert --addr "$tmp/h.vmt" "$tmp/h.addr" >/dev/null 2>&1
		"$bin" run --os linux --json "$tmp/h.vmt" >"$tmp/h.json" 2>/dev/null
		r=$(python3 - "$tmp/h.addr" "$tmp/h.json" <<'EOF2'
import json, sys
parent = None
order = []
for l in open(sys.argv[1]):
    w = l.split()
    if w[:2] == ["V", "FORK"]:
        parent = int(w[2]); order.append(("fork", int(w[3])))
    elif w[:2] == ["H", "ALLOC"] and int(w[3]) == 40:
        order.append(("alloc", int(w[-1])))
# the parent's malloc(40) (pid = the forks' parent) must follow the first
# fork, and each child's and the parent's malloc(40) must be there
kinds = [(k, p) for (k, p) in order if k == "fork" or p == parent]
errs = json.load(open(sys.argv[2]))["counters"]["heap_errors"]
ok = len(order) == 4 and kinds[0][0] == "fork" and errs == 0
print("yes" if ok else f"order {order}, heap_errors {errs}")
EOF2
)
	done
	check "fork: the child's V FORK precedes its parent's post-fork malloc in the merged trace, no heap error, 4 captures ($r)" \
		'[ "$r" = yes ]'
else
	no "fork order test: cc failed"
fi

# ---- 5. bad input ----
"$bin" capture -o "$tmp/n.vmt" -- "$tmp/no-such-program" >/dev/null 2>"$tmp/n.err"
rc=$?
check "a program that does not exist: one-line error naming it, exit 2, no file" \
	'[ $rc = 2 ] && [ "$(wc -l <"$tmp/n.err")" = 1 ] && grep -q "no-such-program" "$tmp/n.err" && [ ! -e "$tmp/n.vmt" ]'
printf 'int main(void){volatile int *p = 0; return *p;}\n' >"$tmp/crash.c"
cc -O0 "$tmp/crash.c" -o "$tmp/crash" 2>/dev/null
"$bin" capture -o "$tmp/k.vmt" -- "$tmp/crash" >/dev/null 2>"$tmp/k.err"
rc=$?
check "a program that crashes: its status (139 = SIGSEGV) returned and recorded, the trace kept and complete" \
	'[ $rc = 139 ] && "$bin" info "$tmp/k.vmt" 2>&1 | grep -q "exit_status *139" && ! grep -q warning "$tmp/k.err"'
# (a sleeping program: a busy one would make a large trace)
"$bin" capture -o "$tmp/i.vmt" -- sh -c 'sleep 60; echo not interrupted' >"$tmp/i.out" 2>"$tmp/i.err" &
vpid=$!
sleep 3
kill -INT "$vpid" 2>/dev/null
wait "$vpid"
check "SIGINT during a capture: a complete file that says it was interrupted" \
	'"$bin" info "$tmp/i.vmt" 2>&1 | grep -q "interrupted *yes" && ! "$bin" info "$tmp/i.vmt" 2>&1 | grep -q warning'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

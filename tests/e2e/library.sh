#!/bin/sh
# libvmlab as a program outside the tree uses it: `make install` to a
# temporary prefix, then, with only the installed headers and pkg-config,
#  - build tests/e2e/replay_api.c against the shared library and check it
#    really loads libvmlab.so (readelf NEEDED, ldd), and statically against
#    libvmlab.a (the built-in policies come with a static link);
#  - both replay a bundled trace through the public API and print the
#    counters `vmlab run --json` prints for the same settings: all equal;
#  - every installed header compiles on its own, as C and as C++, and a
#    C++ program links against the C library (extern "C");
#  - the shared library's dynamic symbol table holds only vl_/VL_ names,
#    and it carries its soname.
#   usage: sh tests/e2e/library.sh BINDIR
bindir=$1
. "$(dirname "$0")/../e2e-lib.sh"
bin=$bindir/vmlab
prefix=$tmp/prefix
sanflags=
[ "$san" = 1 ] && sanflags="-fsanitize=address,undefined"
trace=$root/traces/samples/gzip-lackey.trace.gz

# 1. install (the variant BINDIR was built as)
check "make install PREFIX=tmp succeeds" 'install_to "$prefix" "$tmp/install.log"' ||
	cat "$tmp/install.log"
for f in lib/libvmlab.a lib/libvmlab.so lib/libvmlab.so.0 lib/pkgconfig/vmlab.pc \
	include/vmlab/vmlab.h include/vmlab/engine.h include/vmlab/trace.h include/vmlab/policy.h \
	include/vmlab/results.h include/vmlab/mrc.h include/vmlab/run.h; do
	check "installed $f" '[ -e "$prefix/$f" ]'
done
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cflags=$(pkg-config --cflags vmlab) && libs=$(pkg-config --libs vmlab) &&
	slibs=$(pkg-config --static --libs vmlab)
check "pkg-config knows vmlab $(pkg-config --modversion vmlab 2>/dev/null)" '[ -n "$libs" ]'
check "pkg-config points into the prefix" 'echo "$cflags $libs" | grep -q -- "-I$prefix/include" &&
	echo "$libs" | grep -q -- "-L$prefix/lib"'

# 2. the program, shared and static; only installed headers (no -I into the tree)
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror $sanflags $cflags -o "$tmp/replay" "$root/tests/e2e/replay_api.c" \
	$libs 2>"$tmp/cc.err"
check "replay_api.c builds with pkg-config --cflags --libs vmlab" '[ -x "$tmp/replay" ]' || cat "$tmp/cc.err"
check "it needs libvmlab.so.0 (readelf NEEDED)" \
	'readelf -d "$tmp/replay" | grep NEEDED | grep -q "\[libvmlab\.so\.0\]"'
LD_LIBRARY_PATH=$prefix/lib ldd "$tmp/replay" >"$tmp/ldd" 2>&1
check "ldd resolves it to the installed library" \
	'grep -q "libvmlab\.so\.0 => $prefix/lib/libvmlab\.so\.0" "$tmp/ldd"' || cat "$tmp/ldd"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror $sanflags $cflags -o "$tmp/replay-static" \
	"$root/tests/e2e/replay_api.c" $(echo "$slibs" | sed 's/-lvmlab\b/-l:libvmlab.a/') 2>"$tmp/cc.err"
check "replay_api.c links statically against libvmlab.a" '[ -x "$tmp/replay-static" ]' || cat "$tmp/cc.err"
check "the static one needs no libvmlab.so" '! readelf -d "$tmp/replay-static" | grep -q libvmlab'

# 3. the same counters as vmlab run --json (the CLI's default machine is generic)
json_counters() { # json file -> name=value lines
	python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("records=%d" % d["trace"]["records"])
for k, v in d["counters"].items():
    print("%s=%d" % (k, v))
for p in d.get("processes", []):
    for k, v in p.items():
        if k != "pid":
            print("p%d.%s=%d" % (p["pid"], k, v))
PY
}
for setting in "lru 64" "opt 32"; do
	set -- $setting
	"$bin" run --json --os textbook -s memory.frames="$2" -s replacement.policy="$1" "$trace" \
		>"$tmp/run.json" 2>"$tmp/run.err"
	json_counters "$tmp/run.json" | sort >"$tmp/want"
	check "vmlab run --json $1 $2 frames: $(grep -c . "$tmp/want") values, $(sed -n 's/^faults=//p' "$tmp/want") faults" \
		'[ "$(sed -n "s/^faults=//p" "$tmp/want")" -gt 0 ] && grep -q "^evictions=[1-9]" "$tmp/want"'
	for kind in shared static; do
		exe=$tmp/replay
		[ $kind = static ] && exe=$tmp/replay-static
		LD_LIBRARY_PATH=$prefix/lib "$exe" "$trace" generic textbook memory.frames="$2" \
			replacement.policy="$1" 2>"$tmp/api.err" | sort >"$tmp/got"
		check "$kind: the public API gives every counter vmlab run gives ($1, $2 frames)" \
			'[ -s "$tmp/got" ] && diff "$tmp/want" "$tmp/got" >"$tmp/diff"' ||
			{ head -20 "$tmp/diff"; cat "$tmp/api.err"; }
	done
done

# 4. every installed header on its own, as C and as C++ (g++ when present)
for h in "$prefix"/include/vmlab/*.h; do
	name=vmlab/$(basename "$h")
	printf '#include <%s>\ntypedef int alone; /* a translation unit needs a declaration */\n' \
		"$name" >"$tmp/one.c"
	check "$name compiles alone as C11 (-Wall -Wextra -Wpedantic)" \
		'cc -std=c11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$prefix/include" "$tmp/one.c" 2>"$tmp/h.err"' ||
		cat "$tmp/h.err"
	if command -v g++ >/dev/null 2>&1; then
		cp "$tmp/one.c" "$tmp/one.cc"
		check "$name compiles alone as C++11" \
			'g++ -std=c++11 -Wall -Wextra -Werror -fsyntax-only -I"$prefix/include" "$tmp/one.cc" 2>"$tmp/h.err"' ||
			cat "$tmp/h.err"
	fi
done
if command -v g++ >/dev/null 2>&1; then
	cat >"$tmp/cxx.cc" <<'CXX'
#include <cstdio>
#include <vmlab/vmlab.h>
int main()
{
	vl_error err = {};
	vl_config *cfg = nullptr;
	if (vl_config_new(&cfg, &err) < 0)
		return 1;
	int rc = vl_config_set(cfg, "replacement.policy", "clock", "c++", &err);
	std::printf("%s %s %d\n", vl_version(), vl_config_str(cfg, "replacement.policy"), rc);
	vl_config_free(cfg);
	return rc;
}
CXX
	# shellcheck disable=SC2086
	g++ -std=c++11 -Wall -Wextra -Werror $sanflags $cflags -o "$tmp/cxx" "$tmp/cxx.cc" $libs \
		2>"$tmp/cxx.err"
	check "a C++ program links against libvmlab (extern \"C\")" '[ -x "$tmp/cxx" ]' || cat "$tmp/cxx.err"
	check "and calls it" \
		'[ "$(LD_LIBRARY_PATH=$prefix/lib "$tmp/cxx")" = "$(pkg-config --modversion vmlab) clock 0" ]'
fi

# 4b. the prefetch helpers a plug-in calls stay prefetches at -O2: GCC 12
# deleted calls to vl_pmap_prefetch whole (its mod-ref analysis took a
# function whose only effect is a prefetch for one without effects), so
# the hint did nothing until the helpers were forced inline.  Counted in
# the assembly of functions that do nothing else; x86 names the
# instruction prefetch*, other machines their own.
cat >"$tmp/pf.c" <<'PF'
#include <vmlab/policy.h>
void pf_pmap(const struct vl_pmap *m, uint32_t pid, uint64_t vpn) { vl_pmap_prefetch(m, pid, vpn); }
void pf_line(const uint64_t *a, uint32_t i) { vl_prefetch(&a[i * 8u]); }
PF
case $(uname -m) in
x86_64 | i?86)
	check "vl_pmap_prefetch and vl_prefetch compile to 2 prefetches at -O2 (cc)" \
		'[ "$(cc -std=c11 -O2 -S -o - -I"$prefix/include" "$tmp/pf.c" | grep -c "prefetch")" -eq 2 ]'
	if command -v clang >/dev/null 2>&1; then
		check "and with clang" \
			'[ "$(clang -std=c11 -O2 -S -o - -I"$prefix/include" "$tmp/pf.c" | grep -c "prefetch")" -eq 2 ]'
	fi
	;;
*) echo "# prefetch count not checked on $(uname -m) (x86 instruction names)" ;;
esac

# 5. the shared library exports vl_/VL_ names only, and has its soname
so=$prefix/lib/libvmlab.so
nm -D --defined-only "$so" | awk '{print $NF}' >"$tmp/exports"
grep -v '^vl_\|^VL_' "$tmp/exports" >"$tmp/offenders"
check "libvmlab.so exports $(grep -c . "$tmp/exports") names, all vl_ or VL_" \
	'[ "$(grep -c . "$tmp/exports")" -gt 50 ] && [ ! -s "$tmp/offenders" ]' ||
	{ echo "exported names outside vl_/VL_:"; sed 's/^/  /' "$tmp/offenders"; }
check "an internal name (pt_init) is not exported" '! grep -qx pt_init "$tmp/exports"'
check "the public API is (vl_engine_new, vl_err, vl_run, vl_h5_open, vl_mrc_new)" \
	'for s in vl_engine_new vl_err vl_run vl_h5_open vl_mrc_new; do grep -qx $s "$tmp/exports" || exit 1; done'
check "soname libvmlab.so.0" 'readelf -d "$so" | grep SONAME | grep -q "\[libvmlab\.so\.0\]"'

finish

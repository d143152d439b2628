#!/bin/sh
# Every dependency between the library's folders points down the layers
# (docs/design.md, "Layers"):
#
#   core  <-  policies, traces  <-  sim  <-  driver  <-  analysis  <-  cli
#
# A file may include a header, and an object may use a symbol, of its own
# layer or of one below; policies and traces, side by side, use neither
# each other.  A folder's internal.h is private to that folder.  Public
# headers belong to the layer that implements them (vmlab/trace.h to
# traces, vmlab/engine.h to sim, ...).  Policies are reached only through
# the registry's ops tables: no object outside policies/ uses a symbol
# defined there (sim/tlb.c used to compare against vl_tlb_lru).  The one
# exception is named: core's registry refers to vl_builtin_policies, the
# descriptor the policies layer defines (core/builtin.h says why).
#
# Includes are read from the sources; symbols from the objects of BINDIR's
# variant (nm), so a call is caught even without an include.  Both checks
# first run on a planted violation and must find it.
#   usage: sh tests/e2e/layers.sh BINDIR
bindir=$1
. "$(dirname "$0")/../e2e-lib.sh"
objdir=$bindir
[ -d "$bindir/release/core" ] && objdir=$bindir/release

# layer and rank of a path (source, object or header); empty when outside
# the layers (tests, bench, system headers)
layer_of() {
	case $1 in
	*vmlab/api.h | *vmlab/error.h | *vmlab/config.h | *vmlab/counters.h | *vmlab/policy.h | \
		*vmlab/version.h) echo "core 0" ;;
	*vmlab/trace.h) echo "traces 1" ;;
	*vmlab/engine.h) echo "sim 2" ;;
	*vmlab/run.h) echo "driver 3" ;;
	*vmlab/results.h | *vmlab/mrc.h | *vmlab/vmlab.h) echo "analysis 4" ;;
	*vmlab/roi.h) echo "" ;; # for traced programs: includes nothing of vmlab
	core/* | */core/* | gen/* | */gen/*) echo "core 0" ;;
	policies/* | */policies/*) echo "policies 1" ;;
	traces/* | */traces/*) echo "traces 1" ;;
	sim/* | */sim/*) echo "sim 2" ;;
	driver/* | */driver/*) echo "driver 3" ;;
	analysis/* | */analysis/*) echo "analysis 4" ;;
	cli/* | */cli/*) echo "cli 5" ;;
	*) echo "" ;;
	esac
}

# "FROM TO": may a file of layer FROM depend on one of layer TO?
allowed() {
	# shellcheck disable=SC2086
	set -- $1 $2 # "layer rank layer rank"
	[ "$1" = "$3" ] && return 0
	[ "$4" -lt "$2" ]
}

# includes: check_includes DIR FILE... (paths relative to DIR); prints one
# line per violation
check_includes() {
	dir=$1
	shift
	for f in "$@"; do
		from=$(layer_of "$f")
		[ -n "$from" ] || continue
		sed -n 's/^[ \t]*#[ \t]*include[ \t]*[<"]\([^>"]*\)[>"].*/\1/p' "$dir/$f" | while read -r inc; do
			case $inc in
			*/internal.h) # private to its folder
				[ "$(dirname "$inc")" = "$(echo "$f" | cut -d/ -f1)" ] ||
					echo "$f includes $inc, private to $(dirname "$inc")/" ;;
			esac
			to=$(layer_of "$inc")
			[ -n "$to" ] || continue
			allowed "$from" "$to" || echo "$f ($(echo "$from" | cut -d' ' -f1)) includes $inc ($(echo "$to" | cut -d' ' -f1))"
		done
	done
}

# symbols: check_symbols OBJ... ; objects under a layer's folder; prints one
# line per violation.  The definer of each global symbol decides its layer.
check_symbols() {
	for o in "$@"; do
		l=$(layer_of "${o#"$objdir"/}")
		[ -n "$l" ] && nm --defined-only -g "$o" 2>/dev/null | awk -v l="$l" 'NF == 3 {print $3, l}'
	done | sort -u >"$tmp/defs"
	for o in "$@"; do
		rel=${o#"$objdir"/}
		from=$(layer_of "$rel")
		[ -n "$from" ] || continue
		nm -u "$o" 2>/dev/null | awk '{print $NF}' | sort -u | join - "$tmp/defs" |
			while read -r sym tl tr; do
				[ "$from" = "core 0" ] && [ "$sym" = vl_builtin_policies ] && [ "$tl" = policies ] &&
					continue
				if [ "$tl" = policies ] && [ "$from" != "policies 1" ]; then
					echo "$rel uses $sym of policies: policies are reached through the registry"
				elif ! allowed "$from" "$tl $tr"; then
					echo "$rel ($(echo "$from" | cut -d' ' -f1)) uses $sym of $tl"
				fi
			done
	done
}

# 0. the checks find what they are for: a planted violation of each kind
mkdir -p "$tmp/tree/core" "$tmp/tree/traces" "$tmp/tree/sim" "$tmp/obj/core" "$tmp/obj/sim" \
	"$tmp/obj/policies"
printf '#include "sim/internal.h"\n#include "vmlab/error.h"\n' >"$tmp/tree/core/bad.c"
printf '#include "policies/x.h"\n#include "vmlab/engine.h"\n' >"$tmp/tree/traces/bad.c"
printf '#include "traces/internal.h"\n#include "vmlab/trace.h"\n' >"$tmp/tree/sim/bad.c"
check_includes "$tmp/tree" core/bad.c traces/bad.c sim/bad.c >"$tmp/planted"
check "planted include violations are all found: up, sideways, into a private header" \
	'grep -q "core/bad.c (core) includes sim/internal.h (sim)" "$tmp/planted" &&
	grep -q "traces/bad.c (traces) includes policies/x.h (policies)" "$tmp/planted" &&
	grep -q "traces/bad.c (traces) includes vmlab/engine.h (sim)" "$tmp/planted" &&
	grep -q "sim/bad.c includes traces/internal.h, private to traces/" "$tmp/planted"' ||
	cat "$tmp/planted"
check "and only they: the public headers they name of their own layer or below pass" \
	'! grep -q "vmlab/error.h\|vmlab/trace.h" "$tmp/planted"'
printf 'int vl_engine_new(void); int vl_plant(void) { return vl_engine_new(); }\n' >"$tmp/bad.c"
printf 'extern int vl_tlb_lru; int vl_engine_new(void) { return vl_tlb_lru; }\n' >"$tmp/eng.c"
printf 'int vl_tlb_lru = 1;\n' >"$tmp/lru.c"
cc -c -o "$tmp/obj/core/bad.o" "$tmp/bad.c" && cc -c -o "$tmp/obj/sim/eng.o" "$tmp/eng.c" &&
	cc -c -o "$tmp/obj/policies/lru.o" "$tmp/lru.c"
objdir_save=$objdir
objdir=$tmp/obj
check_symbols "$tmp/obj/core/bad.o" "$tmp/obj/sim/eng.o" "$tmp/obj/policies/lru.o" >"$tmp/planted"
objdir=$objdir_save
check "a planted call from core up to sim is found" \
	'grep -q "core/bad.o (core) uses vl_engine_new of sim" "$tmp/planted"' || cat "$tmp/planted"
check "a planted use of a policy's table by sim is found" \
	'grep -q "sim/eng.o uses vl_tlb_lru of policies" "$tmp/planted"' || cat "$tmp/planted"

# 1. includes, in every source and header of the library, and the public headers
cd "$root" || exit 1
files=$(find core policies traces sim driver analysis cli include/vmlab -name '*.[ch]' | sort)
# shellcheck disable=SC2086
check_includes . $files >"$tmp/inc"
check "no include points up or sideways ($(echo "$files" | wc -l) files)" '[ ! -s "$tmp/inc" ]' ||
	sed 's/^/  /' "$tmp/inc"
check "core includes nothing from policies/, traces/, sim/ or above" \
	'! grep -n "#include \"\(policies\|traces\|sim\|driver\|analysis\|cli\)/" core/*.c core/*.h'
check "core names no policy (no vl_repl_NAME, vl_tlb_NAME, vl_lp_NAME tables)" \
	'! grep -n "vl_\(repl\|tlb\|lp\)_\(fifo\|lru\|clock\|opt\|random\|none\|always\|plru\|srrip\)\b" core/*.c core/*.h'

# 2. symbols, in the objects of the build
# (objects of sources that still exist: a build directory keeps those of
# moved files)
objs=$(find "$objdir/core" "$objdir/gen" "$objdir/policies" "$objdir/traces" "$objdir/sim" \
	"$objdir/driver" "$objdir/analysis" "$objdir/cli" -name '*.o' 2>/dev/null | sort |
	while read -r o; do
		src=${o#"$objdir"/}
		src=${src%.o}.c
		case $src in gen/*) echo "$o" ;; *) [ -f "$src" ] && echo "$o" ;; esac
	done)
check "objects of every layer found under $objdir ($(echo "$objs" | grep -c .))" \
	'for d in core policies traces sim driver analysis cli; do echo "$objs" | grep -q "/$d/" || exit 1; done'
# shellcheck disable=SC2086
check_symbols $objs >"$tmp/sym"
check "no object uses a symbol of a layer above or beside it" '[ ! -s "$tmp/sym" ]' ||
	sed 's/^/  /' "$tmp/sym"
check "core's one upward reference is the built-in descriptor" \
	'nm -u "$objdir/core/registry.o" | grep -q vl_builtin_policies'

finish

# tests/e2e-lib.sh - what end-to-end scripts share.  A script sets bindir
# (its first argument) and sources this file:
#     bindir=$1
#     . "$(dirname "$0")/../e2e-lib.sh"
# It then has root (the source tree), tmp (a directory removed at exit),
# san (1 when bindir is a sanitizer build), and
#   check NAME EXPR   evaluates EXPR; prints "ok - NAME" or "not ok - NAME",
#                     counts it, and returns non-zero on failure, so that
#                     `check ... || show-why` shows why;
#   install_to DIR LOG  `make install PREFIX=DIR` of bindir's variant;
#   finish            prints the "N passed, N failed" line tests/run.sh
#                     reads, and fails when anything did.
# (Not itself a test: tests/run.sh runs tests/e2e/*.sh only.)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
pass=0
fail=0
check() {
	if eval "$2"; then
		echo "ok - $1"
		pass=$((pass + 1))
	else
		echo "not ok - $1"
		fail=$((fail + 1))
		return 1
	fi
}
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case $bindir in *san*) san=1 ;; *) san=0 ;; esac
install_to() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$root" install PREFIX="$1" SAN=$san \
		>"$2" 2>&1
}

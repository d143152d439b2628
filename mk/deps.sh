#!/bin/sh
# make deps: install the Debian packages vmlab needs, only those missing.
# Checks with dpkg-query first; calls apt-get only when something is missing.
set -eu
PKGS="gcc make libc6-dev pkg-config zlib1g-dev libcmocka-dev libzstd-dev \
liblzma-dev libhdf5-dev hdf5-tools gnuplot-nox libpfm4-dev valgrind clang python3 python3-h5py \
libxxhash-dev qemu-user zstd xz-utils"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "deps: all $(echo $PKGS | wc -w) Debian packages present"
	exit 0
fi
echo "deps: missing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: run as root, or install them yourself: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $missing

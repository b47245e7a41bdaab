#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The arm64 -dev packages that Debian 12 cannot co-install with their amd64
# twins, extracted into the cache for the cross build, with pkg-config files
# that point there.  Today one: libevent-dev has no Multi-Arch field, so
# installing libevent-dev:arm64 removes libevent-dev (amd64), which the native
# build needs.  Its runtime libraries (libevent-2.1-7:arm64 ...) are Multi-Arch:
# same and installed (scripts/install-deps-arm64.sh): the guest finds them at
# the host's /usr/lib/aarch64-linux-gnu over 9p.
#
#   sysroot.sh [--print-pkgconfig] [--print-cross-file]
#
# --print-pkgconfig   the directory of the rewritten .pc files
# --print-cross-file  a Meson cross file that only sets pkg_config_libdir to
#                     that directory and the machine's arm64 one; give it
#                     after tests/vm-arm64/aarch64-linux-gnu.ini (which has
#                     the same for the default cache)
#
# The .deb is taken at the version of the installed libevent-2.1-7:arm64 (the
# headers must match the library), with the machine's apt configuration
# (arm64 is one of its architectures once install-deps-arm64.sh ran), and
# unpacked with dpkg-deb -x; nothing is installed.
#
# Cache ($VIOMMU_VM_CACHE, default /var/cache/viommud-test), under its .lock:
#   arm64-sysroot/root/       the packages, extracted
#   arm64-sysroot/pkgconfig/  their .pc files, prefix rewritten to root/
#   arm64-sysroot/cross.ini   the cross file of --print-cross-file
#   arm64-sysroot/.stamp      what root/ holds, written last
set -euo pipefail

cache="${VIOMMU_VM_CACHE:-/var/cache/viommud-test}"
packages=(libevent-dev)
runtime=libevent-2.1-7 # whose version the -dev must have

log() { printf 'sysroot.sh(arm64): %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

prints=()
for a in "$@"; do
	case "$a" in
	--print-pkgconfig | --print-cross-file) prints+=("$a") ;;
	*) echo "usage: $0 [--print-pkgconfig] [--print-cross-file]" >&2; exit 2 ;;
	esac
done

case "$cache" in /*) ;; *) cache="$PWD/$cache" ;; esac
dir="$cache/arm64-sysroot"
version=$(dpkg-query -W -f='${Version}' "$runtime:arm64" 2>/dev/null) ||
	die "$runtime:arm64 is not installed (scripts/install-deps-arm64.sh)"
want_stamp="${packages[*]} $version (with cross.ini)"

complete() { [[ -f "$dir/.stamp" && "$(head -n1 "$dir/.stamp")" == "$want_stamp" ]]; }

fetch() {
	local p deb pc
	rm -rf "$dir/deb" "$dir/root" "$dir/pkgconfig" "$dir/.stamp"
	mkdir -p "$dir/deb" "$dir/root" "$dir/pkgconfig"
	for p in "${packages[@]}"; do
		(cd "$dir/deb" && apt-get -o APT::Sandbox::User=root download -q "$p:arm64=$version" >&2) ||
			die "apt-get download $p:arm64=$version failed"
		deb=$(find "$dir/deb" -maxdepth 1 -name "${p}_*_arm64.deb" | head -n1)
		[[ -n "$deb" ]] || die "no $p arm64 .deb"
		dpkg-deb -x "$deb" "$dir/root"
	done
	for pc in "$dir"/root/usr/lib/aarch64-linux-gnu/pkgconfig/*.pc; do
		sed "s|^prefix=/usr\$|prefix=$dir/root/usr|" "$pc" >"$dir/pkgconfig/${pc##*/}"
		grep -q "^prefix=$dir/root/usr\$" "$dir/pkgconfig/${pc##*/}" ||
			die "${pc##*/} has no prefix=/usr line to rewrite"
	done
	# The .so links point at the runtime library, which is in the machine's
	# /usr/lib/aarch64-linux-gnu, not in root/.
	for l in "$dir"/root/usr/lib/aarch64-linux-gnu/*.so; do
		[[ -L "$l" && ! -e "$l" ]] || continue
		ln -sfn "/usr/lib/aarch64-linux-gnu/$(readlink "$l")" "$l"
		[[ -e "$l" ]] || die "$l: $(readlink "$l") missing (install $runtime:arm64)"
	done
	rm -rf "$dir/deb"
	cat >"$dir/cross.ini" <<EOF
# Written by tests/vm-arm64/sysroot.sh: use after aarch64-linux-gnu.ini.
[properties]
pkg_config_libdir = '$dir/pkgconfig:/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig'
EOF
	printf '%s\n' "$want_stamp" >"$dir/.stamp.tmp"
	mv "$dir/.stamp.tmp" "$dir/.stamp"
	log "${packages[*]} (arm64) $version extracted in $dir/root"
}

if ! complete; then
	mkdir -p "$dir" || die "cannot create $dir (set VIOMMU_VM_CACHE)"
	exec 9>"$cache/.lock"
	flock 9
	complete || fetch
	exec 9>&-
fi
for p in "${prints[@]+"${prints[@]}"}"; do
	case "$p" in
	--print-pkgconfig) printf '%s\n' "$dir/pkgconfig" ;;
	--print-cross-file) printf '%s\n' "$dir/cross.ini" ;;
	esac
done

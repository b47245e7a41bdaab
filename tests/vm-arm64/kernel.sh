#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Make sure the arm64 test-guest kernel (Image, EFI stub), its uAPI headers
# and the iommufd selftest header are in the cache, and print their paths.
# The arm64 twin of tests/vm/kernel.sh; cross-built with Debian's
# gcc-aarch64-linux-gnu from the same linux-source-7.3 tree.
#
#   kernel.sh [--print-kernel] [--print-config] [--print-uapi] [--print-selftest-header]
#
# Without options: make sure everything is there, print nothing.  Each
# --print-* option makes sure its artefact exists and prints one path on
# stdout (in the order given).  Logs go to stderr.
#
# The kernel is tinyconfig + arm64-iommufd.config; after olddefconfig (and
# again after the build) every line of the fragment must be in the .config
# (CONFIG_X=n: absent or "not set"), or the script stops and names the line.
#
# Cache ($VIOMMU_VM_CACHE, default /var/cache/viommud-test):
#   src/linux-source-7.3/     kernel source, shared with tests/vm/kernel.sh
#   <sha256 of fragment>/Image, Image.config
#   <sha256 of fragment>/uapi/include/...     (make ARCH=arm64 headers_install)
#   <sha256 of fragment>/iommufd_test.h
#   <sha256 of fragment>/.stamp-kernel, .stamp-uapi
#   <sha256 of fragment>/.lock   serialises builds of this fragment
#   .lock                     the cache lock, held while the source is fetched
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
fragment="$here/arm64-iommufd.config"
cache="${VIOMMU_VM_CACHE:-/var/cache/viommud-test}"
pkg="linux-source-7.3"
cross="aarch64-linux-gnu-"

log() { printf 'kernel.sh(arm64): %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source-path=SCRIPTDIR/../.. source=scripts/lib/vm-cache.sh
. "$repo/scripts/lib/vm-cache.sh"

usage() {
	echo "usage: $0 [--print-kernel] [--print-config] [--print-uapi] [--print-selftest-header]" >&2
	echo "  Cache: \${VIOMMU_VM_CACHE:-/var/cache/viommud-test}" >&2
}

prints=()
while (($#)); do
	case "$1" in
	--print-kernel | --print-config | --print-uapi | --print-selftest-header)
		prints+=("$1") ;;
	-h | --help) usage; exit 0 ;;
	*) usage; exit 2 ;;
	esac
	shift
done

[[ -r "$fragment" ]] || die "missing $fragment"
case "$cache" in /*) ;; *) cache="$PWD/$cache" ;; esac
key=$(sha256sum "$fragment" | cut -d' ' -f1)
dir="$cache/$key"
src="$cache/src"
tree="$src/$pkg"

complete_kernel() { [[ -f "$dir/.stamp-kernel" && -f "$dir/Image" ]]; }
complete_uapi() { [[ -f "$dir/.stamp-uapi" && -d "$dir/uapi/include" && -f "$dir/iommufd_test.h" ]]; }

# Take the locks only when something is missing, so that a complete cache
# also works read-only (inside a guest).
locked=false
lock() {
	$locked && return 0
	mkdir -p "$cache" "$dir" || die "cannot create $dir (set VIOMMU_VM_CACHE)"
	# The source is shared with tests/vm/kernel.sh: fetch it under the cache
	# lock, then build under this fragment's own lock, so that an x86 guest
	# never waits for an arm64 build.
	if [[ ! -f "$tree/.stamp-extracted" ]]; then
		exec 9>"$cache/.lock"
		flock 9
		fetch_linux_source "$src" "$pkg"
		exec 9>&-
	fi
	exec 8>"$dir/.lock"
	flock 8
	locked=true
}

# Every line of the fragment must have survived olddefconfig.
check_config() { # .config
	local l k bad=0
	while IFS= read -r l; do
		[[ "$l" =~ ^CONFIG_ ]] || continue
		k=${l%%=*}
		case "$l" in
		*=n) ! grep -q "^$k=" "$1" ;;
		*) grep -qxF -- "$l" "$1" ;;
		esac || {
			log "config: '$l' did not stick (.config has: $(grep -E "^$k=|^# $k is not set" "$1" || echo nothing))"
			bad=1
		}
	done <"$fragment"
	((bad == 0)) || die "the fragment does not hold; fix $fragment"
}

mk_base=(make -C "$tree" ARCH=arm64 CROSS_COMPILE="$cross")

ensure_kernel() {
	complete_kernel && return 0
	command -v "${cross}gcc" >/dev/null ||
		die "${cross}gcc missing: install gcc-aarch64-linux-gnu (scripts/install-deps.sh)"
	lock
	complete_kernel && return 0
	rm -f "$dir/.stamp-kernel"
	local build="$dir/build" t0=$SECONDS
	rm -rf "$build"
	mkdir -p "$build"
	log "building the arm64 Image in $build (about 10 minutes on 2 idle cores)"
	local mk=("${mk_base[@]}" O="$build")
	"${mk[@]}" -s tinyconfig >&2
	(cd "$tree" && ARCH=arm64 CROSS_COMPILE="$cross" scripts/kconfig/merge_config.sh -m \
		-O "$build" "$build/.config" "$fragment" >/dev/null)
	"${mk[@]}" -s olddefconfig >&2
	check_config "$build/.config"
	nice -n 10 "${mk[@]}" -s -j"$(nproc)" Image >&2
	check_config "$build/.config"
	cp "$build/arch/arm64/boot/Image" "$dir/Image.tmp"
	cp "$build/.config" "$dir/Image.config"
	mv "$dir/Image.tmp" "$dir/Image"
	rm -rf "$build"
	touch "$dir/.stamp-kernel"
	log "built $dir/Image in $((SECONDS - t0)) s"
}

ensure_uapi() {
	complete_uapi && return 0
	lock
	complete_uapi && return 0
	rm -f "$dir/.stamp-uapi"
	log "installing the arm64 uAPI headers into $dir/uapi"
	local hbuild="$dir/headers-build"
	rm -rf "$dir/uapi" "$hbuild"
	mkdir -p "$hbuild"
	"${mk_base[@]}" O="$hbuild" -s headers_install INSTALL_HDR_PATH="$dir/uapi" >&2
	rm -rf "$hbuild"
	cp "$tree/drivers/iommu/iommufd/iommufd_test.h" "$dir/iommufd_test.h"
	[[ -f "$dir/uapi/include/linux/iommufd.h" ]] || die "headers_install gave no linux/iommufd.h"
	[[ -f "$dir/uapi/include/asm/ioctl.h" ]] || die "headers_install gave no asm/ioctl.h"
	touch "$dir/.stamp-uapi"
}

if ((${#prints[@]} == 0)); then
	ensure_kernel
	ensure_uapi
	exit 0
fi

for p in "${prints[@]}"; do
	case "$p" in
	--print-kernel) ensure_kernel; printf '%s\n' "$dir/Image" ;;
	--print-config) ensure_kernel; printf '%s\n' "$dir/Image.config" ;;
	--print-uapi) ensure_uapi; printf '%s\n' "$dir/uapi/include" ;;
	--print-selftest-header) ensure_uapi; printf '%s\n' "$dir/iommufd_test.h" ;;
	esac
done

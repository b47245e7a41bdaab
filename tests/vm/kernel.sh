#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Make sure the test-guest kernel, the 7.3 uAPI headers and the iommufd
# selftest header are in the cache, and print their paths.
#
#   kernel.sh [--print-kernel] [--print-uapi] [--print-selftest-header]
#
# Without options: make sure everything is there, print nothing.
# Each --print-* option makes sure its artefact exists, then prints one path
# on stdout (in the order given).  Logs go to stderr.
#
# Cache ($VIOMMU_VM_CACHE, default /var/cache/viommud-test):
#   src/apt/                  private apt state (sources.list, lists)
#   src/linux-source-7.3/     kernel source (shared by every fragment)
#   <sha256 of fragment>/bzImage, bzImage.config
#   <sha256 of fragment>/uapi/include/...     (make headers_install)
#   <sha256 of fragment>/iommufd_test.h
#   <sha256 of fragment>/.stamp-kernel, .stamp-uapi
#   .lock                     flock(1) lock serialising concurrent callers
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
fragment="$here/iommufd-test.config"
cache="${VIOMMU_VM_CACHE:-/var/cache/viommud-test}"
pkg="linux-source-7.3"
shared="$(cd "$repo/.." && pwd)/shared/vm"

log() { printf 'kernel.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
	cat >&2 <<EOF
usage: $0 [--print-kernel] [--print-uapi] [--print-selftest-header]
  Cache: \${VIOMMU_VM_CACHE:-/var/cache/viommud-test}
EOF
}

prints=()
while (($#)); do
	case "$1" in
	--print-kernel | --print-uapi | --print-selftest-header)
		prints+=("$1") ;;
	-h | --help) usage; exit 0 ;;
	*) usage; exit 2 ;;
	esac
	shift
done

[[ -r "$fragment" ]] || die "missing $fragment"
key=$(sha256sum "$fragment" | cut -d' ' -f1)
dir="$cache/$key"
src="$cache/src"
tree="$src/$pkg"

mkdir -p "$cache" "$dir" || die "cannot create $cache (set VIOMMU_VM_CACHE)"
exec 9>"$cache/.lock"
flock 9

# Debian's linux-source with a private apt configuration (shared with
# tests/vm-arm64/kernel.sh and both qemu10.sh).
# shellcheck source-path=SCRIPTDIR/../.. source=scripts/lib/vm-cache.sh
. "$repo/scripts/lib/vm-cache.sh"

fetch_source() { fetch_linux_source "$src" "$pkg"; }

ensure_kernel() {
	[[ -f "$dir/.stamp-kernel" && -f "$dir/bzImage" ]] && return 0
	rm -f "$dir/.stamp-kernel"
	# Reuse the prebuilt image beside the repository when it was built from
	# exactly this fragment.
	local sums="$shared/SHA256SUMS" want_img
	if [[ -r "$sums" ]] && grep -q "^$key  iommufd-test.config\$" "$sums"; then
		want_img=$(awk '$2 == "bzImage-7.3.4" { print $1 }' "$sums")
		if [[ -n "$want_img" && -r "$shared/bzImage-7.3.4" ]] &&
			[[ "$(sha256sum "$shared/bzImage-7.3.4" | cut -d' ' -f1)" == "$want_img" ]]; then
			log "using prebuilt $shared/bzImage-7.3.4"
			install -m 0644 "$shared/bzImage-7.3.4" "$dir/bzImage.tmp"
			if [[ -r "$shared/bzImage-7.3.4.config" ]]; then
				install -m 0644 "$shared/bzImage-7.3.4.config" "$dir/bzImage.config"
			fi
			mv "$dir/bzImage.tmp" "$dir/bzImage"
			touch "$dir/.stamp-kernel"
			return 0
		fi
		log "prebuilt bzImage-7.3.4 fails its checksum, building"
	fi
	fetch_source
	local build="$dir/build"
	rm -rf "$build"
	mkdir -p "$build"
	log "building bzImage in $build (several minutes)"
	local mk=(make -C "$tree" O="$build" ARCH=x86_64)
	"${mk[@]}" -s tinyconfig >&2
	(cd "$tree" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m -O "$build" \
		"$build/.config" "$fragment" >&2)
	"${mk[@]}" -s olddefconfig >&2
	"${mk[@]}" -s -j"$(nproc)" bzImage >&2
	cp "$build/arch/x86/boot/bzImage" "$dir/bzImage.tmp"
	cp "$build/.config" "$dir/bzImage.config"
	mv "$dir/bzImage.tmp" "$dir/bzImage"
	rm -rf "$build"
	touch "$dir/.stamp-kernel"
	log "built $dir/bzImage"
}

ensure_uapi() {
	[[ -f "$dir/.stamp-uapi" && -d "$dir/uapi/include" && -f "$dir/iommufd_test.h" ]] && return 0
	rm -f "$dir/.stamp-uapi"
	fetch_source
	log "installing uAPI headers into $dir/uapi"
	local hbuild="$dir/headers-build"
	rm -rf "$dir/uapi" "$hbuild"
	mkdir -p "$hbuild"
	make -C "$tree" O="$hbuild" ARCH=x86_64 -s headers_install \
		INSTALL_HDR_PATH="$dir/uapi" >&2
	rm -rf "$hbuild"
	cp "$tree/drivers/iommu/iommufd/iommufd_test.h" "$dir/iommufd_test.h"
	[[ -f "$dir/uapi/include/linux/iommufd.h" ]] || die "headers_install gave no linux/iommufd.h"
	touch "$dir/.stamp-uapi"
}

if ((${#prints[@]} == 0)); then
	ensure_kernel
	ensure_uapi
	exit 0
fi

for p in "${prints[@]}"; do
	case "$p" in
	--print-kernel) ensure_kernel; printf '%s\n' "$dir/bzImage" ;;
	--print-uapi) ensure_uapi; printf '%s\n' "$dir/uapi/include" ;;
	--print-selftest-header) ensure_uapi; printf '%s\n' "$dir/iommufd_test.h" ;;
	esac
done

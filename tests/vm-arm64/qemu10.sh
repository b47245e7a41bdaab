#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Make sure the arm64 guest's emulator, firmware and init shell are extracted
# in the cache (never installed), the way tests/vm/qemu10.sh does it for x86:
#
#   qemu-system-arm, -common, -data  1:10.0.2+ds-2+deb13u1~bpo12+1  (bookworm-backports)
#       QEMU >= 9.2: the virt machine's SMMUv3 translates nested stage 1 + 2
#   qemu-efi-aarch64  2022.11-6+deb12u2  (bookworm): AAVMF_CODE.fd, AAVMF_VARS.fd
#   busybox-static:arm64  1:1.35.0-4+deb12u1+b1  (bookworm): the guest's init
#       shell and poweroff (the host's bash is amd64; the guest's root is the
#       host's / over 9p)
#   bash:arm64  5.2.15-2+b13  (bookworm): bind-mounted over the guest's
#       /usr/bin/bash, so that the project's bash scripts (run-daemon, the
#       viommuctl demo) run there; its libtinfo6:arm64 is installed
#       (scripts/install-deps-arm64.sh)
#   python3.11-minimal, libpython3.11-minimal, libpython3.11-stdlib (arm64)
#       3.11.2-6+deb12u8  (bookworm): a whole arm64 Python beside busybox, for
#       the stand-in service manager (tests/integration/fdstore-manager.py);
#       guest-init puts python3 first in PATH, and the interpreter finds its
#       own stdlib from its real location; libexpat1, zlib1g and libffi8
#       (arm64) are installed
#
# Fetched with a private apt configuration for amd64 and arm64
# (scripts/lib/vm-cache.sh), unpacked with dpkg-deb -x.  If the mirror no
# longer has a pinned version, the suite's version is taken, with a warning.
#
#   qemu10.sh [--print-qemu] [--print-aavmf] [--print-busybox] [--print-bash] [--print-python] [--print-version]
#
# --print-qemu     the extracted qemu-system-aarch64
# --print-aavmf    the directory holding AAVMF_CODE.fd and AAVMF_VARS.fd
# --print-busybox  the arm64 static busybox
# --print-bash     the arm64 bash (beside busybox: guest-init finds it there)
# --print-python   the arm64 python3.11 (root/usr/bin, beside busybox's root/bin)
# --print-version  the Debian version of qemu-system-arm
# Without options: make sure the tree is there, print nothing.  When the tree
# is complete nothing is written, so this also works read-only in a guest.
#
# Every library the binary links is in bookworm and comes with the host's
# qemu-system-x86 7.2 (scripts/install-deps.sh); ldd checks it.  As in
# tests/vm/qemu10.sh, root/usr/bin/qemu-bundle -> root/ makes QEMU take its
# data and modules from the extracted tree rather than the host's 7.2.
#
# Cache ($VIOMMU_VM_CACHE, default /var/cache/viommud-test), under its .lock:
#   qemu10-arm/apt/     private apt state
#   qemu10-arm/root/    the packages, extracted
#   qemu10-arm/.stamp   what root/ holds, written last
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache="${VIOMMU_VM_CACHE:-/var/cache/viommud-test}"
suite=bookworm-backports
qemu_version='1:10.0.2+ds-2+deb13u1~bpo12+1'
aavmf_version='2022.11-6+deb12u2'
busybox_version='1:1.35.0-4+deb12u1+b1'
bash_version='5.2.15-2+b13'
python_version='3.11.2-6+deb12u8'
python_packages=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib)
qemu_packages=(qemu-system-arm qemu-system-common qemu-system-data)
min_version=9.2

log() { printf 'qemu10.sh(arm64): %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source-path=SCRIPTDIR/../.. source=scripts/lib/vm-cache.sh
. "$repo/scripts/lib/vm-cache.sh"

prints=()
while (($#)); do
	case "$1" in
	--print-qemu | --print-aavmf | --print-busybox | --print-bash | --print-python | --print-version) prints+=("$1") ;;
	-h | --help)
		echo "usage: $0 [--print-qemu] [--print-aavmf] [--print-busybox] [--print-bash] [--print-python] [--print-version]" >&2
		exit 0 ;;
	*) echo "usage: $0 [--print-qemu] [--print-aavmf] [--print-busybox] [--print-bash] [--print-python] [--print-version]" >&2; exit 2 ;;
	esac
	shift
done

case "$cache" in /*) ;; *) cache="$PWD/$cache" ;; esac
dir="$cache/qemu10-arm"
root="$dir/root"
qemu="$root/usr/bin/qemu-system-aarch64"
aavmf="$root/usr/share/AAVMF"
busybox="$root/bin/busybox"
bash_arm64="$root/bin/bash"
python_arm64="$root/usr/bin/python3.11"
stamp="$dir/.stamp"
want_stamp="pinned qemu $qemu_version aavmf $aavmf_version busybox $busybox_version bash $bash_version python $python_version"

complete() {
	[[ -f "$stamp" && -x "$qemu" && -r "$aavmf/AAVMF_CODE.fd" && -r "$aavmf/AAVMF_VARS.fd" && -x "$busybox" && -x "$bash_arm64" && -x "$python_arm64" ]] &&
		[[ "$(head -n1 "$stamp")" == "$want_stamp" ]]
}

fetch() {
	local qv av bv shv pyv p deb want=()
	rm -f "$stamp"
	rm -rf "$dir/deb" "$root" "$root.tmp"
	mkdir -p "$dir/deb"
	APT_EXTRA_ARCHS=arm64 private_apt "$dir/apt" "$suite" bookworm

	qv=$(pick_version "$suite" qemu-system-arm "$qemu_version")
	[[ -n "$qv" ]] || die "$suite has no qemu-system-arm"
	local up="${qv#*:}"
	up="${up%%[+-]*}"
	[[ "$(printf '%s\n' "$min_version" "$up" | sort -V | head -n1)" == "$min_version" ]] ||
		die "$suite has qemu-system-arm $qv; QEMU $min_version or newer is needed (nested SMMUv3)"
	av=$(pick_version bookworm qemu-efi-aarch64 "$aavmf_version")
	[[ -n "$av" ]] || die "bookworm has no qemu-efi-aarch64"
	bv=$(pick_version bookworm busybox-static:arm64 "$busybox_version")
	[[ -n "$bv" ]] || die "bookworm has no busybox-static:arm64"
	shv=$(pick_version bookworm bash:arm64 "$bash_version")
	[[ -n "$shv" ]] || die "bookworm has no bash:arm64"
	pyv=$(pick_version bookworm python3.11-minimal:arm64 "$python_version")
	[[ -n "$pyv" ]] || die "bookworm has no python3.11-minimal:arm64"

	for p in "${qemu_packages[@]}"; do want+=("$p=$qv"); done
	want+=("qemu-efi-aarch64=$av" "busybox-static:arm64=$bv" "bash:arm64=$shv")
	for p in "${python_packages[@]}"; do want+=("$p:arm64=$pyv"); done
	(cd "$dir/deb" && apt-get "${apt_opts[@]}" download "${want[@]}" >&2) ||
		die "apt-get download ${want[*]} failed"

	mkdir -p "$root.tmp"
	for p in "${qemu_packages[@]}" qemu-efi-aarch64 busybox-static bash "${python_packages[@]}"; do
		deb=$(find "$dir/deb" -maxdepth 1 -name "${p}_*.deb" | head -n1)
		[[ -n "$deb" ]] || die "apt-get download gave no $p .deb"
		dpkg-deb -x "$deb" "$root.tmp" || die "dpkg-deb -x $(basename "$deb") failed"
	done
	ln -sfn ../.. "$root.tmp/usr/bin/qemu-bundle"
	check "$root.tmp" "$up"
	rm -rf "$dir/deb" "$dir/apt/cache"
	mv "$root.tmp" "$root"
	{
		printf '%s\n' "$want_stamp"
		printf '%s\n' "${want[@]}"
	} >"$stamp.tmp"
	mv "$stamp.tmp" "$stamp"
	log "QEMU $qv, AAVMF $av, busybox $bv, bash $shv and Python $pyv (arm64) extracted in $root"
}

check() {
	local r="$1" upstream="$2" bin="$1/usr/bin/qemu-system-aarch64" missing out
	[[ -x "$bin" ]] || die "no usr/bin/qemu-system-aarch64 in qemu-system-arm"
	missing=$(ldd "$bin" | awk '/not found/ { print $1 }' | sort -u | tr '\n' ' ')
	[[ -z "$missing" ]] ||
		die "libraries missing for $bin: $missing(install their bookworm packages; see scripts/install-deps.sh)"
	out=$("$bin" --version 2>&1) || die "$bin --version failed: $out"
	[[ "$out" == *"QEMU emulator version $upstream "* ]] ||
		die "$bin --version does not say $upstream: $(head -n1 <<<"$out")"
	[[ -r "$r/usr/share/AAVMF/AAVMF_CODE.fd" ]] || die "AAVMF_CODE.fd missing from qemu-efi-aarch64"
	file -L "$r/bin/busybox" 2>/dev/null | grep -q 'ARM aarch64.*statically linked' ||
		[[ ! -x /usr/bin/file ]] || die "$r/bin/busybox is not a static arm64 binary"
	file -L "$r/bin/bash" 2>/dev/null | grep -q 'ARM aarch64' ||
		[[ ! -x /usr/bin/file ]] || die "$r/bin/bash is not an arm64 binary"
	file -L "$r/usr/bin/python3.11" 2>/dev/null | grep -q 'ARM aarch64' ||
		[[ ! -x /usr/bin/file ]] || die "$r/usr/bin/python3.11 is not an arm64 binary"
	[[ -r "$r/usr/lib/python3.11/os.py" ]] || die "no os.py in the extracted arm64 Python"
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
	--print-qemu) printf '%s\n' "$qemu" ;;
	--print-aavmf) printf '%s\n' "$aavmf" ;;
	--print-busybox) printf '%s\n' "$busybox" ;;
	--print-bash) printf '%s\n' "$bash_arm64" ;;
	--print-python) printf '%s\n' "$python_arm64" ;;
	--print-version) sed -n 's/^qemu-system-arm=//p' "$stamp" ;;
	esac
done

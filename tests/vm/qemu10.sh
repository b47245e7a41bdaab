#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Make sure a QEMU 10 (Debian bookworm-backports) is extracted in the cache,
# for in-guest tests of a stock QEMU's iommufd support (QEMU 9 or newer).
# The machine's own QEMU 7.2, which runs the test guest, is left alone: the
# packages are fetched with a private apt configuration and unpacked with
# dpkg-deb -x, never installed.
#
#   qemu10.sh [--print-qemu] [--print-datadir] [--print-version]
#
# Without options: make sure the tree is there, print nothing.
# --print-qemu     absolute path of the extracted qemu-system-x86_64
# --print-datadir  the directory to pass to QEMU's -L (its /usr/share/qemu)
# --print-version  the Debian version of the extracted qemu-system-x86
# Paths are printed one a line on stdout, in the order given.  Logs go to
# stderr; nothing is logged when the tree is already complete.  When it is
# complete the script writes nothing, so it also works on the test guest's
# read-only view of the host's file system.
#
# Packages (pinned; if the mirror no longer has a pinned version, the version
# bookworm-backports has is taken instead, with a warning):
#   qemu-system-x86, qemu-system-common, qemu-system-data  1:10.0.2+ds-2+deb13u1~bpo12+1
#   seabios  1.16.3-2~bpo12+1 (qemu-system-x86 10 depends on seabios
#            >> 1.16.3-1~, for an AHCI boot fix; bookworm has 1.16.2)
# ipxe-qemu (NIC option ROMs) is bookworm's, the host's /usr/lib/ipxe/qemu.
# Every shared library the binary links is in bookworm and comes with the
# host's qemu-system-x86 7.2 (scripts/install-deps.sh); this is checked with
# ldd after extraction.
#
# Running the extracted binary in place: Debian builds QEMU with absolute
# paths (/usr/share/qemu, /usr/share/seabios, /usr/lib/ipxe/qemu, modules in
# /usr/lib/x86_64-linux-gnu/qemu), which are the host's QEMU 7.2 files: 7.2
# modules fail to load in 10 ("Only modules from the same build can be
# loaded"; `-device help` even aborts), and QEMU_MODULE_DIR does not help,
# since QEMU still falls back to the compiled-in directory for modules the
# override lacks.  QEMU (util/cutils.c, get_relocated_path) instead looks
# for "qemu-bundle" beside its executable and, when it exists, prefixes every
# such path with it.  So root/usr/bin/qemu-bundle is a symlink to root/, and
# the extracted QEMU uses only its own data, firmware and modules, with no
# environment variable or option needed (`qemu -L help` shows the paths).
# root/usr/lib/ipxe/qemu links to the host's ipxe-qemu, and every SeaBIOS
# image is also linked into the datadir, so that -L DATADIR alone finds
# bios-256k.bin.
#
# Cache ($VIOMMU_VM_CACHE, default /var/cache/viommud-test), beside
# kernel.sh's and under the same lock:
#   qemu10/apt/               private apt state (sources.list, lists)
#   qemu10/root/              the packages, extracted (about 90 MB)
#   qemu10/.stamp             the packages and versions in root/, written last
#   .lock                     flock(1) lock serialising concurrent callers
set -euo pipefail

cache="${VIOMMU_VM_CACHE:-/var/cache/viommud-test}"
suite=bookworm-backports
qemu_version='1:10.0.2+ds-2+deb13u1~bpo12+1'
seabios_version='1.16.3-2~bpo12+1'
qemu_packages=(qemu-system-x86 qemu-system-common qemu-system-data)
min_major=9

log() { printf 'qemu10.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
	cat >&2 <<EOF
usage: $0 [--print-qemu] [--print-datadir] [--print-version]
  Cache: \${VIOMMU_VM_CACHE:-/var/cache/viommud-test}/qemu10
EOF
}

prints=()
while (($#)); do
	case "$1" in
	--print-qemu | --print-datadir | --print-version) prints+=("$1") ;;
	-h | --help) usage; exit 0 ;;
	*) usage; exit 2 ;;
	esac
	shift
done

case "$cache" in /*) ;; *) cache="$PWD/$cache" ;; esac
dir="$cache/qemu10"
root="$dir/root"
qemu="$root/usr/bin/qemu-system-x86_64"
datadir="$root/usr/share/qemu"
stamp="$dir/.stamp"

# What .stamp must say for the tree to be reused.  Changing a pinned version
# here makes the next run fetch again.
want_stamp="pinned qemu $qemu_version seabios $seabios_version"

complete() {
	[[ -f "$stamp" && -x "$qemu" && -r "$datadir/bios-256k.bin" ]] &&
		[[ "$(head -n1 "$stamp")" == "$want_stamp" ]]
}

# debian_mirror, private_apt and pick_version: shared with tests/vm/kernel.sh
# and tests/vm-arm64.
# shellcheck source-path=SCRIPTDIR/../.. source=scripts/lib/vm-cache.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lib/vm-cache.sh"

fetch() {
	local apt deb qv sv p
	log "fetching QEMU 10 from $suite (private apt config)"
	apt="$dir/apt"
	rm -f "$stamp"
	rm -rf "$dir/deb" "$root" "$root.tmp"
	mkdir -p "$dir/deb"
	private_apt "$apt" "$suite"

	qv=$(pick_version "$suite" qemu-system-x86 "$qemu_version")
	[[ -n "$qv" ]] || die "$suite has no qemu-system-x86"
	# Upstream major of an epoch:upstream-revision version.
	local major="${qv#*:}"
	major="${major%%.*}"
	if ! [[ "$major" =~ ^[0-9]+$ ]] || ((major < min_major)); then
		die "$suite has qemu-system-x86 $qv; QEMU $min_major or newer is needed"
	fi
	sv=$(pick_version "$suite" seabios "$seabios_version")
	[[ -n "$sv" ]] || die "$suite has no seabios"

	local want=()
	for p in "${qemu_packages[@]}"; do want+=("$p=$qv"); done
	want+=("seabios=$sv")
	(cd "$dir/deb" && apt-get "${apt_opts[@]}" download "${want[@]}" >&2) ||
		die "apt-get download ${want[*]} failed"

	mkdir -p "$root.tmp"
	for p in "${qemu_packages[@]}" seabios; do
		deb=$(find "$dir/deb" -maxdepth 1 -name "${p}_*.deb" | head -n1)
		[[ -n "$deb" ]] || die "apt-get download gave no $p .deb"
		dpkg-deb -x "$deb" "$root.tmp" || die "dpkg-deb -x $(basename "$deb") failed"
	done
	fixup "$root.tmp"
	check "$root.tmp" "${qv#*:}"
	rm -rf "$dir/deb" "$apt/cache"
	mv "$root.tmp" "$root"
	{
		printf '%s\n' "$want_stamp"
		printf '%s\n' "${want[@]}"
	} >"$stamp.tmp"
	mv "$stamp.tmp" "$stamp"
	log "QEMU $qv extracted in $root"
}

# Make the tree self-contained (see the header).
fixup() {
	local r="$1" f
	[[ -x "$r/usr/bin/qemu-system-x86_64" ]] || die "no usr/bin/qemu-system-x86_64 in the packages"
	ln -sfn ../.. "$r/usr/bin/qemu-bundle"
	[[ -d /usr/lib/ipxe/qemu ]] ||
		log "warning: /usr/lib/ipxe/qemu missing (package ipxe-qemu): NICs will have no option ROM"
	mkdir -p "$r/usr/lib/ipxe"
	ln -sfn /usr/lib/ipxe/qemu "$r/usr/lib/ipxe/qemu"
	for f in "$r/usr/share/seabios"/*; do
		[[ -e "$r/usr/share/qemu/${f##*/}" ]] ||
			ln -s "../seabios/${f##*/}" "$r/usr/share/qemu/${f##*/}"
	done
}

# The binary runs from its place, with bookworm's libraries and its own data.
check() {
	local r="$1" upstream="$2" bin="$1/usr/bin/qemu-system-x86_64" missing out m
	missing=$(ldd "$bin" | awk '/not found/ { print $1 }' | sort -u | tr '\n' ' ')
	[[ -z "$missing" ]] ||
		die "libraries missing for $bin: $missing(install their bookworm packages; see scripts/install-deps.sh)"
	for m in "$r"/usr/lib/x86_64-linux-gnu/qemu/*.so; do
		[[ -e "$m" ]] || continue
		missing=$(ldd "$m" | awk '/not found/ { print $1 }' | sort -u | tr '\n' ' ')
		[[ -z "$missing" ]] || log "warning: module ${m##*/} lacks $missing(only matters if it is used)"
	done
	# The upstream part of the Debian version, without +ds and the revision.
	upstream="${upstream%%+*}"
	upstream="${upstream%%-*}"
	out=$("$bin" --version 2>&1) || die "$bin --version failed: $out"
	[[ "$out" == *"QEMU emulator version $upstream "* ]] ||
		die "$bin --version does not say $upstream: $(head -n1 <<<"$out")"
	[[ -r "$r/usr/share/qemu/bios-256k.bin" ]] || die "bios-256k.bin missing from the extracted datadir"
	out=$(printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"quit"}' |
		timeout 60 "$bin" -accel tcg -machine q35 -nodefaults -no-user-config -display none \
			-m 64 -S -L "$r/usr/share/qemu" -qmp stdio 2>&1) ||
		die "$bin cannot start a q35 machine: $(grep -v '^{' <<<"$out" | tail -n 3)"
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
	--print-datadir) printf '%s\n' "$datadir" ;;
	--print-version) sed -n 's/^qemu-system-x86=//p' "$stamp" ;;
	esac
done

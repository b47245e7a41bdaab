#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What the arm64 test guest (tests/vm-arm64, the vm-arm64 suite) needs on a
# Debian 12 amd64 host, as root.  Called by scripts/install-deps.sh.
# Idempotent and quiet unless it changes something.
#
#   * the arm64 architecture in dpkg (multiarch): the only change made to
#     the machine's package configuration; its apt sources are untouched;
#   * the cross compiler, and the arm64 -dev packages the project builds
#     against (the Meson cross file tests/vm-arm64/aarch64-linux-gnu.ini);
#   * their arm64 runtime libraries (libc6:arm64 brings the loader
#     /lib/ld-linux-aarch64.so.1): the arm64 guest's root is the host's /
#     over 9p, so the cross-built programs run there against them.
# QEMU 10 for arm, AAVMF and the guest's arm64 busybox are extracted into the
# test cache by tests/vm-arm64/qemu10.sh, not installed.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(
	# cross toolchain (brings libc6-dev-arm64-cross); file: qemu10.sh's check
	gcc-aarch64-linux-gnu file
	# arm64 multiarch: the loader and the libraries and headers we link.
	# libevent-dev has no Multi-Arch field: its arm64 build would replace the
	# amd64 one, so only its runtime libraries are installed, and
	# tests/vm-arm64/sysroot.sh extracts libevent-dev:arm64 into the cache.
	libc6:arm64 libc6-dev:arm64
	libevent-2.1-7:arm64 libevent-core-2.1-7:arm64 libevent-pthreads-2.1-7:arm64
	libsystemd-dev:arm64 libjson-c-dev:arm64
	libnl-3-dev:arm64 libnl-genl-3-dev:arm64
	# what the arm64 bash and Python that tests/vm-arm64/qemu10.sh extracts
	# link (Python's ctypes: libffi8)
	libtinfo6:arm64 libexpat1:arm64 zlib1g:arm64 libffi8:arm64
	# the cross file's exe_wrapper: the build runs introspect-dump (arm64) to
	# render the D-Bus introspection XML (no binfmt: qemu-user-binfmt is not
	# installed)
	qemu-user
	"$@"
)

# shellcheck source=scripts/lib/deps.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/deps.sh"
need_arch=false
dpkg --print-foreign-architectures | grep -qx arm64 || need_arch=true

missing=()
if ! $need_arch; then
	mapfile -t missing < <(missing_packages "${packages[@]}")
	((${#missing[@]})) || exit 0
else
	missing=("${packages[@]}")
fi

if ((EUID != 0)); then
	what="${missing[*]}"
	if $need_arch; then what="the arm64 architecture (dpkg), $what"; fi
	echo "install-deps-arm64.sh: missing: $what; run me as root" >&2
	exit 1
fi
if $need_arch; then
	echo "install-deps-arm64.sh: dpkg --add-architecture arm64" >&2
	dpkg --add-architecture arm64
fi
echo "install-deps-arm64.sh: installing ${missing[*]}" >&2
apt-get update -q
# --no-remove: never trade a native package for an arm64 one.
apt-get install -y -q --no-install-recommends --no-remove "${missing[@]}"

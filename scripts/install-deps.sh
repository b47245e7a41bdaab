#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Install what building and testing viommud needs on Debian 12 (run as root).
# Idempotent: only missing packages are installed, and apt-get update runs only
# when something is missing.  Quiet unless it installs.
#
#   scripts/install-deps.sh [EXTRA-PACKAGE...]
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(
	build-essential meson ninja-build pkg-config
	libevent-dev libsystemd-dev libjson-c-dev libnl-3-dev libnl-genl-3-dev
	python3 clang dbus ca-certificates dpkg-dev xz-utils scdoc
	# scripts/fuzz.sh: libFuzzer and the sanitizer runtimes of clang 14
	libclang-rt-14-dev
	# test guest: QEMU, the guest's poweroff, and building its kernel.
	# qemu-system-x86 (7.2) also brings every library, and the ipxe-qemu ROMs,
	# that tests/vm/qemu10.sh's QEMU 10 (bookworm-backports, extracted into the
	# cache, not installed) needs: its Depends are a subset of 7.2's; qemu10.sh
	# checks with ldd.
	qemu-system-x86 busybox-static flex bison bc libelf-dev libssl-dev rsync
	# the units test: systemd-analyze, systemd-sysusers, systemd-tmpfiles, and
	# /bin/kill (ExecReload=), which systemd-analyze verify wants to exist
	systemd procps
	# the systemd-polkit test: polkitd 122 (JavaScript rules), useradd
	polkitd passwd
	# scripts/deb.sh: the Debian packages (it installs the rest of
	# debian/control's Build-Depends itself) and their check
	debhelper lintian
	# promtool, which checks GetMetrics' text (test-metrics, test-daemon-metrics);
	# the server it comes with is not used (the systemd test guest masks it)
	prometheus
	"$@"
)

# shellcheck source=scripts/lib/deps.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/deps.sh"
mapfile -t missing < <(missing_packages "${packages[@]}")
((${#missing[@]})) || exit 0

if ((EUID != 0)); then
	echo "install-deps.sh: missing packages: ${missing[*]}; run me as root" >&2
	exit 1
fi
echo "install-deps.sh: installing ${missing[*]}" >&2
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

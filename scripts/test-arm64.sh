#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The vm-arm64 suite, end to end (tests/vm-arm64/README.md). As root on Debian
# 12 amd64: installs what is missing (arm64 multiarch included), makes the
# arm64 test-guest kernel and its uAPI headers (cache), extracts QEMU 10 for
# arm, AAVMF and an arm64 busybox, and libevent-dev:arm64 (cache), cross-builds the project with
# warnings as errors, and runs the vm-arm64 suite, each program in an arm64
# guest on the real arm-smmu-v3 driver. Ends with meson's summary.
#
#   scripts/test-arm64.sh [MESON-TEST-ARGS...]
#
# Environment: BUILD_ARM64 (build directory, default build-test-arm64).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

scripts/install-deps.sh
scripts/install-deps-arm64.sh
tests/vm-arm64/qemu10.sh
cross_local=$(tests/vm-arm64/sysroot.sh --print-cross-file)
mapfile -t kernel < <(tests/vm-arm64/kernel.sh --print-kernel --print-uapi --print-selftest-header)
((${#kernel[@]} == 3)) || { echo "test-arm64.sh: tests/vm-arm64/kernel.sh failed" >&2; exit 1; }
export VIOMMU_VM_ARM64_KERNEL="${kernel[0]}"

dir="${BUILD_ARM64:-build-test-arm64}"
args=(--cross-file tests/vm-arm64/aarch64-linux-gnu.ini --cross-file "$cross_local" -Dwerror=true
	-Duapi_headers="${kernel[1]}" -Dselftest_header="${kernel[2]}")
if [[ -d "$dir" ]]; then
	meson setup --reconfigure "$dir" "${args[@]}" >/dev/null
else
	meson setup "$dir" "${args[@]}" >/dev/null
fi
ninja -C "$dir"
echo "== arm64 cross build: --suite vm-arm64"
meson test -C "$dir" --suite vm-arm64 --print-errorlogs "$@"

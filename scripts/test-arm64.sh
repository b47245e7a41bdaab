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
#   scripts/test-arm64.sh --demo
#
# --demo (scripts/main.sh): instead of the suite, viommud in the arm64 guest
# nests a guest's stage 1 (test-smmuv3-daemon's set-up cases), printing what
# the test saw and viommuctl's vm show and hw-info.
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
if [[ "${1:-}" == --demo ]]; then
	# Quiet unless the build fails: the demo's output is what the guest shows.
	ninja -C "$dir" >"$dir/demo-build.log" 2>&1 || { cat "$dir/demo-build.log" >&2; exit 1; }
	# The test's TAP lines and notes; the console's firmware and kernel
	# lines, and run-daemon's, are left out.
	tests/vm-arm64/guest-run --timeout 300 --env VIOMMUCTL="$top/$dir/cli/viommuctl" -- \
		"$top/tests/integration/run-daemon" --daemon "$top/$dir/daemon/viommud" \
		--log-level warning --config-json \
		'{"allowed_devices": ["1234:11e8"], "bind_on_demand": true, "fast_path_users": [0]}' \
		--bus none -- "$top/$dir/tests/vm-arm64/test-smmuv3-daemon" \
		test_find test_vm test_stage1 test_show |
		sed -u -E 's/\r$//' | grep --line-buffered -E '^(ok|not ok|1\.\.|# [^r[]|# r[^u])'
	exit "${PIPESTATUS[0]}"
fi
ninja -C "$dir"
meson test -C "$dir" --suite vm-arm64 --print-errorlogs "$@"

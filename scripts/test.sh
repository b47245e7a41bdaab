#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The project's test command (README, .ci/run). As root on Debian 12, from a
# fresh clone: installs what is missing, fetches/builds the test-guest kernel
# and its uAPI headers into the cache, builds the Debian packages, then builds
# twice with warnings as errors, plain and with ASan+UBSan, and runs the unit
# and vm suites of each, and the systemd suite (the packages under systemd as
# PID 1) of the plain one. The vm suite boots the QEMU test guest per program.
# Last, the vm-arm64 suite (scripts/test-arm64.sh): a cross build run in the
# arm64 guest on the real arm-smmu-v3 driver; its kernel is built in the
# background, at nice 19, while the x86 suites run. Ends with one line over
# all three builds: "tests: N passed, N failed, N skipped".
#
#   scripts/test.sh [MESON-TEST-ARGS...]
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

scripts/install-deps.sh
scripts/install-deps-arm64.sh
mapfile -t kernel < <(tests/vm/kernel.sh --print-kernel --print-uapi --print-selftest-header)
export VIOMMU_VM_KERNEL="${kernel[0]}"
# The arm64 guest's kernel takes some 11 minutes of two idle cores: build it
# meanwhile, yielding to the x86 work (its TCG guests use about one core).
# The source is there now (tests/vm/kernel.sh fetched it); scripts/test-arm64.sh
# below finds the result in the cache, or waits on the build's lock.
arm64_kernel_log="$top/build-test-arm64-kernel.log"
setsid nice -n 19 tests/vm-arm64/kernel.sh --print-kernel >"$arm64_kernel_log" 2>&1 &
arm64_kernel_pid=$!
# Its own process group: if this script stops early, make stops with it.
trap 'kill -- -"$arm64_kernel_pid" 2>/dev/null || true' EXIT
# QEMU 10 for test-launch-qemu, into the same cache (the host's QEMU stays).
tests/vm/qemu10.sh
# The Debian packages, lintian-checked, for the systemd suite: installed with
# dpkg in a guest with systemd as PID 1. Their own unit-suite run is skipped
# (nocheck): both builds below run it.
debs="$top/build-test-debs"
rm -rf "$debs"
DEB_BUILD_OPTIONS=nocheck scripts/deb.sh --lintian "$debs" >/dev/null

builds=(plain sanitize)
declare -A setup_args=(
	[plain]="-Dtest_debs=$debs"
	[sanitize]="-Db_sanitize=address,undefined -Db_lundef=false"
)
# The systemd suite tests the packages, which are built plain: once is enough.
# Suite plain-only: test-launch-qemu (see tests/integration/meson.build).
declare -A suites=(
	[plain]="--suite unit --suite vm --suite systemd"
	[sanitize]="--suite unit --suite vm --no-suite plain-only"
)

status=0
for b in "${builds[@]}"; do
	dir="build-test-$b"
	# shellcheck disable=SC2086 # setup_args holds several words on purpose
	if [[ -d "$dir" ]]; then
		meson setup --reconfigure "$dir" -Dwerror=true \
			-Duapi_headers="${kernel[1]}" -Dselftest_header="${kernel[2]}" \
			${setup_args[$b]} >/dev/null
	else
		meson setup "$dir" -Dwerror=true \
			-Duapi_headers="${kernel[1]}" -Dselftest_header="${kernel[2]}" \
			${setup_args[$b]} >/dev/null
	fi
	ninja -C "$dir"
	echo "== $b build: ${suites[$b]}"
	# shellcheck disable=SC2086 # suites holds several words on purpose
	if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C "$dir" ${suites[$b]} --print-errorlogs "$@"; then
		status=1
	fi
done

# The libFuzzer harnesses, each for a bounded time under ASan+UBSan.
echo "== fuzzing (${FUZZ_SECONDS:-30} s per harness)"
if ! FUZZ_SECONDS="${FUZZ_SECONDS:-30}" scripts/fuzz.sh; then
	status=1
fi

# The arm64 suite, on its kernel from the background build.
echo "== arm64 cross build: --suite vm-arm64"
logs=("${builds[@]/#/build-test-}")
arm64_broken=0
if ! wait "$arm64_kernel_pid"; then
	echo "test.sh: the arm64 kernel build failed; its log:" >&2
	tail -n 40 "$arm64_kernel_log" >&2
	status=1
	arm64_broken=1
else
	rm -f build-test-arm64/meson-logs/testlog.json
	if ! scripts/test-arm64.sh "$@"; then
		status=1
	fi
	if [[ -f build-test-arm64/meson-logs/testlog.json ]]; then
		logs+=(build-test-arm64)
	else
		arm64_broken=1 # set-up or build failed: no suite ran
	fi
fi

# One closing line over the builds, from meson's own logs; an arm64 suite
# that could not run counts as one failure.
python3 - "$arm64_broken" "${logs[@]}" <<'PY'
import json, sys
counts = {"passed": 0, "failed": int(sys.argv[1]), "skipped": 0}
for d in sys.argv[2:]:
    with open(f"{d}/meson-logs/testlog.json") as log:
        for line in log:
            r = json.loads(line)["result"]
            key = {"OK": "passed", "SKIP": "skipped", "EXPECTEDFAIL": "passed"}.get(r, "failed")
            counts[key] += 1
print(f"tests: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
PY
exit $status

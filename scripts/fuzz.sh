#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds the libFuzzer harnesses of tests/fuzz with clang, ASan and UBSan, and
# runs each for a bounded time on a copy of its seed corpus (tests/fuzz/corpus/
# NAME, never written to) in a temporary directory. Prints one line per
# harness and exits non-zero when any found a crash, leak, hang or broken
# invariant; the failing input and the log are then kept and named.
#
#   scripts/fuzz.sh [HARNESS...]        (default: config uevent state dbus)
#
# Environment:
#   FUZZ_SECONDS     time per harness (libFuzzer -max_total_time), default 60
#   FUZZ_BUILD_DIR   build directory, default build-fuzz in the repository
#   FUZZ_KABI_CHECK  0: build without the test kernel's uAPI headers (the
#                    kernel ABI check is skipped); default 1, as scripts/test.sh
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

seconds="${FUZZ_SECONDS:-60}"
build="${FUZZ_BUILD_DIR:-$top/build-fuzz}"
harnesses=("$@")
((${#harnesses[@]})) || harnesses=(config uevent state dbus)
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds == 0)); then
	echo "fuzz.sh: FUZZ_SECONDS must be a positive number of seconds" >&2
	exit 2
fi
for h in "${harnesses[@]}"; do
	[[ -d "tests/fuzz/corpus/$h" ]] || { echo "fuzz.sh: no harness '$h'" >&2; exit 2; }
done

scripts/install-deps.sh

# The same kernel ABI check as scripts/test.sh: the test kernel's uAPI headers
# and selftest header, from tests/vm/kernel.sh's cache.
# shellcheck disable=SC2054 # the comma is meson's, inside one argument
setup_args=(-Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true)
if [[ "${FUZZ_KABI_CHECK:-1}" != 0 ]]; then
	mapfile -t kernel < <(tests/vm/kernel.sh --print-uapi --print-selftest-header)
	((${#kernel[@]} == 2)) || { echo "fuzz.sh: tests/vm/kernel.sh failed" >&2; exit 1; }
	setup_args+=(-Duapi_headers="${kernel[0]}" -Dselftest_header="${kernel[1]}")
fi
# Quiet unless it fails.
quiet() {
	local out
	if ! out=$("$@" 2>&1); then
		printf '%s\n' "$out" >&2
		echo "fuzz.sh: failed: $*" >&2
		exit 1
	fi
}
if [[ -f "$build/build.ninja" ]]; then
	quiet env CC=clang meson setup --reconfigure "$build" "${setup_args[@]}"
else
	quiet env CC=clang meson setup "$build" "${setup_args[@]}"
fi
# Only the harnesses (and what they link): the rest of the tree is built and
# tested by scripts/test.sh.
quiet ninja -C "$build" "${harnesses[@]/#/tests/fuzz/fuzz-}"

work=$(mktemp -d "${TMPDIR:-/tmp}/viommud-fuzz.XXXXXX")
keep=0
# shellcheck disable=SC2317 # run by the trap
cleanup() { ((keep)) || rm -rf "$work"; }
trap cleanup EXIT

# libFuzzer reports sanitizer findings itself (so no abort_on_error, which
# would bypass it); UBSan stops at the first finding, and ASan looks for leaks.
export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

declare -A max_len=(
	[uevent]=8320 # UEVENT_SIZE_MAX (8192) and a little: both sides of the limit
	[dbus]=4096   # choices of the call generator: a few calls' worth
)

status=0
for h in "${harnesses[@]}"; do
	dir="$work/$h"
	mkdir -p "$dir/corpus" "$dir/artifacts"
	cp -R "tests/fuzz/corpus/$h/." "$dir/corpus/"
	# -use_value_profile: guided by how close a comparison came, so that
	# numbers creep up to the limits that are checked against them.
	args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -error_exitcode=77
		-timeout_exitcode=78 -use_value_profile=1 -print_final_stats=1 -artifact_prefix="$dir/artifacts/")
	if [[ -n "${max_len[$h]:-}" ]]; then
		args+=(-max_len="${max_len[$h]}")
	fi
	start=$SECONDS
	rc=0
	"$build/tests/fuzz/fuzz-$h" "${args[@]}" "$dir/corpus" >"$dir/log" 2>&1 || rc=$?
	elapsed=$((SECONDS - start))

	# "Done N runs in S second(s)" when it ran out its time; the final stats
	# otherwise (they are printed on a crash too).
	runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$dir/log" | tail -n 1)
	secs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$dir/log" | tail -n 1)
	[[ -n "$runs" ]] ||
		runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$dir/log" | tail -n 1)
	[[ -n "$secs" ]] || secs=$elapsed
	# The corpus as libFuzzer last reported it ("corp: N/SIZE"), else its files.
	entries=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' "$dir/log" | tail -n 1)
	[[ -n "$entries" ]] || entries=$(find "$dir/corpus" -type f | wc -l)

	if ((rc == 0)); then
		result="ok"
	else
		status=1
		keep=1
		what=$(grep -m 1 -o -E 'invariant failed: .*|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [^ ]*( [^ ]*)?|runtime error: .*' "$dir/log" || true)
		artifact=$(find "$dir/artifacts" -type f | head -n 1)
		result="FAILED (exit $rc: ${what:-see the log}); input: ${artifact:-none}; log: $dir/log"
		tail -n 40 "$dir/log" >&2
	fi
	echo "fuzz-$h: ${runs:-?} executions in $secs s, $entries corpus entries, $result"
done
exit $status

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The full benchmark against the direct path (bench/viommu-bench.c): builds
# the plain build (configured as scripts/test.sh configures it), boots the test
# guest with viommud under run-daemon (system bus too), runs viommu-bench
# there, prints its table and keeps its JSON in bench/last-run.json, with the
# host's load average before and after added (the guest is TCG: a busy host
# slows it and widens every p99). Takes about 2 minutes. The exit status is
# the benchmark's: 1 only for an error, never for a missed target.
#
#   scripts/bench.sh [--builddir DIR] [--json PATH] [--smp N] [--quick] [--rows LETTERS] [--host]
#
# --host: rows a and g on this machine, no guest (the daemon runs here with
# --bus none and no IOMMU; the IPC figures without TCG in them), JSON in
# bench/last-run-host.json.
# --builddir: default build-bench (not scripts/test.sh's build-test-plain, so
# the two can run at once). --json: default bench/last-run.json. --smp: the
# guest's vCPUs, default 1 (see bench/meson.build: under TCG a wake-up across
# vCPUs waits for the host's scheduler).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

builddir=build-bench
json=bench/last-run.json
host=false
smp=1
bench_args=()
while (($#)); do
	case "$1" in
	--builddir) builddir="${2:?}"; shift 2 ;;
	--json) json="${2:?}"; shift 2 ;;
	--smp) smp="${2:?}"; shift 2 ;;
	--quick) bench_args+=(--quick); shift ;;
	--rows) bench_args+=(--rows "${2:?}"); shift 2 ;;
	--host) host=true; shift ;;
	*)
		echo "usage: $0 [--builddir DIR] [--json PATH] [--smp N] [--quick] [--rows LETTERS] [--host]" >&2
		exit 2
		;;
	esac
done

scripts/install-deps.sh
mapfile -t kernel < <(tests/vm/kernel.sh --print-kernel --print-uapi --print-selftest-header)
export VIOMMU_VM_KERNEL="${kernel[0]}"

# The plain build of scripts/test.sh.
if [[ -d "$builddir" ]]; then
	meson setup --reconfigure "$builddir" -Dwerror=true \
		-Duapi_headers="${kernel[1]}" -Dselftest_header="${kernel[2]}" >/dev/null
else
	meson setup "$builddir" -Dwerror=true \
		-Duapi_headers="${kernel[1]}" -Dselftest_header="${kernel[2]}" >/dev/null
fi
ninja -C "$builddir" >/dev/null

# As bench/meson.build's benchmark(), without --quick. The guest gets 3 GiB:
# row c pins a 1 GiB memfd (the daemon's mapping, then ours, never both).
config='{"mock_devices": 64, "fast_path_users": [0], "quota_vms_per_uid": 4200}'
out=$(mktemp)
trap 'rm -f "$out"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if $host; then
	[[ $json != bench/last-run.json ]] || json=bench/last-run-host.json
	guest=()
	run_bus=none
	bench_args+=(--host)
else
	guest=(tests/vm/guest-run --flavour vtd --smp "$smp" --memory 3072 --timeout 900 --)
	run_bus=system
fi
set +e
"${guest[@]+"${guest[@]}"}" \
	"$(command -v prlimit)" --nofile=65536:65536 -- \
	"$top/tests/integration/run-daemon" --daemon "$top/$builddir/daemon/viommud" \
	--log-level info --config-json "$config" --bus "$run_bus" -- \
	"$top/$builddir/bench/viommu-bench" --json - "${bench_args[@]+"${bench_args[@]}"}" |
	tee "$out" |
	awk '/^--- viommu-bench json begin ---$/ { skip = 1 }
	     !skip { print; fflush() }
	     /^--- viommu-bench json end ---$/ { skip = 0 }'
status=${PIPESTATUS[0]}
set -e
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

if ((status != 0)); then
	echo "bench.sh: the benchmark failed (status $status); no JSON written" >&2
	exit "$status"
fi
mkdir -p "$(dirname "$json")"
python3 - "$out" "$json" "$load_before" "$load_after" "$(nproc)" "$smp" <<'PY'
import json, sys
src, dst, before, after, nproc, smp = sys.argv[1:]
text, inside = [], False
with open(src) as f:
    for line in f:
        line = line.rstrip("\n")
        if line == "--- viommu-bench json begin ---":
            inside = True
        elif line == "--- viommu-bench json end ---":
            inside = False
        elif inside:
            text.append(line)
if not text:
    sys.exit("bench.sh: the benchmark printed no JSON")
doc = json.loads("\n".join(text))
doc["host"] = {"loadavg_before": before, "loadavg_after": after, "cpus": int(nproc)}
doc["guest"] = {"smp": int(smp), "memory_mib": 3072, "accel": "tcg"}
with open(dst, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
print(f"bench.sh: JSON in {dst} (host load average {before} before, {after} after)")
PY

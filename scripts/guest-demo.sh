#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs inside the test guest for scripts/main.sh: starts viommud with two
# selftest mock devices and the emulated edu device allowed, sets a VM up with
# the example VMM (which then invalidates on its own iommufd: the fast path),
# and shows it all through viommuctl, the daemon's metrics too.
set -euo pipefail
build=$1
run=/run/viommud-demo
mkdir -p "$run"
cat >"$run/viommud.conf" <<'CONF'
{
  "mock_devices": 2,
  "allowed_devices": ["1234:11e8"],
  "bind_on_demand": true,
  "fast_path_users": [0]
}
CONF
"$build/daemon/viommud" --config "$run/viommud.conf" --socket "$run/viommud.sock" \
	--bus none --log-level warning &
daemon=$!
for _ in $(seq 100); do [[ -S $run/viommud.sock ]] && break; sleep 0.05; done
export VIOMMU_SOCKET=$run/viommud.sock
ctl() { echo; echo "\$ viommuctl $*"; "$build/cli/viommuctl" --no-color "$@"; }
ctl status
ctl devices
echo
echo "\$ vmm-fastpath --selftest --keep selftest0"
"$build/examples/vmm-fastpath" --selftest --keep selftest0
ctl vms
ctl vm show "$("$build/cli/viommuctl" vms --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["path"])')"
ctl metrics
ctl hw-info selftest0
kill -TERM "$daemon"
wait "$daemon"

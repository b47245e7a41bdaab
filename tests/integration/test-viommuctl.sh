#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# viommuctl against a running viommud (started by run-daemon inside the test
# guest with {"mock_devices": 2, "allowed_devices": ["1234:11e8"],
# "bind_on_demand": true}): every verb, human output by its key strings, JSON
# output field by field against the daemon's own Describe(), error cases and
# exit codes, and monitor following a reload. No service manager runs the
# daemon, so there are no orphans. Prints TAP.
#
#   test-viommuctl.sh VIOMMUCTL HELPER
#
# HELPER is test-viommuctl-vm (creates VMs, prints Describe()).
set -u

ctl="${1:?viommuctl}"
helper="${2:?test-viommuctl-vm}"
dir=/run/viommud-test
conf="$dir/viommud.conf"
tmp=$(mktemp -d /run/viommuctl-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for f in "$@"; do [[ -s "$f" ]] && sed "s|^|# $(basename "$f"): |" "$f"; done
}

# run EXPECTED_STATUS DESCRIPTION ARGS...: viommuctl's stdout and stderr land
# in $tmp/out and $tmp/err.
run() {
	local want="$1" what="$2" rc
	shift 2
	"$ctl" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if ((rc == want)); then
		ok "$what (exit $rc)"
	else
		not_ok "$what: exit $rc, expected $want" "$tmp/out" "$tmp/err"
	fi
}

# has FILE DESCRIPTION PATTERN...: every extended regex matches a line.
has() {
	local file="$1" what="$2" p
	shift 2
	for p in "$@"; do
		if ! grep -Eq -- "$p" "$file"; then
			not_ok "$what: no /$p/" "$file"
			return
		fi
	done
	ok "$what"
}

# pycheck DESCRIPTION SCRIPT: python3 compares $tmp/out (viommuctl's JSON,
# as "out") with $tmp/describe.json (the daemon's, as "desc"); SCRIPT asserts.
prelude='
import json, sys
out = json.load(open(sys.argv[1]))
desc = json.load(open(sys.argv[2]))
def same(a, b, keys, what):
    for k in keys:
        if k in b or k in a:
            assert a.get(k) == b.get(k), f"{what}: {k}: {a.get(k)!r} != {b.get(k)!r}"
'
pycheck() {
	if python3 -c "$prelude$2" "$tmp/out" "$tmp/describe.json" >"$tmp/py" 2>&1; then
		ok "$1"
	else
		not_ok "$1" "$tmp/py" "$tmp/out"
	fi
}

describe() { "$helper" describe >"$tmp/describe.json" 2>"$tmp/err"; }

# keys COMMAND [FILE]: keeps the --json output in FILE ($tmp/out) for the
# check at the end (one python run for all: each costs seconds under TCG):
# every key path of each output is documented under its command in
# viommuctl(8) JSON KEYS, and every documented one turned up (json-keys.py).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
manpage="$here/../../man/viommuctl.8.scd"
nkeys=0
keys() {
	nkeys=$((nkeys + 1))
	cp "${2:-$tmp/out}" "$tmp/keys-$nkeys.json"
	printf '%s\t%s\n' "$1" "$tmp/keys-$nkeys.json" >>"$tmp/keys-list"
}

# wait_line FILE PATTERN: until a line matches (10 s at most).
wait_line() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -Eq -- "$2" "$1" && return 0
		sleep 0.05
	done
	return 1
}

edu=""
for d in /sys/bus/pci/devices/*; do
	if [[ "$(cat "$d/vendor")" == 0x1234 && "$(cat "$d/device")" == 0x11e8 ]]; then
		edu=$(basename "$d")
	fi
done

# --- usage errors: exit 2, before anything is asked of the daemon ---
run 2 "no command"
run 2 "unknown command" frobnicate
has "$tmp/err" "unknown command named on stderr" 'unknown command "frobnicate"'
run 2 "unknown option" --frob status
run 2 "vm without a subcommand" vm
run 2 "unknown subcommand" vm frob x
run 2 "device show without DEV" device show
run 2 "device show with two DEVs" device show selftest0 selftest1
run 2 "bad DEV syntax" device show 'not/a:device'
run 2 "bad BDF" hw-info 0000:00:99.9
run 2 "bad DEV path" bind /org/viommu1/vm/1
run 2 "bad VM name" vm show 'bad name!'
run 2 "extra argument to status" status now
run 2 "--socket with --system" --socket /x --system status
run 2 "orphan name with ':'" orphan release 'a:b'
has "$tmp/err" "bad orphan name named on stderr" '"a:b" is no orphan name'
run 2 "launch without --name" launch --memory 64M -- true
run 2 "launch without --memory" launch --name l1 -- true
run 2 "launch with a bad size" launch --name l1 --memory 12Q -- true
run 2 "launch without a command" launch --name l1 --memory 64M
run 2 "launch with a bad device" launch --name l1 --memory 64M --device 'no:dev' -- true
run 2 "launch placeholder for a device not given" launch --name l1 --memory 64M -- \
	true '{device:0000:00:09.0}'
has "$tmp/err" "launch names the stray placeholder" 'names a device not given with --device'
run 0 "--help" --help
has "$tmp/out" "--help lists every verb" '^  status' '^  devices' '^  device show DEV' \
	'^  hw-info DEV' '^  bind DEV' '^  unbind DEV' '^  vms' '^  vm show VM' '^  vm destroy VM' \
	'^  describe' '^  metrics' '^  monitor' '^  orphans' '^  orphan release NAME' \
	'^  launch OPTIONS'
run 0 "--version" --version
has "$tmp/out" "--version prints a version" '^viommuctl [0-9]'
run 1 "--socket to nothing" --socket "$tmp/none.sock" status
has "$tmp/err" "connection error names the socket" "^viommuctl: status: .*$tmp/none.sock"

# --- status ---
run 0 "status" status
has "$tmp/out" "status shows the daemon" '^Version: +[0-9]' \
	'^Socket: +/run/viommud-test/viommud.sock' '^Kernel features: +iommufd, vfio-cdev, selftest' \
	'^Devices: +[0-9]+' '^VMs: +0'
if grep -q $'\e' "$tmp/out"; then
	not_ok "no colour when stdout is no terminal" "$tmp/out"
else
	ok "no colour when stdout is no terminal"
fi
run 0 "status --json" --json status
keys status
describe
pycheck "status --json matches Describe()" '
assert out["version"] == desc["version"], out
assert out["devices"] == len(desc["devices"]), out
assert out["vms"] == len(desc["vms"]) == 0, out
assert out["assignable_devices"] == sum(d["assignable"] for d in desc["devices"])
assert "selftest" in out["kernel_features"] and "iommufd" in out["kernel_features"]
assert out["socket"] == "/run/viommud-test/viommud.sock"'
VIOMMU_SOCKET=/nonexistent run 0 "--socket wins over VIOMMU_SOCKET" \
	--socket "$dir/viommud.sock" status

# --- orphans, orphan release: none without a service manager ---
run 0 "orphans with none" orphans
has "$tmp/out" "orphans says there are none" '^Orphaned fds: none$'
run 0 "orphans --json" --json orphans
keys orphans
describe
pycheck "orphans --json is [] as Describe() has it" 'assert out == [] == desc["orphans"], out'
run 1 "orphan release of an unknown name" orphan release vm9.iommufd
has "$tmp/err" "unknown orphan error is the daemon's" \
	'^viommuctl: orphan release vm9\.iommufd: org\.viommu1\.Error\.NotFound: '

# --- devices, device show, hw-info, bind, unbind ---
run 0 "devices" devices
has "$tmp/out" "devices table" '^NAME +DRIVER +GROUP +IOMMU +VM +ASSIGNABLE +REASON$' \
	'^selftest0 +- +-1 +selftest +- +yes' '^selftest1 '
[[ -n "$edu" ]] && has "$tmp/out" "devices lists the edu device" "^$edu "
run 0 "devices --json" devices --json
keys devices
describe
pycheck "devices --json matches Describe() field by field" '
assert len(out) == len(desc["devices"]), (len(out), len(desc["devices"]))
for d in desc["devices"]:
    mine = [o for o in out if o["path"] == d["path"]]
    assert len(mine) == 1, d["path"]
    same(mine[0], d, ["path", "name", "mock", "driver", "iommu_group", "vendor", "vm",
                      "assignable", "reason"], d["name"])'
run 0 "device show selftest0" device show selftest0
has "$tmp/out" "device show" '^Name: +selftest0$' '^Path: +/org/viommu1/device/selftest0$' \
	'^IOMMU: +selftest$' '^Assignable: +yes$'
run 0 "device show by path" --json device show /org/viommu1/device/selftest1
keys "device show"
pycheck "device show --json matches Describe()" '
d = [x for x in desc["devices"] if x["name"] == "selftest1"][0]
same(out, d, ["path", "name", "mock", "driver", "iommu_group", "vendor", "vm", "assignable",
              "reason"], "selftest1")'
run 1 "device show of a device that is not there" device show selftest9
has "$tmp/err" "error names the object and the reason" \
	'^viommuctl: device show selftest9: org\.freedesktop\.DBus\.Error\.UnknownObject: '
run 0 "hw-info selftest0" hw-info selftest0
has "$tmp/out" "hw-info" '^Device: +selftest0$' '^IOMMU: +selftest$'

if [[ -n "$edu" ]]; then
	run 0 "device show edu by its short BDF" device show "${edu#0000:}"
	has "$tmp/out" "edu shown" "^Name: +$edu\$" '^IOMMU: +intel-vtd$' '^Assignable: +(yes|no)$'
	run 0 "hw-info edu" hw-info "$edu"
	has "$tmp/out" "hw-info decodes the VT-d registers" '^IOMMU: +intel-vtd$' \
		'^Capabilities:$' '^  NAME +VALUE +DESCRIPTION$' \
		'^  MGAW +[0-9]+ +maximum guest address width' '^  QI +1 +queued invalidation'
	run 0 "hw-info --json edu" --json hw-info "$edu"
	keys hw-info
	describe
	pycheck "hw-info --json matches Describe()" "
d = [x for x in desc['devices'] if x['name'] == '$edu'][0]
assert out['vendor'] == d['vendor'] == 'intel-vtd', out['vendor']
assert out['hw_info'] == d['hw_info'], (out['hw_info'], d['hw_info'])
assert {c['name']: c['value'] for c in out['capabilities']} == d['hw_info']"

	# Root may rebind; an operator's bind is not given back by unbind.
	run 0 "bind edu" bind "$edu"
	run 0 "device show edu after bind" --json device show "$edu"
	keys "device show"
	pycheck "bind put edu on vfio-pci" 'assert out["driver"] == "vfio-pci", out["driver"]
assert out["cdev"].startswith("vfio"), out["cdev"]'
	run 0 "unbind edu (--json on a write verb)" --json unbind "$edu"
	run 0 "device show edu after unbind" --json device show "$edu"
	pycheck "unbind took edu off vfio-pci" 'assert out["driver"] != "vfio-pci", out["driver"]'
	run 1 "unbind of an unbound device" unbind "$edu"
	has "$tmp/err" "unbind error is the daemon's" \
		"^viommuctl: unbind $edu: org\\.viommu1\\.Error\\.InvalidArgument: .*not bound to vfio-pci"
else
	not_ok "the guest has no edu device (1234:11e8)"
fi
run 1 "bind of a mock device" bind selftest0
has "$tmp/err" "bind error is the daemon's" \
	'^viommuctl: bind selftest0: org\.viommu1\.Error\.NotSupported: '

# --- VMs ---
run 0 "vms with none" vms
has "$tmp/out" "vms header" \
	'^NAME +OWNER +MODE +PERSIST +SHARED +DEVICES +VIOMMUS +DOMAINS +MAPPED$'
run 1 "vm show of an unknown VM" vm show web1
has "$tmp/err" "unknown VM error" \
	'^viommuctl: vm show web1: org\.viommu1\.Error\.NotFound: no VM named "web1"$'
run 1 "vm destroy of an unknown VM" vm destroy web1
has "$tmp/err" "unknown VM error" \
	'^viommuctl: vm destroy web1: org\.viommu1\.Error\.NotFound: no VM named "web1"$'

vm="" vm2=""
if vm=$("$helper" mock guest1 2>"$tmp/err"); then
	ok "a mock VM was set up ($vm)"
else
	not_ok "a mock VM was set up" "$tmp/err"
fi
if [[ -n "$edu" ]]; then
	if vm2=$("$helper" pci edu1 "$edu" 2>"$tmp/err"); then
		ok "an edu VM was set up ($vm2)"
	else
		not_ok "an edu VM was set up" "$tmp/err"
	fi
fi
run 0 "vms" vms
has "$tmp/out" "vms lists the VM" \
	'^guest1 +0 +managed +yes +yes +1 +1 +1 +1\.0 MiB \(1048576\)$'
run 0 "vms --json" --json vms
keys vms
describe
pycheck "vms --json matches Describe()" '
assert len(out) == len(desc["vms"])
for v in desc["vms"]:
    m = [o for o in out if o["path"] == v["path"]][0]
    same(m, v, ["path", "name", "owner", "mode", "persist", "claimed", "shared", "mapped_bytes"],
         v["name"])
    assert m["device_count"] == len(v["devices"]) and m["viommu_count"] == len(v["viommus"])
    assert m["domain_count"] == len(v["domains"])'
run 0 "vm show guest1" vm show guest1
has "$tmp/out" "vm show" '^Name: +guest1$' '^Mode: +managed$' '^Owner: +0$' \
	'^Persistent: +yes$' '^Claimed: +yes$' '^Fast path handed out: +yes$' \
	'^Nesting parent: +yes$' '^IOAS ID: +[1-9]' '^Parent HWPT ID: +[1-9]' \
	'^Mapped: +1\.0 MiB \(1048576\)$' \
	'^IOVA ranges:$' '^  START +LAST$' '^  0x[0-9a-f]+ +0x[0-9a-f]+$' \
	'^Devices:$' '^  selftest0 +selftest +- +domain/[0-9]+$' \
	'^vIOMMUs:$' '^  viommu/[0-9]+ +selftest +[1-9]' \
	'^vDEVICEs:$' '^  vdevice/[0-9]+ +viommu/[0-9]+ +selftest0 +0x10 +[1-9]' \
	'^Domains:$' '^  domain/[0-9]+ +[1-9][0-9]* +0xdead +viommu/[0-9]+ +selftest0 +0$'
cp "$tmp/out" "$tmp/show-human"
sed 's/^/# /' "$tmp/show-human"
run 1 "launch on a managed VM" launch --name guest1 --memory 64M -- true
has "$tmp/err" "launch refuses a managed VM" 'is a managed VM; launch needs a broker VM'
run 0 "vm show by path --json" --json vm show "$vm"
keys "vm show"
pycheck "vm show --json matches Describe() field by field" '
v = [x for x in desc["vms"] if x["name"] == "guest1"][0]
same(out, v, ["path", "name", "owner", "mode", "persist", "claimed", "vmm_pid", "pasid",
              "shared", "nesting", "ioas_id", "parent_id", "mapped_bytes"], "vm")
assert out["claimed"] is True, out["claimed"]
assert out["vmm_pid"] == 0, out["vmm_pid"]
assert out["iova_ranges"] == v["iova_ranges"], (out["iova_ranges"], v["iova_ranges"])
for key, fields in [("devices", ["path", "name", "domain"]),
                    ("viommus", ["path", "type", "kernel_id", "invalidations", "mmap_offset",
                                 "mmap_length"]),
                    ("domains", ["path", "kernel_id", "data_type", "viommu", "invalidations"]),
                    ("vdevices", ["path", "device", "viommu", "virt_id", "kernel_id"])]:
    assert len(out[key]) == len(v[key]) > 0, key
    for d in v[key]:
        same([o for o in out[key] if o["path"] == d["path"]][0], d, fields, key)
assert out["vdevices"][0]["virt_id"] == 16
assert out["viommus"][0]["parent_id"] == v["parent_id"]'
if [[ -n "$edu" ]]; then
	run 0 "vm show edu1" vm show edu1
	has "$tmp/out" "vm show of the edu VM" '^Name: +edu1$' \
		"^  $edu +intel-vtd +vfio-pci +parent\$" '^vIOMMUs: none$' '^Fast path handed out: +no$'
	run 0 "vm show edu1 --json" --json vm show edu1
	keys "vm show"
	pycheck "edu VM matches Describe()" '
v = [x for x in desc["vms"] if x["name"] == "edu1"][0]
same(out, v, ["path", "name", "mode", "shared", "ioas_id", "parent_id", "mapped_bytes"], "vm")
assert out["iova_ranges"] == v["iova_ranges"] and len(v["iova_ranges"]) > 0
assert [d["name"] for d in out["devices"]] == [d["name"] for d in v["devices"]]'
	run 0 "devices while edu is attached" devices
	has "$tmp/out" "devices names the VM and why not" \
		"^$edu +vfio-pci +[0-9]+ +intel-vtd +edu1 +no +attached to VM edu1\$"
	sed 's/^/# /' "$tmp/out"
	run 1 "unbind of an attached device" unbind "$edu"
	has "$tmp/err" "Busy names the VM" \
		"^viommuctl: unbind $edu: org\\.viommu1\\.Error\\.Busy: .*edu1"
	run 0 "hw-info of the attached edu" --json hw-info "$edu"
	pycheck "hw-info of a bound device" 'assert out["hw_info"] and out["source"] == "daemon", out'
fi

# describe: the daemon's document, pretty-printed
run 0 "describe" describe
describe
pycheck "describe prints the daemon's document" 'assert out == desc'
has "$tmp/out" "describe is pretty-printed" '^  "vms": \['

# metrics: the daemon's text as it is, --json or not (test-daemon-metrics checks values)
run 0 "metrics" metrics
has "$tmp/out" "metrics prints Prometheus text" '^# HELP viommu_vms ' '^# TYPE viommu_vms gauge$' \
	'^viommu_vms [0-9]+$' '^viommu_quota_refusals_total\{limit="quota_vms_per_uid"\} [0-9]+$'
cp "$tmp/out" "$tmp/metrics.txt"
run 0 "metrics --json" --json metrics
if cmp -s <(grep -v '^viommu_method_duration\|^viommu_connections' "$tmp/out") \
	<(grep -v '^viommu_method_duration\|^viommu_connections' "$tmp/metrics.txt"); then
	ok "metrics --json prints the same text"
else
	not_ok "metrics --json prints the same text" "$tmp/out"
fi

# --- monitor: follows a reload that adds and then removes a mock device ---
"$ctl" monitor --json >"$tmp/mon.json" 2>"$tmp/mon-json.err" &
mon_json=$!
"$ctl" monitor >"$tmp/mon.txt" 2>"$tmp/mon-text.err" &
mon_text=$!
# Both are subscribed once the daemon has logged their connections.
wait_line "$dir/viommud.log" "connected \\(pid $mon_json " &&
	wait_line "$dir/viommud.log" "connected \\(pid $mon_text "
sed -i 's/"mock_devices": 2/"mock_devices": 3/' "$conf"
kill -HUP "$VIOMMUD_PID"
if wait_line "$tmp/mon.txt" \
	'^DeviceAdded +selftest2 +/org/viommu1/device/selftest2 +org\.viommu1\.Device$' &&
	wait_line "$tmp/mon.txt" \
		'^InterfacesAdded +selftest2 +/org/viommu1/device/selftest2 +org\.viommu1\.Device$'; then
	ok "monitor printed DeviceAdded and InterfacesAdded selftest2"
else
	not_ok "monitor printed DeviceAdded and InterfacesAdded selftest2" "$tmp/mon.txt" \
		"$tmp/mon-text.err"
fi
sed -i 's/"mock_devices": 3/"mock_devices": 2/' "$conf"
kill -HUP "$VIOMMUD_PID"
if wait_line "$tmp/mon.txt" '^DeviceRemoved +selftest2 ' &&
	wait_line "$tmp/mon.txt" '^InterfacesRemoved +selftest2 '; then
	ok "monitor printed DeviceRemoved and InterfacesRemoved selftest2"
else
	not_ok "monitor printed DeviceRemoved and InterfacesRemoved selftest2" "$tmp/mon.txt"
fi
wait_line "$tmp/mon.json" 'DeviceRemoved'
kill -INT "$mon_json"
kill -TERM "$mon_text"
wait "$mon_json"
rc1=$?
wait "$mon_text"
rc2=$?
if ((rc1 == 0 && rc2 == 0)); then
	ok "monitor ends with 0 on SIGINT and SIGTERM"
else
	not_ok "monitor ends with 0 on SIGINT and SIGTERM: $rc1 $rc2" "$tmp/mon-json.err" \
		"$tmp/mon-text.err"
fi
if python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
p = "/org/viommu1/device/selftest2"
d = "org.viommu1.Device"
mine = [l for l in lines if l["path"] == p]
assert mine == [
    {"signal": "DeviceAdded", "device": "selftest2", "path": p, "interface": d},
    {"signal": "InterfacesAdded", "device": "selftest2", "path": p, "interface": d},
    {"signal": "InterfacesRemoved", "device": "selftest2", "path": p, "interface": d},
    {"signal": "DeviceRemoved", "device": "selftest2", "path": p, "interface": d}], mine

' "$tmp/mon.json" >"$tmp/py" 2>&1; then
	ok "monitor --json: one object per signal, one per line"
else
	not_ok "monitor --json: one object per signal, one per line" "$tmp/py" "$tmp/mon.json"
fi

keys monitor "$tmp/mon.json"

# --- vm destroy: a monitor (root may see every VM) hears its objects go ---
"$ctl" monitor >"$tmp/mon-vm.txt" 2>"$tmp/mon-vm.err" &
mon_vm=$!
wait_line "$dir/viommud.log" "connected \\(pid $mon_vm "
run 0 "vm destroy guest1 (--json is fine)" --json vm destroy guest1
# (A VM's objects are no devices: "-" in the DEVICE column.)
if wait_line "$tmp/mon-vm.txt" "^InterfacesRemoved +- +${vm//./\\.} +org\\.viommu1\\.Vm\$" &&
	grep -Eq "^InterfacesRemoved +- +${vm}/viommu/[0-9]+ +org\\.viommu1\\.Viommu\$" "$tmp/mon-vm.txt"; then
	ok "monitor printed InterfacesRemoved of the VM and its vIOMMU"
else
	not_ok "monitor printed InterfacesRemoved of the VM and its vIOMMU" "$tmp/mon-vm.txt" \
		"$tmp/mon-vm.err"
fi
kill -TERM "$mon_vm"
wait "$mon_vm"
run 1 "vm show after destroy" vm show guest1
has "$tmp/err" "destroyed VM is gone" 'org\.viommu1\.Error\.NotFound: no VM named "guest1"'
run 1 "vm destroy by a stale path" vm destroy "$vm"
has "$tmp/err" "stale path: the daemon's UnknownObject" \
	"^viommuctl: vm destroy $vm: org\\.freedesktop\\.DBus\\.Error\\.UnknownObject"
if [[ -n "$edu" ]]; then
	run 0 "vm destroy edu1 by path" vm destroy "$vm2"
fi
run 0 "vms --json after destroy" --json vms
pycheck "no VM left" 'assert out == [], out'

# No service manager keeps fds here, so orphans is always []: its keys are
# the daemon's ListOrphans pairs, which test-daemon-restart checks.
if python3 "$here/json-keys.py" all "$manpage" "$tmp/keys-list" --unseen-ok orphans \
	>"$tmp/keys" 2>&1; then
	sed 's/^/# /' "$tmp/keys"
	ok "every --json output's keys are in viommuctl(8) JSON KEYS, and all of them turned up"
else
	not_ok "every --json output's keys are in viommuctl(8) JSON KEYS, and all of them turned up" \
		"$tmp/keys"
fi

echo "1..$n"
((failed == 0))

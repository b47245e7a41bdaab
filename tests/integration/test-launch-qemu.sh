#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A stock QEMU (10.0 from bookworm-backports, tests/vm/qemu10.sh) started
# through `viommuctl launch` as nobody, with no access to /dev/iommu or
# /dev/vfio, with the guest's edu device passed through a broker VM. Run in
# the test guest (vtd) by run-daemon with {"allowed_devices": ["1234:11e8"],
# "bind_on_demand": true, "vm_users": [65534], "fast_path_users": [65534],
# "quota_pinned_bytes_per_uid": 1073741824}.
#
#   test-launch-qemu.sh VIOMMUCTL QMP_PY QEMU10_SH
set -u

viommuctl="$1"
qmp="$2"
qemu10="$3"
n=0
failed=0
tmp=$(mktemp -d)
chmod 0755 "$tmp"
qmpdir="$tmp/qmp"
mkdir -m 0777 "$qmpdir"
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
}
check() { # DESCRIPTION COMMAND...
	local what="$1"
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

echo "1..24"

qemu=$("$qemu10" --print-qemu) && datadir=$("$qemu10" --print-datadir)
if [[ -z "${qemu:-}" || ! -x "$qemu" ]]; then
	echo "Bail out! no QEMU 10 in the cache: run tests/vm/qemu10.sh on the host first"
	exit 1
fi
edu=""
for d in /sys/bus/pci/devices/*; do
	if [[ "$(cat "$d/vendor")" == 0x1234 && "$(cat "$d/device")" == 0x11e8 ]]; then
		edu=$(basename "$d")
	fi
done
if [[ -z "$edu" ]]; then
	echo "Bail out! no edu device in the guest"
	exit 1
fi
echo "# QEMU $("$qemu" --version | head -1), edu at $edu"

check "nobody cannot open /dev/iommu" \
	bash -c '! "$@" sh -c "exec 3</dev/iommu" 2>/dev/null' _ "${nobody[@]}"

# launch NAME: QEMU on a broker VM NAME with the edu, in the background; $qpid.
launch() {
	"${nobody[@]}" "$viommuctl" launch --name "$1" --memory 64M --device "$edu" -- \
		"$qemu" -machine q35 -S -nodefaults -display none -m 64 -L "$datadir" \
		-qmp "unix:$qmpdir/$1.sock,server=on,wait=off" \
		-object "iommufd,id=iommufd0,fd={iommufd}" \
		-device "vfio-pci,iommufd=iommufd0,fd={device:$edu}" \
		</dev/null >"$tmp/$1.out" 2>"$tmp/$1.err" &
	qpid=$!
}

# vm_state NAME: "<VmmPid> <Mode>" of the VM, or "gone".
vm_state() {
	local out
	if ! out=$("$viommuctl" --json vm show "$1" 2>/dev/null); then
		echo gone
		return
	fi
	echo "$(sed -nE 's/^ *"vmm_pid": *([0-9]+).*/\1/p' <<<"$out")" \
		"$(sed -nE 's/^ *"mode": *"([a-z]+)".*/\1/p' <<<"$out")"
}

# edu_vm: the path of the VM the edu is in, "/" when free.
edu_vm() {
	"$viommuctl" --json device show "$edu" 2>/dev/null |
		sed -nE 's/^ *"vm": *"([^"]*)".*/\1/p'
}

# wait_gone NAME [free]: until the VM is gone (and the edu free), 20 s at most.
wait_gone() {
	local i
	for ((i = 0; i < 100; i++)); do
		if [[ "$(vm_state "$1")" == gone ]] && [[ $# -lt 2 || "$(edu_vm)" == / ]]; then
			return 0
		fi
		sleep 0.2
	done
	echo "# $1: $(vm_state "$1"), edu in $(edu_vm)"
	return 1
}

dump() {
	for f in "$tmp"/*.err; do
		[[ -s "$f" ]] && sed "s|^|# $(basename "$f"): |" "$f"
	done
}

# --- a first QEMU: the device is there, the VM belongs to it ---
launch q1
q1=$qpid
if "$qmp" --timeout 120 "$qmpdir/q1.sock" query-pci >"$tmp/pci.json" 2>"$tmp/qmp.err"; then
	ok "QEMU answers query-pci"
else
	not_ok "QEMU answers query-pci"
	dump
fi
check "query-pci shows 1234:11e8" python3 -c '
import json, sys
buses = json.load(open(sys.argv[1]))
ids = [(d["id"]["vendor"], d["id"]["device"]) for b in buses for d in b["devices"]]
sys.exit(0 if (0x1234, 0x11e8) in ids else 1)' "$tmp/pci.json"
check "the launcher became QEMU (same pid)" \
	grep -q qemu-system "/proc/$q1/cmdline"
state=$(vm_state q1)
echo "# q1: $state (QEMU pid $q1), edu in $(edu_vm)"
check "viommuctl shows the broker VM with QEMU's pid" test "$state" == "$q1 broker"
check "the edu is in it" test "$(edu_vm)" == /org/viommu1/vm/1
check "QEMU runs as nobody" test "$(stat -c %u "/proc/$q1")" == 65534
memlock=$(awk '/Max locked memory/ {print $4}' "/proc/$q1/limits")
check "QEMU's RLIMIT_MEMLOCK was raised to guest RAM + headroom (128 MiB)" \
	test "$memlock" == 134217728
check "vm show names the VMM pid" \
	bash -c '"$1" vm show q1 | grep -Eq "^VMM pid: +$2\$"' _ "$viommuctl" "$q1"

# --- a second launch for the same device: Busy, and nothing left of it ---
"${nobody[@]}" "$viommuctl" launch --name q2 --memory 64M --device "$edu" -- true \
	>"$tmp/q2.out" 2>"$tmp/q2.err"
rc=$?
check "a second launch for the device exits 1" test "$rc" == 1
check "and says Busy" grep -q 'org.viommu1.Error.Busy' "$tmp/q2.err"
check "its VM is gone with it" wait_gone q2
check "the first QEMU still runs" kill -0 "$q1"

# --- quit: the VM goes, the device is free ---
check "QMP quit" "$qmp" "$qmpdir/q1.sock" quit
wait "$q1"
check "QEMU exited 0" test "$?" == 0
check "after quit the VM is gone and the device free" wait_gone q1 free

# --- SIGKILL: the same ---
launch q3
q3=$qpid
check "a new QEMU answers once the device is free" \
	"$qmp" --timeout 120 "$qmpdir/q3.sock" query-status
state=$(vm_state q3)
check "the new VM is bound to the new QEMU" test "${state%% *}" == "$q3"
kill -KILL "$q3"
wait "$q3" 2>/dev/null
check "after SIGKILL the VM is gone and the device free" wait_gone q3 free

# --- bad use, before QEMU ever starts ---
"${nobody[@]}" "$viommuctl" launch --name q4 --memory 64M --device selftest0 -- true \
	>"$tmp/q4.out" 2>"$tmp/q4.err"
check "launch with a device that is not there exits 1" test "$?" == 1
check "and the VM it made is gone" wait_gone q4
"${nobody[@]}" "$viommuctl" launch --name q5 --memory 2G -- true \
	>"$tmp/q5.out" 2>"$tmp/q5.err"
check "guest memory over the uid's pinned-bytes quota is refused before QEMU" test "$?" == 1
check "with QuotaExceeded" grep -q 'org.viommu1.Error.QuotaExceeded' "$tmp/q5.err"
check "and the VM it made is gone" wait_gone q5

((failed)) && dump
rm -rf "$tmp"
exit $((failed ? 1 : 0))

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The project's main job (README): as root on Debian 12, from a fresh clone,
# installs what is missing, builds everything, then, inside the QEMU test guest
# (no development machine has an IOMMU): starts viommud, sets a VM up with the
# example VMM and shows it and the metrics through viommuctl (scripts/guest-demo.sh); then
# shows what the kernel layer sees behind an emulated Intel VT-d and an
# emulated AMD-Vi (the edu device bound to vfio-pci and an iommufd, its
# IOMMU_GET_HW_INFO decoded, then given back); last, in the arm64 guest on the
# real arm-smmu-v3 driver, viommud nesting a guest's stage 1: the edu's DMA
# through both stages, an invalidation, and viommuctl's vm show and hw-info
# (scripts/test-arm64.sh --demo; the first run builds the arm64 guest's
# kernel, about 11 minutes on two cores).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

scripts/install-deps.sh
[[ -d build ]] || meson setup build >/dev/null
ninja -C build

# Binds the first edu device (1234:11e8) found, if any.
probe='args=(--mock)
for d in /sys/bus/pci/devices/*; do
	if [[ $(cat "$d/vendor") == 0x1234 && $(cat "$d/device") == 0x11e8 ]]; then
		args+=(--bind "${d##*/}"); break
	fi
done
exec "$0" "${args[@]}"'

export VIOMMU_VM_KERNEL
VIOMMU_VM_KERNEL=$(tests/vm/kernel.sh --print-kernel)
echo "=== viommud and viommuctl in the test guest (emulated VT-d) ==="
tests/vm/guest-run --flavour vtd -- /bin/bash "$top/scripts/guest-demo.sh" "$top/build" |
	grep -v 'reboot: Power down'
for flavour in vtd amd; do
	echo "=== test guest with an emulated ${flavour^^} IOMMU ==="
	tests/vm/guest-run --flavour "$flavour" -- \
		/bin/bash -c "$probe" "$top/build/cli/viommu-probe" | grep -v 'reboot: Power down'
done
echo "=== viommud nesting a guest's stage 1 on arm-smmu-v3 (arm64 test guest) ==="
scripts/test-arm64.sh --demo

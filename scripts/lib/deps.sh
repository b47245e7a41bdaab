# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Shared by scripts/install-deps.sh and scripts/install-deps-arm64.sh.
#
#   missing_packages PKG...   print each PKG that is not installed, one a line

# With arm64 multiarch, a Multi-Arch: same package may be there twice: ask
# for the native one first (an Architecture: all package has no qualifier;
# "pkg:arm64" names its architecture itself).
missing_packages() {
	local p status native
	native=$(dpkg --print-architecture)
	for p in "$@"; do
		status=$(dpkg-query -W -f='${Status}' "$p:$native" 2>/dev/null ||
			dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[[ "$status" == "install ok installed" ]] || printf '%s\n' "$p"
	done
}

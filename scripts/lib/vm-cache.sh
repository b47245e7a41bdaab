# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Shared by the test-guest cache scripts (tests/vm/kernel.sh, tests/vm/qemu10.sh,
# tests/vm-arm64/kernel.sh, tests/vm-arm64/qemu10.sh): Debian packages fetched
# with a private apt configuration, so that the machine's apt sources are
# never touched.  Source it after defining log() and die().
#
#   debian_mirror                   print the Debian mirror the machine uses
#   private_apt DIR SUITE...        create DIR/{sources.list,lists,cache}, run
#                                   apt-get update, set the array apt_opts
#                                   (APT_EXTRA_ARCHS="arm64": those too)
#   pick_version SUITE PKG WANT     WANT if SUITE has it, else the suite's version
#   fetch_linux_source SRC PKG      make sure SRC/PKG (a linux-source tree) is
#                                   extracted; SRC/PKG/.stamp-extracted marks it

# The Debian mirror the machine already uses (deb822 or one-line format).
debian_mirror() {
	local f uri=""
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -r "$f" ]] || continue
		uri=$(awk 'tolower($1) == "uris:" {
				for (i = 2; i <= NF; i++)
					if ($i ~ /\/debian\/?$/) { print $i; exit }
			}' "$f")
		[[ -n "$uri" ]] && break
	done
	if [[ -z "$uri" ]]; then
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[[ -r "$f" ]] || continue
			uri=$(awk '$1 == "deb" {
					for (i = 2; i <= NF; i++) {
						if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; continue }
						if ($i ~ /\/debian\/?$/) print $i
						break
					}
				}' "$f" | head -n1)
			[[ -n "$uri" ]] && break
		done
	fi
	printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

# private_apt DIR SUITE...: a throw-away apt state in DIR for the SUITEs (main)
# of the machine's mirror; afterwards "apt-get "${apt_opts[@]}" download ..."
# works.  The host architecture's packages, plus those of APT_EXTRA_ARCHS
# (space-separated) when set.
private_apt() {
	local apt="$1" mirror s a
	shift
	mirror=$(debian_mirror)
	log "apt: $mirror $* (private configuration in $apt)"
	rm -rf "$apt"
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/empty"
	for s in "$@"; do
		printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
			"$mirror" "$s"
	done >"$apt/sources.list"
	apt_opts=(
		-o "Dir::Etc::SourceList=$apt/sources.list"
		-o "Dir::Etc::SourceParts=$apt/empty"
		-o "Dir::State::Lists=$apt/lists"
		-o "Dir::Cache=$apt/cache"
		-o "APT::Sandbox::User=root"
		-q
	)
	if [[ -n "${APT_EXTRA_ARCHS:-}" ]]; then
		apt_opts+=(-o "APT::Architectures::=$(dpkg --print-architecture)")
		for a in $APT_EXTRA_ARCHS; do apt_opts+=(-o "APT::Architectures::=$a"); done
	fi
	apt-get "${apt_opts[@]}" update >&2 || die "apt-get update of $* failed"
}

# fetch_linux_source SRC PKG: Debian's PKG (linux-source-7.3, trixie-backports)
# extracted in SRC/PKG.  The caller holds the cache lock.
fetch_linux_source() {
	local src="$1" pkg="$2" tree="$1/$2" deb
	[[ -f "$tree/.stamp-extracted" ]] && return 0
	log "fetching $pkg from trixie-backports"
	rm -rf "$src/deb" "$tree"
	mkdir -p "$src/deb"
	private_apt "$src/apt" trixie-backports
	(cd "$src/deb" && apt-get "${apt_opts[@]}" download "$pkg" >&2)
	deb=$(find "$src/deb" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
	[[ -n "$deb" ]] || die "apt-get download $pkg gave no .deb"
	log "extracting $(basename "$deb")"
	dpkg -x "$deb" "$src/deb/x"
	tar -C "$src" -xf "$src/deb/x/usr/src/$pkg.tar.xz"
	[[ -f "$tree/Makefile" ]] || die "$tree/Makefile missing after extraction"
	# Keep only the tree: the .deb (about 170 MB) is not needed any more.
	rm -rf "$src/deb" "$src/apt/cache"
	touch "$tree/.stamp-extracted"
}

# pick_version SUITE PKG WANT: print WANT if SUITE (after private_apt) has PKG
# at that version, else the suite's own version with a warning; nothing when
# the suite lacks PKG.
pick_version() {
	local suite="$1" pkg="$2" want="$3" have
	have=$(apt-cache "${apt_opts[@]}" madison "$pkg" |
		awk -F'|' -v s="$suite" '$3 ~ s { gsub(/ /, "", $2); print $2 }')
	if grep -qxF -- "$want" <<<"$have"; then
		printf '%s\n' "$want"
		return 0
	fi
	have=$(head -n1 <<<"$have")
	[[ -n "$have" ]] || return 0
	log "warning: $suite has no $pkg $want; taking $have"
	printf '%s\n' "$have"
}

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build the Debian packages (viommud, viommuctl, libviommu0, libviommu-dev)
# from the working tree, on Debian 12, as root or with the build dependencies
# already installed.
#
#   scripts/deb.sh [--lintian] OUTDIR
#
# The tree as `git add -A` would see it (tracked files, less deleted ones, plus
# untracked files that .gitignore does not exclude; debian/ included) is copied
# to a scratch directory, /tmp/debbuild.XXXXXX/viommud-VERSION, so no build
# directory of the work tree is touched. The orig tarball is made from that
# copy without debian/ (debian/README.source says why the format is
# "3.0 (quilt)"), then dpkg-buildpackage builds the source and binary packages
# there, running the unit test suite (DEB_BUILD_OPTIONS=nocheck skips it).
# Missing build dependencies are installed with apt-get build-dep.
#
# Everything the build prints goes to stderr and to OUTDIR/build.log; stdout is
# the .deb files, one path a line. The .changes, .dsc, tarballs and .buildinfo
# are in OUTDIR too. --lintian also runs lintian on the .changes (installing
# it if needed), and fails on errors or warnings.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

usage() {
	echo "usage: scripts/deb.sh [--lintian] OUTDIR" >&2
	exit 2
}

run_lintian=
outdir=
while (($#)); do
	case "$1" in
	--lintian) run_lintian=yes ;;
	-h | --help) usage ;;
	-*) usage ;;
	*) [[ -z "$outdir" ]] || usage; outdir=$1 ;;
	esac
	shift
done
[[ -n "$outdir" ]] || usage

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
log=$outdir/build.log
: >"$log"

say() { echo "deb.sh: $*" >&2; }
die() { say "$*"; exit 1; }

apt_updated=
apt_install() {
	((EUID == 0)) || die "missing packages: $*; run me as root"
	if [[ -z "$apt_updated" ]]; then
		apt-get update -q >&2
		apt_updated=yes
	fi
	apt-get install -y -q --no-install-recommends "$@" >&2
}

installed() {
	[[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

# dpkg-dev (dpkg-buildpackage, dpkg-checkbuilddeps) and git to list the tree.
need=()
for p in dpkg-dev git xz-utils; do
	installed "$p" || need+=("$p")
done
((${#need[@]} == 0)) || apt_install "${need[@]}"

# Versions: debian/changelog's upstream part must be meson.build's.
version=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)
upstream=${version%-*}
upstream=${upstream#*:}
meson_version=$(sed -n "s/^[[:space:]]*version[[:space:]]*:[[:space:]]*'\([^']*\)'.*/\1/p" \
	"$root/meson.build" | head -n1)
[[ "$upstream" == "$meson_version" ]] ||
	die "debian/changelog says $version but meson.build says $meson_version: add a changelog entry (dch -v $meson_version-1)"

# The copy: what `git add -A` would commit, from the working tree.
work=$(mktemp -d /tmp/debbuild.XXXXXX)
trap 'say "build failed; its tree is in $work, the log in $log"' ERR
tree=$work/viommud-$upstream
mkdir "$tree"
git -C "$root" ls-files -z --cached --others --exclude-standard |
	(cd "$root" && while IFS= read -r -d '' f; do
		[[ -e "$f" || -L "$f" ]] && printf '%s\0' "$f"
	done) |
	tar -C "$root" --null -T - -cf - | tar -C "$tree" -xf -
[[ -f "$tree/debian/control" ]] || die "no debian/control in $root"

# The orig tarball, without debian/: reproducible (sorted, owned by root,
# mtime of the changelog entry).
mtime=$(dpkg-parsechangelog -l "$tree/debian/changelog" -S Timestamp)
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner \
	--mtime="@$mtime" --exclude="viommud-$upstream/debian" \
	-cJf "$work/viommud_$upstream.orig.tar.xz" "viommud-$upstream"

# Build dependencies (honouring DEB_BUILD_PROFILES, e.g. nocheck).
if ! (cd "$tree" && dpkg-checkbuilddeps) 2>/dev/null; then
	((EUID == 0)) || die "missing build dependencies: $(cd "$tree" && dpkg-checkbuilddeps 2>&1 || true); run me as root"
	profiles=()
	[[ -z "${DEB_BUILD_PROFILES:-}" ]] || profiles=(-P "${DEB_BUILD_PROFILES// /,}")
	if [[ -z "$apt_updated" ]]; then
		apt-get update -q >&2
		apt_updated=yes
	fi
	apt-get build-dep -y -q --no-install-recommends "${profiles[@]}" "$tree" >&2
fi

# Parallel build on every core unless the caller chose.
if [[ " ${DEB_BUILD_OPTIONS:-} " != *" parallel="* ]]; then
	export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }parallel=$(nproc)"
fi

say "building viommud $version in $tree (log: $log)"
start=$SECONDS
(cd "$tree" && dpkg-buildpackage -us -uc) 2>&1 | tee -a "$log" >&2
say "built in $((SECONDS - start)) s"

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
changes=$work/viommud_${version#*:}_$arch.changes
[[ -f "$changes" ]] || die "no $changes"
# Every file the .changes names, and the .changes itself.
files=$(sed -n '/^Files:/,/^[^ ]/s/^ [0-9a-f]\{32\} [0-9]* [^ ]* [^ ]* //p' "$changes")
for f in $files; do
	cp -f "$work/$f" "$outdir/"
done
cp -f "$changes" "$outdir/"
changes=$outdir/$(basename "$changes")
trap - ERR
rm -rf "$work"

if [[ -n "$run_lintian" ]]; then
	installed lintian || apt_install lintian
	say "lintian $changes"
	lintian --fail-on error,warning "$changes" >&2
fi

for f in $files; do
	[[ "$f" == *.deb ]] && echo "$outdir/$f"
done

#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# meson install: journalctl --update-catalog, so that journalctl -x knows
# viommud's messages. Not for a staged install (DESTDIR: a package's manager
# does it) nor where there is no journalctl.
[ -z "$DESTDIR" ] || exit 0
command -v journalctl >/dev/null 2>&1 || exit 0
journalctl --update-catalog || echo "update-catalog.sh: journalctl --update-catalog failed" >&2
exit 0

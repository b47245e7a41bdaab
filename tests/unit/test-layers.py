#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""
The daemon's layers (daemon/meson.build): every quoted include of a file in
daemon/<layer>/ names a header of its own layer, of a layer under it, or of
lib/ and include/; no include spells a path (which would step around the
per-layer include directories the build gives). The layers under the bus
never mention sd-bus, apart from host's client of the sysfs helper, which
speaks to that helper over a private sd-bus connection.

usage: test-layers.py DAEMON_DIR LIB_DIR
TAP output.
"""
import os
import re
import sys

BELOW = {
    'base': [],
    'config': ['base'],
    'transport': ['base'],
    'host': ['base'],
    'model': ['base', 'config', 'host'],
    'state': ['base', 'config', 'host', 'model'],
    'bus': ['base', 'config', 'host', 'model', 'state', 'transport'],
}
# Files below the bus that may speak sd-bus, and why.
SD_BUS_ALLOWED = {
    'host/sysfs-client.c': 'the client of viommud-sysfs-helper (a private sd-bus connection)',
    'host/sysfs-helper.c': 'viommud-sysfs-helper itself, a program of its own',
    'host/sysfs-helper.h': 'that helper\'s protocol',
}
NO_SD_BUS = ['base', 'config', 'host', 'model', 'state']


def headers_of(dirpath):
    return {f for f in os.listdir(dirpath) if f.endswith('.h')}


def main():
    daemon_dir, lib_dir = sys.argv[1], sys.argv[2]
    lib_headers = set()
    for sub in os.listdir(lib_dir):
        p = os.path.join(lib_dir, sub)
        if os.path.isdir(p):
            lib_headers |= headers_of(p)
    layer_headers = {layer: headers_of(os.path.join(daemon_dir, layer)) for layer in BELOW}
    found = set(d for d in os.listdir(daemon_dir) if os.path.isdir(os.path.join(daemon_dir, d)))
    n = 0
    failed = 0

    def check(ok, what):
        nonlocal n, failed
        n += 1
        print(('ok' if ok else 'not ok'), n, '-', what)
        if not ok:
            failed += 1

    check(found == set(BELOW), 'the folders of daemon/ are the layers %s (found %s)' %
          (sorted(BELOW), sorted(found)))
    for layer in sorted(BELOW):
        allowed = layer_headers[layer].union(*(layer_headers[b] for b in BELOW[layer]))
        for name in sorted(os.listdir(os.path.join(daemon_dir, layer))):
            if not name.endswith(('.c', '.h')):
                continue
            rel = layer + '/' + name
            text = open(os.path.join(daemon_dir, layer, name)).read()
            bad = []
            for inc in re.findall(r'^#include "([^"]+)"', text, re.M):
                if '/' in inc:
                    bad.append(inc + ' (a path)')
                elif inc not in allowed and inc not in lib_headers:
                    owner = [l for l, hs in layer_headers.items() if inc in hs]
                    bad.append(inc + ' (of %s)' % (owner[0] if owner else 'no layer'))
            check(not bad, '%s includes only its own layer and those under it%s' %
                  (rel, ': ' + ', '.join(bad) if bad else ''))
            if layer in NO_SD_BUS and rel not in SD_BUS_ALLOWED:
                hits = re.findall(r'sd_bus\w*|sd-bus\.h', text)
                check(not hits, '%s does not see D-Bus%s' %
                      (rel, ': ' + ', '.join(sorted(set(hits))) if hits else ''))
    print('1..%d' % n)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

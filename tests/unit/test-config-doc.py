#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every key in config-keys.c's config_keys[] is a term in viommud.conf(5)'s KEYS
section, and every term there is a key: prints TAP.

usage: test-config-doc.py daemon/config-keys.c man/viommud.conf.5.scd
"""
import re
import sys


def table_keys(path):
    text = open(path, encoding='utf-8').read()
    m = re.search(r'config_keys\[\]\s*=\s*\{(.*?)\n\};', text, re.S)
    if not m:
        sys.exit(f'Bail out! no config_keys[] table in {path}')
    # One { "key", type, handler, ... } per line.
    keys = re.findall(r'^\s*\{\s*"([^"]+)"\s*,', m.group(1), re.M)
    if not keys:
        sys.exit(f'Bail out! config_keys[] in {path} has no {{ "key", ... }} lines')
    return keys


def documented_terms(path):
    text = open(path, encoding='utf-8').read()
    m = re.search(r'^# KEYS\n(.*?)(?=^# |\Z)', text, re.S | re.M)
    if not m:
        sys.exit(f'Bail out! no "# KEYS" section in {path}')
    # A term is a line of its own, "*key*", followed by a tab-indented paragraph.
    return re.findall(r'^\*([A-Za-z0-9_]+)\*\n\t', m.group(1), re.M)


def main():
    keys = table_keys(sys.argv[1])
    terms = documented_terms(sys.argv[2])
    checks = [(f'key "{k}" is documented', k in terms) for k in keys]
    checks += [(f'documented "{t}" is a key', t in keys) for t in terms]
    checks.append(('no key documented twice', len(terms) == len(set(terms))))
    print(f'1..{len(checks)}')
    for i, (name, ok) in enumerate(checks, 1):
        print(f'{"ok" if ok else "not ok"} {i} - {name}')
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == '__main__':
    sys.exit(main())

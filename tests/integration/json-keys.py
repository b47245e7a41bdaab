#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The keys of viommuctl's --json output against viommuctl(8)'s JSON KEYS.

The section lists, per command, every key path the output has: "name" for a
member of the object (or of each object of a list), "devices[].name" for a
member of each object in the array "devices", "status.iommu" for a member of
the object "status". test-viommuctl.sh hands it every --json output it got
(LIST: "command<TAB>file" lines): each output's key paths must be documented
under its command, and every documented key path must turn up in some output
of its command (commands given with --unseen-ok excepted).

usage: json-keys.py all MAN-PAGE LIST [--unseen-ok COMMAND]...
       json-keys.py print OUTPUT.json
An output file may hold one JSON value or one per line (monitor).
"""
import json
import re
import sys


# Objects whose keys are data (the vendor's capability names), not layout.
FREE_FORM = {'hw_info'}


def paths(value, prefix=''):
    """Every key path under value (a list's objects merged)."""
    found = set()
    if isinstance(value, list):
        for item in value:
            found |= paths(item, prefix)
    elif isinstance(value, dict):
        for key, sub in value.items():
            path = prefix + key
            found.add(path)
            if isinstance(sub, list) and any(isinstance(x, dict) for x in sub):
                found |= paths(sub, path + '[].')
            elif isinstance(sub, dict) and key not in FREE_FORM:
                found |= paths(sub, path + '.')
    return found


def section(page):
    text = open(page, encoding='utf-8').read()
    m = re.search(r'^# JSON KEYS\n(.*?)(?=^# )', text, re.S | re.M)
    if not m:
        sys.exit(f'{page}: no JSON KEYS section')
    # "*command*" then indented lines of comma-separated "*key*" items.
    entries = {}
    for cmd, body in re.findall(r'^\*([a-z -]+)\*\n((?:\t.*\n)+)', m.group(1), re.M):
        keys = re.findall(r'\*([A-Za-z0-9_\\\[\].]+)\*', body)
        entries[cmd] = {k.replace('\\', '') for k in keys}
    return entries


def load(path):
    text = open(path, encoding='utf-8').read()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == 'print':
        print('\n'.join(sorted(paths(load(args[1])))))
        return 0
    if len(args) >= 3 and args[0] == 'all':
        page, listing = args[1:3]
        entries = section(page)
        seen = {}
        ok = True
        for line in open(listing, encoding='utf-8'):
            command, out = line.rstrip('\n').split('\t')
            got = paths(load(out))
            seen.setdefault(command, set()).update(got)
            if command not in entries:
                print(f'viommuctl(8) JSON KEYS has no entry for "{command}"')
                ok = False
                continue
            for key in sorted(got - entries[command]):
                print(f'{command}: "{key}" is in the output but not in viommuctl(8) JSON KEYS')
                ok = False
        unseen_ok = set(args[4::2]) if args[3::2] == ['--unseen-ok'] * len(args[3::2]) else None
        if unseen_ok is None:
            sys.exit(__doc__)
        for command, keys in sorted(entries.items()):
            if command in unseen_ok and not seen.get(command):
                print(f'{command}: not checked here ({", ".join(sorted(keys))})')
                continue
            for key in sorted(keys - seen.get(command, set())):
                print(f'{command}: "{key}" is documented but no output had it')
                ok = False
        return 0 if ok else 1
    sys.exit(__doc__)


if __name__ == '__main__':
    sys.exit(main())

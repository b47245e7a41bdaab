#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every command in cli/viommuctl.c's commands[] table and every long option in
its long_options[] is documented in viommuctl(8), and every command documented
there exists: prints TAP.

usage: test-cli-doc.py cli/viommuctl.c man/viommuctl.8.scd
"""
import re
import sys


def table(text, name, path):
    m = re.search(name + r'\[\]\s*=\s*\{(.*?)\n\};', text, re.S)
    if not m:
        sys.exit(f'Bail out! no {name}[] table in {path}')
    return m.group(1)


def commands(path):
    text = open(path, encoding='utf-8').read()
    # One { "verb", "subverb" | NULL, ... } per line.
    rows = re.findall(r'^\s*\{\s*"([^"]+)"\s*,\s*(?:"([^"]+)"|NULL)\s*,',
                      table(text, 'commands', path), re.M)
    if not rows:
        sys.exit(f'Bail out! commands[] in {path} has no {{ "verb", ... }} lines')
    options = re.findall(r'^\s*\{\s*"([^"]+)"\s*,', table(text, 'long_options', path), re.M)
    return [f'{v} {s}' if s else v for v, s in rows], options


def section(text, title, path):
    m = re.search(r'^# ' + title + r'\n(.*?)(?=^# |\Z)', text, re.S | re.M)
    if not m:
        sys.exit(f'Bail out! no "# {title}" section in {path}')
    return m.group(1)


def documented(path):
    text = open(path, encoding='utf-8').read()
    # A term is a line of its own, "*verb sub*" (and its arguments), then a
    # tab-indented paragraph.
    cmds = re.findall(r'^\*([a-z-]+(?: [a-z-]+)?)\*(?: _[A-Z]+_)?\n\t',
                      section(text, 'COMMANDS', path), re.M)
    opts = re.findall(r'^(?:\*-[a-z]\*, )?\*--([a-z-]+)\*', section(text, 'OPTIONS', path), re.M)
    return cmds, opts


def main():
    cmds, options = commands(sys.argv[1])
    doc_cmds, doc_opts = documented(sys.argv[2])
    checks = [(f'command "{c}" is documented', c in doc_cmds) for c in cmds]
    checks += [(f'documented "{c}" is a command', c in cmds) for c in doc_cmds]
    checks += [(f'option "--{o}" is documented', o in doc_opts) for o in options]
    checks.append(('no command documented twice', len(doc_cmds) == len(set(doc_cmds))))
    print(f'1..{len(checks)}')
    for i, (name, ok) in enumerate(checks, 1):
        print(f'{"ok" if ok else "not ok"} {i} - {name}')
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""
The journal's events: every MESSAGE_ID the daemon sends (daemon/base/
log-event.c) has an entry in units/viommud.catalog and a line in viommud(8),
and nothing else does; each catalog entry has a Subject, Defined-By and
Documentation; and journalctl itself takes the catalog (--update-catalog on
a scratch root, then --list-catalog lists every ID).

usage: test-catalog.py LOG_EVENT_C CATALOG MAN_PAGE [JOURNALCTL]
TAP output.
"""
import os
import re
import subprocess
import sys
import tempfile

n = 0
failed = 0


def check(ok, what, detail=''):
    global n, failed
    n += 1
    print(('ok' if ok else 'not ok'), n, '-', what)
    if not ok:
        failed += 1
        for line in str(detail).splitlines():
            print('#', line)


def main():
    code_path, catalog_path, man_path = sys.argv[1:4]
    journalctl = sys.argv[4] if len(sys.argv) > 4 else ''
    code = open(code_path, encoding='utf-8').read()
    ids = set(re.findall(r'\] = "([0-9a-f]{32})"', code))
    catalog = open(catalog_path, encoding='utf-8').read()
    entries = re.split(r'^-- ([0-9a-f]{32})\n', catalog, flags=re.M)
    cat = dict(zip(entries[1::2], entries[2::2]))
    man = open(man_path, encoding='utf-8').read()

    check(len(ids) >= 10, f'the daemon names its events ({len(ids)} IDs)')
    check(ids == set(cat), 'the catalog has an entry for each event and no other',
          f'code only: {sorted(ids - set(cat))}; catalog only: {sorted(set(cat) - ids)}')
    for mid, body in sorted(cat.items()):
        heads = dict(re.findall(r'^([A-Za-z-]+): (.*)$', body.split('\n\n')[0], re.M))
        check(all(k in heads for k in ('Subject', 'Defined-By', 'Documentation')),
              f'catalog entry {mid} has Subject, Defined-By and Documentation', heads)
    man_ids = set(re.findall(r'\b[0-9a-f]{32}\b', man))
    check(man_ids == ids, 'viommud(8) lists each event\'s MESSAGE_ID and no other',
          f'undocumented: {sorted(ids - man_ids)}; unknown: {sorted(man_ids - ids)}')

    if not journalctl:
        print('# journalctl not found: the catalog is not compiled here')
    else:
        with tempfile.TemporaryDirectory(prefix='viommud-catalog-') as root:
            d = os.path.join(root, 'usr', 'lib', 'systemd', 'catalog')
            os.makedirs(d)
            with open(os.path.join(d, 'viommud.catalog'), 'w', encoding='utf-8') as f:
                f.write(catalog)
            p = subprocess.run([journalctl, f'--root={root}', '--update-catalog'],
                               capture_output=True, text=True, timeout=60)
            check(p.returncode == 0 and not p.stderr.strip(),
                  'journalctl --update-catalog takes the catalog', p.stderr)
            p = subprocess.run([journalctl, f'--root={root}', '--list-catalog'],
                               capture_output=True, text=True, timeout=60)
            listed = set(re.findall(r'^([0-9a-f]{32}) ', p.stdout, re.M))
            check(ids <= listed, 'journalctl --list-catalog lists every event',
                  f'missing: {sorted(ids - listed)}\n{p.stdout}{p.stderr}')
    print(f'1..{n}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every function of include/viommu/viommu.h has a comment in the header and
an entry in libviommu(3). TAP output."""
import re
import sys

header, page = open(sys.argv[1]).read(), open(sys.argv[2]).read()
decl = re.compile(r'^(?:[\w ]+?[ *])(viommu_\w+)\(', re.M)
names = []
for m in decl.finditer(header):
    # The lines just above a declaration (or its group) hold its comment.
    before = header[:m.start()].rstrip('\n').split('\n')
    i = len(before) - 1
    while i >= 0 and decl.match(before[i] + '(') is None and re.match(r'^\s*(\w.*[;,]|\t.*)$', before[i]):
        i -= 1
    names.append((m.group(1), i >= 0 and before[i].rstrip().endswith('*/')))
print(f'1..{len(names)}')
for n, (name, commented) in enumerate(names, 1):
    documented = re.search(r'\b' + re.escape(name) + r'\(', page) is not None
    ok = commented and documented
    why = '' if ok else ' # ' + ', '.join(
        w for w, bad in (('no comment in the header', not commented),
                         ('not in libviommu(3)', not documented)) if bad)
    print(f'{"ok" if ok else "not ok"} {n} - {name}{why}')

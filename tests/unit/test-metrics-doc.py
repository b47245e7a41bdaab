#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The metrics GetMetrics writes are the metrics org.viommu1(5) documents:
prints TAP.

In the code a metric family is declared where its name and type stand side by
side ("viommu_vms", "gauge"), whether in a table or a call; every other
"viommu_..." literal there must be a declared family, or a histogram's
_bucket, _sum or _count. In the page, the METRICS section has one term line
per family, "*viommu\\_vms* gauge". The names and types must agree both ways,
and every limit label value of counters.c must be a key of viommud.conf(5)
(config-keys.c) and be named in the section.

usage: test-metrics-doc.py man/org.viommu1.5.scd CONFIG_KEYS_C COUNTERS_C METRICS_C...
"""
import re
import sys

TYPES = ('gauge', 'counter', 'histogram')
HISTOGRAM_SERIES = ('_bucket', '_sum', '_count')


def bail(msg):
    print(f'Bail out! {msg}')
    sys.exit(1)


def code_families(paths):
    declared, literals = {}, set()
    for path in paths:
        text = open(path, encoding='utf-8').read()
        for name, kind in re.findall(r'"(viommu_[a-z0-9_]+)",\s*"(' + '|'.join(TYPES) + r')"',
                                     text):
            declared[name] = kind
        literals |= set(re.findall(r'"(viommu_[a-z0-9_]+)', text))
    if not declared:
        bail(f'no metric family declared in {" ".join(paths)}')
    return declared, literals


def page_families(path):
    text = open(path, encoding='utf-8').read()
    m = re.search(r'^# METRICS\n(.*?)(?=^# |\Z)', text, re.S | re.M)
    if not m:
        bail(f'no "# METRICS" section in {path}')
    section = m.group(1)
    found = {}
    for name, kind in re.findall(r'^\*(viommu[a-z0-9_\\]+)\* (\w+)$', section, re.M):
        found[name.replace('\\_', '_')] = kind
    return found, section.replace('\\_', '_')


def main():
    if len(sys.argv) < 5:
        bail('usage: test-metrics-doc.py PAGE CONFIG_KEYS_C COUNTERS_C METRICS_C...')
    page, config_keys_c, counters_c, sources = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    config_keys = set(re.findall(r'^\s*\{\s*"([a-z_]+)",', open(config_keys_c, encoding='utf-8').read(),
                                 re.M))
    declared, literals = code_families(sources)
    documented, section = page_families(page)
    limits = re.findall(r'\[QUOTA_\w+\] = "([a-z_]+)"', open(counters_c, encoding='utf-8').read())
    if not limits:
        bail(f'no limit names in {counters_c}')
    checks = []
    for name, kind in sorted(declared.items()):
        checks.append((f'{name} ({kind}) is documented', documented.get(name) == kind,
                       f'the page says {documented[name]}' if name in documented else
                       f'no term line "*{name}* {kind}" in METRICS'))
    for name, kind in sorted(documented.items()):
        checks.append((f'documented {name} is written by the daemon', name in declared, ''))
    for name in sorted(literals):
        base = next((name[:-len(s)] for s in HISTOGRAM_SERIES if name.endswith(s)), None)
        ok = name in declared or (base is not None and declared.get(base) == 'histogram')
        checks.append((f'series {name} belongs to a declared family', ok, ''))
    for limit in limits:
        checks.append((f'limit="{limit}" is a viommud.conf(5) key', limit in config_keys, ''))
        checks.append((f'limit="{limit}" is documented', f'*{limit}*' in section, ''))
    print(f'1..{len(checks)}')
    for i, (name, ok, diag) in enumerate(checks, 1):
        print(f'{"ok" if ok else "not ok"} {i} - {name}')
        if not ok and diag:
            print(f'# {diag}')
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == '__main__':
    sys.exit(main())

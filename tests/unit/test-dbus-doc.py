#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every member of the daemon's D-Bus vtables is documented in org.viommu1(5)
under its interface's section, with the signature and argument names the
vtable gives, and every member documented there exists: prints TAP.

Methods are term lines "*Name*(t _arg_, ...) → t _out_", properties
"*Name* t (read-only)", signals "*Name* (t _arg_, ...)", each at the start of
a line inside the "# org.viommu1.<Interface>" section.

A member named by a macro of lib/wire/wire.h (the wire contract, written
once) is read through that header's #defines.

usage: test-dbus-doc.py daemon/ man/org.viommu1.5.scd [lib/wire/wire.h]
"""
import glob
import os
import re
import sys

# Which vtable serves which interface (daemon_attach_bus() in daemon.c).
VTABLES = {
    'manager_vtable': 'org.viommu1.Manager',
    'device_vtable': 'org.viommu1.Device',
    'vm_vtable': 'org.viommu1.Vm',
    'viommu_vtable': 'org.viommu1.Viommu',
    'domain_vtable': 'org.viommu1.Domain',
    'vdevice_vtable': 'org.viommu1.VDevice',
    'hw_queue_vtable': 'org.viommu1.HwQueue',
    'fault_queue_vtable': 'org.viommu1.FaultQueue',
}

# Not part of org.viommu1: the sysfs helper's peer-to-peer interface, whose
# members viommud-sysfs-helper(8) names as "*Member(" (checked below).
ELSEWHERE = {'helper_vtable': 'viommud-sysfs-helper.8.scd'}
elsewhere_members = []  # (page, member name)

# NAME -> "value" of the wire header's string #defines (read in main()).
WIRE_DEFINES = {}

MEMBER_RE = re.compile(r'\bSD_BUS_(METHOD\w*|(?:WRITABLE_)?PROPERTY|SIGNAL\w*)\s*\(')


def bail(msg):
    print(f'Bail out! {msg}')
    sys.exit(1)


def macro_args(text, start):
    """The top-level, comma-separated arguments of the call whose '(' is at start."""
    depth, args, cur, i = 0, [], '', start
    in_str = False
    while i < len(text):
        c = text[i]
        if in_str:
            cur += c
            if c == '\\':
                cur += text[i + 1]
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            cur += c
        elif c == '(':
            depth += 1
            if depth > 1:
                cur += c
        elif c == ')':
            depth -= 1
            if depth == 0:
                args.append(cur.strip())
                return args
            cur += c
        elif c == ',' and depth == 1:
            args.append(cur.strip())
            cur = ''
        else:
            cur += c
        i += 1
    bail('unbalanced parentheses in a vtable')


def c_string(arg):
    """The value of a C string literal argument (adjacent literals joined),
    or of a wire macro naming one."""
    if arg.strip() in WIRE_DEFINES:
        return WIRE_DEFINES[arg.strip()]
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', arg)
    if not parts and arg.strip():
        return None
    return ''.join(parts)


def param_names(arg):
    return re.findall(r'SD_BUS_PARAM\(\s*(\w+)\s*\)', arg)


def read_vtables(daemon_dir):
    """{interface: [(kind, name, detail)]}; detail: (in, in_names, out, out_names)
    for methods, (sig, names) for signals, sig for properties."""
    found = {}
    files = sorted(glob.glob(os.path.join(daemon_dir, '*.c')))
    if not files:
        bail(f'no C files in {daemon_dir}')
    for path in files:
        text = open(path, encoding='utf-8').read()
        for m in re.finditer(r'const\s+sd_bus_vtable\s+(\w+)\s*\[\]\s*=\s*\{(.*?)\n\};',
                             text, re.S):
            table, body = m.group(1), m.group(2)
            if table in ELSEWHERE:
                for mm in MEMBER_RE.finditer(body):
                    elsewhere_members.append((ELSEWHERE[table],
                                              c_string(macro_args(body, mm.end() - 1)[0])))
                continue
            if table not in VTABLES:
                bail(f'{path}: vtable {table} is not mapped to an interface in {sys.argv[0]}')
            if VTABLES[table] in found:
                bail(f'{path}: a second vtable for {VTABLES[table]}')
            members = []
            for mm in MEMBER_RE.finditer(body):
                macro = mm.group(1)
                args = macro_args(body, mm.end() - 1)
                name = c_string(args[0])
                if not name:
                    bail(f'{path}: {table}: SD_BUS_{macro} without a literal name')
                if macro.startswith('METHOD'):
                    if macro == 'METHOD_WITH_NAMES':
                        detail = (c_string(args[1]), param_names(args[2]),
                                  c_string(args[3]), param_names(args[4]))
                    else:
                        detail = (c_string(args[1]), None, c_string(args[2]), None)
                    members.append(('method', name, detail))
                elif macro.startswith('SIGNAL'):
                    if macro == 'SIGNAL_WITH_NAMES':
                        detail = (c_string(args[1]), param_names(args[2]))
                    else:
                        detail = (c_string(args[1]), None)
                    members.append(('signal', name, detail))
                else:
                    members.append(('property', name, c_string(args[1])))
            if not members:
                bail(f'{path}: vtable {table} has no members')
            found[VTABLES[table]] = members
    for table, iface in VTABLES.items():
        if iface not in found:
            bail(f'no vtable {table} ({iface}) in {daemon_dir}/*.c')
    return found


def sections(page_path):
    text = open(page_path, encoding='utf-8').read()
    out = {}
    for m in re.finditer(r'^# (\S+)\n(.*?)(?=^# |\Z)', text, re.S | re.M):
        out[m.group(1)] = m.group(2)
    return out


def split_sig(signature):
    """'sa{sv}' -> ['s', 'a{sv}']: complete D-Bus types."""
    types, i = [], 0
    while i < len(signature):
        j = i
        while signature[j] == 'a':
            j += 1
        if signature[j] in '({':
            close = {'(': ')', '{': '}'}[signature[j]]
            depth = 0
            while True:
                if signature[j] in '({':
                    depth += 1
                elif signature[j] in ')}':
                    depth -= 1
                j += 1
                if depth == 0:
                    break
        else:
            j += 1
        types.append(signature[i:j])
        i = j
    return types


def doc_args(text):
    """'s _name_, a{sv} _options_' -> [('s', 'name'), ('a{sv}', 'options')]."""
    text = text.strip()
    if not text:
        return []
    args = []
    for part in text.split(', '):
        m = re.fullmatch(r'(\S+) _([A-Za-z0-9_]+)_', part.strip())
        if not m:
            return None
        args.append((m.group(1), m.group(2)))
    return args


def expected_args(sig, names):
    types = split_sig(sig or '')
    if names is None:
        names = [None] * len(types)
    if len(names) != len(types):
        return None
    return list(zip(types, names))


def same_args(doc, want):
    if doc is None or want is None or len(doc) != len(want):
        return False
    return all(d[0] == w[0] and (w[1] is None or d[1] == w[1]) for d, w in zip(doc, want))


def fmt(args):
    return ', '.join(f'{t} _{n}_' for t, n in args)


def check_member(section, kind, name, detail):
    """(ok, diagnostic)"""
    esc = re.escape(name)
    if kind == 'method':
        m = re.search(rf'^\*{esc}\*\((.*?)\)(?: → (.*))?$', section, re.M)
        if not m:
            return False, f'no term line "*{name}*(...)"'
        want_in = expected_args(detail[0], detail[1])
        want_out = expected_args(detail[2], detail[3])
        got_in, got_out = doc_args(m.group(1)), doc_args(m.group(2) or '')
        if not same_args(got_in, want_in) or not same_args(got_out, want_out):
            want = f'*{name}*({fmt(want_in or [])})'
            if want_out:
                want += f' → {fmt(want_out)}'
            return False, f'documented as "{m.group(0)}", the vtable says "{want}"'
        return True, ''
    if kind == 'signal':
        m = re.search(rf'^\*{esc}\*(?: \((.*)\))?$', section, re.M)
        if not m:
            return False, f'no term line "*{name}* (...)"'
        want = expected_args(detail[0], detail[1])
        if not same_args(doc_args(m.group(1) or ''), want):
            return False, f'documented as "{m.group(0)}", the vtable says "*{name}* ({fmt(want or [])})"'
        return True, ''
    m = re.search(rf'^\*{esc}\* (\S+)', section, re.M)
    if not m:
        return False, f'no term line "*{name}* {detail} (read-only)"'
    if m.group(1) != detail:
        return False, f'documented with type {m.group(1)}, the vtable says {detail}'
    return True, ''


def read_wire_defines(path):
    text = open(path, encoding='utf-8').read()
    for name, value in re.findall(r'^#define\s+(VIOMMU_\w+)\s+"((?:[^"\\]|\\.)*)"', text, re.M):
        WIRE_DEFINES[name] = value


def main():
    if len(sys.argv) not in (3, 4):
        bail('usage: test-dbus-doc.py DAEMON_DIR PAGE [WIRE_H]')
    if len(sys.argv) == 4:
        read_wire_defines(sys.argv[3])
    vtables = read_vtables(sys.argv[1])
    page = sections(sys.argv[2])
    checks = []
    for iface, members in vtables.items():
        section = page.get(iface)
        for kind, name, detail in members:
            if section is None:
                checks.append((f'{kind} {iface}.{name} is documented', False,
                               f'no "# {iface}" section'))
                continue
            ok, diag = check_member(section, kind, name, detail)
            checks.append((f'{kind} {iface}.{name} is documented', ok, diag))
    # And the other way round: no term documents a member that does not exist.
    for iface, members in vtables.items():
        section = page.get(iface, '')
        known = {(k, n) for k, n, _ in members}
        for m in re.finditer(r'^\*([A-Za-z0-9]+)\*(\(| \(| |$)', section, re.M):
            kind = {'(': 'method', ' (': 'signal'}.get(m.group(2), 'property')
            checks.append((f'documented {kind} {iface}.{m.group(1)} exists',
                           (kind, m.group(1)) in known, ''))
    for page_name, name in elsewhere_members:
        path = os.path.join(os.path.dirname(sys.argv[2]), page_name)
        text = open(path, encoding='utf-8').read() if os.path.exists(path) else ''
        checks.append((f'{name} is documented in {page_name}', f'*{name}(' in text,
                       f'no "*{name}(" in {path}'))
    print(f'1..{len(checks)}')
    for i, (name, ok, diag) in enumerate(checks, 1):
        print(f'{"ok" if ok else "not ok"} {i} - {name}')
        if not ok and diag:
            print(f'# {diag}')
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The files of units/ as they are installed: prints TAP.

- `systemd-analyze verify` accepts viommud.service (as configured by meson),
  viommud.socket, viommud-sysfs.socket, an instance of
  viommud-sysfs@.service, and viommud-metrics.timer with its service
  without a word of warning. verify wants ExecStart's
  binary to exist, so the copy it checks runs the daemon from the build
  tree; nothing else is changed. The Documentation= pages are in man/.
- `systemd-analyze security --offline=yes` rates the service, the sysfs
  helper's and the metrics writer's, and README.md records the ratings.
- systemd-sysusers and systemd-tmpfiles, run on a scratch root, create the
  group viommu and the directories with their modes.
- the polkit actions agree with lib/wire and viommud(8) and default to no.
- dbus-daemon accepts the busconfig, and on a bus of its own with the built
  daemon owning org.viommu1 (it needs no kernel for this), everyone reaches
  the daemon, which refuses another user (nobody) CreateVm and ReleaseOrphan
  itself (no polkitd on that bus: viommud.conf decides); the activation file
  names the service. Group viommu is not tried: it need not exist here.

usage: test-units.py SYSTEMD-ANALYZE BUILT-SERVICE SOCKET BUILT-DAEMON
                     BUILT-SYSFS-HELPER INSTALLED-DAEMON MAN-SOURCE-DIR SOURCE-ROOT
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

results = []


def check(name, ok, diag=''):
    results.append((name, bool(ok), diag))


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def verify(analyze, service, socket, daemon, helper, installed, mandir, tmp):
    units = os.path.join(tmp, 'units')
    os.mkdir(units)
    text = open(service, encoding='utf-8').read()
    if f'ExecStart={installed} ' not in text:
        check('the configured service runs ' + installed, False,
              'ExecStart= does not name it')
        return
    with open(os.path.join(units, 'viommud.service'), 'w', encoding='utf-8') as f:
        f.write(text.replace(f'ExecStart={installed} ', f'ExecStart={daemon} '))
    shutil.copy(socket, units)
    # The sysfs helper: its socket, and its service as an instance.
    shutil.copy(helper_socket(socket), units)
    text = open(helper_service(service), encoding='utf-8').read()
    installed_helper = os.path.join(os.path.dirname(os.path.dirname(installed)), 'libexec',
                                    'viommud-sysfs-helper')
    if f'ExecStart={installed_helper}\n' not in text:
        check('the configured helper service runs ' + installed_helper, False,
              'ExecStart= does not name it')
        return
    built_helper = helper
    with open(os.path.join(units, 'viommud-sysfs@.service'), 'w', encoding='utf-8') as f:
        f.write(text.replace(f'ExecStart={installed_helper}\n', f'ExecStart={built_helper}\n'))
    # The metrics writer runs /bin/sh: as configured.
    shutil.copy(metrics_service(service), units)
    shutil.copy(metrics_timer(socket), units)

    # Documentation= is checked against man/ below, not with man(1), which
    # would need the pages built and man-db installed.
    argv = [analyze, 'verify', '--man=no',
            os.path.join(units, 'viommud.service'), os.path.join(units, 'viommud.socket'),
            os.path.join(units, 'viommud-sysfs.socket'),
            os.path.join(units, 'viommud-sysfs@1.service'),
            os.path.join(units, 'viommud-metrics.service'),
            os.path.join(units, 'viommud-metrics.timer')]
    p = run(argv, cwd=units)
    out = (p.stdout + p.stderr).strip()
    check('systemd-analyze verify: no error, no warning', p.returncode == 0 and not out,
          f'exit {p.returncode}: {out}')

    for unit in (service, socket, helper_socket(socket), helper_service(service),
                 metrics_service(service), metrics_timer(socket)):
        for name, section in re.findall(r'man:([\w.-]+)\((\d)\)',
                                        open(unit, encoding='utf-8').read()):
            page = os.path.join(mandir, f'{name}.{section}.scd')
            check(f'{os.path.basename(unit)}: man:{name}({section}) is in man/',
                  os.path.exists(page))


def metrics_service(service):
    return os.path.join(os.path.dirname(service), 'viommud-metrics.service')


def metrics_timer(socket):
    return os.path.join(os.path.dirname(socket), 'viommud-metrics.timer')


def helper_socket(socket):
    return os.path.join(os.path.dirname(socket), 'viommud-sysfs.socket')


def helper_service(service):
    return os.path.join(os.path.dirname(service), 'viommud-sysfs@.service')


def security(analyze, service, readme, label='systemd-analyze security'):
    p = run([analyze, 'security', '--offline=yes', '--no-pager', service])
    name = re.escape(os.path.basename(service)).replace('@', '@\w*')
    m = re.search(r'Overall exposure level for ' + name + r': ([0-9.]+) (\w+)', p.stdout)
    check(f'systemd-analyze security rates {os.path.basename(service)} offline',
          p.returncode == 0 and m and not p.stderr.strip(),
          f'exit {p.returncode}: {p.stderr.strip()} {p.stdout[-300:]}')
    if not m:
        return
    want = f'{label}: {m.group(1)} ({m.group(2)})'
    text = open(readme, encoding='utf-8').read()
    check(f'README.md records "{want}"', want in text,
          'update the score in README.md\'s "Running under systemd" section')


def sysusers_tmpfiles(src, tmp):
    root = os.path.join(tmp, 'root')
    os.makedirs(os.path.join(root, 'etc'))
    p = run(['systemd-sysusers', '--root=' + root,
             os.path.join(src, 'units', 'viommud.sysusers')])
    group = ''
    if os.path.exists(os.path.join(root, 'etc', 'group')):
        group = open(os.path.join(root, 'etc', 'group'), encoding='utf-8').read()
    check('systemd-sysusers creates the group viommu',
          p.returncode == 0 and re.search(r'^viommu:x:\d+:', group, re.M),
          f'exit {p.returncode}: {p.stderr.strip()}')

    p = run(['systemd-tmpfiles', '--root=' + root, '--create',
             os.path.join(src, 'units', 'viommud.tmpfiles')])
    check('systemd-tmpfiles accepts viommud.tmpfiles', p.returncode == 0 and not p.stderr.strip(),
          f'exit {p.returncode}: {p.stderr.strip()}')
    for path, mode in (('run/viommud', 0o755), ('var/lib/viommud', 0o700),
                       ('etc/viommud', 0o755)):
        full = os.path.join(root, path)
        got = os.stat(full).st_mode & 0o7777 if os.path.isdir(full) else None
        check(f'tmpfiles makes /{path} mode {mode:04o}', got == mode,
              f'mode {got:04o}' if got is not None else 'missing')


BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <listen>unix:path={tmp}/bus</listen>
  <auth>EXTERNAL</auth>
  <!-- The default policy of Debian 12's system.conf. -->
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
  </policy>
  <include>{src}/units/org.viommu1.conf</include>
</busconfig>
"""

DENIED = 'org.freedesktop.DBus.Error.AccessDenied'


def policy(src, tmp, bus, daemon):
    """The policy on a bus of our own, with the built daemon owning the name:
    the bus lets everyone call, the daemon decides."""
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f'unix:path={bus}')
    # A state file of its own: nothing in /run/viommud is this test's.
    d = subprocess.Popen([daemon, '--bus', 'system', '--socket', os.path.join(tmp, 'sock'),
                          '--config', os.path.join(tmp, 'empty.conf'),
                          '--state', os.path.join(tmp, 'state.json')],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    try:
        ready = False
        said = []
        for line in d.stderr:
            said.append(line.rstrip('\n'))
            if 'ready' in line:
                ready = True
                break
        if not ready:
            said.append(f'exit status {d.wait(timeout=10)}')
        check('root owns org.viommu1 on the bus', ready,
              'the daemon did not get ready; it said:\n' + '\n'.join(said))
        if not ready:
            return

        def send(as_nobody, member, *args, path='/org/viommu1'):
            argv = ['dbus-send', '--system', '--print-reply', '--dest=org.viommu1', path,
                    member, *args]
            if as_nobody:
                argv = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] + argv
            p = run(argv, env=env, timeout=20)
            return p.stdout + p.stderr

        reads = [('org.viommu1.Manager.ListDevices',), ('org.viommu1.Manager.ListVms',),
                 ('org.viommu1.Manager.Describe',), ('org.viommu1.Manager.GetMetrics',),
                 ('org.freedesktop.DBus.Properties.GetAll', 'string:org.viommu1.Manager'),
                 ('org.freedesktop.DBus.Properties.Get', 'string:org.viommu1.Manager',
                  'string:Version'),
                 ('org.freedesktop.DBus.ObjectManager.GetManagedObjects',),
                 ('org.freedesktop.DBus.Introspectable.Introspect',),
                 ('org.freedesktop.DBus.Peer.Ping',)]
        for call in reads:
            out = send(True, *call)
            check(f'another user may call {call[0]}', out.startswith('method return'),
                  out.strip())
        # The bus lets everyone through; the daemon decides. No polkitd on this
        # bus: viommud.conf (empty) refuses nobody's CreateVm, and says where
        # the grant is. Wrong arguments for root on purpose: past the check.
        # dbus-send cannot write a{sv}: busctl (sd-bus reads the same variable).
        p = run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'busctl',
                 '--system', 'call', 'org.viommu1', '/org/viommu1', 'org.viommu1.Manager',
                 'CreateVm', 'sa{sv}', 'x', '0'], env=env, timeout=20)
        out = p.stdout + p.stderr
        check('the daemon, not the bus, refuses another user CreateVm',
              p.returncode != 0 and 'vm_users' in out and 'org.viommu1.manage-vms' in out,
              out.strip())
        out = send(True, 'org.viommu1.Manager.ReleaseOrphan', 'string:x')
        check('the daemon refuses another user ReleaseOrphan',
              'org.viommu1.Error.PermissionDenied' in out and
              'org.viommu1.release-orphans' in out, out.strip())
        out = send(False, 'org.viommu1.Manager.CreateVm', 'string:x')
        check('root may call CreateVm', DENIED not in out and 'Error' in out and
              'PermissionDenied' not in out, out.strip())
        for as_nobody in (True, False):
            out = send(as_nobody, 'org.freedesktop.DBus.Properties.Set',
                       'string:org.viommu1.Manager', 'string:Version', 'variant:string:x')
            check(f'{"another user" if as_nobody else "root"} may not set Version',
                  DENIED not in out and 'Error' in out, out.strip())
    finally:
        d.terminate()
        try:
            d.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            d.kill()
            d.communicate()


def busconfig(src, tmp, daemon):
    daemon_bin = shutil.which('dbus-daemon')
    if not daemon_bin:
        check('dbus-daemon accepts org.viommu1.conf # SKIP no dbus-daemon', True)
        return
    conf = os.path.join(tmp, 'bus.conf')
    with open(conf, 'w', encoding='utf-8') as f:
        f.write(BUS_CONF.format(tmp=tmp, src=src))
    with open(os.path.join(tmp, 'empty.conf'), 'w', encoding='utf-8') as f:
        f.write('{}\n')
    # It reads the whole configuration, prints its address, then serves.
    bus = subprocess.Popen([daemon_bin, '--config-file=' + conf, '--nofork', '--nopidfile',
                            '--print-address'], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        address = bus.stdout.readline().strip()
        check('dbus-daemon accepts org.viommu1.conf', address.startswith('unix:'),
              '' if address else bus.communicate(timeout=10)[1].strip())
        if not address:
            return
        if os.geteuid() != 0 or not shutil.which('setpriv'):
            check('the bus policy # SKIP needs root and setpriv', True)
        else:
            # Another user must reach the bus socket.
            os.chmod(tmp, 0o755)
            os.chmod(os.path.join(tmp, 'bus'), 0o666)
            policy(src, tmp, os.path.join(tmp, 'bus'), daemon)
    finally:
        bus.terminate()
        bus.communicate(timeout=10)

    text = open(os.path.join(src, 'units', 'org.viommu1.service'), encoding='utf-8').read()
    check('the activation file starts viommud.service for org.viommu1',
          re.search(r'^Name=org\.viommu1$', text, re.M) and
          re.search(r'^SystemdService=viommud\.service$', text, re.M))


def polkit_files(src, mandir):
    """The actions of org.viommu1.policy are the wire contract's
    (VIOMMU_ACTION_* in lib/wire/wire.h) and viommud(8)'s, each refuses
    everyone by default (root is never asked), and the rules file speaks of
    no other action."""
    import xml.etree.ElementTree as ET
    root = ET.parse(os.path.join(src, 'units', 'org.viommu1.policy')).getroot()
    policy = {a.get('id'): a for a in root.findall('action')}
    wire = set(re.findall(r'#define VIOMMU_ACTION_\w+ "([^"]+)"',
                          open(os.path.join(src, 'lib', 'wire', 'wire.h'),
                               encoding='utf-8').read()))
    man = open(os.path.join(mandir, 'viommud.8.scd'), encoding='utf-8').read()
    section = man[man.index('# AUTHORIZATION'):man.index('# SECURITY')]
    documented = set(re.findall(r'^\|  \*(org\.viommu1\.[a-z-]+)\*$', section, re.M))
    check('org.viommu1.policy declares the actions of lib/wire/wire.h',
          set(policy) == wire and len(wire) == 4, f'policy {sorted(policy)}, wire {sorted(wire)}')
    check('viommud(8) AUTHORIZATION lists the same actions', documented == wire,
          f'documented {sorted(documented)}, wire {sorted(wire)}')
    bad = [f'{i}: {d.tag}={d.text}' for i, a in policy.items()
           for d in a.find('defaults') if d.text != 'no']
    check('every action refuses everyone by default', not bad, '\n'.join(bad))
    rules = open(os.path.join(src, 'units', 'viommud.rules'), encoding='utf-8').read()
    named = set(re.findall(r'"(org\.viommu1\.[a-z-]+)"', rules))
    check('the rules file names known actions only', named and named <= wire,
          f'rules name {sorted(named)}')


def main():
    if len(sys.argv) != 9:
        sys.exit(__doc__)
    analyze, service, socket, daemon, helper, installed, mandir, src = sys.argv[1:]
    daemon = os.path.abspath(daemon)  # meson names them relative to the build dir
    helper = os.path.abspath(helper)
    with tempfile.TemporaryDirectory(prefix='viommud-units-') as tmp:
        verify(analyze, service, socket, daemon, helper, installed, mandir, tmp)
        security(analyze, service, os.path.join(src, 'README.md'))
        security(analyze, helper_service(service), os.path.join(src, 'README.md'),
                 'systemd-analyze security of the sysfs helper')
        security(analyze, metrics_service(service), os.path.join(src, 'README.md'),
                 'systemd-analyze security of the metrics writer')
        sysusers_tmpfiles(src, tmp)
        busconfig(src, tmp, daemon)
    polkit_files(src, mandir)
    print(f'1..{len(results)}')
    for i, (name, ok, diag) in enumerate(results, 1):
        print(f'{"ok" if ok else "not ok"} {i} - {name}')
        if not ok and diag:
            for line in diag.splitlines():
                print(f'# {line}')
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == '__main__':
    sys.exit(main())

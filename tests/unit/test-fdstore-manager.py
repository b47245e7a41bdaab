#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""tests/integration/fdstore-manager.py, the stand-in for systemd's service
manager that the in-guest restart tests use, against a small child program
that sends notify messages itself (no libsystemd): prints TAP.

Four runs, each under its own --dir: the fd store across a SIGKILL and a
clean exit (with --listen); a full store and SIGTERM to the manager; the start
limit; and a main process that dies of SIGTERM on its own. The child records
what it got (LISTEN_*, its fds) and what it saw (hang-ups of pipes whose other
end it gave the manager, status.json after a barrier) into a file per start.

usage: test-fdstore-manager.py path/to/fdstore-manager.py
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUDGET = 18.0  # seconds for everything; no run may hang the suite

CHILD = r'''
import array, errno, fcntl, json, os, select, signal, socket, stat, sys, time

MODE, REC, MDIR = sys.argv[1:4]
LISTEN = sys.argv[4] if len(sys.argv) > 4 else None
signal.alarm(15)  # never outlive a broken test

counter = os.path.join(REC, 'count')
n = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
with open(counter, 'w') as f:
    f.write(str(n))
rec = {'start': n, 'pid': os.getpid(), 'mode': MODE,
       'env': {k: os.environ.get(k) for k in
               ('LISTEN_FDS', 'LISTEN_FDNAMES', 'LISTEN_PID', 'NOTIFY_SOCKET')}}

def save():
    tmp = os.path.join(REC, '.tmp')
    with open(tmp, 'w') as f:
        json.dump(rec, f)
    os.rename(tmp, os.path.join(REC, f'start-{n}.json'))

def target(fd):
    return os.readlink(f'/proc/self/fd/{fd}')

def notify(text, fds=()):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', fds))] if fds else []
        s.sendmsg([text.encode()], anc, 0, os.environ['NOTIFY_SOCKET'])
    finally:
        s.close()

def hung_up(fd, timeout):
    p = select.poll()
    p.register(fd, 0)  # POLLHUP is always reported
    return bool(p.poll(int(timeout * 1000)))

def barrier():
    r, w = os.pipe()
    notify('BARRIER=1', [w])
    os.close(w)
    try:
        return hung_up(r, 3)
    finally:
        os.close(r)

def status():
    with open(os.path.join(MDIR, 'status.json')) as f:
        return json.load(f)

def names(st):
    return [e['name'] for e in st['stored']]

def wait_until(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()

# What this start was given.
nfds = int(os.environ.get('LISTEN_FDS') or 0)
fds = []
for fd in range(3, 3 + nfds):
    info = {'fd': fd, 'target': target(fd),
            'cloexec': bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)}
    if stat.S_ISSOCK(os.fstat(fd).st_mode):
        s = socket.socket(fileno=os.dup(fd))
        info['listening'] = bool(s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
        info['sockname'] = s.getsockname()
        info['blocking'] = os.get_blocking(fd)
        s.close()
    fds.append(info)
rec['fds'] = fds
extra = []
for fd in range(3 + nfds, 3 + nfds + 256):
    try:
        os.fstat(fd)
        extra.append(fd)
    except OSError:
        pass
rec['extra_fds'] = extra
save()

if MODE == 'main' and n == 1:
    a_r, a_w = os.pipe()
    b_r, b_w = os.pipe()
    c = os.eventfd(0)
    d_r, d_w = os.pipe()
    x_r, x_w = os.pipe()
    rec['targets'] = {'a': target(a_r), 'b': target(b_r), 'c': target(c),
                      'd': target(d_r), 'x': target(x_r)}
    os.write(a_w, b'A')
    os.write(b_w, b'hello')
    notify('FDSTORE=1\nFDNAME=a', [a_r])
    notify('FDSTORE=1\nFDNAME=b\nFDPOLL=0', [b_r])
    notify('FDSTORE=1\nFDNAME=c', [c])
    notify('FDSTORE=1\nFDNAME=d\nFDPOLL=0', [d_r, d_r])
    notify('FDSTORE=1\nFDNAME=d-again\nFDPOLL=0', [d_r])
    notify('FDSTORE=1\nFDNAME=x:y\nFDPOLL=0', [x_r])
    # Closed by the manager means a hang-up here: a pipe's other end.
    e_r, e_w = os.pipe()
    notify('STATUS=phase one', [e_w])
    os.close(e_w)
    rec['stray_closed'] = hung_up(e_r, 3)
    p1r, p1w = os.pipe()
    p2r, p2w = os.pipe()
    notify('BARRIER=1', [p1w, p2w])
    os.close(p1w)
    os.close(p2w)
    rec['two_fd_barrier_closed'] = hung_up(p1r, 3) and hung_up(p2r, 3)
    p3r, p3w = os.pipe()
    notify('BARRIER=1\nREADY=1', [p3w])
    os.close(p3w)
    rec['mixed_barrier_closed'] = hung_up(p3r, 3)
    # Not the main PID: a child of ours, alive until its own barrier is answered.
    g_r, g_w = os.pipe()
    gpid = os.fork()
    if gpid == 0:
        try:
            notify('FDSTORE=1\nFDNAME=intruder', [g_w])
            barrier()
        finally:
            os._exit(0)
    os.close(g_w)
    rec['intruder_pid'] = gpid
    rec['intruder_closed'] = hung_up(g_r, 3)
    os.waitpid(gpid, 0)
    rec['barrier1'] = barrier()
    rec['snap1'] = status()
    notify('FDSTOREREMOVE=1\nFDNAME=c')
    notify('FDSTOREREMOVE=1\nFDNAME=stored')
    notify('FDSTOREREMOVE=1\nFDNAME=d')
    rec['barrier2'] = barrier()
    rec['snap2'] = status()
    os.close(a_w)
    os.close(b_w)
    rec['a_dropped'] = wait_until(lambda: 'a' not in names(status()), 3)
    rec['snap3'] = status()
    save()
    os.kill(os.getpid(), signal.SIGKILL)

elif MODE == 'main':
    try:
        ls = socket.socket(fileno=os.dup(3))
        ls.settimeout(3)
        cl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        cl.settimeout(3)
        cl.connect(LISTEN)
        conn, _ = ls.accept()
        cl.sendall(b'ping')
        rec['accepted'] = conn.recv(4).decode()
    except OSError as e:
        rec['accepted'] = repr(e)
    os.set_blocking(4, False)
    try:
        rec['b_data'] = os.read(4, 64).decode()
    except OSError as e:
        rec['b_data'] = repr(e)
    notify('READY=1\nSTATUS=second start')
    rec['barrier'] = barrier()
    rec['snap'] = status()
    save()
    sys.exit(0)

elif MODE == 'max':
    pipes = [os.pipe() for _ in range(3)]
    notify('FDSTORE=1\nFDNAME=' + 'n' * 255 + '\nFDPOLL=0', [pipes[0][1]])
    notify('FDSTORE=1\nFDNAME=m\nFDPOLL=0', [pipes[1][1], pipes[2][1]])
    for _, w in pipes:
        os.close(w)
    rec['barrier'] = barrier()
    rec['hup'] = [hung_up(r, 0.2) for r, _ in pipes]
    notify('READY=1\nSTATUS=waiting\nERRNO=EBUSY')
    barrier()
    rec['snap'] = status()
    rec['waiting'] = True
    save()
    while True:
        signal.pause()

elif MODE == 'limit':
    if n == 1:
        # No barrier: the manager must take this message before it handles the
        # exit. It is stopped (state T: not returning from a poll that saw the
        # message alone) until we are a zombie (SIGCHLD sent), so it finds both
        # at once; a helper wakes it, in a process group of its own lest our
        # exit orphan the manager's group and the kernel SIGCONT it early.
        r, w = os.pipe()
        manager, me = os.getppid(), os.getpid()

        def state(pid):
            with open(f'/proc/{pid}/stat') as f:
                return f.read().rsplit(')', 1)[1].split()[0]
        if os.fork() == 0:
            os.setpgid(0, 0)
            wait_until(lambda: state(me) == 'Z', 5)
            os.kill(manager, signal.SIGCONT)
            os._exit(0)
        os.kill(manager, signal.SIGSTOP)
        wait_until(lambda: state(manager) == 'T', 3)
        notify('FDSTORE=1\nFDNAME=keep\nFDPOLL=0', [r])
    os._exit(3)

elif MODE == 'selfterm':
    r, w = os.pipe()
    notify('READY=1\nFDSTORE=1\nFDNAME=keep\nFDPOLL=0', [r])
    rec['barrier'] = barrier()
    rec['snap'] = status()
    save()
    os.kill(os.getpid(), signal.SIGTERM)
'''


class Tap:
    def __init__(self):
        self.results = []

    def check(self, desc, fn):
        try:
            ok, diag = fn()
        except Exception as e:  # a missing record is a failure, not a crash
            ok, diag = False, f'{type(e).__name__}: {e}'
        self.results.append((bool(ok), desc, diag))

    def eq(self, desc, got, want):
        """got (and want, when callable) are evaluated inside the check."""
        def fn():
            g, w = got(), want() if callable(want) else want
            return g == w, f'got {g!r}, want {w!r}'
        self.check(desc, fn)

    def print(self):
        print(f'1..{len(self.results)}')
        for i, (ok, desc, diag) in enumerate(self.results, 1):
            print(f'{"ok" if ok else "not ok"} {i} - {desc}')
            if not ok and diag:
                for line in str(diag).splitlines():
                    print(f'# {line}')
        return all(ok for ok, _, _ in self.results)


class Run:
    """One manager run under tmp/<name>: its exit status, log, status.json,
    and the child's record of each start."""

    def __init__(self, manager, tmp, name, mode, args=(), listen=None, env=None,
                 during=None, deadline=0.0):
        self.top = os.path.join(tmp, name)
        self.mdir = os.path.join(self.top, 'm')
        self.rec = os.path.join(self.top, 'rec')
        os.makedirs(self.rec)
        child = os.path.join(tmp, 'child.py')
        cmd = [sys.executable, manager, '--dir', self.mdir, *args]
        if listen:
            cmd += ['--listen', listen]
        cmd += ['--', sys.executable, child, mode, self.rec, self.mdir]
        if listen:
            cmd.append(listen)
        self.log_path = os.path.join(self.top, 'stderr')
        self.error = None
        with open(self.log_path, 'w') as err:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                    env=dict(os.environ, **(env or {})))
        try:
            if during:
                during(self, proc, deadline)
            self.code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.error = 'the manager did not exit in time'
            proc.kill()
            self.code = proc.wait()
        finally:
            # Whatever happened, leave no child behind.
            pid = (self.status() or {}).get('pid') if os.path.exists(self.status_path) else 0
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    @property
    def status_path(self):
        return os.path.join(self.mdir, 'status.json')

    def status(self):
        try:
            with open(self.status_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def record(self, start):
        with open(os.path.join(self.rec, f'start-{start}.json')) as f:
            return json.load(f)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_record(self, start, key, deadline):
        while time.monotonic() < deadline:
            try:
                if self.record(start).get(key):
                    return True
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        return False


def names(st):
    return [e['name'] for e in st['stored']]


def check_main(tap, run, listen):
    r1 = lambda: run.record(1)
    r2 = lambda: run.record(2)
    st = run.status
    mdir = run.mdir
    tap.eq('main: the manager exits 0 after the clean exit of start 2',
           lambda: (run.error, run.code), (None, 0))
    tap.eq('main: two starts', lambda: st()['starts'], 2)
    tap.eq('main: start 1 gets the listening socket alone, LISTEN_PID its own pid',
           lambda: r1()['env'],
           {'LISTEN_FDS': '1', 'LISTEN_FDNAMES': 'viommud.socket',
            'LISTEN_PID': str(r1()['pid']), 'NOTIFY_SOCKET': os.path.join(mdir, 'notify')})
    tap.eq('main: fd 3 is the listening socket at --listen, inheritable and blocking',
           lambda: {k: r1()['fds'][0][k] for k in ('listening', 'sockname', 'cloexec', 'blocking')},
           {'listening': True, 'sockname': listen, 'cloexec': False, 'blocking': True})
    tap.eq('main: start 1 has no other fd', lambda: r1()['extra_fds'], [])
    tap.check('main: the listening socket is mode 0666, its new parent directory 0755',
              lambda: ((os.stat(listen).st_mode & 0o7777, os.stat(os.path.dirname(listen)).st_mode & 0o7777)
                       == (0o666, 0o755), f'{os.stat(listen).st_mode:o}'))
    tap.eq('main: a barrier is answered (its fd closed)', lambda: r1()['barrier1'], True)
    tap.eq('main: fds without FDSTORE=1 are closed', lambda: r1()['stray_closed'], True)
    tap.eq('main: BARRIER=1 with two fds closes both', lambda: r1()['two_fd_barrier_closed'], True)
    tap.check('main: BARRIER=1 with other fields is dropped whole (fd closed, READY=1 not taken)',
              lambda: (r1()['mixed_barrier_closed'] and r1()['snap1']['ready'] is False
                       and r1()['snap1']['state'] == 'start', r1()['snap1']))
    tap.check('main: FDSTORE=1 from another PID is refused and its fd closed',
              lambda: (r1()['intruder_closed'] and 'intruder' not in names(r1()['snap1'])
                       and f'from PID {r1()["intruder_pid"]} rejected' in run.log(),
                       r1()['snap1']))
    tap.eq('main: the store after the first barrier, newest first, one "d" (duplicates closed), '
           'the invalid name "x:y" stored as "stored"',
           lambda: names(r1()['snap1']), ['stored', 'd', 'c', 'b', 'a'])

    def targets():
        snap, want = r1()['snap1'], r1()['targets']
        got = {e['name']: e['target'] for e in snap['stored']}
        return (got == {'stored': want['x'], 'd': want['d'], 'c': want['c'],
                        'b': want['b'], 'a': want['a']}, f'got {got}, want {want}')
    tap.check('main: each stored fd is the file the child sent (readlink)', targets)
    tap.eq('main: poll flags follow FDPOLL=0',
           lambda: [e['poll'] for e in r1()['snap1']['stored']], [False, False, True, False, True])
    tap.check('main: stored fds are distinct fds of the manager',
              lambda: (len({e['fd'] for e in r1()['snap1']['stored']}) == 5
                       and all(e['fd'] >= 3 for e in r1()['snap1']['stored']), r1()['snap1']))
    tap.eq('main: FDSTOREREMOVE=1 drops "c", "stored" and "d"',
           lambda: names(r1()['snap2']), ['b', 'a'])
    tap.check('main: "a" (polled) is dropped on hang-up, "b" (FDPOLL=0) kept',
              lambda: (r1()['a_dropped'] and names(r1()['snap3']) == ['b']
                       and 'dropped stored fd' in run.log(), r1()['snap3']))
    tap.eq('main: start 1 was killed by SIGKILL',
           lambda: st()['exits'][0], {'pid': r1()['pid'], 'code': None, 'signal': 9})
    tap.eq('main: start 2 gets the listening socket and "b", LISTEN_PID its own pid',
           lambda: {k: r2()['env'][k] for k in ('LISTEN_FDS', 'LISTEN_FDNAMES', 'LISTEN_PID')},
           {'LISTEN_FDS': '2', 'LISTEN_FDNAMES': 'viommud.socket:b', 'LISTEN_PID': str(r2()['pid'])})
    tap.eq('main: start 2 fd 3 accepts a connection to --listen',
           lambda: (r2()['fds'][0]['sockname'], r2()['accepted']), (listen, 'ping'))
    tap.eq('main: start 2 fd 4 is the pipe start 1 stored as "b", with its data',
           lambda: (r2()['fds'][1]['target'], r2()['fds'][1]['cloexec'], r2()['b_data']),
           lambda: (r1()['targets']['b'], False, 'hello'))
    tap.eq('main: start 2 has no other fd', lambda: r2()['extra_fds'], [])
    tap.eq('main: READY=1 and STATUS= of start 2 are in status.json',
           lambda: {k: r2()['snap'][k] for k in ('pid', 'ready', 'state', 'status', 'starts')},
           {'pid': r2()['pid'], 'ready': True, 'state': 'running', 'status': 'second start',
            'starts': 2})
    tap.eq('main: after the clean exit the store is empty and nothing runs',
           lambda: {k: st()[k] for k in ('pid', 'ready', 'state', 'stored')},
           {'pid': 0, 'ready': False, 'state': 'dead', 'stored': []})
    tap.eq('main: the exit of start 2 is recorded',
           lambda: st()['exits'][1:], [{'pid': r2()['pid'], 'code': 0, 'signal': None}])
    tap.check('main: every log line is prefixed',
              lambda: (all(line.startswith('fdstore-manager: ') for line in run.log().splitlines()),
                       run.log()))


def stop_when_waiting(run, proc, deadline):
    if run.wait_record(1, 'waiting', deadline):
        proc.send_signal(signal.SIGTERM)


def check_max(tap, run):
    r1 = lambda: run.record(1)
    st = run.status
    tap.eq('max: LISTEN_* inherited by the manager are not passed on',
           lambda: {k: r1()['env'][k] for k in ('LISTEN_FDS', 'LISTEN_FDNAMES', 'LISTEN_PID')},
           {'LISTEN_FDS': None, 'LISTEN_FDNAMES': None, 'LISTEN_PID': None})
    tap.eq('max: a 255-character name is valid; the third fd beyond --fdstore-max 2 is closed',
           lambda: (names(r1()['snap']), r1()['hup']), (['m', 'n' * 255], [False, False, True]))
    tap.eq('max: READY=1, STATUS= and ERRNO= are in status.json',
           lambda: {k: r1()['snap'][k] for k in ('ready', 'status', 'errno')},
           {'ready': True, 'status': 'waiting', 'errno': 16})
    tap.eq('max: SIGTERM to the manager stops the child, no restart, exit status 128+15',
           lambda: (run.error, run.code, st()['starts'], st()['exits']),
           (None, 143, 1, [{'pid': r1()['pid'], 'code': None, 'signal': 15}]))
    tap.eq('max: the store is released on stop', lambda: st()['stored'], [])


def check_limit(tap, run):
    st = run.status
    tap.eq('limit: fds stored just before a failing exit (queued with it) reach the restart',
           lambda: {k: run.record(2)['env'][k] for k in ('LISTEN_FDS', 'LISTEN_FDNAMES')},
           {'LISTEN_FDS': '1', 'LISTEN_FDNAMES': 'keep'})
    tap.check('limit: the third start within the interval is refused, the unit fails',
              lambda: ((run.error, run.code, st()['starts'], st()['state'], st()['stored'])
                       == (None, 3, 2, 'failed', [])
                       and not os.path.exists(os.path.join(run.rec, 'start-3.json'))
                       and 'repeated too quickly' in run.log(),
                       f'code {run.code}, {st()}'))


def check_selfterm(tap, run):
    st = run.status
    tap.eq('selfterm: the store holds "keep" while the child runs',
           lambda: names(run.record(1)['snap']), ['keep'])
    tap.eq('selfterm: death by SIGTERM is a clean exit: no restart, store released',
           lambda: (run.error, run.code, st()['starts'], st()['state'], st()['stored']),
           (None, 143, 1, 'dead', []))


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: test-fdstore-manager.py path/to/fdstore-manager.py')
    manager = os.path.abspath(sys.argv[1])
    end = time.monotonic() + BUDGET
    tap = Tap()
    tmp = tempfile.mkdtemp(prefix='fdstore-manager-')
    try:
        with open(os.path.join(tmp, 'child.py'), 'w') as f:
            f.write(CHILD)
        listen = os.path.join(tmp, 'run', 'viommud', 'viommud.sock')
        # A stale socket from an earlier run must be replaced, as systemd does.
        os.makedirs(os.path.dirname(listen))
        os.chmod(os.path.dirname(listen), 0o755)
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(listen)
        stale.close()
        runs = [
            ('main', lambda: check_main(tap, Run(
                manager, tmp, 'main', 'main', listen=listen,
                deadline=min(end, time.monotonic() + 8)), listen)),
            ('max', lambda: check_max(tap, Run(
                manager, tmp, 'max', 'max', args=['--fdstore-max', '2'],
                env={'LISTEN_FDS': '9', 'LISTEN_FDNAMES': 'bogus', 'LISTEN_PID': '1'},
                during=stop_when_waiting, deadline=min(end, time.monotonic() + 5)))),
            ('limit', lambda: check_limit(tap, Run(
                manager, tmp, 'limit', 'limit',
                args=['--restart-sec', '0', '--start-limit-burst', '2'],
                deadline=min(end, time.monotonic() + 4)))),
            ('selfterm', lambda: check_selfterm(tap, Run(
                manager, tmp, 'selfterm', 'selfterm',
                deadline=min(end, time.monotonic() + 4)))),
        ]
        for name, go in runs:
            try:
                go()
            except Exception as e:  # keep the other runs, and the plan
                tap.results.append((False, f'{name}: the run itself', repr(e)))
        ok = tap.print()
        if not ok:
            for name, _ in runs:
                path = os.path.join(tmp, name, 'stderr')
                if os.path.exists(path):
                    print(f'# --- {name}: the manager\'s log')
                    for line in open(path).read().splitlines():
                        print(f'# {line}')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()

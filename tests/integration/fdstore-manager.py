#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A stand-in for systemd 252's service manager, for in-guest tests of the
daemon's restart survival: one Type=notify service with Restart=on-failure,
NotifyAccess=main and FileDescriptorStoreMax=N, optionally with a socket unit's
listening AF_UNIX socket (viommud.socket).

usage: fdstore-manager.py --dir DIR [--listen PATH] [--fdstore-max N]
                          [--restart-sec S] [--start-limit-burst N]
                          [--start-limit-interval S] -- COMMAND [ARGS...]

DIR/notify is the notify socket (the child's NOTIFY_SOCKET). DIR/status.json is
rewritten atomically after every change:

  {"pid": main PID or 0, "starts": N, "state": "start"|"running"|"reload"|
   "stop-sigterm"|"auto-restart"|"dead"|"failed", "ready": bool,
   "status": last STATUS= text, "errno": last ERRNO= or null,
   "stored": [{"name", "fd" (ours), "target" (readlink), "poll"}, ...],
   "exits": [{"pid", "code" or null, "signal" or null}, ...]}

"stored" is in the order the fds are handed to the next start (after the
listening socket). Every decision is logged to stderr, one line each,
prefixed "fdstore-manager: ". The manager exits when the unit goes inactive
or failed, with the main process's last exit status (128+signal if killed).

Where systemd 252 (src/core/service.c, manager.c, fd-util.c) is followed to
the letter, because a daemon tested here must behave under the real thing:
 - the store is a list with new fds prepended (LIST_PREPEND), so LISTEN_FDS
   hands them newest first: a daemon must find its fds by name, not position;
 - an invalid FDNAME= is ignored, not fatal: the fds go in as "stored";
   an empty name is valid (fdname_is_valid allows it);
 - a main process killed by SIGHUP, SIGINT, SIGTERM or SIGPIPE exited cleanly
   (is_clean_exit, EXIT_CLEAN_DAEMON): no restart, the store is released;
 - more than --start-limit-burst starts (default 5) within
   --start-limit-interval seconds (default 10) fail the unit (the defaults
   DefaultStartLimitBurst= and DefaultStartLimitIntervalSec=), as a daemon
   killed in a loop would under systemd;
 - notify messages are handled before the exit of the process that sent them
   (systemd gives the notify socket a higher priority than SIGCHLD).
Not modelled: WatchdogSec= (WATCHDOG=1 is ignored), TimeoutStartSec=, cgroups
(only the main process is signalled), MAINPID=.
"""

import ctypes
import errno
import fcntl
import json
import os
import platform
import select
import signal
import socket
import stat
import struct
import sys
import time

PROG = 'fdstore-manager'
NOTIFY_BUFFER_MAX = 4096  # systemd's NOTIFY_BUFFER_MAX (PIPE_BUF)
NOTIFY_FD_MAX = 768  # systemd's control buffer; the kernel sends at most 253
FDNAME_MAX = 255
STATUS_TEXT_MAX = 16 * 1024
TIMEOUT_STOP_SEC = 90.0  # DefaultTimeoutStopSec=, then SIGKILL
EXIT_EXEC = 203  # systemd's exit status when execve() fails
LISTEN_NAME = 'viommud.socket'  # FileDescriptorName= defaults to the unit name
CLEAN_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE)
KCMP_FILE = 0
KCMP_NR = {'x86_64': 312, 'aarch64': 272, 'riscv64': 272, 'i386': 349,
           'i686': 349, 'ppc64le': 354, 'ppc64': 354, 's390x': 343}
ANC_SIZE = socket.CMSG_SPACE(4 * NOTIFY_FD_MAX) + socket.CMSG_SPACE(struct.calcsize('iII'))


def log(msg):
    try:
        print(f'{PROG}: {msg}', file=sys.stderr, flush=True)
    except OSError:
        pass  # a closed stderr must not take the manager down


def q(text):
    # Names and texts come from the service: quote them so a log line stays one line.
    return json.dumps(text)


def close_fds(fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def fdname_is_valid(name):
    # fd-util.c: printable ASCII but ':' (the LISTEN_FDNAMES separator), at most 255.
    return len(name) <= FDNAME_MAX and all(' ' <= c <= '~' and c != ':' for c in name)


def signame(sig):
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f'signal {sig}'


def parse_errno(text):
    # parse_errno(): a name (EINVAL) or a number in 0..4095.
    if text.startswith('E') and isinstance(getattr(errno, text, None), int):
        return getattr(errno, text)
    try:
        value = int(text, 10)
    except ValueError:
        return None
    return value if 0 <= value <= 4095 else None


class SameFd:
    """systemd's same_fd(): kcmp(KCMP_FILE) says whether two of our fds share one
    open file description; without kcmp (ENOSYS, EPERM under seccomp), the
    fallback compares inode and file status flags (never for devices)."""

    def __init__(self):
        self.nr = KCMP_NR.get(platform.machine())
        self.libc = ctypes.CDLL(None, use_errno=True) if self.nr else None
        self.pid = os.getpid()

    def __call__(self, a, b):
        if a == b:
            return True
        if self.nr is not None:
            r = self.libc.syscall(ctypes.c_long(self.nr), ctypes.c_long(self.pid),
                                  ctypes.c_long(self.pid), ctypes.c_long(KCMP_FILE),
                                  ctypes.c_long(a), ctypes.c_long(b))
            if r >= 0:
                return r == 0
            err = ctypes.get_errno()
            if err not in (errno.ENOSYS, errno.EPERM, errno.EACCES):
                raise OSError(err, os.strerror(err))
            log(f'kcmp() unavailable ({errno.errorcode.get(err, err)}), comparing inodes instead')
            self.nr = None
        sa, sb = os.fstat(a), os.fstat(b)
        if (sa.st_dev, sa.st_ino) != (sb.st_dev, sb.st_ino):
            return False
        if stat.S_ISCHR(sa.st_mode) or stat.S_ISBLK(sa.st_mode):
            return False
        return fcntl.fcntl(a, fcntl.F_GETFL) == fcntl.fcntl(b, fcntl.F_GETFL)


class Stored:
    __slots__ = ('fd', 'name', 'poll', 'watched')

    def __init__(self, fd, name, poll):
        self.fd, self.name, self.poll, self.watched = fd, name, poll, False


class Manager:
    def __init__(self, opts, command):
        self.dir = os.path.abspath(opts['dir'])
        self.listen_path = opts['listen']
        self.fdstore_max = opts['fdstore_max']
        self.restart_sec = opts['restart_sec']
        self.burst = opts['start_limit_burst']
        self.interval = opts['start_limit_interval']
        self.command = command
        self.notify_path = os.path.join(self.dir, 'notify')
        self.status_path = os.path.join(self.dir, 'status.json')
        self.same_fd = SameFd()
        self.store = []  # newest first, as systemd's LIST_PREPEND leaves it
        self.by_fd = {}
        self.pid = 0
        self.starts = 0
        self.state = 'dead'
        self.ready = False
        self.stopping = False  # STOPPING=1 from this main process
        self.status_text = ''
        self.status_errno = None
        self.exits = []
        self.last_exit = 0
        self.restart_at = None
        self.kill_at = None
        self.stop_requested = False
        self.limit_begin = None
        self.limit_count = 0
        self.listen = None

    # -- set-up ------------------------------------------------------------

    def setup(self):
        os.makedirs(self.dir, exist_ok=True)
        if len(self.notify_path.encode()) >= 108:
            raise SystemExit(f'{PROG}: {self.notify_path}: too long for a socket address')
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK)
        try:
            os.unlink(self.notify_path)
        except FileNotFoundError:
            pass
        self.notify.bind(self.notify_path)
        # Any process may send, as to /run/systemd/notify; the PID check decides.
        os.chmod(self.notify_path, 0o777)
        self.notify.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        # systemd asks for 8 MiB so a burst of FDSTORE messages never blocks senders.
        for opt in (getattr(socket, 'SO_RCVBUFFORCE', None), socket.SO_RCVBUF):
            try:
                if opt is not None:
                    self.notify.setsockopt(socket.SOL_SOCKET, opt, 8 * 1024 * 1024)
                    break
            except OSError:
                continue
        if self.listen_path:
            self.listen = self.make_listen_socket(self.listen_path)

        self.ep = select.epoll()
        self.ep.register(self.notify.fileno(), select.EPOLLIN)
        # Signals arrive as bytes on a pipe: one event loop, no work in handlers.
        self.sig_r, self.sig_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(self.sig_w, warn_on_full_buffer=False)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: None)
        self.ep.register(self.sig_r, select.EPOLLIN)

    def make_listen_socket(self, path):
        path = os.path.abspath(path)
        # DirectoryMode=0755 for the parents it creates; existing ones are left alone.
        missing = []
        parent = os.path.dirname(path)
        while parent and not os.path.isdir(parent):
            missing.append(parent)
            parent = os.path.dirname(parent)
        for d in reversed(missing):
            os.mkdir(d, 0o755)
            os.chmod(d, 0o755)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
            # socket_address_listen(): a stale file is in the way, unlink and retry.
            os.unlink(path)
            log(f'removed stale {path}')
            sock.bind(path)
        os.chmod(path, 0o666)  # SocketMode=0666
        sock.listen(socket.SOMAXCONN)
        log(f'listening on {path} (fd {sock.fileno()}, passed as {q(LISTEN_NAME)})')
        return sock

    # -- status ------------------------------------------------------------

    def write_status(self):
        stored = []
        for e in self.store:
            try:
                target = os.readlink(f'/proc/self/fd/{e.fd}')
            except OSError as err:
                target = f'? ({err.strerror})'
            stored.append({'name': e.name, 'fd': e.fd, 'target': target, 'poll': e.poll})
        doc = {'pid': self.pid, 'starts': self.starts, 'state': self.state,
               'ready': self.ready, 'status': self.status_text, 'errno': self.status_errno,
               'stored': stored, 'exits': self.exits}
        tmp = os.path.join(self.dir, '.status.json.tmp')
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(doc, f, indent=1)
            f.write('\n')
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, self.status_path)

    # -- the fd store --------------------------------------------------------

    def store_add(self, fd, name, poll):
        """Takes fd. False when the store is full (fd closed)."""
        if len(self.store) >= self.fdstore_max:
            os.close(fd)
            return False
        for e in self.store:
            try:
                same = self.same_fd(e.fd, fd)
            except OSError as err:
                log(f'cannot compare fd {fd} with stored fd {e.fd}: {err.strerror}; closing it')
                os.close(fd)
                return True
            if same:
                log(f'fd {fd} is stored already (fd {e.fd}, {q(e.name)}): closing the duplicate')
                os.close(fd)
                return True
        entry = Stored(fd, name, poll)
        if poll:
            # Events 0: the kernel always reports EPOLLHUP and EPOLLERR, nothing else.
            try:
                self.ep.register(fd, 0)
                entry.watched = True
            except PermissionError:
                log(f'fd {fd} ({q(name)}) cannot be polled (regular file?): stored unwatched')
        self.store.insert(0, entry)
        self.by_fd[fd] = entry
        log(f'stored fd {fd} ({self.target(fd)}) under {q(name)}, '
            f'{"watched for hang-up" if entry.watched else "not watched"}')
        return True

    def store_unlink(self, entry):
        # Unregister before close: an epoll entry outlives our fd while the
        # child holds a dup of the same file, and would fire for a reused number.
        if entry.watched:
            try:
                self.ep.unregister(entry.fd)
            except OSError:
                pass
        self.store.remove(entry)
        del self.by_fd[entry.fd]
        os.close(entry.fd)

    def store_release(self, why):
        if self.store:
            log(f'releasing all {len(self.store)} stored fds ({why})')
        for e in list(self.store):
            self.store_unlink(e)

    @staticmethod
    def target(fd):
        try:
            return os.readlink(f'/proc/self/fd/{fd}')
        except OSError:
            return '?'

    # -- notify messages -----------------------------------------------------

    def drain_notify(self):
        while True:
            try:
                data, anc, flags, _ = self.notify.recvmsg(
                    NOTIFY_BUFFER_MAX, ANC_SIZE, socket.MSG_DONTWAIT | socket.MSG_CMSG_CLOEXEC)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                log(f'cannot receive a notify message: {e.strerror}')
                return
            fds, ucred = [], None
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    n = len(payload) // 4
                    fds.extend(struct.unpack(f'{n}i', payload[:4 * n]))
                elif (level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS
                      and len(payload) == struct.calcsize('iII')):
                    ucred = struct.unpack('iII', payload)
            try:
                changed = self.handle_message(data, fds, flags, ucred)
            finally:
                # Whatever the handler did not take is closed, as systemd's FDSet cleanup does.
                close_fds(fds)
            if changed:
                self.write_status()

    def handle_message(self, data, fds, flags, ucred):
        """Consumes from fds what it keeps; the caller closes the rest. True if
        the status changed."""
        if flags & socket.MSG_CTRUNC:
            log(f'notify message with truncated control data (too many fds?): '
                f'ignored, closing {len(fds)} fds')
            return False
        if ucred is None or ucred[0] <= 0:
            log(f'notify message without valid credentials: ignored, closing {len(fds)} fds')
            return False
        pid = ucred[0]
        if flags & socket.MSG_TRUNC:
            log(f'notify message from PID {pid} longer than {NOTIFY_BUFFER_MAX} bytes: ignored')
            return False
        if len(data) > 1 and b'\0' in data[:-1]:
            log(f'notify message from PID {pid} with embedded NUL bytes: ignored')
            return False
        text = data.rstrip(b'\0').decode('utf-8', 'surrogateescape')
        tags = [t for t in text.replace('\r', '\n').split('\n') if t]

        # manager_process_barrier_fd(): before any unit sees it, from any sender.
        if 'BARRIER=1' in tags:
            if len(tags) != 1:
                log(f'BARRIER=1 from PID {pid} with other fields: whole message ignored, '
                    f'closing {len(fds)} fds')
            elif len(fds) != 1:
                log(f'BARRIER=1 from PID {pid} with {len(fds)} fds instead of 1: closing them')
            else:
                log(f'barrier from PID {pid}: closing its fd')
            return False

        summary = ', '.join(q(t) if len(t) < 80 else q(t[:77] + '...') for t in tags)
        if self.pid == 0 or pid != self.pid:
            whom = f'main PID {self.pid}' if self.pid else 'a main PID, and there is none'
            log(f'notify message from PID {pid} rejected (NotifyAccess=main, only {whom}): '
                f'{summary or "empty"}; closing {len(fds)} fds')
            return False
        log(f'notify message from PID {pid}{f" with {len(fds)} fds" if fds else ""}: '
            f'{summary or "empty"}')
        changed = False

        def find(prefix):
            return next((t[len(prefix):] for t in tags if t.startswith(prefix)), None)

        if find('MAINPID=') is not None:
            log('MAINPID= ignored: the main process stays the one started')
        # READY=/RELOADING=/STOPPING=: the last one in the message wins (252).
        for t in reversed(tags):
            if t == 'READY=1':
                if self.state in ('start', 'reload'):
                    log(f'PID {pid} is ready')
                    self.state = 'running'
                self.ready = not self.stopping
                changed = True
                break
            if t == 'RELOADING=1':
                if self.state == 'running':
                    log(f'PID {pid} is reloading')
                    self.state = 'reload'
                changed = True
                break
            if t == 'STOPPING=1':
                if self.state in ('running', 'reload', 'start'):
                    log(f'PID {pid} is stopping')
                    if self.state != 'start':
                        self.state = 'stop-sigterm'
                self.stopping = True
                self.ready = False
                changed = True
                break
        status = find('STATUS=')
        if status is not None:
            try:
                status.encode('utf-8')
                if len(status) > STATUS_TEXT_MAX:
                    log('STATUS= overly long: ignored')
                    status = ''
            except UnicodeEncodeError:
                log('STATUS= is not UTF-8 clean: ignored')
                status = ''
            if status != self.status_text:
                self.status_text = status
                changed = True
        value = find('ERRNO=')
        if value is not None:
            parsed = parse_errno(value)
            if parsed is None:
                log(f'cannot parse ERRNO={q(value)}: ignored')
            elif parsed != self.status_errno:
                self.status_errno = parsed
                changed = True

        if 'FDSTOREREMOVE=1' in tags:
            name = find('FDNAME=')
            if name is None or not fdname_is_valid(name):
                log('FDSTOREREMOVE=1 without a valid FDNAME=: ignored')
            else:
                gone = [e for e in self.store if e.name == name]
                for e in gone:
                    self.store_unlink(e)
                log(f'removed {len(gone)} fds named {q(name)} on request')
                changed = changed or bool(gone)
        elif 'FDSTORE=1' in tags:
            name = find('FDNAME=')
            if name is not None and not fdname_is_valid(name):
                log(f'FDNAME={q(name)} is invalid: ignored, the fds go in as "stored"')
                name = None
            name = 'stored' if name is None else name
            poll = 'FDPOLL=0' not in tags
            before = len(self.store)
            while fds:
                fd = fds.pop(0)
                if not self.store_add(fd, name, poll):
                    log(f'cannot store more than FileDescriptorStoreMax={self.fdstore_max} '
                        f'fds: closing {1 + len(fds)} of this message')
                    break
            log(f'stored {len(self.store) - before} new fds under {q(name)} '
                f'({"polled" if poll else "FDPOLL=0"}), {len(self.store)} in the store')
            changed = True
        if fds:
            log(f'{len(fds)} fds came without FDSTORE=1: closing them')
        return changed

    # -- the main process ----------------------------------------------------

    def start(self):
        now = time.monotonic()
        # unit_test_start_limit(): a fixed window from its first start.
        if self.limit_begin is None or now - self.limit_begin > self.interval:
            self.limit_begin, self.limit_count = now, 0
        self.limit_count += 1
        if self.burst > 0 and self.limit_count > self.burst:
            log(f'start request repeated too quickly ({self.burst} in {self.interval:g} s): '
                'refusing to start, the unit fails')
            self.finish('failed', 'start limit hit')
            return
        fds = ([self.listen.fileno()] if self.listen else []) + [e.fd for e in self.store]
        names = ([LISTEN_NAME] if self.listen else []) + [e.name for e in self.store]
        self.starts += 1
        self.status_text, self.status_errno = '', None  # service_start() resets both
        self.ready = self.stopping = False
        # Signals stay blocked across fork() until the child has default handlers,
        # so a SIGTERM sent right away is not eaten by our handler in the child.
        old = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        try:
            pid = os.fork()
        except OSError as e:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
            log(f'cannot fork: {e.strerror}')
            self.finish('failed', 'fork failed')
            return
        if pid == 0:
            try:
                self.exec_child(fds, names)
            except BaseException as e:  # never back into the manager's loop
                log(f'cannot set the child up: {e!r}')
            finally:
                os._exit(EXIT_EXEC)
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
        self.pid = pid
        self.state = 'start'
        self.restart_at = None
        log(f'started PID {pid} (start {self.starts}) with {len(fds)} fds'
            + (f': {":".join(names)}' if names else ''))
        self.write_status()

    def exec_child(self, fds, names):
        signal.set_wakeup_fd(-1)
        for sig in signal.valid_signals():
            try:
                signal.signal(sig, signal.SIG_DFL)
            except (OSError, ValueError):
                pass
        n = len(fds)
        # Move the fds above every target first so that dup2 never clobbers one.
        base = max(fds + [2 + n]) + 1
        tmp = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, base) for fd in fds]
        for i, fd in enumerate(tmp):
            os.dup2(fd, 3 + i, inheritable=True)
        os.closerange(3 + n, os.sysconf('SC_OPEN_MAX'))
        if self.listen:
            os.set_blocking(3, True)  # flags_fds(): NonBlocking=no for socket fds
        env = dict(os.environ)
        for key in ('LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES', 'WATCHDOG_PID', 'WATCHDOG_USEC'):
            env.pop(key, None)
        env['NOTIFY_SOCKET'] = self.notify_path
        if n:
            env['LISTEN_PID'] = str(os.getpid())
            env['LISTEN_FDS'] = str(n)
            env['LISTEN_FDNAMES'] = ':'.join(names)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        try:
            os.execvpe(self.command[0], self.command, env)
        except OSError as e:
            log(f'cannot execute {self.command[0]}: {e.strerror}')

    def reap(self):
        while True:
            try:
                pid, wstatus = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid != self.pid:
                log(f'reaped PID {pid}, not the main process')
                continue
            # Its last messages are queued ahead of its death: take them first.
            self.drain_notify()
            self.main_exited(pid, wstatus)

    def main_exited(self, pid, wstatus):
        code = os.WEXITSTATUS(wstatus) if os.WIFEXITED(wstatus) else None
        sig = os.WTERMSIG(wstatus) if os.WIFSIGNALED(wstatus) else None
        self.exits.append({'pid': pid, 'code': code, 'signal': sig})
        self.last_exit = code if code is not None else 128 + sig
        self.pid = 0
        self.ready = False
        self.kill_at = None
        how = (f'exited with status {code}' if code is not None
               else f'was killed by {signame(sig)}'
               + (' (core dumped)' if os.WCOREDUMP(wstatus) else ''))
        clean = (code == 0 or (sig in CLEAN_SIGNALS and not os.WCOREDUMP(wstatus)))
        if self.stop_requested:
            log(f'main PID {pid} {how} after the stop request')
            self.finish('dead' if clean else 'failed', 'stopped')
        elif clean:
            log(f'main PID {pid} {how}: a clean exit, no restart')
            self.finish('dead', 'clean exit')
        else:
            log(f'main PID {pid} {how}: restarting in {self.restart_sec:g} s '
                f'with {len(self.store)} stored fds')
            self.state = 'auto-restart'
            self.restart_at = time.monotonic() + self.restart_sec
            self.write_status()

    def finish(self, state, why):
        # The unit is inactive or failed: systemd 252 releases the store.
        self.state = state
        self.restart_at = None
        self.store_release(f'unit {state}')
        self.write_status()
        log(f'unit {state} ({why}): exiting with status {self.last_exit}')
        raise SystemExit(self.last_exit)

    def request_stop(self, sig):
        if self.stop_requested:
            log(f'{signame(sig)} again: already stopping')
            return
        self.stop_requested = True
        if not self.pid:
            log(f'{signame(sig)}: no main process, stopping')
            self.finish('dead' if self.last_exit == 0 else 'failed', 'stopped')
            return
        log(f'{signame(sig)}: stopping, SIGTERM to main PID {self.pid}')
        self.state = 'stop-sigterm'
        self.ready = False
        self.kill_at = time.monotonic() + TIMEOUT_STOP_SEC
        os.kill(self.pid, signal.SIGTERM)
        self.write_status()

    # -- the event loop -------------------------------------------------------

    def run(self):
        self.write_status()
        self.start()
        notify_fd = self.notify.fileno()
        while True:
            deadlines = [t for t in (self.restart_at, self.kill_at) if t is not None]
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else -1
            events = self.ep.poll(timeout)
            # Notify messages first, as systemd's event priorities do: every
            # event is level-triggered and comes back on the next poll.
            if any(fd == notify_fd for fd, _ in events):
                self.drain_notify()
                continue
            for fd, ev in events:
                entry = self.by_fd.get(fd)
                if entry is not None:
                    what = 'EPOLLERR' if ev & select.EPOLLERR else 'EPOLLHUP'
                    log(f'dropped stored fd {fd} ({q(entry.name)}) on {what}')
                    self.store_unlink(entry)
                    self.write_status()
            if any(fd == self.sig_r for fd, _ in events):
                sigs = set()
                try:
                    while True:
                        chunk = os.read(self.sig_r, 256)
                        if not chunk:
                            break
                        sigs.update(chunk)
                except BlockingIOError:
                    pass
                if signal.SIGCHLD in sigs:
                    self.reap()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    if sig in sigs:
                        self.request_stop(sig)
            now = time.monotonic()
            if self.kill_at is not None and now >= self.kill_at and self.pid:
                log(f'main PID {self.pid} still there {TIMEOUT_STOP_SEC:g} s after SIGTERM: SIGKILL')
                self.kill_at = None
                os.kill(self.pid, signal.SIGKILL)
            if self.restart_at is not None and now >= self.restart_at:
                self.restart_at = None
                log(f'restarting (start {self.starts + 1})')
                self.start()


def usage(msg=None):
    if msg:
        print(f'{PROG}: {msg}', file=sys.stderr)
    print('usage: fdstore-manager.py --dir DIR [--listen PATH] [--fdstore-max N] '
          '[--restart-sec S] [--start-limit-burst N] [--start-limit-interval S] '
          '-- COMMAND [ARGS...]', file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    if '--' not in argv:
        usage('no "--" before the command')
    split = argv.index('--')
    options, command = argv[:split], argv[split + 1:]
    if not command:
        usage('no command')
    opts = {'dir': None, 'listen': None, 'fdstore_max': 65536, 'restart_sec': 0.1,
            'start_limit_burst': 5, 'start_limit_interval': 10.0}
    kinds = {'--dir': ('dir', str), '--listen': ('listen', str),
             '--fdstore-max': ('fdstore_max', int), '--restart-sec': ('restart_sec', float),
             '--start-limit-burst': ('start_limit_burst', int),
             '--start-limit-interval': ('start_limit_interval', float)}
    i = 0
    while i < len(options):
        opt, value = options[i], None
        if '=' in opt:
            opt, value = opt.split('=', 1)
        elif i + 1 < len(options):
            value = options[i + 1]
            i += 1
        if opt not in kinds or value is None:
            usage(f'bad option {options[i]}')
        key, kind = kinds[opt]
        try:
            opts[key] = kind(value)
        except ValueError:
            usage(f'bad value for {opt}: {value}')
        if kind is not str and opts[key] < 0:
            usage(f'{opt} must not be negative')
        i += 1
    if not opts['dir']:
        usage('--dir is required')
    return opts, command


def main():
    opts, command = parse_args(sys.argv[1:])
    manager = Manager(opts, command)
    manager.setup()
    try:
        manager.run()
    finally:
        try:
            os.unlink(manager.notify_path)
        except OSError:
            pass


if __name__ == '__main__':
    main()

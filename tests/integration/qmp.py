#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A tiny QMP client for tests that drive a stock QEMU (standard library only).

usage: qmp.py [--timeout SECONDS] SOCKET COMMAND [JSON-ARGUMENTS]

Connects to QEMU's QMP unix socket SOCKET (-qmp unix:SOCKET,server=on,wait=off),
retrying for up to 10 s while the socket does not exist or refuses, reads the
greeting, negotiates capabilities (qmp_capabilities), runs COMMAND with the
JSON object JSON-ARGUMENTS as its "arguments", and prints the "return" value
as one line of JSON on stdout.

  qmp.py /tmp/qmp.sock query-pci
  qmp.py /tmp/qmp.sock device_del '{"id": "hostdev0"}'
  qmp.py /tmp/qmp.sock quit

Asynchronous events are skipped.  Every wait is bounded: each reply must come
within --timeout seconds (default 30).  For "quit", QEMU closing the
connection after the reply, or before it, is success (and prints {}).

Exit status: 0 on a "return"; 1 on an "error" reply (its class and
description on stderr, "qmp.py: CommandNotFound: The command foo has not
been found"), or when QEMU cannot be reached, closes the connection or does
not answer in time; 2 on a usage error.
"""

import errno
import json
import socket
import sys
import time

CONNECT_WAIT = 10.0
MAX_MESSAGE = 64 << 20


class QmpError(Exception):
    pass


class Closed(QmpError):
    pass


class ErrorReply(QmpError):
    """QEMU answered with {"error": {"class": ..., "desc": ...}}."""


def die(msg, code=1):
    print(f"qmp.py: {msg}", file=sys.stderr)
    sys.exit(code)


def connect(path):
    deadline = time.monotonic() + CONNECT_WAIT
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            s.connect(path)
            return s
        except OSError as e:
            s.close()
            retry = e.errno in (errno.ENOENT, errno.ECONNREFUSED, errno.EAGAIN)
            if not retry or time.monotonic() >= deadline:
                raise QmpError(f"cannot connect to {path}: {e.strerror or e}") from None
            time.sleep(0.05)


class Qmp:
    def __init__(self, sock, timeout):
        self.sock = sock
        self.timeout = timeout
        self.buf = b""
        self.next_id = 0

    def _line(self, deadline):
        """The next line QEMU sends, stripped."""
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise QmpError(f"no answer within {self.timeout:g} s")
            if len(self.buf) > MAX_MESSAGE:
                raise QmpError("message too long")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise Closed("QEMU closed the connection")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.strip()

    def _message(self, deadline):
        """The next JSON object QEMU sends (one per line)."""
        line = b""
        while not line:
            line = self._line(deadline)
        try:
            msg = json.loads(line)
        except ValueError as e:
            raise QmpError(f"bad JSON from QEMU: {e}: {line[:200]!r}") from None
        if not isinstance(msg, dict):
            raise QmpError(f"unexpected message from QEMU: {line[:200]!r}")
        return msg

    def greeting(self):
        deadline = time.monotonic() + self.timeout
        while True:
            msg = self._message(deadline)
            if "QMP" in msg:
                return msg
            if "event" not in msg:
                raise QmpError(f"expected the QMP greeting, got {msg!r}")

    def execute(self, command, arguments=None):
        """The command's "return" value; raises ErrorReply on an "error" reply."""
        self.next_id += 1
        req = {"execute": command, "id": self.next_id}
        if arguments is not None:
            req["arguments"] = arguments
        deadline = time.monotonic() + self.timeout
        self.sock.settimeout(self.timeout)
        try:
            self.sock.sendall(json.dumps(req).encode() + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            raise Closed("QEMU closed the connection") from None
        except socket.timeout:
            raise QmpError(f"cannot send within {self.timeout:g} s") from None
        while True:
            msg = self._message(deadline)
            if "event" in msg:
                continue
            # One request at a time: a reply without "id" (QEMU could not
            # parse the request) is ours too.
            if "id" in msg and msg["id"] != self.next_id:
                continue
            if "error" in msg:
                err = msg["error"] or {}
                raise ErrorReply(
                    f"{err.get('class', 'GenericError')}: {err.get('desc', '')}"
                )
            if "return" in msg:
                return msg["return"]
            raise QmpError(f"unexpected reply {msg!r}")


def main(argv):
    timeout = 30.0
    args = list(argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if args and (args[0] == "--timeout" or args[0].startswith("--timeout=")):
        if args[0] == "--timeout":
            if len(args) < 2:
                die("--timeout wants SECONDS", 2)
            value, args = args[1], args[2:]
        else:
            value, args = args[0].split("=", 1)[1], args[1:]
        try:
            timeout = float(value)
        except ValueError:
            die(f"--timeout wants SECONDS, got {value!r}", 2)
        if not timeout > 0:
            die("--timeout wants a positive number", 2)
    if len(args) not in (2, 3):
        die("usage: qmp.py [--timeout SECONDS] SOCKET COMMAND [JSON-ARGUMENTS]", 2)
    path, command = args[0], args[1]
    arguments = None
    if len(args) == 3:
        try:
            arguments = json.loads(args[2])
        except ValueError as e:
            die(f"JSON-ARGUMENTS is not JSON: {e}", 2)
        if not isinstance(arguments, dict):
            die("JSON-ARGUMENTS must be a JSON object", 2)

    try:
        sock = connect(path)
    except QmpError as e:
        die(str(e))
    qmp = Qmp(sock, timeout)
    try:
        qmp.greeting()
        qmp.execute("qmp_capabilities")
        try:
            ret = qmp.execute(command, arguments)
        except Closed:
            if command != "quit":
                raise
            ret = {}
    except ErrorReply as e:
        die(str(e))
    except QmpError as e:
        die(f"{command}: {e}")
    finally:
        sock.close()
    print(json.dumps(ret))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

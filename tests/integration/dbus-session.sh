#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A private dbus-daemon standing in for the system bus, so tests can run
# viommud with bus_mode system without touching the host's bus.
#
#   eval "$(dbus-session.sh start DIR)"   # sets DBUS_SYSTEM_BUS_ADDRESS, DBUS_DAEMON_PID
#   dbus-session.sh stop DIR
#
# The bus listens on DIR/system_bus_socket and allows everything: who may do
# what is viommud's own decision, and that is what the tests exercise.
set -eu

usage() {
	echo "usage: $0 start DIR | stop DIR" >&2
	exit 2
}

[ $# -eq 2 ] || usage
dir=$2

start() {
	command -v dbus-daemon >/dev/null 2>&1 || {
		echo "$0: dbus-daemon is not installed (Debian package dbus)" >&2
		exit 77 # meson's "skip"
	}
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	cat >"$dir/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
	# --fork: the daemon detaches once it listens, after printing both.
	out=$(dbus-daemon --config-file="$dir/bus.conf" --fork --nopidfile \
		--print-address=1 --print-pid=1 2>"$dir/dbus-daemon.log")
	address=$(echo "$out" | sed -n 1p)
	pid=$(echo "$out" | sed -n 2p)
	if [ -z "$address" ] || [ -z "$pid" ]; then
		echo "$0: dbus-daemon did not start:" >&2
		cat "$dir/dbus-daemon.log" >&2
		exit 1
	fi
	echo "$pid" >"$dir/dbus-daemon.pid"
	echo "DBUS_SYSTEM_BUS_ADDRESS=$address; export DBUS_SYSTEM_BUS_ADDRESS"
	echo "DBUS_DAEMON_PID=$pid"
}

stop() {
	[ -f "$dir/dbus-daemon.pid" ] || exit 0
	pid=$(cat "$dir/dbus-daemon.pid")
	kill "$pid" 2>/dev/null || true
	# Wait until it is gone, so the socket is free for the next test.
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	rm -f "$dir/dbus-daemon.pid" "$dir/system_bus_socket"
}

case $1 in
start) start ;;
stop) stop ;;
*) usage ;;
esac

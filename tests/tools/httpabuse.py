#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""httpabuse - misbehaving HTTP clients for tests/e2e/test_http.sh (standard library only).

  httpabuse.py big PORT line|header BYTES
      one request whose request line (or one header) is BYTES long; prints "status NNN",
      "closed" (the server closed or reset without answering) or "timeout"; exits 0 for a
      4xx or a close, 1 otherwise
  httpabuse.py flood PORT COUNT READY STOP
      open COUNT connections that send nothing; two seconds later write to READY how many
      the server still holds open and how many it closed ("held N closed N failed N"), then
      hold them until the file STOP appears (at most 60 s) and close them all
  httpabuse.py slow PORT COUNT SECONDS READY
      slowloris: COUNT connections each send a request line and then one more header line
      a second, never finishing, for SECONDS; READY gets "started N" once all are open;
      prints "open N closed N" at the end
"""
import os
import resource
import select
import socket
import sys
import time

HOST = "127.0.0.1"


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need + 64 if hard == resource.RLIM_INFINITY else min(hard, need + 64)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def server_closed(s):
    """True when the server has closed or reset @s (non-blocking peek)."""
    try:
        p = select.poll()  # not select(): descriptors past 1023
        p.register(s, select.POLLIN | select.POLLERR | select.POLLHUP)
        if not p.poll(0):
            return False
        return s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (ConnectionError, OSError):
        return True


def big(port, where, size):
    if where == "line":
        req = b"GET /metrics?" + b"a" * size + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    else:
        req = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n"
    s = socket.create_connection((HOST, port), timeout=5)
    try:
        try:
            s.sendall(req)
        except (ConnectionError, OSError):
            pass  # the server may stop reading and close before all is sent
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        print("timeout")
        return 1
    except (ConnectionError, OSError):
        data = b""
    finally:
        s.close()
    if not data:
        print("closed")
        return 0
    parts = data.split(b"\r\n", 1)[0].split()
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    print("status %d" % status)
    return 0 if 400 <= status < 500 else 1


def flood(port, count, ready, stop):
    raise_fd_limit(count)
    socks, failed = [], 0
    for _ in range(count):
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except OSError:  # out of descriptors: counted, not fatal
            failed += 1
            continue
        s.settimeout(5)
        try:
            s.connect((HOST, port))
            socks.append(s)
        except OSError:
            failed += 1
            s.close()
    time.sleep(2)
    closed = sum(1 for s in socks if server_closed(s))
    with open(ready + ".tmp", "w") as f:
        f.write("held %d closed %d failed %d\n" % (len(socks) - closed, closed, failed))
    os.rename(ready + ".tmp", ready)
    deadline = time.monotonic() + 60
    while not os.path.exists(stop) and time.monotonic() < deadline:
        time.sleep(0.1)
    for s in socks:
        s.close()
    return 0


def slow(port, count, seconds, ready):
    raise_fd_limit(count)
    socks = []
    for _ in range(count):
        try:
            s = socket.create_connection((HOST, port), timeout=5)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        except OSError:
            pass  # not started: the test compares the count with what it asked for
    with open(ready + ".tmp", "w") as f:
        f.write("started %d\n" % len(socks))
    os.rename(ready + ".tmp", ready)
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        time.sleep(1)
        i += 1
        for s in socks:
            try:
                s.sendall(b"X-Slow-%d: %d\r\n" % (i, i))
            except OSError:
                pass  # closed by the server: counted below
    closed = sum(1 for s in socks if server_closed(s))
    print("open %d closed %d" % (len(socks) - closed, closed))
    for s in socks:
        s.close()
    return 0


def main(argv):
    if len(argv) == 5 and argv[1] == "big":
        return big(int(argv[2]), argv[3], int(argv[4]))
    if len(argv) == 6 and argv[1] == "flood":
        return flood(int(argv[2]), int(argv[3]), argv[4], argv[5])
    if len(argv) == 6 and argv[1] == "slow":
        return slow(int(argv[2]), int(argv[3]), float(argv[4]), argv[5])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""slowread - slow /metrics readers on loopback, for tests/e2e/test_slow_readers.sh.

  slowread.py PORT COUNT EVERY RATE STOP

Opens COUNT connections to 127.0.0.1:PORT, one every EVERY seconds (so they ask at
different polls, each for a different page), each with a 4 KiB receive buffer; each sends
"GET /metrics", reads the response's header, then RATE bytes a second, until the server
closes it or the file STOP appears (at most 300 s). Prints one line at the end:
"opened N answered N cut N bytes N" - answered: the status line came; cut: the server
closed (or reset) the connection before the whole page (Content-Length) was read.
Loopback only; standard library only.
"""
import os
import resource
import socket
import sys
import time

HOST = "127.0.0.1"
TCP_CLOSE = 7  # tcpi_state after a reset (linux/tcp.h, enum tcp_state)


class Reader:
    def __init__(self, port):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.s.connect((HOST, port))
        self.s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        self.s.setblocking(False)
        self.head = b""
        self.length = None  # of the body, once the header is in
        self.body = 0
        self.done = False
        self.cut = False

    def reset(self):
        """True once the server reset the connection. A reset leaves the bytes already
        received readable first, which at RATE bytes a second would take minutes: the
        socket's TCP state says it at once."""
        try:
            info = self.s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
        except OSError:
            return True
        return info[0] == TCP_CLOSE

    def read(self, n):
        """Read up to n bytes; return how many were read."""
        if self.reset():
            self.close(cut=True)
            return 0
        if self.length is None:
            n = max(n, 1024)  # the header at once, the body at RATE
        try:
            data = self.s.recv(n)
        except BlockingIOError:
            return 0
        except OSError:
            data = b""
        if not data:
            self.close(cut=self.length is None or self.body < self.length)
            return 0
        if self.length is None:
            self.head += data
            if b"\r\n\r\n" in self.head:
                head, rest = self.head.split(b"\r\n\r\n", 1)
                self.length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        self.length = int(v.strip())
                self.body = len(rest)
        else:
            self.body += len(data)
        if self.length is not None and self.body >= self.length:
            self.close(cut=False)
        return len(data)

    def close(self, cut):
        if not self.done:
            self.done = True
            self.cut = cut
            self.s.close()


def main():
    port, count, every, rate, stop = (int(sys.argv[1]), int(sys.argv[2]),
                                      float(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))
    readers = []
    total = 0
    start = time.monotonic()
    next_open = start
    while not os.path.exists(stop) and time.monotonic() - start < 300:
        now = time.monotonic()
        if len(readers) < count and now >= next_open:
            try:
                readers.append(Reader(port))
            except OSError:
                pass  # refused: counted as not opened
            next_open += every
        # RATE bytes a second each, in ten slices
        for r in readers:
            if not r.done:
                total += r.read(max(1, rate // 10))
        time.sleep(0.1)
    for r in readers:
        r.close(cut=r.cut)
    answered = sum(1 for r in readers if r.length is not None)
    cut = sum(1 for r in readers if r.cut)
    print("opened %d answered %d cut %d bytes %d" % (len(readers), answered, cut, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Numbered UDP datagrams for the netns lab (tests/lab): a paced sender and a counting receiver.

Standard library only, so it runs in any lab namespace. Works for multicast groups (239.0.0.0/8
only, the lab's rule) and for unicast addresses.

  mcast.py send ADDR PORT COUNT [--pps N] [--size B] [--ttl T]
      sends COUNT datagrams whose first 8 bytes are a big-endian sequence number 0..COUNT-1,
      paced at N per second from an absolute schedule; prints "sent=COUNT".
  mcast.py recv ADDR PORT [--expect N] [--idle S] [--deadline S] [--dump FILE]
      joins ADDR if it is a group, prints "READY" once listening, then counts until it has N
      distinct sequence numbers, or S seconds pass without a datagram (after the first), or the
      deadline. Prints one line: "received=R unique=U inversions=I" where an inversion is a
      datagram whose number is below the highest already seen (it arrived out of order).
      --dump writes the distinct numbers received, one per line. SIGTERM ends the count early
      (its line printed all the same): a test ends a receiver that is to get nothing once the
      sender is done, rather than waiting out a deadline made long for a loaded host.
"""
import argparse
import ipaddress
import select
import signal
import socket
import struct
import sys
import time

SEQ = struct.Struct("!Q")


def check_addr(addr):
    ip = ipaddress.IPv4Address(addr)
    if ip.is_multicast and ip not in ipaddress.IPv4Network("239.0.0.0/8"):
        sys.exit("mcast.py: lab groups must be in 239.0.0.0/8, not %s" % addr)
    return ip.is_multicast


def send(a):
    group = check_addr(a.addr)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if group:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, a.ttl)
    pad = bytes(max(0, a.size - SEQ.size))
    start = time.monotonic()
    for i in range(a.count):
        if a.pps > 0:
            delay = start + i / a.pps - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        s.sendto(SEQ.pack(i) + pad, (a.addr, a.port))
    print("sent=%d" % a.count, flush=True)


class Stopped(Exception):
    """SIGTERM: end the count where it is."""


def on_term(*_):
    raise Stopped()


class Count:
    def __init__(self):
        self.seen = set()
        self.received = self.inversions = 0
        self.highest = -1

    def add(self, n):
        self.received += 1
        if n < self.highest:
            self.inversions += 1
        self.highest = max(self.highest, n)
        self.seen.add(n)


def count_until(a, s, c):
    end = time.monotonic() + a.deadline
    last = None
    while not (a.expect and len(c.seen) >= a.expect):
        now = time.monotonic()
        limit = end - now
        if last is not None:
            limit = min(limit, last + a.idle - now)
        if limit <= 0:
            return
        ready, _, _ = select.select([s], [], [], limit)
        if not ready:
            continue
        data = s.recv(65536)
        if len(data) < SEQ.size:
            continue
        last = time.monotonic()
        c.add(SEQ.unpack_from(data)[0])


def recv(a):
    group = check_addr(a.addr)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:  # root in the lab: a big buffer so the lab, not this socket, decides what is lost
        s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    if group:
        s.bind((a.addr, a.port))  # bound to the group: other groups' traffic stays out
        mreq = socket.inet_aton(a.addr) + socket.inet_aton("0.0.0.0")
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    else:
        s.bind(("0.0.0.0", a.port))
    c = Count()
    signal.signal(signal.SIGTERM, on_term)
    print("READY", flush=True)
    try:
        count_until(a, s, c)
    except Stopped:
        pass
    # Ignored, not default: a SIGTERM from rx_collect landing while the counts are written
    # would otherwise kill it silently, and the test would read no counts at all.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if a.dump:
        with open(a.dump, "w") as f:
            f.writelines("%d\n" % n for n in sorted(c.seen))
    print("received=%d unique=%d inversions=%d" % (c.received, len(c.seen), c.inversions),
          flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    ps = sub.add_parser("send")
    ps.add_argument("addr")
    ps.add_argument("port", type=int)
    ps.add_argument("count", type=int)
    ps.add_argument("--pps", type=float, default=2000)
    ps.add_argument("--size", type=int, default=200)
    ps.add_argument("--ttl", type=int, default=4)
    pr = sub.add_parser("recv")
    pr.add_argument("addr")
    pr.add_argument("port", type=int)
    pr.add_argument("--expect", type=int, default=0)
    pr.add_argument("--idle", type=float, default=1.0)
    pr.add_argument("--deadline", type=float, default=30.0)
    pr.add_argument("--dump")
    a = p.parse_args()
    send(a) if a.cmd == "send" else recv(a)


if __name__ == "__main__":
    main()

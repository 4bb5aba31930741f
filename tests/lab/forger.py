#!/usr/bin/env python3
"""tests/lab/forger.py: a host on the lab's LAN that spoils every FEC block
of every pass, for test-mcast-forger (issue 8, "No endless stall").

It listens to the session's group like a receiver. The first time it sees a
DATA packet of a block (chunk, block) -- and again whenever it sees that
block after --window seconds, so repairs and catch-up passes are spoiled too
-- it sends at once a forged copy of every packet index of that block (0 to
254: the k source packets and every parity packet), with the header of the
packet it saw (session, sequence, chunk, block, k, payload length) and
random payload bytes, from the server's own address (a raw socket with the
IPv4 header written here: receivers take DATA only from the server's
address). The server sends a block in bursts; the forged copies of the
indices it has not sent yet reach the receivers first, so each block
decodes to garbage and its chunk fails its hash: only the signed hashes and
the TCP fallback stand between such a host and a stalled receiver.

Stops after --duration seconds, or --idle seconds after DATA stopped. Prints
one JSON line of counters on stdout. Standard library only; needs root (raw
socket) and wire version 2.

  forger.py --spoof 10.77.0.1 --group 239.77.0.1:9000 [--window 0.05]
            [--duration 120] [--idle 5]
"""

import argparse
import json
import os
import select
import socket
import struct
import sys
import time

MAGIC = b"FLCT"
VERSION = 3
T_DATA = 5
DATA_HDR = 24  # common header (14) + chunk, block, index, k, length (10)


def checksum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ip_udp(src, dst, sport, dport, payload):
    """IPv4 + UDP headers, UDP checksum 0 (none, allowed over IPv4)."""
    total = 20 + 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 1, socket.IPPROTO_UDP, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spoof", required=True, help="the server's address, used as our source")
    ap.add_argument("--group", required=True, help="GROUP:PORT of the session's DATA")
    ap.add_argument("--window", type=float, default=0.05,
                    help="a block seen again after this many seconds is forged again")
    ap.add_argument("--duration", type=float, default=120)
    ap.add_argument("--idle", type=float, default=5, help="stop after DATA stopped this long")
    a = ap.parse_args()
    group, _, port = a.group.partition(":")
    port = int(port)

    mc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mc.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    mc.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    mc.bind((group, port))
    mc.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                  socket.inet_aton(group) + socket.inet_aton("0.0.0.0"))
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    noise = os.urandom(1 << 16)

    seen, forged, blocks, last_forged = 0, 0, 0, {}
    start = time.monotonic()
    last_data = None
    print("forger: listening on %s:%d, spoofing %s" % (group, port, a.spoof), file=sys.stderr,
          flush=True)
    while True:
        now = time.monotonic()
        if now - start > a.duration or (last_data is not None and now - last_data > a.idle):
            break
        r, _, _ = select.select([mc], [], [], 0.2)
        if not r:
            continue
        buf, src = mc.recvfrom(2048)
        if (len(buf) <= DATA_HDR or buf[:4] != MAGIC or buf[4] != VERSION or buf[5] != T_DATA or
                src[0] != a.spoof):
            continue
        seen += 1
        last_data = now
        chunk, block, index, k, ln = struct.unpack_from("<IHBBH", buf, 14)
        key = (chunk, block)
        if now - last_forged.get(key, -1e9) < a.window:
            continue
        last_forged[key] = now
        blocks += 1
        head = buf[:14]  # magic, version, type, session, the sequence it carried
        for i in range(255):
            off = (i * 251 + forged) % (len(noise) - ln)
            pkt = head + struct.pack("<IHBBH", chunk, block, i, k, ln) + noise[off:off + ln]
            try:
                raw.sendto(ip_udp(a.spoof, group, src[1], port, pkt), (group, 0))
                forged += 1
            except OSError:
                pass
    print(json.dumps({"data_seen": seen, "blocks_forged": blocks, "forged_data": forged}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

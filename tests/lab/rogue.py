#!/usr/bin/env python3
"""tests/lab/rogue.py: a hostile host on the lab's LAN, for test-mcast-rogue.

Learns a fleetcast session the way any host on the LAN can (a DISCOVER to the
server, the ANNOUNCE back: session id, group, ports, payload size, k max), then
listens to the session's group to follow the stream (the current DATA sequence
number and chunk) and, while DATA flows, sends:

  * forged DATA to the group: the right session id, a plausible sequence
    number, a chunk a little ahead of the one being sent, a block, index and k
    that agree with the cut of docs/protocol.md for that chunk (its comp_size
    from `fleetcast image info --json --chunks`), the right payload length,
    and random payload bytes: only the chunk hash can catch these;
  * garbage to the group and to the server's control port: random bytes, a
    wrong magic or version, an unknown type, truncated and oversized packets,
    DATA whose length field, k, block or index disagree with the packet or the
    cut, DATA of a foreign session, a NAK with no entries, a PROGRESS from
    receiver 0, a JOIN with a control character in its name, a DONE with an
    undefined flag.

Stops when DATA has stopped for --idle seconds (after having flowed), or after
--duration seconds. Prints one JSON line of counters on stdout.

Standard library only. Every integer little-endian, as the protocol says.

  rogue.py --server 10.77.0.1[:7650] --info info.json [--session HEX]
           [--pps 200] [--forge-share 0.25] [--ahead 2] [--per-block 1]
           [--duration 120] [--idle 3] [--seed N]

Each FEC block is forged at most --per-block times (0: no limit), so that a
correct implementation pays a repair per forgery and still finishes; without
a limit a rogue can keep spoiling blocks as fast as they are repaired, which
no unauthenticated protocol can prevent.
"""

import argparse
import json
import os
import random
import select
import socket
import struct
import sys
import time

MAGIC = b"FLCT"
VERSION = 1
T_DISCOVER, T_ANNOUNCE, T_JOIN, T_JOIN_ACK, T_DATA, T_NAK, T_PROGRESS, T_DONE = range(1, 9)
DISCOVERY_GROUP = "239.255.70.67"


def header(ptype, session, seq, magic=MAGIC, version=VERSION):
    return magic + struct.pack("<BBII", version, ptype, session & 0xFFFFFFFF, seq & 0xFFFFFFFF)


def cut(comp_size, payload, kmax):
    """The cut of docs/protocol.md (fc_blocks_init): symbol size, source
    packets, and each block's k."""
    s = min(payload, comp_size)
    n = -(-comp_size // s)
    b = -(-n // kmax)
    ks = [n // b + (1 if j < n % b else 0) for j in range(b)]
    return s, n, ks


def data_packet(session, seq, chunk, block, index, k, payload, length=None):
    ln = len(payload) if length is None else length
    return header(T_DATA, session, seq) + struct.pack("<IHBBH", chunk, block, index, k, ln) + payload


def discover(sock, server, timeout):
    """DISCOVER to the server until an ANNOUNCE with our nonce comes back."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        nonce = random.getrandbits(64)
        pkt = header(T_DISCOVER, 0, 0) + struct.pack("<Q", nonce) + bytes(28)
        sock.sendto(pkt, server)
        wait_end = time.monotonic() + 0.5
        while time.monotonic() < wait_end:
            r, _, _ = select.select([sock], [], [], max(0.0, wait_end - time.monotonic()))
            if not r:
                break
            buf, _ = sock.recvfrom(2048)
            if len(buf) != 50 or buf[:4] != MAGIC or buf[5] != T_ANNOUNCE:
                continue
            (session,) = struct.unpack_from("<I", buf, 6)
            (got_nonce,) = struct.unpack_from("<Q", buf, 14)
            if got_nonce != nonce:
                continue
            group = socket.inet_ntoa(buf[38:42])
            data_port, ctrl_port, payload = struct.unpack_from("<HHH", buf, 42)
            kmax, state = buf[48], buf[49]
            return dict(session=session, group=group, data_port=data_port, ctrl_port=ctrl_port,
                        payload=payload, kmax=kmax, state=state)
    return None


def serial_after(a, b):
    return 0 < ((a - b) & 0xFFFFFFFF) < 0x80000000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True, help="ADDR[:PORT] of fleetcastd's control port")
    ap.add_argument("--info", required=True, help="`fleetcast image info --json --chunks` output")
    ap.add_argument("--session", help="session id in hex (default: learn it by DISCOVER)")
    ap.add_argument("--pps", type=float, default=200, help="packets per second, all kinds")
    ap.add_argument("--forge-share", type=float, default=0.25, help="share of forged DATA")
    ap.add_argument("--ahead", type=int, default=2, help="forge for chunks up to this far ahead")
    ap.add_argument("--per-block", type=int, default=1, help="forgeries per block at most (0: any)")
    ap.add_argument("--duration", type=float, default=120)
    ap.add_argument("--idle", type=float, default=3, help="stop after DATA stopped this long")
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    random.seed(a.seed)

    host, _, port = a.server.partition(":")
    server = (host, int(port or 7650))
    with open(a.info) as f:
        chunks = [c["comp_size"] for c in json.load(f)["chunks"]]

    ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ctl.bind(("", 0))
    ann = discover(ctl, server, 15)
    if ann is None and a.session is None:
        print("rogue: no ANNOUNCE from %s:%d" % server, file=sys.stderr)
        return 2
    if ann is None:
        ann = dict(group="239.77.0.1", data_port=9000, ctrl_port=server[1], payload=1448, kmax=200)
    session = int(a.session, 16) if a.session else ann["session"]
    print("rogue: session %08x group %s:%d payload %d k max %d" %
          (session, ann["group"], ann["data_port"], ann["payload"], ann["kmax"]),
          file=sys.stderr, flush=True)
    group = (ann["group"], ann["data_port"])
    ctrl = (server[0], ann["ctrl_port"])
    payload, kmax = ann["payload"], ann["kmax"]
    cuts = [cut(c, payload, kmax) for c in chunks]

    # Listen to the group like a receiver, to follow the stream.
    mc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mc.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    mc.bind(("", ann["data_port"]))
    mc.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                  socket.inet_aton(ann["group"]) + socket.inet_aton("0.0.0.0"))
    mc.setblocking(False)
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    out.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)

    n = dict(forged_data=0, garbage_group=0, garbage_server=0, data_seen=0, send_errors=0)
    max_seq, cur_chunk, t_last_data = None, 0, None
    garbage_kind = 0
    forged = {}  # (chunk, block) -> forgeries sent
    my_seq = rnd.getrandbits(32)

    def send(pkt, dest, counter):
        try:
            out.sendto(pkt, dest)
            n[counter] += 1
        except OSError:
            n["send_errors"] += 1

    def garbage():
        """One garbage packet of the next kind, to the group or the server."""
        nonlocal garbage_kind, my_seq
        garbage_kind += 1
        my_seq += 1
        kind = garbage_kind % 14
        c = rnd.randrange(len(chunks))
        s, _, ks = cuts[c]
        b = rnd.randrange(len(ks))
        k = ks[b]
        body = os.urandom(s)
        seq = (max_seq or 0) + 1
        if kind == 0:
            return os.urandom(rnd.randrange(1, 1473)), group
        if kind == 1:
            return header(T_DATA, session, seq, magic=b"FLCX") + os.urandom(30), group
        if kind == 2:
            return header(T_DATA, session, seq, version=2) + os.urandom(30), ctrl
        if kind == 3:
            return header(99, session, seq) + os.urandom(20), group
        if kind == 4:  # truncated DATA
            return data_packet(session, seq, c, b, 0, k, body)[:19], group
        if kind == 5:  # length field says more than there is
            return data_packet(session, seq, c, b, 0, k, body[:100], length=200), group
        if kind == 6:  # k disagrees with the cut
            return data_packet(session, seq, c, b, 0, k % 200 + 1, body), group
        if kind == 7:  # block out of range
            return data_packet(session, seq, c, len(ks) + 3, 0, k, body), group
        if kind == 8:  # index 255 does not exist
            return data_packet(session, seq, c, b, 255, k, body), group
        if kind == 9:  # a foreign session
            return data_packet(session ^ 0x5A5A5A5A, seq, c, b, 0, k, body), group
        if kind == 10:  # NAK with count 0
            return header(T_NAK, session, my_seq) + struct.pack("<IIB", 1, seq, 0), group
        if kind == 11:  # PROGRESS from receiver 0
            return header(T_PROGRESS, session, my_seq) + bytes(185), ctrl
        if kind == 12:  # JOIN with a control character in the name
            name = b"ev\x1bil"
            return (header(T_JOIN, session, my_seq) + struct.pack("<Q", rnd.getrandbits(64)) +
                    bytes(16) + struct.pack("<QIB", 1 << 40, 0, len(name)) + name), ctrl
        # DONE with an undefined flag bit, and an oversized datagram (fragmented)
        if rnd.random() < 0.5:
            return (header(T_DONE, session, my_seq) + struct.pack("<IBBQ", 1, 0x80, 0, 0) +
                    bytes(32)), ctrl
        return header(T_DATA, session, seq) + os.urandom(2000), rnd.choice([group, ctrl])

    start = time.monotonic()
    interval = 1.0 / a.pps
    next_send = start
    while True:
        now = time.monotonic()
        if now - start > a.duration:
            break
        if t_last_data is not None and now - t_last_data > a.idle:
            break
        # Follow the stream.
        while True:
            try:
                buf = mc.recv(2048)
            except BlockingIOError:
                break
            if len(buf) < 24 or buf[:4] != MAGIC or buf[4] != VERSION or buf[5] != T_DATA:
                continue
            sess, seq = struct.unpack_from("<II", buf, 6)
            if sess != session:
                continue
            n["data_seen"] += 1
            t_last_data = time.monotonic()
            if max_seq is None or serial_after(seq, max_seq):
                max_seq = seq
                (cur_chunk,) = struct.unpack_from("<I", buf, 14)
        if max_seq is None:  # the session has not started yet
            r, _, _ = select.select([mc], [], [], 0.05)
            next_send = time.monotonic()
            continue
        if now < next_send:
            select.select([mc], [], [], min(next_send - now, 0.05))
            continue
        next_send += interval
        if rnd.random() < a.forge_share:
            # Forged DATA for a chunk just ahead of the stream: it gets there
            # before the real packet does, so a receiver takes it.
            c = (cur_chunk + rnd.randint(1, max(1, a.ahead))) % len(chunks)
            s, _, ks = cuts[c]
            b = rnd.randrange(len(ks))
            k = ks[b]
            if a.per_block and forged.get((c, b), 0) >= a.per_block:
                continue
            forged[(c, b)] = forged.get((c, b), 0) + 1
            idx = rnd.randrange(k) if rnd.random() < 0.8 else rnd.randrange(k, min(255, k + 60))
            send(data_packet(session, max_seq + 1, c, b, idx, k, os.urandom(s)), group,
                 "forged_data")
        else:
            pkt, dest = garbage()
            send(pkt, dest, "garbage_group" if dest == group else "garbage_server")

    n["session"] = "%08x" % session
    n["blocks_forged"] = len(forged)
    print(json.dumps(n), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

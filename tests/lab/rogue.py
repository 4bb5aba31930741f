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

Wire version 2 (proto/packet.h). Receivers count DATA only from the server's
address, so the forged DATA goes out with the server's source address and port
(learnt from the real stream) through a raw socket (IP_HDRINCL, needs root):
any host on a LAN without source filtering can do the same. --no-spoof sends it
from our own address instead (receivers then reject it before any decode).
Control packets that v2 authenticates (PROGRESS, NAK, DONE, ABORT) carry a
random 16-byte tag here: the point is that they are rejected.

Standard library only. Every integer little-endian, as the protocol says.
The wire helpers (header, cut, discover, spoofed sends) are also used by
tests/lab/hostile.py.

  rogue.py --server 10.77.0.1[:7650] --info info.json [--session HEX]
           [--pps 200] [--forge-share 0.25] [--ahead 2] [--per-block 1]
           [--duration 120] [--idle 3] [--seed N] [--no-spoof]

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
VERSION = 3
(T_DISCOVER, T_ANNOUNCE, T_JOIN, T_JOIN_ACK, T_DATA, T_NAK, T_PROGRESS, T_DONE,
 T_ABORT) = range(1, 10)
DISCOVERY_GROUP = "239.255.70.67"
HDR_LEN = 14
ID_LEN = 16
TAG_LEN = 16
ANNOUNCE_LEN = HDR_LEN + 8 + ID_LEN + 4 + 2 + 2 + 2 + 1 + 1 + 1 + 32
# DISCOVER is padded to ANNOUNCE's size (proto/discover.c); the first v2
# servers padded to v1's: send both, the server drops the other as malformed.
DISCOVER_PADS = (ANNOUNCE_LEN - HDR_LEN - 8, 28)


def fake_tag():
    """A tag we cannot compute (we do not know the receiver's secret)."""
    return os.urandom(TAG_LEN)


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


def parse_announce(buf):
    """ANNOUNCE (proto/discover.c): nonce, image id, group, data port,
    control port, payload size, k max, state, flags, signer."""
    if len(buf) != ANNOUNCE_LEN or buf[:4] != MAGIC or buf[4] != VERSION or buf[5] != T_ANNOUNCE:
        return None
    (session,) = struct.unpack_from("<I", buf, 6)
    (nonce,) = struct.unpack_from("<Q", buf, 14)
    o = 22
    image_id = buf[o:o + ID_LEN]
    o += ID_LEN
    group = socket.inet_ntoa(buf[o:o + 4])
    data_port, ctrl_port, payload = struct.unpack_from("<HHH", buf, o + 4)
    kmax, state, flags = buf[o + 10], buf[o + 11], buf[o + 12]
    signer = buf[o + 13:o + 45]
    return dict(session=session, nonce=nonce, image_id=image_id, group=group,
                data_port=data_port, ctrl_port=ctrl_port, payload=payload, kmax=kmax,
                state=state, flags=flags, signer=signer)


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Spoofer:
    """UDP datagrams with any source address and port, through a raw socket
    (IP_HDRINCL): what any host on a LAN without source filtering can send.
    The kernel fills in the IP checksum; we compute the UDP one."""

    def __init__(self, ttl=1):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        self.ttl = ttl

    def send(self, payload, src, dst):
        sip, dip = socket.inet_aton(src[0]), socket.inet_aton(dst[0])
        ulen = 8 + len(payload)
        pseudo = sip + dip + struct.pack("!BBH", 0, 17, ulen)
        udp = struct.pack("!HHHH", src[1], dst[1], ulen, 0) + payload
        c = _csum(pseudo + udp) or 0xFFFF
        udp = udp[:6] + struct.pack("!H", c) + udp[8:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, random.getrandbits(16), 0x4000,
                         self.ttl, 17, 0, sip, dip)
        self.sock.sendto(ip + udp, (dst[0], 0))


def discover(sock, server, timeout):
    """DISCOVER to the server until an ANNOUNCE with our nonce comes back."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        nonce = random.getrandbits(64)
        for pad in DISCOVER_PADS:
            sock.sendto(header(T_DISCOVER, 0, 0) + struct.pack("<Q", nonce) + bytes(pad), server)
        wait_end = time.monotonic() + 0.5
        while time.monotonic() < wait_end:
            r, _, _ = select.select([sock], [], [], max(0.0, wait_end - time.monotonic()))
            if not r:
                break
            buf, _ = sock.recvfrom(2048)
            ann = parse_announce(buf)
            if ann is None or ann["nonce"] != nonce:
                continue
            return ann
    return None


def group_sockets(ann):
    """A non-blocking socket on the session's group, to follow the stream
    like a receiver, and one to send from (TTL 1, no loopback)."""
    mc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mc.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    mc.bind(("", ann["data_port"]))
    mc.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                  socket.inet_aton(ann["group"]) + socket.inet_aton("0.0.0.0"))
    mc.setblocking(False)
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    out.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    return mc, out


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
    ap.add_argument("--no-spoof", action="store_true",
                    help="send forged DATA from our own address (receivers drop it unread)")
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

    mc, out = group_sockets(ann)
    spoof = None if a.no_spoof else Spoofer()
    data_src = None  # the server's DATA source (address, port), from the stream

    n = dict(forged_data=0, garbage_group=0, garbage_server=0, data_seen=0, send_errors=0,
             spoofed=0)
    max_seq, cur_chunk, t_last_data = None, 0, None
    garbage_kind = 0
    forged = {}  # (chunk, block) -> forgeries sent
    my_seq = rnd.getrandbits(32)

    def send(pkt, dest, counter, src=None):
        try:
            if src and spoof:
                spoof.send(pkt, src, dest)
                n["spoofed"] += 1
            else:
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
        if kind == 2:  # the previous wire version
            return header(T_DATA, session, seq, version=1) + os.urandom(30), ctrl
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
            return (header(T_NAK, session, my_seq) + struct.pack("<IIB", 1, seq, 0) +
                    fake_tag()), group
        if kind == 11:  # PROGRESS from receiver 0
            # the fields and an empty window's length byte, all zero
            return header(T_PROGRESS, session, my_seq) + bytes(66) + fake_tag(), ctrl
        if kind == 12:  # JOIN with a control character in the name
            name = b"ev\x1bil"
            return (header(T_JOIN, session, my_seq) + struct.pack("<Q", rnd.getrandbits(64)) +
                    bytes(ID_LEN) + struct.pack("<QI", 1 << 40, 0) + os.urandom(32) +
                    struct.pack("<IB", 0, len(name)) + name), ctrl
        # DONE with an undefined flag bit, and an oversized datagram (fragmented)
        if rnd.random() < 0.5:
            return (header(T_DONE, session, my_seq) + struct.pack("<IBBQ", 1, 0x80, 0, 0) +
                    bytes(32) + fake_tag()), ctrl
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
                buf, src = mc.recvfrom(2048)
            except BlockingIOError:
                break
            if len(buf) < 24 or buf[:4] != MAGIC or buf[4] != VERSION or buf[5] != T_DATA:
                continue
            sess, seq = struct.unpack_from("<II", buf, 6)
            if sess != session:
                continue
            n["data_seen"] += 1
            data_src = src
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
                 "forged_data", src=data_src)
        else:
            pkt, dest = garbage()
            send(pkt, dest, "garbage_group" if dest == group else "garbage_server")

    n["session"] = "%08x" % session
    n["blocks_forged"] = len(forged)
    print(json.dumps(n), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""tests/lab/hostile.py: a hostile host on the lab's LAN, for the issue 8 tests
(test-mcast-seqbomb, test-mcast-spoof, test-mcast-flood).

It learns what any host on the LAN learns: the session from a DISCOVER to the
server (ANNOUNCE: session id, group, ports, cut), the stream from the group
(the current DATA sequence number and chunk, the server's DATA source address
and port), and the receivers from their NAKs to the group (each NAK carries a
receiver id and comes from that receiver's address and data port). Then, once
the stream has passed --at (a fraction of the image's chunks), one of:

  seqbomb  --count N DATA packets (default 1) whose header is right (session,
           type, a chunk/block/index/k/len that fit the cut) but whose seq is
           --jump (default 1000000) ahead of the stream, sent with the
           server's source address and port (raw socket, IP_HDRINCL).
  control  --rounds rounds, one a second, of: for every receiver learnt, a
           DONE with the image's right check value (--check HEX), a PROGRESS
           with a huge seq saying "done, nothing lost", an ABORT, all sent to
           the server's control port from that receiver's address (spoofed);
           ABORTs from the server's address and control port sprayed over
           each receiver's ports (--ports IP:PORT,... known ones, each +-
           --spray ports); JOINs named --victim-name (a victim's MAC) from the
           victim's address (--victim-ip, spoofed) and from our own.
  flood    NAKs of 32 entries (needed = k, no bitmap, a seq_seen far in the
           future, random receiver ids, and some learnt ids) at --nak-pps to
           the group, and --joins JOINs with random names at --join-pps (half
           from our own address, half from spoofed ones) to the server.

Every authenticated packet (PROGRESS, NAK, DONE, ABORT) carries a random tag:
we do not know any receiver's secret; the point is that they are rejected.
Prints "hostile: session ..." once the session is known, "hostile: attack
started" when the attack begins, and one JSON line of counters at the end.
Stops when DATA has stopped for --idle seconds, or after --duration.
Standard library only; needs root for the raw socket.
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

from rogue import (MAGIC, VERSION, T_DATA, T_NAK, T_PROGRESS, T_DONE, T_ABORT, T_JOIN, ID_LEN,
                   Spoofer, cut, data_packet, discover, fake_tag, group_sockets, header,
                   serial_after)

REASON_OPERATOR, REASON_WRITE, REASON_REJOIN = 1, 6, 8
RX_DONE = 5


def nak_packet(session, seq, rid, seq_seen, entries):
    body = struct.pack("<IIB", rid, seq_seen & 0xFFFFFFFF, len(entries))
    for chunk, block, k, needed in entries:
        body += struct.pack("<IHBBB", chunk, block, k, needed, 0)
    return header(T_NAK, session, seq) + body + fake_tag()


def done_packet(session, seq, rid, disk_size, check):
    return (header(T_DONE, session, seq) + struct.pack("<IBBQ", rid, 0, 0, disk_size) + check +
            fake_tag())


def progress_packet(session, seq, rid, n_chunks, disk_size):
    body = struct.pack("<IBIIIII", rid, RX_DONE, n_chunks, n_chunks, n_chunks, seq, 0)
    # the window: its length byte, 0 (nothing past the base; trailing zero bytes are not sent)
    body += struct.pack("<QQQQQ", disk_size, 100 << 20, 10 << 20, 0, 0) + bytes(1)
    return header(T_PROGRESS, session, seq) + body + fake_tag()


def abort_packet(session, seq, rid, reason, text=b"forged by hostile.py"):
    return (header(T_ABORT, session, seq) + struct.pack("<IBB", rid, reason, len(text)) + text +
            fake_tag())


def join_packet(session, seq, name, image_id, target_size, prev_id=0):
    name = name.encode()[:64]
    pkt = (header(T_JOIN, session, seq) + struct.pack("<Q", random.getrandbits(64)) + image_id +
           struct.pack("<QI", target_size, 0) + os.urandom(32) + struct.pack("<IB", prev_id,
                                                                            len(name)) + name)
    return pkt + (fake_tag() if prev_id else b"")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["seqbomb", "control", "flood"])
    ap.add_argument("--server", required=True, help="ADDR[:PORT] of fleetcastd's control port")
    ap.add_argument("--info", required=True, help="`fleetcast image info --json --chunks` output")
    ap.add_argument("--at", type=float, default=0.3, help="start when the stream is this far")
    ap.add_argument("--duration", type=float, default=200)
    ap.add_argument("--idle", type=float, default=4, help="stop after DATA stopped this long")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--jump", type=int, default=1000000, help="seqbomb: how far ahead")
    ap.add_argument("--count", type=int, default=1, help="seqbomb: packets")
    ap.add_argument("--check", help="control: the whole-disk check value, hex")
    ap.add_argument("--rounds", type=int, default=5, help="control: rounds, one a second")
    ap.add_argument("--ports", default="", help="control: IP:PORT,... receivers' known ports")
    ap.add_argument("--spray", type=int, default=200, help="control: ports each side of a known one")
    ap.add_argument("--victim-ip", help="control: the victim's address")
    ap.add_argument("--victim-name", help="control: the name for JOINs (the victim's MAC)")
    ap.add_argument("--nak-pps", type=float, default=100, help="flood: NAKs per second")
    ap.add_argument("--joins", type=int, default=1024, help="flood: JOINs in all")
    ap.add_argument("--join-pps", type=float, default=200, help="flood: JOINs per second")
    a = ap.parse_args()
    random.seed(a.seed)
    rnd = random.Random(a.seed)

    host, _, port = a.server.partition(":")
    server = (host, int(port or 7650))
    with open(a.info) as f:
        info = json.load(f)
    chunks = [c["comp_size"] for c in info["chunks"]]
    disk_size = info["disk_size"]
    image_id = bytes.fromhex(info["image_id"])
    if len(image_id) != ID_LEN:
        print("hostile: bad image id in %s" % a.info, file=sys.stderr)
        return 2

    ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ctl.bind(("", 0))
    ann = discover(ctl, server, 20)
    if ann is None:
        print("hostile: no ANNOUNCE from %s:%d" % server, file=sys.stderr)
        return 2
    session = ann["session"]
    print("hostile: session %08x group %s:%d ctrl %d" % (session, ann["group"], ann["data_port"],
                                                         ann["ctrl_port"]),
          file=sys.stderr, flush=True)
    group = (ann["group"], ann["data_port"])
    ctrl = (server[0], ann["ctrl_port"])
    cuts = [cut(c, ann["payload"], ann["kmax"]) for c in chunks]
    check = bytes.fromhex(a.check) if a.check else bytes(32)

    mc, out = group_sockets(ann)
    spoof = Spoofer()

    n = dict(mode=a.mode, session="%08x" % session, data_seen=0, naks_seen=0, sent=0,
             spoofed=0, send_errors=0)
    rx = {}  # receiver id -> (address, data port), from their NAKs
    known_ports = []
    for item in filter(None, a.ports.split(",")):
        ip, _, p = item.rpartition(":")
        known_ports.append((ip, int(p)))
    st = dict(max_seq=None, chunk=0, src=None, last=None)
    my_seq = rnd.getrandbits(31)

    def nseq():
        nonlocal my_seq
        my_seq = (my_seq + 1) & 0xFFFFFFFF
        return my_seq

    def send(pkt, dst, src=None, what="sent"):
        try:
            if src:
                spoof.send(pkt, src, dst)
                n["spoofed"] += 1
            else:
                out.sendto(pkt, dst)
            n["sent"] += 1
            n[what] = n.get(what, 0) + 1
        except OSError:
            n["send_errors"] += 1

    def follow():
        while True:
            try:
                buf, src = mc.recvfrom(2048)
            except BlockingIOError:
                return
            if len(buf) < 24 or buf[:4] != MAGIC or buf[4] != VERSION:
                continue
            sess, seq = struct.unpack_from("<II", buf, 6)
            if sess != session:
                continue
            if buf[5] == T_DATA:
                n["data_seen"] += 1
                st["last"] = time.monotonic()
                st["src"] = src
                if st["max_seq"] is None or serial_after(seq, st["max_seq"]):
                    st["max_seq"] = seq
                    (st["chunk"],) = struct.unpack_from("<I", buf, 14)
            elif buf[5] == T_NAK:
                n["naks_seen"] += 1
                (rid,) = struct.unpack_from("<I", buf, 14)
                if src[0] != socket.inet_ntoa(b"\0\0\0\0") and rid not in rx:
                    rx[rid] = src
                    print("hostile: receiver %08x at %s:%d" % (rid, src[0], src[1]),
                          file=sys.stderr, flush=True)

    def wait(t):
        end = time.monotonic() + t
        while True:
            follow()
            left = end - time.monotonic()
            if left <= 0:
                return
            select.select([mc], [], [], min(left, 0.02))

    start = time.monotonic()

    def over():
        now = time.monotonic()
        return now - start > a.duration or (st["last"] is not None and now - st["last"] > a.idle)

    # Until the stream is far enough.
    while not over():
        wait(0.05)
        if st["max_seq"] is not None and st["chunk"] >= a.at * len(chunks):
            break
    if over():
        print(json.dumps(n), flush=True)
        return 3
    n["at_chunk"] = st["chunk"]
    print("hostile: attack started at chunk %d of %d, seq %d" % (st["chunk"], len(chunks),
                                                                st["max_seq"]),
          file=sys.stderr, flush=True)

    if a.mode == "seqbomb":
        for i in range(a.count):
            c = (st["chunk"] + 1 + i) % len(chunks)
            s, _, ks = cuts[c]
            seq = (st["max_seq"] + a.jump + i) & 0xFFFFFFFF
            pkt = data_packet(session, seq, c, 0, 0, ks[0], os.urandom(s))
            send(pkt, group, src=st["src"], what="bombs")
            n.setdefault("bomb_seqs", []).append(seq)
        print("hostile: sent %d DATA with seq +%d" % (a.count, a.jump), file=sys.stderr,
              flush=True)
    elif a.mode == "control":
        for r in range(a.rounds):
            if over():
                break
            ids = dict(rx)
            for rid, (ip, dport) in ids.items():
                sports = [dport] + [p for (kip, p) in known_ports if kip == ip]
                for sp in sports:
                    src = (ip, sp)
                    send(done_packet(session, nseq(), rid, disk_size, check), ctrl, src, "done")
                    send(progress_packet(session, rnd.choice([0xFFFFFFF0, nseq() + (1 << 30)]),
                                         rid, len(chunks), disk_size), ctrl, src, "progress")
                    send(abort_packet(session, nseq(), rid, REASON_WRITE), ctrl, src,
                         "abort_to_server")
            # ABORT sprayed over the receivers' ports, from the server's control port.
            by_ip = {}
            for rid, (ip, dport) in ids.items():
                by_ip.setdefault(ip, set()).add(dport)
            for ip, p in known_ports:
                by_ip.setdefault(ip, set()).add(p)
            ip_rid = {ip: rid for rid, (ip, _) in ids.items()}
            for ip, ports in by_ip.items():
                targets = set()
                for p in ports:
                    targets.update(q for q in range(p - a.spray, p + a.spray + 1) if 0 < q < 65536)
                for q in sorted(targets):
                    rid = ip_rid.get(ip) or rnd.getrandbits(32) or 1
                    reason = REASON_REJOIN if q in ports and r == 0 else REASON_OPERATOR
                    send(abort_packet(session, nseq(), rid, reason), (ip, q), ctrl,
                         "abort_sprayed")
            # JOINs named after the victim.
            if a.victim_name:
                for _ in range(4):
                    if a.victim_ip:
                        send(join_packet(session, nseq(), a.victim_name, image_id, disk_size),
                             ctrl, (a.victim_ip, rnd.randrange(32768, 61000)), "join_victim")
                    send(join_packet(session, nseq(), a.victim_name, image_id, disk_size), ctrl,
                         None, "join_victim")
                vid = next((rid for rid, (ip, _) in ids.items() if ip == a.victim_ip), 0)
                if vid and a.victim_ip:
                    send(join_packet(session, nseq(), a.victim_name, image_id, disk_size, vid),
                         ctrl, (a.victim_ip, ids[vid][1]), "join_victim")
            print("hostile: round %d: %s" % (r + 1, json.dumps(n)), file=sys.stderr, flush=True)
            wait(1.0)
    else:  # flood
        nak_every, join_every = 1.0 / a.nak_pps, 1.0 / a.join_pps
        next_nak = next_join = time.monotonic()
        joins = 0
        print("hostile: flood started", file=sys.stderr, flush=True)
        while not over():
            now = time.monotonic()
            if now >= next_nak:
                next_nak += nak_every
                entries, used = [], set()
                while len(entries) < 32:
                    c = rnd.randrange(len(chunks))
                    ks = cuts[c][2]
                    b = rnd.randrange(len(ks))
                    if (c, b) in used:
                        continue
                    used.add((c, b))
                    entries.append((c, b, ks[b], ks[b]))
                ids = list(rx)
                rid = rnd.choice(ids) if ids and rnd.random() < 0.25 else rnd.getrandbits(32) or 1
                fut = (st["max_seq"] or 0) + rnd.randrange(1 << 20, 1 << 30)
                send(nak_packet(session, nseq(), rid, fut, entries), group, None, "naks")
            if joins < a.joins and now >= next_join:
                next_join += join_every
                joins += 1
                name = "bogus-%06x" % rnd.getrandbits(24)
                src = None
                if joins % 2:
                    src = ("10.77.1.%d" % rnd.randrange(100, 250), rnd.randrange(1024, 65535))
                send(join_packet(session, nseq(), name, image_id, disk_size), ctrl, src, "joins")
                if joins == a.joins:
                    print("hostile: %d JOINs sent" % joins, file=sys.stderr, flush=True)
            wait(max(0.0, min(next_nak, next_join if joins < a.joins else next_nak) -
                     time.monotonic()))
    while not over():
        wait(0.2)
    n["receivers_learnt"] = len(rx)
    print(json.dumps(n), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

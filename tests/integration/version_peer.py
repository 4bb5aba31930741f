#!/usr/bin/env python3
"""A peer of another wire version (docs/protocol.md, "Versioning").

  version_peer.py ask SERVER:PORT TYPE VERSION : send a packet of TYPE (discover|join) with our
      magic and VERSION to fleetcastd's control port; print the answer's length, version and
      type as JSON (or {} when none comes within 3 s).
  version_peer.py serve PORT VERSION SECONDS : answer every DISCOVER or JOIN that arrives on
      PORT with a version refusal of VERSION (the 14-byte header alone), for SECONDS.
"""
import json
import socket
import struct
import sys
import time

MAGIC = 0x54434C46
T_DISCOVER, T_ANNOUNCE, T_JOIN, T_JOIN_ACK = 1, 2, 3, 4


def header(ptype, version):
    return struct.pack("<IBBII", MAGIC, version, ptype, 0, 1)


def ask(target, kind, version):
    host, port = target.rsplit(":", 1)
    ptype = T_DISCOVER if kind == "discover" else T_JOIN
    pkt = header(ptype, version) + bytes(69 if ptype == T_DISCOVER else 80)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(pkt, (host, int(port)))
    try:
        buf, _ = s.recvfrom(2048)
    except socket.timeout:
        print("{}")
        return
    print(json.dumps({"len": len(buf), "magic_ok": struct.unpack("<I", buf[:4])[0] == MAGIC,
                      "version": buf[4], "type": buf[5]}))


def serve(port, version, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(port)))
    s.settimeout(0.5)
    end = time.monotonic() + float(seconds)
    answered = 0
    while time.monotonic() < end:
        try:
            buf, peer = s.recvfrom(2048)
        except socket.timeout:
            continue
        if len(buf) >= 14 and struct.unpack("<I", buf[:4])[0] == MAGIC and buf[5] in (T_DISCOVER, T_JOIN):
            reply = T_ANNOUNCE if buf[5] == T_DISCOVER else T_JOIN_ACK
            s.sendto(header(reply, int(version))[:10] + bytes(4), peer)
            answered += 1
    print(json.dumps({"answered": answered}))


if __name__ == "__main__":
    if sys.argv[1] == "ask":
        ask(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        serve(sys.argv[2], sys.argv[3], sys.argv[4])

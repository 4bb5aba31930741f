#!/usr/bin/env python3
"""tests/lab/wol_capture.py: Wake-on-LAN packets as they leave on the wire, for test-wake.

Captures the frames on --iface (AF_PACKET, needs root; outgoing frames
included) that are IPv4 UDP to --port (a BPF filter in the kernel drops the
rest) for --seconds, or until --count of them, and prints one JSON line per
datagram: capture time (seconds, monotonic), Ethernet destination, IPv4
source and destination, UDP ports and the payload in hex. SIGTERM ends it
cleanly (what was seen is printed already).

  wol_capture.py --iface eth0 [--port 9] [--seconds 90] [--count 0]

Standard library only.
"""
import argparse
import ctypes
import json
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SO_ATTACH_FILTER = 26

# Classic BPF for "IPv4, UDP, not a later fragment, destination port PORT"
# (what `tcpdump -dd 'udp dst port 9'` gives, without the IPv6 half): the
# kernel drops everything else before it is queued, so a session's
# multicast stream leaving the same interface cannot overflow our socket
# and cost us a magic packet.
def bpf_udp_dport(port):
    prog = [
        (0x28, 0, 0, 12),  # ldh [12]: EtherType
        (0x15, 0, 8, 0x0800),  # IPv4?
        (0x30, 0, 0, 23),  # ldb [23]: protocol
        (0x15, 0, 6, 17),  # UDP?
        (0x28, 0, 0, 20),  # ldh [20]: fragment offset
        (0x45, 4, 0, 0x1FFF),  # a later fragment: drop
        (0xB1, 0, 0, 14),  # x = IP header length
        (0x48, 0, 0, 16),  # ldh [x + 16]: destination port
        (0x15, 0, 1, port),
        (0x06, 0, 0, 0x40000),  # accept
        (0x06, 0, 0, 0),  # drop
    ]
    raw = b"".join(struct.pack("HBBI", *i) for i in prog)
    buf = ctypes.create_string_buffer(raw, len(raw))
    fprog = struct.pack("HL", len(prog), ctypes.addressof(buf))
    return fprog, buf  # buf must live until setsockopt returns


def parse(frame, port):
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    if ip[0] >> 4 != 4 or ip[9] != 17 or len(ip) < ihl + 8:
        return None
    total = struct.unpack("!H", ip[2:4])[0]
    udp = ip[ihl:total]
    sport, dport, ulen = struct.unpack("!HHH", udp[:6])
    if dport != port:
        return None
    return {
        "eth_dst": frame[0:6].hex(":"),
        "ip_src": socket.inet_ntoa(ip[12:16]),
        "ip_dst": socket.inet_ntoa(ip[16:20]),
        "sport": sport,
        "dport": dport,
        "payload": udp[8:ulen].hex(),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--port", type=int, default=9)
    ap.add_argument("--seconds", type=float, default=90)
    ap.add_argument("--count", type=int, default=0)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    fprog, keep = bpf_udp_dport(a.port)
    s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((a.iface, 0))
    print(json.dumps({"listening": a.iface}), flush=True)
    seen = 0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end and (a.count == 0 or seen < a.count):
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            frame = s.recv(65535)
        except socket.timeout:
            break
        d = parse(frame, a.port)
        if d:
            d["t"] = round(time.monotonic(), 3)
            print(json.dumps(d), flush=True)
            seen += 1


if __name__ == "__main__":
    main()

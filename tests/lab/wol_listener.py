#!/usr/bin/env python3
"""tests/lab/wol_listener.py: a machine's NIC waiting for Wake-on-LAN, for test-wake.

Stands in for a powered-off machine's network card: binds UDP port 9 on its
namespace's interface, takes only a well-formed magic packet for its own MAC
(exactly 102 bytes: six 0xFF, then the MAC sixteen times; 106 or 108 with a
SecureOn password) and ignores anything else, each refusal logged on one
line. On the first good one it prints "woken by A.B.C.D:P" and runs the
"machine" (CMD: here fleetcast-recv) in its place (exec: the same PID, so the
test waits for the receiver as it would for this listener). With nothing
good within --timeout seconds it exits 3.

  wol_listener.py --mac 52:54:00:ab:cd:ef [--iface eth0] [--port 9]
                  [--timeout 60] -- CMD...

Standard library only.
"""
import argparse
import os
import socket
import sys
import time

SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)


def magic_for(mac):
    raw = bytes.fromhex(mac.replace(":", "").replace("-", ""))
    if len(raw) != 6:
        raise ValueError("bad MAC " + mac)
    return b"\xff" * 6 + raw * 16


def why_not(pkt, want):
    """None if pkt wakes us, else why not."""
    if len(pkt) not in (102, 106, 108):
        return "length %d" % len(pkt)
    if pkt[:6] != b"\xff" * 6:
        return "no sync bytes"
    if pkt[:102] != want:
        return "magic packet for another MAC (%s)" % pkt[6:12].hex(":")
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mac", required=True)
    ap.add_argument("--iface", default="eth0")
    ap.add_argument("--port", type=int, default=9)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("the command to run when woken is missing")
    want = magic_for(a.mac)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, a.iface.encode())
    s.bind(("0.0.0.0", a.port))
    print("listening on %s port %d for %s" % (a.iface, a.port, a.mac.lower()), flush=True)
    end = time.monotonic() + a.timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            print("no magic packet for %s in %.0f s" % (a.mac, a.timeout), flush=True)
            sys.exit(3)
        s.settimeout(left)
        try:
            pkt, src = s.recvfrom(2048)
        except socket.timeout:
            continue
        why = why_not(pkt, want)
        if why:
            print("ignored %d bytes from %s:%d: %s" % (len(pkt), src[0], src[1], why), flush=True)
            continue
        print("woken by %s:%d; starting %s" % (src[0], src[1], cmd[0]), flush=True)
        s.close()
        os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main()

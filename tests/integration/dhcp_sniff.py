#!/usr/bin/env python3
"""Counts the DHCP traffic a lab machine's interface carries, for
test-pxe-watch.sh: an AF_PACKET socket on IFACE (it sees what the host sends
as well as what it receives) until SIGTERM, then one JSON object on stdout:

  {"ready": ..., "dhcp_sent": N,      # UDP to port 67 sent by this host
   "to_client": N,                    # UDP to port 68 from anyone (a DHCP answer)
   "udp_from": {"MAC": N, ...}}       # every UDP frame received, by source MAC

Writes READY_FILE once the socket is bound, so the test starts its clients
only when nothing can be missed.

usage: dhcp_sniff.py IFACE READY_FILE
"""
import json
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def main():
    iface, ready = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.settimeout(0.2)
    stats = {"dhcp_sent": 0, "to_client": 0, "udp_from": {}}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with open(ready, "w") as f:
        f.write("ready\n")
    while not stop:
        try:
            frame, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        count(frame, addr[2] == PACKET_OUTGOING, stats)
    json.dump(stats, sys.stdout)
    sys.stdout.write("\n")


def count(frame, outgoing, stats):
    if len(frame) < 42 or struct.unpack("!H", frame[12:14])[0] != 0x0800:
        return
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != 17 or len(ip) < ihl + 8:
        return
    sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
    src = ":".join("%02x" % b for b in frame[6:12])
    if outgoing:
        if dport == 67:
            stats["dhcp_sent"] += 1
        return
    stats["udp_from"][src] = stats["udp_from"].get(src, 0) + 1
    if dport == 68 or sport == 67:
        stats["to_client"] += 1


if __name__ == "__main__":
    main()

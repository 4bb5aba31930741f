#!/usr/bin/env python3
"""A forged capture upload (test-capture.sh): HELLO, then one CAP_CHUNK whose bytes do not
match its hashes. Prints the server's CAP_REPLY statuses, one per line (HELLO's, then the
one after the chunk), or "closed" where none came.
    capture_forge.py SERVER_ADDR PORT"""
import socket
import struct
import sys

MAGIC, VERSION = 0x54434C46, 3


def header(ptype, seq):
    return struct.pack("<IBBII", MAGIC, VERSION, ptype, 0, seq)


def reply(s):
    buf = b""
    while len(buf) < 19:
        part = s.recv(19 - len(buf))
        if not part:
            return "closed"
        buf += part
    return str(buf[14])


def main():
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
    s.sendall(header(14, 1) + bytes(16) + struct.pack("<QIB", 64 << 20, 4 << 20, 3))
    print(reply(s))
    comp = b"\x28\xb5\x2f\xfd" + bytes(96)  # a zstd magic, then nothing the hashes vouch for
    s.sendall(header(15, 2) + struct.pack("<III", 0, 4096, len(comp)) + bytes(64) + comp)
    print(reply(s))


main()

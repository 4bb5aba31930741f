#!/usr/bin/env python3
"""A rogue on the path of the hooks fetch (test-image-hooks.sh): a transparent TCP proxy
for the connections an nft rule redirects to it (their real destination from
SO_ORIGINAL_DST), passing every byte both ways except one: in the answer to a HOOKS_REQ
(packet type 18) it flips a byte of the first hook's contents, as an altered copy on
a rogue server or on the wire would. Its own connections carry socket mark MARK so
that the rule lets them through. Logs one line per connection.
    hooks_tamper.py LISTEN_ADDR PORT MARK"""
import select
import socket
import struct
import sys
import threading

SO_ORIGINAL_DST = 80
HOOKS_REQ = 18
HEAD_LEN = 19  # the HOOKS head; the tar follows
FLIP_AT = HEAD_LEN + 512 + 20  # inside the first member's contents


def original_dst(conn):
    raw = conn.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
    port, addr = struct.unpack("!2xH4s8x", raw)
    return socket.inet_ntoa(addr), port


def pump(client, upstream):
    hooks, down = False, 0
    socks = [client, upstream]
    while True:
        ready, _, _ = select.select(socks, [], [], 30)
        if not ready:
            return
        for s in ready:
            data = s.recv(65536)
            if not data:
                return
            if s is client:
                hooks = hooks or (len(data) > 5 and data[5] == HOOKS_REQ)
                upstream.sendall(data)
                continue
            if hooks and down <= FLIP_AT < down + len(data):
                b = bytearray(data)
                b[FLIP_AT - down] ^= 0x01
                data = bytes(b)
                print("tampered with a HOOKS answer", flush=True)
            down += len(data)
            client.sendall(data)


def serve(client, mark):
    dst = original_dst(client)
    upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    upstream.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, mark)
    try:
        upstream.connect(dst)
        print("connection to %s:%d" % dst, flush=True)
        pump(client, upstream)
    finally:
        upstream.close()
        client.close()


def main():
    addr, port, mark = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 0)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((addr, port))
    lsock.listen(16)
    print("listening", flush=True)
    while True:
        client, _ = lsock.accept()
        threading.Thread(target=serve, args=(client, mark), daemon=True).start()


if __name__ == "__main__":
    main()

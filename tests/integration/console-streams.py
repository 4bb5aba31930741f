#!/usr/bin/env python3
"""Opens many event streams (GET /api/v1/events) on fleetcastd's console at
once, from chosen source addresses, and holds them: the limits test
(test-console-trust.sh) checks that the API still answers meanwhile.

  console-streams.py HOST PORT --ready FILE --release FILE --out FILE
                     [--hold S] SRC:COUNT...

Each SRC:COUNT opens COUNT streams from source address SRC, one after the
other. A stream counts as "streaming" when it answered 200 and sent the
first event (with its "retry:" line); "refused" when it answered 503;
"closed" when the server closed it without an answer (its per-address
connection limit). Once all are open, FILE --ready is written; the streams
are held until the file --release appears (at most --hold seconds), then
the ones still open are counted, and the counts go to --out as JSON:
{"SRC:COUNT": {"streaming": n, "refused": n, "closed": n, "still_open": n}}."""
import argparse
import json
import os
import socket
import time


def open_stream(host, port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.bind((src, 0))
        s.connect((host, port))
        s.sendall(("GET /api/v1/events HTTP/1.1\r\nHost: %s:%d\r\n"
                   "Accept: text/event-stream\r\n\r\n" % (host, port)).encode())
        got = b""
        while b"\r\n\r\n" not in got or (got.startswith(b"HTTP/1.1 200") and b"retry:" not in got):
            d = s.recv(65536)
            if not d:
                break
            got += d
    except OSError:
        got = b""
    if got.startswith(b"HTTP/1.1 200") and b"retry:" in got:
        return "streaming", s
    s.close()
    return ("refused" if got.startswith(b"HTTP/1.1 503") else "closed"), None


def still_open(s):
    s.setblocking(False)
    try:
        return s.recv(65536) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--release", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--hold", type=float, default=60)
    ap.add_argument("specs", nargs="+")
    a = ap.parse_args()
    counts, held = {}, {}
    for spec in a.specs:
        src, n = spec.rsplit(":", 1)
        c = counts[spec] = {"streaming": 0, "refused": 0, "closed": 0, "still_open": 0}
        held[spec] = []
        for _ in range(int(n)):
            what, s = open_stream(a.host, a.port, src)
            c[what] += 1
            if s:
                held[spec].append(s)
    with open(a.ready, "w") as f:
        json.dump(counts, f)
    end = time.monotonic() + a.hold
    while time.monotonic() < end and not os.path.exists(a.release):
        time.sleep(0.1)
    for spec, socks in held.items():
        counts[spec]["still_open"] = sum(1 for s in socks if still_open(s))
        for s in socks:
            s.close()
    with open(a.out, "w") as f:
        json.dump(counts, f)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""What a restored target holds where the image stores nothing (standard library only).

  unstored.py edges INFO.json TARGET   every byte the image does not store in the first and
                                       last MiB of TARGET and of each partition is zero
  unstored.py all INFO.json TARGET     every byte the image does not store, to the end of
                                       TARGET, is zero
  unstored.py nonzero TARGET OFF LEN   the range holds at least one non-zero byte

INFO.json is `fleetcast image info --json --extents`. Exit 0 ok, 1 violation (the first
non-zero range is printed). A GPT image on a bigger TARGET has its backup GPT moved to
TARGET's last 33 sectors (restore fits the table to the disk): those are not "unstored".
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_extents import merge, subtract  # noqa: E402 (the helpers next to this file)

MIB = 1 << 20


def minus(spans, extents):
    """spans without the stored extents (both sorted lists of [start, end))."""
    holes = [[xs, xs + xl] for xs, xl in extents]
    return [piece for span in spans for piece in subtract(span, holes)]


def edges(d, size):
    iv = [[0, MIB], [max(0, size - MIB), size]]
    for p in d["partitions"]:
        if p["index"] == 0:
            continue
        s, e = p["start"], min(p["start"] + p["size"], size)
        iv += [[s, min(s + MIB, e)], [max(s, e - MIB), e]]
    return merge(iv)


def first_nonzero(f, s, e):
    f.seek(s)
    pos = s
    while pos < e:
        buf = f.read(min(4 * MIB, e - pos))
        if not buf:
            return None
        if buf.count(0) != len(buf):
            return pos + next(i for i, b in enumerate(buf) if b)
        pos += len(buf)
    return None


def main(argv):
    if argv[1] == "nonzero":
        off, ln = int(argv[3]), int(argv[4])
        with open(argv[2], "rb") as f:
            return 0 if first_nonzero(f, off, off + ln) is not None else 1
    with open(argv[2]) as fi:
        d = json.load(fi)
    with open(argv[3], "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        spans = edges(d, size) if argv[1] == "edges" else [[0, size]]
        ext = sorted(d["extents"])
        if d.get("table") == "gpt" and size > d["disk_size"]:
            ext = sorted(ext + [[size - 33 * 512, 33 * 512]])
        bad = 0
        for s, e in minus(spans, ext):
            at = first_nonzero(f, s, e)
            if at is not None:
                print(f"non-zero byte at {at} in unstored [{s}, {e})")
                bad += 1
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

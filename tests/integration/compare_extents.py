#!/usr/bin/env python3
"""Byte-range helpers for the fleetcast integration tests (standard library only).

Subcommands (offsets and lengths in bytes; exit 0 = ok, 1 = difference/violation):
  extract DISK OFF LEN OUT        copy a range of DISK to a new file OUT
  ranges A B INFO.json            check the `extents` of `fleetcast image info --json
                                  --extents` (sorted, disjoint, inside the disk, total equal
                                  to stored_bytes) and that every extent is byte-identical
                                  in A and B (on a bigger GPT target B, but for the table
                                  sectors a restore fits to it)
  range A B OFF LEN               the range is byte-identical in A and B
  nonzero A B OFF LEN [BS]        every BS-byte block (default 4096) of A in the range that
                                  is not all zero is identical in B
  ext4cover INFO.json PARTSTART DUMPE2FS.txt
                                  the stored extents inside the filesystem that starts at
                                  PARTSTART are exactly its allocated blocks, as listed by
                                  `dumpe2fs` (free blocks not stored, allocated all stored)
  pick INFO.json LO HI            print an offset in the middle of the largest stored extent
                                  overlapping [LO, HI)
  chunk-of INFO.json OFFSET       print the index of the chunk holding disk byte OFFSET, from
                                  `info --json --extents --chunks` (chunks cut the stored
                                  extents in disk order, raw_size bytes each)
"""
import json
import re
import sys

BUF = 4 * 1024 * 1024


def load(path):
    with open(path) as f:
        return json.load(f)


def merge(iv):
    out = []
    for s, e in sorted(iv):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def extents_of(info):
    ext = info.get("extents")
    if not isinstance(ext, list):
        sys.exit("info JSON has no 'extents' list")
    return [(int(o), int(n)) for o, n in ext]


def diff_range(fa, fb, off, length):
    """Return the first differing offset in [off, off+length), or None."""
    fa.seek(off)
    fb.seek(off)
    done = 0
    while done < length:
        n = min(BUF, length - done)
        a = fa.read(n)
        b = fb.read(n)
        if a != b:
            if len(a) != len(b):
                return off + done + min(len(a), len(b))
            for i in range(n):
                if a[i] != b[i]:
                    return off + done + i
        done += n
    return None


def cmd_extract(disk, off, length, out):
    off, length = int(off), int(length)
    with open(disk, "rb") as f, open(out, "wb") as o:
        f.seek(off)
        left = length
        while left:
            b = f.read(min(BUF, left))
            if not b:
                sys.exit("extract: %s too short" % disk)
            o.write(b)
            left -= len(b)
    return 0


def gpt_fitted(info, fb, disk):
    """The bytes a restore fits to a bigger GPT target (the protective MBR's table, the primary
    header, the old backup header), which differ from the image's by design."""
    fb.seek(0, 2)
    if info.get("table") != "gpt" or fb.tell() <= disk:
        return []
    return [(446, 66), (512, 512), (disk - 512, 512)]


def split_out(o, n, holes):
    """[o, o+n) without the holes, as (offset, length) pieces."""
    pieces = [(o, o + n)]
    for ho, hn in holes:
        nxt = []
        for s, e in pieces:
            if ho + hn <= s or ho >= e:
                nxt.append((s, e))
                continue
            if s < ho:
                nxt.append((s, ho))
            if ho + hn < e:
                nxt.append((ho + hn, e))
        pieces = nxt
    return [(s, e - s) for s, e in pieces]


def cmd_ranges(a, b, info_path):
    info = load(info_path)
    ext = extents_of(info)
    disk = int(info["disk_size"])
    bad = 0
    prev_end = 0
    total = 0
    for i, (o, n) in enumerate(ext):
        if n <= 0:
            print("extent %d [%d,+%d] is empty" % (i, o, n))
            bad += 1
        if o < prev_end:
            print("extent %d [%d,+%d] not sorted/disjoint (previous ends at %d)" % (i, o, n, prev_end))
            bad += 1
        if o + n > disk:
            print("extent %d [%d,+%d] beyond disk size %d" % (i, o, n, disk))
            bad += 1
        prev_end = max(prev_end, o + n)
        total += n
    if "stored_bytes" in info and int(info["stored_bytes"]) != total:
        print("sum of extents %d != stored_bytes %d" % (total, int(info["stored_bytes"])))
        bad += 1
    with open(a, "rb") as fa, open(b, "rb") as fb:
        fitted = gpt_fitted(info, fb, disk)
        for o, n in ext:
            for so, sn in split_out(o, n, fitted):
                d = diff_range(fa, fb, so, sn)
                if d is not None:
                    print("stored extent [%d,+%d] differs at byte %d" % (o, n, d))
                    bad += 1
                    break
            if bad:
                break
    print("%d extents, %d bytes stored%s" % (len(ext), total, "" if bad else ", all identical"))
    return 1 if bad else 0


def cmd_range(a, b, off, length):
    off, length = int(off), int(length)
    with open(a, "rb") as fa, open(b, "rb") as fb:
        d = diff_range(fa, fb, off, length)
    if d is not None:
        print("range [%d,+%d] differs at byte %d" % (off, length, d))
        return 1
    return 0


def cmd_nonzero(a, b, off, length, bs="4096"):
    off, length, bs = int(off), int(length), int(bs)
    checked = 0
    with open(a, "rb") as fa, open(b, "rb") as fb:
        fa.seek(off)
        fb.seek(off)
        pos = 0
        while pos < length:
            n = min(BUF, length - pos)
            da = fa.read(n)
            db = fb.read(n)
            if da == db:
                checked += sum(1 for i in range(0, len(da), bs) if da[i:i + bs].strip(b"\0"))
                pos += n
                continue
            for i in range(0, n, bs):
                ba = da[i:i + bs]
                if ba.strip(b"\0"):
                    checked += 1
                    if ba != db[i:i + bs]:
                        print("non-zero block at byte %d differs" % (off + pos + i))
                        return 1
            pos += n
    print("%d non-zero blocks identical" % checked)
    return 0


def parse_dumpe2fs(path):
    text = open(path).read()
    bsize = int(re.search(r"^Block size:\s+(\d+)", text, re.M).group(1))
    count = int(re.search(r"^Block count:\s+(\d+)", text, re.M).group(1))
    first = int(re.search(r"^First block:\s+(\d+)", text, re.M).group(1))
    free = []
    for m in re.finditer(r"^\s+Free blocks: (.*)$", text, re.M):
        for part in m.group(1).split(","):
            part = part.strip()
            if not part:
                continue
            if "-" in part:
                s, e = part.split("-")
                free.append([int(s), int(e) + 1])
            else:
                free.append([int(part), int(part) + 1])
    return bsize, count, first, merge(free)


def subtract(whole, holes):
    out = []
    s, e = whole
    for hs, he in holes:
        if he <= s or hs >= e:
            continue
        if hs > s:
            out.append([s, hs])
        s = max(s, he)
    if s < e:
        out.append([s, e])
    return out


def cmd_ext4cover(info_path, part_start, dump_path):
    part_start = int(part_start)
    bsize, count, first, free = parse_dumpe2fs(dump_path)
    # Block 0 (boot block + superblock on 4 KiB filesystems) counts as used.
    alloc = subtract([0, count], free)
    want = merge([[part_start + s * bsize, part_start + e * bsize] for s, e in alloc])
    lo, hi = part_start, part_start + count * bsize
    got = merge([[max(o, lo), min(o + n, hi)] for o, n in extents_of(load(info_path))])
    if want == got:
        print("stored extents == allocated blocks (%d ranges, %d bytes)"
              % (len(want), sum(e - s for s, e in want)))
        return 0
    free_b = merge([[part_start + s * bsize, part_start + e * bsize] for s, e in free])
    stored_free = sum(max(0, min(e, fe) - max(s, fs)) for s, e in got for fs, fe in free_b)
    missing = sum(e - s for s, e in want) - sum(
        max(0, min(e, ge) - max(s, gs)) for s, e in want for gs, ge in got)
    print("stored extents != allocated blocks: %d free bytes stored, %d allocated bytes not stored"
          % (stored_free, missing))
    for s, e in got:
        for fs, fe in free_b:
            if min(e, fe) > max(s, fs):
                print("  first free range stored: [%d,%d)" % (max(s, fs), min(e, fe)))
                return 1
    return 1


def cmd_pick(info_path, lo, hi):
    lo, hi = int(lo), int(hi)
    best = None
    for o, n in extents_of(load(info_path)):
        s, e = max(o, lo), min(o + n, hi)
        if e > s and (best is None or e - s > best[1] - best[0]):
            best = (s, e)
    if best is None:
        sys.exit("no stored extent in [%d,%d)" % (lo, hi))
    print((best[0] + best[1]) // 2)
    return 0


def cmd_chunk_of(info_path, offset):
    info = load(info_path)
    offset = int(offset)
    pos = 0
    for o, n in extents_of(info):
        if o <= offset < o + n:
            pos += offset - o
            break
        pos += n
    else:
        sys.exit("offset %d is not stored" % offset)
    acc = 0
    for c in info["chunks"]:
        acc += int(c["raw_size"])
        if pos < acc:
            print(c["index"])
            return 0
    sys.exit("chunks' raw sizes do not cover the stored extents")


def main():
    cmds = {"chunk-of": cmd_chunk_of, "extract": cmd_extract, "ranges": cmd_ranges, "range": cmd_range,
            "nonzero": cmd_nonzero, "ext4cover": cmd_ext4cover, "pick": cmd_pick}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    try:
        return cmds[sys.argv[1]](*sys.argv[2:])
    except TypeError:
        sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Turns the dashboard's files into a C array (server/web_assets.h), so
fleetcastd serves them without any file installed. Usage: embed.py OUT.c FILES..."""
import os
import sys

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml"}


def main():
    out, files = sys.argv[1], sys.argv[2:]
    lines = ['#include "server/web_assets.h"', ""]
    entries = []
    for i, path in enumerate(files):
        data = open(path, "rb").read()
        body = ",".join(str(b) for b in data)
        lines.append("static const unsigned char a%d[] = {%s};" % (i, body or "0"))
        name = "/" + os.path.basename(path)
        kind = TYPES.get(os.path.splitext(path)[1], "application/octet-stream")
        entries.append('    {"%s", "%s", a%d, %d},' % (name, kind, i, len(data)))
    lines.append("")
    lines.append("const struct fc_web_asset fc_web_assets[] = {")
    lines.extend(entries)
    lines.append("    {0, 0, 0, 0},")
    lines.append("};")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

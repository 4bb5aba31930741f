#!/usr/bin/env python3
"""Many checks of one JSON document in one python start (a start costs
seconds on a loaded machine), for test-pxe-watch.sh's json_checks.

usage: json_checks.py FILE [MAC1 [MAC2]] < PAIRS

PAIRS: lines two by two, a description and a python expression over the
document (d) and, for a document of GET /api/v1/pxe, its entries of MAC1
and MAC2 (m1, m2; {} if not listed). Prints one line per pair:
"ok<TAB>description" or "fail<TAB>description (why)".
"""
import json
import sys


def main():
    try:
        with open(sys.argv[1]) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        d = {"unreadable": str(e)}
    listed = {}
    if isinstance(d, dict) and isinstance(d.get("machines"), list):
        listed = {m.get("mac"): m for m in d["machines"] if isinstance(m, dict)}
    macs = sys.argv[2:4] + [None, None]
    env = {"d": d, "m1": listed.get(macs[0], {}), "m2": listed.get(macs[1], {})}
    lines = sys.stdin.read().splitlines()
    for what, expr in zip(lines[0::2], lines[1::2]):
        try:
            ok, why = bool(eval(expr, env)), ""
        except Exception as e:  # a missing key is a failed check, said so
            ok, why = False, "%s: %s; " % (type(e).__name__, e)
        if ok:
            print("ok\t%s" % what)
        else:
            print("fail\t%s (%sdocument: %s)" % (what, why, json.dumps(d)[:600]))


if __name__ == "__main__":
    main()

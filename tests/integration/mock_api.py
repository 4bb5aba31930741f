#!/usr/bin/env python3
"""A small stand-in for fleetcastd's HTTP API (docs/api.md), for working on
the dashboard and the CLI without a lab: canned sessions whose machines move
through their states, an SSE stream, the dashboard files from server/web/.

  mock_api.py [--port 7680] [--machines 50] [--token-file F] [--speed 5]
              [--fail N] [--web DIR] [--session [--start-now]] [--no-events]

Progress is simulated: SPEED percent per second, per machine (jittered).
The token is created in --token-file (mode 0600) if missing, else read."""
import argparse
import json
import os
import random
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Lock()
SESSIONS = []  # dicts, newest last
MACHINES = {}  # session id -> list of machine dicts
CHANGES = []  # (seq, event, payload) for the SSE stream
SEQ = [0]
ARGS = None
ALLOWED = {"image", "group", "iface", "rate", "min_receivers", "max_wait", "fec", "start"}


def now():
    return int(time.time())


def emit(event, payload):
    SEQ[0] += 1
    CHANGES.append((SEQ[0], event, payload))
    del CHANGES[:-500]


def parse_rate(r):
    if isinstance(r, int):
        return r
    mult = {"K": 1e3, "M": 1e6, "G": 1e9}
    r = r.strip().upper()
    if r and r[-1] in mult:
        return int(float(r[:-1]) * mult[r[-1]])
    return int(r)


def new_session(body):
    sid = secrets.token_hex(4)
    s = {
        "id": sid, "state": "waiting", "image": body["image"], "image_bytes": 173242658,
        "group": body["group"], "iface": body["iface"],
        "rate_cap_bps": parse_rate(body.get("rate", "100M")), "rate_bps": 0,
        "min_receivers": body.get("min_receivers", 1), "max_wait": body.get("max_wait", 0),
        "fec": body.get("fec", 0), "bytes_sent": 0, "data_pkts": 0, "repair_pkts": 0,
        "catchup_pkts": 0, "repair_pct": 0.0, "progress_pct": 0.0, "eta_seconds": None,
        "receivers": {"active": 0, "done": 0, "failed": 0, "dropped": 0},
        "created_at": now(), "started_at": None, "ended_at": None,
        "_start_now": body.get("start", "policy") == "now",
    }
    SESSIONS.append(s)
    MACHINES[sid] = []
    return s


def add_machines(s, n, nfail):
    for i in range(n):
        MACHINES[s["id"]].append({
            "session": s["id"], "id": i + 1, "name": "pc-%02d" % (i + 1),
            "mac": "52:54:00:12:%02x:%02x" % (i // 256, i % 256), "ip": "10.77.1.%d" % (i + 1),
            "state": "waiting", "progress_pct": 0.0, "rate_bps": 0, "repairs_requested": 0,
            "pkts_lost": 0, "last_seen": now(), "disk_size": 137438953472, "error": "",
            "_speed": ARGS.speed * random.uniform(0.6, 1.3), "_fail_at": random.uniform(20, 70) if i < nfail else None,
        })


def public(d):
    return {k: v for k, v in d.items() if not k.startswith("_")}


def counts(s):
    c = {"active": 0, "done": 0, "failed": 0, "dropped": 0}
    for m in MACHINES[s["id"]]:
        st = m["state"]
        c[st if st in ("done", "failed", "dropped") else "active"] += 1
    return c


def set_state(obj, state, kind):
    if obj["state"] != state:
        obj["state"] = state
        emit(kind, {kind: public(obj)})


def step_machine(s, m, dt):
    st = m["state"]
    m["last_seen"] = now()
    if st in ("done", "failed", "dropped"):
        m["rate_bps"] = 0
        return
    if s["state"] in ("sending", "repair") and st == "waiting":
        set_state(m, "receiving", "machine")
    elif st == "receiving":
        inc = m["_speed"] * dt * random.uniform(0.7, 1.2)
        m["progress_pct"] = min(100.0, m["progress_pct"] + inc)
        m["rate_bps"] = int(inc / 100 * s["image_bytes"] * 8 / max(dt, 0.01))
        if random.random() < 0.3:
            m["repairs_requested"] += random.randint(1, 5)
            m["pkts_lost"] += random.randint(1, 20)
        if m["_fail_at"] is not None and m["progress_pct"] >= m["_fail_at"]:
            m["error"] = "silent for 15 s"
            m["rate_bps"] = 0
            set_state(m, "dropped", "machine")
        elif m["progress_pct"] >= 100.0:
            set_state(m, "flushing", "machine")
    elif st == "flushing":
        m["rate_bps"] = 0
        set_state(m, "checking", "machine")
    elif st == "checking":
        set_state(m, "done", "machine")


def step_session(s, dt):
    ms = MACHINES[s["id"]]
    if s["state"] == "waiting":
        if ms and (s["_start_now"] or len(ms) >= s["min_receivers"]):
            s["started_at"] = now()
            set_state(s, "sending", "session")
        return
    if s["state"] in ("finished", "aborted"):
        return
    for m in ms:
        step_machine(s, m, dt)
    s["receivers"] = counts(s)
    s["progress_pct"] = round(sum(m["progress_pct"] for m in ms) / max(len(ms), 1), 1)
    s["rate_bps"] = int(s["rate_cap_bps"] * random.uniform(0.85, 0.99))
    s["bytes_sent"] += int(s["rate_bps"] / 8 * dt)
    s["data_pkts"] = s["bytes_sent"] // 1448
    s["repair_pkts"] += random.randint(0, 30)
    s["repair_pct"] = round(100.0 * s["repair_pkts"] / max(s["data_pkts"], 1), 1)
    left = [m for m in ms if m["state"] not in ("done", "failed", "dropped")]
    speed = sum(m["_speed"] for m in left) / max(len(left), 1)
    s["eta_seconds"] = int((100 - min(m["progress_pct"] for m in left)) / speed) + 1 if left else None
    if s["progress_pct"] > 60 and s["state"] == "sending":
        set_state(s, "repair", "session")
    if not left:
        s["ended_at"] = now()
        s["rate_bps"] = 0
        s["eta_seconds"] = 0
        set_state(s, "finished", "session")


def ticker():
    last = time.time()
    while True:
        time.sleep(0.25)
        t = time.time()
        with LOCK:
            for s in SESSIONS:
                step_session(s, t - last)
        last = t


def snapshot():
    return {"sessions": [public(s) for s in SESSIONS],
            "machines": [public(m) for s in SESSIONS for m in MACHINES[s["id"]]]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        if ARGS.verbose:
            super().log_message(fmt, *a)

    def reply(self, code, obj, ctype="application/json"):
        body = obj if isinstance(obj, bytes) else (json.dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def error(self, code, text):
        self.reply(code, {"error": text})

    def authed(self):
        h = self.headers.get("Authorization", "")
        return h == "Bearer " + TOKEN

    def find(self, sid):
        return next((s for s in SESSIONS if s["id"] == sid), None)

    def do_GET(self):
        u = urlparse(self.path)
        p = u.path
        static = {"/": ("index.html", "text/html; charset=utf-8"),
                  "/app.js": ("app.js", "text/javascript; charset=utf-8"),
                  "/style.css": ("style.css", "text/css; charset=utf-8")}
        if p in static:
            with open(os.path.join(ARGS.web, static[p][0]), "rb") as f:
                return self.reply(200, f.read(), static[p][1])
        if p == "/api/v1/events":
            if ARGS.no_events:
                return self.error(404, "no event stream (mock_api --no-events)")
            return self.events()
        with LOCK:
            if p == "/api/v1/health":
                return self.reply(200, {"ok": True, "version": "0.1.0-mock"})
            if p == "/api/v1/sessions":
                return self.reply(200, {"sessions": [public(s) for s in SESSIONS]})
            if p.startswith("/api/v1/sessions/"):
                s = self.find(p.rsplit("/", 1)[1])
                if not s:
                    return self.error(404, "no such session")
                return self.reply(200, {"session": public(s),
                                        "machines": [public(m) for m in MACHINES[s["id"]]]})
            if p == "/api/v1/machines":
                q = parse_qs(u.query).get("session", [None])[0]
                if q and not self.find(q):
                    return self.error(404, "no such session")
                ms = [public(m) for s in SESSIONS for m in MACHINES[s["id"]] if not q or s["id"] == q]
                return self.reply(200, {"machines": ms})
        return self.error(404, "no such resource")

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        if n > 65536:
            self.rfile.read(n)
            self.error(413, "body over 64 KiB")
            return None
        raw = self.rfile.read(n)
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            self.error(400, "bad JSON")
            return None

    def do_POST(self):
        p = urlparse(self.path).path
        if not self.authed():
            n = int(self.headers.get("Content-Length", "0") or 0)
            self.rfile.read(n)
            return self.error(401, "missing or wrong token")
        body = self.read_body()
        if body is None:
            return
        with LOCK:
            if p == "/api/v1/sessions":
                if not isinstance(body, dict):
                    return self.error(400, "body must be an object")
                bad = set(body) - ALLOWED
                if bad:
                    return self.error(400, "unknown field '%s'" % sorted(bad)[0])
                for k in ("image", "group", "iface"):
                    if not isinstance(body.get(k), str):
                        return self.error(400, "'%s' is required (string)" % k)
                s = new_session(body)
                add_machines(s, ARGS.machines, ARGS.fail)
                emit("session", {"session": public(s)})
                return self.reply(201, {"session": public(s)})
            parts = p.split("/")
            if len(parts) == 6 and parts[3] == "sessions" and parts[5] in ("start", "cancel"):
                s = self.find(parts[4])
                if not s:
                    return self.error(404, "no such session")
                if parts[5] == "start":
                    if s["state"] != "waiting":
                        return self.error(409, "session is not waiting")
                    s["started_at"] = now()
                    set_state(s, "sending", "session")
                else:
                    if s["state"] in ("finished", "aborted"):
                        return self.error(409, "session already ended")
                    s["ended_at"] = now()
                    for m in MACHINES[s["id"]]:
                        if m["state"] not in ("done", "failed", "dropped"):
                            m["error"] = "session aborted by the operator"
                            set_state(m, "failed", "machine")
                    s["receivers"] = counts(s)
                    set_state(s, "aborted", "session")
                return self.reply(200, {"session": public(s)})
        return self.error(404, "no such resource")

    def events(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        with LOCK:
            seq = SEQ[0]
            first = snapshot()
        try:
            self.sse("progress", first)
            last = time.time()
            while True:
                time.sleep(0.2)
                with LOCK:
                    out = [(e, d) for (n, e, d) in CHANGES if n > seq]
                    seq = SEQ[0]
                    prog = snapshot() if time.time() - last >= 1.0 else None
                for e, d in out:
                    self.sse(e, d)
                if prog is not None:
                    last = time.time()
                    self.sse("progress", prog)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def sse(self, event, data):
        self.wfile.write(("event: %s\ndata: %s\n\n" % (event, json.dumps(data))).encode())
        self.wfile.flush()


def main():
    global ARGS, TOKEN
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=7680)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--machines", type=int, default=50)
    ap.add_argument("--fail", type=int, default=0)
    ap.add_argument("--speed", type=float, default=5.0)
    ap.add_argument("--token-file", default=os.path.expanduser("~/.fleetcast/api.token"))
    ap.add_argument("--web", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "..", "..", "server", "web"))
    ap.add_argument("--session", action="store_true", help="create one session at start")
    ap.add_argument("--start-now", action="store_true")
    ap.add_argument("--no-events", action="store_true", help="404 for /api/v1/events (polling)")
    ap.add_argument("--verbose", action="store_true")
    ARGS = ap.parse_args()
    if os.path.exists(ARGS.token_file):
        TOKEN = open(ARGS.token_file).read().strip()
    else:
        os.makedirs(os.path.dirname(ARGS.token_file) or ".", exist_ok=True)
        TOKEN = secrets.token_hex(16)
        fd = os.open(ARGS.token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, (TOKEN + "\n").encode())
        os.close(fd)
    if ARGS.session:
        s = new_session({"image": "/srv/images/lab.fcimg", "group": "239.77.0.1:9000",
                         "iface": "eth0", "rate": "200M", "min_receivers": ARGS.machines + 1,
                         "start": "now" if ARGS.start_now else "policy"})
        add_machines(s, ARGS.machines, ARGS.fail)
    threading.Thread(target=ticker, daemon=True).start()
    srv = ThreadingHTTPServer((ARGS.bind, ARGS.port), Handler)
    srv.daemon_threads = True
    print("mock_api: http://%s:%d/ token %s" % (ARGS.bind, ARGS.port, ARGS.token_file), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A stand-in for accountsd's broker sockets (lib/basic/broker-proto.h), for
the faults the real daemon cannot produce on demand: a hung daemon, a
malformed, truncated or oversized reply, a reply to another kind of
question. It also answers well-formed questions from a small JSON world,
so the clients' mapping of every status can be checked.

    fake-broker.py SOCKET WORLD.json LOG

WORLD: {"mode": "answer" | "hang" | "close" | "garbage" | "oversize" |
                 "truncated" | "other-kind" | "bad-version" | "slow:MS",
        "users": {NAME: {"status": "granted"|"denied"|..., "keys": [...],
                         "principals": [...], "uid": N, "admin": bool,
                         "message": "..."}},
        "twofactor": {NAME: {"challenges": [[id, type, status], ...],
                             "code": "123456", "start": "challenge"|...}}}
The world file is read again for every connection, so a test changes the
daemon's behaviour by rewriting it. Every request is appended to LOG as one
JSON line (kind, user, and the AUTH_CONTINUE fields, credential included:
tests check what the module sent)."""

import json
import os
import socket
import struct
import sys
import threading
import time

MAGIC, VERSION, HEADER = 0x4B4C534F, 1, 12
KINDS = {1: "keys", 2: "principals", 3: "account", 4: "auth-start", 5: "auth-continue"}
STATUS = {"granted": 0, "denied": 1, "not-ours": 2, "unknown-user": 3, "unavailable": 4,
          "challenge": 5, "no-factor": 6, "refused": 7}


def u32(v):
    return struct.pack("<I", v)


def string(s):
    b = s.encode()
    return u32(len(b)) + b


def message(status, payload):
    return struct.pack("<IHHI", MAGIC, VERSION, status, len(payload)) + payload


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def u32(self):
        v = struct.unpack_from("<I", self.data, self.pos)[0]
        self.pos += 4
        return v

    def string(self):
        n = self.u32()
        s = self.data[self.pos:self.pos + n].decode()
        self.pos += n
        return s


def read_request(conn):
    head = b""
    while len(head) < HEADER:
        chunk = conn.recv(HEADER - len(head))
        if not chunk:
            return None
        head += chunk
    magic, version, kind, size = struct.unpack("<IHHI", head)
    body = b""
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            return None
        body += chunk
    r = Reader(body)
    q = {"kind": KINDS.get(kind, kind), "user": r.string()}
    if kind == 1:
        q["fingerprint"] = r.string()
    elif kind == 2:
        q["certificate"] = r.string()
    elif kind in (3, 4):
        q["service"], q["rhost"] = r.string(), r.string()
        if kind == 3:
            q["uid"] = r.u32()
    elif kind == 5:
        q["session"], q["challenge_id"], q["action"] = r.string(), r.u32(), r.u32()
        q["credential"] = r.string()
    q["kind_code"] = kind
    return q


def challenge_payload(session, challenges):
    p = string(session) + u32(len(challenges))
    for cid, ctype, cstatus in challenges:
        p += u32(cid) + string(ctype) + string(cstatus)
    return p


def answer(world, q):
    """The (status, payload after the message) for Q."""
    kind, user = q["kind_code"], q["user"]
    u = world.get("users", {}).get(user)
    if kind in (4, 5):
        tf = world.get("twofactor", {}).get(user)
        if not tf:
            return STATUS["unknown-user" if not u else "no-factor"], "", b""
        if kind == 4:
            start = tf.get("start", "challenge")
            if start != "challenge":
                return STATUS[start], tf.get("message", ""), b""
            return STATUS["challenge"], "", challenge_payload("s1", tf["challenges"])
        if q["action"] == 2:  # START_ALTERNATE
            ready = [[c[0], c[1], "READY"] for c in tf["challenges"] if c[0] == q["challenge_id"]]
            return STATUS["challenge"], "", challenge_payload("s2", ready)
        if q["credential"] == tf.get("code"):
            return STATUS["granted"], "", b""
        return STATUS["denied"], tf.get("reject", "Wrong code, try again."), b""
    if not u:
        return STATUS["unknown-user"], "", b""
    status = STATUS[u.get("status", "granted")]
    extra = b""
    if status == 0 and kind == 1:
        keys = u.get("keys", [])
        extra = u32(len(keys)) + b"".join(string(k) for k in keys)
    elif status == 0 and kind == 2:
        pr = u.get("principals", [user])
        extra = u32(len(pr)) + b"".join(string(p) for p in pr)
    elif status == 0 and kind == 3:
        extra = u32(1 if u.get("admin") else 0) + u32(u.get("uid", 2000001001))
    return status, u.get("message", ""), extra


def serve(conn, world_path, log_path):
    with conn:
        world = json.load(open(world_path))
        mode = world.get("mode", "answer")
        if mode == "close":
            return
        q = read_request(conn)
        if q is None:
            return
        with open(log_path, "a") as log:
            log.write(json.dumps({k: v for k, v in q.items() if k != "kind_code"}) + "\n")
        if mode == "hang":
            time.sleep(60)
            return
        if mode.startswith("slow:"):
            time.sleep(int(mode[5:]) / 1000)
        status, msg, extra = answer(world, q)
        echoed = q["kind_code"]
        if mode == "other-kind":
            echoed = 1 if echoed != 1 else 3
        reply = message(status, u32(echoed) + string(msg) + extra)
        if mode == "garbage":
            reply = b"HTTP/1.1 200 OK\r\n\r\n" + reply
        elif mode == "oversize":
            reply = message(status, b"")[:8] + u32(1 << 30)
        elif mode == "truncated":
            reply = reply[:-1]
        elif mode == "bad-version":
            reply = struct.pack("<IHHI", MAGIC, 2, status, len(reply) - HEADER) + reply[HEADER:]
        try:
            conn.sendall(reply)
        except OSError:
            pass


def main():
    path, world_path, log_path = sys.argv[1:4]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    os.chmod(path, 0o666)
    s.listen(64)
    print("ready", flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, world_path, log_path), daemon=True).start()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A stand-in for PID 1's io.systemd.DynamicUser varlink socket, for
bench/bench-nss-stock.sh: on a VM nss-systemd connects to every socket in
/run/systemd/userdb/ on each lookup it gets; this one answers every
question "no such record", as PID 1 does for a name it did not allocate.
Usage: fake-userdb.py SOCKET_PATH (serves until killed)."""
import os
import socket
import sys
import threading

NO_RECORD = b'{"error":"io.systemd.UserDatabase.NoRecordFound","parameters":{}}\0'


def serve(conn):
    buf = b""
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            while b"\0" in buf:
                _, buf = buf.split(b"\0", 1)
                conn.sendall(NO_RECORD)


path = sys.argv[1]
os.makedirs(os.path.dirname(path), exist_ok=True)
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()

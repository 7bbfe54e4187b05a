#!/usr/bin/env python3
# A tiny client of accountsd's sockets for tests/integration/test-broker.sh:
# it speaks the protocols of lib/basic/broker-proto.h and nss-proto.h with
# nothing but the standard library, so a test can run it as any UID
# (setpriv) and send what the real clients never would (a kind on the wrong
# socket, connections that are held open).
#
#   broker-client.py keys SOCKET USER [FINGERPRINT]
#   broker-client.py principals SOCKET USER CERT
#   broker-client.py account SOCKET USER [SERVICE RHOST]
#   broker-client.py auth-start SOCKET USER
#   broker-client.py auth-continue SOCKET USER TOKEN CHALLENGE_ID ACTION [CODE]
#   broker-client.py nss SOCKET NAME          (GETPWNAM on nss.sock)
#   broker-client.py hold SOCKET N SECONDS     (N idle connections; prints how
#                                              many the daemon closed at once)
#   broker-client.py flood SOCKET N CONCURRENCY PREFIX
#                                             (N GETPWNAM misses PREFIX0.. from
#                                              CONCURRENCY threads; prints how many
#                                              were answered and how many closed)
# Prints "STATUS message", then the kind's fields one per line. Exit 0 with
# a reply, 3 when the daemon closed without one, 4 when connect() failed.
import errno, os, pwd, socket, struct, sys, time

BROKER_MAGIC, NSS_MAGIC = 0x4B4C534F, 0x4E4C534F
KINDS = {"keys": 1, "principals": 2, "account": 3, "auth-start": 4, "auth-continue": 5}
STATUS = ["GRANTED", "DENIED", "NOT_OURS", "UNKNOWN_USER", "UNAVAILABLE", "CHALLENGE", "NO_FACTOR", "REFUSED"]

def s(v):
    b = v.encode()
    return struct.pack("<I", len(b)) + b

def connect(path):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        c.connect(path)
    except OSError as e:
        print("connect: " + errno.errorcode.get(e.errno, str(e.errno)))
        sys.exit(4)
    return c

def recv_all(c, timeout=15):
    c.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = c.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
    return data

class Reader:
    def __init__(self, b): self.b, self.p = b, 0
    def u32(self):
        v = struct.unpack_from("<I", self.b, self.p)[0]; self.p += 4; return v
    def str(self):
        n = self.u32(); v = self.b[self.p:self.p + n].decode(errors="replace"); self.p += n; return v

def broker(argv):
    kind, path, user = argv[0], argv[1], argv[2]
    k = KINDS[kind]
    if kind == "keys":
        payload = s(user) + s(argv[3] if len(argv) > 3 else "")
    elif kind == "principals":
        payload = s(user) + s(argv[3])
    elif kind in ("account", "auth-start"):
        payload = s(user) + s(argv[3] if len(argv) > 3 else "sshd") + s(argv[4] if len(argv) > 4 else "")
        if kind == "account":
            # The UID the asker's NSS gives USER, as pam_oslogin sends it:
            # argv[5], else BROKER_CLIENT_UIDS ("name=uid,..."; the tests'
            # namespaces have no NSS module), else getpwnam(), else
            # 4294967294 (matches no profile).
            uids = dict(e.split("=", 1) for e in os.environ.get("BROKER_CLIENT_UIDS", "").split(",") if "=" in e)
            if len(argv) > 5:
                uid = int(argv[5])
            elif user in uids:
                uid = int(uids[user])
            else:
                try:
                    uid = pwd.getpwnam(user).pw_uid
                except KeyError:
                    uid = 4294967294
            payload += struct.pack("<I", uid)
    else:
        payload = s(user) + s(argv[3]) + struct.pack("<II", int(argv[4]), int(argv[5])) + s(argv[6] if len(argv) > 6 else "")
    c = connect(path)
    c.sendall(struct.pack("<IHHI", BROKER_MAGIC, 1, k, len(payload)) + payload)
    data = recv_all(c)
    if len(data) < 12:
        print("closed without a reply")
        sys.exit(3)
    magic, version, status, size = struct.unpack_from("<IHHI", data)
    r = Reader(data[12:12 + size])
    r.u32()  # the kind answered
    print(STATUS[status] if status < len(STATUS) else str(status), r.str())
    if status == 0 and kind in ("keys", "principals"):
        for _ in range(r.u32()):
            print(r.str())
    elif status == 0 and kind == "account":
        print("flags=%d" % r.u32())
    elif status == 5:
        print("session=" + r.str())
        for _ in range(r.u32()):
            cid = r.u32(); print("challenge=%d %s %s" % (cid, r.str(), r.str()))

def nss(path, name):
    c = connect(path)
    b = name.encode()
    c.sendall(struct.pack("<IHHI", NSS_MAGIC, 1, 1, len(b)) + b)
    data = recv_all(c, 5)
    if len(data) < 12:
        print("closed without a reply")
        sys.exit(3)
    print("status=%d" % struct.unpack_from("<IHHI", data)[2])

def hold(path, n, seconds):
    conns = [connect(path) for _ in range(n)]
    time.sleep(0.2)
    closed = 0
    for c in conns:
        c.setblocking(False)
        try:
            if c.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except ConnectionResetError:
            closed += 1
    print("held=%d closed=%d" % (n - closed, closed), flush=True)
    time.sleep(seconds)

def flood(path, n, conc, prefix):
    import threading
    counts = {"replied": 0, "closed": 0}
    lock = threading.Lock()
    def worker(k):
        for i in range(k, n, conc):
            b = ("%s%d" % (prefix, i)).encode()
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                c.connect(path)
                c.sendall(struct.pack("<IHHI", NSS_MAGIC, 1, 1, len(b)) + b)
                got = len(recv_all(c, 5)) >= 12
            except OSError:
                got = False
            c.close()
            with lock:
                counts["replied" if got else "closed"] += 1
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(conc)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("replied=%d closed=%d" % (counts["replied"], counts["closed"]))

if __name__ == "__main__":
    if sys.argv[1] == "nss":
        nss(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "flood":
        flood(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "hold":
        hold(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        broker(sys.argv[1:])

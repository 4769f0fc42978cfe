#!/usr/bin/env python3
"""Raw HTTPS against a running spnd, for what curl will not send or hold.

  edge_probe.py send PORT CA BODYFILE        request bytes on stdin; prints
                                             the status, the body in BODYFILE
  edge_probe.py handshakes PORT CA ADDRS N   N half-done handshakes from each
                                             of ADDRS (127.0.0.x, comma-separated)
  edge_probe.py slowloris PORT CA DEADLINE   one byte of headers every 2 s
  edge_probe.py bodies PORT CA PID ADDRS N MAXRSS_MB
                                             N unfinished 1 MiB bodies from
                                             each of ADDRS; spnd's RSS stays
                                             under MAXRSS_MB
  edge_probe.py chunked PORT CA LIMIT        a chunked body past LIMIT,
                                             its last chunk never sent
  edge_probe.py members PORT CA CERT KEY N   N kept-alive connections from
                                             one address, each proving CERT,
                                             then N anonymous ones: the first
                                             all stay, the second are cut at
                                             the address's share

Each attack also checks that a client from 127.0.0.1 is served quickly while
it lasts, and exits 0 when everything held, 1 with the reasons otherwise."""
import json
import select
import socket
import ssl
import sys
import time

HEALTH = b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
failures = []


def fail(why):
    failures.append(why)
    print("#   " + why)


def context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    return ctx


def tcp(port, src="127.0.0.1"):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def response(s, limit):
    """Status and body of the answer on s, read until it closes or limit s."""
    s.settimeout(0.2)
    data, end = b"", time.monotonic() + limit
    while time.monotonic() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionError, ssl.SSLError):
            break
        if not chunk:
            break
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
            if length and len(body) >= length[0]:
                break
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else 0
    return status, body


def served(port, ctx, within=2.0):
    """A client from 127.0.0.1 gets its health answer within seconds."""
    t = time.monotonic()
    try:
        s = ctx.wrap_socket(tcp(port), server_hostname="x")
        s.settimeout(within)
        s.sendall(HEALTH)
        status, _ = response(s, within)
        s.close()
    except (OSError, ssl.SSLError) as e:
        return "failed: %s" % e
    took = time.monotonic() - t
    return None if status == 200 and took < within else "status %d after %.2f s" % (status, took)


def closed(s, limit):
    """Seconds until the server closes s (reads return nothing or fail), or None."""
    s.settimeout(0.1)
    t = time.monotonic()
    while time.monotonic() - t < limit:
        try:
            if not s.recv(4096):
                return time.monotonic() - t
        except socket.timeout:
            continue
        except (ConnectionError, ssl.SSLError, OSError):
            return time.monotonic() - t
    return None


def client_hello(ctx):
    out = ssl.MemoryBIO()
    o = ctx.wrap_bio(ssl.MemoryBIO(), out, server_hostname="x")
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def cmd_send(port, ca, bodyfile):
    s = context(ca).wrap_socket(tcp(int(port)), server_hostname="x")
    s.sendall(sys.stdin.buffer.read())
    status, body = response(s, 5)
    open(bodyfile, "wb").write(body)
    print(status)
    return 0


def cmd_handshakes(port, ca, addrs, n):
    port, n, ctx = int(port), int(n), context(ca)
    hello, held = client_hello(ctx), []
    for a in addrs.split(","):
        for _ in range(n):
            try:
                s = tcp(port, a)
                s.sendall(hello)
                held.append(s)
            except OSError:
                pass
    print("# %d half-done handshakes held" % len(held))
    for i in range(3):
        why = served(port, ctx)
        if why:
            fail("a client during the handshakes: %s" % why)
    # Every one of them ends within the deadline (2 s) and a margin.
    t = time.monotonic()
    for s in held:
        if closed(s, max(0.1, 6 - (time.monotonic() - t))) is None:
            fail("a half-done handshake still open after 6 s")
            break
    print("# all closed after %.1f s" % (time.monotonic() - t))


def cmd_slowloris(port, ca, deadline):
    port, deadline, ctx = int(port), float(deadline), context(ca)
    s = ctx.wrap_socket(tcp(port, "127.0.0.2"), server_hostname="x")
    s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
    t, gone = time.monotonic(), None
    while time.monotonic() - t < deadline + 5 and gone is None:
        why = served(port, ctx)
        if why:
            fail("a client during the slow headers: %s" % why)
        try:
            s.sendall(b"X")
        except (OSError, ssl.SSLError):
            gone = time.monotonic() - t
            break
        gone = closed(s, 2)
        if gone is not None:
            gone = time.monotonic() - t
    if gone is None or gone > deadline + 2:
        fail("the slow headers were still open after %.1f s" % (time.monotonic() - t))
    else:
        print("# the slow headers were dropped after %.1f s" % gone)
    # And a body sent at a byte every second after its headers.
    s = ctx.wrap_socket(tcp(port, "127.0.0.2"), server_hostname="x")
    s.sendall(b"POST /v1/route HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
    t, gone = time.monotonic(), None
    while time.monotonic() - t < deadline + 5:
        try:
            s.sendall(b" ")
        except (OSError, ssl.SSLError):
            gone = time.monotonic() - t
            break
        if closed(s, 1) is not None:
            gone = time.monotonic() - t
            break
    if gone is None or gone > deadline + 2:
        fail("the slow body was still open after %.1f s" % (time.monotonic() - t))
    else:
        print("# the slow body was dropped after %.1f s" % gone)


def rss_mb(pid):
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0


def cmd_bodies(port, ca, pid, addrs, n, max_rss):
    """Half the bodies say their length (refused at the headers when there
    is no memory for them), half are chunked (refused when they outgrow it)."""
    port, n, max_rss, ctx = int(port), int(n), float(max_rss), context(ca)
    before, held, answers = rss_mb(pid), [], {}
    for a in addrs.split(","):
        for i in range(n):
            frame = b"Content-Length: 1048576" if i % 2 else b"Transfer-Encoding: chunked"
            try:
                s = ctx.wrap_socket(tcp(port, a), server_hostname="x")
                s.sendall(b"POST /v1/route HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          + frame + b"\r\n\r\n")
                held.append((s, i % 2 == 0))
            except (OSError, ssl.SSLError):
                answers[0] = answers.get(0, 0) + 1
    # Those refused at once are read before they would be reset.
    pending, end = [s for s, _ in held], time.monotonic() + 1.5
    while pending and time.monotonic() < end:
        for s in select.select(pending, [], [], 0.1)[0]:
            status, _ = response(s, 0.5)
            answers[status] = answers.get(status, 0) + 1
            pending.remove(s)
    # The others send 15/16 of a MiB each and keep the rest.
    piece, peak = b" " * 65536, before
    for _ in range(15):
        for s, chunked in held:
            if s in pending:
                try:
                    s.sendall(b"10000\r\n" + piece + b"\r\n" if chunked else piece)
                except (OSError, ssl.SSLError):
                    pass
        peak = max(peak, rss_mb(pid))
    why = served(port, ctx)
    if why:
        fail("a client during the bodies: %s" % why)
    peak = max(peak, rss_mb(pid))
    for s in pending:
        status, _ = response(s, 0.1)
        answers[status] = answers.get(status, 0) + 1
    print("# %d connections, RSS %.0f MB before, %.0f MB at most; answers %s" % (len(held), before, peak, answers))
    if peak - before > max_rss:
        fail("spnd grew by %.0f MB with %d unfinished bodies" % (peak - before, len(held)))
    if answers.get(503, 0) < len(held) // 2:
        fail("fewer than half the bodies were refused for memory (503)")


def cmd_chunked(port, ca, limit):
    port, limit, ctx = int(port), int(limit), context(ca)
    s = ctx.wrap_socket(tcp(port), server_hostname="x")
    s.sendall(b"POST /v1/route HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n")
    piece = b"%x\r\n%s\r\n" % (16384, b" " * 16384)
    for _ in range(limit // 16384 + 2):
        s.sendall(piece)
    status, body = response(s, 3)
    print("# %d %s" % (status, body.decode(errors="replace")))
    if status != 413 or json.loads(body or b"{}").get("error") != "too_big":
        fail("a chunked body past the limit got %d, not 413 too_big, before its end" % status)


def one_answer(s):
    """Whether the next answer on s, read whole by its length, is a 200."""
    s.settimeout(3)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            return False
        body += chunk
    return head.startswith(b"HTTP/1.1 200")


def kept(ctx, port):
    """A kept-alive connection that had one answer, or None if refused."""
    try:
        s = ctx.wrap_socket(tcp(port), server_hostname="x")
        s.sendall(HEALTH.replace(b"Connection: close", b"Connection: keep-alive"))
        return s if one_answer(s) else None
    except OSError:
        return None


def cmd_members(port, ca, cert, key, n):
    port, n = int(port), int(n)
    mine = context(ca)
    mine.load_cert_chain(cert, key)
    members = [kept(mine, port) for _ in range(n)]
    again = 0
    for s in members:
        try:
            s.sendall(HEALTH)
            again += one_answer(s)
        except (OSError, AttributeError):
            pass
    print("# %d of %d connections with a certificate answered twice" % (again, n))
    if again != n:
        fail("only %d of %d connections proving a group certificate were kept" % (again, n))
    anon = [kept(context(ca), port) for _ in range(n)]
    served = sum(1 for s in anon if s)
    print("# %d of %d anonymous connections served" % (served, n))
    if served >= n:
        fail("all %d anonymous connections from one address were served, past its share" % n)
    for s in members + anon:
        if s:
            s.close()


COMMANDS = {"members": cmd_members, "send": cmd_send, "handshakes": cmd_handshakes, "slowloris": cmd_slowloris,
            "bodies": cmd_bodies, "chunked": cmd_chunked}

if __name__ == "__main__":
    rc = COMMANDS[sys.argv[1]](*sys.argv[2:])
    sys.exit(rc if rc is not None else (1 if failures else 0))

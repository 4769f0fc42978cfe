#!/usr/bin/python3
"""An upstream for plugins/http that misbehaves on request, for
tests/integration/plugin_http.sh: each section's "do" says what to do.

  http_upstream.py --port-file FILE [--socket PATH] [--hits FILE]

It answers:
  show      200 JSON: what it received (headers, body, carried sections)
  call      calls the service "to" through the node with the token it got
            and answers what the call said ({"status", "body"})
  stash     keeps this request's call URL and token, answers {"ok": true}
  replay    calls "to" with the stashed URL and token of an earlier
            request (or at this request's URL with it, "here": true)
  parts     a parts answer: "reply" to the caller, "attached" privately
  refuse    422 parts with "reason" (and private answers to carried ones)
  status    status "code" with body "body" and type "type"
  slow      answers after "seconds"
  huge      200 JSON of "bytes" bytes
  cut       a Content-Length it does not keep, then closes
  close     closes without an answer
  hold      waits until POST /release, writing FILE.holding while it waits
A section that is not JSON is answered 400. Every section counts a hit in
the hits file, if given, so a test can tell the service was never reached.
"""
import base64
import json
import os
import socket
import socketserver
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STASH = {}
RELEASE = threading.Event()
LOCK = threading.Lock()
ARGS = {}


def post(url, token, body):
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    if token is not None:
        req.add_header("Spn-Call-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def attached(self):
        n = int(self.headers.get("Spn-Attached", "0"))
        return [{"text": base64.b64decode(self.headers["Spn-Attached-%d" % i]).decode(),
                 "author": self.headers.get("Spn-Attached-%d-Author" % i),
                 "verified": self.headers.get("Spn-Attached-%d-Verified" % i)} for i in range(n)]

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/release":
            RELEASE.set()
            return self.send(200, "{}")
        if ARGS.get("hits"):
            with LOCK, open(ARGS["hits"], "a") as f:
                f.write("hit\n")
        try:
            s = json.loads(body)
        except ValueError:
            return self.send(400, '{"reason":"not JSON"}', "application/vnd.spn.parts+json")
        do = s.get("do", "show")
        url, token = self.headers.get("Spn-Call"), self.headers.get("Spn-Call-Token")
        if do == "show":
            return self.send(200, json.dumps({
                "body": body.decode(), "path": self.path,
                "service": self.headers.get("Spn-Service"),
                "mid": self.headers.get("Spn-Message-Id"),
                "author": self.headers.get("Spn-Author"),
                "verified": self.headers.get("Spn-Author-Verified"),
                "attached": self.attached(),
                "call": url, "token_len": len(token or "")}))
        if do == "call":
            st, b = post(url + s["to"], s.get("token", token),
                         json.dumps(s.get("section", {})).encode())
            return self.send(200, json.dumps({"status": st, "body": b}))
        if do == "stash":
            STASH.update(url=url, token=token)
            return self.send(200, '{"ok":true}')
        if do == "replay":
            where = url if s.get("here") else STASH["url"]
            st, b = post(where + s["to"], STASH["token"], b"{}")
            return self.send(200, json.dumps({"status": st, "body": b}))
        if do == "parts":
            return self.send(200, json.dumps({"reply": s.get("reply"), "attached": s.get("attached", [])}),
                             "application/vnd.spn.parts+json")
        if do == "refuse":
            return self.send(422, json.dumps({"reason": s.get("reason"), "attached": s.get("attached", [])}),
                             "application/vnd.spn.parts+json")
        if do == "status":
            return self.send(s["code"], s.get("body", ""), s.get("type", "application/json"))
        if do == "slow":
            time.sleep(s["seconds"])
            return self.send(200, '{"late":true}')
        if do == "huge":
            return self.send(200, json.dumps({"pad": "x" * s["bytes"]}))
        if do == "cut":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"cut":')
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if do == "close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if do == "hold":
            open(ARGS["port_file"] + ".holding", "w").close()
            RELEASE.wait(60)
            RELEASE.clear()
            os.unlink(ARGS["port_file"] + ".holding")
            return self.send(200, '{"held":true}')
        return self.send(400, '{"reason":"unknown do"}', "application/vnd.spn.parts+json")


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        conn, _ = super().get_request()
        return conn, ("unix", 0)


def main(argv):
    i = 1
    while i < len(argv):
        ARGS[argv[i].lstrip("-").replace("-", "_")] = argv[i + 1]
        i += 2
    if ARGS.get("socket"):
        srv = UnixServer(ARGS["socket"], Handler)
        port = 0
    else:
        srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        srv.daemon_threads = True
        port = srv.server_address[1]
    tmp = ARGS["port_file"] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, ARGS["port_file"])
    srv.serve_forever()


if __name__ == "__main__":
    main(sys.argv)

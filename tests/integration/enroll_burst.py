#!/usr/bin/env python3
"""POSTs enrollment bodies (one JSON per line of each FILE) to URL/v1/enroll
from 8 threads at once and writes one line per answer to OUT as it comes:
"<status> <serial or error name>", or "000 unreachable", then a tab, the
body's index (from 0, over all the files) and for an error its message. A
line is written only after the whole answer was read, so a serial in OUT was
handed out.
    enroll_burst.py URL CAFILE OUT FILE..."""
import json
import ssl
import sys
import threading
import urllib.error
import urllib.request

url, cafile, out = sys.argv[1] + "/v1/enroll", sys.argv[2], sys.argv[3]
bodies = [line.encode() for f in sys.argv[4:] for line in open(f) if line.strip()]
ctx = ssl.create_default_context(cafile=cafile) if url.startswith("https") else None
lock, sink, nxt = threading.Lock(), open(out, "a", buffering=1), [0]


def one(body):
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return "%d %s\t" % (r.status, json.loads(r.read())["serial"])
    except urllib.error.HTTPError as e:
        a = json.loads(e.read())
        return "%d %s\t%s" % (e.code, a.get("error", "?"), a.get("message", ""))
    except (OSError, ValueError):
        return "000 unreachable\t"


def worker():
    while True:
        with lock:
            i = nxt[0]
            nxt[0] += 1
        if i >= len(bodies):
            return
        status, _, message = one(bodies[i]).partition("\t")
        with lock:
            sink.write("%s\t%d\t%s\n" % (status, i, message))


threads = [threading.Thread(target=worker) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()

#!/usr/bin/env python3
"""Opens sessions as one anonymous client, as fast as it can: POST
/v1/session with 16 sessions each on THREADS kept-alive connections, for
SECONDS or until STOPFILE exists. Prints what the sessions got, as JSON:
{"calls": N, "opened": N, "errors": {name: N}}.
   session_flood.py URL ROOT SERVICE SECONDS THREADS [STOPFILE]"""
import base64, http.client, json, os, ssl, sys, threading, time
from urllib.parse import urlparse
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

url, root, service = sys.argv[1], sys.argv[2], sys.argv[3]
seconds, threads = float(sys.argv[4]), int(sys.argv[5])
stop = sys.argv[6] if len(sys.argv) > 6 else None
u = urlparse(url)
ctx = ssl.create_default_context(cafile=root)
ctx.check_hostname = False
pk = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
key = base64.urlsafe_b64encode(pk).rstrip(b"=").decode()
tag = os.urandom(4).hex()
lock = threading.Lock()
tally = {"calls": 0, "opened": 0, "errors": {}}
end = time.monotonic() + seconds


def run(t):
    conn = None
    i = 0
    while time.monotonic() < end and not (stop and os.path.exists(stop)):
        sessions = [{"session": "f%s-%d-%d-%d" % (tag, t, i, j), "service": service} for j in range(16)]
        i += 1
        body = json.dumps({"client_key": key, "sessions": sessions})
        try:
            if conn is None:
                conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)
            conn.request("POST", "/v1/session", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            ans = json.loads(r.read() or b"{}")
        except (OSError, http.client.HTTPException, ValueError) as e:
            conn = None
            with lock:
                tally["errors"][type(e).__name__] = tally["errors"].get(type(e).__name__, 0) + 1
            continue
        with lock:
            tally["calls"] += 1
            for s in ans.get("sessions", []):
                if "offer" in s:
                    tally["opened"] += 1
                else:
                    name = s.get("error", "?")
                    tally["errors"][name] = tally["errors"].get(name, 0) + 1
            if "sessions" not in ans:
                name = ans.get("error", "status %d" % r.status)
                tally["errors"][name] = tally["errors"].get(name, 0) + 1


ts = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(json.dumps(tally))

#!/usr/bin/env python3
"""The reference scenario's hospital (plugins/hospital/hospital.c) as a web
application behind the plugin http (doc/rest-services.md): the same rules,
the same refusals, the same answer, and a prescription sent to the pharmacy
through the node's call endpoint. Flask and the standard library only.

  http_hospital.py --prescriber NODE_ID [--port N] [--port-file FILE]
                   [--pharmacy SERVICE] [--leak]

It listens on 127.0.0.1 (port N, or one the system picks, written to FILE
once it listens) and serves POST /referrals, one thread per request. With
--leak it does what it must not, for the privacy matrix to catch: it nests
the pharmacy's whole answer in its own.
"""
import argparse
import collections
import hashlib
import json
import logging
import os
import secrets
import threading
import urllib.error
import urllib.request

from flask import Flask, Response, request
from werkzeug.serving import WSGIRequestHandler, make_server

# The rules, most specific first: (findings all present, diagnosis, drug,
# strength, quantity).
RULES = [
    ({"hypoxemia", "fever"}, "suspected pneumonia", "amoxicillin", "500 mg", 20),
    ({"tachycardia", "fever"}, "infection with tachycardia", "amoxicillin", "500 mg", 20),
    ({"fever"}, "fever", "paracetamol", "500 mg", 16),
    ({"tachycardia"}, "tachycardia", "bisoprolol", "2.5 mg", 30),
]
# Under the plugin's own bound on the whole request (timeout.hospital, 5 s
# by default), so that a pharmacy that does not answer still leaves time to
# answer the caller.
CALL_TIMEOUT = 4
# The answers remembered for retries; the oldest go first.
KEEP = 4096
PARTS = "application/vnd.spn.parts+json"

log = logging.getLogger("hospital")
# Calls go to the node on loopback, never through a proxy the environment
# may name.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Refused(Exception):
    def __init__(self, status, reason):
        super().__init__(reason)
        self.status, self.reason = status, reason


def strict_json(raw):
    """The body as JSON, refusing what JSON does not allow (NaN, Infinity)."""
    def no(c):
        raise ValueError(c)
    return json.loads(raw, parse_constant=no)


def diagnose(findings):
    for needs, diagnosis, drug, strength, quantity in RULES:
        if needs <= findings:
            return diagnosis, {"drug": drug, "strength": strength, "quantity": quantity}
    return None, None


def read_referral(raw, verified):
    """The patient and the findings, or Refused with hospital.c's reasons:
    they name fields, never a value (they cross the routers in the clear)."""
    try:
        ref = strict_json(raw)
    except ValueError:
        ref = None
    if not isinstance(ref, dict):
        raise Refused(422, "referral: expected a JSON object")
    if not verified:
        raise Refused(403, "referrals are taken from members of the group only")
    patient, findings = ref.get("patient"), ref.get("findings")
    if not isinstance(patient, str) or not 1 <= len(patient.encode()) <= 64 or not isinstance(findings, list):
        raise Refused(422, "referral: 'patient' and a list of 'findings' are required")
    return patient, findings


def call(base, token, service, body):
    """The callee's reply as JSON, or None when the call failed."""
    req = urllib.request.Request(base + service, data=json.dumps(body, separators=(",", ":")).encode(),
                                 headers={"Content-Type": "application/json", "Spn-Call-Token": token},
                                 method="POST")
    try:
        with opener.open(req, timeout=CALL_TIMEOUT) as r:
            return json.loads(r.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None


class Once:
    """Each action once per key: a retry gets the answer recorded the first
    time, and a retry arriving while the first is still at work waits for
    it instead of acting again."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers = collections.OrderedDict()
        self.working = {}

    def run(self, key, act):
        with self.lock:
            slot = self.working.setdefault(key, [threading.Lock(), 0])
            slot[1] += 1
        try:
            with slot[0]:
                with self.lock:
                    got = self.answers.get(key)
                if got is None:
                    got = act()
                    with self.lock:
                        self.answers[key] = got
                        while len(self.answers) > KEEP:
                            self.answers.popitem(last=False)
                return got
        finally:
            with self.lock:
                slot[1] -= 1
                if not slot[1]:
                    del self.working[key]


class Quiet(WSGIRequestHandler):
    """One plain line a request, in the application's log format."""

    def log_request(self, code="-", size="-"):
        log.info("%s %s: %s", self.command, self.path, code)


def create_app(prescriber, pharmacy="pharmacy", leak=False):
    app = Flask("http_hospital")
    once = Once()

    def referral(raw, h):
        """(status, content type, body) for one section."""
        mid, author = h.get("Spn-Message-Id", ""), h.get("Spn-Author", "")
        try:
            patient, findings = read_referral(raw, h.get("Spn-Author-Verified") == "true")
        except Refused as e:
            return e.status, PARTS, {"reason": e.reason}
        log.info("message %s: a referral from %s with %d finding(s)", mid, author, len(findings))
        diagnosis, rx = diagnose({f for f in findings if isinstance(f, str)})
        if not diagnosis:
            return 422, PARTS, {"reason": "referral: no finding this hospital treats"}
        case = "case-" + secrets.token_hex(8)
        log.info("message %s: a case opened; a prescription goes to %s", mid, pharmacy)
        got = call(h.get("Spn-Call", ""), h.get("Spn-Call-Token", ""), pharmacy,
                   {"patient": patient, "prescription": rx, "prescriber": prescriber})
        dispensed = isinstance(got, dict) and got.get("status") == "dispensed"
        (log.info if dispensed else log.warning)("message %s: %s", mid, "dispensed" if dispensed else
                                                 "the pharmacy could not be asked" if got is None else "not dispensed")
        # Of the pharmacy's answer the caller learns whether it dispensed,
        # nothing else: its order is between the pharmacy and the hospital.
        answer = {"case": case, "diagnosis": diagnosis, "prescription": rx, "dispensed": dispensed}
        if leak:
            answer["pharmacy"] = got
        return 200, "application/json", answer

    @app.post("/referrals")
    def referrals():
        raw, h = request.get_data(), request.headers
        # The message id alone would merge two referrals one message made;
        # with the author and the body's digest only a retry is the same.
        key = (h.get("Spn-Message-Id", ""), h.get("Spn-Author", ""), hashlib.sha256(raw).hexdigest())
        status, ctype, body = once.run(key, lambda: referral(raw, h))
        try:
            carried = int(h.get("Spn-Attached", "0"))
        except ValueError:
            carried = 0
        # Sections a client wrote for the hospital and sent along with the
        # caller's are answered privately, that they were taken.
        if carried > 0 and status == 200:
            ctype, body = PARTS, {"reply": body, "attached": [{"handled": True}] * carried}
        return Response(json.dumps(body, separators=(",", ":")), status=status, content_type=ctype)

    return app


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prescriber", required=True, help="the node id the prescriptions are signed with")
    ap.add_argument("--port", type=int, default=0, help="the port on 127.0.0.1 (0: one the system picks)")
    ap.add_argument("--port-file", help="where the port goes once it listens")
    ap.add_argument("--pharmacy", default="pharmacy", help="the service prescriptions go to")
    ap.add_argument("--leak", action="store_true", help="nest the pharmacy's answer in the reply (a test's control)")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = make_server("127.0.0.1", a.port, create_app(a.prescriber, a.pharmacy, a.leak), threaded=True,
                         request_handler=Quiet)
    if a.port_file:
        # Whole or not at all: whoever waits for the file reads a port.
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % server.server_port)
        os.replace(a.port_file + ".tmp", a.port_file)
    log.info("listening on 127.0.0.1:%d", server.server_port)
    server.serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Finds every section (compact JWE) and every session offer in a capture
of loopback traffic and holds each to doc/protocol.md with a strict JSON
reader of its own (a member twice is an error, as are a missing or an extra
one, a wrong type, a malformed id, whitespace in a header). Writes what it
found to OUT as JSON ({"sections": [...], "offers": [...]}) for the JOSE
side of the check, prints how many of each, and exits 1 naming any fault.
Only connections to or from the given ports are read: other tests may run
on loopback at the same time.
usage: wire_extract.py PCAP OUT PORT..."""
import base64
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcap_grep import streams  # noqa: E402

B64U = r"[A-Za-z0-9_-]"
SECTION = re.compile(rf"eyJ{B64U}*\.{B64U}*\.{B64U}*\.{B64U}*\.{B64U}*".encode())
OFFER = re.compile(rb'"offer":\s*\{')
ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
NAME = re.compile(r"[a-z0-9][a-z0-9.-]{0,62}")
SERVICE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
HEADER = {"alg": str, "enc": str, "kid": str, "svc": str, "to": str, "from": str, "mid": str, "seq": int}
OFFER_MEMBERS = ("session", "service", "provider", "client_key", "enc", "sealed_key", "sig", "certificate")


def no_duplicates(pairs):
    names = [k for k, _ in pairs]
    dup = {k for k in names if names.count(k) > 1}
    if dup:
        raise ValueError(f"member(s) {sorted(dup)} twice")
    return dict(pairs)


def strict_json(text):
    return json.loads(text, object_pairs_hook=no_duplicates)


def b64u(s):
    """Canonical base64url without padding, or ValueError."""
    if not re.fullmatch(rf"{B64U}*", s):
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != s:
        raise ValueError("not the canonical base64url of its bytes")
    return raw


def check_section(jwe):
    parts = jwe.split(".")
    if len(parts) != 5 or parts[1] != "":
        raise ValueError("not five parts with an empty encrypted key")
    text = b64u(parts[0]).decode("utf-8")
    if re.search(r"\s", text):
        raise ValueError("a header written with whitespace")
    h = strict_json(text)
    if set(h) != set(HEADER):
        raise ValueError(f"header members {sorted(h)}")
    for k, t in HEADER.items():
        if type(h[k]) is not t:
            raise ValueError(f"header {k} is not a {t.__name__}")
    if (h["alg"], h["enc"]) != ("dir", "A256GCM") or not 0 <= h["seq"] < 2**63:
        raise ValueError("alg, enc or seq")
    if not (ID.fullmatch(h["kid"]) and ID.fullmatch(h["mid"]) and ID.fullmatch(h["from"])
            and SERVICE.fullmatch(h["svc"]) and NAME.fullmatch(h["to"])):
        raise ValueError("an id or name out of its pattern")
    if len(b64u(parts[2])) != 12 or len(b64u(parts[4])) != 16:
        raise ValueError("IV or tag length")
    b64u(parts[3])


def check_offer(o):
    if set(o) != set(OFFER_MEMBERS) or not all(isinstance(o[k], str) for k in OFFER_MEMBERS):
        raise ValueError(f"offer members {sorted(o)}")
    if not (ID.fullmatch(o["session"]) and SERVICE.fullmatch(o["service"]) and NAME.fullmatch(o["provider"])):
        raise ValueError("an id or name out of its pattern")
    sizes = {"client_key": 32, "enc": 32, "sealed_key": 48}
    for k, n in sizes.items():
        if len(b64u(o[k])) != n:
            raise ValueError(f"{k} is not {n} bytes")
    if not b64u(o["sig"]) or not o["certificate"].startswith("-----BEGIN CERTIFICATE-----"):
        raise ValueError("signature or certificate")


def main():
    sections, offers, faults = {}, {}, []
    for data in streams(sys.argv[1], {int(p) for p in sys.argv[3:]}):
        for m in SECTION.finditer(data):
            sections[m.group().decode()] = True
        # Byte for character, to find where each offer ends; each is then
        # read strictly, as UTF-8.
        text = data.decode("latin-1")
        for m in OFFER.finditer(data):
            try:
                _, end = json.JSONDecoder().raw_decode(text, m.end() - 1)
                offers[data[m.end() - 1:end].decode("utf-8")] = True
            except ValueError as e:
                faults.append(f"an offer that is not JSON: {e}")
    for jwe in sections:
        try:
            check_section(jwe)
        except (ValueError, UnicodeDecodeError) as e:
            faults.append(f"section {jwe[:40]}…: {e}")
    for text in offers:
        try:
            check_offer(strict_json(text))
        except ValueError as e:
            faults.append(f"offer {text[:60]}…: {e}")
    with open(sys.argv[2], "w") as f:
        json.dump({"sections": list(sections), "offers": list(offers)}, f)
    print(f"{len(sections)} sections, {len(offers)} offers")
    for fault in faults:
        print(fault)
    sys.exit(1 if faults else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Rewrites claims of a join token and signs it again with a given key, the
way a member that holds its own key could: the PSP must still refuse what the
signer may not grant. +key=value writes the member once more at the end of
the claims, after the one already there (a claim twice, signed).
usage: forge_token.py TOKEN KEY.pem [+]key=value..."""
import base64
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


token, keyfile, *changes = sys.argv[1:]
prefix, claims, _ = token.split(".")
c = json.loads(b64d(claims))
again = []
for ch in changes:
    k, v = ch.split("=", 1)
    v = json.loads(v) if v[:1] in "0123456789[{\"" else v
    if k.startswith("+"):
        again.append((k[1:], v))
    else:
        c[k] = v
text = json.dumps(c, separators=(",", ":"))
for k, v in again:
    text = text[:-1] + "," + json.dumps(k) + ":" + json.dumps(v, separators=(",", ":")) + "}"
body = prefix + "." + b64e(text.encode())
key = serialization.load_pem_private_key(open(keyfile, "rb").read(), None)
if isinstance(key, ed25519.Ed25519PrivateKey):
    sig = key.sign(body.encode())
elif isinstance(key, ec.EllipticCurvePrivateKey):
    sig = key.sign(body.encode(), ec.ECDSA(hashes.SHA256()))
else:
    sig = key.sign(body.encode(), padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
print(body + "." + b64e(sig))

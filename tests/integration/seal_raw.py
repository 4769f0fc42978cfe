#!/usr/bin/python3
"""Seals a section whose protected header is the given text, byte for byte,
as a client that writes its own JSON could (a member twice, a sequence
number past 2^63, another algorithm's members): the tag covers that text,
so only the reader's parse can refuse it.
usage: seal_raw.py KEY_HEX HEADER_TEXT [PLAINTEXT]"""
import base64
import os
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


key, header = bytes.fromhex(sys.argv[1]), sys.argv[2].encode()
pt = (sys.argv[3] if len(sys.argv) > 3 else "x").encode()
protected = b64e(header)
iv = os.urandom(12)
sealed = AESGCM(key).encrypt(iv, pt, protected.encode())
print(".".join([protected, "", b64e(iv), b64e(sealed[:-16]), b64e(sealed[-16:])]))

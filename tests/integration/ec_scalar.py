#!/usr/bin/python3
"""Holds every P-256 private key in the given PEM files to RFC 5915: its
ECPrivateKey carries the scalar as an octet string of exactly 32 octets.
Lenient readers (OpenSSL, GnuTLS, older python3-cryptography) take 31 or 33
octets as well, newer python3-cryptography refuses them: this reads the DER
as written, decrypting PBES2 (PBKDF2, AES-CBC) PKCS#8 itself so that nothing
re-encodes the key first. Other key types are passed over.
usage: ec_scalar.py PASSPHRASE FILE...   (exit 1 naming any offender)"""
import base64
import re
import sys

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")   # 1.2.840.10045.2.1
PRIME256V1 = bytes.fromhex("2a8648ce3d030107")     # 1.2.840.10045.3.1.7
HMAC_SHA256 = bytes.fromhex("2a864886f70d0209")    # 1.2.840.113549.2.9


def items(der):
    """The (tag, contents) of each DER element in der, in order."""
    out, i = [], 0
    while i < len(der):
        tag, n = der[i], der[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(der[i:i + k], "big")
            i += k
        out.append((tag, der[i:i + n]))
        i += n
    return out


def decrypt(der, passphrase):
    """PKCS#8 EncryptedPrivateKeyInfo (PBES2) -> PrivateKeyInfo DER."""
    (_, info), = items(der)
    (_, alg), (_, data) = items(info)
    (_, _), (_, params) = items(alg)
    (_, kdf), (_, enc) = items(params)
    (_, _), (_, kdf_params) = items(kdf)
    kp = items(kdf_params)
    salt, rounds = kp[0][1], int.from_bytes(kp[1][1], "big")
    prf = hashes.SHA1()
    for tag, v in kp[2:]:
        if tag == 0x30 and items(v)[0][1] == HMAC_SHA256:
            prf = hashes.SHA256()
    (_, cipher_oid), (_, iv) = items(enc)
    size = {0x02: 16, 0x16: 24, 0x2A: 32}[cipher_oid[-1]]
    key = PBKDF2HMAC(prf, size, salt, rounds).derive(passphrase)
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    plain = d.update(data) + d.finalize()
    u = padding.PKCS7(128).unpadder()
    return u.update(plain) + u.finalize()


def scalar_of(der):
    """The scalar of a P-256 key in PrivateKeyInfo or ECPrivateKey DER, or
    None when the key is of another kind."""
    (_, body), = items(der)
    parts = items(body)
    if parts[1][0] == 0x30:   # PrivateKeyInfo: version, algorithm, key
        alg = [v for _, v in items(parts[1][1])]
        if alg[0] != EC_PUBLIC_KEY or len(alg) < 2 or alg[1] != PRIME256V1:
            return None
        (_, body), = items(parts[2][1])
        parts = items(body)
    return parts[1][1]


def main():
    passphrase, bad, seen = sys.argv[1].encode(), 0, 0
    for path in sys.argv[2:]:
        text = open(path).read()
        for kind, b64 in re.findall(r"-----BEGIN ((?:ENCRYPTED |EC )?PRIVATE KEY)-----(.*?)-----END", text, re.S):
            der = base64.b64decode("".join(b64.split()))
            if kind.startswith("ENCRYPTED"):
                der = decrypt(der, passphrase)
            d = scalar_of(der)
            if d is None:
                continue
            seen += 1
            if len(d) != 32:
                bad += 1
                print(f"{path}: a P-256 scalar of {len(d)} octets, not 32")
    print(f"{seen} P-256 keys read")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

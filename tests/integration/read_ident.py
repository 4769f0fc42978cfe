#!/usr/bin/python3
"""Reads an spn certificate with python3-cryptography alone and checks the
identity it binds: CN, O and the spn:// subjectAltName URI."""
import sys
from urllib.parse import urlsplit, parse_qs

from cryptography import x509
from cryptography.x509.oid import NameOID

path, group, node, role, trust, services = sys.argv[1:7]
cert = x509.load_pem_x509_certificate(open(path, "rb").read())
cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
org = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
uris = [u for u in san.get_values_for_type(x509.UniformResourceIdentifier) if u.startswith("spn://")]
assert len(uris) == 1, uris
u = urlsplit(uris[0])
q = parse_qs(u.query, keep_blank_values=True)
got = (cn, org, u.netloc, u.path.lstrip("/"), q["role"][0], q["trust"][0], q["services"][0])
want = (node, group, group, node, role, trust, services)
assert got == want, (got, want)
bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
assert not bc.ca
print("identity:", uris[0])

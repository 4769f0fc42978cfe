// Every section and session offer spn's daemons put on the wire, read by
// implementations that share nothing with spn: each section by the jose
// package, restricted to dir and A256GCM, opened where the test holds its
// session's keys and otherwise parsed all the way to its tag; each offer's
// certificate checked against the group's root by Node's X.509, and its
// signature over the transcript (doc/protocol.md §4) verified by Node's
// crypto for the certificate's key type.
//   node wire.mjs FOUND.json KEYS.json ROOT.pem
// FOUND: {"sections": [...], "offers": [...]}; KEYS: {session id:
// {"provider", "to_provider", "to_client"}} (hex). Prints what it read;
// exits 1 naming any fault.
import { readFileSync } from "node:fs";
import { X509Certificate, constants, randomBytes, verify } from "node:crypto";
import { compactDecrypt, decodeProtectedHeader } from "jose";

const [foundFile, keysFile, rootFile] = process.argv.slice(2);
const found = JSON.parse(readFileSync(foundFile, "utf8"));
const keys = JSON.parse(readFileSync(keysFile, "utf8"));
const root = new X509Certificate(readFileSync(rootFile));
const strict = { keyManagementAlgorithms: ["dir"], contentEncryptionAlgorithms: ["A256GCM"] };
const faults = [];
let opened = 0, parsed = 0;

// The session key for a section: toward the provider when it is addressed
// to it, else toward the client.
function keyFor(h) {
  const k = keys[h.kid];
  if (!k) return null;
  return Buffer.from(h.to === k.provider ? k.to_provider : k.to_client, "hex");
}

for (const jwe of found.sections) {
  const h = decodeProtectedHeader(jwe);
  const key = keyFor(h);
  try {
    // Without its key, a random one: a well-formed section then fails at
    // its tag and nowhere before.
    await compactDecrypt(jwe, key ?? randomBytes(32), strict);
    if (!key) faults.push(`section ${h.kid}/${h.mid}/${h.seq}: opened under a random key`);
    else opened++;
  } catch (e) {
    if (!key && e.code === "ERR_JWE_DECRYPTION_FAILED") parsed++;
    else faults.push(`section ${h.kid}/${h.mid}/${h.seq} to ${h.to}: ${e.code ?? ""} ${e.message}`);
  }
}

// How the certificate's key signs (doc/protocol.md §4, step 3).
function sigOk(cert, data, sig) {
  const key = cert.publicKey;
  switch (key.asymmetricKeyType) {
    case "ed25519": return verify(null, data, key, sig);
    case "ec": return verify("sha256", data, key, sig);
    case "rsa": return verify("sha256", data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
    default: return false;
  }
}

const b = (s) => Buffer.from(s, "base64url");
for (const text of found.offers) {
  const o = JSON.parse(text);
  const what = `offer ${o.session} of ${o.provider} for ${o.service}`;
  const cert = new X509Certificate(o.certificate);
  const transcript = `spn-session-v1\n${o.session}\n${o.service}\n${o.provider}\n` +
    `${b(o.client_key).toString("hex")}\n${b(o.enc).toString("hex")}\n${b(o.sealed_key).toString("hex")}\n`;
  const uri = (cert.subjectAltName ?? "").match(/URI:spn:\/\/[^/]+\/([^?]+)\?[^,]*services=([^&,]*)/);
  if (!cert.checkIssued(root) || !cert.verify(root.publicKey))
    faults.push(`${what}: its certificate is not the root's`);
  else if (!uri || uri[1] !== o.provider || !uri[2].split(",").includes(o.service))
    faults.push(`${what}: its certificate does not name ${o.provider} for ${o.service}`);
  else if (!sigOk(cert, Buffer.from(transcript), b(o.sig)))
    faults.push(`${what}: the signature over the transcript does not verify (${cert.publicKey.asymmetricKeyType})`);
}

console.log(`${opened} sections opened, ${parsed} parsed to their tag, ${found.offers.length} offers verified`);
for (const f of faults) console.log(f);
process.exit(faults.length ? 1 : 0);

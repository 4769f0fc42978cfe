// The other side of the section interop test: the jose package, an
// independent JOSE implementation. Key in hex.
//   node jwe.mjs seal KEY HEADER_JSON PLAINTEXT -> compact JWE
//   node jwe.mjs open KEY JWE                   -> plaintext, then the protected header as JSON
import { CompactEncrypt, compactDecrypt } from "jose";

const [cmd, keyHex, ...args] = process.argv.slice(2);
const key = Uint8Array.from(Buffer.from(keyHex, "hex"));

if (cmd === "seal") {
  const [header, pt] = args;
  const jwe = await new CompactEncrypt(new TextEncoder().encode(pt))
    .setProtectedHeader(JSON.parse(header))
    .encrypt(key);
  console.log(jwe);
} else if (cmd === "open") {
  const { plaintext, protectedHeader } = await compactDecrypt(args[0], key);
  console.log(new TextDecoder().decode(plaintext));
  console.log(JSON.stringify(protectedHeader));
} else {
  console.error("usage: jwe.mjs seal|open KEY ...");
  process.exit(2);
}

// The other side of the HPKE interop test: @hpke/core, an independent
// implementation of RFC 9180. Hex in, hex out.
//   node hpke.mjs seal AEAD PK_R INFO AAD PT       -> "ENC CT"
//   node hpke.mjs open AEAD SK_R PK_R ENC INFO AAD CT -> "PT"
import { Aes128Gcm, Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";

const hex = (s) => Uint8Array.from(Buffer.from(s, "hex"));
const out = (b) => Buffer.from(new Uint8Array(b)).toString("hex");
const [cmd, aeadId, ...args] = process.argv.slice(2);
const suite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: aeadId === "1" ? new Aes128Gcm() : new Aes256Gcm(),
});

if (cmd === "seal") {
  const [pk, info, aad, pt] = args.map(hex);
  const recipientPublicKey = await suite.kem.importKey("raw", pk.buffer, true);
  const sender = await suite.createSenderContext({ recipientPublicKey, info: info.buffer });
  const ct = await sender.seal(pt.buffer, aad.buffer);
  console.log(out(sender.enc), out(ct));
} else if (cmd === "open") {
  const [sk, pk, enc, info, aad, ct] = args.map(hex);
  const privateKey = await suite.kem.importKey("raw", sk.buffer, false);
  const publicKey = await suite.kem.importKey("raw", pk.buffer, true);
  const recipient = await suite.createRecipientContext({
    recipientKey: { privateKey, publicKey },
    enc: enc.buffer,
    info: info.buffer,
  });
  console.log(out(await recipient.open(ct.buffer, aad.buffer)));
} else {
  console.error("usage: hpke.mjs seal|open AEAD ...");
  process.exit(2);
}

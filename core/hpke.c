/* RFC 9180 on Nettle's X25519, HMAC-SHA256/HKDF, AES-GCM and
 * ChaCha20-Poly1305. The labels and lengths follow §4-§5 of the RFC; the
 * published vectors run in tests/unit/test_hpke.c. */
#include "config.h"

#include <gnutls/crypto.h>
#include <nettle/chacha-poly1305.h>
#include <nettle/curve25519.h>
#include <nettle/gcm.h>
#include <nettle/hkdf.h>
#include <nettle/hmac.h>
#include <stdbool.h>
#include <string.h>

#include "error.h"
#include "hpke.h"
#include "mem.h"

#define NH 32                /* SHA-256 */
#define LABEL_MAX 512

static const uint8_t kem_suite[5] = {'K', 'E', 'M', 0x00, 0x20};

static size_t key_len(spn_hpke_aead_t aead)
{
	return aead == SPN_HPKE_AES128GCM ? 16 : aead == SPN_HPKE_AES256GCM || aead == SPN_HPKE_CHACHA20POLY1305 ? 32 : 0;
}

/* LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite || label || ikm) */
static int labeled_extract(const uint8_t *suite, size_t suite_len, const uint8_t *salt, size_t salt_len,
			   const char *label, const uint8_t *ikm, size_t ikm_len, uint8_t prk[NH])
{
	struct hmac_sha256_ctx h;
	uint8_t buf[LABEL_MAX];
	size_t n = 0, ll = strlen(label);

	if (7 + suite_len + ll + ikm_len > sizeof(buf))
		return SPN_EINVAL;
	memcpy(buf, "HPKE-v1", 7), n = 7;
	memcpy(buf + n, suite, suite_len), n += suite_len;
	memcpy(buf + n, label, ll), n += ll;
	if (ikm_len)
		memcpy(buf + n, ikm, ikm_len), n += ikm_len;
	hmac_sha256_set_key(&h, salt_len, salt_len ? salt : (const uint8_t *)"");
	hkdf_extract(&h, (nettle_hash_update_func *)hmac_sha256_update, (nettle_hash_digest_func *)hmac_sha256_digest,
		     NH, n, buf, prk);
	spn_wipe(buf, sizeof(buf));
	spn_wipe(&h, sizeof(h));
	return 0;
}

/* LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite || label || info, L) */
static int labeled_expand(const uint8_t *suite, size_t suite_len, const uint8_t prk[NH], const char *label,
			  const uint8_t *info, size_t info_len, uint8_t *out, size_t len)
{
	struct hmac_sha256_ctx h;
	uint8_t buf[LABEL_MAX];
	size_t n = 0, ll = strlen(label);

	if (len > 255 * NH || 9 + suite_len + ll + info_len > sizeof(buf))
		return SPN_EINVAL;
	buf[n++] = (uint8_t)(len >> 8);
	buf[n++] = (uint8_t)len;
	memcpy(buf + n, "HPKE-v1", 7), n += 7;
	memcpy(buf + n, suite, suite_len), n += suite_len;
	memcpy(buf + n, label, ll), n += ll;
	if (info_len)
		memcpy(buf + n, info, info_len), n += info_len;
	hmac_sha256_set_key(&h, NH, prk);
	hkdf_expand(&h, (nettle_hash_update_func *)hmac_sha256_update, (nettle_hash_digest_func *)hmac_sha256_digest,
		    NH, n, buf, len, out);
	spn_wipe(&h, sizeof(h));
	return 0;
}

int spn_hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len, uint8_t sk[SPN_HPKE_KEY], uint8_t pk[SPN_HPKE_KEY])
{
	uint8_t prk[NH];
	int rc;

	if ((rc = labeled_extract(kem_suite, sizeof(kem_suite), NULL, 0, "dkp_prk", ikm, ikm_len, prk)) == 0 &&
	    (rc = labeled_expand(kem_suite, sizeof(kem_suite), prk, "sk", NULL, 0, sk, SPN_HPKE_KEY)) == 0)
		curve25519_mul_g(pk, sk);
	spn_wipe(prk, sizeof(prk));
	return rc;
}

int spn_hpke_keypair(uint8_t sk[SPN_HPKE_KEY], uint8_t pk[SPN_HPKE_KEY])
{
	uint8_t ikm[32];
	int rc;

	if (gnutls_rnd(GNUTLS_RND_KEY, ikm, sizeof(ikm)) < 0)
		return spn_err(SPN_ECRYPTO, "no random bytes for a key pair");
	rc = spn_hpke_derive_keypair(ikm, sizeof(ikm), sk, pk);
	spn_wipe(ikm, sizeof(ikm));
	return rc;
}

/* DH, refusing the all-zero output of a low-order point (RFC 9180 §7.1.4):
 * the point came from the peer, so it is bad input, not a failed
 * operation. */
static int x25519(uint8_t out[32], const uint8_t sk[32], const uint8_t pk[32])
{
	static const uint8_t zero[32];

	curve25519_mul(out, sk, pk);
	if (spn_mem_is_equal(out, zero, 32))
		return spn_err(SPN_EINVAL, "the peer's X25519 public key has small order: no shared secret can come of it");
	return 0;
}

/* ExtractAndExpand(dh, enc || pkR) */
static int shared_secret(const uint8_t dh[32], const uint8_t enc[32], const uint8_t pk_r[32], uint8_t out[NH])
{
	uint8_t prk[NH], ctx[64];
	int rc;

	memcpy(ctx, enc, 32);
	memcpy(ctx + 32, pk_r, 32);
	if ((rc = labeled_extract(kem_suite, sizeof(kem_suite), NULL, 0, "eae_prk", dh, 32, prk)) == 0)
		rc = labeled_expand(kem_suite, sizeof(kem_suite), prk, "shared_secret", ctx, sizeof(ctx), out, NH);
	spn_wipe(prk, sizeof(prk));
	return rc;
}

/* KeyScheduleS/R for mode_base. */
static int key_schedule(spn_hpke_aead_t aead, const uint8_t ss[NH], const uint8_t *info, size_t info_len,
			spn_hpke_ctx_t *ctx)
{
	uint8_t suite[10] = {'H', 'P', 'K', 'E', 0x00, 0x20, 0x00, 0x01, 0x00, (uint8_t)aead};
	uint8_t ksc[1 + 2 * NH], secret[NH];
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	if (!(ctx->key_len = key_len(aead)))
		return spn_err(SPN_EUNSUPPORTED, "HPKE: unknown AEAD %d", (int)aead);
	ctx->aead = aead;
	ksc[0] = 0x00;
	if ((rc = labeled_extract(suite, sizeof(suite), NULL, 0, "psk_id_hash", NULL, 0, ksc + 1)) ||
	    (rc = labeled_extract(suite, sizeof(suite), NULL, 0, "info_hash", info, info_len, ksc + 1 + NH)) ||
	    (rc = labeled_extract(suite, sizeof(suite), ss, NH, "secret", NULL, 0, secret)) ||
	    (rc = labeled_expand(suite, sizeof(suite), secret, "key", ksc, sizeof(ksc), ctx->key, ctx->key_len)) ||
	    (rc = labeled_expand(suite, sizeof(suite), secret, "base_nonce", ksc, sizeof(ksc), ctx->base_nonce, 12)) ||
	    (rc = labeled_expand(suite, sizeof(suite), secret, "exp", ksc, sizeof(ksc), ctx->exporter_secret, NH)))
		spn_hpke_ctx_clear(ctx);
	spn_wipe(secret, sizeof(secret));
	return rc;
}

int spn_hpke_setup_sender(spn_hpke_aead_t aead, const uint8_t pk_r[SPN_HPKE_KEY], const uint8_t *info, size_t info_len,
			  const uint8_t *ikm_e, size_t ikm_e_len, uint8_t enc[SPN_HPKE_KEY], spn_hpke_ctx_t *ctx)
{
	uint8_t sk_e[32], dh[32], ss[NH];
	int rc = ikm_e ? spn_hpke_derive_keypair(ikm_e, ikm_e_len, sk_e, enc) : spn_hpke_keypair(sk_e, enc);

	if (rc == 0 && (rc = x25519(dh, sk_e, pk_r)) == 0 && (rc = shared_secret(dh, enc, pk_r, ss)) == 0)
		rc = key_schedule(aead, ss, info, info_len, ctx);
	spn_wipe(sk_e, sizeof(sk_e));
	spn_wipe(dh, sizeof(dh));
	spn_wipe(ss, sizeof(ss));
	return rc;
}

int spn_hpke_setup_receiver(spn_hpke_aead_t aead, const uint8_t enc[SPN_HPKE_KEY], const uint8_t sk_r[SPN_HPKE_KEY],
			    const uint8_t *info, size_t info_len, spn_hpke_ctx_t *ctx)
{
	uint8_t pk_r[32], dh[32], ss[NH];
	int rc;

	curve25519_mul_g(pk_r, sk_r);
	if ((rc = x25519(dh, sk_r, enc)) == 0 && (rc = shared_secret(dh, enc, pk_r, ss)) == 0)
		rc = key_schedule(aead, ss, info, info_len, ctx);
	spn_wipe(dh, sizeof(dh));
	spn_wipe(ss, sizeof(ss));
	return rc;
}

static void nonce_for(const spn_hpke_ctx_t *ctx, uint8_t nonce[12])
{
	memcpy(nonce, ctx->base_nonce, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(ctx->seq >> (8 * i));
}

/* One AEAD operation; open compares the tag in constant time. */
static int aead(const spn_hpke_ctx_t *ctx, bool seal, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
		const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[SPN_HPKE_TAG])
{
	union {
		struct gcm_aes128_ctx g128;
		struct gcm_aes256_ctx g256;
		struct chacha_poly1305_ctx cp;
	} c;

	switch (ctx->aead) {
	case SPN_HPKE_AES128GCM:
		gcm_aes128_set_key(&c.g128, ctx->key);
		gcm_aes128_set_iv(&c.g128, 12, nonce);
		gcm_aes128_update(&c.g128, aad_len, aad);
		(seal ? gcm_aes128_encrypt : gcm_aes128_decrypt)(&c.g128, len, out, in);
		gcm_aes128_digest(&c.g128, SPN_HPKE_TAG, tag);
		break;
	case SPN_HPKE_AES256GCM:
		gcm_aes256_set_key(&c.g256, ctx->key);
		gcm_aes256_set_iv(&c.g256, 12, nonce);
		gcm_aes256_update(&c.g256, aad_len, aad);
		(seal ? gcm_aes256_encrypt : gcm_aes256_decrypt)(&c.g256, len, out, in);
		gcm_aes256_digest(&c.g256, SPN_HPKE_TAG, tag);
		break;
	case SPN_HPKE_CHACHA20POLY1305:
		chacha_poly1305_set_key(&c.cp, ctx->key);
		chacha_poly1305_set_nonce(&c.cp, nonce);
		chacha_poly1305_update(&c.cp, aad_len, aad);
		(seal ? chacha_poly1305_encrypt : chacha_poly1305_decrypt)(&c.cp, len, out, in);
		chacha_poly1305_digest(&c.cp, SPN_HPKE_TAG, tag);
		break;
	default:
		return spn_err(SPN_EUNSUPPORTED, "HPKE: unknown AEAD");
	}
	spn_wipe(&c, sizeof(c));
	return 0;
}

int spn_hpke_seal(spn_hpke_ctx_t *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
		  uint8_t *ct)
{
	uint8_t nonce[12];
	int rc;

	if (ctx->seq == UINT64_MAX)
		return spn_err(SPN_ELIMIT, "HPKE: sequence number exhausted");
	nonce_for(ctx, nonce);
	if ((rc = aead(ctx, true, nonce, aad, aad_len, pt, pt_len, ct, ct + pt_len)) == 0)
		ctx->seq++;
	return rc;
}

int spn_hpke_open(spn_hpke_ctx_t *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
		  uint8_t *pt)
{
	uint8_t nonce[12], tag[SPN_HPKE_TAG];
	size_t len;
	int rc;

	if (ct_len < SPN_HPKE_TAG)
		return spn_err(SPN_EBADSIG, "HPKE: ciphertext shorter than its tag");
	if (ctx->seq == UINT64_MAX)
		return spn_err(SPN_ELIMIT, "HPKE: sequence number exhausted");
	len = ct_len - SPN_HPKE_TAG;
	nonce_for(ctx, nonce);
	if ((rc = aead(ctx, false, nonce, aad, aad_len, ct, len, pt, tag)))
		return rc;
	if (!spn_mem_is_equal(tag, ct + len, SPN_HPKE_TAG)) {
		spn_wipe(pt, len);
		return spn_err(SPN_EBADSIG, "HPKE: ciphertext or associated data altered");
	}
	ctx->seq++;
	return 0;
}

int spn_hpke_export(const spn_hpke_ctx_t *ctx, const uint8_t *exp_ctx, size_t exp_len, uint8_t *out, size_t out_len)
{
	uint8_t suite[10] = {'H', 'P', 'K', 'E', 0x00, 0x20, 0x00, 0x01, 0x00, (uint8_t)ctx->aead};

	return labeled_expand(suite, sizeof(suite), ctx->exporter_secret, "sec", exp_ctx, exp_len, out, out_len);
}

void spn_hpke_ctx_clear(spn_hpke_ctx_t *ctx)
{
	spn_wipe(ctx, sizeof(*ctx));
}

/* HPKE (RFC 9180), base mode, on Nettle: DHKEM(X25519, HKDF-SHA256) with
 * HKDF-SHA256 and a choice of AEAD (AES-256-GCM by default in spn;
 * AES-128-GCM and ChaCha20-Poly1305 as well). A provider seals a fresh
 * session key to a client's ephemeral public key with it (doc/protocol.md). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SPN_HPKE_KEY 32   /* X25519 public and private keys, enc */
#define SPN_HPKE_TAG 16

/* AEAD identifiers as RFC 9180 numbers them. */
typedef enum {
	SPN_HPKE_AES128GCM = 1,
	SPN_HPKE_AES256GCM = 2,
	SPN_HPKE_CHACHA20POLY1305 = 3,
} spn_hpke_aead_t;

#define SPN_HPKE_KEM_X25519 0x0020
#define SPN_HPKE_KDF_SHA256 0x0001

/* The state of one direction of an HPKE context; wipe with
 * spn_hpke_ctx_clear. */
typedef struct {
	spn_hpke_aead_t aead;
	uint8_t key[32];
	size_t key_len;
	uint8_t base_nonce[12];
	uint8_t exporter_secret[32];
	uint64_t seq;
} spn_hpke_ctx_t;

/* A fresh key pair from the system's random generator. */
int spn_hpke_keypair(uint8_t sk[SPN_HPKE_KEY], uint8_t pk[SPN_HPKE_KEY]);
/* DeriveKeyPair(ikm) of the RFC (for tests and deterministic keys). */
int spn_hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len, uint8_t sk[SPN_HPKE_KEY], uint8_t pk[SPN_HPKE_KEY]);

/* SetupBaseS: encapsulates to pk_r. ikm_e NULL draws the ephemeral key at
 * random; given, it is derived from ikm_e (test vectors). */
int spn_hpke_setup_sender(spn_hpke_aead_t aead, const uint8_t pk_r[SPN_HPKE_KEY], const uint8_t *info, size_t info_len,
			  const uint8_t *ikm_e, size_t ikm_e_len, uint8_t enc[SPN_HPKE_KEY], spn_hpke_ctx_t *ctx);
/* SetupBaseR: decapsulates enc with sk_r. */
int spn_hpke_setup_receiver(spn_hpke_aead_t aead, const uint8_t enc[SPN_HPKE_KEY], const uint8_t sk_r[SPN_HPKE_KEY],
			    const uint8_t *info, size_t info_len, spn_hpke_ctx_t *ctx);

/* Seal and Open with the context's next sequence number; ct is pt_len +
 * SPN_HPKE_TAG bytes. Open leaves the sequence number unchanged on failure. */
int spn_hpke_seal(spn_hpke_ctx_t *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
		  uint8_t *ct);
int spn_hpke_open(spn_hpke_ctx_t *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
		  uint8_t *pt);

/* Export(exporter_context, L), L at most 255 * 32. */
int spn_hpke_export(const spn_hpke_ctx_t *ctx, const uint8_t *exp_ctx, size_t exp_len, uint8_t *out, size_t out_len);

void spn_hpke_ctx_clear(spn_hpke_ctx_t *ctx);

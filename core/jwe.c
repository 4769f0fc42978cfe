/* JWE compact serialisation, dir + A256GCM, on GnuTLS's AES-GCM (its
 * accelerated one) and json-c. Parsing is strict: five parts, an empty encrypted key, a 96-bit
 * IV, a 128-bit tag, a header of known fields only. */
#include "config.h"

#include <gnutls/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "error.h"
#include "json.h"
#include "jwe.h"
#include "mem.h"

#define IV 12
#define TAG 16
#define JWE_MAX (16 * 1024 * 1024)

static int header_check(const spn_jwe_header_t *h)
{
	if (!spn_id_is_valid(h->kid) || !spn_id_is_valid(h->mid) || !spn_id_is_valid(h->from) ||
	    !spn_service_name_is_valid(h->svc) || !spn_name_is_valid(h->to))
		return spn_err(SPN_EINVAL, "section header: kid, svc, to, from and mid must all be set and well formed");
	if (h->seq > (uint64_t)INT64_MAX)
		return spn_err(SPN_EINVAL, "section header: seq is at most 2^63-1");
	return 0;
}

/* AES-256-GCM through GnuTLS's one-shot calls, its fastest path for a
 * whole buffer (faster than its in-place and piecemeal ones). */
static int gcm_init(const uint8_t key[32], gnutls_aead_cipher_hd_t *h)
{
	gnutls_datum_t k = {(unsigned char *)key, 32};

	if (gnutls_aead_cipher_init(h, GNUTLS_CIPHER_AES_256_GCM, &k) < 0)
		return spn_err(SPN_ECRYPTO, "AES-256-GCM is not available");
	return 0;
}

/* Encodes the n bytes at src as base64url at dst, lower in the same buffer,
 * piece by piece so that no piece's characters (nor its NUL) reach the piece
 * itself. The gap less what the output outgrows the input by stays the same
 * from piece to piece: 8 bytes here (the tag's dot, 22 characters and NUL,
 * less its 16 bytes), so that each piece is about a quarter of what is left
 * and the rest goes whole once fewer than 8 bytes remain; some 25 pieces for
 * 16 KB. */
static char *encode_down(char *dst, const uint8_t *src, size_t n)
{
	while (n > 0) {
		size_t gap = (size_t)((const char *)src - dst);
		size_t piece = spn_b64url_len(n) < gap ? n : (gap - 1) / 4 * 3;
		dst += spn_b64url_encode_into(src, piece, dst);
		src += piece;
		n -= piece;
	}
	return dst;
}

int spn_jwe_seal(const uint8_t key[SPN_JWE_KEY], const spn_jwe_header_t *h, const uint8_t *pt, size_t pt_len,
		 char **out)
{
	gnutls_aead_cipher_hd_t c;
	char text[512], *s, *w;
	uint8_t iv[IV], tag[TAG], *ct;
	size_t len, hl, total, ct_len = pt_len + TAG;
	int rc;

	if ((rc = header_check(h)))
		return rc;
	if (pt_len > JWE_MAX)
		return spn_err(SPN_ETOOBIG, "section larger than %d bytes", JWE_MAX);
	/* A fresh random IV per section: a key never sees the same one twice
	 * within the message budget of its session. */
	if (gnutls_rnd(GNUTLS_RND_NONCE, iv, IV) < 0)
		return SPN_ENOMEM;
	/* Every value was checked to need no escaping: the header is written
	 * as json-c would write it, without building an object for it. */
	len = (size_t)snprintf(text, sizeof(text),
			       "{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":\"%s\",\"svc\":\"%s\",\"to\":\"%s\","
			       "\"from\":\"%s\",\"mid\":\"%s\",\"seq\":%llu}",
			       h->kid, h->svc, h->to, h->from, h->mid, (unsigned long long)h->seq);
	/* The compact form in one buffer, the payload in it once: the header
	 * (the associated data, as written) and the IV first; the ciphertext
	 * and tag encrypted into the end of the buffer, then encoded down into
	 * their place; the plaintext is never copied. */
	hl = spn_b64url_len(len);
	total = hl + 2 + spn_b64url_len(IV) + 1 + spn_b64url_len(pt_len) + 1 + spn_b64url_len(TAG);
	if (!(s = malloc(total + 1)))
		return SPN_ENOMEM;
	w = s + spn_b64url_encode_into((const uint8_t *)text, len, s);
	*w++ = '.';
	*w++ = '.';
	w += spn_b64url_encode_into(iv, IV, w);
	*w++ = '.';
	ct = (uint8_t *)s + total + 1 - ct_len;
	if ((rc = gcm_init(key, &c)))
		goto fail;
	rc = gnutls_aead_cipher_encrypt(c, iv, IV, s, hl, TAG, pt_len ? pt : (const uint8_t *)"", pt_len, ct, &ct_len);
	gnutls_aead_cipher_deinit(c);
	if (rc < 0) {
		rc = spn_err(SPN_ECRYPTO, "AES-256-GCM: %s", gnutls_strerror(rc));
		goto fail;
	}
	memcpy(tag, ct + pt_len, TAG);
	w = encode_down(w, ct, pt_len);
	*w++ = '.';
	spn_b64url_encode_into(tag, TAG, w);
	*out = s;
	return 0;
fail:
	free(s);
	return rc;
}

/* The five parts: header, (empty) key, iv, ciphertext, tag. */
static int split(const char *jwe, size_t len, const char *part[5], size_t plen[5])
{
	const char *p = jwe, *end = jwe + len;

	if (len > JWE_MAX * 2)
		return spn_err(SPN_EINVAL, "a section of more than %d bytes", JWE_MAX * 2);
	for (int i = 0; i < 5; i++) {
		const char *dot = i < 4 ? memchr(p, '.', (size_t)(end - p)) : end;
		if (!dot || (i == 4 && memchr(p, '.', (size_t)(end - p))))
			return spn_err(SPN_EINVAL, "a section is a JWE in compact form: five parts separated by dots");
		part[i] = p;
		plen[i] = (size_t)(dot - p);
		p = dot + (i < 4);
	}
	return 0;
}

static int copy_str(json_object *o, const char *key, char *dst, size_t cap)
{
	const char *v;
	int rc = spn_json_str(o, key, true, cap - 1, &v);

	if (rc == 0)
		snprintf(dst, cap, "%s", v);
	return rc;
}

static int parse_header(const char *b64, size_t len, spn_jwe_header_t *h)
{
	static const char *const fields[] = {"alg", "enc", "kid", "svc", "to", "from", "mid", "seq", NULL};
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	json_object *o = NULL;
	const char *alg, *enc;
	int64_t seq;
	int rc;

	memset(h, 0, sizeof(*h));
	if ((rc = spn_b64url_decode(b64, len, &raw, &raw_len)))
		return spn_err(SPN_EINVAL, "section header is not base64url");
	/* alg and enc first: a header for another algorithm is refused as
	 * that, whatever members its algorithm brings (p2c, epk). */
	if ((rc = spn_json_parse((const char *)raw, raw_len, &o)) || (rc = spn_json_str(o, "alg", true, 64, &alg)) ||
	    (rc = spn_json_str(o, "enc", true, 64, &enc)))
		goto out;
	if (strcmp(alg, "dir") != 0 || strcmp(enc, "A256GCM") != 0) {
		rc = spn_err(SPN_EUNSUPPORTED, "section: alg %s, enc %s; only dir and A256GCM are accepted", alg, enc);
		goto out;
	}
	if ((rc = spn_json_only(o, "section header", fields)) || (rc = copy_str(o, "kid", h->kid, sizeof(h->kid))) ||
	    (rc = copy_str(o, "svc", h->svc, sizeof(h->svc))) || (rc = copy_str(o, "to", h->to, sizeof(h->to))) ||
	    (rc = copy_str(o, "from", h->from, sizeof(h->from))) || (rc = copy_str(o, "mid", h->mid, sizeof(h->mid))) ||
	    (rc = spn_json_int(o, "seq", true, 0, INT64_MAX, &seq)))
		goto out;
	if ((rc = header_check(h)) == 0)
		h->seq = (uint64_t)seq;
out:
	json_object_put(o);
	free(raw);
	return rc;
}

int spn_jwe_peek(const char *jwe, size_t len, spn_jwe_header_t *h)
{
	const char *part[5];
	size_t plen[5];
	int rc;

	if ((rc = split(jwe, len, part, plen)))
		return rc;
	return parse_header(part[0], plen[0], h);
}

/* fill: the header is parsed into it; NULL: h is what spn_jwe_peek read of
 * this very jwe, whose first part is the associated data all the same. */
static int open_jwe(const uint8_t key[SPN_JWE_KEY], const char *jwe, size_t len, spn_jwe_header_t *fill,
		    const spn_jwe_header_t *h, uint8_t **pt, size_t *pt_len)
{
	gnutls_aead_cipher_hd_t c;
	const char *part[5];
	size_t plen[5], iv_len = 0, ct_len = 0, tag_len = 0, cap, out;
	uint8_t iv[IV], *ct;
	int rc;

	*pt = NULL;
	if ((rc = split(jwe, len, part, plen)) || (fill && (rc = parse_header(part[0], plen[0], fill))))
		return rc;
	if (fill)
		h = fill;
	if (plen[1] != 0)
		return spn_err(SPN_EINVAL, "section: alg dir carries no encrypted key");
	/* The ciphertext is decoded once, with the tag after it, into the
	 * buffer it is opened in and handed back in (with room for a NUL). */
	cap = plen[3] / 4 * 3 + 2;
	if (!(ct = malloc(cap + TAG + 1)))
		return SPN_ENOMEM;
	if (spn_b64url_decode_into(part[2], plen[2], iv, IV, &iv_len) != 0 || iv_len != IV ||
	    spn_b64url_decode_into(part[3], plen[3], ct, cap, &ct_len) != 0 ||
	    spn_b64url_decode_into(part[4], plen[4], ct + ct_len, TAG, &tag_len) != 0 || tag_len != TAG) {
		free(ct);
		return spn_err(SPN_EINVAL, "section: IV, ciphertext or tag malformed");
	}
	/* In place: GnuTLS's own decryptv2 makes this very call with the
	 * plaintext over the ciphertext. The tag is checked in constant time;
	 * the associated data is the first part as it came. */
	out = ct_len + TAG;
	if ((rc = gcm_init(key, &c)) == 0) {
		if (gnutls_aead_cipher_decrypt(c, iv, IV, part[0], plen[0], TAG, ct, ct_len + TAG, ct, &out) < 0)
			rc = spn_err(SPN_EBADSIG, "section %s/%llu: header or ciphertext altered, or another key",
				     h->mid, (unsigned long long)h->seq);
		gnutls_aead_cipher_deinit(c);
	}
	if (rc) {
		spn_free_secret(ct, ct_len);
		return rc;
	}
	ct[ct_len] = 0;
	*pt = ct;
	*pt_len = ct_len;
	return 0;
}

int spn_jwe_open(const uint8_t key[SPN_JWE_KEY], const char *jwe, size_t len, spn_jwe_header_t *h, uint8_t **pt,
		 size_t *pt_len)
{
	return open_jwe(key, jwe, len, h, NULL, pt, pt_len);
}

int spn_jwe_open_read(const uint8_t key[SPN_JWE_KEY], const char *jwe, size_t len, const spn_jwe_header_t *h,
		      uint8_t **pt, size_t *pt_len)
{
	return open_jwe(key, jwe, len, NULL, h, pt, pt_len);
}

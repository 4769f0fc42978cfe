/* base64 and base64url on Nettle, with the strictness JOSE needs: no
 * padding where none belongs and a single encoding for every value. */
#include "config.h"

#include <nettle/base64.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "b64_vec.h"
#include "error.h"
#include "mem.h"

static int encode(const uint8_t *in, size_t len, char **out, int url, int pad)
{
	struct base64_encode_ctx ctx;
	size_t n, cap = BASE64_ENCODE_LENGTH(len) + BASE64_ENCODE_FINAL_LENGTH + 1;
	char *s = malloc(cap);

	if (!s)
		return SPN_ENOMEM;
	if (url)
		base64url_encode_init(&ctx);
	else
		base64_encode_init(&ctx);
	n = base64_encode_update(&ctx, s, len, in);
	n += base64_encode_final(&ctx, s + n);
	if (!pad)
		while (n > 0 && s[n - 1] == '=')
			n--;
	s[n] = '\0';
	*out = s;
	return 0;
}

static int decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen, int url)
{
	struct base64_decode_ctx ctx;
	size_t padded = inlen, cap, n;
	char *tmp;
	uint8_t *buf;
	char *check = NULL;

	if (url) {
		if (memchr(in, '=', inlen) || inlen % 4 == 1)
			return spn_err(SPN_EINVAL, "not canonical base64url");
		padded = (inlen + 3) / 4 * 4;
	} else if (inlen % 4 != 0) {
		return spn_err(SPN_EINVAL, "base64 length is not a multiple of 4");
	}
	tmp = malloc(padded + 1);
	cap = BASE64_DECODE_LENGTH(padded) + 1;
	buf = malloc(cap);
	if (!tmp || !buf) {
		free(tmp);
		free(buf);
		return SPN_ENOMEM;
	}
	memcpy(tmp, in, inlen);
	memset(tmp + inlen, '=', padded - inlen);
	if (url)
		base64url_decode_init(&ctx);
	else
		base64_decode_init(&ctx);
	n = cap;
	if (!base64_decode_update(&ctx, &n, buf, padded, tmp) || !base64_decode_final(&ctx)) {
		spn_free_secret(tmp, padded + 1);
		spn_free_secret(buf, cap);
		return spn_err(SPN_EINVAL, "invalid base64%s", url ? "url" : "");
	}
	spn_free_secret(tmp, padded + 1);
	/* One encoding per value: re-encode and compare, which also rejects
	 * non-zero trailing bits. */
	if (encode(buf, n, &check, url, !url) != 0 || strlen(check) != inlen ||
	    memcmp(check, in, inlen) != 0) {
		spn_free_secret_str(check);
		spn_free_secret(buf, cap);
		return spn_err(SPN_EINVAL, "not canonical base64%s", url ? "url" : "");
	}
	spn_free_secret_str(check);
	*out = buf;
	*outlen = n;
	return 0;
}

/* base64url is on the message path (every section is one, a ciphertext
 * included): the bulk goes through a vector kernel where the processor has
 * one (b64_vec.c), the rest three bytes to four characters at a time here,
 * and canonical form checked on the last character alone, which is what a
 * re-encoding would compare. A kernel stops short of a bad character and
 * leaves the verdict to this code, so every refusal is the same with or
 * without it. Nettle's codec, one character at a time, keeps padded base64. */
static const char url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static int8_t url_value[256];
static const spn_b64_vec_t *fastest;

__attribute__((constructor)) static void url_table(void)
{
	size_t n;
	const spn_b64_vec_t *k = spn_b64_vec_list(&n);

	memset(url_value, -1, sizeof(url_value));
	for (int i = 0; i < 64; i++)
		url_value[(unsigned char)url_alphabet[i]] = (int8_t)i;
	fastest = n ? k : NULL;
}

size_t spn_b64url_len(size_t len)
{
	return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
}

int spn_b64url_encode(const uint8_t *in, size_t len, char **out)
{
	char *s = malloc(spn_b64url_len(len) + 1);

	if (!s)
		return SPN_ENOMEM;
	spn_b64url_encode_into(in, len, s);
	*out = s;
	return 0;
}

size_t spn_b64url_encode_into(const uint8_t *in, size_t len, char *s)
{
	return spn_b64url_encode_with(fastest, in, len, s);
}

size_t spn_b64url_encode_with(const spn_b64_vec_t *k, const uint8_t *in, size_t len, char *s)
{
	size_t i = k ? k->encode(in, len, s) : 0, o = i / 3 * 4;
	uint32_t v;

	for (; i + 3 <= len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		s[o++] = url_alphabet[v >> 18];
		s[o++] = url_alphabet[(v >> 12) & 63];
		s[o++] = url_alphabet[(v >> 6) & 63];
		s[o++] = url_alphabet[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		s[o++] = url_alphabet[v >> 18];
		s[o++] = url_alphabet[(v >> 12) & 63];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		s[o++] = url_alphabet[v >> 18];
		s[o++] = url_alphabet[(v >> 12) & 63];
		s[o++] = url_alphabet[(v >> 6) & 63];
	}
	s[o] = '\0';
	return o;
}

/* The decoded size of inlen characters, whatever they are. */
static size_t url_decoded_len(size_t inlen)
{
	size_t rem = inlen % 4;

	return inlen / 4 * 3 + (rem ? rem - 1 : 0);
}

int spn_b64url_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	size_t n = url_decoded_len(inlen);
	uint8_t *buf;
	int rc;

	if (inlen % 4 == 1)
		return spn_err(SPN_EINVAL, "not canonical base64url");
	if (!(buf = malloc(n + 1)))
		return SPN_ENOMEM;
	if ((rc = spn_b64url_decode_with(fastest, in, inlen, buf, n + 1, outlen))) {
		free(buf);
		return rc;
	}
	*out = buf;
	return 0;
}

int spn_b64url_decode_into(const char *in, size_t inlen, uint8_t *dst, size_t cap, size_t *outlen)
{
	return spn_b64url_decode_with(fastest, in, inlen, dst, cap, outlen);
}

int spn_b64url_decode_with(const spn_b64_vec_t *k, const char *in, size_t inlen, uint8_t *dst, size_t cap,
			   size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t rem = inlen % 4, n = url_decoded_len(inlen), i, o;
	int a, b, c, d;

	if (rem == 1)
		return spn_err(SPN_EINVAL, "not canonical base64url");
	if (n > cap)
		return spn_err(SPN_ETOOBIG, "base64url of %zu bytes where at most %zu fit", n, cap);
	i = k ? k->decode(in, inlen, dst, cap) : 0;
	for (o = i / 4 * 3; i + 4 <= inlen; i += 4) {
		a = url_value[p[i]], b = url_value[p[i + 1]], c = url_value[p[i + 2]], d = url_value[p[i + 3]];
		if ((a | b | c | d) < 0)
			goto bad;
		dst[o++] = (uint8_t)(a << 2 | b >> 4);
		dst[o++] = (uint8_t)(b << 4 | c >> 2);
		dst[o++] = (uint8_t)(c << 6 | d);
	}
	if (rem >= 2) {
		a = url_value[p[i]], b = url_value[p[i + 1]], c = rem == 3 ? url_value[p[i + 2]] : 0;
		/* Bits past the last byte must be zero: one encoding per value. */
		if ((a | b | c) < 0 || (rem == 2 ? (b & 15) : (c & 3)) != 0)
			goto bad;
		dst[o++] = (uint8_t)(a << 2 | b >> 4);
		if (rem == 3)
			dst[o++] = (uint8_t)(b << 4 | c >> 2);
	}
	*outlen = o;
	return 0;
bad:
	/* What was decoded may be a secret's first bytes. */
	spn_wipe(dst, cap);
	return spn_err(SPN_EINVAL, "invalid or not canonical base64url");
}

int spn_b64_encode(const uint8_t *in, size_t len, char **out)
{
	return encode(in, len, out, 0, 1);
}

int spn_b64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	return decode(in, inlen, out, outlen, 0);
}

void spn_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

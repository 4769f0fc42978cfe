/* base64 and base64url on Nettle, with the strictness JOSE needs: no
 * padding where none belongs and a single encoding for every value. */
#include "config.h"

#include <nettle/base64.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
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

int spn_b64url_encode(const uint8_t *in, size_t len, char **out)
{
	return encode(in, len, out, 1, 0);
}

int spn_b64url_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	return decode(in, inlen, out, outlen, 1);
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

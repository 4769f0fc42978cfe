/* base64url without padding (RFC 4648 §5), as JOSE and join tokens use it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Encodes len bytes; *out is a NUL-terminated string the caller frees. */
int spn_b64url_encode(const uint8_t *in, size_t len, char **out);

/* The length of the base64url of len bytes, and the encoding written into
 * dst, which has room for it and a NUL; returns the length written. */
size_t spn_b64url_len(size_t len);
size_t spn_b64url_encode_into(const uint8_t *in, size_t len, char *dst);

/* Decodes a canonical unpadded base64url string of inlen characters into a
 * buffer the caller frees; *outlen receives its size. Refuses padding,
 * characters outside the alphabet and non-zero trailing bits. */
int spn_b64url_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen);

/* The same into dst, which has room for cap bytes: a value that would not
 * fit is refused (SPN_ETOOBIG) before anything is written, and a refused
 * one leaves the cap bytes wiped. */
int spn_b64url_decode_into(const char *in, size_t inlen, uint8_t *dst, size_t cap, size_t *outlen);

/* Lowercase hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void spn_hex(const uint8_t *in, size_t n, char *out);

/* Standard base64 with padding, for PEM-like payloads in JSON. */
int spn_b64_encode(const uint8_t *in, size_t len, char **out);
int spn_b64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen);

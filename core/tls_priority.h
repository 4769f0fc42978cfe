/* The TLS every node speaks, as a server and as a client of other nodes:
 * TLS 1.3 first; TLS 1.2 only with forward secrecy and AEAD ciphers (no
 * CBC, no SHA-1 MACs); no SHA-1 in handshake signatures, the client's
 * certificate proof included. A GnuTLS priority string, for
 * libmicrohttpd and for libcurl's GnuTLS flavour alike. */
#pragma once

#define SPN_TLS_PRIORITIES                                                                                     \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:"                                                          \
	"-CIPHER-ALL:+CHACHA20-POLY1305:+AES-256-GCM:+AES-128-GCM:+AES-256-CCM:+AES-128-CCM:-MAC-ALL:+AEAD:" \
	"-RSA:-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:-SIGN-DSA-SHA1"

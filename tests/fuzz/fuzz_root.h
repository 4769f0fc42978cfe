/* The root the CRL and PKCS#12 targets sign with (fuzz_root.c). */
#pragma once

#include <gnutls/x509.h>

/* The root's certificate and key, each the caller's to deinit; -1 when
 * either does not read. */
int fuzz_root(gnutls_x509_crt_t *crt, gnutls_x509_privkey_t *key);

/* spn's side of the HPKE interop test: libspn's HPKE from the command line,
 * hex in, hex out (the same shape as hpke.mjs).
 *   hpke_tool keypair                              -> "SK PK"
 *   hpke_tool seal AEAD PK_R INFO AAD PT           -> "ENC CT"
 *   hpke_tool open AEAD SK_R ENC INFO AAD < CT     -> "PT" */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hpke.h"

#define MAX 4096

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s) / 2;

	if (strlen(s) % 2 || n > cap)
		exit(2);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			exit(2);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void hex(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

int main(int argc, char **argv)
{
	static uint8_t a[MAX], b[MAX], info[MAX], aad[MAX], in[MAX], buf[MAX + SPN_HPKE_TAG];
	spn_hpke_ctx_t ctx;
	size_t info_len, aad_len, in_len;
	int rc;

	if (argc == 2 && strcmp(argv[1], "keypair") == 0) {
		if (spn_hpke_keypair(a, b) != 0)
			return 1;
		hex(a, 32), printf(" "), hex(b, 32), printf("\n");
		return 0;
	}
	if (argc != 7 || (strcmp(argv[1], "seal") != 0 && strcmp(argv[1], "open") != 0)) {
		fprintf(stderr, "usage: hpke_tool keypair | seal AEAD PK INFO AAD PT | open AEAD SK ENC INFO AAD < CT\n");
		return 2;
	}
	if (strcmp(argv[1], "seal") == 0) {
		if (unhex(argv[3], a, 32) != 32)
			return 2;
		info_len = unhex(argv[4], info, MAX);
		aad_len = unhex(argv[5], aad, MAX);
		in_len = unhex(argv[6], in, MAX);
		if ((rc = spn_hpke_setup_sender((spn_hpke_aead_t)atoi(argv[2]), a, info, info_len, NULL, 0, b, &ctx)) ||
		    (rc = spn_hpke_seal(&ctx, aad, aad_len, in, in_len, buf))) {
			fprintf(stderr, "hpke_tool: %s\n", spn_err_detail(rc));
			return 1;
		}
		hex(b, 32), printf(" "), hex(buf, in_len + SPN_HPKE_TAG), printf("\n");
		return 0;
	}
	if (unhex(argv[3], a, 32) != 32 || unhex(argv[4], b, 32) != 32)
		return 2;
	info_len = unhex(argv[5], info, MAX);
	aad_len = unhex(argv[6], aad, MAX);
	in_len = 0;
	{
		/* The ciphertext comes on standard input: it may be long. */
		char line[2 * MAX + 2 * SPN_HPKE_TAG + 2];
		if (!fgets(line, sizeof(line), stdin))
			return 2;
		line[strcspn(line, "\n")] = '\0';
		in_len = unhex(line, buf, sizeof(buf));
	}
	if ((rc = spn_hpke_setup_receiver((spn_hpke_aead_t)atoi(argv[2]), b, a, info, info_len, &ctx)) ||
	    (rc = spn_hpke_open(&ctx, aad, aad_len, buf, in_len, in))) {
		fprintf(stderr, "hpke_tool: %s\n", spn_err_detail(rc));
		return 1;
	}
	hex(in, in_len - SPN_HPKE_TAG), printf("\n");
	return 0;
}

/* spn's side of the section interop test: libspn's JWE sections from the
 * command line.
 *   jwe_tool seal KEY KID SVC TO FROM MID SEQ PLAINTEXT -> compact JWE
 *   jwe_tool open KEY < JWE                             -> plaintext, then "to from mid seq" */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jwe.h"

static int key_of(const char *hex, uint8_t key[32])
{
	if (strlen(hex) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		key[i] = (uint8_t)v;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char line[1 << 16];
	spn_jwe_header_t h;
	uint8_t key[32], *pt = NULL;
	char *jwe = NULL;
	size_t len;
	int rc;

	if (argc >= 3 && key_of(argv[2], key) != 0)
		return 2;
	if (argc == 10 && strcmp(argv[1], "seal") == 0) {
		memset(&h, 0, sizeof(h));
		snprintf(h.kid, sizeof(h.kid), "%s", argv[3]);
		snprintf(h.svc, sizeof(h.svc), "%s", argv[4]);
		snprintf(h.to, sizeof(h.to), "%s", argv[5]);
		snprintf(h.from, sizeof(h.from), "%s", argv[6]);
		snprintf(h.mid, sizeof(h.mid), "%s", argv[7]);
		h.seq = strtoull(argv[8], NULL, 10);
		if ((rc = spn_jwe_seal(key, &h, (const uint8_t *)argv[9], strlen(argv[9]), &jwe))) {
			fprintf(stderr, "jwe_tool: %s\n", spn_err_detail(rc));
			return 1;
		}
		printf("%s\n", jwe);
		free(jwe);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "open") == 0) {
		if (!fgets(line, sizeof(line), stdin))
			return 2;
		line[strcspn(line, "\n")] = '\0';
		if ((rc = spn_jwe_open(key, line, strlen(line), &h, &pt, &len))) {
			fprintf(stderr, "jwe_tool: %s\n", spn_err_detail(rc));
			return 1;
		}
		printf("%s\n%s %s %s %llu\n", (char *)pt, h.to, h.from, h.mid, (unsigned long long)h.seq);
		free(pt);
		return 0;
	}
	fprintf(stderr, "usage: jwe_tool seal KEY KID SVC TO FROM MID SEQ PLAINTEXT | open KEY < JWE\n");
	return 2;
}

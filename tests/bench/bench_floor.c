/* The memory floor under spnd: a program that loads and initialises the
 * same libraries (GnuTLS, libcurl, libmicrohttpd, SQLite, json-c, Nettle,
 * inih)
 * and then does nothing. make bench measures its resident set beside an
 * idle spnd, so that what spn itself holds is told apart from what the
 * shared libraries cost any program that uses them.
 *   bench_floor READY_FILE   (writes the file, then sleeps until killed) */
#include "config.h"

#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <ini.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <nettle/sha2.h>
#include <sqlite3.h>
#include <stdio.h>
#include <unistd.h>

static int none(void *user, const char *section, const char *name, const char *value)
{
	(void)user;
	(void)section;
	(void)name;
	(void)value;
	return 1;
}

int main(int argc, char **argv)
{
	struct sha256_ctx sha;
	json_object *o;
	FILE *f;

	if (argc != 2)
		return 2;
	gnutls_global_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	sqlite3_initialize();
	sha256_init(&sha);
	o = json_tokener_parse("{}");
	json_object_put(o);
	ini_parse_string("", none, NULL);
	if (!MHD_is_feature_supported(MHD_FEATURE_TLS) || !(f = fopen(argv[1], "w")))
		return 1;
	fputs("ready\n", f);
	fclose(f);
	for (;;)
		pause();
}

/* Fuzz target for configuration files: the INI reader and the core schema
 * check that runs on them before anything starts. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"
#include "schema.h"

const char fuzz_target[] = "conf";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	spn_conf_t *c = NULL;
	char *text;

	/* The reader takes a C string, and libFuzzer's data is not one. */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (spn_conf_load_string("/etc/spn/fuzz.conf", text, &c) == 0) {
		spn_schema_check(c);
		spn_conf_free(c);
	}
	free(text);
	return 0;
}

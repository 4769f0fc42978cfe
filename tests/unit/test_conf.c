/* Configuration: errors name the file, line, section and key. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "error.h"
#include "schema.h"

static const char good[] = "[node]\nid = n1\ngroup = demo\nkey = node.key\ncert = node.crt\nroot = ca/root.crt\n"
			   "[ca]\nmax_children = 4\ntoken_ttl = 15m\n[profile.spn]\nvalidity = 2d\n";

static void typed_reads(void **state)
{
	spn_conf_t *c;
	unsigned long u;
	char *path;

	(void)state;
	assert_int_equal(spn_conf_load_string("/etc/spn/spnd.conf", good, &c), 0);
	assert_int_equal(spn_schema_check(c), 0);
	assert_int_equal(spn_conf_uint(c, "ca", "max_children", 16, 0, 100, &u), 0);
	assert_int_equal(u, 4);
	assert_int_equal(spn_conf_duration(c, "ca", "token_ttl", 1, &u), 0);
	assert_int_equal(u, 900);
	assert_int_equal(spn_conf_duration(c, "profile.spn", "validity", 1, &u), 0);
	assert_int_equal(u, 2 * 86400);
	assert_int_equal(spn_conf_uint(c, "ca", "admin_threshold", 7, 0, 100, &u), 0);
	assert_int_equal(u, 7);
	assert_int_equal(spn_conf_path(c, "node", "key", NULL, &path), 0);
	assert_string_equal(path, "/etc/spn/node.key");
	free(path);
	spn_conf_free(c);
}

static void expect_error(const char *text, const char *needle)
{
	spn_conf_t *c = NULL;
	int rc = spn_conf_load_string("t.conf", text, &c);

	if (rc == 0) {
		rc = spn_schema_check(c);
		spn_conf_free(c);
	}
	assert_int_equal(rc, SPN_ECONFIG);
	if (!strstr(spn_err_detail(rc), needle))
		fail_msg("'%s' does not contain '%s'", spn_err_detail(rc), needle);
}

static void errors_name_line_section_key(void **state)
{
	(void)state;
	expect_error("[node]\nid = n1\n\n[ca]\nmax_children = lots\n", "t.conf:5: [ca] max_children: expected an integer");
	expect_error("[node]\nid = n1\n[ca]\ntoken_ttl = 3 weeks\n", "t.conf:4: [ca] token_ttl: expected a duration");
	expect_error("[node]\nid = n1\n[ca]\nfrobnicate = 1\n", "t.conf:4: [ca] frobnicate: unknown key");
	expect_error("[node]\nid = n1\n[cache]\nx = 1\n", "t.conf:4: [cache]: unknown section");
	expect_error("[node]\nid = n1\nid = n2\n", "t.conf:3: [node] id: key given twice");
	expect_error("[node]\nid = n1\n[log]\nlevel = loud\n", "t.conf:4: [log] level: 'loud' is not one of");
	expect_error("[node]\nid = n1\nthis is not ini\n", "t.conf:3: syntax error");
	expect_error("[node]\nid = N_1\n", "[node] id: 'N_1' is not a valid node id");
	expect_error("[ca]\nmax_children = 1\n", "[node] id: required");
	expect_error("[node]\nid = n1\n[profile.admn]\nvalidity = 1d\n", "[profile.admn]: unknown section");
}

/* A line longer than the reader's buffer is refused, naming it, and never
 * split into a value cut short and a tail read as the next line. */
static void long_lines_refused(void **state)
{
	char text[1024], path[64];
	spn_conf_t *c = NULL;
	FILE *f;

	(void)state;
	snprintf(text, sizeof(text), "[node]\nid = n1\n[plugins]\npath = /%0300d\n", 7);
	expect_error(text, "t.conf:4: line longer than");
	snprintf(path, sizeof(path), "/tmp/test_conf.%d", (int)getpid());
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	assert_int_equal(spn_conf_load(path, &c), SPN_ECONFIG);
	assert_non_null(strstr(spn_err_detail(SPN_ECONFIG), ":4: line longer than"));
	unlink(path);
	/* Up to the bound, and a last line without its newline, are read. */
	snprintf(text, sizeof(text), "[node]\nid = n1\n[plugins]\npath = /%0180d", 7);
	assert_int_equal(spn_conf_load_string("t.conf", text, &c), 0);
	assert_int_equal(strlen(spn_conf_str(c, "plugins", "path", "")), 181);
	spn_conf_free(c);
}

static void plugin_sections_are_left_alone(void **state)
{
	spn_conf_t *c;

	(void)state;
	assert_int_equal(spn_conf_load_string("t.conf", "[node]\nid = a\n[plugin.bank]\naccounts = x.db\n", &c), 0);
	assert_int_equal(spn_schema_check(c), 0);
	spn_conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(typed_reads),
		cmocka_unit_test(errors_name_line_section_key),
		cmocka_unit_test(plugin_sections_are_left_alone),
		cmocka_unit_test(long_lines_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

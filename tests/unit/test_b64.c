/* base64url: RFC 4648 test vectors and refusal of non-canonical input. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "b64.h"
#include "error.h"

static void rfc4648_vectors(void **state)
{
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const enc[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};

	(void)state;
	for (size_t i = 0; i < 7; i++) {
		char *s;
		uint8_t *d;
		size_t n;
		assert_int_equal(spn_b64url_encode((const uint8_t *)plain[i], strlen(plain[i]), &s), 0);
		assert_string_equal(s, enc[i]);
		assert_int_equal(spn_b64url_decode(s, strlen(s), &d, &n), 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(d, plain[i], n);
		free(s);
		free(d);
	}
}

static void url_alphabet(void **state)
{
	const uint8_t raw[] = {0xfb, 0xff};
	char *s;

	(void)state;
	assert_int_equal(spn_b64url_encode(raw, 2, &s), 0);
	assert_string_equal(s, "-_8");
	free(s);
}

static void refuses_non_canonical(void **state)
{
	static const char *const bad[] = {"Zg==", "Zh", "Z", "Zm9v+", "Zm9v/", "Zm 9v", "Zm9v\n"};
	uint8_t *d;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(spn_b64url_decode(bad[i], strlen(bad[i]), &d, &n), SPN_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc4648_vectors),
		cmocka_unit_test(url_alphabet),
		cmocka_unit_test(refuses_non_canonical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

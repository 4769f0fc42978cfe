/* INI configuration on libinih. Every value remembers its file and line, so
 * that a bad value is reported as "file:line: [section] key: why". */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct spn_conf spn_conf_t;

typedef enum {
	SPN_CONF_STR,
	SPN_CONF_UINT,
	SPN_CONF_BOOL,
	SPN_CONF_DURATION,
	SPN_CONF_LIST,
	SPN_CONF_ENUM,
} spn_conf_type_t;

/* One key a module accepts. section and key are exact ("ca") or a family
 * ending in ".*" ("profile.*", "upstream.*"). For SPN_CONF_ENUM, choices is "a|b|c". */
typedef struct {
	const char *section;
	const char *key;
	spn_conf_type_t type;
	unsigned long min, max;
	const char *choices;
} spn_conf_key_t;

/* Loads path; the caller frees *out with spn_conf_free. Syntax errors and
 * duplicate keys fail with the line named. */
int spn_conf_load(const char *path, spn_conf_t **out);
/* Same from memory (name is used in messages). */
int spn_conf_load_string(const char *name, const char *text, spn_conf_t **out);
void spn_conf_free(spn_conf_t *c);

/* Checks every key of the sections the schema covers: unknown keys and values
 * of the wrong type fail, naming file, line, section and key. Sections whose
 * name is not covered by any schema entry nor listed in other_sections
 * (prefixes, NULL-terminated) fail as unknown. */
int spn_conf_check(const spn_conf_t *c, const spn_conf_key_t *schema, size_t n,
		   const char *const *other_sections);

/* The file the configuration came from, and its directory. */
const char *spn_conf_file(const spn_conf_t *c);
const char *spn_conf_dir(const spn_conf_t *c);

/* Raw value or NULL; valid until spn_conf_free. */
const char *spn_conf_get(const spn_conf_t *c, const char *section, const char *key);
/* The keys of section starting with prefix, in file order (each once:
 * duplicates are refused on load); the array is the caller's to free. */
int spn_conf_keys(const spn_conf_t *c, const char *section, const char *prefix, const char ***out, size_t *n);
bool spn_conf_has_section(const spn_conf_t *c, const char *section);

/* Section names matching prefix, in file order; the array (not the strings)
 * is the caller's to free. */
int spn_conf_sections(const spn_conf_t *c, const char *prefix, const char ***out, size_t *n);

/* Typed reads; the default applies when the key is absent. */
const char *spn_conf_str(const spn_conf_t *c, const char *section, const char *key, const char *def);
int spn_conf_uint(const spn_conf_t *c, const char *section, const char *key, unsigned long def,
		  unsigned long min, unsigned long max, unsigned long *out);
int spn_conf_bool(const spn_conf_t *c, const char *section, const char *key, bool def, bool *out);
int spn_conf_duration(const spn_conf_t *c, const char *section, const char *key, unsigned long def,
		      unsigned long *out);
/* A path relative to the configuration file's directory; caller frees. */
int spn_conf_path(const spn_conf_t *c, const char *section, const char *key, const char *def,
		  char **out);

/* "90", "30s", "15m", "12h", "7d" to seconds. */
int spn_duration_parse(const char *s, unsigned long *out);
/* "true/false/yes/no/on/off/1/0". */
int spn_bool_parse(const char *s, bool *out);

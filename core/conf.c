/* INI configuration: parsing with libinih, line tracking, schema checks and
 * typed reads whose errors name the file, line, section and key. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "error.h"
#include "file.h"

typedef struct {
	char *section, *key, *value;
	unsigned line;
} entry_t;

struct spn_conf {
	char *file, *dir;
	entry_t *e;
	size_t n, cap;
	/* parse state */
	unsigned line;
	const char *text;
	int dup_line;
	char dup[160];
	int long_line;  /* a line longer than the reader's buffer: refused, not split */
	int line_max;
};

static const entry_t *find(const spn_conf_t *c, const char *section, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].section, section) == 0 && strcmp(c->e[i].key, key) == 0)
			return &c->e[i];
	return NULL;
}

static int on_value(void *user, const char *section, const char *key, const char *value)
{
	spn_conf_t *c = user;
	entry_t *e;

	if (!key)
		return 1; /* a section header alone */
	if (find(c, section, key)) {
		if (!c->dup_line) {
			c->dup_line = (int)c->line;
			snprintf(c->dup, sizeof(c->dup), "[%s] %s", section, key);
		}
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		entry_t *bigger = realloc(c->e, cap * sizeof(*bigger));
		if (!bigger)
			return 0;
		c->e = bigger;
		c->cap = cap;
	}
	e = &c->e[c->n];
	e->section = strdup(section);
	e->key = strdup(key);
	e->value = strdup(value);
	e->line = c->line;
	if (!e->section || !e->key || !e->value) {
		free(e->section);
		free(e->key);
		free(e->value);
		return 0;
	}
	c->n++;
	return 1;
}

/* inih calls the reader once per line: counting calls gives the line number
 * of the value the handler is about to see. */
/* The INI reader reads a line in a buffer of its own size and would take
 * what does not fit as the next line: a long value would be cut and its
 * tail read as a key. Such a line ends the reading instead. */
static char *too_long(spn_conf_t *c, int size)
{
	c->long_line = (int)c->line;
	c->line_max = size - 2;
	return NULL;
}

static char *read_file_line(char *buf, int size, void *stream)
{
	spn_conf_t *c = ((void **)stream)[1];
	FILE *f = ((void **)stream)[0];
	char *r = fgets(buf, size, f);
	int next;

	if (!r)
		return NULL;
	c->line++;
	if (!strchr(buf, '\n') && (next = fgetc(f)) != EOF) {
		ungetc(next, f);
		return too_long(c, size);
	}
	return r;
}

static char *read_string_line(char *buf, int size, void *stream)
{
	spn_conf_t *c = stream;
	const char *p = c->text, *nl;
	size_t len;

	if (!p || !*p || size < 2)
		return NULL;
	nl = strchr(p, '\n');
	len = nl ? (size_t)(nl - p + 1) : strlen(p);
	c->line++;
	if (len > (size_t)size - 1)
		return too_long(c, size);
	memcpy(buf, p, len);
	buf[len] = '\0';
	c->text = p + len;
	return buf;
}

static spn_conf_t *conf_new(const char *name)
{
	spn_conf_t *c = calloc(1, sizeof(*c));
	char *copy;

	if (!c)
		return NULL;
	c->file = strdup(name);
	copy = strdup(name);
	c->dir = copy ? strdup(dirname(copy)) : NULL;
	free(copy);
	if (!c->file || !c->dir) {
		spn_conf_free(c);
		return NULL;
	}
	return c;
}

static int finish(spn_conf_t *c, int rc, spn_conf_t **out)
{
	if (rc == 0 && c->dup_line == 0 && c->long_line == 0) {
		*out = c;
		return 0;
	}
	/* The reading stopped at the long line: what else it found came
	 * before. */
	if (c->long_line && rc == 0 && !c->dup_line)
		rc = spn_err(SPN_ECONFIG, "%s:%d: line longer than %d characters", c->file, c->long_line,
			     c->line_max);
	else if (c->dup_line)
		rc = spn_err(SPN_ECONFIG, "%s:%d: %s: key given twice", c->file, c->dup_line, c->dup);
	else if (rc > 0)
		rc = spn_err(SPN_ECONFIG, "%s:%d: syntax error (expected [section] or key = value)",
			     c->file, rc);
	else
		rc = spn_err(SPN_ECONFIG, "%s: cannot read: %s", c->file, strerror(errno));
	spn_conf_free(c);
	return rc;
}

int spn_conf_load(const char *path, spn_conf_t **out)
{
	spn_conf_t *c = conf_new(path);
	FILE *f;
	int rc;

	if (!c)
		return SPN_ENOMEM;
	f = fopen(path, "re");
	if (!f) {
		rc = spn_err(SPN_ECONFIG, "%s: cannot open: %s", path, strerror(errno));
		spn_conf_free(c);
		return rc;
	}
	void *stream[2] = {f, c};
	rc = ini_parse_stream(read_file_line, stream, on_value, c);
	fclose(f);
	return finish(c, rc, out);
}

int spn_conf_load_string(const char *name, const char *text, spn_conf_t **out)
{
	spn_conf_t *c = conf_new(name);

	if (!c)
		return SPN_ENOMEM;
	c->text = text;
	return finish(c, ini_parse_stream(read_string_line, c, on_value, c), out);
}

void spn_conf_free(spn_conf_t *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].section);
		free(c->e[i].key);
		free(c->e[i].value);
	}
	free(c->e);
	free(c->file);
	free(c->dir);
	free(c);
}

const char *spn_conf_file(const spn_conf_t *c)
{
	return c->file;
}

const char *spn_conf_dir(const spn_conf_t *c)
{
	return c->dir;
}

const char *spn_conf_get(const spn_conf_t *c, const char *section, const char *key)
{
	const entry_t *e = find(c, section, key);

	return e ? e->value : NULL;
}

int spn_conf_keys(const spn_conf_t *c, const char *section, const char *prefix, const char ***out, size_t *n)
{
	const char **v = calloc(c->n + 1, sizeof(*v));
	size_t k = 0, plen = strlen(prefix);

	if (!v)
		return SPN_ENOMEM;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].section, section) == 0 && strncmp(c->e[i].key, prefix, plen) == 0)
			v[k++] = c->e[i].key;
	*out = v;
	*n = k;
	return 0;
}

bool spn_conf_has_section(const spn_conf_t *c, const char *section)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].section, section) == 0)
			return true;
	return false;
}

int spn_conf_sections(const spn_conf_t *c, const char *prefix, const char ***out, size_t *n)
{
	const char **v = calloc(c->n + 1, sizeof(*v));
	size_t k = 0, plen = strlen(prefix);

	if (!v)
		return SPN_ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		const char *s = c->e[i].section;
		size_t j;

		if (strncmp(s, prefix, plen) != 0)
			continue;
		for (j = 0; j < k && strcmp(v[j], s) != 0; j++)
			;
		if (j == k)
			v[k++] = s;
	}
	*out = v;
	*n = k;
	return 0;
}

__attribute__((format(printf, 3, 4))) static int bad(const spn_conf_t *c, const entry_t *e,
							 const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return spn_err(SPN_ECONFIG, "%s:%u: [%s] %s: %s", c->file, e->line, e->section, e->key, why);
}

int spn_bool_parse(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return spn_err(SPN_EINVAL, "expected true or false, got '%s'", s);
}

int spn_duration_parse(const char *s, unsigned long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return spn_err(SPN_EINVAL, "expected a duration such as 90s, 15m, 12h or 7d, got '%s'", s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == 0 && end[0] && !end[1]) {
		switch (end[0]) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: mul = 0;
		}
		end++;
	}
	if (errno || *end || mul == 0 || v > ULONG_MAX / mul / 2)
		return spn_err(SPN_EINVAL, "expected a duration such as 90s, 15m, 12h or 7d, got '%s'", s);
	*out = (unsigned long)(v * mul);
	return 0;
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return SPN_EINVAL;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return SPN_EINVAL;
	*out = (unsigned long)v;
	return 0;
}

static bool in_choices(const char *choices, const char *v)
{
	size_t len = strlen(v);

	for (const char *p = choices; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n == len && strncmp(p, v, n) == 0)
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

static int check_value(const spn_conf_t *c, const entry_t *e, const spn_conf_key_t *k)
{
	unsigned long u;
	bool b;

	switch (k->type) {
	case SPN_CONF_UINT:
		if (parse_uint(e->value, k->min, k->max ? k->max : ULONG_MAX, &u) != 0)
			return bad(c, e, "expected an integer between %lu and %lu, got '%s'", k->min,
				   k->max ? k->max : ULONG_MAX, e->value);
		return 0;
	case SPN_CONF_BOOL:
		return spn_bool_parse(e->value, &b) ? bad(c, e, "expected true or false, got '%s'", e->value) : 0;
	case SPN_CONF_DURATION:
		if (spn_duration_parse(e->value, &u) != 0)
			return bad(c, e, "expected a duration such as 90s, 15m, 12h or 7d, got '%s'", e->value);
		if (u < k->min || (k->max && u > k->max))
			return bad(c, e, "duration '%s' out of range (between %lus and %lus)", e->value,
				   k->min, k->max);
		return 0;
	case SPN_CONF_ENUM:
		if (!in_choices(k->choices, e->value))
			return bad(c, e, "'%s' is not one of %s", e->value, k->choices);
		return 0;
	case SPN_CONF_STR:
	case SPN_CONF_LIST:
		if (!*e->value && k->min)
			return bad(c, e, "must not be empty");
		return 0;
	}
	return 0;
}

/* A name, or a family of them ending in ".*" that needs something after
 * the dot. */
static bool name_matches(const char *pattern, const char *name)
{
	size_t n = strlen(pattern);

	if (n >= 2 && pattern[n - 1] == '*' && pattern[n - 2] == '.')
		return strncmp(pattern, name, n - 1) == 0 && name[n - 1];
	return strcmp(pattern, name) == 0;
}

int spn_conf_check(const spn_conf_t *c, const spn_conf_key_t *schema, size_t n,
		   const char *const *other_sections)
{
	for (size_t i = 0; i < c->n; i++) {
		const entry_t *e = &c->e[i];
		bool section_known = false;
		const spn_conf_key_t *k = NULL;

		for (size_t j = 0; j < n; j++) {
			if (!name_matches(schema[j].section, e->section))
				continue;
			section_known = true;
			if (name_matches(schema[j].key, e->key)) {
				k = &schema[j];
				break;
			}
		}
		if (!section_known) {
			bool other = false;
			for (const char *const *p = other_sections; p && *p && !other; p++)
				other = strncmp(e->section, *p, strlen(*p)) == 0;
			if (other)
				continue;
			return spn_err(SPN_ECONFIG, "%s:%u: [%s]: unknown section", c->file, e->line, e->section);
		}
		if (!k)
			return bad(c, e, "unknown key");
		int rc = check_value(c, e, k);
		if (rc)
			return rc;
	}
	return 0;
}

const char *spn_conf_str(const spn_conf_t *c, const char *section, const char *key, const char *def)
{
	const char *v = spn_conf_get(c, section, key);

	return v ? v : def;
}

int spn_conf_uint(const spn_conf_t *c, const char *section, const char *key, unsigned long def,
		  unsigned long min, unsigned long max, unsigned long *out)
{
	const entry_t *e = find(c, section, key);
	spn_conf_key_t k = {section, key, SPN_CONF_UINT, min, max, NULL};
	int rc;

	if (!e) {
		*out = def;
		return 0;
	}
	rc = check_value(c, e, &k);
	if (rc == 0)
		parse_uint(e->value, min, max, out);
	return rc;
}

int spn_conf_bool(const spn_conf_t *c, const char *section, const char *key, bool def, bool *out)
{
	const entry_t *e = find(c, section, key);

	if (!e) {
		*out = def;
		return 0;
	}
	return spn_bool_parse(e->value, out) ? bad(c, e, "expected true or false, got '%s'", e->value) : 0;
}

int spn_conf_duration(const spn_conf_t *c, const char *section, const char *key, unsigned long def,
		      unsigned long *out)
{
	const entry_t *e = find(c, section, key);

	if (!e) {
		*out = def;
		return 0;
	}
	if (spn_duration_parse(e->value, out) != 0)
		return bad(c, e, "expected a duration such as 90s, 15m, 12h or 7d, got '%s'", e->value);
	return 0;
}

int spn_conf_path(const spn_conf_t *c, const char *section, const char *key, const char *def,
		  char **out)
{
	const char *v = spn_conf_str(c, section, key, def);
	const entry_t *e = find(c, section, key);

	if (!v || !*v) {
		if (e)
			return bad(c, e, "must not be empty");
		return spn_err(SPN_ECONFIG, "%s: [%s] %s: required", c->file, section, key);
	}
	*out = spn_file_join(c->dir, v);
	return *out ? 0 : SPN_ENOMEM;
}

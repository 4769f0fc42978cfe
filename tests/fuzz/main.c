/* Replay driver for builds without libFuzzer: runs a fuzz target once over
 * each file named on the command line, or each file of each directory
 * named (one level, in name order), and reports every file as a TAP test
 * so that the seed corpora run in make check. An input that crashes the
 * target aborts the run, which the TAP harness counts as a failure. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

typedef struct {
	char **v;
	size_t n, cap;
} paths_t;

static void die(const char *what, const char *path)
{
	fprintf(stdout, "Bail out! %s %s: %s\n", what, path, strerror(errno));
	exit(99);
}

static void add(paths_t *p, const char *dir, const char *name)
{
	char *path;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		char **bigger = realloc(p->v, cap * sizeof(*bigger));
		if (!bigger)
			die("out of memory at", name);
		p->v = bigger;
		p->cap = cap;
	}
	if (dir)
		path = malloc(strlen(dir) + strlen(name) + 2);
	else
		path = strdup(name);
	if (!path)
		die("out of memory at", name);
	if (dir)
		sprintf(path, "%s/%s", dir, name);
	p->v[p->n++] = path;
}

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void add_dir(paths_t *p, const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);

	if (n < 0)
		die("cannot read", dir);
	for (int i = 0; i < n; i++) {
		/* Dot files are editor and VCS leftovers, not seeds. */
		if (names[i]->d_name[0] != '.') {
			size_t before = p->n;
			add(p, dir, names[i]->d_name);
			if (!is_file(p->v[before]))
				free(p->v[--p->n]);
		}
		free(names[i]);
	}
	free(names);
}

/* The whole file in a buffer of exactly its size, as libFuzzer hands it
 * over, so that the sanitizers see any read past the end. */
static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f)
		die("cannot open", path);
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			uint8_t *bigger = realloc(buf, cap);
			if (!bigger)
				die("out of memory reading", path);
			buf = bigger;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		die("cannot read", path);
	fclose(f);
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact)
		die("out of memory reading", path);
	memcpy(exact, buf, len);
	free(buf);
	*size = len;
	return exact;
}

int main(int argc, char **argv)
{
	paths_t p = {NULL, 0, 0};

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0)
			die("cannot find", argv[i]);
		if (S_ISDIR(st.st_mode))
			add_dir(&p, argv[i]);
		else
			add(&p, NULL, argv[i]);
	}
	printf("1..%zu\n", p.n);
	fflush(stdout);
	for (size_t i = 0; i < p.n; i++) {
		size_t size;
		uint8_t *data = slurp(p.v[i], &size);

		LLVMFuzzerTestOneInput(data, size);
		free(data);
		printf("ok %zu - %s %s\n", i + 1, fuzz_target, p.v[i]);
		/* Lines already printed stay in the log if the next input
		 * crashes. */
		fflush(stdout);
		free(p.v[i]);
	}
	free(p.v);
	return 0;
}

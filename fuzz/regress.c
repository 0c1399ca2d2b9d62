/* regress.c -- replays fuzz inputs through one target without libFuzzer:
 * `fuzz_regress_T FILE|DIR...` calls LLVMFuzzerTestOneInput on every
 * file given and every file in the directories given (sorted, not
 * recursive, dot files skipped). Exit 0 when all return (a crash is a
 * crash), 1 when an argument cannot be read. */
#include "fuzz/fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *p)
{
	gos_diags d;
	gos_diags_init(&d);
	size_t len;
	char *buf = gos_read_file(&d, p, &len);
	if (!buf) {
		gos_diags_render(&d, stderr);
		gos_diags_free(&d);
		return -1;
	}
	gos_diags_free(&d);
	fprintf(stderr, "  %s (%zu bytes)\n", p, len);
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	free(buf);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	int rc = 0, n = 0;
	for (int i = 1; i < argc; i++) {
		struct stat sb;
		if (stat(argv[i], &sb) || !S_ISDIR(sb.st_mode)) {
			rc |= run_file(argv[i]) ? 1 : 0;
			n++;
			continue;
		}
		DIR *dd = opendir(argv[i]);
		if (!dd) {
			perror(argv[i]);
			rc = 1;
			continue;
		}
		char **names = NULL;
		int k = 0, cap = 0;
		struct dirent *e;
		while ((e = readdir(dd))) {
			if (e->d_name[0] == '.')
				continue;
			if (k == cap) {
				cap = cap ? 2 * cap : 64;
				names = realloc(names, sizeof *names * (size_t)cap);
				if (!names)
					abort();
			}
			size_t l = strlen(argv[i]) + strlen(e->d_name) + 2;
			names[k] = malloc(l);
			if (!names[k])
				abort();
			snprintf(names[k++], l, "%s/%s", argv[i], e->d_name);
		}
		closedir(dd);
		qsort(names, (size_t)k, sizeof *names, cmp);
		for (int j = 0; j < k; j++) {
			rc |= run_file(names[j]) ? 1 : 0;
			free(names[j]);
		}
		n += k;
		free(names);
	}
	fprintf(stderr, "%s: %d inputs replayed\n", argv[0], n);
	return rc;
}

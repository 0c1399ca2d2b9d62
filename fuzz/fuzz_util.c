/* fuzz_util.c -- the helpers of fuzz.h. */
#include "fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];
static char path[512];

static void remove_dir(void)
{
	char p[512];
	static const char *names[] = {"in.gos", "in.gir", "in.onnx", "in.safetensors", "in.npy",
	                              "in.npz", "in.idx", "in.target", "in.model", "in.csv",
	                              "fix_images.idx", "fix_labels.idx", "fix_images.npy",
	                              "fix_labels.npy"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

const char *fuzz_file(const uint8_t *data, size_t size, const char *name)
{
	if (!dir[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof dir, "%s/gos-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(remove_dir);
	}
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
		perror("fuzz: writing the input file");
		abort();
	}
	return path;
}

void fuzz_check(int rc, const gos_diags *d, const char *what)
{
	static int verbose = -1;
	if (verbose < 0)
		verbose = getenv("GOS_FUZZ_VERBOSE") != NULL;
	if (verbose) {
		fprintf(stderr, "%s: %s\n", what, rc ? "error" : "ok");
		gos_diags_render(d, stderr);
	}
	if (rc != 0 && d->n_errors == 0) {
		fprintf(stderr, "fuzz: %s returned %d with %d errors\n", what, rc, d->n_errors);
		abort();
	}
}

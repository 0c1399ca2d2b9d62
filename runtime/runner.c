/* runner.c -- the standalone runner that `gosc -emit=exe` links with a
 * model's object (docs/backends.md). Portable C11 + POSIX, compiled by
 * the target's C compiler (cross compilers for ARM), statically linked so
 * the same binary runs under qemu-user, on a board, or from an Android
 * adb shell.
 *
 * Compiled with:
 *   -DGOS_MODEL_H="path/model.h"  the model's generated header
 *   -DGOS_MODEL_PREFIX=TINY_      its macro prefix
 *   -DGOS_MODEL_RUN=tiny_run      its run function
 *   -DGOS_MODEL_RUN_PROFILE=tiny_run_profile  its profiling twin
 *   -DGOS_WEIGHTS_EXTERNAL=0|1    whether the run function takes a weights blob
 *
 * Usage: runner [--input NAME=FILE.npy]... [--random-inputs [--seed S]]
 *               [--output-dir DIR] [--bench N] [--print] [--weights FILE]
 *               [--samples K] [--profile[=FILE.csv] [--runs N]]
 * With --samples K every input file holds K samples stacked on a new
 * leading axis ([K, model shape...]); the model runs once per sample and
 * each output file holds the K results stacked the same way (gos-eval
 * evaluates ARM code under qemu this way, one process for many images).
 * Conventions are those of gos-run (tools/gos-run.c), so that outputs of
 * the two can be compared file by file: random inputs are uniform in
 * [-1, 1) from splitmix64 seeded with S (default 0), drawn input by input
 * in model order (inputs given with --input are skipped), and written as
 * DIR/<name>.input.npy; outputs are DIR/<name>.npy; characters outside
 * [A-Za-z0-9_.-] in names become '_'.
 * With --profile the model also runs N times (--runs, default 20) through
 * its profiling entry GOS_MODEL_RUN_PROFILE, interleaved with N runs of
 * the plain entry; a per-node table goes to stdout and, with =FILE.csv,
 * the CSV that `gos-cost fit --profile` reads (docs/cost-models.md),
 * written by profile.h (beside this file; names quoted per RFC 4180).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include GOS_MODEL_H
#include "profile.h"

#define GOS_CAT2(a, b) a##b
#define GOS_CAT(a, b) GOS_CAT2(a, b)
#define M(x) GOS_CAT(GOS_MODEL_PREFIX, x)

enum { N_IN = M(NUM_INPUTS), N_OUT = M(NUM_OUTPUTS), MAXR = 8 };
static const char *const in_names[] = M(INPUT_NAMES);
static const int in_ranks[] = M(INPUT_RANKS);
static const long long in_shapes[][MAXR] = M(INPUT_SHAPES);
static const long long in_numels[] = M(INPUT_NUMELS);
static const char *const out_names[] = M(OUTPUT_NAMES);
static const int out_ranks[] = M(OUTPUT_RANKS);
static const long long out_shapes[][MAXR] = M(OUTPUT_SHAPES);
static const long long out_numels[] = M(OUTPUT_NUMELS);

/* ---- the RNG of gos-run (ir/ir.h gos_rng; docs/ir.md section 3) ---------- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_uniform(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- .npy ------------------------------------------------------------------ */

static int fail(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "runner: error: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n");
	return -1;
}

/* Value of key in a .npy header dict (points just after the ':'). */
static const char *dict_value(const char *h, const char *key)
{
	char k1[32], k2[32];
	snprintf(k1, sizeof k1, "'%s'", key);
	snprintf(k2, sizeof k2, "\"%s\"", key);
	const char *p = strstr(h, k1);
	if (!p)
		p = strstr(h, k2);
	if (!p)
		return NULL;
	p = strchr(p + strlen(k1), ':');
	if (!p)
		return NULL;
	p++;
	while (*p == ' ')
		p++;
	return p;
}

static float half_to_float(uint16_t h)
{
	uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023, bits;
	if (e == 0) {
		if (!m) {
			bits = s;
		} else { /* subnormal */
			e = 127 - 15 + 1;
			while (!(m & 1024)) {
				m <<= 1;
				e--;
			}
			bits = s | (e << 23) | ((m & 1023) << 13);
		}
	} else if (e == 31) {
		bits = s | 0x7f800000u | (m << 13);
	} else {
		bits = s | ((e + 127 - 15) << 23) | (m << 13);
	}
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

/* Reads a little-endian C-order .npy (f2/f4/f8/i1/i2/i4/i8/u1/b1) of
 * exactly shape[0..rank) -- [lead, shape...] when lead > 0 -- into out
 * (float; numel elements per sample). */
static int npy_read(const char *path, int rank, const long long *shape, long long numel,
                    long long lead, float *out)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return fail("cannot open '%s': %s", path, strerror(errno));
	unsigned char pre[12];
	int rc = -1;
	char *hdr = NULL;
	unsigned char *raw = NULL;
	if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6)) {
		fail("'%s' is not a .npy file%s", path, "");
		goto done;
	}
	size_t hl;
	if (pre[6] == 1) {
		hl = pre[8] | (size_t)pre[9] << 8;
	} else {
		if (fread(pre + 10, 1, 2, f) != 2)
			goto trunc;
		hl = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
	}
	if (hl > (1u << 20)) {
		fail("'%s': header too large%s", path, "");
		goto done;
	}
	hdr = malloc(hl + 1);
	if (!hdr || fread(hdr, 1, hl, f) != hl)
		goto trunc;
	hdr[hl] = 0;
	const char *descr = dict_value(hdr, "descr"), *fo = dict_value(hdr, "fortran_order"),
	           *sh = dict_value(hdr, "shape");
	if (!descr || !fo || !sh || *sh != '(') {
		fail("'%s': malformed header%s", path, "");
		goto done;
	}
	if (!strncmp(fo, "True", 4)) {
		fail("'%s': Fortran order is not supported%s", path, "");
		goto done;
	}
	char kind = 0;
	int size = 0;
	if ((descr[0] == '\'' || descr[0] == '"') && (descr[1] == '<' || descr[1] == '|' ||
	                                              descr[1] == '=')) {
		kind = descr[2];
		size = descr[3] - '0';
	}
	if (!((kind == 'f' && (size == 2 || size == 4 || size == 8)) ||
	      ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
	      (kind == 'b' && size == 1)) || descr[4] != descr[0]) {
		fail("'%s': unsupported dtype (want little-endian float or integer)%s", path, "");
		goto done;
	}
	long long dims[MAXR + 1];
	int nd = 0;
	const char *p = sh + 1;
	for (;;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == ')')
			break;
		if (*p < '0' || *p > '9' || nd > MAXR) {
			fail("'%s': malformed shape%s", path, "");
			goto done;
		}
		dims[nd++] = strtoll(p, (char **)&p, 10);
	}
	int lr = lead > 0; /* the leading samples axis */
	int same = nd == rank + lr && (!lr || dims[0] == lead);
	for (int i = 0; same && i < rank; i++)
		same = dims[i + lr] == shape[i];
	if (!same) {
		char got[160] = "", want[160] = "";
		size_t u = 0;
		for (int i = 0; i < nd && u < sizeof got; i++)
			u += (size_t)snprintf(got + u, sizeof got - u, "%s%lld", i ? "," : "", dims[i]);
		u = 0;
		if (lr)
			u += (size_t)snprintf(want, sizeof want, "%lld%s", lead, rank ? "," : "");
		for (int i = 0; i < rank && u < sizeof want; i++)
			u += (size_t)snprintf(want + u, sizeof want - u, "%s%lld", i ? "," : "", shape[i]);
		fprintf(stderr, "runner: error: '%s' has shape [%s] but the model expects [%s]\n", path,
		        got, want);
		goto done;
	}
	if (lr)
		numel *= lead;
	raw = malloc((size_t)numel * (size_t)size + 1);
	if (!raw || fread(raw, (size_t)size, (size_t)numel, f) != (size_t)numel)
		goto trunc;
	if (fgetc(f) != EOF) {
		fail("'%s': more data than the shape says%s", path, "");
		goto done;
	}
	for (long long i = 0; i < numel; i++) {
		const unsigned char *q = raw + i * size;
		uint64_t u = 0;
		for (int k = size - 1; k >= 0; k--)
			u = u << 8 | q[k];
		float v;
		if (kind == 'f' && size == 4) {
			uint32_t b32 = (uint32_t)u;
			memcpy(&v, &b32, 4);
		} else if (kind == 'f' && size == 8) {
			double dv;
			memcpy(&dv, &u, 8);
			v = (float)dv;
		} else if (kind == 'f') {
			v = half_to_float((uint16_t)u);
		} else if (kind == 'i') {
			int64_t sv = (int64_t)(u << (64 - 8 * size)) >> (64 - 8 * size);
			v = (float)sv;
		} else {
			v = (float)u;
		}
		out[i] = v;
	}
	rc = 0;
	goto done;
trunc:
	fail("'%s' is truncated%s", path, "");
done:
	free(hdr);
	free(raw);
	fclose(f);
	return rc;
}

/* Writes a version 1.0 little-endian float32 .npy (via a temporary file)
 * of shape [lead, shape...] (lead > 0) or shape; numel is per sample. */
static int npy_write(const char *path, int rank, const long long *shape, long long numel,
                     long long lead, const float *data)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
	if (lead > 0) {
		n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%lld%s", lead, rank ? ", " : ",");
		numel *= lead;
	}
	for (int i = 0; i < rank; i++)
		n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%lld%s", shape[i],
		              rank == 1 ? "," : i + 1 < rank ? ", " : "");
	n += snprintf(hdr + n, sizeof hdr - (size_t)n, "), }");
	int total = 10 + n + 1;
	int pad = (64 - total % 64) % 64;
	size_t pl = strlen(path) + 8;
	char *tmp = malloc(pl);
	if (!tmp)
		return fail("out of memory%s%s", "", "");
	snprintf(tmp, pl, "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		free(tmp);
		return fail("cannot write '%s': %s", path, strerror(errno));
	}
	unsigned hl = (unsigned)(n + pad + 1);
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 255),
	                         (unsigned char)(hl >> 8)};
	int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, (size_t)n, f) == (size_t)n;
	for (int i = 0; i < pad && ok; i++)
		ok = fputc(' ', f) != EOF;
	ok = ok && fputc('\n', f) != EOF;
	for (long long i = 0; i < numel && ok; i++) {
		uint32_t b;
		memcpy(&b, &data[i], 4);
		unsigned char le[4] = {(unsigned char)b, (unsigned char)(b >> 8), (unsigned char)(b >> 16),
		                       (unsigned char)(b >> 24)};
		ok = fwrite(le, 1, 4, f) == 4;
	}
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path)) {
		remove(tmp);
		free(tmp);
		return fail("writing '%s' failed%s", path, "");
	}
	free(tmp);
	return 0;
}

/* ---- files ---------------------------------------------------------------- */

/* DIR/<name with unsafe characters as '_'><suffix>, malloc'd. */
static char *out_path(const char *dir, const char *name, const char *suffix)
{
	size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
	char *s = malloc(n);
	if (!s)
		return NULL;
	size_t k = (size_t)snprintf(s, n, "%s/", dir);
	for (const char *p = name; *p; p++) {
		char c = *p;
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		         c == '_' || c == '.' || c == '-';
		s[k++] = ok ? c : '_';
	}
	strcpy(s + k, suffix);
	return s;
}

static int make_dirs(const char *path)
{
	char *p = strdup(path);
	if (!p)
		return -1;
	int rc = 0;
	for (char *s = p + 1;; s++) {
		char c = *s;
		if (c == '/' || c == 0) {
			*s = 0;
			if (mkdir(p, 0777) && errno != EEXIST)
				rc = -1;
			*s = c;
			if (rc || !c)
				break;
		}
	}
	free(p);
	return rc;
}

static void *alloc64(long long bytes)
{
	size_t n = (size_t)((bytes + 63) / 64 * 64);
	return aligned_alloc(64, n ? n : 64);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* ---- --profile ---------------------------------------------------------------- */

enum { N_NODE = M(NUM_NODES) };
static const char *const node_names[] = M(NODE_NAMES);
static const char *const node_ops[] = M(NODE_OPS);
static const char *const node_kinds[] = M(NODE_KINDS);
static const double node_flops[] = M(NODE_FLOPS);

/* The tick of the profiling entry: the time of boundary k. */
static void tick(void *ctx, int k)
{
	((double *)ctx)[k] = now_ms();
}

/* Median of t[0..n) (sorted here). */
static double median(double *t, long n)
{
	qsort(t, (size_t)n, sizeof *t, cmp_double);
	return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* Prints the per-node table on stdout and, when csv is not NULL, the CSV
 * rows to it. med/lo are per node (N_NODE), whole/whole_lo the plain
 * entry's median and min over runs timed runs. */
static void profile_report(FILE *csv, long runs, const double *med, const double *lo,
                           double whole, double whole_lo)
{
	double sum = 0, flops = 0;
	for (int i = 0; i < N_NODE; i++) {
		sum += med[i];
		flops += node_flops[i];
	}
	printf("profile of %s: %d nodes, %ld timed runs\n", M(MODEL_NAME), N_NODE, runs);
	printf("%-32s %-22s %-11s %10s %10s %10s %8s %6s\n", "node", "op", "kind", "median_ms",
	       "min_ms", "MFLOP", "GFLOP/s", "share%");
	if (csv)
		gos_profile_csv_header(csv);
	for (int i = 0; i < N_NODE; i++) {
		double gf = med[i] > 0 ? node_flops[i] / med[i] / 1e6 : 0;
		double share = sum > 0 ? 100 * med[i] / sum : 0;
		printf("%-32s %-22s %-11s %10.4f %10.4f %10.3f %8.2f %6.2f\n", node_names[i],
		       node_ops[i], node_kinds[i], med[i], lo[i], node_flops[i] / 1e6, gf, share);
		if (csv)
			gos_profile_csv_row(csv, M(MODEL_NAME), node_names[i], node_ops[i],
			                    node_kinds[i], runs, med[i], lo[i], node_flops[i], gf, share);
	}
	double gf = whole > 0 ? flops / whole / 1e6 : 0;
	printf("%-32s %-22s %-11s %10.4f %10.4f %10.3f %8.2f %6.2f\n", "(sum of nodes)", "-", "-",
	       sum, 0.0, flops / 1e6, sum > 0 ? flops / sum / 1e6 : 0, 100.0);
	printf("%-32s %-22s %-11s %10.4f %10.4f %10.3f %8.2f %6s\n", "(whole run)", "-", "-", whole,
	       whole_lo, flops / 1e6, gf, "-");
	printf("sum_of_node_medians_ms=%.4f whole_run_median_ms=%.4f ratio=%.4f\n", sum, whole,
	       whole > 0 ? sum / whole : 0);
	if (csv)
		gos_profile_csv_row(csv, M(MODEL_NAME), "(total)", "-", "-", runs, whole, whole_lo,
		                    flops, gf, 100);
}

static void usage(FILE *f, const char *argv0)
{
	fprintf(f,
	        "usage: %s [options]\n"
	        "  --input NAME=FILE.npy  value of model input NAME (repeat per input)\n"
	        "  --random-inputs        make the inputs not given: uniform in [-1, 1) from the\n"
	        "                         seed, input by input in model order (as gos-run);\n"
	        "                         each is also written as DIR/<name>.input.npy\n"
	        "  --seed S               seed of --random-inputs (default 0)\n"
	        "  --output-dir DIR       write DIR/<output name>.npy per model output\n"
	        "  --bench N              time N runs after warm-up; prints\n"
	        "                         median_ms=<x> min_ms=<y>\n"
	        "  --print                print a summary of each output\n"
	        "  --weights FILE         the weights blob (external weights; default\n"
	        "                         <this program>.weights)\n"
	        "  --samples K            inputs hold K samples stacked as [K, shape...];\n"
	        "                         run once per sample, outputs stacked the same way\n"
	        "  --profile[=FILE.csv]   time every node: N runs (--runs) of the profiling\n"
	        "                         entry, interleaved with N plain runs; prints a\n"
	        "                         per-node table (median and min ms, FLOPs, GFLOP/s,\n"
	        "                         share) and writes it as CSV to FILE.csv\n"
	        "  --runs N               timed runs of --profile (default 20)\n"
	        "  --help                 this text\n",
	        argv0);
	fprintf(f, "model inputs:");
	for (int i = 0; i < N_IN; i++)
		fprintf(f, " %s", in_names[i]);
	fprintf(f, "\nmodel outputs:");
	for (int i = 0; i < N_OUT; i++)
		fprintf(f, " %s", out_names[i]);
	fprintf(f, "\n");
}

int main(int argc, char **argv)
{
	const char *given[N_IN + 1];
	const char *outdir = NULL, *wfile = NULL, *csvpath = NULL;
	int random = 0, print = 0, profile = 0;
	long bench = 0, runs = 20;
	long long samples = 0;
	uint64_t seed = 0;
	memset(given, 0, sizeof given);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
#define OPT(name) \
	((!strcmp(a, name) && i + 1 < argc && (val = argv[++i])) || \
	 (!strncmp(a, name "=", strlen(name) + 1) && (val = a + strlen(name) + 1)))
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout, argv[0]);
			return 0;
		} else if (OPT("--input")) {
			const char *eq = strchr(val, '=');
			int k = -1;
			for (int j = 0; eq && j < N_IN; j++)
				if (strlen(in_names[j]) == (size_t)(eq - val) &&
				    !strncmp(in_names[j], val, (size_t)(eq - val)))
					k = j;
			if (!eq || !eq[1]) {
				fprintf(stderr, "runner: error: --input wants NAME=FILE.npy, not '%s'\n", val);
				return 1;
			}
			if (k < 0) {
				fprintf(stderr, "runner: error: the model has no input '%.*s'\n", (int)(eq - val),
				        val);
				usage(stderr, argv[0]);
				return 1;
			}
			if (given[k]) {
				fprintf(stderr, "runner: error: input '%s' is given twice\n", in_names[k]);
				return 1;
			}
			given[k] = eq + 1;
		} else if (OPT("--output-dir")) {
			outdir = val;
		} else if (OPT("--weights")) {
			wfile = val;
		} else if (OPT("--seed")) {
			char *end;
			errno = 0;
			seed = strtoull(val, &end, 0);
			if (errno || !*val || *end || *val == '-') {
				fprintf(stderr, "runner: error: bad seed '%s'\n", val);
				return 1;
			}
		} else if (OPT("--bench")) {
			char *end;
			bench = strtol(val, &end, 10);
			if (*end || bench < 1 || bench > 1000000) {
				fprintf(stderr, "runner: error: --bench wants a count >= 1, not '%s'\n", val);
				return 1;
			}
		} else if (OPT("--samples")) {
			char *end;
			samples = strtoll(val, &end, 10);
			if (*end || samples < 1 || samples > 100000000) {
				fprintf(stderr, "runner: error: --samples wants a count >= 1, not '%s'\n", val);
				return 1;
			}
		} else if (!strcmp(a, "--profile")) {
			profile = 1;
		} else if (!strncmp(a, "--profile=", 10)) {
			profile = 1;
			csvpath = a + 10;
			if (!*csvpath) {
				fprintf(stderr, "runner: error: --profile= wants a file name\n");
				return 1;
			}
		} else if (OPT("--runs")) {
			char *end;
			runs = strtol(val, &end, 10);
			if (*end || runs < 1 || runs > 1000000) {
				fprintf(stderr, "runner: error: --runs wants a count >= 1, not '%s'\n", val);
				return 1;
			}
		} else if (!strcmp(a, "--random-inputs")) {
			random = 1;
		} else if (!strcmp(a, "--print")) {
			print = 1;
		} else {
			fprintf(stderr, "runner: error: unknown option or missing argument '%s'\n", a);
			usage(stderr, argv[0]);
			return 1;
		}
#undef OPT
	}
	if (!outdir && !bench && !print && !profile) {
		fprintf(stderr, "runner: error: nothing to do (give --output-dir, --bench, --print or --profile)\n");
		return 1;
	}
	if (samples && (random || bench || profile)) {
		fprintf(stderr, "runner: error: --samples takes its inputs from files (no --random-inputs, --bench, --profile)\n");
		return 1;
	}
	/* the CSV goes to a temporary file next to it, renamed when complete */
	char *csvtmp = NULL;
	FILE *csv = NULL;
	if (csvpath) {
		csvtmp = malloc(strlen(csvpath) + 8);
		if (!csvtmp)
			return 1;
		sprintf(csvtmp, "%s.tmp", csvpath);
		csv = fopen(csvtmp, "w");
		if (!csv) {
			fprintf(stderr, "runner: error: cannot write '%s': %s\n", csvpath, strerror(errno));
			free(csvtmp);
			return 1;
		}
	}
#define FAIL() \
	do { \
		if (csv) { \
			fclose(csv); \
			remove(csvtmp); \
		} \
		return 1; \
	} while (0)
	long long K = samples ? samples : 1; /* samples per file */
	float *in[N_IN + 1], *out[N_OUT + 1];
	uint64_t rng = seed;
	for (int i = 0; i < N_IN; i++) {
		in[i] = alloc64(in_numels[i] * 4 * K);
		if (!in[i]) {
			fprintf(stderr, "runner: error: out of memory\n");
			FAIL();
		}
		if (given[i]) {
			if (npy_read(given[i], in_ranks[i], in_shapes[i], in_numels[i], samples, in[i]))
				FAIL();
		} else if (random) {
			for (long long j = 0; j < in_numels[i]; j++)
				in[i][j] = (float)(-1.0 + 2.0 * rng_uniform(&rng));
		} else {
			fprintf(stderr,
			        "runner: error: missing input '%s': give --input %s=FILE.npy or --random-inputs\n",
			        in_names[i], in_names[i]);
			FAIL();
		}
	}
	for (int i = 0; i < N_OUT; i++) {
		out[i] = alloc64(out_numels[i] * 4 * K);
		if (!out[i]) {
			fprintf(stderr, "runner: error: out of memory\n");
			FAIL();
		}
		memset(out[i], 0, (size_t)(out_numels[i] * 4 * K));
	}
	void *scratch = alloc64(M(SCRATCH_BYTES));
	if (!scratch) {
		fprintf(stderr, "runner: error: out of memory for %lld bytes of scratch\n",
		        (long long)M(SCRATCH_BYTES));
		FAIL();
	}
#if GOS_WEIGHTS_EXTERNAL
	char *wdefault = NULL;
	if (!wfile) {
		wdefault = malloc(strlen(argv[0]) + 16);
		if (!wdefault)
			FAIL();
		sprintf(wdefault, "%s.weights", argv[0]);
		wfile = wdefault;
	}
	void *weights = alloc64(M(WEIGHTS_BYTES));
	FILE *wf = fopen(wfile, "rb");
	if (!weights || !wf) {
		fprintf(stderr, "runner: error: cannot read the weights '%s': %s\n", wfile,
		        strerror(errno));
		FAIL();
	}
	size_t wn = fread(weights, 1, (size_t)M(WEIGHTS_BYTES) + 1, wf);
	fclose(wf);
	if (wn != (size_t)M(WEIGHTS_BYTES)) {
		fprintf(stderr, "runner: error: '%s' has %zu bytes, the model needs %lld\n", wfile, wn,
		        (long long)M(WEIGHTS_BYTES));
		FAIL();
	}
#define RUN_ON(i, o) GOS_MODEL_RUN(weights, (const float *const *)(i), (o), scratch)
#else
	if (wfile)
		fprintf(stderr, "runner: warning: --weights ignored: the weights are built in\n");
#define RUN_ON(i, o) GOS_MODEL_RUN((const float *const *)(i), (o), scratch)
#endif
#define RUN() RUN_ON(in, out)
	for (long long k = 0; k < K; k++) {
		float *ik[N_IN + 1], *ok[N_OUT + 1];
		for (int i = 0; i < N_IN; i++)
			ik[i] = in[i] + k * in_numels[i];
		for (int i = 0; i < N_OUT; i++)
			ok[i] = out[i] + k * out_numels[i];
		if (RUN_ON(ik, ok) != 0) {
			fprintf(stderr, "runner: error: the model's run function failed\n");
			FAIL();
		}
	}
	if (bench) {
		int warm = bench < 10 ? 1 : 3;
		for (int k = 0; k < warm; k++)
			RUN();
		double *t = malloc(sizeof *t * (size_t)bench);
		if (!t)
			FAIL();
		for (long k = 0; k < bench; k++) {
			double t0 = now_ms();
			RUN();
			t[k] = now_ms() - t0;
		}
		qsort(t, (size_t)bench, sizeof *t, cmp_double);
		double med = bench % 2 ? t[bench / 2] : 0.5 * (t[bench / 2 - 1] + t[bench / 2]);
		printf("median_ms=%.4f min_ms=%.4f\n", med, t[0]);
		free(t);
	}
	if (profile) {
#if GOS_WEIGHTS_EXTERNAL
#define RUN_PROFILE(ctx) GOS_MODEL_RUN_PROFILE(weights, (const float *const *)in, out, scratch, tick, (ctx))
#else
#define RUN_PROFILE(ctx) GOS_MODEL_RUN_PROFILE((const float *const *)in, out, scratch, tick, (ctx))
#endif
		double *ts = malloc(sizeof *ts * (size_t)(N_NODE + 1));       /* one run's ticks */
		double *nt = malloc(sizeof *nt * (size_t)(N_NODE + 1) * (size_t)runs); /* [node][run] */
		double *whole = malloc(sizeof *whole * (size_t)runs);
		double *med = malloc(sizeof *med * (size_t)(N_NODE + 1));
		double *lo = malloc(sizeof *lo * (size_t)(N_NODE + 1));
		if (!ts || !nt || !whole || !med || !lo) {
			fprintf(stderr, "runner: error: out of memory\n");
			FAIL();
		}
		int warm = runs < 10 ? 1 : 3;
		for (int k = 0; k < warm; k++)
			if (RUN() || RUN_PROFILE(ts)) {
				fprintf(stderr, "runner: error: the model's run function failed\n");
				FAIL();
			}
		for (long k = 0; k < runs; k++) {
			double t0 = now_ms();
			RUN();
			whole[k] = now_ms() - t0;
			RUN_PROFILE(ts);
			for (int i = 0; i < N_NODE; i++)
				nt[(size_t)i * (size_t)runs + (size_t)k] = ts[i + 1] - ts[i];
		}
		for (int i = 0; i < N_NODE; i++) {
			double *t = nt + (size_t)i * (size_t)runs;
			med[i] = median(t, runs);
			lo[i] = t[0];
		}
		double wmed = median(whole, runs);
		profile_report(csv, runs, med, lo, wmed, whole[0]);
		free(ts), free(nt), free(whole), free(med), free(lo);
	}
	if (outdir) {
		if (make_dirs(outdir)) {
			fprintf(stderr, "runner: error: cannot create '%s': %s\n", outdir, strerror(errno));
			FAIL();
		}
		for (int i = 0; i < N_OUT; i++) {
			char *p = out_path(outdir, out_names[i], ".npy");
			if (!p || npy_write(p, out_ranks[i], out_shapes[i], out_numels[i], samples, out[i]))
				FAIL();
			free(p);
		}
		for (int i = 0; i < N_IN && random; i++) {
			if (given[i])
				continue;
			char *p = out_path(outdir, in_names[i], ".input.npy");
			if (!p || npy_write(p, in_ranks[i], in_shapes[i], in_numels[i], 0, in[i]))
				FAIL();
			free(p);
		}
	}
	if (csv) { /* last, so that a failure before leaves no profile */
		int bad = ferror(csv);
		bad |= fclose(csv) != 0;
		csv = NULL;
		if (bad || rename(csvtmp, csvpath)) {
			fprintf(stderr, "runner: error: writing '%s' failed\n", csvpath);
			remove(csvtmp);
			return 1;
		}
	}
	if (print)
		for (int i = 0; i < N_OUT; i++) {
			double sum = 0, lo = out[i][0], hi = out[i][0];
			for (long long j = 0; j < out_numels[i]; j++) {
				float v = out[i][j];
				sum += v;
				lo = v < lo ? v : lo;
				hi = v > hi ? v : hi;
			}
			printf("%s: min %.6g max %.6g mean %.6g\n  ", out_names[i], lo, hi,
			       sum / (double)out_numels[i]);
			for (long long j = 0; j < out_numels[i] && j < 8; j++)
				printf("%s%.6g", j ? " " : "", out[i][j]);
			printf("%s\n", out_numels[i] > 8 ? " ..." : "");
		}
	for (int i = 0; i < N_IN; i++)
		free(in[i]);
	for (int i = 0; i < N_OUT; i++)
		free(out[i]);
	free(scratch);
	free(csvtmp);
	return 0;
#undef FAIL
}

/* gos-run -- runs a model on the reference interpreter: inputs from .npy
 * files (or random), outputs written as DIR/<output name>.npy. Thin: parses
 * flags, calls libgos. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/llvm/llvm.h"
#include "eval/eval.h"
#include "frontend/frontend.h"
#include "passes/cost/cost.h"
#include "passes/passes.h"
#include "runtime/profile.h"
#include "support/tensorio.h"

static void usage(FILE *f)
{
	fputs("usage: gos-run FILE.(gos|gir|onnx) [options]\n"
	      "  --input NAME=FILE.npy  value of model input NAME (repeat per input)\n"
	      "  --random-inputs        make the inputs not given: uniform in [-1, 1) from\n"
	      "                         the seed, drawn input by input in model order; each\n"
	      "                         is also written as DIR/<name>.input.npy\n"
	      "  --seed S               seed of --random-inputs (default 0)\n"
	      "  --output-dir DIR       write DIR/<output name>.npy per model output\n"
	      "                         (created if missing; characters outside\n"
	      "                         [A-Za-z0-9_.-] in names become '_')\n"
	      "  -model=NAME            which model of a .gos file (default: the last)\n"
	      "  --input-shape NAME=D0,D1,...  shape of ONNX input NAME (sets its symbolic\n"
	      "                         dimensions; repeat per input)\n"
	      "  --dump-activations=DIR record intermediate tensors: DIR/<value>.npy for the\n"
	      "                         results of every node (or of --nodes), the samples\n"
	      "                         of the batch concatenated along axis 0\n"
	      "  --nodes A,B,...        what --dump-activations records: node names (all\n"
	      "                         their results) or value names\n"
	      "  --calib DATA[:N]       the inputs: N images (default 256) of a labelled\n"
	      "                         dataset (see gos-eval --help), a sample drawn by\n"
	      "                         --seed; with --dump-activations only\n"
	      "  --mean M[,M..] --std S[,S..]  normalisation of --calib images: pixels\n"
	      "                         scaled to [0, 1], then (x - mean) / std per channel\n"
	      "  -target=T              engine of --dump-activations: interp (default),\n"
	      "                         host, or an ARM target under qemu; of --profile:\n"
	      "                         host (default) or a target describing this machine\n"
	      "  --print                print a summary of each output on stdout\n"
	      "  --profile[=FILE.csv]   time every node of the compiled model (after the\n"
	      "                         -O1 passes, named as by gos-opt) in this process\n"
	      "                         (-target=host, the default for it): a per-node table\n"
	      "                         on stdout, and the CSV of `gos-cost fit --profile`\n"
	      "                         in FILE.csv; outputs (--output-dir, --print) then\n"
	      "                         come from the compiled code\n"
	      "  --runs N               timed runs of --profile (default 20)\n"
	      "  --help                 this text\n"
	      "Exit status: 0 on success, 1 on any error (nothing is written then).\n",
	      f);
}

typedef struct given {
	const char *name, *file;
	int used;
} given;

/* The file name of value `name`: unsafe characters become '_'. */
static char *safe_name(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);
	char *s = malloc(n + k + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		         c == '_' || c == '.' || c == '-';
		s[i] = ok ? c : '_';
	}
	memcpy(s + n, suffix, k + 1);
	return s;
}

static char *join(const char *dir, const char *file)
{
	size_t a = strlen(dir), b = strlen(file);
	char *s = malloc(a + b + 2);
	if (s) {
		memcpy(s, dir, a);
		s[a] = '/';
		memcpy(s + a + 1, file, b + 1);
	}
	return s;
}

/* mkdir -p; returns 0 or -1 with errno set. */
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
	struct stat sb;
	if (!rc && (stat(path, &sb) || !S_ISDIR(sb.st_mode))) {
		errno = ENOTDIR;
		rc = -1;
	}
	free(p);
	return rc;
}

static const char *shape_str(char *buf, size_t n, int rank, const int64_t *shape)
{
	size_t u = (size_t)snprintf(buf, n, "[");
	for (int i = 0; i < rank && u < n; i++)
		u += (size_t)snprintf(buf + u, n - u, "%s%" PRId64, i ? "," : "", shape[i]);
	if (u < n)
		snprintf(buf + u, n - u, "]");
	return buf;
}

static void print_summary(const char *name, const gos_tensor *t)
{
	char sh[128];
	int64_t n = gos_numel(t->rank, t->shape);
	double sum = 0, lo = INFINITY, hi = -INFINITY;
	int64_t amax = 0;
	for (int64_t i = 0; i < n; i++) {
		float v = t->data[i];
		sum += v;
		if (v < lo)
			lo = v;
		if (v > hi) {
			hi = v;
			amax = i;
		}
	}
	printf("%s f32%s min %.6g max %.6g mean %.6g argmax %" PRId64 "\n  ", name,
	       shape_str(sh, sizeof sh, t->rank, t->shape), lo, hi, n ? sum / (double)n : 0.0, amax);
	for (int64_t i = 0; i < n && i < 8; i++)
		printf("%s%.6g", i ? " " : "", t->data[i]);
	printf("%s\n", n > 8 ? " ..." : "");
}

/* Reads the inputs of one sample (given files or random, as without
 * --dump-activations) into one array per input; returns 0 or -1. */
static int one_sample(const gos_module *m, int ngv, const given *gv, int random, uint64_t seed,
                      float **in, gos_diags *d)
{
	gos_rng rng;
	gos_rng_seed(&rng, seed);
	char s1[128], s2[128];
	for (int v = 0, k = 0; v < m->n_val; v++) {
		const gos_value *val = &m->vals[v];
		if (val->kind != GOS_VAL_INPUT)
			continue;
		const given *g = NULL;
		for (int j = 0; j < ngv && !g; j++)
			if (!strcmp(gv[j].name, val->name))
				g = &gv[j];
		int64_t n = gos_numel(val->rank, val->shape);
		if (g) {
			gos_tensor t;
			if (gos_npy_read(g->file, &t, d))
				return -1;
			if (gos_numel(t.rank, t.shape) != n || t.rank != val->rank ||
			    memcmp(t.shape, val->shape, sizeof(int64_t) * (size_t)t.rank)) {
				gos_error(d, (gos_loc){g->file, 0, 0},
				          "input '%s' has shape %s in the file but the model expects %s",
				          val->name, shape_str(s1, sizeof s1, t.rank, t.shape),
				          shape_str(s2, sizeof s2, val->rank, val->shape));
				free(t.data);
				return -1;
			}
			in[k++] = t.data;
		} else if (random) {
			in[k] = malloc(sizeof(float) * (size_t)n + 1);
			if (!in[k]) {
				gos_error(d, (gos_loc){"gos-run", 0, 0}, "out of memory");
				return -1;
			}
			for (int64_t j = 0; j < n; j++)
				in[k][j] = (float)(-1.0 + 2.0 * gos_rng_uniform(&rng));
			k++;
		} else {
			gos_error(d, (gos_loc){"gos-run", 0, 0},
			          "missing input '%s' (f32%s): give --input %s=FILE.npy, --random-inputs "
			          "or --calib DATA",
			          val->name, shape_str(s1, sizeof s1, val->rank, val->shape), val->name);
			return -1;
		}
	}
	return 0;
}

/* --dump-activations: records the chosen values on one sample or a
 * calibration batch and writes DIR/<value>.npy for each (all or none). */
static int dump_activations(gos_module *m, const char *dir, const char *nodes,
                            const char *calib, const char *mean, const char *stdv,
                            const char *target, uint64_t seed, int ngv, const given *gv,
                            int random, gos_diags *d)
{
	gos_loc cmd = {"gos-run", 0, 0};
	int n_in = 0, nn = 0, rc = 1;
	for (int v = 0; v < m->n_val; v++)
		n_in += m->vals[v].kind == GOS_VAL_INPUT;
	float **in = calloc((size_t)n_in + 1, sizeof *in);
	char *list = nodes ? strdup(nodes) : NULL;
	const char **names = calloc(nodes ? strlen(nodes) + 1 : 1, sizeof *names);
	char **paths = NULL;
	gos_dataset ds = {0};
	gos_capture cap = {0};
	int64_t n = 1;
	if (!in || !names || (nodes && !list)) {
		gos_error(d, cmd, "out of memory");
		goto out;
	}
	char *save = NULL;
	for (char *tok = list ? strtok_r(list, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save))
		names[nn++] = tok;
	if (nodes && !nn) {
		gos_error(d, cmd, "--nodes names no node");
		goto out;
	}
	if (calib) {
		gos_norm norm = {0};
		if (mean && (norm.n_mean = gos_norm_parse(mean, 0, norm.mean, "--mean", d)) < 0)
			goto out;
		if (stdv && (norm.n_std = gos_norm_parse(stdv, 1, norm.std, "--std", d)) < 0)
			goto out;
		if (gos_dataset_load_calib(&ds, calib, seed, &norm, d) ||
		    gos_capture_inputs(m, &ds, &in[0], &n, d))
			goto out;
	} else if (one_sample(m, ngv, gv, random, seed, in, d)) {
		goto out;
	}
	gos_engine_opts eo = {target, 0, -1};
	if (gos_capture_run(m, nn, names, &eo, n, (const float *const *)in, &cap, d))
		goto out;
	if (make_dirs(dir)) {
		gos_error(d, (gos_loc){dir, 0, 0}, "cannot create the directory: %s", strerror(errno));
		goto out;
	}
	paths = calloc((size_t)cap.n + 1, sizeof *paths);
	if (!paths) {
		gos_error(d, cmd, "out of memory");
		goto out;
	}
	int nw = 0;
	for (int k = 0; k < cap.n && !d->n_errors; k++) {
		char *f = safe_name(cap.names[k], ".npy");
		paths[k] = f ? join(dir, f) : NULL;
		free(f);
		for (int j = 0; paths[k] && j < k; j++)
			if (!strcmp(paths[j], paths[k]))
				gos_error(d, cmd, "values '%s' and '%s' would both be written to '%s'",
				          cap.names[j], cap.names[k], paths[k]);
		if (!paths[k])
			gos_error(d, cmd, "out of memory");
		else if (!d->n_errors && !gos_npy_write(paths[k], &cap.t[k], d))
			nw = k + 1;
	}
	if (d->n_errors) {
		for (int k = 0; k < nw; k++)
			unlink(paths[k]);
		goto out;
	}
	rc = 0;
out:
	for (int k = 0; paths && k < cap.n; k++)
		free(paths[k]);
	free(paths);
	gos_capture_free(&cap);
	gos_dataset_free(&ds);
	for (int i = 0; in && i < n_in; i++)
		free(in[i]);
	free(in);
	free(names);
	free(list);
	return rc;
}

/* --profile: compiles m (after the -O1 passes) for target (loaded into
 * *t, which must outlive d: errors point into it), times it on the
 * inputs, prints the per-node table on stdout and writes the CSV to csv
 * (an open temporary file, or NULL). outs receive the outputs. Returns 0
 * or -1 with errors in d. */
static int profile_run(gos_module *m, const char *target, gos_target *t, long runs,
                       const gos_tensor *ins, int n_in, gos_tensor *outs, FILE *csv, gos_diags *d)
{
	gos_pipeline_opts po = {1, 0, NULL, NULL};
	if (gos_pipeline_run(m, &po, d) || d->n_errors)
		return -1;
	if (gos_target_load(t, target, d))
		return -1;
	gos_llvm_opts lo = {2, 0, NULL, 0, 1};
	gos_jit *j = gos_jit_new(m, t, &lo, d);
	if (!j)
		return -1;
	int rc = -1;
	const float **in = calloc((size_t)n_in + 1, sizeof *in);
	float **out = calloc((size_t)m->n_output + 1, sizeof *out);
	gos_profile p = {0};
	if (!in || !out) {
		gos_error(d, (gos_loc){"gos-run", 0, 0}, "out of memory");
		goto done;
	}
	for (int i = 0; i < n_in; i++)
		in[i] = ins[i].data;
	for (int i = 0; i < m->n_output; i++) {
		const gos_value *v = &m->vals[m->outputs[i]];
		outs[i].rank = v->rank;
		memcpy(outs[i].shape, v->shape, sizeof outs[i].shape);
		outs[i].data = out[i] = calloc((size_t)gos_numel(v->rank, v->shape) + 1, sizeof(float));
		if (!out[i]) {
			gos_error(d, (gos_loc){"gos-run", 0, 0}, "out of memory");
			goto done;
		}
	}
	if (gos_jit_profile(j, m->n_node, in, out, runs, &p, d))
		goto done;
	double sum = 0, flops = 0;
	for (int i = 0; i < p.n; i++) {
		sum += p.median_ms[i];
		flops += gos_cost_node_flops(&m->nodes[i]);
	}
	const char *mn = m->name ? m->name : "";
	printf("profile of %s: %d nodes, %ld timed runs\n", mn, p.n, p.runs);
	printf("%-32s %-22s %-11s %10s %10s %10s %8s %6s\n", "node", "op", "kind", "median_ms",
	       "min_ms", "MFLOP", "GFLOP/s", "share%");
	if (csv)
		gos_profile_csv_header(csv);
	for (int i = 0; i < p.n; i++) {
		const gos_node *n = &m->nodes[i];
		double f = gos_cost_node_flops(n), med = p.median_ms[i];
		double gf = med > 0 ? f / med / 1e6 : 0, share = sum > 0 ? 100 * med / sum : 0;
		const char *kind = gos_cost_kind_name(gos_cost_node_kind(n));
		printf("%-32s %-22s %-11s %10.4f %10.4f %10.3f %8.2f %6.2f\n", n->name, n->op, kind, med,
		       p.min_ms[i], f / 1e6, gf, share);
		if (csv)
			gos_profile_csv_row(csv, mn, n->name, n->op, kind, p.runs, med, p.min_ms[i], f, gf,
			                    share);
	}
	double w = p.whole_median_ms, gf = w > 0 ? flops / w / 1e6 : 0;
	printf("%-32s %-22s %-11s %10.4f %10.4f %10.3f %8.2f %6.2f\n", "(sum of nodes)", "-", "-",
	       sum, 0.0, flops / 1e6, sum > 0 ? flops / sum / 1e6 : 0, 100.0);
	printf("%-32s %-22s %-11s %10.4f %10.4f %10.3f %8.2f %6s\n", "(whole run)", "-", "-", w,
	       p.whole_min_ms, flops / 1e6, gf, "-");
	printf("sum_of_node_medians_ms=%.4f whole_run_median_ms=%.4f ratio=%.4f\n", sum, w,
	       w > 0 ? sum / w : 0);
	if (csv)
		gos_profile_csv_row(csv, mn, "(total)", "-", "-", p.runs, w, p.whole_min_ms, flops, gf,
		                    100);
	rc = 0;
done:
	gos_profile_free(&p);
	free(in);
	free(out);
	gos_jit_free(j);
	return rc;
}

int main(int argc, char **argv)
{
	const char *in = NULL, *model = NULL, *outdir = NULL;
	const char *dumpdir = NULL, *nodes = NULL, *calib = NULL, *mean = NULL, *stdv = NULL;
	const char *target = NULL, *csvpath = NULL;
	int random = 0, print = 0, profile = 0;
	long runs = 20;
	uint64_t seed = 0;
	given *gv = calloc((size_t)argc, sizeof *gv);
	int ngv = 0;
	if (!gv)
		return 1;
	gos_load_options lo = {0};
	gos_diags ld;
	int lr;
	gos_diags_init(&ld);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
#define OPT(name) \
	((!strcmp(a, name) && i + 1 < argc && (val = argv[++i])) || \
	 (!strncmp(a, name "=", strlen(name) + 1) && (val = a + strlen(name) + 1)))
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			free(gv);
			return 0;
		} else if (OPT("--input")) {
			const char *eq = strchr(val, '=');
			if (!eq || eq == val || !eq[1]) {
				fprintf(stderr, "gos-run: error: --input wants NAME=FILE.npy, not '%s'\n", val);
				free(gv);
				return 1;
			}
			gv[ngv].name = strndup(val, (size_t)(eq - val));
			gv[ngv++].file = eq + 1;
		} else if (OPT("--output-dir")) {
			outdir = val;
		} else if (OPT("--dump-activations")) {
			dumpdir = val;
		} else if (OPT("--nodes")) {
			nodes = val;
		} else if (OPT("--calib")) {
			calib = val;
		} else if (OPT("--mean")) {
			mean = val;
		} else if (OPT("--std")) {
			stdv = val;
		} else if (!strncmp(a, "-target=", 8)) {
			target = a + 8;
		} else if (OPT("--seed")) {
			char *end;
			errno = 0;
			seed = strtoull(val, &end, 0);
			if (errno || !*val || *end || *val == '-') {
				fprintf(stderr, "gos-run: error: bad seed '%s'\n", val);
				free(gv);
				return 1;
			}
		} else if (!strcmp(a, "--profile")) {
			profile = 1;
		} else if (!strncmp(a, "--profile=", 10)) {
			profile = 1;
			csvpath = a + 10;
		} else if (OPT("--runs")) {
			char *end;
			errno = 0;
			runs = strtol(val, &end, 10);
			if (errno || !*val || *end || runs < 1 || runs > 1000000) {
				fprintf(stderr, "gos-run: error: --runs wants a count >= 1, not '%s'\n", val);
				free(gv);
				return 1;
			}
		} else if (!strcmp(a, "--random-inputs")) {
			random = 1;
		} else if (!strcmp(a, "--print")) {
			print = 1;
		} else if (!strncmp(a, "-model=", 7)) {
			model = a + 7;
		} else if ((lr = gos_load_options_arg(&lo, argc, argv, &i, &ld)) != 0) {
			if (lr < 0) {
				gos_diags_render(&ld, stderr);
				gos_diags_free(&ld);
				free(gv);
				return 1;
			}
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "gos-run: error: unknown option or missing argument '%s'\n", a);
			usage(stderr);
			for (int k = 0; k < ngv; k++)
				free((char *)gv[k].name);
			free(gv);
			return 1;
		} else if (!in) {
			in = a;
		} else {
			fprintf(stderr, "gos-run: error: more than one model file ('%s', '%s')\n", in, a);
			for (int k = 0; k < ngv; k++)
				free((char *)gv[k].name);
			free(gv);
			return 1;
		}
#undef OPT
	}
	int rc = 1;
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = NULL;
	gos_tensor *ins = NULL, *outs = NULL;
	char **outpaths = NULL;
	int n_in = 0;
	gos_loc cmd = {"gos-run", 0, 0};
	char *csvtmp = NULL;
	FILE *csv = NULL;
	gos_target tgt; /* of --profile; diagnostics may point into it */
	if (!in) {
		fprintf(stderr, "gos-run: error: no model file\n");
		usage(stderr);
		goto done;
	}
	if (!outdir && !print && !dumpdir && !profile) {
		fprintf(stderr, "gos-run: error: no --output-dir (or --print, --dump-activations, --profile)\n");
		goto done;
	}
	if (profile && dumpdir) {
		fprintf(stderr, "gos-run: error: --profile and --dump-activations do not go together\n");
		goto done;
	}
	if (csvpath && !*csvpath) {
		fprintf(stderr, "gos-run: error: --profile= wants a file name\n");
		goto done;
	}
	if (!target)
		target = profile ? "host" : "interp";
	if (profile && !strcmp(target, "interp")) {
		fprintf(stderr, "gos-run: error: --profile times compiled code: -target=host (or a "
		                "target describing this machine), not interp\n");
		goto done;
	}
	if (csvpath) { /* written to a temporary file, renamed when complete */
		csvtmp = malloc(strlen(csvpath) + 8);
		if (!csvtmp)
			goto done;
		sprintf(csvtmp, "%s.tmp", csvpath);
		if (!(csv = fopen(csvtmp, "w"))) {
			fprintf(stderr, "gos-run: error: cannot write '%s': %s\n", csvpath, strerror(errno));
			goto done;
		}
	}
	if (dumpdir && (outdir || print)) {
		fprintf(stderr, "gos-run: error: --dump-activations writes its own files: no --output-dir or --print with it\n");
		goto done;
	}
	if ((calib || nodes) && !dumpdir) {
		fprintf(stderr, "gos-run: error: %s is for --dump-activations\n", calib ? "--calib" : "--nodes");
		goto done;
	}
	if (calib && (ngv || random)) {
		fprintf(stderr, "gos-run: error: --calib gives the inputs: no --input or --random-inputs with it\n");
		goto done;
	}
	if ((mean || stdv) && !calib) {
		fprintf(stderr, "gos-run: error: --mean/--std normalise --calib images\n");
		goto done;
	}
	m = gos_load_with(in, model, &lo, &d);
	if (m && gos_verify(m, &d))
		gos_error(&d, (gos_loc){in, 0, 0}, "internal error: the module does not verify");
	if (!m || d.n_errors)
		goto done;

	if (dumpdir) {
		rc = dump_activations(m, dumpdir, nodes, calib, mean, stdv, target, seed, ngv, gv,
		                      random, &d);
		goto done;
	}

	/* inputs */
	for (int v = 0; v < m->n_val; v++)
		n_in += m->vals[v].kind == GOS_VAL_INPUT;
	ins = calloc((size_t)n_in + 1, sizeof *ins);
	outs = calloc((size_t)m->n_output + 1, sizeof *outs);
	outpaths = calloc((size_t)m->n_output + (size_t)n_in + 1, sizeof *outpaths);
	if (!ins || !outs || !outpaths) {
		gos_error(&d, cmd, "out of memory");
		goto done;
	}
	for (int g = 0; g < ngv; g++) {
		int v = gos_module_find_value(m, gv[g].name);
		for (int h = 0; h < g; h++)
			if (!strcmp(gv[h].name, gv[g].name))
				gos_error(&d, cmd, "input '%s' is given twice", gv[g].name);
		if (v >= 0 && m->vals[v].kind == GOS_VAL_INPUT)
			continue;
		const char *best = NULL;
		int cap = (int)strlen(gv[g].name) / 3 + 2, bestd = cap + 1;
		char list[256] = "";
		size_t ul = 0;
		for (int u = 0; u < m->n_val; u++) {
			if (m->vals[u].kind != GOS_VAL_INPUT)
				continue;
			int dist = gos_edit_distance(gv[g].name, m->vals[u].name, cap);
			if (dist < bestd) {
				best = m->vals[u].name;
				bestd = dist;
			}
			if (ul < sizeof list - 1)
				ul += (size_t)snprintf(list + ul, sizeof list - ul, "%s'%s'", ul ? ", " : "",
				                       m->vals[u].name);
		}
		if (v >= 0)
			gos_error(&d, cmd, "'%s' is not an input of model '%s' (it is a %s; inputs: %s)",
			          gv[g].name, m->name,
			          m->vals[v].kind == GOS_VAL_WEIGHT ? "weight" : "computed value",
			          ul ? list : "none");
		else if (best)
			gos_error(&d, cmd, "model '%s' has no input '%s' (did you mean '%s'?)", m->name,
			          gv[g].name, best);
		else
			gos_error(&d, cmd, "model '%s' has no input '%s' (inputs: %s)", m->name,
			          gv[g].name, ul ? list : "none");
	}
	if (d.n_errors)
		goto done;
	gos_rng rng;
	gos_rng_seed(&rng, seed);
	char sh1[128], sh2[128];
	for (int v = 0, k = 0; v < m->n_val; v++) {
		const gos_value *val = &m->vals[v];
		if (val->kind != GOS_VAL_INPUT)
			continue;
		gos_tensor *t = &ins[k++];
		const given *g = NULL;
		for (int j = 0; j < ngv && !g; j++)
			if (!strcmp(gv[j].name, val->name))
				g = &gv[j];
		if (g) {
			gos_diags nd;
			gos_diags_init(&nd);
			if (gos_npy_read(g->file, t, &nd)) {
				for (int j = 0; j < nd.n; j++)
					gos_error(&d, nd.v[j].loc, "input '%s': %s", val->name, nd.v[j].msg);
				gos_diags_free(&nd);
				continue;
			}
			gos_diags_free(&nd);
			int same = t->rank == val->rank;
			for (int j = 0; same && j < t->rank; j++)
				same = t->shape[j] == val->shape[j];
			if (!same)
				gos_error(&d, (gos_loc){g->file, 0, 0},
				          "input '%s' has shape %s in the file but the model expects %s",
				          val->name, shape_str(sh1, sizeof sh1, t->rank, t->shape),
				          shape_str(sh2, sizeof sh2, val->rank, val->shape));
		} else if (random) {
			int64_t n = gos_numel(val->rank, val->shape);
			t->rank = val->rank;
			memcpy(t->shape, val->shape, sizeof t->shape);
			t->data = malloc(sizeof(float) * (size_t)n);
			if (!t->data) {
				gos_error(&d, cmd, "out of memory");
				goto done;
			}
			for (int64_t j = 0; j < n; j++)
				t->data[j] = (float)(-1.0 + 2.0 * gos_rng_uniform(&rng));
		} else {
			gos_error(&d, cmd, "missing input '%s' (f32%s): give --input %s=FILE.npy or --random-inputs",
			          val->name, shape_str(sh1, sizeof sh1, val->rank, val->shape), val->name);
		}
	}
	if (d.n_errors)
		goto done;

	/* output file names: distinct per output value */
	if (outdir)
		for (int i = 0; i < m->n_output; i++) {
			const gos_value *val = &m->vals[m->outputs[i]];
			char *f = safe_name(val->name, ".npy");
			outpaths[i] = f ? join(outdir, f) : NULL;
			free(f);
			if (!outpaths[i]) {
				gos_error(&d, cmd, "out of memory");
				goto done;
			}
			for (int j = 0; j < i; j++)
				if (m->outputs[j] != m->outputs[i] && !strcmp(outpaths[j], outpaths[i]))
					gos_error(&d, cmd, "outputs '%s' and '%s' would both be written to '%s'",
					          m->vals[m->outputs[j]].name, val->name, outpaths[i]);
		}
	if (d.n_errors)
		goto done;

	if (profile) {
		if (profile_run(m, target, &tgt, runs, ins, n_in, outs, csv, &d))
			goto done;
	} else if (gos_module_materialize(m, &d) || gos_interp_run(m, ins, outs, &d)) {
		goto done;
	}

	if (outdir) {
		if (make_dirs(outdir)) {
			gos_error(&d, (gos_loc){outdir, 0, 0}, "cannot create the output directory: %s",
			          strerror(errno));
			goto done;
		}
		int nw = 0; /* files written, removed again on failure */
		for (int i = 0; i < m->n_output && !d.n_errors; i++)
			if (!gos_npy_write(outpaths[i], &outs[i], &d))
				nw = i + 1;
		for (int v = 0, k = 0; v < m->n_val && random && !d.n_errors; v++) {
			const gos_value *val = &m->vals[v];
			if (val->kind != GOS_VAL_INPUT)
				continue;
			int was_given = 0;
			for (int j = 0; j < ngv; j++)
				was_given |= !strcmp(gv[j].name, val->name);
			gos_tensor *t = &ins[k++];
			if (was_given)
				continue;
			char *f = safe_name(val->name, ".input.npy");
			char *p = f ? join(outdir, f) : NULL;
			free(f);
			if (!p || gos_npy_write(p, t, &d)) {
				if (!p)
					gos_error(&d, cmd, "out of memory");
				free(p);
				break;
			}
			outpaths[m->n_output + k - 1] = p;
		}
		if (d.n_errors) {
			for (int i = 0; i < nw; i++)
				unlink(outpaths[i]);
			for (int i = 0; i < n_in; i++)
				if (outpaths[m->n_output + i])
					unlink(outpaths[m->n_output + i]);
			goto done;
		}
	}
	if (csv) { /* last, so that a failure before leaves no profile */
		int bad = ferror(csv);
		bad |= fclose(csv) != 0;
		csv = NULL;
		if (bad || rename(csvtmp, csvpath)) {
			gos_error(&d, (gos_loc){csvpath, 0, 0}, "writing the profile failed");
			remove(csvtmp);
			goto done;
		}
	}
	if (print)
		for (int i = 0; i < m->n_output; i++)
			print_summary(m->vals[m->outputs[i]].name, &outs[i]);
	rc = 0;
done:
	if (csv) {
		fclose(csv);
		remove(csvtmp);
	}
	free(csvtmp);
	gos_diags_render(&d, stderr);
	gos_diags_free(&d);
	for (int i = 0; i < n_in && ins; i++)
		free(ins[i].data);
	for (int i = 0; m && outs && i < m->n_output; i++)
		free(outs[i].data);
	for (int i = 0; m && outpaths && i < m->n_output + n_in; i++)
		free(outpaths[i]);
	free(ins);
	free(outs);
	free(outpaths);
	for (int k = 0; k < ngv; k++)
		free((char *)gv[k].name);
	free(gv);
	gos_module_free(m);
	return rc;
}

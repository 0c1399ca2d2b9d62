/* gosc -- the compiler driver. Thin: parses flags, calls libgos. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/llvm/llvm.h"
#include "backends/onnx/export.h"
#include "eval/eval.h"
#include "frontend/frontend.h"
#include "passes/passes.h"
#include "passes/search/search.h"
#include "passes/synth/synth.h"
#include "support/outfile.h"
#include "tools/mpi/search_local.h"
#include "tools/mpi/search_mpi.h"

static void usage(FILE *f)
{
	fputs("usage: gosc FILE.(gos|gir|onnx) [options]\n"
	      "  -emit=KIND        ir (textual IR), ll (LLVM IR), asm, obj (object + C header),\n"
	      "                    exe (standalone runner), onnx (opset 17, prelude operators\n"
	      "                    only); default: from -o's extension (.gir .ll .s .o\n"
	      "                    .onnx), else obj with -target, else ir\n"
	      "  -target=T         target name (targets/T.target, $GOS_TARGET_DIR/T.target)\n"
	      "                    or path to a .target file; default host\n"
	      "  -mcpu=CPU         override the target's CPU (e.g. cortex-a72, native)\n"
	      "  -mattr=LIST       append LLVM features (e.g. +dotprod,-neon)\n"
	      "  -O0 -O1 -O2 -O3   optimisation level (default -O2)\n"
	      "  -threads=N        run convolution/matrix kernels on N threads (default 1;\n"
	      "                    link the object with -pthread)\n"
	      "  -o FILE           output file ('-': stdout). obj also writes FILE's .h\n"
	      "                    next to it; default for obj/exe: the input's base name\n"
	      "  -weights=external weights in FILE.weights (a raw blob the run function\n"
	      "                    takes as its first argument) instead of read-only data\n"
	      "  -name=PREFIX      C name prefix of the API (default: the model name)\n"
	      "  -model=NAME       which model of a .gos file (default: the last)\n"
	      "  -input-shape NAME=D0,D1,...  shape of ONNX input NAME (sets its symbolic\n"
	      "                    dimensions; repeat per input)\n"
	      "  -stats            print the lowering report and memory sizes on stderr\n"
	      "  -apply=NODE/RULE[:P=V],...  replace nodes by synthesised operators before\n"
	      "                    compiling (docs/synthesis.md; gos-opt --synth lists them)\n"
	      "  -calib=DATA[:N]   calibration images for fitted rules (N default 256)\n"
	      "  -mean=M[,M..] -std=S[,S..]  normalisation of -calib images: pixels scaled\n"
	      "                    to [0, 1], then (x - mean) / std per channel\n"
	      "  -seed=S           seed of the -calib sample (default 0)\n"
	      "  -search           adapt the model to -target (docs/search.md): per heavy\n"
	      "                    operator, the synthesised replacement that keeps accuracy\n"
	      "                    and cuts predicted latency; needs -calib (labelled images,\n"
	      "                    e.g. fashion-mnist:train:512); writes OUT.search/ beside\n"
	      "                    the output (adapted.gos, candidates.csv, pareto.csv/.svg,\n"
	      "                    report.md). Under mpirun, evaluations spread over the ranks\n"
	      "  -j=N              -search in N processes on this machine (default: the online\n"
	      "                    CPUs, at most 4; 1: one process); same result, sooner\n"
	      "  -eval=DATA[:N]    labelled data the search's front is measured on (top-1)\n"
	      "  -max-drop=P       top-1 points the search may lose (default 1)\n"
	      "  -latency=MS | -speedup=X  a latency target on -target (penalised above)\n"
	      "  -budget=TIME      search wall time: seconds, or with s/m/h (default 10m)\n"
	      "  -max-evals=N      stop the search after N evaluated candidates\n"
	      "  -strategy=S       nsga2 (default), random or uniform (the baselines)\n"
	      "  -no-predictor     plain NSGA-II: every offspring evaluated\n"
	      "  -no-recon         final checks without block reconstruction (least\n"
	      "                    squares refits only)\n"
	      "  -search-nodes=N   heaviest operators searched (default 16)\n"
	      "  -search-pop=N     NSGA-II population (default 24)\n"
	      "  -cost-model=FILE  fitted latency model of the target (gos-cost fit)\n"
	      "  -profile=FILE.csv the model's per-node times measured on the target (the\n"
	      "                    runner's --profile=FILE.csv): the search's stage 1\n"
	      "                    ranks the operators by them\n"
	      "  --list-targets    print the known targets\n"
	      "  --help            this text\n",
	      f);
}

static int has_ext(const char *path, const char *ext)
{
	size_t n = strlen(path), e = strlen(ext);
	return n > e && !strcmp(path + n - e, ext);
}

/* path with its extension (after the last '.' of the last component)
 * replaced by ext; malloc'd. */
static char *with_ext(const char *path, const char *ext)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');
	size_t n = (dot && (!slash || dot > slash) && dot != path) ? (size_t)(dot - path) : strlen(path);
	char *s = malloc(n + strlen(ext) + 1);
	if (s) {
		memcpy(s, path, n);
		strcpy(s + n, ext);
	}
	return s;
}

/* The input's base name without directory and extension, plus ext. */
static char *stem(const char *path, const char *ext)
{
	const char *slash = strrchr(path, '/');
	return with_ext(slash ? slash + 1 : path, ext);
}

/* Is path an existing file that is not a regular file (/dev/null, a
 * FIFO)? Those are written directly: replacing them by rename would turn
 * /dev/null into a regular file. */
static int is_special(const char *path)
{
	struct stat st;
	return path && strcmp(path, "-") && stat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

/* Outputs written to temporaries, renamed into place together once every
 * output (and the search's directory) is complete: no partial output. */
static gos_outfile staged[4];
static int n_staged;
static char *exe_tmp, *exe_final; /* the runner, linked beside its place */

/* Writes n bytes to path (or stdout for "-"/NULL) completely or not at
 * all; a regular file only appears with commit_outputs. */
static int write_all(const char *path, const char *data, size_t n)
{
	if (is_special(path)) {
		FILE *f = fopen(path, "wb");
		int bad = !f || (n && fwrite(data, 1, n, f) != n);
		bad |= f && fclose(f) != 0;
		if (bad)
			fprintf(stderr, "gosc: error: writing '%s' failed\n", path);
		return bad ? -1 : 0;
	}
	gos_outfile o;
	if (gos_outfile_open(&o, path)) {
		fprintf(stderr, "gosc: error: cannot write '%s'\n", path);
		return -1;
	}
	if (n && fwrite(data, 1, n, o.f) != n) {
		gos_outfile_abort(&o);
		fprintf(stderr, "gosc: error: writing '%s' failed\n", path ? path : "stdout");
		return -1;
	}
	if (!o.path || o.direct || n_staged == (int)(sizeof staged / sizeof staged[0])) {
		if (gos_outfile_commit(&o)) {
			fprintf(stderr, "gosc: error: writing '%s' failed\n", path ? path : "stdout");
			return -1;
		}
		return 0;
	}
	if (fflush(o.f) != 0 || ferror(o.f)) {
		gos_outfile_abort(&o);
		fprintf(stderr, "gosc: error: writing '%s' failed\n", path);
		return -1;
	}
	staged[n_staged++] = o;
	return 0;
}

/* Writes path now (the temporary files of -emit=exe). */
static int write_now(const char *path, const char *data, size_t n)
{
	int k = n_staged;
	if (write_all(path, data, n))
		return -1;
	if (n_staged > k && gos_outfile_commit(&staged[--n_staged])) {
		fprintf(stderr, "gosc: error: writing '%s' failed\n", path);
		return -1;
	}
	return 0;
}

/* Renames every staged output into place (ok) or discards them all.
 * Returns 0, or -1 when a rename failed (those already in place are
 * removed again). */
static int commit_outputs(int ok)
{
	int rc = 0, k = 0;
	char *done[sizeof staged / sizeof staged[0]] = {0};
	for (; ok && k < n_staged; k++) {
		done[k] = strdup(staged[k].path);
		if (gos_outfile_commit(&staged[k])) {
			fprintf(stderr, "gosc: error: writing '%s' failed\n", done[k] ? done[k] : "output");
			rc = -1;
			ok = 0;
			for (int j = 0; j < k; j++)
				if (done[j])
					unlink(done[j]);
			k++;
			break;
		}
	}
	for (int j = 0; j < k; j++)
		free(done[j]);
	for (; k < n_staged; k++)
		gos_outfile_abort(&staged[k]);
	n_staged = 0;
	if (exe_tmp) {
		if (ok && rename(exe_tmp, exe_final)) {
			fprintf(stderr, "gosc: error: cannot write '%s': %s\n", exe_final, strerror(errno));
			rc = -1;
		}
		if (!ok || rc)
			unlink(exe_tmp);
		free(exe_tmp);
		exe_tmp = NULL;
	}
	return rc;
}

/* -apply: the rewritten copy of m (fitted rules from the -calib batch),
 * or NULL with errors in d. */
static gos_module *synthesise(const gos_module *m, const char *apply, const char *calib,
                              const char *mean, const char *stdv, unsigned long long seed,
                              gos_diags *d)
{
	gos_norm norm = {0};
	gos_dataset ds = {0};
	float *x = NULL;
	const float *in[1] = {NULL};
	gos_synth_calib c = {0, in, NULL, 0, NULL};
	gos_module *r = NULL;
	if (mean && (norm.n_mean = gos_norm_parse(mean, 0, norm.mean, "-mean", d)) < 0)
		return NULL;
	if (stdv && (norm.n_std = gos_norm_parse(stdv, 1, norm.std, "-std", d)) < 0)
		return NULL;
	if (calib && (gos_dataset_load_calib(&ds, calib, seed, &norm, d) ||
	              gos_capture_inputs(m, &ds, &x, &c.n, d)))
		goto done;
	in[0] = x;
	r = gos_synth_apply(m, apply, calib ? &c : NULL, d);
done:
	free(x);
	gos_dataset_free(&ds);
	return r;
}

static volatile int search_stop;
static void on_sigint(int sig)
{
	(void)sig;
	search_stop = 1;
	signal(SIGINT, SIG_DFL); /* a second ^C ends the process */
}

static void search_progress(void *ctx, const gos_search_progress *p)
{
	(void)ctx;
	double left = p->budget_s - p->elapsed_s;
	fprintf(stderr, "\rsearch: %-6s %4d evaluated, best %.2fx within the proxy's bound, %4.0f s left ",
	        p->phase, p->evals, p->best_speedup, left > 0 ? left : 0);
	fflush(stderr);
}

/* Parses a -budget value: seconds, or a number with s, m or h. */
static int parse_budget(const char *v, double *out)
{
	char *end;
	double x = strtod(v, &end);
	double mul = !*end ? 1 : !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600 : -1;
	if (end == v || mul < 0 || !(x > 0) || !isfinite(x))
		return -1;
	*out = x * mul;
	return 0;
}

/* The search's settings from the command line. */
typedef struct search_args {
	int on;
	int procs; /* -j: local processes (0: default) */
	const char *eval, *cost_model;
	gos_search_opts o;
} search_args;

/* -search: adapts m (replaced by the adapted model) and writes dir.
 * Returns 0 or -1 with errors in d. */
static int run_search(gos_module **mp, search_args *sa, const char *calib, const char *mean,
                      const char *stdv, unsigned long long seed, const char *target,
                      gos_search_result *res, gos_diags *d)
{
	gos_norm norm = {0};
	gos_dataset cds = {0}, eds = {0};
	gos_cost_model fm;
	int rc = -1;
	if (!calib) {
		gos_error(d, (gos_loc){(*mp)->name, 0, 0},
		          "-search needs calibration data: -calib=DATA[:N] (labelled images)");
		return -1;
	}
	if (mean && (norm.n_mean = gos_norm_parse(mean, 0, norm.mean, "-mean", d)) < 0)
		return -1;
	if (stdv && (norm.n_std = gos_norm_parse(stdv, 1, norm.std, "-std", d)) < 0)
		return -1;
	if (gos_dataset_load_calib(&cds, calib, seed, &norm, d))
		return -1;
	if (sa->eval) {
		char spec[1024];
		snprintf(spec, sizeof spec, "%s", sa->eval);
		long long limit = 0;
		char *colon = strrchr(spec, ':');
		if (colon && colon[1] >= '0' && colon[1] <= '9') {
			char *end;
			limit = strtoll(colon + 1, &end, 10);
			if (*end || limit < 1) {
				gos_error(d, (gos_loc){sa->eval, 0, 0}, "bad image count in -eval");
				goto done;
			}
			*colon = 0;
		}
		if (gos_dataset_load(&eds, spec, limit, &norm, d))
			goto done;
	}
	if (sa->cost_model) {
		if (gos_cost_model_read(&fm, sa->cost_model, d))
			goto done;
		sa->o.fitted = &fm;
	}
	sa->o.target = target ? target : "host";
	sa->o.seed = seed;
	/* the report also predicts for the other ARM devices */
	static const char *const devs[] = {"pi3", "redmi-note7s", "host"};
	int na = 0;
	for (int k = 0; k < 3; k++)
		if (strcmp(devs[k], sa->o.target))
			sa->o.also[na++] = devs[k];
	search_stop = 0;
	sa->o.stop = &search_stop;
	void (*old)(int) = signal(SIGINT, on_sigint);
	rc = gos_search_run(*mp, &cds, sa->eval ? &eds : NULL, &sa->o, res, d);
	signal(SIGINT, old);
	if (sa->o.progress)
		fputc('\n', stderr);
	if (!rc) { /* compiled from a copy: the passes change it in place */
		gos_module *copy = gos_module_clone(res->adapted);
		if (!copy) {
			gos_error(d, (gos_loc){(*mp)->name, 0, 0}, "out of memory");
			rc = -1;
		} else {
			gos_module_free(*mp);
			*mp = copy;
		}
	}
done:
	gos_dataset_free(&cds);
	gos_dataset_free(&eds);
	return rc;
}

static gos_search_mpi mpi;

static int gosc_main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *emit = NULL, *model = NULL, *target = NULL;
	const char *mcpu = NULL, *mattr = NULL, *prefix = NULL;
	const char *apply = NULL, *calib = NULL, *mean = NULL, *stdv = NULL;
	char *exe = NULL;
	unsigned long long seed = 0;
	int opt = 2, external = 0, stats = 0, threads = 1;
	search_args sa = {0};
	gos_search_opts_default(&sa.o);
	gos_load_options lopt = {0};
	gos_diags ld;
	int lr;
	gos_diags_init(&ld);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if ((lr = gos_load_options_arg(&lopt, argc, argv, &i, &ld)) != 0) {
			if (lr < 0) {
				gos_diags_render(&ld, stderr);
				gos_diags_free(&ld);
				return 1;
			}
		} else if (!strcmp(a, "--list-targets")) {
			char buf[4096];
			gos_target_list(buf, sizeof buf);
			printf("%s\n", buf);
			return 0;
		} else if (!strcmp(a, "-o") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strncmp(a, "-emit=", 6)) {
			emit = a + 6;
		} else if (!strncmp(a, "-model=", 7)) {
			model = a + 7;
		} else if (!strncmp(a, "-target=", 8)) {
			target = a + 8;
		} else if (!strncmp(a, "-mcpu=", 6)) {
			mcpu = a + 6;
		} else if (!strncmp(a, "-mattr=", 7)) {
			mattr = a + 7;
		} else if (!strncmp(a, "-name=", 6)) {
			prefix = a + 6;
		} else if (!strncmp(a, "-threads=", 9)) {
			char *end;
			long v = strtol(a + 9, &end, 10);
			if (*end || end == a + 9 || v < 1 || v > 256) {
				fprintf(stderr, "gosc: error: -threads wants a number from 1 to 256, got '%s'\n", a + 9);
				return 1;
			}
			threads = (int)v;
		} else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3]) {
			opt = a[2] - '0';
		} else if (!strcmp(a, "-weights=external")) {
			external = 1;
		} else if (!strcmp(a, "-weights=embedded")) {
			external = 0;
		} else if (!strcmp(a, "-stats")) {
			stats = 1;
		} else if (!strncmp(a, "-apply=", 7)) {
			apply = a + 7;
		} else if (!strncmp(a, "-calib=", 7)) {
			calib = a + 7;
		} else if (!strncmp(a, "-mean=", 6)) {
			mean = a + 6;
		} else if (!strncmp(a, "-std=", 5)) {
			stdv = a + 5;
		} else if (!strncmp(a, "-seed=", 6)) {
			char *end;
			seed = strtoull(a + 6, &end, 10);
			if (*end || !a[6]) {
				fprintf(stderr, "gosc: error: bad -seed '%s'\n", a + 6);
				return 1;
			}
		} else if (!strcmp(a, "-search")) {
			sa.on = 1;
		} else if (!strncmp(a, "-j=", 3)) {
			char *end;
			long v = strtol(a + 3, &end, 10);
			if (*end || !a[3] || v < 1 || v > GOS_SEARCH_LOCAL_MAX) {
				fprintf(stderr, "gosc: error: bad -j '%s' (want 1 to %d processes)\n", a + 3,
				        GOS_SEARCH_LOCAL_MAX);
				return 1;
			}
			sa.procs = (int)v;
		} else if (!strncmp(a, "-eval=", 6)) {
			sa.eval = a + 6;
		} else if (!strncmp(a, "-cost-model=", 12)) {
			sa.cost_model = a + 12;
		} else if (!strncmp(a, "-profile=", 9) && a[9]) {
			sa.o.profile = a + 9;
		} else if (!strcmp(a, "-no-predictor")) {
			sa.o.no_predictor = 1;
		} else if (!strcmp(a, "-no-recon")) {
			sa.o.no_recon = 1;
		} else if (!strncmp(a, "-strategy=", 10)) {
			const char *v = a + 10;
			if (!strcmp(v, "nsga2"))
				sa.o.strategy = GOS_SEARCH_NSGA2;
			else if (!strcmp(v, "random"))
				sa.o.strategy = GOS_SEARCH_RANDOM;
			else if (!strcmp(v, "uniform"))
				sa.o.strategy = GOS_SEARCH_UNIFORM;
			else {
				fprintf(stderr, "gosc: error: unknown -strategy '%s' (known: nsga2, random, uniform)\n", v);
				return 1;
			}
		} else if (!strncmp(a, "-search-nodes=", 14) || !strncmp(a, "-search-pop=", 12)) {
			const char *v = strchr(a, '=') + 1;
			char *end;
			long x = strtol(v, &end, 10);
			int nodes = a[8] == 'n';
			if (end == v || *end || x < (nodes ? 1 : 4) || x > (nodes ? GOS_SEARCH_MAX_NODES : 1000)) {
				fprintf(stderr, "gosc: error: %s wants a number from %d to %d\n",
				        nodes ? "-search-nodes" : "-search-pop", nodes ? 1 : 4,
				        nodes ? GOS_SEARCH_MAX_NODES : 1000);
				return 1;
			}
			if (nodes)
				sa.o.max_nodes = (int)x;
			else
				sa.o.pop = (int)x;
		} else if (!strncmp(a, "-budget=", 8)) {
			if (parse_budget(a + 8, &sa.o.budget_s)) {
				fprintf(stderr, "gosc: error: bad -budget '%s' (seconds, or a number with s, m or h)\n", a + 8);
				return 1;
			}
		} else if (!strncmp(a, "-max-drop=", 10) || !strncmp(a, "-latency=", 9) ||
		           !strncmp(a, "-speedup=", 9) || !strncmp(a, "-max-evals=", 11)) {
			const char *v = strchr(a, '=') + 1;
			char *end;
			double x = strtod(v, &end);
			int is_drop = a[1] == 'm' && a[5] == 'd', is_evals = a[1] == 'm' && a[5] == 'e';
			if (end == v || *end || !isfinite(x) || x < 0 || (!is_drop && x <= 0) ||
			    (is_evals && (x != floor(x) || x > 1e6))) {
				fprintf(stderr, "gosc: error: bad value in '%s'\n", a);
				return 1;
			}
			if (is_drop)
				sa.o.max_drop = x;
			else if (is_evals)
				sa.o.max_evals = (int)x;
			else if (a[1] == 'l')
				sa.o.latency_ms = x;
			else
				sa.o.speedup = x;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "gosc: error: unknown option '%s'\n", a);
			usage(stderr);
			return 1;
		} else if (!in) {
			in = a;
		} else {
			fprintf(stderr, "gosc: error: more than one input file ('%s', '%s')\n", in, a);
			return 1;
		}
	}
	if (!in) {
		fprintf(stderr, "gosc: error: no input file\n");
		usage(stderr);
		return 1;
	}
	if (!emit) {
		if (out && has_ext(out, ".gir"))
			emit = "ir";
		else if (out && has_ext(out, ".ll"))
			emit = "ll";
		else if (out && has_ext(out, ".s"))
			emit = "asm";
		else if (out && has_ext(out, ".o"))
			emit = "obj";
		else if (out && has_ext(out, ".onnx"))
			emit = "onnx";
		else
			emit = target ? "obj" : "ir";
	}
	/* kinds 1..4 go through the LLVM backend */
	static const char *const kinds[] = {"ir", "ll", "asm", "obj", "exe", "onnx"};
	int kind = -1;
	for (int k = 0; k < 6; k++)
		if (!strcmp(emit, kinds[k]))
			kind = k;
	if (kind < 0) {
		fprintf(stderr,
		        "gosc: error: unknown -emit kind '%s' (known: ir, ll, asm, obj, exe, onnx)\n",
		        emit);
		return 1;
	}
	int llvm = kind >= 1 && kind <= 4;
	if (prefix) {
		char c[128];
		gos_llvm_c_name(prefix, c, sizeof c);
		if (strcmp(c, prefix)) {
			fprintf(stderr, "gosc: error: -name=%s is not a C identifier\n", prefix);
			return 1;
		}
	}
	if (kind == 4 && out && !strcmp(out, "-")) {
		fprintf(stderr, "gosc: error: -emit=exe cannot write to stdout\n");
		return 1;
	}
	gos_diags d;
	gos_diags_init(&d);
	int rc = 1;
	gos_target t;
	char *objpath = NULL, *hpath = NULL, *wpath = NULL, *tmpdir = NULL;
	gos_llvm_output lo;
	memset(&lo, 0, sizeof lo);
	gos_search_result sres;
	memset(&sres, 0, sizeof sres);
	int have_sres = 0;
	if (llvm && gos_target_load(&t, target ? target : "host", &d)) {
		gos_diags_render(&d, stderr);
		gos_diags_free(&d);
		return 1;
	}
	if (llvm)
		gos_target_override(&t, mcpu, mattr);
	gos_module *m = gos_load_with(in, model, &lopt, &d);
	if (m && gos_verify(m, &d))
		gos_error(&d, (gos_loc){in, 0, 0}, "internal error: the module does not verify");
	if (!m || d.n_errors)
		goto done;
	if ((calib || mean || stdv) && !apply && !sa.on) {
		fprintf(stderr, "gosc: error: -calib/-mean/-std are for -apply and -search\n");
		goto done;
	}
	if (sa.on) {
		if (apply) {
			fprintf(stderr, "gosc: error: -apply and -search do not combine\n");
			goto done;
		}
		if (kind == 3 && out && (!strcmp(out, "-") || is_special(out))) {
			fprintf(stderr, "gosc: error: -search writes OUT.search/ beside its output: give -o FILE\n");
			goto done;
		}
		/* without mpirun: local processes (forked here, after the
		 * checks above; each runs the search, process 0 writes) */
		gos_search_local loc = {0, 1, {0}, {0}, 0};
		if (mpi.size == 1) {
			long cpus = sysconf(_SC_NPROCESSORS_ONLN);
			int n = sa.procs ? sa.procs : cpus > 4 ? 4 : cpus > 1 ? (int)cpus : 1;
			if (n > 1 && gos_search_local_start(&loc, n))
				fprintf(stderr, "gosc: warning: -search runs in one process (forking %d "
				        "failed)\n", n - 1);
		}
		if (isatty(2) && mpi.rank == 0 && loc.rank == 0) {
			sa.o.progress = search_progress;
		}
		sa.o.threads = mpi.size > 1 || loc.size > 1 ? 1 : 0;
		gos_search_mpi_opts(&mpi, &sa.o);
		gos_search_local_opts(&loc, &sa.o);
		int src = run_search(&m, &sa, calib, mean, stdv, seed, target, &sres, &d);
		gos_search_local_finish(&loc, src); /* a child exits here */
		if (src)
			goto done;
		have_sres = 1;
		if (mpi.rank > 0) { /* rank 0 compiles and writes */
			rc = 0;
			goto done;
		}
	}
	if (apply) {
		gos_module *r = synthesise(m, apply, calib, mean, stdv, seed, &d);
		if (!r)
			goto done;
		gos_module_free(m);
		m = r;
	}
	if (kind == 0) {
		char *text = NULL;
		size_t len = 0;
		FILE *mf = open_memstream(&text, &len);
		if (!mf) {
			fprintf(stderr, "gosc: error: out of memory\n");
			goto done;
		}
		gos_ir_print(mf, m);
		if (fclose(mf) == 0 && !write_all(out, text, len))
			rc = 0;
		free(text);
		goto done;
	}
	if (kind == 5) {
		char *onnx = NULL;
		size_t onnx_len = 0;
		if (!gos_onnx_export(m, &onnx, &onnx_len, &d) && !d.n_errors &&
		    !write_all(out, onnx, onnx_len))
			rc = 0;
		free(onnx);
		goto done;
	}
	/* exact synthesised operators the target's cost model favours, at -O2 and up */
	if (opt >= 2 && gos_synth_exact(&m, target ? target : "host", &d) < 0)
		goto done;
	/* the IR passes (batchnorm folding, epilogue fusion, DCE) at -O1 and up */
	gos_pipeline_opts po = {opt > 0, 0, NULL, NULL};
	if (gos_pipeline_run(m, &po, &d))
		goto done;
	gos_llvm_opts opts = {opt, external, prefix, 0, threads};
	gos_emit e = kind == 1 ? GOS_EMIT_LL : kind == 2 ? GOS_EMIT_ASM : GOS_EMIT_OBJ;
	if (gos_llvm_compile(m, &t, &opts, e, &lo, &d))
		goto done;
	if (stats)
		fprintf(stderr, "%sscratch_bytes=%lld weight_bytes=%lld\n", lo.stats,
		        (long long)lo.scratch_bytes, (long long)lo.weight_bytes);
	if (kind == 1 || kind == 2) {
		rc = write_all(out, lo.code, lo.code_len) ? 1 : 0;
		goto done;
	}
	if (kind == 3) {
		int to_stdout = out && (!strcmp(out, "-") || is_special(out));
		objpath = out ? strdup(out) : stem(in, ".o");
		if (write_all(objpath, lo.code, lo.code_len))
			goto done;
		if (!to_stdout) {
			hpath = with_ext(objpath, ".h");
			if (write_all(hpath, lo.header, strlen(lo.header)))
				goto done;
		}
		if (external) {
			wpath = to_stdout ? stem(in, ".weights") : with_ext(objpath, ".weights");
			if (write_all(wpath, lo.weights, lo.weights_len))
				goto done;
		}
		rc = 0;
		goto done;
	}
	/* exe: object and header in a temporary directory, then link */
	exe = out ? strdup(out) : stem(in, "");
	const char *td = getenv("TMPDIR");
	size_t tl = strlen(td && *td ? td : "/tmp") + 32;
	tmpdir = malloc(tl);
	if (!exe || !tmpdir)
		goto done;
	snprintf(tmpdir, tl, "%s/gosc-XXXXXX", td && *td ? td : "/tmp");
	if (!mkdtemp(tmpdir)) {
		fprintf(stderr, "gosc: error: cannot create a temporary directory: %s\n", strerror(errno));
		free(tmpdir);
		tmpdir = NULL;
		goto done;
	}
	size_t pl = strlen(tmpdir) + 16;
	objpath = malloc(pl);
	hpath = malloc(pl);
	if (objpath && hpath) {
		snprintf(objpath, pl, "%s/model.o", tmpdir);
		snprintf(hpath, pl, "%s/model.h", tmpdir);
		size_t el = strlen(exe) + 32;
		exe_tmp = malloc(el);
		if (exe_tmp)
			snprintf(exe_tmp, el, "%s.tmp-%ld", exe, (long)getpid());
		exe_final = exe;
		if (exe_tmp && !write_now(objpath, lo.code, lo.code_len) &&
		    !write_now(hpath, lo.header, strlen(lo.header)) &&
		    !gos_llvm_link_runner(&t, objpath, hpath, lo.prefix, external, exe_tmp, &d)) {
			rc = 0;
			if (external) {
				size_t wl = strlen(exe) + 16;
				wpath = malloc(wl);
				if (wpath)
					snprintf(wpath, wl, "%s.weights", exe);
				rc = !wpath || write_all(wpath, lo.weights, lo.weights_len);
			}
		}
		unlink(objpath);
		unlink(hpath);
	}
	rmdir(tmpdir);
done:
	/* the search's directory, once the compiled output is complete (its
	 * files are renamed into place after it); only rank 0 of a
	 * distributed search writes */
	if (!rc && have_sres && mpi.rank == 0) {
		const char *base = out ? out : in;
		char *sdir = out ? with_ext(base, ".search") : stem(base, ".search");
		if (!sdir || gos_search_write(&sres, sdir, &d))
			rc = 1;
		free(sdir);
	}
	if (commit_outputs(!rc))
		rc = 1;
	free(exe);
	gos_search_result_free(&sres);
	gos_diags_render(&d, stderr);
	gos_diags_free(&d);
	gos_llvm_output_free(&lo);
	gos_module_free(m);
	free(objpath);
	free(hpath);
	free(wpath);
	free(tmpdir);
	return rc;
}

int main(int argc, char **argv)
{
	gos_search_mpi_init(&mpi, &argc, &argv);
	int rc = gosc_main(argc, argv);
	gos_search_mpi_finalize(&mpi);
	return rc;
}

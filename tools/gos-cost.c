/* gos-cost -- latency prediction, adaptation to a device, rank correlation.
 * Thin: reads flags and CSV files, calls the cost library (passes/cost/cost.h).
 * See docs/cost-models.md. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/frontend.h"
#include "passes/cost/cost.h"
#include "passes/passes.h"
#include "support/outfile.h"

static void usage(FILE *f)
{
	fputs("usage: gos-cost COMMAND [options]\n"
	      "  predict -target=T [--model-file F] [--per-op] MODEL...\n"
	      "      one line MODEL,predicted_ms per model (.gos, .gir, .onnx); the\n"
	      "      analytic model of target T, or the fitted model F;\n"
	      "      --per-op: a table per operator instead (op, FLOPs, bytes, ms, share)\n"
	      "      (a model fitted with --prior=proxy also needs --proxy-csv P.csv)\n"
	      "  predict --proxy [--runs N] [--with-min] MODEL...\n"
	      "      measure on this machine (gosc -target=host -emit=exe, runner --bench):\n"
	      "      MODEL,median_ms (--with-min: MODEL,median_ms,min_ms)\n"
	      "  fit -target=T --samples S.csv -o F [--fold=auto|yes|no] [--tau=a,b,..]\n"
	      "      [--lambda=a,b,..] [--prior=analytic|proxy --proxy-csv P.csv]\n"
	      "      [--columns=ms,gflop,mb,nodes,prior] [--allow-negative]\n"
	      "      adapt to a device from S.csv rows model_path,latency_ms (10..60 rows)\n"
	      "  fit -target=T [--samples S.csv] --profile P.csv [--profile Q.csv..] -o F MODEL..\n"
	      "      adapt per operator kind from per-node profiles (the runner's\n"
	      "      --profile=FILE.csv) of the MODELs, one profile per MODEL in order;\n"
	      "      with --samples too, the profile model competes with the fitted ones\n"
	      "  select -target=T -n K MODEL...\n"
	      "      which K of the models to measure on the device for `fit` (the\n"
	      "      paths, one per line, most representative first)\n"
	      "  features -target=T MODEL...\n"
	      "      CSV of the per-kind features of every model (for studies)\n"
	      "  rank-corr A.csv B.csv\n"
	      "      Spearman and Kendall correlation of the second columns, rows\n"
	      "      matched by the first column\n"
	      "common options:\n"
	      "  --features-csv C   take models' features from C (from `features`)\n"
	      "                     instead of loading them; MODEL names its rows\n"
	      "                     (predict with no MODEL: every row)\n"
	      "  --gosc PATH        the compiler for --proxy (default: beside gos-cost)\n"
	      "  --input-shape NAME=D0,D1,...  shape of ONNX input NAME (sets its symbolic\n"
	      "                     dimensions; repeatable)\n"
	      "  --help             this text\n",
	      f);
}

/* ---- small CSV reader --------------------------------------------------------- */

typedef struct csv {
	int n, cap;      /* rows */
	int ncol;        /* columns of the header (or first row) */
	char **cells;    /* n * ncol, malloc'd strings (missing: "") */
	char **header;   /* ncol names, or NULL when the file has none */
} csv;

static void csv_free(csv *c)
{
	for (int i = 0; i < c->n * c->ncol; i++)
		free(c->cells[i]);
	if (c->header)
		for (int j = 0; j < c->ncol; j++)
			free(c->header[j]);
	free(c->cells);
	free(c->header);
	memset(c, 0, sizeof *c);
}

static int is_number(const char *s)
{
	char *end;
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return 0;
	strtod(s, &end);
	while (isspace((unsigned char)*end))
		end++;
	return *end == 0;
}

/* Splits line at commas into at most max fields (trimmed, malloc'd). */
static int split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;
	for (;;) {
		char *c = strchr(p, ',');
		if (c)
			*c = 0;
		while (isspace((unsigned char)*p))
			p++;
		char *e = p + strlen(p);
		while (e > p && isspace((unsigned char)e[-1]))
			*--e = 0;
		if (n < max)
			f[n++] = strdup(p);
		if (!c)
			break;
		p = c + 1;
	}
	return n;
}

/* Reads a CSV; a first row whose column `numcol` is not a number is a
 * header. Lines starting with # are comments. Returns 0 or -1. */
static int csv_read(const char *path, int numcol, csv *c)
{
	memset(c, 0, sizeof *c);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "gos-cost: error: cannot read '%s': %s\n", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int first = 1;
	enum { MAXF = 256 };
	char *fl[MAXF];
	while ((len = getline(&line, &cap, f)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			continue;
		int nf = split(s, fl, MAXF);
		if (first) {
			c->ncol = nf;
			first = 0;
			if (numcol < nf && !is_number(fl[numcol])) {
				c->header = malloc(sizeof *c->header * (size_t)nf);
				for (int j = 0; j < nf; j++)
					c->header[j] = fl[j];
				continue;
			}
		}
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 64;
			c->cells = realloc(c->cells, sizeof *c->cells * (size_t)c->cap * c->ncol);
		}
		for (int j = 0; j < c->ncol; j++)
			c->cells[(size_t)c->n * c->ncol + j] = j < nf ? fl[j] : strdup("");
		for (int j = c->ncol; j < nf; j++)
			free(fl[j]);
		c->n++;
	}
	free(line);
	fclose(f);
	return 0;
}

static const char *cell(const csv *c, int i, int j)
{
	return c->cells[(size_t)i * c->ncol + j];
}

static int csv_col(const csv *c, const char *name)
{
	for (int j = 0; c->header && j < c->ncol; j++)
		if (!strcmp(c->header[j], name))
			return j;
	return -1;
}

/* ---- models and features ------------------------------------------------------ */

/* Features of one model: either computed, or read from a features CSV. */
typedef struct modelfeat {
	gos_cost_sample s;
	double flops, bytes, analytic_ms;
} modelfeat;

/* --input-shape settings, for every model loaded */
static gos_load_options load_opts;

/* Loads, verifies and analyses path on t. Returns 0 or -1 (errors shown). */
static int load_analyze(const char *path, const gos_cost_target *t, gos_module **mp,
                        gos_cost_report *r)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_load_with(path, NULL, &load_opts, &d);
	if (m && gos_verify(m, &d))
		gos_error(&d, (gos_loc){path, 0, 0}, "internal error: the module does not verify");
	int rc = -1;
	if (m && !d.n_errors && !gos_cost_analyze(m, t, r, &d))
		rc = 0;
	gos_diags_render(&d, stderr);
	gos_diags_free(&d);
	if (rc || !mp)
		gos_module_free(m);
	else
		*mp = m;
	return rc;
}

static int model_features(const char *path, const gos_cost_target *t, modelfeat *mf)
{
	gos_cost_report r;
	if (load_analyze(path, t, NULL, &r))
		return -1;
	gos_cost_features(&r, 0, mf->s.x_all);
	gos_cost_features(&r, 1, mf->s.x_fold);
	mf->s.proxy = NAN;
	mf->flops = r.flops;
	mf->bytes = r.bytes;
	mf->analytic_ms = r.total_ms;
	gos_cost_report_free(&r);
	return 0;
}

/* Row of the features CSV for model name, or -1. */
static int feat_row(const csv *fc, const char *name)
{
	for (int i = 0; i < fc->n; i++)
		if (!strcmp(cell(fc, i, 0), name))
			return i;
	return -1;
}

static int feat_from_csv(const csv *fc, int row, modelfeat *mf)
{
	memset(mf, 0, sizeof *mf);
	mf->s.proxy = NAN;
	int missing = 0;
	for (int j = 0; j < GOS_COST_NFEAT; j++) {
		char name[64];
		snprintf(name, sizeof name, "all:%s", gos_cost_feature_name(j));
		int ca = csv_col(fc, name);
		snprintf(name, sizeof name, "fold:%s", gos_cost_feature_name(j));
		int cf = csv_col(fc, name);
		if (ca < 0 || cf < 0) {
			missing = 1;
			continue;
		}
		mf->s.x_all[j] = atof(cell(fc, row, ca));
		mf->s.x_fold[j] = atof(cell(fc, row, cf));
	}
	int c;
	if ((c = csv_col(fc, "flops")) >= 0)
		mf->flops = atof(cell(fc, row, c));
	if ((c = csv_col(fc, "bytes")) >= 0)
		mf->bytes = atof(cell(fc, row, c));
	if ((c = csv_col(fc, "analytic_ms")) >= 0)
		mf->analytic_ms = atof(cell(fc, row, c));
	if (missing) {
		fprintf(stderr, "gos-cost: error: the features CSV lacks feature columns "
		                "(made by an older gos-cost?)\n");
		return -1;
	}
	return 0;
}

/* Path of the sibling executable `name` of this program, in buf. */
static const char *sibling(const char *name, char *buf, size_t n)
{
	char self[4096];
	ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
	if (k <= 0)
		return name;
	self[k] = 0;
	char *slash = strrchr(self, '/');
	if (!slash)
		return name;
	size_t dl = (size_t)(slash - self) + 1, nl = strlen(name);
	if (dl + nl + 1 > n)
		return name;
	memcpy(buf, self, dl);
	memcpy(buf + dl, name, nl + 1);
	return buf;
}

/* ---- options ------------------------------------------------------------------ */

typedef struct opts {
	const char *target, *model_file, *samples, *out, *features_csv, *gosc;
	const char *proxy_csv, *prior;
	int per_op, proxy, proxy_min, runs, fold_set, fold, count;
	gos_cost_fitopts fit;
	int nin;
	const char **in;
	int nprof;
	const char **prof; /* --profile FILE.csv, in order */
} opts;

/* Parses a comma-separated list of up to max numbers. */
static int parse_list(const char *s, double *v, int max)
{
	int n = 0;
	while (*s && n < max) {
		char *end;
		v[n] = strtod(s, &end);
		if (end == s)
			return -1;
		n++;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return *s ? -1 : n;
}

static int parse_opts(int argc, char **argv, opts *o)
{
	memset(o, 0, sizeof *o);
	o->runs = 20;
	o->in = calloc((size_t)argc + 1, sizeof *o->in);
	o->prof = calloc((size_t)argc + 1, sizeof *o->prof);
	gos_diags ld;
	gos_diags_init(&ld);
	int lr;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;
#define VAL(name) ((!strncmp(a, name "=", strlen(name) + 1) && (v = a + strlen(name) + 1)) || \
                   (!strcmp(a, name) && i + 1 < argc && (v = argv[++i])))
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (VAL("-target") || VAL("--target")) {
			o->target = v;
		} else if (VAL("--model-file")) {
			o->model_file = v;
		} else if (VAL("--profile")) {
			o->prof[o->nprof++] = v;
		} else if (VAL("--samples")) {
			o->samples = v;
		} else if (VAL("-o")) {
			o->out = v;
		} else if (VAL("--features-csv")) {
			o->features_csv = v;
		} else if (VAL("--gosc")) {
			o->gosc = v;
		} else if (VAL("--proxy-csv")) {
			o->proxy_csv = v;
		} else if (VAL("--prior")) {
			o->prior = v;
			if (strcmp(v, "analytic") && strcmp(v, "proxy")) {
				fprintf(stderr, "gos-cost: error: --prior must be analytic or proxy\n");
				return -1;
			}
		} else if (VAL("-n")) {
			o->count = atoi(v);
			if (o->count < 1) {
				fprintf(stderr, "gos-cost: error: -n needs a positive count\n");
				return -1;
			}
		} else if (VAL("--runs")) {
			o->runs = atoi(v);
			if (o->runs < 1) {
				fprintf(stderr, "gos-cost: error: --runs needs a positive count\n");
				return -1;
			}
		} else if (VAL("--fold")) {
			if (!strcmp(v, "auto"))
				o->fit.fold = 0;
			else if (!strcmp(v, "yes"))
				o->fit.fold = 1;
			else if (!strcmp(v, "no"))
				o->fit.fold = -1;
			else {
				fprintf(stderr, "gos-cost: error: --fold must be auto, yes or no\n");
				return -1;
			}
		} else if (VAL("--tau")) {
			o->fit.n_tau = parse_list(v, o->fit.tau, 8);
			for (int k = 0; k < o->fit.n_tau; k++)
				if (!(o->fit.tau[k] >= 0 && o->fit.tau[k] < 1))
					o->fit.n_tau = -1;
			if (o->fit.n_tau <= 0) {
				fprintf(stderr, "gos-cost: error: --tau needs numbers in [0, 1) "
				                "(0 = least squares)\n");
				return -1;
			}
		} else if (VAL("--lambda")) {
			o->fit.n_lambda = parse_list(v, o->fit.lambda, 8);
			for (int k = 0; k < o->fit.n_lambda; k++)
				if (!(o->fit.lambda[k] >= 0))
					o->fit.n_lambda = -1;
			if (o->fit.n_lambda <= 0) {
				fprintf(stderr, "gos-cost: error: --lambda needs non-negative numbers\n");
				return -1;
			}
		} else if (VAL("--columns")) {
			static const char *cn[] = {"ms", "gflop", "mb", "nodes", "prior"};
			char buf[256];
			snprintf(buf, sizeof buf, "%s", v);
			o->fit.columns = 0;
			for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
				int k;
				for (k = 0; k < 5 && strcmp(tok, cn[k]); k++)
					;
				if (k == 5) {
					fprintf(stderr, "gos-cost: error: --columns: unknown column group "
					                "'%s' (ms, gflop, mb, nodes, prior)\n", tok);
					return -1;
				}
				o->fit.columns |= 1u << k;
			}
		} else if (!strcmp(a, "--no-fallback")) {
			o->fit.no_fallback = 1;
		} else if (!strcmp(a, "--allow-negative")) {
			o->fit.allow_negative = 1;
		} else if (!strcmp(a, "--per-op")) {
			o->per_op = 1;
		} else if (!strcmp(a, "--proxy")) {
			o->proxy = 1;
		} else if (!strcmp(a, "--with-min")) {
			o->proxy_min = 1;
		} else if (a[0] == '-' && a[1] && (lr = gos_load_options_arg(&load_opts, argc, argv, &i, &ld))) {
			if (lr < 0) {
				gos_diags_render(&ld, stderr);
				gos_diags_free(&ld);
				return -1;
			}
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "gos-cost: error: unknown option '%s'\n", a);
			return -1;
		} else {
			o->in[o->nin++] = a;
		}
#undef VAL
	}
	return 0;
}

static int need_target(const opts *o, gos_cost_target *t)
{
	if (!o->target) {
		fprintf(stderr, "gos-cost: error: -target=T is required\n");
		return -1;
	}
	gos_diags d;
	gos_diags_init(&d);
	int rc = gos_cost_target_load(t, o->target, &d);
	gos_diags_render(&d, stderr);
	gos_diags_free(&d);
	return rc;
}

static int load_model_file(const char *path, gos_cost_model *m)
{
	gos_diags d;
	gos_diags_init(&d);
	int rc = gos_cost_model_read(m, path, &d);
	gos_diags_render(&d, stderr);
	gos_diags_free(&d);
	return rc;
}

/* ---- predict ------------------------------------------------------------------ */

static int per_op_table(const char *path, const gos_cost_target *t, const gos_cost_model *fm)
{
	gos_module *m = NULL;
	gos_cost_report r;
	if (load_analyze(path, t, &m, &r))
		return -1;
	/* The fitted model predicts the whole model; its per-node split is the
	 * analytic one scaled to the fitted total (a linear model's own
	 * per-term split is not meaningful with correlated features). */
	double total = 0, analytic = 0;
	double *ms = calloc((size_t)r.n + 1, sizeof *ms);
	for (int i = 0; i < r.n; i++) {
		const gos_cost_node *c = &r.v[i];
		ms[i] = !c->live || (fm && fm->fold == 1 && c->foldable) ? 0
		        : fm && fm->fold == GOS_COST_FOLD_UNKNOWN && c->foldable ? 0.5 * c->ms : c->ms;
		analytic += ms[i];
	}
	total = analytic;
	if (fm) {
		gos_cost_sample s;
		gos_cost_features(&r, 0, s.x_all);
		gos_cost_features(&r, 1, s.x_fold);
		s.proxy = NAN;
		double row[GOS_COST_MAX_COLS];
		gos_cost_model_row(fm, &s, row);
		total = gos_cost_model_eval(fm, row);
		for (int i = 0; i < r.n; i++)
			ms[i] *= analytic > 0 ? total / analytic : 0;
	}
	printf("# %s on %s (%s)\n", path, t->name,
	       fm ? "fitted model; per-node split as in the analytic model" : "analytic model");
	printf("%-32s %-16s %-12s %14s %14s %10s %7s\n", "node", "op", "kind", "FLOPs",
	       "bytes", "ms", "share%");
	for (int i = 0; i < r.n; i++) {
		const gos_cost_node *c = &r.v[i];
		const gos_node *n = &m->nodes[i];
		const char *note = !c->live ? " (dead)"
		                   : fm && fm->fold == 1 && c->foldable ? " (folded)"
		                   : c->fused ? " (fused)" : "";
		printf("%-32s %-16s %-12s %14.0f %14.0f %10.4f %7.2f%s\n", n->name, n->op,
		       gos_cost_kind_name(c->kind), c->flops, c->bytes, ms[i],
		       total != 0 ? 100.0 * ms[i] / total : 0.0, note);
	}
	printf("%-32s %-16s %-12s %14.0f %14.0f %10.4f %7.2f\n", "total", "-", "-", r.flops,
	       r.bytes, total, 100.0);
	free(ms);
	gos_cost_report_free(&r);
	gos_module_free(m);
	return 0;
}

static int cmd_predict(opts *o)
{
	char buf[4096];
	if (o->proxy) {
		const char *gosc = o->gosc ? o->gosc : getenv("GOSC");
		if (!gosc)
			gosc = sibling("gosc", buf, sizeof buf);
		int rc = 0;
		for (int i = 0; i < o->nin; i++) {
			gos_diags d;
			gos_diags_init(&d);
			double med, lo;
			if (gos_cost_proxy_measure(gosc, o->in[i], &load_opts, o->runs, &med, &lo, &d) == 0) {
				if (o->proxy_min)
					printf("%s,%.6g,%.6g\n", o->in[i], med, lo);
				else
					printf("%s,%.6g\n", o->in[i], med);
				fflush(stdout);
			} else {
				rc = 1;
			}
			gos_diags_render(&d, stderr);
			gos_diags_free(&d);
		}
		return rc;
	}
	gos_cost_target t;
	if (need_target(o, &t))
		return 1;
	gos_cost_model fm, *fmp = NULL;
	if (o->model_file) {
		if (load_model_file(o->model_file, &fm))
			return 1;
		if (strcmp(fm.target, t.name))
			fprintf(stderr, "gos-cost: warning: %s was fitted with target '%s', "
			                "predicting with '%s'\n", o->model_file, fm.target, t.name);
		if (fm.prior_proxy && (!o->proxy_csv || o->per_op)) {
			fprintf(stderr, "gos-cost: error: %s uses the host proxy measurement as its "
			                "prior: give the models' measurements with --proxy-csv P.csv "
			                "(--per-op is not available for such models)\n", o->model_file);
			return 1;
		}
		fmp = &fm;
	}
	if (o->per_op) {
		int rc = 0;
		for (int i = 0; i < o->nin; i++)
			if (per_op_table(o->in[i], &t, fmp))
				rc = 1;
		return rc;
	}
	csv fc = {0}, pc = {0};
	if (o->features_csv && csv_read(o->features_csv, 1, &fc))
		return 1;
	if (fmp && fmp->prior_proxy && csv_read(o->proxy_csv, 1, &pc)) {
		csv_free(&fc);
		return 1;
	}
	int n = o->features_csv && o->nin == 0 ? fc.n : o->nin;
	if (n == 0) {
		fprintf(stderr, "gos-cost: error: no models given\n");
		csv_free(&fc);
		return 1;
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *name = o->nin ? o->in[i] : cell(&fc, i, 0);
		modelfeat mf;
		if (o->features_csv) {
			int row = o->nin ? feat_row(&fc, name) : i;
			if (row < 0) {
				fprintf(stderr, "gos-cost: error: '%s' is not in %s\n", name, o->features_csv);
				rc = 1;
				continue;
			}
			if (feat_from_csv(&fc, row, &mf)) {
				rc = 1;
				break;
			}
		} else if (model_features(name, &t, &mf)) {
			rc = 1;
			continue;
		}
		double y = mf.analytic_ms;
		if (fmp && fmp->prior_proxy) {
			int row = -1;
			for (int k = 0; k < pc.n && row < 0; k++)
				if (!strcmp(cell(&pc, k, 0), name))
					row = k;
			if (row < 0 || pc.ncol < 2 || !is_number(cell(&pc, row, 1))) {
				fprintf(stderr, "gos-cost: error: no proxy measurement of '%s' in %s\n",
				        name, o->proxy_csv);
				rc = 1;
				continue;
			}
			mf.s.proxy = atof(cell(&pc, row, 1));
		}
		if (fmp) {
			double row[GOS_COST_MAX_COLS];
			gos_cost_model_row(fmp, &mf.s, row);
			y = gos_cost_model_eval(fmp, row);
		}
		printf("%s,%.9g\n", name, y);
	}
	csv_free(&fc);
	csv_free(&pc);
	return rc;
}

/* ---- features ------------------------------------------------------------------ */

static int cmd_features(opts *o)
{
	gos_cost_target t;
	if (need_target(o, &t))
		return 1;
	printf("model,flops,bytes,analytic_ms");
	for (int f = 0; f < 2; f++)
		for (int j = 0; j < GOS_COST_NFEAT; j++)
			printf(",%s:%s", f ? "fold" : "all", gos_cost_feature_name(j));
	printf("\n");
	int rc = 0;
	for (int i = 0; i < o->nin; i++) {
		modelfeat mf;
		if (model_features(o->in[i], &t, &mf)) {
			rc = 1;
			continue;
		}
		printf("%s,%.17g,%.17g,%.17g", o->in[i], mf.flops, mf.bytes, mf.analytic_ms);
		for (int j = 0; j < GOS_COST_NFEAT; j++)
			printf(",%.17g", mf.s.x_all[j]);
		for (int j = 0; j < GOS_COST_NFEAT; j++)
			printf(",%.17g", mf.s.x_fold[j]);
		printf("\n");
	}
	return rc;
}

/* ---- select ------------------------------------------------------------------- */

static int cmd_select(opts *o)
{
	if (o->count < 1) {
		fprintf(stderr, "gos-cost: error: select needs -n K\n");
		return 1;
	}
	gos_cost_target t;
	if (need_target(o, &t))
		return 1;
	csv fc = {0};
	if (o->features_csv && csv_read(o->features_csv, 1, &fc))
		return 1;
	int n = o->features_csv && o->nin == 0 ? fc.n : o->nin;
	const char **names = calloc((size_t)n + 1, sizeof *names);
	gos_cost_sample *s = calloc((size_t)n + 1, sizeof *s);
	int *chosen = calloc((size_t)n + 1, sizeof *chosen);
	int rc = 1;
	if (o->count > n) {
		fprintf(stderr, "gos-cost: error: select: -n %d but only %d models given\n", o->count, n);
		goto done;
	}
	for (int i = 0; i < n; i++) {
		names[i] = o->nin ? o->in[i] : cell(&fc, i, 0);
		modelfeat mf;
		if (o->features_csv) {
			int row = o->nin ? feat_row(&fc, names[i]) : i;
			if (row < 0) {
				fprintf(stderr, "gos-cost: error: '%s' is not in %s\n", names[i], o->features_csv);
				goto done;
			}
			if (feat_from_csv(&fc, row, &mf))
				goto done;
		} else if (model_features(names[i], &t, &mf)) {
			goto done;
		}
		s[i] = mf.s;
	}
	gos_diags d;
	gos_diags_init(&d);
	int src = gos_cost_select(s, n, o->count, chosen, &d);
	gos_diags_render(&d, stderr);
	gos_diags_free(&d);
	if (src)
		goto done;
	for (int i = 0; i < o->count; i++)
		printf("%s\n", names[chosen[i]]);
	rc = 0;
done:
	free(names);
	free(s);
	free(chosen);
	csv_free(&fc);
	return rc;
}

/* ---- fit ---------------------------------------------------------------------- */

/* path as given if it exists, else relative to the directory of base. */
static const char *resolve(const char *path, const char *base, char *buf, size_t n)
{
	if (path[0] == '/' || access(path, F_OK) == 0)
		return path;
	const char *slash = strrchr(base, '/');
	if (!slash)
		return path;
	snprintf(buf, n, "%.*s/%s", (int)(slash - base), base, path);
	return access(buf, F_OK) == 0 ? buf : path;
}

/* ---- per-node profiles (fit --profile) ------------------------------------------ */

/* Reads profile `path` of model `mpath`: loads the model, runs the -O1
 * pipeline (the node names of gos-opt and the runner), analyses it on t,
 * parses the profile (gos_cost_profile_parse) and appends its rows to
 * *rows (*nrows, *cap); the whole-run median goes to *total.
 * Returns 0 or -1 (errors printed). */
static int read_profile(const char *path, const char *mpath, const gos_cost_target *t,
                        gos_cost_prof_node **rows, int *nrows, int *cap, double *total,
                        double *analytic_total)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_load_with(mpath, NULL, &load_opts, &d);
	gos_pipeline_opts po = {1, 0, NULL, NULL};
	gos_cost_report r = {0};
	gos_cost_prof_node *p = NULL;
	int np = 0, rc = -1;
	size_t len;
	char *text = NULL;
	if (!m || d.n_errors || gos_verify(m, &d) || gos_pipeline_run(m, &po, &d) || d.n_errors ||
	    gos_cost_analyze(m, t, &r, &d) || !(text = gos_read_file(&d, path, &len)))
		goto done;
	const char *file = gos_diags_source(&d, path, text, len);
	if (gos_cost_profile_parse(file, text, len, m, &r, &p, &np, total, &d))
		goto done;
	if (*nrows + np > *cap) {
		int nc = *nrows + np + 256;
		gos_cost_prof_node *nr = realloc(*rows, sizeof *nr * (size_t)nc);
		if (!nr) {
			gos_error(&d, (gos_loc){path, 0, 0}, "out of memory");
			goto done;
		}
		*rows = nr;
		*cap = nc;
	}
	if (np)
		memcpy(*rows + *nrows, p, sizeof *p * (size_t)np);
	*nrows += np;
	*analytic_total = r.total_ms;
	rc = 0;
done:
	gos_diags_render(&d, stderr);
	gos_diags_free(&d);
	free(text);
	free(p);
	gos_cost_report_free(&r);
	gos_module_free(m);
	return rc;
}

/* The profile model fitted to o's --profile files and MODELs, in *pm.
 * Returns 0 or -1 (errors printed). */
static int fit_profiles(const opts *o, const gos_cost_target *t, gos_cost_model *pm)
{
	if (o->nin != o->nprof) {
		fprintf(stderr, "gos-cost: error: fit: %d --profile files but %d MODELs (one "
		                "profile per MODEL, in order)\n", o->nprof, o->nin);
		return -1;
	}
	gos_cost_prof_node *rows = NULL;
	int nrows = 0, cap = 0, rc = -1;
	double *tot = calloc((size_t)o->nprof + 1, sizeof *tot);
	double *ana = calloc((size_t)o->nprof + 1, sizeof *ana);
	int *first = calloc((size_t)o->nprof + 2, sizeof *first);
	for (int i = 0; i < o->nprof; i++) {
		first[i] = nrows;
		if (read_profile(o->prof[i], o->in[i], t, &rows, &nrows, &cap, &tot[i], &ana[i]))
			goto done;
	}
	first[o->nprof] = nrows;
	gos_diags d;
	gos_diags_init(&d);
	int frc = gos_cost_fit_profile(rows, nrows, pm, &d);
	gos_diags_render(&d, stderr);
	gos_diags_free(&d);
	if (frc)
		goto done;
	for (int i = 0; i < o->nprof; i++) {
		/* how the per-kind scales reproduce each profiled run's total */
		double sum = 0, fitted = 0;
		for (int k = first[i]; k < first[i + 1]; k++) {
			int jm = GOS_COST_PER_KIND * rows[k].kind;
			sum += rows[k].measured_ms;
			fitted += pm->w[jm] * rows[k].analytic_ms + pm->w[jm + 3] * rows[k].dispatched;
		}
		fprintf(stderr, "gos-cost: %s: %d nodes, measured %.4g ms (nodes sum %.4g), "
		                "analytic %.4g ms, profile model %.4g ms\n", o->prof[i],
		        first[i + 1] - first[i], tot[i], sum, ana[i], fitted);
	}
	rc = 0;
done:
	free(rows), free(tot), free(ana), free(first);
	return rc;
}

static int cmd_fit(opts *o)
{
	if ((!o->samples && !o->nprof) || !o->out) {
		fprintf(stderr, "gos-cost: error: fit needs --samples S.csv and/or --profile P.csv, "
		                "and -o F\n");
		return 1;
	}
	gos_cost_target t;
	if (need_target(o, &t))
		return 1;
	int prior_proxy = o->prior && !strcmp(o->prior, "proxy");
	if (prior_proxy && !o->proxy_csv) {
		fprintf(stderr, "gos-cost: error: --prior=proxy needs --proxy-csv P.csv "
		                "(model_path,proxy_ms; from `predict --proxy`)\n");
		return 1;
	}
	if (prior_proxy && o->nprof) {
		fprintf(stderr, "gos-cost: error: --profile and --prior=proxy do not go together\n");
		return 1;
	}
	gos_cost_model pm, m;
	if (o->nprof && fit_profiles(o, &t, &pm))
		return 1;
	csv sc = {0}, fc = {0}, pc = {0};
	gos_cost_sample *s = NULL;
	int rc = 1;
	if (!o->samples) {
		m = pm;
		goto save;
	}
	if (csv_read(o->samples, 1, &sc))
		return 1;
	s = calloc((size_t)sc.n + 1, sizeof *s);
	if (sc.ncol < 2) {
		fprintf(stderr, "gos-cost: error: %s: expected rows model_path,latency_ms\n", o->samples);
		goto done;
	}
	if (o->features_csv && csv_read(o->features_csv, 1, &fc))
		goto done;
	if (prior_proxy && csv_read(o->proxy_csv, 1, &pc))
		goto done;
	if (sc.n < 10 || sc.n > 60)
		fprintf(stderr, "gos-cost: note: %d samples (the method is meant for 10 to 60)\n", sc.n);
	for (int i = 0; i < sc.n; i++) {
		const char *name = cell(&sc, i, 0);
		char buf[4096];
		if (!is_number(cell(&sc, i, 1))) {
			fprintf(stderr, "gos-cost: error: %s:%d: latency '%s' is not a number\n",
			        o->samples, i + 1, cell(&sc, i, 1));
			goto done;
		}
		modelfeat mf;
		if (o->features_csv) {
			int row = feat_row(&fc, name);
			if (row < 0) {
				fprintf(stderr, "gos-cost: error: '%s' is not in %s\n", name, o->features_csv);
				goto done;
			}
			if (feat_from_csv(&fc, row, &mf))
				goto done;
		} else if (model_features(resolve(name, o->samples, buf, sizeof buf), &t, &mf)) {
			goto done;
		}
		s[i] = mf.s;
		s[i].y = atof(cell(&sc, i, 1));
		s[i].proxy = NAN;
		if (prior_proxy) {
			int row = -1;
			for (int k = 0; k < pc.n && row < 0; k++)
				if (!strcmp(cell(&pc, k, 0), name))
					row = k;
			if (row < 0 || pc.ncol < 2 || !is_number(cell(&pc, row, 1))) {
				fprintf(stderr, "gos-cost: error: no proxy measurement of '%s' in %s\n",
				        name, o->proxy_csv);
				goto done;
			}
			s[i].proxy = atof(cell(&pc, row, 1));
		}
	}
	gos_diags d;
	gos_diags_init(&d);
	int frc = gos_cost_fit(s, sc.n, prior_proxy, &o->fit, &m, &d);
	gos_diags_render(&d, stderr);
	gos_diags_free(&d);
	if (frc)
		goto done;
	if (o->nprof) {
		/* the profile model was not fitted on the samples: its error on
		 * them is a validation error, comparable to the fit's
		 * leave-one-out one */
		double sp, mape;
		gos_cost_model_score(&pm, s, sc.n, &sp, &mape);
		int use = mape < m.loo_mape && !(sp < m.loo_spearman - GOS_COST_FIT_MARGIN);
		fprintf(stderr, "gos-cost: profile model on the %d samples: spearman=%.4f mape=%.1f%% "
		                "(%s)\n", sc.n, sp, mape, use ? "chosen" : "the samples' fit is better");
		if (use) {
			pm.loo_spearman = sp;
			pm.loo_mape = mape;
			m = pm;
		}
	}
save:
	snprintf(m.target, sizeof m.target, "%s", t.name);
	gos_outfile of;
	if (gos_outfile_open(&of, o->out)) {
		fprintf(stderr, "gos-cost: error: cannot write '%s'\n", o->out);
		goto done;
	}
	gos_cost_model_save(&m, of.f);
	if (gos_outfile_commit(&of)) {
		fprintf(stderr, "gos-cost: error: writing '%s' failed\n", o->out);
		goto done;
	}
	if (!strcmp(m.family, "profile"))
		fprintf(stderr, "gos-cost: fitted %d profiled nodes: family=profile per-node mape=%.1f%%\n",
		        m.n_samples, m.loo_mape);
	else
		fprintf(stderr, "gos-cost: fitted %d samples: family=%s fold=%s tau=%g lambda=%g "
		                "leave-one-out spearman=%.4f mape=%.1f%%\n",
		        m.n_samples, m.family,
		        m.fold == GOS_COST_FOLD_UNKNOWN ? "unknown" : m.fold ? "yes" : "no", m.tau,
		        m.lambda, m.loo_spearman, m.loo_mape);
	rc = 0;
done:
	free(s);
	csv_free(&sc);
	csv_free(&fc);
	csv_free(&pc);
	return rc;
}

/* ---- rank-corr ------------------------------------------------------------------ */

static int cmd_rank_corr(opts *o)
{
	if (o->nin != 2) {
		fprintf(stderr, "gos-cost: error: rank-corr needs two CSV files\n");
		return 1;
	}
	csv a, b;
	if (csv_read(o->in[0], 1, &a))
		return 1;
	if (csv_read(o->in[1], 1, &b)) {
		csv_free(&a);
		return 1;
	}
	int rc = 1;
	double *x = malloc(sizeof *x * (size_t)(a.n + 1)), *y = malloc(sizeof *y * (size_t)(a.n + 1));
	int n = 0, unmatched = 0;
	if (a.ncol < 2 || b.ncol < 2) {
		fprintf(stderr, "gos-cost: error: rank-corr needs rows key,value\n");
		goto done;
	}
	for (int i = 0; i < a.n; i++) {
		int row = -1;
		for (int k = 0; k < b.n && row < 0; k++)
			if (!strcmp(cell(&a, i, 0), cell(&b, k, 0)))
				row = k;
		if (row < 0 || !is_number(cell(&a, i, 1)) || !is_number(cell(&b, row, 1))) {
			unmatched++;
			continue;
		}
		x[n] = atof(cell(&a, i, 1));
		y[n] = atof(cell(&b, row, 1));
		n++;
	}
	if (unmatched)
		fprintf(stderr, "gos-cost: note: %d rows of %s have no numeric match in %s\n",
		        unmatched, o->in[0], o->in[1]);
	if (n < 2) {
		fprintf(stderr, "gos-cost: error: fewer than 2 matched rows\n");
		goto done;
	}
	printf("n=%d spearman=%.6f kendall=%.6f\n", n, gos_spearman(x, y, n), gos_kendall(x, y, n));
	rc = 0;
done:
	free(x);
	free(y);
	csv_free(&a);
	csv_free(&b);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	opts o;
	if (parse_opts(argc, argv, &o)) {
		usage(stderr);
		free(o.in);
		free(o.prof);
		return 1;
	}
	const char *cmd = argv[1];
	int rc;
	if (!strcmp(cmd, "predict"))
		rc = cmd_predict(&o);
	else if (!strcmp(cmd, "fit"))
		rc = cmd_fit(&o);
	else if (!strcmp(cmd, "features"))
		rc = cmd_features(&o);
	else if (!strcmp(cmd, "select"))
		rc = cmd_select(&o);
	else if (!strcmp(cmd, "rank-corr"))
		rc = cmd_rank_corr(&o);
	else {
		fprintf(stderr, "gos-cost: error: unknown command '%s' "
		                "(predict, fit, select, features, rank-corr)\n", cmd);
		usage(stderr);
		rc = 1;
	}
	free(o.in);
	free(o.prof);
	return rc;
}

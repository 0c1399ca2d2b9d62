/* gos-eval -- accuracy of a classifier on a labelled image dataset: top-1,
 * top-5, per-class accuracy, confusion matrix, images per second; with
 * --compare, agreement with a second model or with recorded predictions.
 * Thin: parses flags, calls libgos (eval/eval.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "frontend/frontend.h"
#include "support/outfile.h"
#include "support/tensorio.h"

static void usage(FILE *f)
{
	fputs("usage: gos-eval MODEL --data DATA [options]\n"
	      "  --data DATA          labelled images: fashion-mnist:train | fashion-mnist:test |\n"
	      "                       IMAGES.idx[.gz],LABELS.idx[.gz] | IMAGES.npy,LABELS.npy |\n"
	      "                       FILE.npz (arrays x/images and y/labels)\n"
	      "  --mean M[,M..]       normalisation: pixels scaled to [0, 1], then\n"
	      "  --std S[,S..]          (x - mean) / std per channel (one value: every channel)\n"
	      "  -target=T            host (default: compiled code in this process), interp\n"
	      "                       (the reference interpreter), or an ARM target (its\n"
	      "                       runner under qemu, e.g. armv8)\n"
	      "  --limit N            the first N images only\n"
	      "  --batch B            images per engine call (default 256; any model batch)\n"
	      "  --threads N          worker threads (default: the online CPUs)\n"
	      "  --compare OTHER      also evaluate OTHER (a model, evaluated the same way,\n"
	      "                       or a .npy of recorded top-1 predictions) and report\n"
	      "                       agreement (share of images with equal top-1) and\n"
	      "                       MODEL's top-1 change against it, with the standard\n"
	      "                       error of a paired comparison\n"
	      "  --predictions F.npy  write the top-1 prediction of every image\n"
	      "  --json               print the results as one JSON object\n"
	      "  -model=NAME          which model of a .gos file\n"
	      "  --input-shape NAME=D0,D1,...  shape of ONNX input NAME (sets its symbolic\n"
	      "                       dimensions; repeat per input)\n"
	      "  -O0..-O3             optimisation level of compiled targets (default -O2)\n"
	      "  --help               this text\n"
	      "Exit status: 0 on success, 1 on any error.\n",
	      f);
}

typedef struct side {
	const char *path;
	gos_module *m;
	gos_eval_result r;
	int32_t *rec;     /* recorded predictions (--compare FILE.npy) */
	int64_t n_rec;
} side;

static int parse_count(const char *s, int64_t lo, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || !*s || *end || v < lo)
		return -1;
	*out = v;
	return 0;
}

static int has_ext(const char *p, const char *ext)
{
	size_t n = strlen(p), k = strlen(ext);
	return n >= k && !strcmp(p + n - k, ext);
}

/* Evaluates s->m with engine options eo on ds. */
static int eval_model(side *s, const gos_engine_opts *eo, const gos_dataset *ds, int64_t batch,
                      gos_diags *d)
{
	gos_engine *e = gos_engine_new(s->m, eo, d);
	if (!e)
		return -1;
	gos_eval_opts o = {batch};
	int rc = gos_eval_run(e, ds, &o, &s->r, d);
	gos_engine_free(e);
	return rc;
}

/* Reads recorded predictions: a .npy of n integers in [0, classes). */
static int read_predictions(side *s, const gos_dataset *ds, int classes, gos_diags *d)
{
	gos_tensor t;
	if (gos_npy_read(s->path, &t, d))
		return -1;
	int64_t n = gos_numel(t.rank, t.shape);
	int rc = 0;
	if (t.rank != 1 || n < ds->n) {
		gos_error(d, (gos_loc){s->path, 0, 0},
		          "recorded predictions: want a vector of at least %lld entries (one per image)",
		          (long long)ds->n);
		rc = -1;
	}
	s->rec = rc ? NULL : malloc(sizeof *s->rec * (size_t)(ds->n + 1));
	for (int64_t i = 0; s->rec && i < ds->n; i++) {
		float v = t.data[i];
		if (!(v >= 0 && v < classes) || v != (float)(int)v) {
			gos_error(d, (gos_loc){s->path, 0, 0},
			          "recorded prediction %lld is %g, not a class in [0, %d)", (long long)i, v,
			          classes);
			rc = -1;
			break;
		}
		s->rec[i] = (int32_t)v;
	}
	if (!rc && !s->rec) {
		gos_error(d, (gos_loc){s->path, 0, 0}, "out of memory");
		rc = -1;
	}
	s->n_rec = ds->n;
	free(t.data);
	return rc;
}

static void print_text(const side *a, const side *b, const gos_dataset *ds, const char *target,
                       int threads)
{
	const gos_eval_result *r = &a->r;
	int K = r->n_class;
	printf("model %s on %s: %lld images, target %s", a->path, ds->name, (long long)r->n, target);
	if (threads)
		printf(", %d threads", threads);
	printf("\ntop-1 %.2f%% (%lld/%lld)  top-5 %.2f%%\n", 100.0 * r->top1 / r->n,
	       (long long)r->top1, (long long)r->n, 100.0 * r->top5 / r->n);
	printf("per-class top-1:");
	for (int c = 0; c < K; c++) {
		int64_t row = 0;
		for (int j = 0; j < K; j++)
			row += r->confusion[c * K + j];
		if (row)
			printf(" %d:%.1f%%", c, 100.0 * r->confusion[c * K + c] / row);
	}
	printf("\nconfusion matrix (rows: label, columns: top-1)\n      ");
	for (int j = 0; j < K; j++)
		printf(" %5d", j);
	printf("\n");
	for (int c = 0; c < K; c++) {
		printf(" %5d", c);
		for (int j = 0; j < K; j++)
			printf(" %5lld", (long long)r->confusion[c * K + j]);
		printf("\n");
	}
	printf("throughput %.1f images/s (%.3f s)\n", r->seconds > 0 ? r->n / r->seconds : 0.0,
	       r->seconds);
	if (!b)
		return;
	const int32_t *pb = b->rec ? b->rec : b->r.pred;
	double agree = gos_eval_agreement(r->pred, pb, r->n), change, se;
	gos_eval_paired(r->pred, pb, ds->y, r->n, &change, &se);
	printf("compare %s: agreement %.4f%% (%lld images differ); top-1 change %+.2f points, "
	       "standard error %.2f (paired)", b->path, 100.0 * agree,
	       (long long)(r->n - (int64_t)(agree * r->n + 0.5)), change, se);
	if (!b->rec)
		printf("; its top-1 %.2f%% top-5 %.2f%%, throughput %.1f images/s", 100.0 * b->r.top1 / b->r.n,
		       100.0 * b->r.top5 / b->r.n, b->r.seconds > 0 ? b->r.n / b->r.seconds : 0.0);
	else {
		int64_t ok = 0;
		for (int64_t i = 0; i < r->n; i++)
			ok += b->rec[i] == ds->y[i];
		printf("; its top-1 %.2f%%", 100.0 * ok / r->n);
	}
	printf("\n");
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_result_json(const gos_eval_result *r)
{
	int K = r->n_class;
	printf("\"images\": %lld, \"top1\": %.6f, \"top5\": %.6f, \"correct\": %lld, ",
	       (long long)r->n, (double)r->top1 / r->n, (double)r->top5 / r->n, (long long)r->top1);
	printf("\"images_per_second\": %.3f, \"seconds\": %.6f, \"per_class\": [",
	       r->seconds > 0 ? r->n / r->seconds : 0.0, r->seconds);
	for (int c = 0; c < K; c++) {
		int64_t row = 0;
		for (int j = 0; j < K; j++)
			row += r->confusion[c * K + j];
		printf("%s%.6f", c ? ", " : "", row ? (double)r->confusion[c * K + c] / row : 0.0);
	}
	printf("], \"confusion\": [");
	for (int c = 0; c < K; c++) {
		printf("%s[", c ? ", " : "");
		for (int j = 0; j < K; j++)
			printf("%s%lld", j ? ", " : "", (long long)r->confusion[c * K + j]);
		printf("]");
	}
	printf("]");
}

static void print_json(const side *a, const side *b, const gos_dataset *ds, const char *target)
{
	printf("{\"model\": ");
	json_str(a->path);
	printf(", \"data\": ");
	json_str(ds->name);
	printf(", \"target\": ");
	json_str(target);
	printf(", ");
	print_result_json(&a->r);
	if (b) {
		const int32_t *pb = b->rec ? b->rec : b->r.pred;
		double agree = gos_eval_agreement(a->r.pred, pb, a->r.n), change, se;
		gos_eval_paired(a->r.pred, pb, ds->y, a->r.n, &change, &se);
		printf(", \"compare\": {\"model\": ");
		json_str(b->path);
		printf(", \"agreement\": %.6f, \"differ\": %lld, \"top1_change\": %.6f, "
		       "\"top1_change_se\": %.6f", agree,
		       (long long)(a->r.n - (int64_t)(agree * a->r.n + 0.5)), change / 100, se / 100);
		if (!b->rec) {
			printf(", ");
			print_result_json(&b->r);
		} else {
			int64_t ok = 0;
			for (int64_t i = 0; i < a->r.n; i++)
				ok += b->rec[i] == ds->y[i];
			printf(", \"top1\": %.6f", (double)ok / a->r.n);
		}
		printf("}");
	}
	printf("}\n");
}

int main(int argc, char **argv)
{
	const char *data = NULL, *target = "host", *model = NULL, *mean = NULL, *stdv = NULL;
	const char *predfile = NULL;
	int json = 0, threads = 0, opt = -1;
	int64_t limit = 0, batch = 0, tmp;
	side a = {0}, b = {0};
	int have_b = 0;
	gos_load_options lo = {0};
	gos_diags ld;
	int lr;
	gos_diags_init(&ld);
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i], *val = NULL;
#define OPT(name) \
	((!strcmp(s, name) && i + 1 < argc && (val = argv[++i])) || \
	 (!strncmp(s, name "=", strlen(name) + 1) && (val = s + strlen(name) + 1)))
		if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
			usage(stdout);
			return 0;
		} else if (OPT("--data")) {
			data = val;
		} else if (OPT("--mean")) {
			mean = val;
		} else if (OPT("--std")) {
			stdv = val;
		} else if (!strncmp(s, "-target=", 8)) {
			target = s + 8;
		} else if (OPT("--limit")) {
			if (parse_count(val, 1, &limit)) {
				fprintf(stderr, "gos-eval: error: --limit wants a count >= 1, not '%s'\n", val);
				return 1;
			}
		} else if (OPT("--batch")) {
			if (parse_count(val, 1, &batch) || batch > 1 << 20) {
				fprintf(stderr, "gos-eval: error: --batch wants a count from 1 to 1048576, not '%s'\n",
				        val);
				return 1;
			}
		} else if (OPT("--threads")) {
			if (parse_count(val, 1, &tmp) || tmp > 256) {
				fprintf(stderr, "gos-eval: error: --threads wants a number from 1 to 256, not '%s'\n",
				        val);
				return 1;
			}
			threads = (int)tmp;
		} else if (OPT("--compare")) {
			b.path = val;
			have_b = 1;
		} else if (OPT("--predictions")) {
			predfile = val;
		} else if (!strcmp(s, "--json")) {
			json = 1;
		} else if (!strncmp(s, "-model=", 7)) {
			model = s + 7;
		} else if ((lr = gos_load_options_arg(&lo, argc, argv, &i, &ld)) != 0) {
			if (lr < 0) {
				gos_diags_render(&ld, stderr);
				gos_diags_free(&ld);
				return 1;
			}
		} else if (s[0] == '-' && s[1] == 'O' && s[2] >= '0' && s[2] <= '3' && !s[3]) {
			opt = s[2] - '0';
		} else if (s[0] == '-' && s[1]) {
			fprintf(stderr, "gos-eval: error: unknown option or missing argument '%s'\n", s);
			usage(stderr);
			return 1;
		} else if (!a.path) {
			a.path = s;
		} else {
			fprintf(stderr, "gos-eval: error: more than one model file ('%s', '%s'); "
			                "use --compare for a second one\n",
			        a.path, s);
			return 1;
		}
#undef OPT
	}
	if (!a.path || !data) {
		fprintf(stderr, "gos-eval: error: %s\n", !a.path ? "no model file" : "no --data");
		usage(stderr);
		return 1;
	}
	gos_diags d;
	gos_diags_init(&d);
	gos_dataset ds = {0};
	gos_norm norm = {0};
	int rc = 1;
	gos_engine_opts eo = {target, threads, opt};
	if (mean && (norm.n_mean = gos_norm_parse(mean, 0, norm.mean, "--mean", &d)) < 0)
		goto done;
	if (stdv && (norm.n_std = gos_norm_parse(stdv, 1, norm.std, "--std", &d)) < 0)
		goto done;
	a.m = gos_load_with(a.path, model, &lo, &d);
	if (a.m && gos_verify(a.m, &d))
		gos_error(&d, (gos_loc){a.path, 0, 0}, "internal error: the module does not verify");
	if (!a.m || d.n_errors)
		goto done;
	if (have_b && !has_ext(b.path, ".npy")) {
		b.m = gos_load_with(b.path, NULL, &lo, &d);
		if (b.m && gos_verify(b.m, &d))
			gos_error(&d, (gos_loc){b.path, 0, 0}, "internal error: the module does not verify");
		if (!b.m || d.n_errors)
			goto done;
	}
	if (gos_dataset_load(&ds, data, limit, &norm, &d))
		goto done;
	if (eval_model(&a, &eo, &ds, batch, &d))
		goto done;
	if (have_b && b.m && eval_model(&b, &eo, &ds, batch, &d))
		goto done;
	if (have_b && !b.m && read_predictions(&b, &ds, a.r.n_class, &d))
		goto done;
	if (predfile) {
		gos_tensor t = {1, {a.r.n}, malloc(sizeof(float) * (size_t)(a.r.n + 1))};
		if (!t.data) {
			gos_error(&d, (gos_loc){predfile, 0, 0}, "out of memory");
			goto done;
		}
		for (int64_t i = 0; i < a.r.n; i++)
			t.data[i] = (float)a.r.pred[i];
		int w = gos_npy_write(predfile, &t, &d);
		free(t.data);
		if (w)
			goto done;
	}
	int shown_threads = strcmp(target, "interp") && strcmp(target, "host") ? 0 : threads;
	if (json)
		print_json(&a, have_b ? &b : NULL, &ds, target);
	else
		print_text(&a, have_b ? &b : NULL, &ds, target, shown_threads);
	rc = 0;
done:
	gos_diags_render(&d, stderr);
	gos_diags_free(&d);
	gos_dataset_free(&ds);
	gos_eval_result_free(&a.r);
	gos_eval_result_free(&b.r);
	free(b.rec);
	gos_module_free(a.m);
	gos_module_free(b.m);
	return rc;
}

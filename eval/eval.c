/* eval.c -- accuracy of a classifier on a labelled dataset (eval.h):
 * top-1, top-5, confusion matrix, predictions, wall time. */
#include "eval/eval.h"
#include "support/alloc.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *shape_str(char *buf, size_t n, int rank, const int64_t *shape)
{
	size_t u = (size_t)snprintf(buf, n, "[");
	for (int i = 0; i < rank && u < n; i++)
		u += (size_t)snprintf(buf + u, n - u, "%s%" PRId64, i ? "," : "", shape[i]);
	if (u < n)
		snprintf(buf + u, n - u, "]");
	return buf;
}

int gos_eval_fit_input(const gos_value *v, const gos_dataset *ds, int64_t *per_call,
                       gos_diags *d)
{
	char s1[128];
	int64_t img = (int64_t)ds->c * ds->h * ds->w;
	int ok = v->rank >= 2 && v->shape[0] >= 1;
	if (ok && v->rank == 4)
		ok = v->shape[1] == ds->c && v->shape[2] == ds->h && v->shape[3] == ds->w;
	else if (ok && v->rank == 3)
		ok = ds->c == 1 && v->shape[1] == ds->h && v->shape[2] == ds->w;
	else if (ok && v->rank == 2)
		ok = v->shape[1] == img;
	else
		ok = 0;
	if (!ok) {
		gos_error(d, (gos_loc){ds->name, 0, 0},
		          "the images are %dx%dx%d (channels x height x width) but the model's input "
		          "'%s' is f32%s (wanted [B,%d,%d,%d], [B,%d,%d] or [B,%lld])",
		          ds->c, ds->h, ds->w, v->name, shape_str(s1, sizeof s1, v->rank, v->shape),
		          ds->c, ds->h, ds->w, ds->h, ds->w, (long long)img);
		return -1;
	}
	*per_call = v->shape[0];
	return 0;
}

int gos_eval_check(const gos_engine *e, const gos_dataset *ds, int64_t *per_call,
                   int *classes, gos_diags *d)
{
	const gos_module *m = gos_engine_module(e);
	gos_loc loc = {m->name, 0, 0};
	if (gos_engine_n_inputs(e) != 1) {
		gos_error(d, loc, "model '%s' has %d inputs; evaluating on images needs exactly one",
		          m->name, gos_engine_n_inputs(e));
		return -1;
	}
	if (gos_engine_n_outputs(e) < 1) {
		gos_error(d, loc, "model '%s' has no output", m->name);
		return -1;
	}
	if (gos_eval_fit_input(gos_engine_input(e, 0), ds, per_call, d))
		return -1;
	const gos_value *o = gos_engine_output(e, 0);
	int64_t numel = gos_engine_output_numel(e, 0);
	char s1[128];
	if (numel % *per_call || numel / *per_call < 1 || numel / *per_call > 1000000) {
		gos_error(d, loc, "the model's output '%s' is f32%s: not %lld rows of class scores",
		          o->name, shape_str(s1, sizeof s1, o->rank, o->shape), (long long)*per_call);
		return -1;
	}
	int64_t k = numel / *per_call;
	if (k < ds->n_class) {
		gos_error(d, (gos_loc){ds->name, 0, 0},
		          "the labels go up to %d but the model's output '%s' (f32%s) scores %lld "
		          "classes",
		          ds->n_class - 1, o->name, shape_str(s1, sizeof s1, o->rank, o->shape),
		          (long long)k);
		return -1;
	}
	*classes = (int)k;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Rank of the label's score among the K scores of one image: the count
 * of classes scoring strictly higher, plus those scoring equal with a
 * smaller index (ties go to the smaller class, as argmax does). */
static int label_rank(const float *s, int k, int label)
{
	int r = 0;
	for (int j = 0; j < k; j++)
		r += s[j] > s[label] || (s[j] == s[label] && j < label);
	return r;
}

static int argmax(const float *s, int k)
{
	int b = 0;
	for (int j = 1; j < k; j++)
		if (s[j] > s[b])
			b = j;
	return b;
}

int gos_eval_run(gos_engine *e, const gos_dataset *ds, const gos_eval_opts *o,
                 gos_eval_result *r, gos_diags *d)
{
	memset(r, 0, sizeof *r);
	int64_t B;
	int K;
	if (gos_eval_check(e, ds, &B, &K, d))
		return -1;
	int64_t want = o && o->batch > 0 ? o->batch : 256;
	int64_t calls = (want + B - 1) / B; /* samples per engine call */
	int64_t img = (int64_t)ds->c * ds->h * ds->w;
	float *in = gos_calloc((size_t)(calls * B * img), sizeof(float));
	float *out = gos_malloc(sizeof(float) * (size_t)(calls * B * K));
	r->confusion = gos_calloc((size_t)K * (size_t)K, sizeof *r->confusion);
	r->pred = gos_malloc(sizeof *r->pred * (size_t)(ds->n ? ds->n : 1));
	if (!in || !out || !r->confusion || !r->pred) {
		gos_error(d, (gos_loc){ds->name, 0, 0}, "out of memory");
		free(in);
		free(out);
		gos_eval_result_free(r);
		return -1;
	}
	r->n_class = K;
	int rc = 0;
	for (int64_t first = 0; first < ds->n && !rc; first += calls * B) {
		int64_t k = ds->n - first < calls * B ? ds->n - first : calls * B;
		int64_t samples = (k + B - 1) / B;
		memcpy(in, ds->x + first * img, sizeof(float) * (size_t)(k * img));
		memset(in + k * img, 0, sizeof(float) * (size_t)((samples * B - k) * img));
		const float *pin[1] = {in};
		float *pout[1] = {out};
		double t0 = now_s();
		rc = gos_engine_run(e, samples, pin, pout, d);
		r->seconds += now_s() - t0;
		for (int64_t i = 0; i < k && !rc; i++) {
			const float *s = out + i * K;
			int label = ds->y[first + i], p = argmax(s, K), rk = label_rank(s, K, label);
			r->pred[first + i] = p;
			r->top1 += rk == 0;
			r->top5 += rk < 5;
			r->confusion[(int64_t)label * K + p]++;
		}
		r->n += rc ? 0 : k;
	}
	free(in);
	free(out);
	if (rc)
		gos_eval_result_free(r);
	return rc;
}

void gos_eval_result_free(gos_eval_result *r)
{
	free(r->confusion);
	free(r->pred);
	memset(r, 0, sizeof *r);
}

void gos_eval_paired(const int32_t *a, const int32_t *b, const int32_t *y, int64_t n,
                     double *change, double *se)
{
	double gained = 0, lost = 0; /* right only in a / only in b */
	for (int64_t i = 0; i < n; i++) {
		gained += a[i] == y[i] && b[i] != y[i];
		lost += b[i] == y[i] && a[i] != y[i];
	}
	double nn = n > 0 ? (double)n : 1, v = gained + lost - (gained - lost) * (gained - lost) / nn;
	*change = 100.0 * (gained - lost) / nn;
	*se = 100.0 * sqrt(v > 0 ? v : 0) / nn;
}

double gos_eval_agreement(const int32_t *a, const int32_t *b, int64_t n)
{
	int64_t same = 0;
	for (int64_t i = 0; i < n; i++)
		same += a[i] == b[i];
	return n ? (double)same / (double)n : 0.0;
}
